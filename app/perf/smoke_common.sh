# SPDX-License-Identifier: BSD-3-Clause
# Sourced by the smoke_*.sh tests: run vhost-balloon-perf ($perf) on a small EAL set-up
# (one poll lcore, no hugepages, no PCI, no telemetry, quiet logs), its output in $out
# and printed; exit 1 if it failed.
# usage: smoke_run NAME EAL_MEM_MIB PERF_ARGS...
smoke_run() {
	name="$1"
	mem="$2"
	shift 2
	out=$(mktemp "/tmp/vhb-perf-$name-smoke.XXXXXX")
	trap 'rm -f "$out"' EXIT
	"$perf" -l 0-1 --no-huge -m "$mem" --no-pci --no-telemetry \
		--file-prefix "vhb${name}smoke$$" --log-level 'lib.vhb.*:warning' \
		--log-level 'lib.vhost.*:warning' -- "$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	if [ $rc -ne 0 ]; then
		echo "FAIL: exit status $rc"
		exit 1
	fi
}

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Smoke test of vhost-balloon-perf --test idle (meson suite 'app'): a tiny run (2 idle
# devices, 1 s per measurement, 10 samples) completes and prints one row per polling
# mode (poll, adaptive, interrupt, auto) for 2 devices, each with its 10 first-request samples
# and a non-zero loaded request count. No timings are checked.
set -u
perf="$1"
out=$(mktemp /tmp/vhb-perf-idle-smoke.XXXXXX)
trap 'rm -f "$out"' EXIT
echo "backing: memfd 4 KiB (16 MiB guests)"
"$perf" -l 0-1 --no-huge -m 256 --no-pci --no-telemetry --file-prefix "vhbidlesmoke$$" \
	--log-level 'lib.vhb.*:warning' --log-level 'lib.vhost.*:warning' -- \
	--test idle --csv --vms 2 --seconds 1 --samples 10 >"$out" 2>&1
rc=$?
cat "$out"
if [ $rc -ne 0 ]; then
	echo "FAIL: exit status $rc"
	exit 1
fi
fail=0
# CSV: devices,mode,idle_cpu_pct,...,first_max_us,samples,loaded_req_per_s,...
for mode in poll adaptive interrupt auto; do
	n=$(awk -F, -v m="$mode" '$2 == m' "$out" | wc -l)
	if [ "$n" -ne 1 ]; then
		echo "FAIL: $n rows for mode $mode, want 1"
		fail=1
		continue
	fi
	ok=$(awk -F, -v m="$mode" '$2 == m && $1 == 2 && $11 == 10 && $12 > 0' "$out" | wc -l)
	if [ "$ok" -ne 1 ]; then
		echo "FAIL: mode $mode lacks 2 devices, 10 samples or a loaded request count"
		fail=1
	fi
done
[ $fail -eq 0 ] && echo "PASS"
exit $fail

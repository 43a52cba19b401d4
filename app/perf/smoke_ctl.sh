#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Smoke test of vhost-balloon-perf --test ctl (meson suite 'app'): a tiny run (10 samples)
# completes and prints one row per measure, each with its sample count. No timings are
# checked.
set -u
perf="$1"
out=$(mktemp /tmp/vhb-perf-ctl-smoke.XXXXXX)
trap 'rm -f "$out"' EXIT
echo "backing: memfd 4 KiB (64 MiB guest)"
"$perf" -l 0-1 --no-huge -m 256 --no-pci --no-telemetry --file-prefix "vhbctlsmoke$$" \
	--log-level 'lib.vhb.*:warning' --log-level 'lib.vhost.*:warning' -- \
	--test ctl --csv --samples 10 >"$out" 2>&1
rc=$?
cat "$out"
if [ $rc -ne 0 ]; then
	echo "FAIL: exit status $rc"
	exit 1
fi
fail=0
# CSV: measure,samples,p50_us,p99_us,mean_us
for m in GET_FEATURES GET_CONFIG 'SET_CONFIG(ack)' 'config round trip' 'balloon step (1 MiB)'; do
	n=$(awk -F, -v m="$m" '$1 == m && $2 == 10 && $3 > 0' "$out" | wc -l)
	if [ "$n" -ne 1 ]; then
		echo "FAIL: $n rows for '$m' with 10 samples, want 1"
		fail=1
	fi
done
[ $fail -eq 0 ] && echo "PASS"
exit $fail

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Smoke test of vhost-balloon-perf --test ctl (meson suite 'app'): a tiny run (10 samples)
# completes and prints one row per measure, each with its sample count. No timings are
# checked.
set -u
perf="$1"
. "$(dirname "$0")/smoke_common.sh"
echo "backing: memfd 4 KiB (64 MiB guest)"
smoke_run ctl 256 --test ctl --csv --samples 10
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

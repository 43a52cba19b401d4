#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Smoke test of vhost-balloon-perf --test idle (meson suite 'app'): a tiny run (2 idle
# devices, 1 s per measurement, 10 samples) completes and prints one row per polling
# mode (poll, adaptive, interrupt, auto) for 2 devices, each with its 10 first-request samples
# and a non-zero loaded request count. No timings are checked.
set -u
perf="$1"
. "$(dirname "$0")/smoke_common.sh"
echo "backing: memfd 4 KiB (16 MiB guests)"
smoke_run idle 256 --test idle --csv --vms 2 --seconds 1 --samples 10
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

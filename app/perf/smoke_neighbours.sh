#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Smoke test of vhost-balloon-perf --test neighbours (meson suite 'app'): a tiny run (1
# and 9 devices, poll and auto, 1 s per busy run) completes and prints, per mode, the idle
# row and the rows with 1 and 8 busy devices of 9, each busy row with requests served.
# No timings are checked.
set -u
perf="$1"
. "$(dirname "$0")/smoke_common.sh"
echo "backing: memfd 4 KiB (16 MiB guests)"
smoke_run nb 512 --test neighbours --vms 1,9 --poll-modes poll,auto --seconds 1 \
	--idle-ms 100
fail=0
# Rows: devices busy mode passes pass-ns ns/dev polled cpu requests p50us p99us ...
for mode in poll auto; do
	for busy in 0 1 8; do
		n=$(awk -v m="$mode" -v b="$busy" '$1 == 9 && $2 == b && $3 == m &&
			(b == 0 || $9 > 0)' "$out" | wc -l)
		if [ "$n" -ne 1 ]; then
			echo "FAIL: mode $mode, 9 devices, $busy busy: $n rows (with requests), want 1"
			fail=1
		fi
	done
done
[ $fail -eq 0 ] && echo "PASS"
exit $fail

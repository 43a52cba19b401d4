#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Smoke test of vhost-balloon-perf --test paced (meson suite 'app'): a tiny run (one
# 32 MiB memfd guest inflating 8 MiB, think time 100 us) completes and prints a row per
# polling mode, the QEMU-path row and the kernel floor, each having served the 8
# requests of 1 MiB and measured some backend CPU. No timings are compared.
set -u
perf="$1"
. "$(dirname "$0")/smoke_common.sh"
echo "backing: memfd 4 KiB (32 MiB guest)"
smoke_run paced 256 --test paced --csv --backing memfd --mem 32 --volume 8 \
	--think-us 100
fail=0
# CSV: backing,think_us,mode,requests,wall_s_per_gib,cpu_s_per_gib,...
for mode in poll adaptive interrupt auto qemu-path; do
	ok=$(awk -F, -v m="$mode" '$1 == "memfd" && $2 == 100 && $3 == m && $4 == 8 && $6 > 0' \
		"$out" | wc -l)
	if [ "$ok" -ne 1 ]; then
		echo "FAIL: no row for $mode with 8 requests and some backend CPU"
		fail=1
	fi
done
if [ "$(awk -F, '$3 == "floor" && $6 > 0' "$out" | wc -l)" -ne 1 ]; then
	echo "FAIL: no kernel floor row"
	fail=1
fi
[ $fail -eq 0 ] && echo "PASS"
exit $fail

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Smoke test of vhost-balloon-perf --test ring (meson suite 'app'): a tiny run on memfd
# 4 KiB guest memory completes and prints every expected row with a non-zero page
# count, and (checked by the program) the service-time histogram counted every
# request exactly once. No timings are checked.
set -u
perf="$1"
. "$(dirname "$0")/smoke_common.sh"
echo "backing: memfd 4 KiB (16 MiB guests, 4 MiB balloon each)"
smoke_run ring 256 --test ring --csv --backing memfd --mem 16 --volume 4 --pattern reverse \
	--workload inflate,deflate,report,idle --release bulk,per-page --vms 2 \
	--guest-threads 2 --idle-ms 50
fail=0
# CSV: backing,mem_mib,pattern,workload,vms,method,pages,...
for row in inflate,bulk inflate,raw-punch inflate,per-page deflate,bulk deflate,per-page \
	   report,bulk report,per-page idle,poll; do
	wl=${row%,*}
	m=${row#*,}
	n=$(awk -F, -v wl="$wl" -v m="$m" '$1 == "memfd" && $4 == wl && $6 == m' "$out" | wc -l)
	if [ "$n" -ne 1 ]; then
		echo "FAIL: $n rows for memfd $wl $m, want 1"
		fail=1
		continue
	fi
	if [ "$wl" = idle ]; then
		ok=$(awk -F, '$1 == "memfd" && $4 == "idle" && $5 == 2 && $19 > 0' "$out" | wc -l)
		what="2 devices and a non-zero idle cost"
	else
		ok=$(awk -F, -v wl="$wl" -v m="$m" \
			'$1 == "memfd" && $4 == wl && $6 == m && $7 > 0' "$out" | wc -l)
		what="a non-zero page count"
	fi
	if [ "$ok" -ne 1 ]; then
		echo "FAIL: memfd $wl $m lacks $what"
		fail=1
	fi
done
# Inflate released memory (1024 pages a VM = 4 MiB, both VMs).
if ! awk -F, '$1 == "memfd" && $4 == "inflate" && $6 == "bulk" && $7 == 2048' "$out" | \
	grep -q .; then
	echo "FAIL: bulk inflate did not handle 2048 pages"
	fail=1
fi
[ $fail -eq 0 ] && echo "PASS"
exit $fail

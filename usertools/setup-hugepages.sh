#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Reserve 2 MiB hugepages and mount hugetlbfs, for the demo, the tests and CI.
#
#   usertools/setup-hugepages.sh [PAGES]      (default 1024 = 2 GiB, or $VHB_HUGEPAGES)
#
# Never fails for lack of hugepages: it prints what it got, and the last line is
# either "hugepages: N x 2048 kB free at DIR" or "hugepages: none (reason)".
# Everything in this project still runs without them (memfd guest memory, --no-huge EAL).
set -u

want=${1:-${VHB_HUGEPAGES:-1024}}
dir=${VHB_HUGETLBFS:-/dev/hugepages}
sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB

none() {
	echo "hugepages: none ($1)"
	exit 0
}

[ -d "$sysfs" ] || none "this kernel has no 2 MiB hugepages"

total=$(cat "$sysfs/nr_hugepages")
if [ "$total" -lt "$want" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup-hugepages: not root, cannot raise nr_hugepages ($total < $want)"
	else
		echo "$want" > "$sysfs/nr_hugepages" 2>/dev/null ||
			echo "setup-hugepages: writing nr_hugepages failed"
	fi
	total=$(cat "$sysfs/nr_hugepages")
	[ "$total" -ge "$want" ] ||
		echo "setup-hugepages: kernel gave $total of $want pages (memory fragmented or short)"
fi

# Use any hugetlbfs mount of 2 MiB pages that exists; else mount one at $dir.
mnt=$(awk '$3 == "hugetlbfs" && ($4 ~ /pagesize=2M/ || $4 !~ /pagesize=/) { print $2; exit }' /proc/mounts)
if [ -z "$mnt" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		none "no hugetlbfs mounted and not root to mount one"
	fi
	mkdir -p "$dir" && mount -t hugetlbfs -o pagesize=2M nodev "$dir" 2>/dev/null ||
		none "mounting hugetlbfs at $dir failed"
	mnt=$dir
fi

free=$(cat "$sysfs/free_hugepages")
[ "$free" -gt 0 ] || none "0 free 2 MiB pages (nr_hugepages=$total) at $mnt"
echo "hugepages: $free x 2048 kB free at $mnt"

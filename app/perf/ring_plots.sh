#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Plots of the --test ring results (CSV files written by ring_bench.sh) as PNGs.
# Needs gnuplot (Debian: apt-get install gnuplot-nox).
# Usage: ring_plots.sh RESULTS_DIR [IMG_DIR (default docs/img)]
set -eu
res="$1"
img="${2:-docs/img}"
tmp=$(mktemp -d /tmp/vhb-plots.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$img"

# series FILE BACKING METHOD XCOL YCOL -> "x y" lines (CSV columns, see perf_test_ring.c)
series() {
	awk -F, -v b="$2" -v m="$3" -v x="$4" -v y="$5" \
		'$1 == b && $6 == m { print $x, $y }' "$1" | sort -n
}

for b in hugetlbfs memfd; do
	for m in bulk per-page raw-punch; do
		series "$res/vms.csv" $b $m 5 9 >"$tmp/vms-$b-$m.dat"
		series "$res/vms.csv" $b $m 5 21 >"$tmp/med-$b-$m.dat"
		series "$res/vms.csv" $b $m 5 14 >"$tmp/p50-$b-$m.dat"
		series "$res/vms.csv" $b $m 5 15 >"$tmp/p99-$b-$m.dat"
		series "$res/size.csv" $b $m 2 11 >"$tmp/size-$b-$m.dat"
	done
done
series "$res/idle.csv" memfd poll 5 19 >"$tmp/idle.dat"

cd "$tmp"
gnuplot <<GP
set terminal pngcairo size 900,560 noenhanced
set grid
set key top left
set logscale x 2
set output "$OLDPWD/$img/ring-throughput-vms.png"
set title "Inflate through the rings: PFNs per second of poll-core busy time vs VM count"
set xlabel "VMs (64 MiB guests, 48 MiB balloon each)"
set ylabel "million 4 KiB PFNs / s per poll core"
set logscale y
plot "vms-hugetlbfs-bulk.dat" w lp t "hugetlbfs bulk", \
     "vms-hugetlbfs-per-page.dat" w lp t "hugetlbfs per-page", \
     "vms-memfd-bulk.dat" w lp t "memfd bulk", \
     "vms-memfd-per-page.dat" w lp t "memfd per-page", \
     "med-hugetlbfs-bulk.dat" w lp dt 2 t "hugetlbfs bulk, median request", \
     "med-memfd-bulk.dat" w lp dt 2 t "memfd bulk, median request"
set output "$OLDPWD/$img/ring-latency-vms.png"
set title "Service time of one 256-PFN inflate request (pop to ack published) vs VM count"
set ylabel "microseconds (log2/4 bucket upper bound)"
plot "p50-hugetlbfs-bulk.dat" w lp t "hugetlbfs bulk p50", \
     "p99-hugetlbfs-bulk.dat" w lp t "hugetlbfs bulk p99", \
     "p50-memfd-bulk.dat" w lp t "memfd bulk p50", \
     "p99-memfd-bulk.dat" w lp t "memfd bulk p99", \
     "p99-memfd-per-page.dat" w lp t "memfd per-page p99"
set output "$OLDPWD/$img/ring-cost-size.png"
set title "Poll-core CPU seconds per GiB released vs guest size (1 VM, 3/4 ballooned)"
set xlabel "guest memory (MiB)"
set ylabel "CPU seconds per GiB released"
set key top right
plot "size-hugetlbfs-bulk.dat" w lp t "hugetlbfs bulk", \
     "size-hugetlbfs-per-page.dat" w lp t "hugetlbfs per-page", \
     "size-hugetlbfs-raw-punch.dat" w lp t "hugetlbfs kernel floor", \
     "size-memfd-bulk.dat" w lp t "memfd bulk", \
     "size-memfd-per-page.dat" w lp t "memfd per-page", \
     "size-memfd-raw-punch.dat" w lp t "memfd kernel floor"
unset logscale y
set output "$OLDPWD/$img/ring-idle-devices.png"
set title "Idle poll cost per device per poll pass vs device count"
set xlabel "idle devices on one poll lcore"
set ylabel "ns per device per pass"
set yrange [0:*]
plot "idle.dat" w lp t "busy polling, memfd guests"
GP
echo "plots in $img"

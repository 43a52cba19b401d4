#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The policy scenario (func-policy, docs/policy.md "The scenario") run once, its CSV kept and
# drawn: the played host's available memory, and each guest's balloon target and actual
# over the ticks (one tick per statistics interval).
# Needs gnuplot (Debian: apt-get install gnuplot-nox) and a build (ninja -C build).
# Usage: test/functional/policy_plot.sh [BUILD_DIR (default build)] [IMG_DIR (default docs/img)]
set -eu
build="${1:-build}"
img="${2:-docs/img}"
exe="$build/test/functional/func-policy"
csv="$img/policy-data/scenario.csv"
[ -x "$exe" ] || { echo "policy_plot: no $exe (build first)" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "policy_plot: needs gnuplot" >&2; exit 1; }
mkdir -p "$img/policy-data"
"$exe" memfd "$csv" >"$img/policy-data/scenario.log" 2>&1 || {
	tail -20 "$img/policy-data/scenario.log" >&2
	exit 1
}
# Keep the test's own lines (not EAL's or the library's log) next to the data.
grep -E '^(policy scenario|  )' "$img/policy-data/scenario.log" >"$img/policy-data/scenario.txt"
rm -f "$img/policy-data/scenario.log"

gnuplot <<GP
set terminal pngcairo size 960,720 noenhanced
set output "$img/policy-scenario.png"
set datafile separator ","
set key outside right top
set grid
set multiplot layout 2,1 title "Policy scenario: three 256 MiB guests, a played host (func-policy)"
set title "Host: MemAvailable (played: pressure curve + every balloon)"
set ylabel "MiB"
set xrange [0:63]
set yrange [0:1300]
set arrow 1 from 4, graph 0 to 4, graph 1 nohead dt 3
set arrow 2 from 22, graph 0 to 22, graph 1 nohead dt 3
set arrow 3 from 42, graph 0 to 42, graph 1 nohead dt 3
set label 1 "host short" at 4.5, graph 0.92
set label 2 "swapper starts swapping" at 22.5, graph 0.92
set label 3 "host relieved" at 43, graph 0.55
plot "$csv" every ::1 using 1:2 with linespoints pt 7 ps 0.5 title "available", \
     512 with lines dt 2 title "low watermark", \
     768 with lines dt 2 title "high watermark"
set title "Balloons: target chosen by the policy (solid) and the guest's actual (dashed)"
set xlabel "tick (one statistics interval, 1 s)"
set yrange [0:140]
unset label
plot "$csv" every ::1 using 1:3 with lines lw 2 lc 1 title "busy target", \
     "$csv" every ::1 using 1:4 with lines dt 2 lc 1 title "busy actual", \
     "$csv" every ::1 using 1:5 with lines lw 2 lc 2 title "idle target", \
     "$csv" every ::1 using 1:6 with lines dt 2 lc 2 title "idle actual", \
     "$csv" every ::1 using 1:7 with lines lw 2 lc 7 title "swapper target", \
     "$csv" every ::1 using 1:8 with lines dt 2 lc 7 title "swapper actual"
unset multiplot
GP
echo "policy_plot: $img/policy-scenario.png from $csv"

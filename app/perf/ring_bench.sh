#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Runs the --test ring benchmark set of docs/perf.md and writes one CSV per series into
# OUTDIR (default ./ring-results), with the machine load before each run in load.txt.
# Then: app/perf/ring_plots.sh OUTDIR docs/img
# Usage: ring_bench.sh PERF_BINARY [OUTDIR] [MAX_MEM_MIB_HUGETLBFS] [MAX_MEM_MIB_MEMFD]
# Env SERIES: the series to run (default "compare workloads idle vms size").
set -eu
series="${SERIES:-compare workloads idle vms size}"
want() {
	case " $series " in *" $1 "*) return 0 ;; esac
	return 1
}
perf="$1"
out="${2:-ring-results}"
maxh="${3:-3072}"
maxm="${4:-4096}"
mkdir -p "$out"
: >>"$out/load.txt"

run() {
	name="$1"
	shift
	echo "$name: $(uptime)" | tee -a "$out/load.txt"
	"$perf" -l 0-1 --no-huge -m 256 --no-pci --no-telemetry --file-prefix "vhbring$$" \
		--log-level 'lib.vhb.*:warning' --log-level 'lib.vhost.*:warning' -- \
		--test ring "$@" >"$out/$name.txt" 2>&1
	grep -v '^[#A-Z]' "$out/$name.txt" >"$out/$name.csv" || true
	grep -v '^[A-Z]' "$out/$name.txt"
}

# Side by side: every pattern, every release mode, 4 VMs of 256 MiB, 192 MiB balloon each.
want compare && run compare --csv --backing all --pattern all --workload inflate --release all \
	--vms 4 --mem 256 --volume 192
# Other workloads, Linux's order (reverse), bulk vs per-page.
want workloads && run workloads --csv --backing all --pattern reverse --workload deflate,report,churn \
	--release bulk,per-page --vms 4 --mem 256 --volume 128
# Idle poll cost against the device count (16 MiB memfd guests).
want idle && run idle --csv --backing memfd --workload idle --vms 1,16,64,128,256,384,512 --idle-ms 500
# Throughput and service time against the VM count (64 MiB guests, 48 MiB balloon each).
want vms && run vms --csv --backing hugetlbfs,memfd --pattern reverse --workload inflate \
	--release bulk,per-page --vms 1,2,4,8,16,32 --mem 64 --volume 48
# Cost per GiB against the guest size (one VM, 3/4 of it ballooned).
want size && for bk in hugetlbfs memfd; do
	max=$maxh
	[ $bk = memfd ] && max=$maxm
	for mib in 256 512 1024 2048 3072 4096 6144 8192; do
		[ $mib -le "$max" ] || continue
		run "size-$bk-$mib" --csv --backing $bk --pattern reverse --workload inflate \
			--release bulk,per-page --vms 1 --mem $mib --volume $((mib * 3 / 4))
	done
done
want size && { head -1 "$out/size-hugetlbfs-256.csv"; for f in "$out"/size-*.csv; do tail -n +2 "$f"; done; } \
	>"$out/size.csv"
echo "results in $out"

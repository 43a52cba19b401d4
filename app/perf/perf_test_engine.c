/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --test engine: Linux-like inflate request streams through
 * vhb_balloon_pages_inflate() on memfd (4 KiB) and hugetlbfs (2 MiB) guest memory,
 * every page inflated once per run, memory populated before each run. Beside the
 * engine (BULK, measuring what each call regained, as a device runs) it measures, on
 * the same pages in the same run:
 *   unmeasured the engine in BULK mode without that measurement: the cost of the
 *              two fstat calls per call and file is engine / unmeasured;
 *   per-page   the engine in PER_PAGE mode: one syscall per host page, as QEMU does;
 *   raw-punch  the ranges the engine punched, punched directly with no bookkeeping:
 *              the kernel's floor for the same work;
 *   track-only the engine in NONE mode: translation and tracking alone.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>

#include "vhb_balloon_pages.h"
#include "vhb_guest_mem.h"

#include "perf_mem.h"
#include "perf_test.h"

#define GiB	((double)(1ULL << 30))

enum method {
	M_ENGINE = 0,
	M_UNMEASURED,
	M_PER_PAGE,
	M_RAW,
	M_TRACK_ONLY,
	M_MAX,
};

static const char *const method_names[M_MAX] = {
	"engine", "unmeasured", "per-page", "raw-punch", "track-only",
};

struct result {
	uint64_t cycles;	/* median of the measured runs */
	uint64_t calls;		/* release syscalls of one run */
	uint64_t bytes;		/* bytes released by one run */
	uint64_t regained;	/* of those, what the file's allocation fell by (measured runs) */
	uint64_t measure_calls;	/* fstat calls of one run */
	int incomplete;		/* memory still held after a releasing run */
};

struct range {
	uint64_t off;
	uint64_t len;
};

struct ranges {
	struct range *r;
	size_t n, cap;
	int failed;
};

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void
shuffle(uint32_t *p, uint64_t n, uint64_t *seed)
{
	uint64_t i, j;
	uint32_t t;

	for (i = n; i > 1; i--) {
		j = xorshift(seed) % i;
		t = p[i - 1];
		p[i - 1] = p[j];
		p[j] = t;
	}
}

/* Every PFN of [0, n) once, in the order the pattern sends them. */
static int
gen_stream(uint32_t *p, uint64_t n, enum perf_pattern pat, uint64_t seed)
{
	uint64_t i, k, nruns = 0;

	seed ^= 0x9e3779b97f4a7c15ULL;	/* xorshift must not start at 0 */
	switch (pat) {
	case PERF_PATTERN_SEQUENTIAL:
		for (i = 0; i < n; i++)
			p[i] = (uint32_t)i;
		break;
	case PERF_PATTERN_REVERSE:
		for (i = 0; i < n; i++)
			p[i] = (uint32_t)(n - 1 - i);
		break;
	case PERF_PATTERN_RANDOM2M:
		for (i = 0; i < n; i++)
			p[i] = (uint32_t)i;
		for (i = 0; i < n; i += 512)
			shuffle(p + i, n - i < 512 ? n - i : 512, &seed);
		break;
	case PERF_PATTERN_FRAGMENTED: {
		/* Cut [0, n) into runs of 1-32 pages, shuffle the runs, send each descending. */
		uint32_t *start = malloc(n * sizeof(*start));
		uint64_t out = 0;

		if (start == NULL)
			return -ENOMEM;
		for (i = 0; i < n; i += 1 + xorshift(&seed) % 32)
			start[nruns++] = (uint32_t)i;
		shuffle(start, nruns, &seed);
		/* A run ends where the next run (in address order) starts. */
		{
			uint8_t *is_start = calloc(n + 1, 1);

			if (is_start == NULL) {
				free(start);
				return -ENOMEM;
			}
			for (k = 0; k < nruns; k++)
				is_start[start[k]] = 1;
			is_start[n] = 1;
			for (k = 0; k < nruns; k++) {
				uint64_t s = start[k], e = s + 1;

				while (!is_start[e])
					e++;
				for (i = e; i > s; i--)
					p[out++] = (uint32_t)(i - 1);
			}
			free(is_start);
		}
		free(start);
		break;
	}
	default:
		return -EINVAL;
	}
	return 0;
}

static void
record_range(void *arg, uint32_t region, uint64_t gpa, uint64_t off, uint64_t len)
{
	struct ranges *rs = arg;

	(void)region;
	(void)gpa;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap != 0 ? rs->cap * 2 : 4096;
		struct range *r = realloc(rs->r, cap * sizeof(*r));

		if (r == NULL) {
			rs->failed = 1;
			return;
		}
		rs->r = r;
		rs->cap = cap;
	}
	rs->r[rs->n].off = off;
	rs->r[rs->n].len = len;
	rs->n++;
}

/*
 * Sleep 1 ms before a timed section: populating burns this thread's time slice,
 * and on a shared machine the scheduler would otherwise preempt the (millisecond
 * long) measurement right away.
 */
static void
fresh_slice(void)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 1000000 };

	nanosleep(&ts, NULL);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * One run of the engine in `mode` over the whole stream; returns cycles. The page
 * set lives as long as the pattern (as a device's does) and is reset before each
 * run; the stats are this run's.
 */
static int
run_engine(struct perf_mem *m, struct vhb_balloon_pages *bp, const uint32_t *pfns,
	   uint64_t n, uint32_t req, enum vhb_release_mode mode, int measure, struct ranges *record,
	   uint64_t *cycles, struct vhb_balloon_pages_stats *st)
{
	struct vhb_balloon_pages_stats before;
	uint64_t i, c0, c1;
	int ret;

	if (mode != VHB_RELEASE_NONE) {
		ret = perf_mem_populate(m);
		if (ret != 0)
			return ret;
	}
	vhb_balloon_pages_reset(bp);
	vhb_balloon_pages_set_release_mode(bp, mode);
	vhb_balloon_pages_set_measure(bp, measure);
	vhb_balloon_pages_set_observer(bp, record != NULL ? record_range : NULL, record);
	vhb_balloon_pages_get_stats(bp, &before);
	fresh_slice();
	c0 = rte_rdtsc();
	for (i = 0; i < n; i += req)
		vhb_balloon_pages_inflate(bp, pfns + i, (uint32_t)(n - i < req ? n - i : req));
	c1 = rte_rdtsc();
	vhb_balloon_pages_get_stats(bp, st);
	st->bytes_release_asked -= before.bytes_release_asked;
	st->bytes_regained -= before.bytes_regained;
	st->release_calls -= before.release_calls;
	st->measure_calls -= before.measure_calls;
	*cycles = c1 - c0;
	return 0;
}

static int
run_raw(struct perf_mem *m, const struct ranges *rs, uint64_t *cycles, uint64_t *bytes)
{
	uint64_t c0, c1, sum = 0;
	size_t i;
	int ret;

	ret = perf_mem_populate(m);
	if (ret != 0)
		return ret;
	fresh_slice();
	c0 = rte_rdtsc();
	for (i = 0; i < rs->n; i++)
		if (fallocate(m->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)rs->r[i].off, (off_t)rs->r[i].len) != 0)
			return -errno;
	c1 = rte_rdtsc();
	for (i = 0; i < rs->n; i++)
		sum += rs->r[i].len;
	*cycles = c1 - c0;
	*bytes = sum;
	return 0;
}

/*
 * Warm-up, then `repeat` rounds; each round runs every method once, so slow
 * phases of a shared machine hit all methods alike. The median per method is kept.
 */
static int
measure(const struct perf_options *o, struct perf_mem *m, const struct vhb_guest_mem *gm,
	const uint32_t *pfns, uint64_t n, struct result res[M_MAX])
{
	uint64_t *cyc = calloc((size_t)o->repeat * M_MAX, sizeof(*cyc));
	struct vhb_balloon_pages *bp = vhb_balloon_pages_create(gm, -1);
	struct vhb_balloon_pages_stats st;
	struct ranges rs = { 0 };
	uint32_t meth, rep;
	int ret = 0;

	if (cyc == NULL || bp == NULL) {
		free(cyc);
		vhb_balloon_pages_destroy(bp);
		return -ENOMEM;
	}
	memset(res, 0, sizeof(res[0]) * M_MAX);
	/* Warm-up (at least one run): the first records the ranges raw-punch replays. */
	for (rep = 0; rep < (o->warmup > 0 ? o->warmup : 1) && ret == 0; rep++) {
		uint64_t c;

		ret = run_engine(m, bp, pfns, n, o->req_pfns, VHB_RELEASE_BULK, 1,
				 rep == 0 ? &rs : NULL, &c, &st);
	}
	if (ret == 0 && rs.failed)
		ret = -ENOMEM;
	for (rep = 0; rep < o->repeat && ret == 0; rep++) {
		for (meth = 0; meth < M_MAX && ret == 0; meth++) {
			uint64_t c = 0, bytes = 0, calls = 0;

			memset(&st, 0, sizeof(st));
			switch (meth) {
			case M_ENGINE:
			case M_UNMEASURED:
			case M_PER_PAGE:
				ret = run_engine(m, bp, pfns, n, o->req_pfns,
						 meth == M_PER_PAGE ? VHB_RELEASE_PER_PAGE :
						 VHB_RELEASE_BULK, meth != M_UNMEASURED, NULL, &c, &st);
				bytes = st.bytes_release_asked;
				calls = st.release_calls;
				break;
			case M_RAW:
				ret = run_raw(m, &rs, &c, &bytes);
				calls = rs.n;
				break;
			default:
				ret = run_engine(m, bp, pfns, n, o->req_pfns, VHB_RELEASE_NONE, 1,
						 NULL, &c, &st);
				break;
			}
			if (ret != 0)
				break;
			/* Every page was inflated: a releasing run must leave nothing held. */
			if (meth != M_TRACK_ONLY && perf_mem_held(m) != 0)
				res[meth].incomplete = 1;
			cyc[meth * o->repeat + rep] = c;
			res[meth].calls = calls;
			res[meth].bytes = bytes;
			res[meth].regained = st.bytes_regained;
			res[meth].measure_calls = st.measure_calls;
		}
	}
	for (meth = 0; meth < M_MAX && ret == 0; meth++) {
		qsort(cyc + meth * o->repeat, o->repeat, sizeof(*cyc), cmp_u64);
		res[meth].cycles = cyc[meth * o->repeat + o->repeat / 2];
	}
	vhb_balloon_pages_destroy(bp);
	free(rs.r);
	free(cyc);
	return ret;
}

static void
print_header(const struct perf_options *o)
{
	if (o->csv) {
		printf("backing,pattern,method,pfns,mpfns_per_s,gib_per_s_released,ns_per_pfn,"
		       "syscalls_per_gib,ms,time_vs_engine\n");
		return;
	}
	printf("%-9s %-10s %-10s %10s %11s %9s %12s %9s %9s\n", "backing", "pattern", "method",
	       "Mpfn/s", "GiB/s rel", "ns/pfn", "syscalls/GiB", "ms", "x engine");
}

static void
print_rows(const struct perf_options *o, const struct perf_tsc *tsc, enum perf_backing bk,
	   enum perf_pattern pat, uint64_t n, const struct result res[M_MAX])
{
	double eng_ns = perf_tsc_ns(tsc, res[M_ENGINE].cycles);
	uint32_t meth;

	for (meth = 0; meth < M_MAX; meth++) {
		double ns = perf_tsc_ns(tsc, res[meth].cycles);
		double gib = (double)res[meth].bytes / GiB;
		double mpps = ns > 0 ? (double)n / ns * 1e3 : 0;
		double gibps = ns > 0 ? gib / ns * 1e9 : 0;
		double spg = gib > 0 ? (double)res[meth].calls / gib : 0;
		double ratio = eng_ns > 0 ? ns / eng_ns : 0;

		if (o->csv)
			printf("%s,%s,%s,%" PRIu64 ",%.3f,%.3f,%.3f,%.0f,%.3f,%.3f\n",
			       perf_backing_name(bk), perf_pattern_name(pat), method_names[meth], n,
			       mpps, gibps, ns / (double)n, spg, ns / 1e6, ratio);
		else
			printf("%-9s %-10s %-10s %10.2f %11.2f %9.2f %12.0f %9.2f %8.2fx%s\n",
			       perf_backing_name(bk), perf_pattern_name(pat), method_names[meth],
			       mpps, gibps, ns / (double)n, spg, ns / 1e6, ratio,
			       res[meth].incomplete ? "  (memory still held!)" : "");
	}
	if (!o->csv) {
		printf("%-9s %-10s time ratios: per-page/engine %.2fx (QEMU-like baseline), "
		       "engine/raw-punch %.2fx (kernel floor)\n", "", "",
		       perf_tsc_ns(tsc, res[M_PER_PAGE].cycles) / eng_ns,
		       eng_ns / perf_tsc_ns(tsc, res[M_RAW].cycles));
		printf("%-9s %-10s measuring what was regained: engine/unmeasured %.3fx, %" PRIu64
		       " fstat calls per run, regained %" PRIu64 " of %" PRIu64 " MiB asked\n",
		       "", "", eng_ns / perf_tsc_ns(tsc, res[M_UNMEASURED].cycles),
		       res[M_ENGINE].measure_calls, res[M_ENGINE].regained >> 20,
		       res[M_ENGINE].bytes >> 20);
	}
}

static int
engine_run(const struct perf_options *o, const struct perf_tsc *tsc)
{
	uint64_t size = o->mem_mib << 20, n = size >> 12;
	uint32_t *pfns = malloc(n * sizeof(*pfns));
	struct result res[M_MAX];
	uint32_t bk, pat;
	int ret = 0;

	if (pfns == NULL)
		return -ENOMEM;
	print_header(o);
	for (bk = 0; bk < PERF_BACKING_MAX && ret == 0; bk++) {
		struct vhb_mem_region r;
		struct vhb_guest_mem gm;
		struct perf_mem m;
		char why[256];

		if (!(o->backings & (1U << bk)))
			continue;
		ret = perf_mem_open(&m, bk, size, o->hugetlbfs_dir, why, sizeof(why));
		if (ret != 0) {
			printf("# %s skipped: %s\n", perf_backing_name(bk), why);
			ret = 0;
			continue;
		}
		memset(&r, 0, sizeof(r));
		r.gpa = 0;
		r.size = size;
		r.hva = m.map;
		r.fd_offset = 0;
		r.fd = m.fd;
		r.page_shift = m.page_size == 4096 ? 12 : 21;
		ret = vhb_guest_mem_init(&gm, &r, 1);
		for (pat = 0; pat < PERF_PATTERN_MAX && ret == 0; pat++) {
			if (!(o->patterns & (1U << pat)))
				continue;
			ret = gen_stream(pfns, n, pat, o->seed);
			if (ret == 0)
				ret = measure(o, &m, &gm, pfns, n, res);
			if (ret == 0)
				print_rows(o, tsc, bk, pat, n, res);
			fflush(stdout);
		}
		perf_mem_close(&m);
	}
	free(pfns);
	return ret;
}

const struct perf_test perf_test_engine = {
	.name = "engine",
	.help = "inflate streams through the release engine vs per-page and raw-punch baselines",
	.run = engine_run,
};

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PFN translation. Linux sends 256 PFNs per request, nearly always one descending
 * run for inflate and one ascending run for deflate: those are detected with one
 * compare per PFN and walked in place, a run of consecutive PFNs at a time. A few
 * runs in any order (a fragmented guest, Linux's first request) are sorted as
 * runs. Scattered PFNs from a small span (a few 2 MiB frames) are sorted by
 * setting bits in a small bitmap and reading them back, which also drops repeats;
 * anything else is radix sorted (bytes equal in every PFN are skipped). The walk
 * then drops repeats, drops PFNs outside guest memory and cuts runs at region
 * ends, with a few compares per PFN and one region step per region.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>

#include "vhb_pfn_translate.h"

struct run_builder {
	struct vhb_pfn_run *runs;
	uint32_t nruns;
	uint32_t ri;		/* current region */
	uint32_t nregions;
	uint64_t rstart;	/* pfn range of region ri, [rstart, rend) */
	uint64_t rend;
	uint64_t prev;		/* last pfn fed, UINT64_MAX: none yet */
	uint64_t next;		/* pfn that would extend the last run, UINT64_MAX: none */
	const struct vhb_guest_mem *gm;
	struct vhb_pfn_translate_stats st;
};

static void
builder_region(struct run_builder *b)
{
	if (b->ri < b->nregions) {
		const struct vhb_mem_region *r = &b->gm->regions[b->ri];

		b->rstart = r->gpa >> VHB_PFN_SHIFT;
		b->rend = (r->gpa + r->size) >> VHB_PFN_SHIFT;
	} else {
		b->rstart = UINT64_MAX;
		b->rend = UINT64_MAX;
	}
}

/* Feed PFNs in ascending (non-strict) order. */
static inline void
builder_feed(struct run_builder *b, uint64_t p)
{
	if (p == b->prev) {
		b->st.nduplicate++;
		return;
	}
	b->prev = p;
	if (p >= b->rend) {
		while (b->ri < b->nregions && p >= b->rend) {
			b->ri++;
			builder_region(b);
		}
		b->next = UINT64_MAX;	/* a run never crosses into the next region */
	}
	if (p < b->rstart) {
		b->st.nout_of_range++;
		return;
	}
	b->st.nunique++;
	if (p == b->next) {
		b->runs[b->nruns - 1].npfns++;
	} else {
		b->runs[b->nruns].pfn = p;
		b->runs[b->nruns].npfns = 1;
		b->runs[b->nruns].region = b->ri;
		b->nruns++;
	}
	b->next = p + 1;
}

/* Feed PFNs [p, p + len), all above every PFN fed before. */
static inline __attribute__((always_inline)) void
builder_feed_run(struct run_builder *b, uint64_t p, uint64_t len)
{
	while (len > 0) {
		uint64_t take;

		if (p >= b->rend) {
			while (b->ri < b->nregions && p >= b->rend) {
				b->ri++;
				builder_region(b);
			}
			b->next = UINT64_MAX;
		}
		if (p < b->rstart) {
			take = b->rstart - p < len ? b->rstart - p : len;
			b->st.nout_of_range += (uint32_t)take;
		} else {
			take = b->rend - p < len ? b->rend - p : len;
			if (p == b->next) {
				b->runs[b->nruns - 1].npfns += (uint32_t)take;
			} else {
				b->runs[b->nruns].pfn = p;
				b->runs[b->nruns].npfns = (uint32_t)take;
				b->runs[b->nruns].region = b->ri;
				b->nruns++;
			}
			b->st.nunique += (uint32_t)take;
			b->next = p + take;
		}
		p += take;
		len -= take;
		b->prev = p - 1;
	}
}

/*
 * Feed n PFNs in ascending (non-strict) order: p[0], p[stride], ... (stride -1
 * walks a descending array backwards). Consecutive PFNs are fed a run at a time.
 */
static void
builder_feed_sorted(struct run_builder *b, const uint32_t *p, uint32_t n, ptrdiff_t stride)
{
	uint32_t i = 0;

	while (i < n) {
		uint32_t first = *p, last = first, dup = 0;

		for (i++, p += stride; i < n; i++, p += stride) {
			if (*p == last + 1 && last != UINT32_MAX)
				last++;
			else if (*p == last)
				dup++;
			else
				break;
		}
		b->st.nduplicate += dup;
		builder_feed_run(b, first, (uint64_t)last - first + 1);
	}
}

/* Most runs the run sort takes on; more means scattered PFNs: sort them one by one. */
#define VHB_MAX_SORT_RUNS	64

struct pfn_interval {
	uint32_t lo;
	uint32_t hi;
};

/*
 * Cut the batch into runs of consecutive PFNs (ascending or descending, repeats of
 * the last PFN allowed), as a fragmented guest sends them. Returns the number of
 * runs, or 0 if there are more than `max` (then they are not worth sorting as runs).
 */
static uint32_t
find_runs(const uint32_t *p, uint32_t n, struct pfn_interval *iv, uint32_t max, uint32_t *ndup)
{
	uint32_t i = 0, k = 0, dup = 0;

	while (i < n) {
		uint32_t lo = p[i], hi = lo, last = lo;
		int dir = 0;

		if (k == max)
			return 0;
		for (i++; i < n; i++) {
			uint32_t q = p[i];

			if (q == last) {
				dup++;
			} else if (dir >= 0 && q == hi + 1 && hi != UINT32_MAX) {
				hi = last = q;
				dir = 1;
			} else if (dir <= 0 && q == lo - 1 && lo != 0) {
				lo = last = q;
				dir = -1;
			} else {
				break;
			}
		}
		iv[k].lo = lo;
		iv[k].hi = hi;
		k++;
	}
	*ndup = dup;
	return k;
}

/* Sort the runs by first PFN and feed their union; overlaps are repeats. */
static void
feed_runs(struct run_builder *b, struct pfn_interval *iv, uint32_t k)
{
	uint64_t next = 0;	/* first PFN not fed yet */
	uint32_t i, j;

	for (i = 1; i < k; i++) {	/* insertion sort: k <= VHB_MAX_SORT_RUNS */
		struct pfn_interval x = iv[i];

		for (j = i; j > 0 && iv[j - 1].lo > x.lo; j--)
			iv[j] = iv[j - 1];
		iv[j] = x;
	}
	for (i = 0; i < k; i++) {
		uint64_t lo = iv[i].lo, hi = iv[i].hi;

		if (lo < next) {
			uint64_t end = hi < next - 1 ? hi : next - 1;

			b->st.nduplicate += (uint32_t)(end - lo + 1);
			lo = end + 1;
		}
		if (lo > hi)
			continue;
		builder_feed_run(b, lo, hi - lo + 1);
		next = hi + 1;
	}
}

/*
 * LSD radix sort of pfns into one of the two halves of scratch; returns the sorted
 * array. Only the low `nbytes` bytes differ between PFNs (from lo ^ hi): the others
 * are neither counted nor sorted.
 */
static const uint32_t *
radix_sort(const uint32_t *pfns, uint32_t n, uint32_t nbytes, uint32_t *scratch)
{
	uint32_t hist[4][256];
	const uint32_t *src = pfns;
	uint32_t *dst = scratch;
	uint32_t i, byte;

	memset(hist, 0, nbytes * sizeof(hist[0]));
	for (i = 0; i < n; i++) {
		uint32_t k = pfns[i];

		hist[0][k & 0xff]++;
		if (nbytes > 1)
			hist[1][(k >> 8) & 0xff]++;
		if (nbytes > 2)
			hist[2][(k >> 16) & 0xff]++;
		if (nbytes > 3)
			hist[3][k >> 24]++;
	}
	for (byte = 0; byte < nbytes; byte++) {
		uint32_t shift = byte * 8, sum = 0, b;
		uint32_t *h = hist[byte];

		if (h[(pfns[0] >> shift) & 0xff] == n)
			continue;	/* every key has this byte: the pass moves nothing */
		for (b = 0; b < 256; b++) {
			uint32_t c = h[b];

			h[b] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[h[(src[i] >> shift) & 0xff]++] = src[i];
		src = dst;
		dst = dst == scratch ? scratch + n : scratch;
	}
	return src;
}

/*
 * Bitmap sort of PFNs in [lo, lo + 64 * nwords): set a bit per PFN, then feed the
 * runs of set bits in order, a run at a time. `words` has room for nwords.
 */
static void
bitmap_sort_feed(struct run_builder *b, const uint32_t *pfns, uint32_t n, uint32_t lo,
		 uint64_t *words, uint32_t nwords)
{
	uint32_t i, w, set = 0;

	memset(words, 0, nwords * sizeof(words[0]));
	for (i = 0; i < n; i++) {
		uint32_t d = pfns[i] - lo;

		words[d / 64] |= 1ULL << (d % 64);
	}
	for (w = 0; w < nwords; w++) {
		uint64_t x = words[w];

		set += (uint32_t)__builtin_popcountll(x);
		while (x != 0) {
			uint32_t first = (uint32_t)__builtin_ctzll(x);
			uint64_t y = x >> first;
			uint32_t len = y == ~0ULL ? 64 : (uint32_t)__builtin_ctzll(~y);

			builder_feed_run(b, (uint64_t)lo + w * 64 + first, len);
			x = first + len >= 64 ? 0 : x & ~(((1ULL << len) - 1) << first);
		}
	}
	b->st.nduplicate += n - set;
}

uint32_t
vhb_pfn_translate(const struct vhb_guest_mem *gm, const uint32_t *pfns, uint32_t n,
		  uint64_t *scratch, struct vhb_pfn_run *runs, struct vhb_pfn_translate_stats *st)
{
	struct run_builder b = {
		.runs = runs, .nregions = gm->nregions, .prev = UINT64_MAX, .next = UINT64_MAX,
		.gm = gm,
	};
	uint32_t i, descents = 0, ascents = 0, lo = n != 0 ? pfns[0] : 0, hi = lo, k, ndup = 0;

	builder_region(&b);
	for (i = 1; i < n; i++) {
		descents += pfns[i] < pfns[i - 1];
		ascents += pfns[i] > pfns[i - 1];
		lo = pfns[i] < lo ? pfns[i] : lo;
		hi = pfns[i] > hi ? pfns[i] : hi;
	}
	if (descents == 0) {
		b.st.sorted = 1;
		builder_feed_sorted(&b, pfns, n, 1);
	} else if (ascents == 0) {
		b.st.sorted = 1;
		builder_feed_sorted(&b, pfns + n - 1, n, -1);
	} else if ((k = find_runs(pfns, n, (struct pfn_interval *)(void *)scratch,
				  RTE_MIN(n / 8, (uint32_t)VHB_MAX_SORT_RUNS), &ndup)) != 0) {
		/* A few runs in any order (a fragmented guest): sort the runs, not the PFNs. */
		b.st.nduplicate += ndup;
		feed_runs(&b, (struct pfn_interval *)(void *)scratch, k);
	} else if ((uint64_t)hi - lo < (uint64_t)n * 64) {
		/* scratch holds n words: a span of up to 64n PFNs. */
		bitmap_sort_feed(&b, pfns, n, lo, scratch,
				 (uint32_t)(((uint64_t)hi - lo) / 64 + 1));
	} else {
		uint32_t diff = lo ^ hi;
		uint32_t nbytes = diff >> 24 ? 4 : diff >> 16 ? 3 : diff >> 8 ? 2 : 1;
		const uint32_t *sorted = radix_sort(pfns, n, nbytes, (uint32_t *)(void *)scratch);

		for (i = 0; i < n; i++)
			builder_feed(&b, sorted[i]);
	}
	if (st != NULL)
		*st = b.st;
	return b.nruns;
}

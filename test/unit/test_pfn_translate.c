/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PFN translation against an independent model (qsort, unique, linear region
 * search) over Linux-like and hostile batches, plus hand-checked cases.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhb_guest_mem.h"
#include "vhb_pfn_translate.h"
#include "test_engine_util.h"

#define MAXN	4096

static struct vhb_guest_mem gm;
static uint64_t scratch[MAXN];
static struct vhb_pfn_run runs[MAXN], model_runs[MAXN];

/* Regions in 4 KiB pages: [256, 4352) and [4352, 8448) touch; a gap; [1 Mi, 1 Mi + 4096). */
static void
setup_map(void)
{
	struct vhb_mem_region r[3];

	memset(r, 0, sizeof(r));
	r[0].gpa = 256ULL << 12;
	r[0].size = 4096ULL << 12;
	r[1].gpa = 4352ULL << 12;
	r[1].size = 4096ULL << 12;
	r[2].gpa = (1ULL << 20) << 12;
	r[2].size = 4096ULL << 12;
	for (int i = 0; i < 3; i++) {
		r[i].fd = -1;
		r[i].page_shift = 12;
		/* Never dereferenced here; distinct so they are not aliases. */
		r[i].hva = (uint8_t *)(uintptr_t)((uint64_t)(i + 1) << 40);
	}
	CHECK(vhb_guest_mem_init(&gm, r, 3) == 0, "map");
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t
model(const uint32_t *pfns, uint32_t n, struct vhb_pfn_translate_stats *st)
{
	static uint32_t s[MAXN];
	uint32_t i, r, nruns = 0;

	memset(st, 0, sizeof(*st));
	memcpy(s, pfns, n * sizeof(s[0]));
	qsort(s, n, sizeof(s[0]), cmp_u32);
	for (i = 0; i < n; i++) {
		uint64_t gpa = (uint64_t)s[i] << 12;
		int found = -1;

		if (i > 0 && s[i] == s[i - 1]) {
			st->nduplicate++;
			continue;
		}
		for (r = 0; r < gm.nregions; r++)
			if (gpa >= gm.regions[r].gpa &&
			    gpa < gm.regions[r].gpa + gm.regions[r].size)
				found = (int)r;
		if (found < 0) {
			st->nout_of_range++;
			continue;
		}
		st->nunique++;
		if (nruns > 0 && model_runs[nruns - 1].region == (uint32_t)found &&
		    model_runs[nruns - 1].pfn + model_runs[nruns - 1].npfns == s[i]) {
			model_runs[nruns - 1].npfns++;
		} else {
			model_runs[nruns].pfn = s[i];
			model_runs[nruns].npfns = 1;
			model_runs[nruns].region = (uint32_t)found;
			nruns++;
		}
	}
	return nruns;
}

static uint32_t
check_against_model(const uint32_t *pfns, uint32_t n, const char *what)
{
	struct vhb_pfn_translate_stats st, mst;
	uint32_t nr, mnr, i;

	nr = vhb_pfn_translate(&gm, pfns, n, scratch, runs, &st);
	mnr = model(pfns, n, &mst);
	CHECK(nr == mnr, "%s: %u runs, model %u", what, nr, mnr);
	CHECK(st.nunique == mst.nunique && st.nduplicate == mst.nduplicate &&
	      st.nout_of_range == mst.nout_of_range, "%s: counts %u/%u/%u model %u/%u/%u", what,
	      st.nunique, st.nduplicate, st.nout_of_range, mst.nunique, mst.nduplicate,
	      mst.nout_of_range);
	for (i = 0; i < nr; i++)
		CHECK(runs[i].pfn == model_runs[i].pfn && runs[i].npfns == model_runs[i].npfns &&
		      runs[i].region == model_runs[i].region, "%s: run %u", what, i);
	return st.sorted;
}

static void
test_cases(void)
{
	uint32_t p[600], i;
	struct vhb_pfn_translate_stats st;
	uint32_t nr;

	/* Linux inflate: 256 descending contiguous PFNs -> one run, no sort. */
	for (i = 0; i < 256; i++)
		p[i] = 1000 + 255 - i;
	nr = vhb_pfn_translate(&gm, p, 256, scratch, runs, &st);
	CHECK(nr == 1 && runs[0].pfn == 1000 && runs[0].npfns == 256 && runs[0].region == 0 &&
	      st.sorted == 1 && st.nunique == 256, "descending run");
	/* Deflate: ascending. */
	for (i = 0; i < 256; i++)
		p[i] = 1000 + i;
	nr = vhb_pfn_translate(&gm, p, 256, scratch, runs, &st);
	CHECK(nr == 1 && runs[0].npfns == 256 && st.sorted == 1, "ascending run");
	/* A run across two regions that touch in gpa is cut at the boundary. */
	for (i = 0; i < 20; i++)
		p[i] = 4352 + 9 - i;
	nr = vhb_pfn_translate(&gm, p, 20, scratch, runs, &st);
	CHECK(nr == 2 && runs[0].pfn == 4342 && runs[0].npfns == 10 && runs[0].region == 0 &&
	      runs[1].pfn == 4352 && runs[1].npfns == 10 && runs[1].region == 1, "region cut");
	/* Hostile: 0, 0xffffffff, the gap, past the end, before the start, duplicates. */
	p[0] = 0xffffffff;
	p[1] = 0;
	p[2] = 8448;		/* first page of the gap */
	p[3] = (1U << 20) + 4096;	/* one past the end */
	p[4] = 255;		/* just before the first region */
	p[5] = 300;
	p[6] = 300;
	p[7] = 0xffffffff;
	p[8] = 8447;		/* last page of region 1 */
	p[9] = (1U << 20) + 4095;
	nr = vhb_pfn_translate(&gm, p, 10, scratch, runs, &st);
	CHECK(nr == 3 && st.nunique == 3 && st.nduplicate == 2 && st.nout_of_range == 5,
	      "hostile: %u runs %u/%u/%u", nr, st.nunique, st.nduplicate, st.nout_of_range);
	CHECK(runs[0].pfn == 300 && runs[1].pfn == 8447 && runs[1].region == 1 &&
	      runs[2].pfn == (1U << 20) + 4095 && runs[2].region == 2, "hostile runs");
	/* Empty and single batches. */
	CHECK(vhb_pfn_translate(&gm, p, 0, scratch, runs, &st) == 0 && st.nunique == 0, "n 0");
	p[0] = 500;
	CHECK(vhb_pfn_translate(&gm, p, 1, scratch, runs, &st) == 1 && runs[0].pfn == 500, "n 1");
	/* All the same PFN. */
	for (i = 0; i < 300; i++)
		p[i] = 777;
	nr = vhb_pfn_translate(&gm, p, 300, scratch, runs, &st);
	CHECK(nr == 1 && runs[0].npfns == 1 && st.nduplicate == 299, "one PFN 300 times");
	/* An empty map drops everything. */
	{
		struct vhb_guest_mem empty = { .nregions = 0 };

		nr = vhb_pfn_translate(&empty, p, 300, scratch, runs, &st);
		CHECK(nr == 0 && st.nout_of_range == 1 && st.nduplicate == 299, "empty map");
	}
	printf("ok hand-checked cases\n");
}

static void
test_random(void)
{
	static uint32_t p[MAXN];
	uint64_t seed = 0x1234567;
	uint32_t iter, i, n, sorted = 0;

	for (iter = 0; iter < 4000; iter++) {
		uint32_t kind = iter % 8;
		uint32_t base = (uint32_t)(test_rand(&seed) % 9000);

		n = 1 + (uint32_t)(test_rand(&seed) % (iter % 10 == 0 ? MAXN : 300));
		for (i = 0; i < n; i++) {
			switch (kind) {
			case 0:	/* random over and around guest memory */
				p[i] = (uint32_t)(test_rand(&seed) % 10000);
				break;
			case 1:	/* descending with repeats */
				p[i] = base + n - i - (uint32_t)(test_rand(&seed) % 4 == 0);
				break;
			case 2:	/* ascending, the deflate order */
				p[i] = base + i;
				break;
			case 3:	/* random within one 2 MiB frame */
				p[i] = (base & ~511U) + (uint32_t)(test_rand(&seed) % 512);
				break;
			case 4:	/* interleaved: two descending runs */
				p[i] = (i & 1) ? base + n - i : (1U << 20) + n - i;
				break;
			case 6:	/* fragmented: short descending runs, anywhere */
			case 7:	/* the same with runs that overlap and ascend */
				if (i == 0 || test_rand(&seed) % 16 == 0)
					base = (uint32_t)(test_rand(&seed) %
							  (kind == 6 ? 9000 : 700)) +
						(test_rand(&seed) % 4 == 0 ? (1U << 20) : 0);
				p[i] = kind == 6 ? base-- : base++;
				if (test_rand(&seed) % 20 == 0)
					p[i] = p[i - (i > 0)];	/* a repeat */
				break;
			default:	/* hostile: full 32-bit range, with some valid ones */
				p[i] = (uint32_t)test_rand(&seed);
				if (test_rand(&seed) % 2)
					p[i] = (1U << 20) + (p[i] % 5000);
				break;
			}
		}
		sorted += check_against_model(p, n, "random batch");
	}
	CHECK(sorted > 0 && sorted < 4000, "both the sorted fast path and the sort ran");
	printf("ok 4000 random batches match the model (%u took the no-sort path)\n", sorted);
}

int
main(void)
{
	printf("backing: none (translation only, no guest memory touched)\n");
	setup_map();
	test_cases();
	test_random();
	printf("PASS\n");
	return 0;
}

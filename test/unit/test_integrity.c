/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Integrity under random operations. Two regions share one file, with a gpa gap
 * and region B starting mid host page (its first host page straddles unused file
 * space and is never releasable). Thousands of inflate / deflate / report
 * operations with PFNs in random, ascending, descending, within-one-frame and
 * interleaved order, plus hostile values. The test keeps its own model of the
 * balloon and checks after every operation that:
 *   - every release the engine reports covers only whole host pages inside one
 *     region, at the right file offset, each 4 KiB of it in the balloon (inflate)
 *     or in the ranges just reported (report);
 *   - every page not in the balloon (and not just reported) keeps its pattern;
 *   - every releasable host page whose pieces are all in the balloon is released;
 *   - the file holds exactly the host pages the model says (st_blocks).
 * Deflated and reported pages are rewritten afterwards, like a guest reusing them.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhb_balloon_pages.h"
#include "vhb_guest_mem.h"
#include "test_balloon_pages.h"
#include "test_engine_util.h"

#define MiB	((uint64_t)1 << 20)
#define GiB	((uint64_t)1 << 30)
#define MAXOPS_PFNS	600

static struct test_backing b;
static uint64_t P, ppp, nfile, nhost;
static uint64_t gpa_b;		/* region B's gpa */
static uint64_t off_b;		/* region B's file offset */
static uint64_t pfn_a_end, pfn_b, pfn_b_end;

static uint8_t *in_balloon;	/* per file page */
static int8_t *region_of;	/* per file page: 0, 1, or -1 (no region) */
static uint8_t *released;	/* per host page: released and not touched since */
static uint8_t *releasable;	/* per host page: wholly inside one region */
static uint8_t *exempt;		/* per file page: in the ranges of the current report */
static uint8_t *lost;		/* per file page: released since the guest last wrote it */

static enum { OP_INFLATE, OP_DEFLATE, OP_REPORT } cur_op;
static uint64_t nreleases;

/* File page of a PFN, or -1. */
static int64_t
file_page(uint64_t pfn)
{
	if (pfn < pfn_a_end)
		return (int64_t)pfn;
	if (pfn >= pfn_b && pfn < pfn_b_end)
		return (int64_t)(pfn - pfn_b + off_b / 4096);
	return -1;
}

static void
observe(void *arg, uint32_t region, uint64_t gpa, uint64_t off, uint64_t len)
{
	uint64_t k;

	(void)arg;
	nreleases++;
	CHECK(off % P == 0 && len % P == 0 && len > 0, "whole host pages: 0x%" PRIx64 "+0x%"
	      PRIx64, off, len);
	for (k = 0; k < len / 4096; k++) {
		int64_t f = file_page(gpa / 4096 + k);

		CHECK(f >= 0 && (uint64_t)f == off / 4096 + k, "gpa 0x%" PRIx64 " is file 0x%"
		      PRIx64, gpa + k * 4096, off + k * 4096);
		CHECK(region_of[f] == (int)region, "inside region %u", region);
		if (cur_op == OP_INFLATE)
			CHECK(in_balloon[f], "inflate released file page 0x%" PRIx64
			      " not in the balloon", (uint64_t)f * 4096);
		else
			CHECK(cur_op == OP_REPORT && exempt[f],
			      "report released file page 0x%" PRIx64 " outside the report",
			      (uint64_t)f * 4096);
	}
	for (k = 0; k < len / P; k++)
		released[off / P + k] = 1;
	for (k = 0; k < len / 4096; k++)
		lost[off / 4096 + k] = 1;
}

static void
guest_write(uint64_t f)
{
	test_fill_page(&b, f);
	released[f * 4096 / P] = 0;
	lost[f] = 0;
}

static void
check_all(struct vhb_balloon_pages *bp, uint64_t op, int release_on)
{
	struct vhb_balloon_pages_stats st;
	uint64_t f, h, nin = 0, nrel = 0;

	for (f = 0; f < nfile; f++) {
		nin += in_balloon[f];
		/* A page out of the balloon may read zero only if a release the observer
		 * checked (while it was in the balloon or reported) covered it. */
		if (!in_balloon[f] && !lost[f])
			CHECK(test_page_ok(&b, f), "op %" PRIu64 ": file page 0x%" PRIx64
			      " (not in the balloon) lost its pattern", op, f * 4096);
	}
	for (h = 0; h < nhost; h++) {
		uint64_t k, full = releasable[h];

		for (k = 0; k < ppp && full; k++)
			full = in_balloon[h * ppp + k];
		if (full && release_on)
			CHECK(released[h], "op %" PRIu64 ": host page at 0x%" PRIx64
			      " is all in the balloon but held", op, h * P);
		nrel += released[h];
	}
	CHECK(test_backing_allocated(&b) == (nhost - nrel) * P, "op %" PRIu64 ": file holds %"
	      PRIu64 " bytes, model %" PRIu64, op, test_backing_allocated(&b), (nhost - nrel) * P);
	vhb_balloon_pages_get_stats(bp, &st);
	CHECK(st.pages_in_balloon == nin, "op %" PRIu64 ": %" PRIu64 " pages in, model %" PRIu64,
	      op, st.pages_in_balloon, nin);
}

static uint64_t
rand_pfn(uint64_t *seed)
{
	uint64_t na = pfn_a_end, nb = pfn_b_end - pfn_b, r = test_rand(seed) % (na + nb);

	return r < na ? r : pfn_b + (r - na);
}

static void
shuffle(uint32_t *p, uint32_t n, uint64_t *seed)
{
	uint32_t i, j, t;

	for (i = n; i > 1; i--) {
		j = (uint32_t)(test_rand(seed) % i);
		t = p[i - 1];
		p[i - 1] = p[j];
		p[j] = t;
	}
}

static uint32_t
gen_inflate(uint32_t *p, uint64_t *seed)
{
	uint32_t n = 0, i, kind = (uint32_t)(test_rand(seed) % 6);
	uint64_t start = rand_pfn(seed);

	switch (kind) {
	case 0:	/* Linux: one descending run (may run off the region's end) */
		n = 1 + (uint32_t)(test_rand(seed) % 256);
		for (i = 0; i < n; i++)
			p[i] = (uint32_t)(start + n - 1 - i);
		break;
	case 1:	/* random within one 2 MiB gpa frame */
		start &= ~511ULL;
		n = 1 + (uint32_t)(test_rand(seed) % 256);
		for (i = 0; i < n; i++)
			p[i] = (uint32_t)(start + test_rand(seed) % 512);
		break;
	case 2: {	/* complete one file host page: its missing pieces, shuffled */
		uint64_t h = test_rand(seed) % nhost, k;
		uint64_t f0 = h * ppp;

		for (k = 0; k < ppp && n < MAXOPS_PFNS; k++) {
			uint64_t f = f0 + k;

			if (region_of[f] < 0 || in_balloon[f])
				continue;
			p[n++] = (uint32_t)(region_of[f] == 0 ? f : f - off_b / 4096 + pfn_b);
		}
		shuffle(p, n, seed);
		break;
	}
	case 3:	/* scattered, with hostile values */
		n = 1 + (uint32_t)(test_rand(seed) % 64);
		for (i = 0; i < n; i++) {
			uint64_t r = test_rand(seed) % 8;

			if (r == 0)
				p[i] = 0xffffffffU;
			else if (r == 1)
				p[i] = (uint32_t)(pfn_a_end + test_rand(seed) % 1000);
			else if (r == 2)
				p[i] = (uint32_t)(pfn_b_end + test_rand(seed) % 1000);
			else
				p[i] = (uint32_t)rand_pfn(seed);
		}
		break;
	case 4:	/* two descending runs interleaved */
		n = 2 * (1 + (uint32_t)(test_rand(seed) % 128));
		{
			uint64_t other = rand_pfn(seed);

			for (i = 0; i < n; i += 2) {
				p[i] = (uint32_t)(start + n / 2 - 1 - i / 2);
				p[i + 1] = (uint32_t)(other + n / 2 - 1 - i / 2);
			}
		}
		break;
	default:	/* ascending run */
		n = 1 + (uint32_t)(test_rand(seed) % 256);
		for (i = 0; i < n; i++)
			p[i] = (uint32_t)(start + i);
		break;
	}
	return n;
}

static uint32_t
gen_deflate(uint32_t *p, uint64_t *seed)
{
	uint32_t n = 1 + (uint32_t)(test_rand(seed) % 256), i, got = 0, tries = 0;
	uint64_t start = rand_pfn(seed);

	if (test_rand(seed) % 2) {	/* Linux: ascending run */
		for (i = 0; i < n; i++)
			p[i] = (uint32_t)(start + i);
		return n;
	}
	/* Random pages that are in the balloon, and a few that are not. */
	while (got < n && tries++ < 20 * n) {
		uint64_t pfn = rand_pfn(seed);
		int64_t f = file_page(pfn);

		if (in_balloon[f] || test_rand(seed) % 16 == 0)
			p[got++] = (uint32_t)pfn;
	}
	return got;
}

static uint32_t
gen_report(struct vhb_gpa_range *r, uint64_t *seed)
{
	uint32_t n = 1 + (uint32_t)(test_rand(seed) % 3), i;

	for (i = 0; i < n; i++) {
		uint64_t kind = test_rand(seed) % 10, gpa = rand_pfn(seed) * 4096;

		if (kind < 6) {		/* Linux: 2 or 4 MiB, aligned in gpa */
			r[i].len = (kind % 2 + 1) * 2 * MiB;
			r[i].gpa = gpa & ~(r[i].len - 1);
		} else if (kind < 8) {	/* unaligned, may cross a region end */
			r[i].gpa = gpa + test_rand(seed) % 4096;
			r[i].len = 1 + test_rand(seed) % (6 * MiB);
		} else if (kind == 8) {
			r[i].gpa = gpa;
			r[i].len = 0;
		} else {
			r[i].gpa = UINT64_MAX - test_rand(seed) % MiB;
			r[i].len = 2 * MiB;
		}
	}
	return n;
}

static void
mark_reported(const struct vhb_gpa_range *r, uint32_t n, uint8_t v)
{
	uint32_t i;
	uint64_t g;

	for (i = 0; i < n; i++) {
		if (r[i].len == 0 || r[i].gpa + r[i].len < r[i].gpa)
			continue;
		for (g = r[i].gpa & ~4095ULL; g < r[i].gpa + r[i].len; g += 4096) {
			int64_t f = file_page(g / 4096);

			/* A partly reported 4 KiB page is never released: count it out. */
			if (f >= 0 && g >= r[i].gpa && g + 4096 <= r[i].gpa + r[i].len)
				exempt[f] = v;
		}
	}
}

int
test_integrity_main(const char *kind)
{
	static uint32_t p[MAXOPS_PFNS];
	struct vhb_mem_region regs[2];
	struct vhb_gpa_range rr[4];
	struct vhb_balloon_pages *bp;
	struct vhb_guest_mem gm;
	uint64_t seed = 0xb0a110011ULL, op, f, h, nops;
	uint64_t counts[3] = { 0 }, hp_released = 0;
	enum vhb_release_mode mode = VHB_RELEASE_BULK;
	uint64_t size = strcmp(kind, "hugetlbfs") == 0 ? 64 * MiB : 16 * MiB;
	int verbose = getenv("VHB_TEST_VERBOSE") != NULL;

	test_backing_open(&b, kind, size);
	P = b.page_size;
	ppp = P / 4096;
	nfile = size / 4096;
	nhost = size / P;
	nops = 3000;

	/* A: gpa 0 = file [0, size/2). B: gpa 4 GiB + 1 MiB = file [size/2 + 1 MiB, size). */
	off_b = size / 2 + MiB;
	gpa_b = 4 * GiB + MiB;
	memset(regs, 0, sizeof(regs));
	regs[0].gpa = 0;
	regs[0].size = size / 2;
	regs[0].fd_offset = 0;
	regs[1].gpa = gpa_b;
	regs[1].size = size - off_b;
	regs[1].fd_offset = off_b;
	for (int i = 0; i < 2; i++) {
		regs[i].hva = b.map + regs[i].fd_offset;
		regs[i].fd = b.fd;
		regs[i].page_shift = P == 4096 ? 12 : 21;
	}
	pfn_a_end = size / 2 / 4096;
	pfn_b = gpa_b / 4096;
	pfn_b_end = pfn_b + regs[1].size / 4096;

	in_balloon = calloc(nfile, 1);
	region_of = calloc(nfile, 1);
	exempt = calloc(nfile, 1);
	lost = calloc(nfile, 1);
	released = calloc(nhost, 1);
	releasable = calloc(nhost, 1);
	CHECK(in_balloon && region_of && exempt && lost && released && releasable, "calloc");
	for (f = 0; f < nfile; f++) {
		region_of[f] = f < pfn_a_end ? 0 : f >= off_b / 4096 ? 1 : -1;
		test_fill_page(&b, f);
	}
	for (h = 0; h < nhost; h++) {
		uint64_t k;

		releasable[h] = 1;
		for (k = 0; k < ppp; k++)
			if (region_of[h * ppp + k] != region_of[h * ppp])
				releasable[h] = 0;
		if (region_of[h * ppp] < 0)
			releasable[h] = 0;
	}

	CHECK(vhb_guest_mem_init(&gm, regs, 2) == 0, "map");
	bp = vhb_balloon_pages_create(&gm, 0);
	CHECK(bp != NULL, "create");
	vhb_balloon_pages_set_observer(bp, observe, NULL);
	check_all(bp, 0, 1);

	for (op = 1; op <= nops; op++) {
		uint64_t r = test_rand(&seed) % 100;
		uint32_t n, i, expect = 0, got;

		if (op % 1000 == 0) {
			/* The driver restarts: every page is the guest's again. */
			vhb_balloon_pages_reset(bp);
			for (f = 0; f < nfile; f++) {
				if (in_balloon[f]) {
					in_balloon[f] = 0;
					guest_write(f);
				}
			}
		} else if (r < 3) {
			mode = test_rand(&seed) % 4 == 0 ? VHB_RELEASE_PER_PAGE : VHB_RELEASE_BULK;
			vhb_balloon_pages_set_release_mode(bp, mode);
		} else if (r < 53) {
			cur_op = OP_INFLATE;
			n = gen_inflate(p, &seed);
			for (i = 0; i < n; i++) {
				int64_t fp = file_page(p[i]);

				if (fp >= 0 && !in_balloon[fp]) {
					in_balloon[fp] = 1;
					expect++;
				}
			}
			if (verbose)
				for (i = 0; i < n; i++)
					printf("op %" PRIu64 " inflate %#x\n", op, p[i]);
			got = vhb_balloon_pages_inflate(bp, p, n);
			CHECK(got == expect, "op %" PRIu64 ": inflate accepted %u, model %u", op,
			      got, expect);
			counts[0]++;
		} else if (r < 90) {
			cur_op = OP_DEFLATE;
			n = gen_deflate(p, &seed);
			for (i = 0; i < n; i++) {
				int64_t fp = file_page(p[i]);

				if (fp >= 0 && in_balloon[fp]) {
					in_balloon[fp] = 0;
					expect++;
				}
			}
			if (verbose)
				for (i = 0; i < n; i++)
					printf("op %" PRIu64 " deflate %#x\n", op, p[i]);
			got = vhb_balloon_pages_deflate(bp, p, n);
			CHECK(got == expect, "op %" PRIu64 ": deflate removed %u, model %u", op,
			      got, expect);
			check_all(bp, op, 1);
			/* The guest reuses the deflated pages. */
			for (i = 0; i < n; i++) {
				int64_t fp = file_page(p[i]);

				if (fp >= 0 && !in_balloon[fp])
					guest_write((uint64_t)fp);
			}
			counts[1]++;
		} else {
			cur_op = OP_REPORT;
			n = gen_report(rr, &seed);
			mark_reported(rr, n, 1);
			if (verbose)
				for (i = 0; i < n; i++)
					printf("op %" PRIu64 " report %#" PRIx64 " +%#" PRIx64
					       "\n", op, rr[i].gpa, rr[i].len);
			vhb_balloon_pages_report(bp, rr, n);
			check_all(bp, op, 1);
			/* The guest reuses the reported pages it had free. */
			for (f = 0; f < nfile; f++) {
				if (exempt[f] && !in_balloon[f])
					guest_write(f);
			}
			mark_reported(rr, n, 0);
			counts[2]++;
		}
		check_all(bp, op, 1);
	}
	{
		struct vhb_balloon_pages_stats st;

		vhb_balloon_pages_get_stats(bp, &st);
		hp_released = st.host_pages_released;
		CHECK(st.pfns_out_of_range > 0 && st.pfns_duplicate > 0 &&
		      st.report_ranges_invalid > 0 && st.report_bytes_skipped > 0,
		      "hostile paths were exercised");
		CHECK(st.host_pages_released > 50, "releases happened: %" PRIu64,
		      st.host_pages_released);
		printf("stats: %" PRIu64 " PFNs in, %" PRIu64 " out, %" PRIu64 " duplicate, %"
		       PRIu64 " out of range, %" PRIu64 " host pages released in %" PRIu64
		       " calls, %" PRIu64 " report bytes released\n", st.pfns_inflated,
		       st.pfns_deflated, st.pfns_duplicate, st.pfns_out_of_range, st.host_pages_released,
		       st.release_calls, st.report_bytes_release_asked);
	}
	printf("ok %" PRIu64 " operations (%" PRIu64 " inflate, %" PRIu64 " deflate, %" PRIu64
	       " report), %" PRIu64 " host pages released, every check held\n", nops, counts[0],
	       counts[1], counts[2], hp_released);
	vhb_balloon_pages_destroy(bp);
	test_backing_free(&b);
	free(in_balloon);
	free(region_of);
	free(exempt);
	free(lost);
	free(released);
	free(releasable);
	printf("PASS\n");
	return 0;
}

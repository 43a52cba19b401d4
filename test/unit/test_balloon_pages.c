/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Page tracking and release on real guest memory (memfd 4 KiB or hugetlbfs 2 MiB):
 * when host pages are released (st_blocks, SEEK_DATA, the observer), that nothing
 * else is (page patterns), coalescing and release modes, split and misaligned
 * regions, aliases, free page reports, hostile input, set_mem and reset.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhb_balloon_pages.h"
#include "vhb_guest_mem.h"
#include "test_balloon_pages.h"
#include "test_engine_util.h"

#define KiB	((uint64_t)1 << 10)
#define MiB	((uint64_t)1 << 20)
#define GiB	((uint64_t)1 << 30)

#define FILE_SIZE	(16 * MiB)

static struct test_backing b;
static uint64_t P;		/* host page size */
static uint32_t ps;		/* its shift */

/* Every release the engine reports, for checking against what the test expects. */
#define MAX_SEEN	4096
static struct {
	uint64_t gpa, off, len;
	uint32_t region;
} seen[MAX_SEEN];
static uint32_t nseen;

static void
observe(void *arg, uint32_t region, uint64_t gpa, uint64_t off, uint64_t len)
{
	(void)arg;
	CHECK(nseen < MAX_SEEN, "too many releases");
	seen[nseen].gpa = gpa;
	seen[nseen].off = off;
	seen[nseen].len = len;
	seen[nseen].region = region;
	nseen++;
}

static struct vhb_mem_region
reg(uint64_t gpa, uint64_t file_off, uint64_t size)
{
	struct vhb_mem_region r = {
		.gpa = gpa, .size = size, .hva = b.map + file_off, .fd_offset = file_off,
		.fd = b.fd, .page_shift = ps,
	};

	return r;
}

static struct vhb_balloon_pages *
make(struct vhb_guest_mem *gm, const struct vhb_mem_region *r, uint32_t n)
{
	struct vhb_balloon_pages *bp;

	CHECK(vhb_guest_mem_init(gm, r, n) == 0, "map");
	bp = vhb_balloon_pages_create(gm, -1);
	CHECK(bp != NULL, "create");
	vhb_balloon_pages_set_observer(bp, observe, NULL);
	nseen = 0;
	return bp;
}

static void
fill_file(uint64_t off, uint64_t len)
{
	uint64_t i;

	for (i = off / 4096; i < (off + len) / 4096; i++)
		test_fill_page(&b, i);
}

static void
check_file(uint64_t off, uint64_t len, const char *what)
{
	uint64_t i;

	for (i = off / 4096; i < (off + len) / 4096; i++)
		CHECK(test_page_ok(&b, i), "%s: page at file offset 0x%" PRIx64 " lost its pattern",
		      what, i * 4096);
}

static struct vhb_balloon_pages_stats
stats(struct vhb_balloon_pages *bp)
{
	struct vhb_balloon_pages_stats st;

	vhb_balloon_pages_get_stats(bp, &st);
	return st;
}

/* Linux-like: descending PFNs [first, first + n), `req` per call. */
static void
inflate_desc(struct vhb_balloon_pages *bp, uint64_t first, uint32_t n, uint32_t req)
{
	static uint32_t p[1 << 14];
	uint32_t i, off;

	CHECK(n <= (1 << 14), "n");
	for (i = 0; i < n; i++)
		p[i] = (uint32_t)(first + n - 1 - i);
	for (off = 0; off < n; off += req)
		vhb_balloon_pages_inflate(bp, p + off, n - off < req ? n - off : req);
}

static void
deflate_asc(struct vhb_balloon_pages *bp, uint64_t first, uint32_t n)
{
	static uint32_t p[1 << 14];
	uint32_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint32_t)(first + i);
	CHECK(vhb_balloon_pages_deflate(bp, p, n) == n, "deflate");
}

static int
is_data(uint64_t off)
{
	off_t r = lseek(b.fd, (off_t)off, SEEK_DATA);

	return r == (off_t)off;
}

/*
 * The pieces of [2 MiB, 4 MiB) of the file arrive in random order over many calls:
 * a host page is released exactly when its last piece arrives, not before.
 */
static void
test_completion_order(void)
{
	const uint64_t size = 8 * MiB, G = 4 * GiB, base = 2 * MiB;
	struct vhb_mem_region r = reg(G, 0, size);
	struct vhb_balloon_pages *bp;
	struct vhb_guest_mem gm;
	uint32_t perm[512], i, j, got = 0, calls = 0;
	uint64_t seed = 42, ppp = P / 4096;
	uint8_t done[512] = { 0 };

	fill_file(0, FILE_SIZE);
	bp = make(&gm, &r, 1);
	CHECK(test_backing_allocated(&b) == FILE_SIZE, "populated");
	for (i = 0; i < 512; i++)
		perm[i] = i;
	for (i = 511; i > 0; i--) {
		j = (uint32_t)(test_rand(&seed) % (i + 1));
		uint32_t t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	while (got < 512) {
		uint32_t n = 1 + (uint32_t)(test_rand(&seed) % 40), p[40], full = 0;

		if (n > 512 - got)
			n = 512 - got;
		for (i = 0; i < n; i++) {
			p[i] = (uint32_t)((G + base) / 4096 + perm[got + i]);
			done[perm[got + i]] = 1;
		}
		CHECK(vhb_balloon_pages_inflate(bp, p, n) == n, "accepted");
		got += n;
		calls++;
		/* Host pages of the 512 pieces whose every piece has arrived. */
		for (i = 0; i < 512; i += (uint32_t)ppp) {
			for (j = 0; j < ppp && done[i + j]; j++)
				;
			full += j == ppp;
		}
		CHECK(test_backing_allocated(&b) == FILE_SIZE - full * P,
		      "after call %u (%u pieces): %" PRIu64 " bytes held, expected %" PRIu64, calls,
		      got, test_backing_allocated(&b), FILE_SIZE - full * P);
		CHECK(stats(bp).host_pages_released == full, "released count");
		check_file(0, base, "below");
		check_file(base + 2 * MiB, size - base - 2 * MiB, "above");
	}
	CHECK(stats(bp).pages_in_balloon == 512 && stats(bp).bytes_release_asked == 2 * MiB, "stats");
	CHECK(calls > 10, "pieces came over many calls");
	if (P == 4096)
		CHECK(!is_data(base) && !is_data(base + 2 * MiB - 4096) &&
		      is_data(base + 2 * MiB) && is_data(base - 4096),
		      "SEEK_DATA: exactly the range is a hole");

	/* Deflate one piece, the guest writes it: the whole host page comes back. */
	deflate_asc(bp, (G + base) / 4096 + 100, 1);
	{
		uint64_t calls_before = stats(bp).release_calls;

		CHECK(calls_before == nseen, "deflate releases nothing");
		test_fill_page(&b, base / 4096 + 100);
		CHECK(test_backing_allocated(&b) == FILE_SIZE - 2 * MiB + P, "faulted back in");
		/* A duplicate inflate of a page still in releases nothing. */
		uint32_t dup = (uint32_t)((G + base) / 4096 + 101), again;

		CHECK(vhb_balloon_pages_inflate(bp, &dup, 1) == 0, "duplicate not accepted");
		CHECK(stats(bp).pfns_duplicate == 1 && stats(bp).release_calls == calls_before,
		      "duplicate counted, nothing released");
		/* Re-inflating the piece completes the host page again: released again. */
		again = (uint32_t)((G + base) / 4096 + 100);
		CHECK(vhb_balloon_pages_inflate(bp, &again, 1) == 1, "re-inflate");
		CHECK(test_backing_allocated(&b) == FILE_SIZE - 2 * MiB, "released again");
		CHECK(stats(bp).release_calls == calls_before + 1, "one call");
		/* Deflating a page that is not in: counted. */
		dup = (uint32_t)(G / 4096);
		CHECK(vhb_balloon_pages_deflate(bp, &dup, 1) == 0 && stats(bp).pfns_duplicate == 2,
		      "deflate of a page not in");
	}
	check_file(0, base, "below");
	check_file(base + 2 * MiB, size - base - 2 * MiB, "above");
	vhb_balloon_pages_destroy(bp);
	printf("ok a host page is released exactly when its last piece arrives (%u calls), "
	       "and again after a deflate + re-inflate\n", calls);
}

/* Coalescing and the three release modes. */
static void
test_modes(void)
{
	const uint64_t size = 8 * MiB;
	struct vhb_mem_region r = reg(0, 0, size);
	struct vhb_balloon_pages *bp;
	struct vhb_guest_mem gm;
	uint64_t c0;

	fill_file(0, FILE_SIZE);
	bp = make(&gm, &r, 1);

	/* Linux requests of 256 descending PFNs over [4 MiB, 8 MiB). */
	inflate_desc(bp, (4 * MiB) / 4096, 1024, 256);
	CHECK(test_backing_allocated(&b) == FILE_SIZE - 4 * MiB, "4 MiB released");
	/* 4 KiB: each request is one range; 2 MiB: a page completes every other request. */
	CHECK(stats(bp).release_calls == (P == 4096 ? 4 : 2), "calls %" PRIu64,
	      stats(bp).release_calls);
	CHECK(nseen == stats(bp).release_calls, "observer saw every call");
	check_file(0, 4 * MiB, "below");
	deflate_asc(bp, (4 * MiB) / 4096, 1024);
	CHECK(stats(bp).release_calls == nseen, "deflate releases nothing");
	fill_file(4 * MiB, 4 * MiB);

	/* One call of 1024: one range whatever the page size. */
	c0 = stats(bp).release_calls;
	inflate_desc(bp, (4 * MiB) / 4096, 1024, 1024);
	CHECK(stats(bp).release_calls == c0 + 1, "coalesced into one call");
	CHECK(seen[nseen - 1].off == 4 * MiB && seen[nseen - 1].len == 4 * MiB &&
	      seen[nseen - 1].gpa == 4 * MiB, "the range");
	deflate_asc(bp, (4 * MiB) / 4096, 1024);
	fill_file(4 * MiB, 4 * MiB);

	/* PER_PAGE: one call per host page. */
	vhb_balloon_pages_set_release_mode(bp, VHB_RELEASE_PER_PAGE);
	c0 = stats(bp).release_calls;
	inflate_desc(bp, (4 * MiB) / 4096, 1024, 1024);
	CHECK(stats(bp).release_calls == c0 + (4 * MiB) / P, "per page");
	CHECK(test_backing_allocated(&b) == FILE_SIZE - 4 * MiB, "released");
	deflate_asc(bp, (4 * MiB) / 4096, 1024);
	fill_file(4 * MiB, 4 * MiB);

	/* NONE: tracked, nothing released. */
	vhb_balloon_pages_set_release_mode(bp, VHB_RELEASE_NONE);
	c0 = stats(bp).release_calls;
	inflate_desc(bp, (4 * MiB) / 4096, 1024, 256);
	CHECK(stats(bp).release_calls == c0 && test_backing_allocated(&b) == FILE_SIZE, "none");
	CHECK(vhb_balloon_pages_contains(bp, (4 * MiB) / 4096) &&
	      vhb_balloon_pages_contains(bp, (8 * MiB) / 4096 - 1) &&
	      !vhb_balloon_pages_contains(bp, (4 * MiB) / 4096 - 1) &&
	      !vhb_balloon_pages_contains(bp, (8 * MiB) / 4096), "contains");
	check_file(0, size, "NONE");
	vhb_balloon_pages_destroy(bp);
	printf("ok coalescing, BULK / PER_PAGE / NONE\n");
}

/*
 * One file, two regions with a gpa gap and different offsets, both ends
 * misaligned to 2 MiB, and parts of the file no region covers: a host page not
 * wholly inside one region is never released; hostile PFNs are dropped.
 */
static void
test_split_regions(void)
{
	const uint64_t size = 16 * MiB;
	struct vhb_mem_region r[2] = {
		reg(0, 0, 5 * MiB),		/* file [0, 5 MiB) */
		reg(GiB, 7 * MiB, 6 * MiB),	/* file [7 MiB, 13 MiB) */
	};
	struct vhb_balloon_pages *bp;
	struct vhb_guest_mem gm;
	struct vhb_gpa_range rep;
	uint32_t hostile[6] = {
		0xffffffff, (uint32_t)((5 * MiB) / 4096), (uint32_t)(GiB / 4096 - 1),
		(uint32_t)((GiB + 6 * MiB) / 4096), 0x7fffffff, 0xfffffffe,
	};
	uint64_t rel, i, nexp;

	fill_file(0, size);
	bp = make(&gm, r, 2);

	/* A report across both regions and the gap between them. */
	rep.gpa = 4 * MiB;
	rep.len = GiB;
	rel = vhb_balloon_pages_report(bp, &rep, 1);
	/* 4 KiB: [4, 5) MiB of A and [0, 4) MiB of B; 2 MiB: only B's whole page at file 8 MiB. */
	CHECK(rel == (P == 4096 ? 5 * MiB : 2 * MiB), "report released %" PRIu64, rel);
	CHECK(stats(bp).report_bytes_skipped == GiB - rel, "skipped");
	CHECK(nseen == 2 || (P != 4096 && nseen == 1), "one call per region part");
	CHECK(seen[nseen - 1].off == (P == 4096 ? 7 * MiB : 8 * MiB) && seen[nseen - 1].region == 1,
	      "file offset of region B's part: 0x%" PRIx64, seen[nseen - 1].off);
	check_file(0, 4 * MiB, "A below the report");
	check_file(5 * MiB, 2 * MiB, "unused file part");
	if (P == 4096) {
		check_file(11 * MiB, size - 11 * MiB, "B above the report");
	} else {
		check_file(4 * MiB, 4 * MiB, "partial pages of the report");
		check_file(10 * MiB, size - 10 * MiB, "B above the report");
	}
	fill_file(0, size);	/* the guest reuses the reported pages */
	nseen = 0;

	/* Hostile PFNs: past the end, 0xffffffff, the gap: dropped and counted. */
	CHECK(vhb_balloon_pages_inflate(bp, hostile, 6) == 0 && stats(bp).pfns_out_of_range == 6,
	      "hostile PFNs dropped");
	/* Every page of both regions, Linux-like. */
	inflate_desc(bp, 0, (uint32_t)((5 * MiB) / 4096), 256);
	inflate_desc(bp, GiB / 4096, (uint32_t)((6 * MiB) / 4096), 256);
	CHECK(stats(bp).pages_in_balloon == (11 * MiB) / 4096, "in balloon");
	if (P == 4096) {
		CHECK(stats(bp).bytes_release_asked == 5 * MiB + 11 * MiB, "all released");
		CHECK(test_backing_allocated(&b) == size - 11 * MiB, "held");
	} else {
		/* A: [0, 2) and [2, 4) MiB; [4, 6) straddles A's end. B: [8, 10) and [10, 12). */
		uint32_t mask = 0;

		nexp = 0;
		for (i = 0; i < nseen; i++) {
			for (uint64_t o = seen[i].off; o < seen[i].off + seen[i].len; o += P) {
				CHECK(o == 0 || o == 2 * MiB || o == 8 * MiB || o == 10 * MiB,
				      "released file offset 0x%" PRIx64, o);
				CHECK(!(mask & (1U << (o / P))), "released twice");
				mask |= 1U << (o / P);
				nexp++;
			}
		}
		CHECK(nexp == 4, "4 host pages released");
		CHECK(test_backing_allocated(&b) == size - 8 * MiB, "held");
	}
	/* The file parts no region covers, and the parts of straddling pages outside
	 * the regions, keep their data. */
	check_file(5 * MiB, 2 * MiB, "between the regions");
	check_file(13 * MiB, 3 * MiB, "after region B");
	vhb_balloon_pages_destroy(bp);
	printf("ok split regions on one file, misaligned ends, a gap, hostile PFNs\n");
}

static void
test_report(void)
{
	const uint64_t size = 16 * MiB;
	struct vhb_mem_region r = reg(0, 0, size);
	struct vhb_balloon_pages *bp;
	struct vhb_guest_mem gm;
	struct vhb_gpa_range rep[6];
	uint64_t rel;

	fill_file(0, size);
	bp = make(&gm, &r, 1);
	rep[0].gpa = 2 * MiB;		/* aligned 4 MiB */
	rep[0].len = 4 * MiB;
	rep[1].gpa = 9 * MiB;		/* 2 MiB, not 2 MiB aligned */
	rep[1].len = 2 * MiB;
	rep[2].gpa = 12 * MiB;		/* zero length */
	rep[2].len = 0;
	rep[3].gpa = UINT64_MAX - 4095;	/* wraps */
	rep[3].len = 8192;
	rep[4].gpa = 14 * MiB;		/* half outside guest memory */
	rep[4].len = 4 * MiB;
	rep[5].gpa = 64 * GiB;		/* wholly outside */
	rep[5].len = 2 * MiB;
	rel = vhb_balloon_pages_report(bp, rep, 6);
	CHECK(rel == (P == 4096 ? 8 * MiB : 6 * MiB), "released %" PRIu64, rel);
	CHECK(stats(bp).report_ranges == 6 && stats(bp).report_ranges_invalid == 2, "counts");
	/* Valid ranges: 4 + 2 + 4 + 2 MiB; the invalid ones count no bytes. */
	CHECK(stats(bp).report_bytes_release_asked == rel &&
	      stats(bp).report_bytes_skipped == 12 * MiB - rel, "skipped %" PRIu64,
	      stats(bp).report_bytes_skipped);
	CHECK(test_backing_allocated(&b) == size - rel, "held");
	check_file(0, 2 * MiB, "below");
	check_file(6 * MiB, 3 * MiB, "between");
	if (P != 4096)
		check_file(9 * MiB, 2 * MiB, "a partial 2 MiB report must not zero a hugepage");
	check_file(11 * MiB, 3 * MiB, "between");
	/* Reports release nothing of the balloon's own state. */
	CHECK(stats(bp).pages_in_balloon == 0, "balloon untouched");
	vhb_balloon_pages_destroy(bp);
	printf("ok free page reports: whole host pages only, hostile ranges\n");
}

static void
test_aliases(void)
{
	const uint64_t size = 8 * MiB;
	struct vhb_mem_region r[2] = {
		reg(0, 0, 4 * MiB),		/* file [0, 4 MiB) */
		reg(GiB, 2 * MiB, 4 * MiB),	/* file [2 MiB, 6 MiB): overlaps */
	};
	struct vhb_balloon_pages *bp;
	struct vhb_guest_mem gm;
	struct vhb_gpa_range rep = { .gpa = 0, .len = 4 * MiB };

	fill_file(0, FILE_SIZE);
	bp = make(&gm, r, 2);
	CHECK(gm.regions[0].no_release && gm.regions[1].no_release, "aliases detected");
	inflate_desc(bp, 0, (uint32_t)((4 * MiB) / 4096), 256);
	CHECK(stats(bp).pages_in_balloon == 1024 && stats(bp).release_calls == 0 &&
	      test_backing_allocated(&b) == FILE_SIZE, "tracked, never released");
	CHECK(vhb_balloon_pages_report(bp, &rep, 1) == 0 && stats(bp).release_calls == 0,
	      "reports on aliases release nothing");
	check_file(0, size, "aliased memory");
	vhb_balloon_pages_destroy(bp);
	printf("ok aliasing regions are tracked and never released\n");
}

static void
test_set_mem_reset(void)
{
	const uint64_t size = 16 * MiB;
	struct vhb_mem_region r[2] = { reg(0, 0, 4 * MiB), reg(GiB, 4 * MiB, 4 * MiB) };
	struct vhb_balloon_pages *bp;
	struct vhb_guest_mem gm, gm2;
	uint64_t a = 0, bpfn = GiB / 4096;

	fill_file(0, size);
	bp = make(&gm, r, 2);
	/* 100 pieces of A's first host page and of B's. */
	inflate_desc(bp, a, 100, 256);
	inflate_desc(bp, bpfn, 100, 256);
	CHECK(stats(bp).pages_in_balloon == 200, "200");

	/* B changes size: forgotten. A unchanged: kept. */
	r[1].size = 2 * MiB;
	CHECK(vhb_guest_mem_init(&gm2, r, 2) == 0, "map 2");
	CHECK(vhb_balloon_pages_set_mem(bp, &gm2) == 0, "set_mem");
	CHECK(vhb_balloon_pages_contains(bp, a) && vhb_balloon_pages_contains(bp, a + 99) &&
	      !vhb_balloon_pages_contains(bp, bpfn), "A kept, B forgotten");
	CHECK(stats(bp).pages_in_balloon == 100, "count follows");

	/* A moves in the file by a whole host page: kept, and released at the new offset. */
	r[0].fd_offset = 8 * MiB;
	r[0].hva = b.map + 8 * MiB;
	CHECK(vhb_guest_mem_init(&gm2, r, 2) == 0, "map 3");
	CHECK(vhb_balloon_pages_set_mem(bp, &gm2) == 0, "set_mem 3");
	CHECK(vhb_balloon_pages_contains(bp, a + 50), "kept");
	fill_file(0, size);
	nseen = 0;
	/* Completes A's first host page (4 KiB: page 100 is a host page of its own). */
	inflate_desc(bp, a + 100, (uint32_t)(P == 4096 ? 1 : P / 4096 - 100 + 1), 256);
	CHECK(nseen >= 1 && seen[0].off == 8 * MiB + (P == 4096 ? 100 * 4096 : 0) &&
	      seen[0].gpa == (P == 4096 ? 100 * 4096 : 0), "released at the new offset");
	check_file(0, 8 * MiB, "old place of A");

	/* A moves by 1 MiB: on 2 MiB pages the host page boundaries moved: forgotten. */
	fill_file(8 * MiB, 8 * MiB);
	deflate_asc(bp, a, (uint32_t)(P == 4096 ? 101 : P / 4096 + 1));
	inflate_desc(bp, a, 10, 256);
	r[0].fd_offset = 9 * MiB;
	r[0].hva = b.map + 9 * MiB;
	CHECK(vhb_guest_mem_init(&gm2, r, 2) == 0, "map 4");
	CHECK(vhb_balloon_pages_set_mem(bp, &gm2) == 0, "set_mem 4");
	CHECK(vhb_balloon_pages_contains(bp, a) == (P == 4096), "kept only if boundaries hold");

	/* Reset forgets everything; releasing works after it. */
	vhb_balloon_pages_reset(bp);
	CHECK(stats(bp).pages_in_balloon == 0 && !vhb_balloon_pages_contains(bp, a), "reset");
	r[0].fd_offset = 0;
	r[0].hva = b.map;
	CHECK(vhb_guest_mem_init(&gm2, r, 2) == 0, "map 5");
	CHECK(vhb_balloon_pages_set_mem(bp, &gm2) == 0, "set_mem 5");
	fill_file(0, size);
	nseen = 0;
	inflate_desc(bp, a, (uint32_t)(2 * MiB / 4096), 256);
	CHECK(test_backing_allocated(&b) == size - 2 * MiB, "released after reset");
	check_file(2 * MiB, size - 2 * MiB, "rest");
	vhb_balloon_pages_destroy(bp);
	printf("ok set_mem keeps unchanged regions, reset forgets\n");
}

/*
 * fd -1: released with MADV_REMOVE on the mapping. A sealed memfd refuses hole
 * punching (EPERM): counted, memory kept, the engine carries on.
 */
static void
test_madvise_and_errors(void)
{
	struct vhb_mem_region r = reg(0, 0, 8 * MiB);
	struct vhb_balloon_pages *bp;
	struct vhb_guest_mem gm;
	struct vhb_gpa_range rep = { .gpa = 4 * MiB, .len = 4 * MiB };

	fill_file(0, FILE_SIZE);
	r.fd = -1;
	bp = make(&gm, &r, 1);
	inflate_desc(bp, 0, (uint32_t)(2 * MiB / 4096), 256);
	CHECK(stats(bp).bytes_release_asked == 2 * MiB && stats(bp).release_errors == 0 &&
	      test_backing_allocated(&b) == FILE_SIZE - 2 * MiB, "MADV_REMOVE released");
	CHECK(vhb_balloon_pages_report(bp, &rep, 1) == 4 * MiB &&
	      test_backing_allocated(&b) == FILE_SIZE - 6 * MiB, "report by MADV_REMOVE");
	check_file(2 * MiB, 2 * MiB, "between");
	check_file(8 * MiB, 8 * MiB, "after");
	vhb_balloon_pages_destroy(bp);

	if (P == 4096) {
		struct test_backing saved = b;
		uint64_t i;

		/* A sealed memfd: F_SEAL_FUTURE_WRITE keeps our mapping, refuses punching. */
		b.fd = memfd_create("vhb-sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		CHECK(b.fd >= 0 && ftruncate(b.fd, (off_t)(4 * MiB)) == 0, "sealed memfd");
		b.map = mmap(NULL, 4 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, b.fd, 0);
		CHECK(b.map != MAP_FAILED, "mmap");
		b.size = 4 * MiB;
		fill_file(0, 4 * MiB);
		CHECK(fcntl(b.fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) == 0, "seal: %s",
		      strerror(errno));
		r = reg(0, 0, 4 * MiB);
		bp = make(&gm, &r, 1);
		for (i = 0; i < 4; i++)
			inflate_desc(bp, i * 256, 256, 256);
		CHECK(stats(bp).release_errors == 4 && stats(bp).bytes_release_asked == 0 &&
		      stats(bp).pages_in_balloon == 1024, "EPERM counted per call, tracking kept");
		CHECK(test_backing_allocated(&b) == 4 * MiB, "nothing released");
		deflate_asc(bp, 0, 1024);
		check_file(0, 4 * MiB, "sealed memory");
		vhb_balloon_pages_destroy(bp);
		test_backing_free(&b);
		b = saved;
	}
	printf("ok MADV_REMOVE without an fd; a sealed file's EPERM is counted%s\n",
	       P == 4096 ? "" : " (sealing part: memfd only)");
}

/* Memory at the top of what a 32-bit PFN reaches, and above it (reports only). */
static void
test_high_gpa(void)
{
	const uint64_t top = 1ULL << 44;	/* 16 TiB: PFN 2^32 */
	struct vhb_mem_region r[2] = {
		reg(top - 4 * MiB, 0, 8 * MiB), reg(2 * top, 8 * MiB, 8 * MiB),
	};
	struct vhb_gpa_range rep = { .gpa = 2 * top, .len = 4 * MiB };
	struct vhb_balloon_pages *bp;
	struct vhb_guest_mem gm;
	uint32_t last = 0xffffffff;

	fill_file(0, FILE_SIZE);
	bp = make(&gm, r, 2);
	inflate_desc(bp, (top - 4 * MiB) / 4096, 1024, 256);
	CHECK(stats(bp).pages_in_balloon == 1024 && stats(bp).bytes_release_asked == 4 * MiB,
	      "the last 4 MiB a PFN can name");
	CHECK(vhb_balloon_pages_contains(bp, last) && !vhb_balloon_pages_contains(bp, 1ULL << 32),
	      "contains at the PFN limit");
	CHECK(vhb_balloon_pages_inflate(bp, &last, 1) == 0 && stats(bp).pfns_duplicate == 1, "dup");
	CHECK(vhb_balloon_pages_report(bp, &rep, 1) == 4 * MiB, "reports reach any gpa");
	CHECK(test_backing_allocated(&b) == FILE_SIZE - 8 * MiB, "held");
	check_file(4 * MiB, 4 * MiB, "region 0 above the PFN limit");
	check_file(12 * MiB, 4 * MiB, "region 1 after the report");
	vhb_balloon_pages_destroy(bp);
	printf("ok regions at and above the 32-bit PFN limit\n");
}

/*
 * What the host got back is measured, not assumed: releasing memory that is
 * allocated regains what was asked, releasing a hole asks again and regains
 * nothing; inflate and reporting are counted apart; host_resident is the file's
 * allocation, counted once for the two regions on the one file.
 */
static void
test_regained(void)
{
	struct vhb_mem_region r[2] = { reg(0, 0, 8 * MiB), reg(GiB, 8 * MiB, 8 * MiB) };
	struct vhb_gpa_range rep = { .gpa = GiB, .len = 4 * MiB };
	const uint32_t n = (uint32_t)((4 * MiB) / 4096);
	struct vhb_balloon_pages_stats st;
	struct vhb_balloon_pages *bp;
	struct vhb_guest_mem gm;

	fill_file(0, FILE_SIZE);
	bp = make(&gm, r, 2);
	CHECK(test_backing_allocated(&b) == FILE_SIZE &&
	      vhb_balloon_pages_host_resident(bp) == FILE_SIZE,
	      "resident %" PRIu64 ": the file once, not once per region",
	      vhb_balloon_pages_host_resident(bp));
	/* Populated memory: everything asked comes back. */
	inflate_desc(bp, 0, n, 256);
	st = stats(bp);
	CHECK(st.inflate_bytes_release_asked == 4 * MiB && st.inflate_bytes_regained == 4 * MiB &&
	      st.bytes_release_asked == 4 * MiB && st.bytes_regained == 4 * MiB,
	      "populated: asked %" PRIu64 ", regained %" PRIu64, st.bytes_release_asked,
	      st.bytes_regained);
	CHECK(st.measure_calls == 2 * (4 * MiB / P < 4 ? 4 * MiB / P : 4),
	      "one fstat before and one after each releasing call: %" PRIu64, st.measure_calls);
	CHECK(vhb_balloon_pages_host_resident(bp) == test_backing_allocated(&b) &&
	      test_backing_allocated(&b) == FILE_SIZE - 4 * MiB, "resident follows the release");
	/* The same pages again: already holes, asked again, nothing regained. */
	deflate_asc(bp, 0, n);
	inflate_desc(bp, 0, n, 256);
	st = stats(bp);
	CHECK(st.inflate_bytes_release_asked == 8 * MiB && st.inflate_bytes_regained == 4 * MiB,
	      "holes: asked %" PRIu64 ", regained %" PRIu64, st.inflate_bytes_release_asked,
	      st.inflate_bytes_regained);
	/* Reporting, counted apart: populated, then the same range again. */
	CHECK(vhb_balloon_pages_report(bp, &rep, 1) == 4 * MiB, "report");
	CHECK(vhb_balloon_pages_report(bp, &rep, 1) == 4 * MiB, "report again");
	st = stats(bp);
	CHECK(st.report_bytes_release_asked == 8 * MiB && st.report_bytes_regained == 4 * MiB &&
	      st.inflate_bytes_regained == 4 * MiB && st.bytes_regained == 8 * MiB &&
	      st.bytes_release_asked == 16 * MiB, "reports: asked %" PRIu64 ", regained %" PRIu64,
	      st.report_bytes_release_asked, st.report_bytes_regained);
	CHECK(vhb_balloon_pages_host_resident(bp) == test_backing_allocated(&b) &&
	      test_backing_allocated(&b) == FILE_SIZE - 8 * MiB, "resident after the reports");
	/* Memory faulted in without a release shows at the next refresh. */
	deflate_asc(bp, 0, n);
	fill_file(0, 4 * MiB);
	CHECK(vhb_balloon_pages_host_resident(bp) == FILE_SIZE - 8 * MiB, "not refreshed yet");
	vhb_balloon_pages_refresh_host_resident(bp);
	CHECK(vhb_balloon_pages_host_resident(bp) == test_backing_allocated(&b) &&
	      test_backing_allocated(&b) == FILE_SIZE - 4 * MiB, "refreshed");
	/* The benchmarks' baseline: releases, measures nothing. */
	vhb_balloon_pages_set_measure(bp, 0);
	inflate_desc(bp, 0, n, 256);
	st = stats(bp);
	CHECK(st.inflate_bytes_release_asked == 12 * MiB && st.bytes_regained == 8 * MiB &&
	      test_backing_allocated(&b) == FILE_SIZE - 8 * MiB, "unmeasured");
	vhb_balloon_pages_destroy(bp);
	printf("ok regained: measured per call, holes regain nothing, each file counted once\n");
}

int
test_balloon_pages_main(const char *kind)
{
	test_backing_open(&b, kind, 16 * MiB);
	P = b.page_size;
	ps = P == 4096 ? 12 : 21;
	test_completion_order();
	test_modes();
	test_split_regions();
	test_report();
	test_aliases();
	test_set_mem_reset();
	test_high_gpa();
	test_madvise_and_errors();
	test_regained();
	test_backing_free(&b);
	printf("PASS\n");
	return 0;
}

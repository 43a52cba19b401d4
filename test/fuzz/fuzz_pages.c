/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz harness: PFN translation (vhb_pfn_translate.h) and balloon page tracking
 * and release (vhb_balloon_pages.h) over real memfd-backed guest memory.
 *
 * One 4 MiB memfd (1024 pages of 4 KiB), made once and reused, holds a pattern in
 * every page. The input lays out up to four segments of it in guest-physical
 * space (any file offset, so aliases too; backing page size 4 KiB, 8, 16, 64 KiB
 * or 2 MiB, which makes the engine treat the memfd as huge pages; fd or fd -1;
 * near gpa 0 or across gpa 16 TiB, where 32-bit PFNs end)
 * and then runs a program of inflate, deflate, report, reset, release-mode and
 * memory-map changes, as a hostile guest and a frontend would.
 *
 * The harness keeps the guest's view: the pages it gave (inflated and not
 * deflated). After every operation it checks:
 * - translation: runs ascending, disjoint, each inside its region, exactly the
 *   distinct in-memory PFNs, and the counts add up;
 * - tracking: the engine's set after inflate/deflate is exactly the set before
 *   plus/minus the PFNs in guest memory, the return value is the size change,
 *   pages_in_balloon equals the set's size, the set never holds a page the
 *   guest did not give, and a memory-map change forgets nothing of a region
 *   that did not change;
 * - release (the rule that outranks speed): every release the engine reports
 *   is whole host pages of one region at the right file offset, of pages the
 *   guest gave (under every gpa that maps them) or, for reporting, reported;
 *   and every page the guest still owns, and every page of the file outside
 *   guest memory, holds its pattern afterwards, which also catches releases the
 *   engine did not report;
 * - efficacy: a host page completed by an inflate, or wholly inside a reported
 *   range, is a hole in the file when the call returns (unless aliased or in
 *   release mode NONE).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhb_balloon_pages.h"
#include "vhb_guest_mem.h"
#include "vhb_pfn_translate.h"

#include "fuzz_common.h"

#define PAGE		4096ULL
#define FILE_PAGES	1024u			/* the memfd: 4 MiB */
#define GPA_SPAN	16384u			/* segments start below 64 MiB of gpa */
#define GPA_PAGES	(GPA_SPAN + FILE_PAGES)
#define MAX_SEG		4
#define MAX_OPS		128
#define MAX_PFNS	8192			/* more than one engine batch (4096) */
#define MAX_RANGES	40

struct seg {
	uint32_t gpa_pg;	/* model page: guest page S.base + gpa_pg */
	uint32_t file_pg;
	uint32_t npg;
	uint32_t shift;
	int fd;
	bool present;
	bool was_present;
	uint32_t was_shift;
};

enum op_kind { OP_INFLATE, OP_DEFLATE, OP_REPORT, OP_OTHER };

struct state {
	struct seg seg[MAX_SEG];
	uint32_t nseg;
	uint64_t base;			/* gpa page of model page 0: 0, or just below 2^32 */
	struct vhb_guest_mem gm;
	struct vhb_balloon_pages *bp;
	enum vhb_release_mode mode;
	enum op_kind op;
	uint8_t guest_in[GPA_PAGES];	/* the guest gave this page (its view) */
	uint8_t kept[GPA_PAGES];	/* the engine must still hold it */
	uint8_t e_prev[GPA_PAGES];	/* engine's set before / after the op */
	uint8_t e_now[GPA_PAGES];
	uint32_t mark[GPA_PAGES];	/* == gen: named by the current op */
	uint32_t gen;
	uint32_t file_mark[FILE_PAGES];	/* == gen: in a reported range */
	uint8_t file_used[FILE_PAGES];	/* some segment of the layout maps it */
	struct vhb_gpa_range ranges[MAX_RANGES];
	uint32_t nranges;
};

static int memfd = -1;
static uint8_t *mem;
static struct state S;
static uint32_t pfns[MAX_PFNS];
static uint64_t scratch[MAX_PFNS];
static struct vhb_pfn_run runs[MAX_PFNS];
static uint32_t outside[MAX_PFNS];
static const uint32_t shifts[] = { 12, 13, 14, 16, 21 };

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
pattern(uint32_t fpg, uint32_t word)
{
	return 0x9e3779b97f4a7c15ULL * (fpg + 1) ^ ((uint64_t)word << 56) ^ 0x5a;
}

static const uint32_t words[] = { 0, 255, 511 };	/* first, middle and last u64 */

static void
write_pattern(uint32_t fpg)
{
	uint64_t *p = (uint64_t *)(mem + fpg * PAGE);
	unsigned int i;

	for (i = 0; i < 3; i++)
		p[words[i]] = pattern(fpg, i);
}

static bool
has_pattern(uint32_t fpg)
{
	const uint64_t *p = (const uint64_t *)(mem + fpg * PAGE);
	unsigned int i;

	for (i = 0; i < 3; i++)
		if (p[words[i]] != pattern(fpg, i))
			return false;
	return true;
}

/* Is file range [off, off + len) all hole? */
static bool
is_hole(uint64_t off, uint64_t len)
{
	off_t d = lseek(memfd, (off_t)off, SEEK_DATA);

	return (d < 0 && errno == ENXIO) || (d >= 0 && (uint64_t)d >= off + len);
}

static void
setup_once(void)
{
	uint32_t i;

	if (mem != NULL)
		return;
	memfd = memfd_create("vhb-fuzz-pages", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, FILE_PAGES * PAGE) != 0)
		abort();
	mem = mmap(NULL, FILE_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (mem == MAP_FAILED)
		abort();
	for (i = 0; i < FILE_PAGES; i++)
		write_pattern(i);
	fprintf(stderr, "fuzz-pages: guest memory backing: memfd 4 KiB, %u pages\n", FILE_PAGES);
}

/* Model page of a 32-bit PFN, or -1 if the model has no such page. */
static int64_t
rel(uint32_t pfn)
{
	return pfn >= S.base && pfn - S.base < GPA_PAGES ? (int64_t)(pfn - S.base) : -1;
}

/* The segment holding model page p, or NULL. */
static struct seg *
seg_of(uint64_t p)
{
	uint32_t i;

	for (i = 0; i < S.nseg; i++)
		if (p >= S.seg[i].gpa_pg && p < S.seg[i].gpa_pg + S.seg[i].npg)
			return &S.seg[i];
	return NULL;
}

static bool
present_page(uint64_t p)
{
	const struct seg *s = seg_of(p);

	return s != NULL && s->present;
}

/* Another present segment maps some of the same file pages. */
static bool
aliased(const struct seg *s)
{
	uint32_t i;

	for (i = 0; i < S.nseg; i++) {
		const struct seg *o = &S.seg[i];

		if (o != s && o->present && s->file_pg < o->file_pg + o->npg &&
		    o->file_pg < s->file_pg + s->npg)
			return true;
	}
	return false;
}

static bool
in_reported_range(uint64_t gpa_pg)
{
	uint64_t a = (S.base + gpa_pg) * PAGE;
	uint32_t i;

	for (i = 0; i < S.nranges; i++) {
		const struct vhb_gpa_range *r = &S.ranges[i];

		/* The whole 4 KiB page: a partly reported page is still the guest's. */
		if (r->len != 0 && r->gpa + r->len > r->gpa && a >= r->gpa &&
		    a + PAGE <= r->gpa + r->len)
			return true;
	}
	return false;
}

/* May file page fpg be released now? Only if no present gpa of it is in use. */
static bool
release_allowed(uint32_t fpg)
{
	uint32_t i;

	for (i = 0; i < S.nseg; i++) {
		const struct seg *s = &S.seg[i];
		uint32_t g;

		if (!s->present || fpg < s->file_pg || fpg >= s->file_pg + s->npg)
			continue;
		g = s->gpa_pg + (fpg - s->file_pg);
		if (S.guest_in[g])
			continue;
		if (S.op == OP_REPORT && in_reported_range(g))
			continue;
		return false;
	}
	return true;
}

static void
observer(void *arg, uint32_t ri, uint64_t gpa, uint64_t file_off, uint64_t len)
{
	const struct vhb_mem_region *r;
	uint64_t psz, o;

	(void)arg;
	FZ_CHECK(S.op == OP_INFLATE || S.op == OP_REPORT, "release during op %d", S.op);
	FZ_CHECK(ri < S.gm.nregions, "release in region %u of %u", ri, S.gm.nregions);
	r = &S.gm.regions[ri];
	psz = 1ULL << r->page_shift;
	FZ_CHECK(len > 0 && gpa >= r->gpa && gpa - r->gpa < r->size &&
		 len <= r->size - (gpa - r->gpa),
		 "release gpa 0x%llx len 0x%llx outside region gpa 0x%llx size 0x%llx",
		 (unsigned long long)gpa, (unsigned long long)len, (unsigned long long)r->gpa,
		 (unsigned long long)r->size);
	FZ_CHECK(file_off == r->fd_offset + (gpa - r->gpa), "release file offset");
	FZ_CHECK(file_off % psz == 0 && len % psz == 0,
		 "release of part of a host page: file 0x%llx len 0x%llx page 0x%llx",
		 (unsigned long long)file_off, (unsigned long long)len, (unsigned long long)psz);
	for (o = 0; o < len; o += PAGE)
		FZ_CHECK(release_allowed((uint32_t)((file_off + o) / PAGE)),
			 "released gpa 0x%llx (file page %llu) which the guest uses",
			 (unsigned long long)(gpa + o), (unsigned long long)((file_off + o) / PAGE));
}

/* vhb_pfn_translate on the op's PFNs, checked; marks the distinct PFNs with gen. */
static void
check_translate(uint32_t n)
{
	struct vhb_pfn_translate_stats st;
	uint32_t nruns, i, distinct_in = 0, distinct_out = 0, asc = 0, desc = 0, nout = 0;
	uint64_t sum = 0, prev_end = 0;

	nruns = vhb_pfn_translate(&S.gm, pfns, n, scratch, runs, &st);
	FZ_CHECK(nruns <= n, "%u runs for %u PFNs", nruns, n);
	for (i = 0; i < n; i++) {
		uint32_t p = pfns[i];
		int64_t q = rel(p);
		bool in = vhb_guest_mem_region_of(&S.gm, (uint64_t)p << 12) >= 0;

		if (i > 0) {
			asc += p > pfns[i - 1];
			desc += p < pfns[i - 1];
		}
		FZ_CHECK(in == (q >= 0 && present_page((uint64_t)q)), "region_of(pfn %u)", p);
		if (q >= 0) {
			if (S.mark[q] == S.gen)
				continue;
			S.mark[q] = S.gen;
		} else {
			/* Past every segment: counted below, once per distinct value. */
			outside[nout++] = p;
			continue;
		}
		if (in)
			distinct_in++;
		else
			distinct_out++;
	}
	qsort(outside, nout, sizeof(outside[0]), cmp_u32);
	for (i = 0; i < nout; i++)
		distinct_out += i == 0 || outside[i] != outside[i - 1];
	for (i = 0; i < nruns; i++) {
		const struct vhb_pfn_run *r = &runs[i];
		const struct vhb_mem_region *reg;
		uint64_t k;

		FZ_CHECK(r->npfns > 0 && r->region < S.gm.nregions, "run %u empty or bad region", i);
		reg = &S.gm.regions[r->region];
		FZ_CHECK(r->pfn >= reg->gpa >> 12 &&
			 r->pfn + r->npfns <= (reg->gpa + reg->size) >> 12,
			 "run %u [%llu +%u) outside its region", i, (unsigned long long)r->pfn,
			 r->npfns);
		FZ_CHECK(i == 0 || r->pfn >= prev_end, "runs %u and %u overlap or descend", i - 1, i);
		for (k = r->pfn; k < r->pfn + r->npfns; k++)
			FZ_CHECK(k <= UINT32_MAX && rel((uint32_t)k) >= 0 &&
				 S.mark[rel((uint32_t)k)] == S.gen, "run %u holds pfn %llu not asked",
				 i, (unsigned long long)k);
		prev_end = r->pfn + r->npfns;
		sum += r->npfns;
	}
	FZ_CHECK(sum == distinct_in && st.nunique == distinct_in,
		 "runs hold %llu PFNs, nunique %u, distinct in memory %u", (unsigned long long)sum,
		 st.nunique, distinct_in);
	FZ_CHECK(st.nout_of_range == distinct_out, "nout_of_range %u, want %u", st.nout_of_range,
		 distinct_out);
	FZ_CHECK(st.nduplicate == n - distinct_in - distinct_out, "nduplicate %u", st.nduplicate);
	FZ_CHECK(st.sorted == (n <= 1 || asc == 0 || desc == 0), "sorted %u", st.sorted);
}

static uint64_t
snapshot(uint8_t *e)
{
	struct vhb_balloon_pages_stats st;
	uint64_t count = 0;
	uint32_t i, p;

	for (i = 0; i < S.nseg; i++) {
		const struct seg *s = &S.seg[i];

		for (p = s->gpa_pg; p < s->gpa_pg + s->npg; p++) {
			e[p] = s->present ? (uint8_t)vhb_balloon_pages_contains(S.bp, S.base + p) : 0;
			if (!s->present)
				FZ_CHECK(vhb_balloon_pages_contains(S.bp, S.base + p) == 0,
					 "page %u of a region not in the map is in the balloon", p);
			count += e[p];
		}
	}
	vhb_balloon_pages_get_stats(S.bp, &st);
	FZ_CHECK(st.pages_in_balloon == count, "pages_in_balloon %llu, set holds %llu",
		 (unsigned long long)st.pages_in_balloon, (unsigned long long)count);
	FZ_CHECK(st.release_errors == 0, "%llu release errors",
		 (unsigned long long)st.release_errors);
	return count;
}

/*
 * Every page the guest owns, under every present gpa, still holds its pattern; so
 * does every file page no segment of the layout maps (nothing may touch it).
 */
static void
check_memory(void)
{
	uint32_t i, k;

	for (k = 0; k < FILE_PAGES; k++)
		if (!S.file_used[k])
			FZ_CHECK(has_pattern(k), "file page %u, outside guest memory, lost its "
				 "content", k);

	for (i = 0; i < S.nseg; i++) {
		const struct seg *s = &S.seg[i];

		if (!s->present)
			continue;
		for (k = 0; k < s->npg; k++) {
			uint32_t g = s->gpa_pg + k, f = s->file_pg + k;

			if (S.guest_in[g] || (S.op == OP_REPORT && S.file_mark[f] == S.gen))
				continue;
			FZ_CHECK(has_pattern(f), "gpa page %u (file page %u), owned by the guest, "
				 "lost its content", g, f);
		}
	}
}

/* Host pages of present, releasable segments: which are complete, and are they holes. */
static void
check_released_after_inflate(void)
{
	uint32_t i, h, k;

	if (S.mode == VHB_RELEASE_NONE)
		return;
	for (i = 0; i < S.nseg; i++) {
		const struct seg *s = &S.seg[i];
		uint32_t per = 1u << (s->shift - 12);

		if (!s->present || aliased(s))
			continue;
		/* Host pages in file terms, wholly inside the segment. */
		for (h = (s->file_pg + per - 1) / per; (h + 1) * per <= s->file_pg + s->npg; h++) {
			bool now = true, before = true;

			for (k = 0; k < per; k++) {
				uint32_t g = s->gpa_pg + h * per + k - s->file_pg;

				now = now && S.e_now[g];
				before = before && S.e_prev[g];
			}
			if (now && !before)
				FZ_CHECK(is_hole((uint64_t)h * per * PAGE, per * PAGE),
					 "host page at file page %u completed but not released", h * per);
		}
	}
}

static void
check_released_after_report(void)
{
	uint32_t i, j;

	if (S.mode == VHB_RELEASE_NONE)
		return;
	for (j = 0; j < S.nranges; j++) {
		const struct vhb_gpa_range *r = &S.ranges[j];

		if (r->len == 0 || r->gpa + r->len < r->gpa)
			continue;
		for (i = 0; i < S.nseg; i++) {
			const struct seg *s = &S.seg[i];
			uint64_t psz = 1ULL << s->shift;
			uint64_t sg = (S.base + s->gpa_pg) * PAGE, se = sg + (uint64_t)s->npg * PAGE;
			uint64_t lo = r->gpa > sg ? r->gpa : sg, hi = r->gpa + r->len < se ?
				r->gpa + r->len : se;
			uint64_t flo, fhi, f;

			if (!s->present || aliased(s) || lo >= hi)
				continue;
			flo = lo - sg + (uint64_t)s->file_pg * PAGE;
			fhi = hi - sg + (uint64_t)s->file_pg * PAGE;
			for (f = (flo + psz - 1) / psz * psz; f + psz <= fhi; f += psz)
				FZ_CHECK(is_hole(f, psz), "reported host page at file 0x%llx not released",
					 (unsigned long long)f);
		}
	}
}

/* The guest uses page p again (deflated, reported, reset): it writes its pattern. */
static void
guest_reuses(uint32_t g)
{
	const struct seg *s = seg_of(g);

	if (s != NULL)
		write_pattern(s->file_pg + (g - s->gpa_pg));
}

static uint32_t
read_pfns(struct fz *f)
{
	uint8_t sub = fz_u8(f);
	uint32_t n = 0, i, start, len;
	const struct seg *s;

	switch (sub & 3) {
	case 0:	/* a list near guest memory */
		n = (uint32_t)fz_u8(f) + 1;
		for (i = 0; i < n; i++)
			pfns[i] = (uint32_t)(S.base + fz_u16(f) % GPA_PAGES);
		break;
	case 1:	/* a list of anything */
		n = (uint32_t)fz_u8(f) + 1;
		for (i = 0; i < n; i++)
			pfns[i] = fz_u32(f);
		break;
	case 2:	/* a run anywhere, ascending or (Linux inflate) descending */
		start = fz_u32(f);
		n = fz_u16(f) % MAX_PFNS + 1;
		for (i = 0; i < n; i++)
			pfns[i] = (sub & 4) ? start + (n - 1 - i) : start + i;
		break;
	case 3:	/* a run inside one segment, maybe past its end */
		s = &S.seg[fz_u8(f) % S.nseg];
		start = (uint32_t)(S.base + s->gpa_pg + fz_u16(f) % s->npg);
		len = fz_u16(f) % (s->npg + 64) + 1;
		n = len;
		for (i = 0; i < n; i++)
			pfns[i] = (sub & 4) ? start + (n - 1 - i) : start + i;
		/* Every 8th op also repeats the run: duplicates in one batch. */
		if ((sub & 8) && 2 * n <= MAX_PFNS) {
			memcpy(pfns + n, pfns, n * sizeof(pfns[0]));
			n *= 2;
		}
		break;
	}
	return n;
}

static int
build_map(void)
{
	struct vhb_mem_region reg[MAX_SEG];
	uint32_t i, n = 0;

	memset(reg, 0, sizeof(reg));
	for (i = 0; i < S.nseg; i++) {
		const struct seg *s = &S.seg[i];

		if (!s->present)
			continue;
		reg[n].gpa = (S.base + s->gpa_pg) * PAGE;
		reg[n].size = (uint64_t)s->npg * PAGE;
		reg[n].hva = mem + (uint64_t)s->file_pg * PAGE;
		reg[n].fd_offset = (uint64_t)s->file_pg * PAGE;
		reg[n].fd = s->fd;
		reg[n].page_shift = s->shift;
		n++;
	}
	return vhb_guest_mem_init(&S.gm, reg, n);
}

static void
op_pages(struct fz *f, bool inflate)
{
	uint32_t n = read_pfns(f), i, ret;
	uint64_t before, after, k;
	uint32_t g;

	S.gen++;
	check_translate(n);
	if (inflate) {
		/* The guest gave them all (it does not know where its memory is mapped). */
		for (i = 0; i < n; i++)
			if (rel(pfns[i]) >= 0)
				S.guest_in[rel(pfns[i])] = 1;
		S.op = OP_INFLATE;
		ret = vhb_balloon_pages_inflate(S.bp, pfns, n);
	} else {
		S.op = OP_DEFLATE;
		ret = vhb_balloon_pages_deflate(S.bp, pfns, n);
	}
	before = 0;
	for (i = 0; i < S.nseg; i++)
		for (g = S.seg[i].gpa_pg; g < S.seg[i].gpa_pg + S.seg[i].npg; g++)
			before += S.e_prev[g];
	after = snapshot(S.e_now);
	FZ_CHECK(ret == (inflate ? after - before : before - after),
		 "%s returned %u, the set went %llu -> %llu", inflate ? "inflate" : "deflate", ret,
		 (unsigned long long)before, (unsigned long long)after);
	for (i = 0; i < S.nseg; i++) {
		const struct seg *s = &S.seg[i];

		if (!s->present)
			continue;
		for (k = s->gpa_pg; k < s->gpa_pg + s->npg; k++) {
			bool named = S.mark[k] == S.gen;
			uint8_t want = inflate ? (S.e_prev[k] | named) : (S.e_prev[k] && !named);

			FZ_CHECK(S.e_now[k] == want, "page %llu: in balloon %u, want %u after %s",
				 (unsigned long long)k, S.e_now[k], want, inflate ? "inflate" : "deflate");
		}
	}
	if (inflate) {
		for (i = 0; i < n; i++)
			if (rel(pfns[i]) >= 0 && present_page((uint64_t)rel(pfns[i])))
				S.kept[rel(pfns[i])] = 1;
		check_released_after_inflate();
	} else {
		for (i = 0; i < n; i++) {
			int64_t q = rel(pfns[i]);

			if (q >= 0) {
				S.guest_in[q] = 0;
				S.kept[q] = 0;
				guest_reuses((uint32_t)q);
			}
		}
	}
}

static void
op_report(struct fz *f)
{
	uint32_t i, j, k;
	uint64_t ret;

	S.nranges = fz_u8(f) % MAX_RANGES + 1;
	for (i = 0; i < S.nranges; i++) {
		uint8_t m = fz_u8(f);
		struct vhb_gpa_range *r = &S.ranges[i];

		r->gpa = (m & 1) ? fz_u64(f) : ((S.base + fz_u16(f) % GPA_PAGES) << 12) +
			((m & 2) ? (fz_u16(f) & 0xfff) : 0);
		r->len = (m & 4) ? fz_u64(f) : ((uint64_t)(fz_u16(f) % 2048) << 12) +
			((m & 8) ? (fz_u16(f) & 0xfff) : 0);
	}
	/* File pages of a wholly reported gpa page may be released. */
	S.gen++;
	for (i = 0; i < S.nseg; i++) {
		const struct seg *s = &S.seg[i];

		if (!s->present)
			continue;
		for (k = 0; k < s->npg; k++)
			if (in_reported_range(s->gpa_pg + k))
				S.file_mark[s->file_pg + k] = S.gen;
	}
	S.op = OP_REPORT;
	ret = vhb_balloon_pages_report(S.bp, S.ranges, S.nranges);
	(void)ret;
	snapshot(S.e_now);
	for (k = 0; k < GPA_PAGES; k++)
		FZ_CHECK(S.e_now[k] == S.e_prev[k], "report changed the balloon at page %u", k);
	check_memory();
	check_released_after_report();
	/* The guest takes its reported pages back (not those it ballooned). */
	for (i = 0; i < S.nseg; i++) {
		const struct seg *s = &S.seg[i];

		for (j = 0; j < s->npg; j++)
			if (S.file_mark[s->file_pg + j] == S.gen && !S.guest_in[s->gpa_pg + j])
				write_pattern(s->file_pg + j);
	}
}

static void
op_remap(struct fz *f)
{
	uint8_t mask = fz_u8(f), sh = fz_u8(f);
	uint32_t i, g;
	int rc;

	for (i = 0; i < S.nseg; i++) {
		S.seg[i].was_present = S.seg[i].present;
		S.seg[i].was_shift = S.seg[i].shift;
		S.seg[i].present = (mask >> i) & 1;
	}
	if (sh & 0x80)	/* and segment (sh & 3) gets page size (sh >> 2) & 7 */
		S.seg[(sh & 3) % S.nseg].shift = shifts[((sh >> 2) & 7) % 5];
	rc = build_map();
	FZ_CHECK(rc == 0, "valid map refused (%d)", rc);
	S.op = OP_OTHER;
	rc = vhb_balloon_pages_set_mem(S.bp, &S.gm);
	FZ_CHECK(rc == 0, "set_mem failed (%d)", rc);
	for (i = 0; i < S.nseg; i++) {
		struct seg *s = &S.seg[i];
		bool same = s->present && s->was_present && s->shift == s->was_shift;

		for (g = s->gpa_pg; g < s->gpa_pg + s->npg; g++) {
			if (!same)
				S.kept[g] = 0;
			/* Memory that appears is the guest's; it writes it. */
			if (s->present && !s->was_present && !S.guest_in[g])
				guest_reuses(g);
		}
	}
	snapshot(S.e_now);
	for (i = 0; i < S.nseg; i++)
		for (g = S.seg[i].gpa_pg; g < S.seg[i].gpa_pg + S.seg[i].npg; g++)
			FZ_CHECK(!S.e_now[g] || S.e_prev[g], "set_mem put page %u in the balloon", g);
}

static void
run_op(struct fz *f)
{
	bool snapped = true;	/* every op but a mode change ends with a snapshot */
	uint32_t i, g;

	memcpy(S.e_prev, S.e_now, sizeof(S.e_now));
	S.nranges = 0;
	switch (fz_u8(f) % 7) {
	case 0:
	case 1:
		op_pages(f, true);
		break;
	case 2:
		op_pages(f, false);
		break;
	case 3:
		op_report(f);
		break;
	case 4:
		S.op = OP_OTHER;
		vhb_balloon_pages_reset(S.bp);
		for (i = 0; i < S.nseg; i++)
			for (g = S.seg[i].gpa_pg; g < S.seg[i].gpa_pg + S.seg[i].npg; g++)
				if (S.guest_in[g])
					guest_reuses(g);
		memset(S.guest_in, 0, sizeof(S.guest_in));
		memset(S.kept, 0, sizeof(S.kept));
		FZ_CHECK(snapshot(S.e_now) == 0, "reset left pages in the balloon");
		break;
	case 5:
		S.op = OP_OTHER;
		S.mode = (enum vhb_release_mode)(fz_u8(f) % 3);
		vhb_balloon_pages_set_release_mode(S.bp, S.mode);
		snapped = false;
		break;
	case 6:
		op_remap(f);
		break;
	}
	S.op = OP_OTHER;
	if (!snapped)
		snapshot(S.e_now);
	for (i = 0; i < S.nseg; i++) {
		for (g = S.seg[i].gpa_pg; g < S.seg[i].gpa_pg + S.seg[i].npg; g++) {
			FZ_CHECK(!S.e_now[g] || S.guest_in[g], "page %u in the balloon, never given", g);
			FZ_CHECK(!S.kept[g] || S.e_now[g], "page %u forgotten", g);
		}
	}
	check_memory();
}

static bool
gpa_free(uint32_t gpa_pg, uint32_t npg)
{
	uint32_t i;

	for (i = 0; i < S.nseg; i++)
		if (gpa_pg < S.seg[i].gpa_pg + S.seg[i].npg && S.seg[i].gpa_pg < gpa_pg + npg)
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f;
	uint32_t i, nseg, ops;
	uint8_t b;
	int rc;

	fz_quiet_logs();
	setup_once();
	/* Start from whole memory: re-write pages a previous input released. */
	for (i = 0; i < FILE_PAGES; i++)
		if (!has_pattern(i))
			write_pattern(i);

	fz_init(&f, data, size);
	memset(S.seg, 0, sizeof(S.seg));
	memset(S.guest_in, 0, sizeof(S.guest_in));
	memset(S.kept, 0, sizeof(S.kept));
	memset(S.e_now, 0, sizeof(S.e_now));
	S.nseg = 0;
	S.nranges = 0;
	S.op = OP_OTHER;
	b = fz_u8(&f);
	nseg = b % MAX_SEG + 1;
	S.mode = (enum vhb_release_mode)(((b >> 2) & 0xf) % 3);
	/* Top bit: the segments straddle gpa 16 TiB, the end of what a 32-bit PFN names. */
	S.base = (b & 0x80) ? (1ULL << 32) - GPA_PAGES / 2 : 0;
	for (i = 0; i < nseg; i++) {
		struct seg s;
		uint8_t sel;

		s.gpa_pg = fz_u16(&f) % GPA_SPAN;
		s.file_pg = fz_u16(&f) % FILE_PAGES;
		s.npg = fz_u16(&f) % (FILE_PAGES - s.file_pg) + 1;
		sel = fz_u8(&f);
		s.shift = shifts[sel % 5];
		s.fd = (sel & 0x80) ? -1 : memfd;
		s.present = i == 0 || (sel & 0x40) == 0;
		s.was_present = s.present;
		s.was_shift = s.shift;
		if (gpa_free(s.gpa_pg, s.npg))
			S.seg[S.nseg++] = s;
	}
	memset(S.file_used, 0, sizeof(S.file_used));
	for (i = 0; i < S.nseg; i++)
		memset(S.file_used + S.seg[i].file_pg, 1, S.seg[i].npg);
	rc = build_map();
	FZ_CHECK(rc == 0, "valid map refused (%d)", rc);
	S.bp = vhb_balloon_pages_create(&S.gm, -1);
	FZ_CHECK(S.bp != NULL, "create failed");
	vhb_balloon_pages_set_release_mode(S.bp, S.mode);
	vhb_balloon_pages_set_observer(S.bp, observer, NULL);
	snapshot(S.e_now);

	for (ops = 0; ops < MAX_OPS && !fz_done(&f); ops++)
		run_op(&f);

	vhb_balloon_pages_destroy(S.bp);
	S.bp = NULL;
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Balloon page tracking and release.
 *
 * Per region: one bit per 4 KiB guest page, and for backing pages larger than
 * 4 KiB one count per host page of its pieces in the balloon. Bits are laid out
 * from the start of the host page holding the region's first byte (`skew` pieces
 * before it), so a host page is a whole number of bitmap words when it has 64 or
 * more pieces, and the work per request is per word and per host page, not per
 * PFN. A host page is released when its count reaches pieces-per-page, by the call
 * that completed it; pages completed in one call are coalesced into ranges and all
 * of them are released before the call returns.
 *
 * The bitmap is the truth and errs towards forgetting: a forgotten page is never
 * released, a remembered wrong one would be guest memory corruption.
 *
 * What a call regained is measured on the backing files, not assumed: a release of
 * a range that is already a hole frees nothing. Each call is one measurement
 * window: st_blocks of a file is read right before the call's first release on it
 * and right after the call's last release; the fall, capped at the bytes the call
 * asked the kernel to release there, is what the host got back. One fstat per
 * file at each end of a call, not per range: a call releases up to thousands of
 * ranges, and a syscall costs about as much as punching an already-empty page.
 */

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <numa.h>

#include <rte_errno.h>

#include "vhb_balloon_pages.h"
#include "vhb_log.h"
#include "vhb_pfn_translate.h"
#include "vhb_release.h"

#define VHB_PFN_LIMIT	(1ULL << 32)

struct region_track {
	uint64_t *bits;		/* bit b: 4 KiB page first_pfn - skew + b */
	uint32_t *counts;	/* per host page: pieces in the balloon; NULL for 4 KiB pages */
	size_t bits_bytes;
	size_t counts_bytes;
	uint8_t bits_numa;	/* allocated by libnuma (else calloc) */
	uint8_t counts_numa;
	uint8_t madvise_only;	/* fd -1, or no hole punching on this file system */
	uint32_t piece_shift;	/* log2 of 4 KiB pieces per host page */
	uint32_t skew;		/* pieces of the first host page before the region starts */
	uint64_t first_pfn;
	uint64_t npfns;		/* pages a 32-bit PFN can reach (those below 16 TiB) */
	uint64_t nbits;		/* skew + npfns */
	uint64_t full_begin;	/* host pages wholly inside: [full_begin, full_end) */
	uint64_t full_end;
	uint64_t npages_in;	/* 4 KiB pages of this region in the balloon */
};

/* Files are slots in a 64-bit mask (one per region at most). */
static_assert(VHB_MAX_MEM_REGIONS <= 64, "file slots do not fit a 64-bit mask");

/* Which counters a measurement window adds to. */
enum release_kind {
	KIND_INFLATE = 0,
	KIND_REPORT,
};

/* One call's measurement: files touched so far and their blocks before the first release. */
struct measure_window {
	uint64_t touched;			/* slot bits */
	uint64_t asked;				/* bytes released on touched files */
	uint64_t before[VHB_MAX_MEM_REGIONS];	/* st_blocks, 512-byte units */
};

/* Complete host pages [first, first + count) of one region, waiting to be released. */
struct pending_range {
	uint64_t first;
	uint64_t count;
	uint32_t region;
};

struct vhb_balloon_pages {
	struct vhb_guest_mem gm;
	struct region_track track[VHB_MAX_MEM_REGIONS];
	int numa_node;
	uint8_t self_numa;
	enum vhb_release_mode mode;
	uint8_t measure;		/* measure what each call regained (default) */
	/* Region i's file is slot file_of[i]: the first region on the same file; -1 none. */
	int8_t file_of[VHB_MAX_MEM_REGIONS];
	uint64_t file_bytes[VHB_MAX_MEM_REGIONS];	/* per slot: allocated bytes; atomic */
	struct measure_window win;
	struct vhb_balloon_pages_stats st;
	struct vhb_log_ratelimit rl;
	vhb_release_observer_t observer;
	void *observer_arg;
};

/*
 * The working space of one call (translation, coalescing, ranges to release), empty
 * between calls: one per thread, not per device, so that a device that once ballooned
 * does not keep ~200 KiB of it resident while idle (docs/perf.md "Density"). Calls do
 * not nest.
 */
struct bp_work {
	uint32_t npending;
	struct pending_range pending[VHB_MAX_BATCH_PFNS];
	struct vhb_pfn_run runs[VHB_MAX_BATCH_PFNS];
	uint64_t scratch[VHB_MAX_BATCH_PFNS];
};

static _Thread_local struct bp_work tl_work;

static void *
track_alloc(size_t size, int node, uint8_t *numa)
{
	void *p;

	*numa = 0;
	if (size == 0)
		return NULL;
	if (node >= 0 && numa_available() >= 0 && node <= numa_max_node()) {
		p = numa_alloc_onnode(size, node);	/* fresh pages: zeroed */
		if (p != NULL) {
			*numa = 1;
			return p;
		}
	}
	return calloc(1, size);
}

static void
track_free(void *p, size_t size, uint8_t numa)
{
	if (p == NULL)
		return;
	if (numa)
		numa_free(p, size);
	else
		free(p);
}

static void
region_track_free(struct region_track *t)
{
	track_free(t->bits, t->bits_bytes, t->bits_numa);
	track_free(t->counts, t->counts_bytes, t->counts_numa);
	memset(t, 0, sizeof(*t));
}

static int
region_track_alloc(struct region_track *t, const struct vhb_mem_region *r, int node)
{
	uint64_t nbits;

	memset(t, 0, sizeof(*t));
	t->piece_shift = r->page_shift - VHB_PFN_SHIFT;
	t->skew = (uint32_t)((r->fd_offset >> VHB_PFN_SHIFT) & ((1ULL << t->piece_shift) - 1));
	t->first_pfn = r->gpa >> VHB_PFN_SHIFT;
	t->npfns = r->size >> VHB_PFN_SHIFT;
	/* Guest PFNs are 32-bit: never allocate tracking for memory no PFN can name. */
	if (t->first_pfn >= VHB_PFN_LIMIT)
		t->npfns = 0;
	else if (t->npfns > VHB_PFN_LIMIT - t->first_pfn)
		t->npfns = VHB_PFN_LIMIT - t->first_pfn;
	nbits = t->skew + t->npfns;
	t->nbits = nbits;
	t->full_begin = t->skew == 0 ? 0 : 1;
	t->full_end = nbits >> t->piece_shift;
	t->madvise_only = r->fd < 0;
	t->bits_bytes = ((nbits + 64) / 64) * sizeof(uint64_t);	/* never 0 bytes */
	t->bits = track_alloc(t->bits_bytes, node, &t->bits_numa);
	if (t->bits == NULL)
		goto fail;
	if (t->piece_shift != 0) {
		uint64_t nhost = ((nbits + (1ULL << t->piece_shift) - 1) >> t->piece_shift) + 1;

		t->counts_bytes = nhost * sizeof(uint32_t);
		t->counts = track_alloc(t->counts_bytes, node, &t->counts_numa);
		if (t->counts == NULL)
			goto fail;
	}
	return 0;
fail:
	region_track_free(t);
	return -ENOMEM;
}

/* Allocated blocks (512-byte units) of fd, or -1. */
static int64_t
file_blocks(int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -1;
	return (int64_t)st.st_blocks;
}

/*
 * Regions on the same file (QEMU splits one RAM file around the PCI hole; aliases)
 * share the slot of the first of them, so the file is measured and counted once.
 * Control side, while the map changes.
 */
static void
file_slots_build(struct vhb_balloon_pages *bp)
{
	struct stat st[VHB_MAX_MEM_REGIONS];
	uint32_t i, j;

	for (i = 0; i < bp->gm.nregions; i++) {
		const struct vhb_mem_region *r = &bp->gm.regions[i];

		bp->file_of[i] = -1;
		if (r->fd < 0 || fstat(r->fd, &st[i]) != 0)
			continue;
		bp->file_of[i] = (int8_t)i;
		for (j = 0; j < i; j++) {
			if (bp->file_of[j] == (int8_t)j && st[j].st_dev == st[i].st_dev &&
			    st[j].st_ino == st[i].st_ino) {
				bp->file_of[i] = (int8_t)j;
				break;
			}
		}
	}
	for (; i < VHB_MAX_MEM_REGIONS; i++)
		bp->file_of[i] = -1;
	vhb_balloon_pages_refresh_host_resident(bp);
}

static int
same_layout(const struct vhb_mem_region *a, const struct vhb_mem_region *b)
{
	/* Same pages and the same host page boundaries: the bits and counts still hold. */
	return a->gpa == b->gpa && a->size == b->size && a->page_shift == b->page_shift &&
		((a->fd_offset ^ b->fd_offset) & ((1ULL << a->page_shift) - 1)) == 0;
}

int
vhb_balloon_pages_set_mem(struct vhb_balloon_pages *bp, const struct vhb_guest_mem *gm)
{
	struct region_track track[VHB_MAX_MEM_REGIONS];
	uint8_t kept[VHB_MAX_MEM_REGIONS] = { 0 };
	uint32_t i, j;
	int ret = 0;

	if (bp == NULL || gm == NULL || gm->nregions > VHB_MAX_MEM_REGIONS)
		return -EINVAL;
	memset(track, 0, sizeof(track));
	for (i = 0; i < gm->nregions; i++) {
		const struct vhb_mem_region *r = &gm->regions[i];

		for (j = 0; j < bp->gm.nregions; j++) {
			if (!kept[j] && bp->track[j].bits != NULL &&
			    same_layout(r, &bp->gm.regions[j])) {
				track[i] = bp->track[j];
				track[i].madvise_only = r->fd < 0;
				kept[j] = 1;
				break;
			}
		}
		if (j == bp->gm.nregions) {
			ret = region_track_alloc(&track[i], r, bp->numa_node);
			if (ret != 0)
				break;
		}
	}
	if (ret != 0) {
		/* Out of memory: forget everything (always safe) and keep an empty map. */
		for (j = 0; j < i; j++)
			if (track[j].bits != NULL)
				region_track_free(&track[j]);
		for (j = 0; j < bp->gm.nregions; j++)
			if (!kept[j])
				region_track_free(&bp->track[j]);
		bp->gm.nregions = 0;
		memset(bp->track, 0, sizeof(bp->track));
		bp->st.pages_in_balloon = 0;
		file_slots_build(bp);
		VHB_LOG(ERR, mem, "no memory for page tracking: balloon forgotten");
		return ret;
	}
	for (j = 0; j < bp->gm.nregions; j++)
		if (!kept[j])
			region_track_free(&bp->track[j]);
	bp->gm = *gm;
	memcpy(bp->track, track, sizeof(track));
	bp->st.pages_in_balloon = 0;
	for (i = 0; i < gm->nregions; i++)
		bp->st.pages_in_balloon += bp->track[i].npages_in;
	file_slots_build(bp);
	return 0;
}

struct vhb_balloon_pages *
vhb_balloon_pages_create(const struct vhb_guest_mem *gm, int numa_node)
{
	struct vhb_balloon_pages *bp;
	uint8_t numa;
	int ret;

	if (gm == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	bp = track_alloc(sizeof(*bp), numa_node, &numa);
	if (bp == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	bp->self_numa = numa;
	bp->numa_node = numa_node;
	bp->mode = VHB_RELEASE_BULK;
	bp->measure = 1;
	ret = vhb_balloon_pages_set_mem(bp, gm);
	if (ret != 0) {
		track_free(bp, sizeof(*bp), bp->self_numa);
		rte_errno = -ret;
		return NULL;
	}
	return bp;
}

void
vhb_balloon_pages_destroy(struct vhb_balloon_pages *bp)
{
	uint32_t i;

	if (bp == NULL)
		return;
	for (i = 0; i < bp->gm.nregions; i++)
		region_track_free(&bp->track[i]);
	track_free(bp, sizeof(*bp), bp->self_numa);
}

void
vhb_balloon_pages_reset(struct vhb_balloon_pages *bp)
{
	uint32_t i;

	for (i = 0; i < bp->gm.nregions; i++) {
		struct region_track *t = &bp->track[i];

		memset(t->bits, 0, t->bits_bytes);
		if (t->counts != NULL)
			memset(t->counts, 0, t->counts_bytes);
		t->npages_in = 0;
	}
	bp->st.pages_in_balloon = 0;
}

void
vhb_balloon_pages_set_release_mode(struct vhb_balloon_pages *bp, enum vhb_release_mode mode)
{
	bp->mode = mode;
}

void
vhb_balloon_pages_set_measure(struct vhb_balloon_pages *bp, int on)
{
	bp->measure = on != 0;
}

uint64_t
vhb_balloon_pages_host_resident(const struct vhb_balloon_pages *bp)
{
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < bp->gm.nregions; i++)
		if (bp->file_of[i] == (int8_t)i)
			sum += __atomic_load_n(&bp->file_bytes[i], __ATOMIC_RELAXED);
	return sum;
}

void
vhb_balloon_pages_refresh_host_resident(struct vhb_balloon_pages *bp)
{
	uint32_t i;
	int64_t b;

	for (i = 0; i < bp->gm.nregions; i++) {
		if (bp->file_of[i] != (int8_t)i)
			continue;
		b = file_blocks(bp->gm.regions[i].fd);
		if (b >= 0)
			__atomic_store_n(&bp->file_bytes[i], (uint64_t)b * 512, __ATOMIC_RELAXED);
	}
}

void
vhb_balloon_pages_set_observer(struct vhb_balloon_pages *bp, vhb_release_observer_t fn, void *arg)
{
	bp->observer = fn;
	bp->observer_arg = arg;
}

/* Bits [s, e) of one word at index w. */
static inline uint64_t
word_mask(uint64_t w, uint64_t s, uint64_t e)
{
	uint64_t lo = s > w * 64 ? s - w * 64 : 0;
	uint64_t hi = e < w * 64 + 64 ? e - w * 64 : 64;
	uint64_t m = hi == 64 ? ~0ULL : (1ULL << hi) - 1;

	return m & ~((1ULL << lo) - 1);
}

/* Set bits [s, e); returns how many were clear. */
static inline uint64_t
bits_set(uint64_t *bits, uint64_t s, uint64_t e)
{
	uint64_t w, n = 0;

	if (s / 64 == (e - 1) / 64) {	/* short run: one word */
		uint64_t len = e - s;
		uint64_t m = (len == 64 ? ~0ULL : (1ULL << len) - 1) << (s % 64);

		w = s / 64;
		n = (uint64_t)__builtin_popcountll(m & ~bits[w]);
		bits[w] |= m;
		return n;
	}
	for (w = s / 64; w * 64 < e; w++) {
		uint64_t m = word_mask(w, s, e);

		n += (uint64_t)__builtin_popcountll(m & ~bits[w]);
		bits[w] |= m;
	}
	return n;
}

/* Clear bits [s, e); returns how many were set. */
static inline uint64_t
bits_clear(uint64_t *bits, uint64_t s, uint64_t e)
{
	uint64_t w, n = 0;

	for (w = s / 64; w * 64 < e; w++) {
		uint64_t m = word_mask(w, s, e);

		n += (uint64_t)__builtin_popcountll(m & bits[w]);
		bits[w] &= ~m;
	}
	return n;
}

static inline void
pending_add(uint32_t region, uint64_t first, uint64_t count)
{
	struct pending_range *p;

	/* Same region and adjacent host pages: adjacent in gpa and in the file. */
	if (tl_work.npending > 0) {
		p = &tl_work.pending[tl_work.npending - 1];
		if (p->region == region && p->first + p->count == first) {
			p->count += count;
			return;
		}
	}
	p = &tl_work.pending[tl_work.npending++];
	p->first = first;
	p->count = count;
	p->region = region;
}

static void
release_one(struct vhb_balloon_pages *bp, uint32_t ri, uint64_t first, uint64_t count)
{
	const struct vhb_mem_region *r = &bp->gm.regions[ri];
	struct region_track *t = &bp->track[ri];
	uint64_t page = 1ULL << r->page_shift;
	uint64_t lead = (uint64_t)t->skew << VHB_PFN_SHIFT;
	/* Host page h starts `lead` bytes before the region, plus h pages. */
	uint64_t delta = first * page - lead;
	uint64_t file_off = r->fd_offset + delta;
	uint64_t len = count * page;
	int slot = bp->file_of[ri];
	int ret;

	/* First release on this file in this call: its blocks before. */
	if (bp->measure && slot >= 0 && (bp->win.touched & (1ULL << slot)) == 0) {
		int64_t b = file_blocks(r->fd);

		bp->st.measure_calls++;
		if (b >= 0) {
			bp->win.before[slot] = (uint64_t)b;
			bp->win.touched |= 1ULL << slot;
		}
	}
	ret = vhb_release(r->fd, file_off, r->hva + delta, len, &t->madvise_only,
			  &bp->st.release_calls);
	if (ret != 0) {
		bp->st.release_errors++;
		VHB_LOG_RATELIMIT(ERR, mem, &bp->rl, "release of gpa 0x%" PRIx64 " len 0x%" PRIx64
				  " (fd %d offset 0x%" PRIx64 ") failed: %s", r->gpa + delta, len,
				  r->fd, file_off, strerror(-ret));
		return;
	}
	bp->st.host_pages_released += count;
	bp->st.bytes_release_asked += len;
	if (slot >= 0 && (bp->win.touched & (1ULL << slot)) != 0)
		bp->win.asked += len;
	if (bp->observer != NULL)
		bp->observer(bp->observer_arg, ri, r->gpa + delta, file_off, len);
}

static void
window_open(struct vhb_balloon_pages *bp)
{
	bp->win.touched = 0;
	bp->win.asked = 0;
}

/* The call's last release is done: what the touched files fell by is what it regained. */
static void
window_close(struct vhb_balloon_pages *bp, enum release_kind kind)
{
	uint64_t touched = bp->win.touched, regained = 0;

	while (touched != 0) {
		int slot = __builtin_ctzll(touched);
		int64_t after = file_blocks(bp->gm.regions[slot].fd);

		touched &= touched - 1;
		bp->st.measure_calls++;
		if (after < 0)
			continue;
		if (bp->win.before[slot] > (uint64_t)after)
			regained += (bp->win.before[slot] - (uint64_t)after) * 512;
		__atomic_store_n(&bp->file_bytes[slot], (uint64_t)after * 512, __ATOMIC_RELAXED);
	}
	/* Another process freeing in the same file meanwhile must not count as ours. */
	if (regained > bp->win.asked)
		regained = bp->win.asked;
	bp->win.touched = 0;
	bp->win.asked = 0;
	bp->st.bytes_regained += regained;
	if (kind == KIND_INFLATE)
		bp->st.inflate_bytes_regained += regained;
	else
		bp->st.report_bytes_regained += regained;
}

static uint64_t
release_pending(struct vhb_balloon_pages *bp)
{
	uint64_t before = bp->st.bytes_release_asked;
	uint32_t i;
	uint64_t k;

	for (i = 0; i < tl_work.npending; i++) {
		const struct pending_range *p = &tl_work.pending[i];

		if (bp->mode == VHB_RELEASE_BULK)
			release_one(bp, p->region, p->first, p->count);
		else if (bp->mode == VHB_RELEASE_PER_PAGE)
			for (k = 0; k < p->count; k++)
				release_one(bp, p->region, p->first + k, 1);
	}
	tl_work.npending = 0;
	return bp->st.bytes_release_asked - before;
}

/* 4 KiB host pages: every newly set bit completes its page. */
static uint64_t
inflate_run_4k(struct vhb_balloon_pages *bp, uint32_t ri, uint64_t s, uint64_t e, int release)
{
	uint64_t *bits = bp->track[ri].bits;
	uint64_t w, added = 0;

	for (w = s / 64; w * 64 < e; w++) {
		uint64_t m = word_mask(w, s, e);
		uint64_t fresh = m & ~bits[w];

		bits[w] |= m;
		added += (uint64_t)__builtin_popcountll(fresh);
		while (release && fresh != 0) {
			uint32_t lo = (uint32_t)__builtin_ctzll(fresh);
			uint64_t x = fresh >> lo;
			uint32_t len = x == ~0ULL ? 64 : (uint32_t)__builtin_ctzll(~x);

			pending_add(ri, w * 64 + lo, len);
			fresh = lo + len >= 64 ? 0 : fresh & ~(((1ULL << len) - 1) << lo);
		}
	}
	return added;
}

/* Larger host pages: count the new pieces per host page; release the completed ones. */
static uint64_t
inflate_run_huge(struct vhb_balloon_pages *bp, uint32_t ri, uint64_t s, uint64_t e, int release)
{
	struct region_track *t = &bp->track[ri];
	uint32_t ps = t->piece_shift;
	uint64_t h = s >> ps, added = 0;

	if (((e - 1) >> ps) == h) {	/* the usual case: the run is inside one host page */
		added = bits_set(t->bits, s, e);
		if (added == 0)
			return 0;
		t->counts[h] += (uint32_t)added;
		if (t->counts[h] == (1U << ps) && release && h >= t->full_begin && h < t->full_end)
			pending_add(ri, h, 1);
		return added;
	}
	for (; (h << ps) < e; h++) {
		uint64_t hs = h << ps, he = hs + (1ULL << ps);
		uint64_t n = bits_set(t->bits, hs > s ? hs : s, he < e ? he : e);

		if (n == 0)
			continue;
		added += n;
		t->counts[h] += (uint32_t)n;
		if (t->counts[h] == (1U << ps) && release && h >= t->full_begin && h < t->full_end)
			pending_add(ri, h, 1);
	}
	return added;
}

static uint64_t
deflate_run(struct vhb_balloon_pages *bp, uint32_t ri, uint64_t s, uint64_t e)
{
	struct region_track *t = &bp->track[ri];
	uint32_t ps = t->piece_shift;
	uint64_t h, removed = 0;

	if (ps == 0)
		return bits_clear(t->bits, s, e);
	for (h = s >> ps; (h << ps) < e; h++) {
		uint64_t hs = h << ps, he = hs + (1ULL << ps);
		uint64_t n = bits_clear(t->bits, hs > s ? hs : s, he < e ? he : e);

		t->counts[h] -= (uint32_t)n;
		removed += n;
	}
	return removed;
}

static uint32_t
track_batch(struct vhb_balloon_pages *bp, const uint32_t *pfns, uint32_t n, int inflate)
{
	struct vhb_pfn_translate_stats ts;
	uint32_t nruns, i;
	uint64_t done = 0;

	nruns = vhb_pfn_translate(&bp->gm, pfns, n, tl_work.scratch, tl_work.runs, &ts);
	bp->st.pfns_out_of_range += ts.nout_of_range;
	if (ts.nout_of_range != 0)
		VHB_LOG_RATELIMIT(WARNING, mem, &bp->rl, "%u PFNs outside guest memory dropped",
				  ts.nout_of_range);
	for (i = 0; i < nruns; i++) {
		const struct vhb_pfn_run *run = &tl_work.runs[i];
		struct region_track *t = &bp->track[run->region];
		uint64_t s = run->pfn - t->first_pfn + t->skew;
		uint64_t e = s + run->npfns;
		uint64_t k;

		if (inflate) {
			int release = bp->mode != VHB_RELEASE_NONE &&
				!bp->gm.regions[run->region].no_release;

			k = t->piece_shift == 0 ? inflate_run_4k(bp, run->region, s, e, release) :
				inflate_run_huge(bp, run->region, s, e, release);
			t->npages_in += k;
		} else {
			k = deflate_run(bp, run->region, s, e);
			t->npages_in -= k;
		}
		done += k;
	}
	bp->st.pfns_duplicate += ts.nduplicate + (ts.nunique - done);
	if (inflate) {
		bp->st.pfns_inflated += done;
		bp->st.pages_in_balloon += done;
		bp->st.inflate_bytes_release_asked += release_pending(bp);
	} else {
		bp->st.pfns_deflated += done;
		bp->st.pages_in_balloon -= done;
	}
	return (uint32_t)done;
}

/* Calls of any size go through track_batch() in chunks its scratch space holds. */
static uint32_t
track_chunked(struct vhb_balloon_pages *bp, const uint32_t *pfns, uint32_t n, int inflate)
{
	uint32_t done = 0, off, chunk;

	window_open(bp);
	for (off = 0; off < n; off += chunk) {
		chunk = n - off < VHB_MAX_BATCH_PFNS ? n - off : VHB_MAX_BATCH_PFNS;
		done += track_batch(bp, pfns + off, chunk, inflate);
	}
	window_close(bp, KIND_INFLATE);
	return done;
}

uint32_t
vhb_balloon_pages_inflate(struct vhb_balloon_pages *bp, const uint32_t *pfns, uint32_t n)
{
	return track_chunked(bp, pfns, n, 1);
}

uint32_t
vhb_balloon_pages_deflate(struct vhb_balloon_pages *bp, const uint32_t *pfns, uint32_t n)
{
	return track_chunked(bp, pfns, n, 0);
}

/* The whole host pages of [gpa, end) inside region ri, released; returns bytes released. */
static uint64_t
report_in_region(struct vhb_balloon_pages *bp, uint32_t ri, uint64_t gpa, uint64_t end)
{
	const struct vhb_mem_region *r = &bp->gm.regions[ri];
	struct region_track *t = &bp->track[ri];
	uint64_t page = 1ULL << r->page_shift;
	uint64_t lo = r->fd_offset + (gpa - r->gpa);
	uint64_t hi = r->fd_offset + (end - r->gpa);
	/* Host page index as in the bitmap: counted from the page holding the region start. */
	uint64_t base = r->fd_offset - ((uint64_t)t->skew << VHB_PFN_SHIFT);
	uint64_t first = (lo - base + page - 1) >> r->page_shift;
	uint64_t last = (hi - base) >> r->page_shift;	/* exclusive */

	if (r->no_release || bp->mode == VHB_RELEASE_NONE || first >= last)
		return 0;
	tl_work.npending = 0;
	pending_add(ri, first, last - first);
	return release_pending(bp);
}

uint64_t
vhb_balloon_pages_report(struct vhb_balloon_pages *bp, const struct vhb_gpa_range *ranges,
			 uint32_t n)
{
	uint64_t total = 0;
	uint32_t i, ri;

	window_open(bp);
	for (i = 0; i < n; i++) {
		uint64_t gpa = ranges[i].gpa, len = ranges[i].len, end = gpa + len, inside = 0;
		uint64_t released = 0;

		bp->st.report_ranges++;
		if (len == 0 || end < gpa) {
			bp->st.report_ranges_invalid++;
			VHB_LOG_RATELIMIT(WARNING, mem, &bp->rl, "reported range gpa 0x%" PRIx64
					  " len 0x%" PRIx64 " is empty or wraps: skipped", gpa,
					  len);
			continue;
		}
		/* Split at region boundaries; parts outside every region are skipped. */
		for (ri = 0; ri < bp->gm.nregions; ri++) {
			const struct vhb_mem_region *r = &bp->gm.regions[ri];
			uint64_t s = gpa > r->gpa ? gpa : r->gpa;
			uint64_t e = end < r->gpa + r->size ? end : r->gpa + r->size;

			if (s >= e)
				continue;
			inside += e - s;
			released += report_in_region(bp, ri, s, e);
		}
		if (inside != len)
			VHB_LOG_RATELIMIT(WARNING, mem, &bp->rl, "reported range gpa 0x%" PRIx64
					  " len 0x%" PRIx64 " is partly outside guest memory", gpa,
					  len);
		bp->st.report_bytes_release_asked += released;
		bp->st.report_bytes_skipped += len - released;
		total += released;
	}
	window_close(bp, KIND_REPORT);
	return total;
}

int
vhb_balloon_pages_contains(const struct vhb_balloon_pages *bp, uint64_t pfn)
{
	const struct region_track *t;
	uint64_t b;
	int ri;

	if (pfn >= VHB_PFN_LIMIT)
		return 0;
	ri = vhb_guest_mem_region_of(&bp->gm, pfn << VHB_PFN_SHIFT);
	if (ri < 0)
		return 0;
	t = &bp->track[ri];
	b = pfn - t->first_pfn + t->skew;
	if (b >= t->nbits)
		return 0;
	return (t->bits[b / 64] >> (b % 64)) & 1;
}

void
vhb_balloon_pages_get_stats(const struct vhb_balloon_pages *bp,
			    struct vhb_balloon_pages_stats *st)
{
	*st = bp->st;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The set of guest pages in one device's balloon, and the only way to release
 * guest memory. Each call below returns after every release it caused has
 * completed, so the caller may acknowledge the guest's request as soon as the call
 * returns, and never before: no release is ever deferred past the call.
 *
 * A host page (4 KiB, 2 MiB or 1 GiB) is released once every 4 KiB piece of it is
 * in the balloon, whatever order and however many requests the pieces came in.
 * Adjacent complete host pages are released as one range.
 *
 * Not thread-safe: one owner (the device's poll lcore) calls everything.
 */
#ifndef VHB_BALLOON_PAGES_H
#define VHB_BALLOON_PAGES_H

#include <stdint.h>

#include "vhb_guest_mem.h"

struct vhb_balloon_pages;

enum vhb_release_mode {
	VHB_RELEASE_BULK = 0,	/* coalesce complete host pages into ranges (default) */
	VHB_RELEASE_PER_PAGE,	/* one syscall per complete host page: the QEMU-like baseline */
	VHB_RELEASE_NONE,	/* track only, release nothing: measures bookkeeping alone */
};

struct vhb_gpa_range {
	uint64_t gpa;
	uint64_t len;
};

struct vhb_balloon_pages_stats {
	uint64_t pfns_inflated;		/* accepted into the balloon */
	uint64_t pfns_deflated;		/* taken out of the balloon */
	uint64_t pfns_duplicate;	/* inflate of a page already in, deflate of one not in */
	uint64_t pfns_out_of_range;	/* outside every region: dropped, never touched */
	uint64_t pages_in_balloon;	/* 4 KiB pages in the balloon now */
	uint64_t host_pages_released;	/* host pages released (cumulative) */
	uint64_t bytes_released;	/* cumulative, inflate and reporting */
	uint64_t release_calls;		/* fallocate/madvise syscalls */
	uint64_t release_errors;	/* failed syscalls (logged once, counted) */
	uint64_t report_ranges;		/* reported ranges seen */
	uint64_t report_bytes_released;
	uint64_t report_bytes_skipped;	/* parts not covering a whole host page, or invalid */
	uint64_t report_ranges_invalid;	/* len 0 or wrapping: rejected whole */
};

/* Returns NULL and sets rte_errno on failure. Tracking state goes on numa_node (-1: any). */
struct vhb_balloon_pages *vhb_balloon_pages_create(const struct vhb_guest_mem *gm, int numa_node);
void vhb_balloon_pages_destroy(struct vhb_balloon_pages *bp);

/* New memory map (after SET_MEM_TABLE): tracking is kept for unchanged gpa ranges. */
int vhb_balloon_pages_set_mem(struct vhb_balloon_pages *bp, const struct vhb_guest_mem *gm);

/* Forget every page (the driver stopped or reset: the guest owns all its pages again). */
void vhb_balloon_pages_reset(struct vhb_balloon_pages *bp);

void vhb_balloon_pages_set_release_mode(struct vhb_balloon_pages *bp, enum vhb_release_mode mode);

/*
 * Add 4 KiB guest PFNs (host byte order; any order, duplicates and hostile values
 * allowed) and release every host page this completes. Returns the number accepted.
 */
uint32_t vhb_balloon_pages_inflate(struct vhb_balloon_pages *bp, const uint32_t *pfns, uint32_t n);

/* Take PFNs out of the balloon. Releases nothing. Returns the number removed. */
uint32_t vhb_balloon_pages_deflate(struct vhb_balloon_pages *bp, const uint32_t *pfns, uint32_t n);

/*
 * Free page reporting: release every whole host page inside the given ranges.
 * Parts that do not cover a whole host page are skipped and counted. Returns
 * bytes released.
 */
uint64_t vhb_balloon_pages_report(struct vhb_balloon_pages *bp, const struct vhb_gpa_range *ranges,
				  uint32_t n);

/* Is this 4 KiB guest page in the balloon? (tests, the CLI) */
int vhb_balloon_pages_contains(const struct vhb_balloon_pages *bp, uint64_t pfn);

void vhb_balloon_pages_get_stats(const struct vhb_balloon_pages *bp,
				 struct vhb_balloon_pages_stats *st);

/*
 * Called after each successful release syscall with what it released: the
 * region index, the guest range and the file offset. For tests (which check every
 * release against their own model) and the benchmark (which replays the ranges).
 */
typedef void (*vhb_release_observer_t)(void *arg, uint32_t region, uint64_t gpa,
				       uint64_t file_off, uint64_t len);

void vhb_balloon_pages_set_observer(struct vhb_balloon_pages *bp, vhb_release_observer_t fn,
				    void *arg);

#endif /* VHB_BALLOON_PAGES_H */

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
 * What the host really got back is measured per call: the allocated blocks
 * (st_blocks) of each backing file touched are read just before the call's first
 * release on that file and again after its last one
 * (device.md#what-the-memory-figures-mean).
 *
 * Not thread-safe: one owner (the device's poll lcore) calls everything, except
 * the host_resident functions at the end, which a control thread may call.
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
	uint64_t host_pages_released;	/* host pages in successful release calls (cumulative) */
	uint64_t bytes_release_asked;	/* bytes in successful release calls, inflate + reporting */
	uint64_t bytes_regained;	/* of those, bytes the files' allocation really fell by */
	uint64_t release_calls;		/* fallocate/madvise syscalls */
	uint64_t release_errors;	/* failed syscalls (logged once, counted) */
	uint64_t inflate_bytes_release_asked;
	uint64_t inflate_bytes_regained;
	uint64_t report_ranges;		/* reported ranges seen */
	uint64_t report_bytes_release_asked;
	uint64_t report_bytes_regained;
	uint64_t report_bytes_skipped;	/* parts not covering a whole host page, or invalid */
	uint64_t report_ranges_invalid;	/* len 0 or wrapping: rejected whole */
	uint64_t measure_calls;		/* fstat syscalls made to measure what was regained */
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
 * Measure what each call regained (on by default). Off only for benchmarks that
 * compare the release path with and without the measurement: *_regained then stay.
 */
void vhb_balloon_pages_set_measure(struct vhb_balloon_pages *bp, int on);

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

/*
 * Guest RAM allocated on the host: the allocated bytes (st_blocks * 512) of every
 * distinct backing file of the map, each file counted once however many regions
 * it backs. Regions without a file (fd -1) are not counted. Refreshed for a file
 * after every call that released on it, and for all by
 * vhb_balloon_pages_refresh_host_resident().
 *
 * Both may run on a control thread while the owner releases (the per-file values
 * are atomic), as long as the map does not change meanwhile (set_mem, destroy):
 * the device holds its lock and calls them only while its memory table is valid.
 */
uint64_t vhb_balloon_pages_host_resident(const struct vhb_balloon_pages *bp);
void vhb_balloon_pages_refresh_host_resident(struct vhb_balloon_pages *bp);

#endif /* VHB_BALLOON_PAGES_H */

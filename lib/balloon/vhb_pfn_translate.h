/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where a guest PFN is translated: a batch of 4 KiB guest PFNs (any order,
 * duplicates, hostile values) becomes sorted, de-duplicated runs of consecutive
 * PFNs, each wholly inside one memory region. PFNs outside every region are
 * counted and dropped here, so nothing after this step sees them.
 */
#ifndef VHB_PFN_TRANSLATE_H
#define VHB_PFN_TRANSLATE_H

#include <stdint.h>

#include "vhb_guest_mem.h"

/* PFNs [pfn, pfn + npfns) of region `region`, ascending. */
struct vhb_pfn_run {
	uint64_t pfn;
	uint32_t npfns;
	uint32_t region;	/* index in vhb_guest_mem.regions */
};

struct vhb_pfn_translate_stats {
	uint32_t nunique;	/* distinct PFNs inside guest memory (sum of npfns) */
	uint32_t nduplicate;	/* repeats of a PFN already in this batch */
	uint32_t nout_of_range;	/* distinct PFNs outside every region */
	uint32_t sorted;	/* 1 if the input was ascending or descending: no sort needed */
};

/*
 * Translate pfns[0..n) into runs (at most n of them; `runs` holds n entries).
 * `scratch` holds n uint64_t for the sort; pfns is not modified.
 * Returns the number of runs.
 */
uint32_t vhb_pfn_translate(const struct vhb_guest_mem *gm, const uint32_t *pfns, uint32_t n,
			   uint64_t *scratch, struct vhb_pfn_run *runs,
			   struct vhb_pfn_translate_stats *st);

#endif /* VHB_PFN_TRANSLATE_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/* Placement choice and the node of guest memory. */

#include <stddef.h>
#include <stdint.h>

#include <numa.h>
#include <numaif.h>

#include "vhb_numa.h"

static int
pick_least(const struct vhb_lcore_slot *slots, unsigned int n, int node, int any_node)
{
	int best = -1;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (!any_node && slots[i].node != node)
			continue;
		if (best < 0 || slots[i].ndevices < slots[best].ndevices)
			best = (int)i;
	}
	return best;
}

int
vhb_numa_pick(const struct vhb_lcore_slot *slots, unsigned int n, int node)
{
	int i;

	if (n == 0)
		return -1;
	if (node >= 0) {
		i = pick_least(slots, n, node, 0);
		if (i >= 0)
			return i;
	}
	return pick_least(slots, n, -1, 1);
}

int
vhb_numa_node_of(const void *addr)
{
	int node = -1;

	if (addr == NULL || numa_available() < 0)
		return -1;
	/* The page must be populated for a node to exist; the caller touches it first. */
	if (get_mempolicy(&node, NULL, 0, (void *)(uintptr_t)addr, MPOL_F_NODE | MPOL_F_ADDR) != 0)
		return -1;
	return node;
}

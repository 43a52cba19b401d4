/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Placement of devices on poll lcores: a device goes to the lcore on the NUMA node
 * holding its guest memory, the least loaded one there; with no lcore on that node
 * (or the node unknown) the least loaded lcore overall.
 */
#ifndef VHB_NUMA_H
#define VHB_NUMA_H

#include <stdint.h>

struct vhb_lcore_slot {
	unsigned int lcore_id;
	int node;		/* NUMA node of the lcore, -1 unknown */
	unsigned int ndevices;	/* devices already placed there */
};

/*
 * Index in slots[0..n) for a device whose memory is on node (-1: unknown), or -1
 * if n == 0. Ties go to the lowest index. Pure: no EAL, no syscalls.
 */
int vhb_numa_pick(const struct vhb_lcore_slot *slots, unsigned int n, int node);

/* NUMA node of the page at addr (get_mempolicy MPOL_F_NODE|MPOL_F_ADDR), -1 unknown. */
int vhb_numa_node_of(const void *addr);

#endif /* VHB_NUMA_H */

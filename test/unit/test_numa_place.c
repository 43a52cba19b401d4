/* SPDX-License-Identifier: BSD-3-Clause */
/* Device placement on poll lcores over fake topologies. */

#include <stdint.h>
#include <stdio.h>

#include "vhb_numa.h"
#include "vhb_test_check.h"

/* Place ndev devices whose memory is on node[] and count them per slot. */
static void
place_all(struct vhb_lcore_slot *s, unsigned int n, const int *node, unsigned int ndev, int *out)
{
	unsigned int i;

	for (i = 0; i < ndev; i++) {
		out[i] = vhb_numa_pick(s, n, node[i]);
		CHECK(out[i] >= 0, "placed");
		s[out[i]].ndevices++;
	}
}

int
main(void)
{
	/* Two nodes: lcores 2,3 on node 0; 10,11 on node 1. */
	struct vhb_lcore_slot two[4] = {
		{ 2, 0, 0 }, { 3, 0, 0 }, { 10, 1, 0 }, { 11, 1, 0 },
	};
	struct vhb_lcore_slot one[2] = { { 1, 0, 0 }, { 5, 0, 0 } };
	struct vhb_lcore_slot far[2] = { { 1, 1, 3 }, { 5, 1, 1 } };
	int nodes[8] = { 1, 1, 1, 0, 1, 0, -1, 3 };
	int out[8];

	printf("placement over fake topologies (pure function)\n");
	CHECK(vhb_numa_pick(two, 0, 0) == -1, "no lcores");
	place_all(two, 4, nodes, 6, out);
	CHECK(out[0] == 2 && out[1] == 3 && out[2] == 2, "node-1 devices on node-1 lcores, "
	      "balanced: %d %d %d", out[0], out[1], out[2]);
	CHECK(out[3] == 0 && out[5] == 1, "node-0 devices on node-0 lcores: %d %d", out[3], out[5]);
	CHECK(out[4] == 3, "least loaded on node 1: %d", out[4]);
	CHECK(two[0].ndevices == 1 && two[1].ndevices == 1 && two[2].ndevices == 2 &&
	      two[3].ndevices == 2, "loads");
	/* Unknown node: least loaded overall (ties to the lowest index). */
	CHECK(vhb_numa_pick(two, 4, -1) == 0, "unknown node");
	/* A node with no lcore: least loaded overall. */
	CHECK(vhb_numa_pick(two, 4, 3) == 0, "node without lcores");
	CHECK(vhb_numa_pick(far, 2, 0) == 1, "fallback picks least loaded");
	CHECK(vhb_numa_pick(one, 2, 0) == 0, "tie to lowest index");
	one[0].ndevices = 40;
	CHECK(vhb_numa_pick(one, 2, 0) == 1, "load balances");
	printf("numa-place: %d checks passed\n", test_checks);
	return 0;
}

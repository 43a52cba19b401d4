/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection churn and leaks: many connect / start / inflate-or-deflate /
 * disconnect cycles over a few devices, reconnecting at once (as a restarting
 * frontend does). Afterwards the process's open fds and the devices are back to
 * their baseline and every device still works. rte_vhost has 1024 device slots
 * (RTE_MAX_VHOST_DEVICE): more cycles than that prove slots are returned. A second
 * frontend on a socket that already has one must not disturb the first.
 * argv[1]: cycles (default 2000; the suite runs 1200, past the 1024 slots, in about 15 s).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>

#include "hostile_common.h"

#define NDEV	4

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A second frontend on a socket in use: the device serves one frontend, the newest
 * (a frontend that reconnects at once may arrive before its old connection's EOF).
 * The old one is cut off, never mixed with the new one's memory.
 */
static void
second_frontend(struct hostile_pair *hp)
{
	struct vms_vm *intruder;
	int rc, k;

	intruder = vms_vm_create(&hp->p);
	CHECK(intruder != NULL, "intruder");
	CHECK(vms_vm_connect(intruder) == 0 && vms_vm_start(intruder) == 0, "second frontend");
	func_balloon_to(hp->dev, intruder, 512);
	func_verify(intruder, "second frontend");
	/* The first one's next config access is refused: its connection closes. */
	for (k = 0; k < 200 && vms_vm_connected(hp->vm); k++) {
		rc = vms_vm_config_changed(hp->vm);
		if (rc < 0)
			break;
		usleep(5000);
	}
	printf("  second frontend on %s took the device over; the first was cut off\n",
	       hp->name);
	func_verify(hp->vm, "first frontend, cut off");
	vms_vm_destroy(intruder);
	vms_vm_disconnect(hp->vm);
	CHECK(hostile_wait_listening(hp->dev, 5000), "listening");
	CHECK(vms_vm_connect(hp->vm) == 0 && vms_vm_start(hp->vm) == 0, "first reconnects");
	func_balloon_to(hp->dev, hp->vm, 256);
	func_balloon_to(hp->dev, hp->vm, 0);
	func_verify(hp->vm, "first frontend after reconnecting");
}

int
main(int argc, char **argv)
{
	unsigned int cycles = argc > 1 ? (unsigned int)strtoul(argv[1], NULL, 0) : 2000;
	struct hostile_pair hp[NDEV];
	unsigned int base_fds, c, d, inflates = 0;
	char name[16];
	double t0, t;
	int rc;

	func_start();
	hostile_log_capture();
	printf("churn: %u connect/start/balloon/disconnect cycles over %d devices (memfd 4 KiB, "
	       "16 MiB guests)\n", cycles, NDEV);
	for (d = 0; d < NDEV; d++) {
		snprintf(name, sizeof(name), "churn%u", d);
		hostile_pair_up(&hp[d], name, 0);
		vms_vm_disconnect(hp[d].vm);
	}
	for (d = 0; d < NDEV; d++)
		CHECK(hostile_wait_listening(hp[d].dev, 5000), "listening");
	base_fds = hostile_fd_settled(0, 2000);
	t0 = now_s();
	for (c = 0; c < cycles; c++) {
		struct hostile_pair *p = &hp[c % NDEV];
		uint32_t target = ((c / NDEV) % 2) == 0 ? 256 : 0;

		rc = vms_vm_connect(p->vm);
		CHECK(rc == 0, "cycle %u: connect %d", c, rc);
		rc = vms_vm_start(p->vm);
		CHECK(rc == 0, "cycle %u: start %d", c, rc);
		CHECK(vhb_device_set_target_pages(p->dev, target) == 0, "target");
		rc = vms_vm_wait_target(p->vm, target, 5000);
		CHECK(rc == 0, "cycle %u: balloon to %u: %d", c, target, rc);
		inflates += target != 0;
		vms_vm_disconnect(p->vm);
	}
	t = now_s() - t0;
	for (d = 0; d < NDEV; d++)
		CHECK(hostile_wait_listening(hp[d].dev, 5000), "listening at the end");
	CHECK(hostile_fd_settled(base_fds, 5000) == base_fds, "fds: %u, baseline %u",
	      hostile_fd_count(), base_fds);
	printf("  %u cycles (%u with an inflate) in %.1f s; open fds back to %u\n", cycles,
	       inflates, t, base_fds);
	for (d = 0; d < NDEV; d++) {
		struct vhb_device_info i = hostile_info(hp[d].dev);

		CHECK(i.nregions == 0 && i.pages_in_balloon == 0 && i.state == VHB_DEV_LISTENING,
		      "device %u back to its baseline", d);
		CHECK(hostile_counters(hp[d].dev).guest_errors == 0, "no errors");
	}
	/* Still works: a fresh start on every device, and a second frontend on one. */
	for (d = 0; d < NDEV; d++) {
		CHECK(vms_vm_connect(hp[d].vm) == 0 && vms_vm_start(hp[d].vm) == 0, "again");
		func_balloon_to(hp[d].dev, hp[d].vm, 1024);
		func_balloon_to(hp[d].dev, hp[d].vm, 0);
		func_verify(hp[d].vm, "after churn");
	}
	second_frontend(&hp[0]);
	for (d = 0; d < NDEV; d++)
		hostile_pair_down(&hp[d]);
	func_stop();
	printf("PASS churn\n");
	return 0;
}

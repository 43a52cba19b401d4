/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --test ctl: the cost of the control path, message by message. The backend runs in
 * this process (perf_backend) with one vmsim guest (64 MiB memfd) on a device. Timed
 * with the TSC from the request's send to its reply, --samples times each:
 * - GET_FEATURES: rte_vhost's own answer (no hook work): the path alone;
 * - GET_CONFIG: answered by the pre hook (the guest's config read);
 * - SET_CONFIG with NEED_REPLY: the guest's write of `actual`, acked;
 * - config round trip: SET_CONFIG then GET_CONFIG, as each balloon step ends;
 * - balloon step: target +256 pages (1 MiB) to the guest having inflated it and
 *   written `actual`: config-change message, GET_CONFIG, one inflate request
 *   through the ring with its release, SET_CONFIG; then the same back (deflate).
 * Every message crosses the gate (docs/design.md#the-gate); the step is what the
 * per-message cost is measured against.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>

#include "vhost_balloon.h"
#include "vmsim.h"

#include "perf_backend.h"
#include "perf_test.h"

#define MiB		(1ULL << 20)
#define CTL_MEM_MIB	64
#define STEP_PAGES	256	/* Linux's step: VIRTIO_BALLOON_ARRAY_PFNS_MAX */

static struct perf_backend g_be;

struct cfg_msg {
	uint32_t offset, size, flags;
	uint32_t val[2];
} __attribute__((packed));

struct ctl_row {
	const char *name;
	uint32_t samples;
	double p50_us, p99_us, mean_us;
};

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
summarise(const struct perf_tsc *tsc, uint64_t *lat, uint32_t n, struct ctl_row *r)
{
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		sum += lat[i];
	qsort(lat, n, sizeof(*lat), cmp_u64);
	r->samples = n;
	r->p50_us = perf_tsc_ns(tsc, lat[n / 2]) / 1e3;
	r->p99_us = perf_tsc_ns(tsc, lat[(n * 99) / 100]) / 1e3;
	r->mean_us = perf_tsc_ns(tsc, sum / n) / 1e3;
}

/* One request and its reply; TSC cycles, 0 on failure (*rc set). */
static uint64_t
round_trip(struct vms_vm *vm, uint32_t req, uint32_t flags, const void *pl, uint32_t size,
	   int *rc)
{
	uint8_t reply[64];
	size_t rlen = sizeof(reply);
	uint64_t t0 = rte_rdtsc();

	*rc = vms_vm_send_raw(vm, req, flags, size, pl, size, NULL, 0, reply, &rlen);
	if (*rc == 0 && rlen < 12 + 8)
		*rc = -EPROTO;
	return rte_rdtsc() - t0;
}

static void
print_row(const struct perf_options *o, const struct ctl_row *r)
{
	if (o->json)
		printf("{\"measure\":\"%s\",\"samples\":%u,\"p50_us\":%.1f,\"p99_us\":%.1f,"
		       "\"mean_us\":%.1f}\n", r->name, r->samples, r->p50_us, r->p99_us,
		       r->mean_us);
	else if (o->csv)
		printf("%s,%u,%.1f,%.1f,%.1f\n", r->name, r->samples, r->p50_us, r->p99_us,
		       r->mean_us);
	else
		printf("%-22s %8u %9.1f %9.1f %9.1f\n", r->name, r->samples, r->p50_us,
		       r->p99_us, r->mean_us);
	fflush(stdout);
}

static int
ctl_run(const struct perf_options *o, const struct perf_tsc *tsc)
{
	struct vhb_device_params dp = {
		.features = (1ULL << VHB_F_MUST_TELL_HOST) | (1ULL << VHB_F_DEFLATE_ON_OOM),
		.socket_gid = -1,
		.socket_mode = 0600,
		.name = "ctl0",
	};
	struct vhb_poll_params pp;
	struct vms_vm_params vp;
	struct vhb_device *dev = NULL;
	struct vms_vm *vm = NULL;
	struct cfg_msg get = { .offset = 0, .size = 8 }, set;
	struct ctl_row r;
	uint64_t *lat, t0;
	uint32_t i, n = o->samples, k;
	char path[128];
	int rc;

	if (!o->eal) {
		fprintf(stderr, "test ctl runs the backend in this process: give EAL arguments,"
			" e.g. -l 0-1 --no-huge -m 256 --no-pci -- --test ctl\n");
		return -EINVAL;
	}
	lat = calloc(n, sizeof(*lat));
	if (lat == NULL)
		return -ENOMEM;
	vhb_poll_params_default(&pp);
	rc = perf_backend_start(&g_be, &pp, "ctl");
	if (rc != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/ctl0.sock", g_be.dir);
	dp.socket_path = path;
	dp.lcore_id = g_be.lcore;
	dev = vhb_device_create(&dp);
	if (dev == NULL) {
		rc = -rte_errno;
		goto out;
	}
	vms_vm_params_init(&vp);
	vp.socket_path = path;
	vp.mem_bytes = CTL_MEM_MIB * MiB;
	vp.backing = VMS_BACKING_MEMFD;
	vp.connect_timeout_ms = 5000;
	vp.num_vqs = 2;
	vp.timeout_ms = 10000;
	vp.free_percent = 50;
	vm = vms_vm_create(&vp);
	if (vm == NULL) {
		rc = -errno;
		goto out;
	}
	rc = vms_vm_connect(vm);
	if (rc == 0)
		rc = vms_vm_start(vm);
	if (rc != 0)
		goto out;

	if (!o->json && !o->csv) {
		printf("\n# one device, one 64 MiB memfd guest; request sent -> reply received\n");
		printf("%-22s %8s %9s %9s %9s\n", "measure", "samples", "p50(us)", "p99(us)",
		       "mean(us)");
	} else if (o->csv) {
		printf("measure,samples,p50_us,p99_us,mean_us\n");
	}
	/* Warm up: every path once. */
	for (i = 0; i < 20 && rc == 0; i++)
		round_trip(vm, VMS_REQ_GET_CONFIG, VMS_MSG_VERSION, &get, 12 + 8, &rc);

	for (i = 0; i < n && rc == 0; i++)
		lat[i] = round_trip(vm, VMS_REQ_GET_FEATURES, VMS_MSG_VERSION, NULL, 0, &rc);
	if (rc != 0)
		goto out;
	r.name = "GET_FEATURES";
	summarise(tsc, lat, n, &r);
	print_row(o, &r);

	for (i = 0; i < n && rc == 0; i++)
		lat[i] = round_trip(vm, VMS_REQ_GET_CONFIG, VMS_MSG_VERSION, &get, 12 + 8, &rc);
	if (rc != 0)
		goto out;
	r.name = "GET_CONFIG";
	summarise(tsc, lat, n, &r);
	print_row(o, &r);

	/* actual (offset 4) = 0: what it is, the balloon is empty. */
	set = (struct cfg_msg){ .offset = 4, .size = 4 };
	for (i = 0; i < n && rc == 0; i++)
		lat[i] = round_trip(vm, VMS_REQ_SET_CONFIG, VMS_MSG_VERSION | VMS_MSG_NEED_REPLY,
				    &set, 12 + 4, &rc);
	if (rc != 0)
		goto out;
	r.name = "SET_CONFIG(ack)";
	summarise(tsc, lat, n, &r);
	print_row(o, &r);

	for (i = 0; i < n && rc == 0; i++) {
		lat[i] = round_trip(vm, VMS_REQ_SET_CONFIG, VMS_MSG_VERSION | VMS_MSG_NEED_REPLY,
				    &set, 12 + 4, &rc);
		if (rc == 0)
			lat[i] += round_trip(vm, VMS_REQ_GET_CONFIG, VMS_MSG_VERSION, &get,
					     12 + 8, &rc);
	}
	if (rc != 0)
		goto out;
	r.name = "config round trip";
	summarise(tsc, lat, n, &r);
	print_row(o, &r);

	/* Balloon steps: up STEP_PAGES, then down, timed from the target to the guest's ack. */
	k = RTE_MIN(n, 2 * (uint32_t)(CTL_MEM_MIB / 4));
	for (i = 0; i < k && rc == 0; i++) {
		uint32_t target = (i % 2 == 0) ? STEP_PAGES : 0;

		t0 = rte_rdtsc();
		rc = vhb_device_set_target_pages(dev, target);
		if (rc == 0)
			rc = vms_vm_wait_target(vm, target, 10000);
		lat[i] = rte_rdtsc() - t0;
	}
	if (rc != 0)
		goto out;
	r.name = "balloon step (1 MiB)";
	summarise(tsc, lat, k, &r);
	print_row(o, &r);
out:
	if (rc != 0)
		fprintf(stderr, "test ctl: %s\n", strerror(-rc));
	vms_vm_destroy(vm);
	if (dev != NULL)
		vhb_device_destroy(dev);
	if (g_be.started)
		perf_backend_stop(&g_be);
	free(lat);
	return rc;
}

const struct perf_test perf_test_ctl = {
	.name = "ctl",
	.help = "control path: per-message round trips and a 1 MiB balloon step",
	.run = ctl_run,
};

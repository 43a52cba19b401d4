/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The guest side of --test ring: simulated QEMU + Linux guests (vmsim) driven by a
 * few threads, each with one request in flight per VM it drives (Linux's rule).
 */
#ifndef PERF_RING_GUEST_H
#define PERF_RING_GUEST_H

#include <stdint.h>

#include "vhost_balloon.h"
#include "vmsim.h"

#include "perf_backend.h"
#include "perf_options.h"

struct ring_vm {
	struct vhb_device *dev;
	struct vms_vm *vm;
	char sock[128];
};

/*
 * n devices (served by be's lcore) and VMs, connected and started. Returns how many
 * came up in *up (the rest failed: fds, rte_vhost's limits, memory); the reason is
 * printed. The caller tears all n down, those that failed too.
 */
struct ring_vm *ring_vms_setup(const struct perf_backend *be, const struct perf_options *o,
			       enum perf_backing bk, enum perf_pattern pat, uint64_t mem_mib,
			       uint32_t n, uint32_t *up);
void ring_vms_teardown(struct ring_vm *v, uint32_t n);

/* Add the service-time histograms of the first n devices into *sum. */
void ring_service_time_add(const struct ring_vm *v, uint32_t n, struct vhb_service_time *sum);

/* Percentile q of the service times counted between a and b: its bucket's upper bound, µs. */
double ring_service_time_pct_us(const struct vhb_service_time *a,
				const struct vhb_service_time *b, double q);

/* Drive every VM to balloon target `pages`; the targets are set on the devices first. */
int ring_guests_balloon(struct ring_vm *v, uint32_t nvms, uint32_t pages, uint32_t nthreads);

/* Free page reporting: each VM reports (and churns) until `bytes` were reported. */
int ring_guests_report(struct ring_vm *v, uint32_t nvms, uint64_t bytes, uint32_t nthreads);

/*
 * The kernel's floor: release, on a fresh file like the VM's backing, populated and
 * mapped twice (QEMU's mapping and the backend's), the
 * host pages the VM's balloon covers wholly, coalesced into ranges. Adds the thread
 * CPU time (ns) of the fallocate calls, their count and bytes.
 */
int ring_raw_floor(struct vms_vm *vm, enum perf_backing bk, const char *hugetlbfs_dir,
		   uint64_t *cpu_ns, uint64_t *calls, uint64_t *bytes);

#endif /* PERF_RING_GUEST_H */

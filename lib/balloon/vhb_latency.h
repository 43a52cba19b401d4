/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-request service time of one device: TSC cycles from the moment a request is
 * popped off its ring to the moment its ack is published, in a log2 histogram with
 * VHB_SERVICE_TIME_SUB linear sub-buckets per power of two. Written by the device's
 * poll lcore only, read relaxed by anyone (vhb_device_get_service_time()).
 */
#ifndef VHB_LATENCY_H
#define VHB_LATENCY_H

#include <stdint.h>

#include "vhost_balloon.h"

struct vhb_latency {
	uint64_t count;
	uint64_t sum_cycles;
	uint64_t max_cycles;
	uint64_t bucket[VHB_SERVICE_TIME_BUCKETS];
};

/* Lcore side: n requests popped at pop_tsc[i], all acked (published) just now. */
void vhb_latency_record(struct vhb_latency *lat, const uint64_t *pop_tsc, unsigned int n);

#endif /* VHB_LATENCY_H */

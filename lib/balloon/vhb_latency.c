/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-request service time histogram (see vhb_latency.h). */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "vhb_device.h"
#include "vhb_latency.h"

/* Bucket of a cycle count: 2 bits below the leading one pick the sub-bucket. */
static inline unsigned int
bucket_of(uint64_t c)
{
	unsigned int msb;

	if (c < VHB_SERVICE_TIME_SUB)
		return (unsigned int)c;
	msb = 63u - (unsigned int)__builtin_clzll(c);
	return msb * VHB_SERVICE_TIME_SUB +
	       (unsigned int)((c >> (msb - 2)) & (VHB_SERVICE_TIME_SUB - 1));
}

uint64_t
vhb_service_time_bucket_max(unsigned int i)
{
	unsigned int msb = i / VHB_SERVICE_TIME_SUB, sub = i % VHB_SERVICE_TIME_SUB;

	if (i >= VHB_SERVICE_TIME_BUCKETS)
		return UINT64_MAX;
	if (msb < 2)
		return i;
	/* Values (4 + sub) << (msb - 2) up to just below (5 + sub) << (msb - 2). */
	return (((uint64_t)VHB_SERVICE_TIME_SUB + sub + 1) << (msb - 2)) - 1;
}

void
vhb_latency_record(struct vhb_latency *lat, const uint64_t *pop_tsc, unsigned int n)
{
	uint64_t now, c, sum = 0, max = lat->max_cycles;
	unsigned int i, b;

	if (n == 0)
		return;
	now = rte_rdtsc();
	for (i = 0; i < n; i++) {
		c = now - pop_tsc[i];
		sum += c;
		if (c > max)
			max = c;
		b = bucket_of(c);
		__atomic_store_n(&lat->bucket[b], lat->bucket[b] + 1, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&lat->sum_cycles, lat->sum_cycles + sum, __ATOMIC_RELAXED);
	__atomic_store_n(&lat->max_cycles, max, __ATOMIC_RELAXED);
	__atomic_store_n(&lat->count, lat->count + n, __ATOMIC_RELAXED);
}

int
vhb_device_get_service_time(const struct vhb_device *dev, struct vhb_service_time *st)
{
	unsigned int i;

	if (dev == NULL || st == NULL)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->tsc_hz = rte_get_tsc_hz();
	st->count = __atomic_load_n(&dev->lat.count, __ATOMIC_RELAXED);
	st->sum_cycles = __atomic_load_n(&dev->lat.sum_cycles, __ATOMIC_RELAXED);
	st->max_cycles = __atomic_load_n(&dev->lat.max_cycles, __ATOMIC_RELAXED);
	for (i = 0; i < VHB_SERVICE_TIME_BUCKETS; i++)
		st->bucket[i] = __atomic_load_n(&dev->lat.bucket[i], __ATOMIC_RELAXED);
	return 0;
}

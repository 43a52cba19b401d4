/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The auto polling mode's decision, as pure functions of what the poll loop observed
 * (vhb_lcore.c measures, docs/device.md#polling-modes explains): how long to keep
 * polling after work before going to sleep on the guests' kicks. All times in the
 * same unit (the loop uses TSC cycles).
 */
#ifndef VHB_POLL_AUTO_H
#define VHB_POLL_AUTO_H

#include <stdint.h>

/* Moving averages move by 1/4 of each sample; the first sample is taken whole. */
#define VHB_AUTO_EWMA_SHIFT	2

static inline uint64_t
vhb_auto_ewma(uint64_t avg, uint64_t sample)
{
	if (avg == 0)
		return sample;
	return avg - (avg >> VHB_AUTO_EWMA_SHIFT) + (sample >> VHB_AUTO_EWMA_SHIFT);
}

/*
 * Poll through the expected gap (twice it, at most cap) when polling costs less than
 * sleeping through it, else 0 (sleep at once). A sleep costs its CPU (sleep_cost,
 * at least cost_min) and delays the next request by a wake-up, about as long again:
 * the break-even gap is twice the sleep cost. The expected gap is the smaller of the
 * average and the last gap, so that a burst after a quiet spell is polled from its
 * second request on.
 */
static inline uint64_t
vhb_auto_spin(uint64_t gap_avg, uint64_t gap_last, uint64_t sleep_cost, uint64_t cost_min,
	      uint64_t cap)
{
	uint64_t gap = gap_avg < gap_last ? gap_avg : gap_last;
	uint64_t cost = sleep_cost > cost_min ? sleep_cost : cost_min;

	if (gap >= 2 * cost)
		return 0;
	return 2 * gap < cap ? 2 * gap : cap;
}

#endif /* VHB_POLL_AUTO_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Log types of the balloon library (one per area, registered with RTE_LOG_REGISTER
 * in vhb_log.c) and a rate-limited variant for paths a guest can trigger: a guest
 * that floods bad input must not flood the host's log.
 */
#ifndef VHB_LOG_H
#define VHB_LOG_H

#include <inttypes.h>
#include <stdint.h>
#include <time.h>

#include <rte_log.h>

extern int vhb_logtype_mem;	/* lib.vhb.mem: guest memory map, tracking, release */
extern int vhb_logtype_dev;	/* lib.vhb.dev: device lifecycle, messages, config */
extern int vhb_logtype_ring;	/* lib.vhb.ring: virtqueue parsing */

#define VHB_LOG(level, type, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vhb_logtype_ ## type, "vhb: %s(): " fmt "\n", \
		__func__, ##__VA_ARGS__)

/* Lines printed per state object per second by VHB_LOG_RATELIMIT. */
#define VHB_LOG_RATELIMIT_BURST	10

/* Embed one per thing to limit (a device, a queue); zero-initialised is ready. */
struct vhb_log_ratelimit {
	uint64_t window_s;	/* CLOCK_MONOTONIC second of the current window */
	uint32_t printed;	/* lines printed in this window */
	uint64_t suppressed;	/* lines dropped since the last printed one */
};

/*
 * May a line be printed now? Reports, once per window, how many lines were
 * suppressed before. Not thread-safe: one owner per state object.
 */
static inline int
vhb_log_ratelimit_ok(struct vhb_log_ratelimit *rl, int level, int type)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec;
	if (now != rl->window_s) {
		rl->window_s = now;
		rl->printed = 0;
		if (rl->suppressed != 0) {
			rte_log(level, type, "vhb: %" PRIu64 " similar lines suppressed\n",
				rl->suppressed);
			rl->suppressed = 0;
		}
	}
	if (rl->printed < VHB_LOG_RATELIMIT_BURST) {
		rl->printed++;
		return 1;
	}
	rl->suppressed++;
	return 0;
}

/* VHB_LOG, at most VHB_LOG_RATELIMIT_BURST lines per second per *state. */
#define VHB_LOG_RATELIMIT(level, type, state, fmt, ...) do { \
	if (rte_log_can_log(vhb_logtype_ ## type, RTE_LOG_ ## level) && \
	    vhb_log_ratelimit_ok((state), RTE_LOG_ ## level, vhb_logtype_ ## type)) \
		VHB_LOG(level, type, fmt, ##__VA_ARGS__); \
} while (0)

#endif /* VHB_LOG_H */

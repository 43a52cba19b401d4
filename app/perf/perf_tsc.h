/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TSC without EAL: rte_rdtsc() for timestamps, its frequency calibrated
 * against CLOCK_MONOTONIC (rte_get_tsc_hz() would need rte_eal_init()).
 */
#ifndef PERF_TSC_H
#define PERF_TSC_H

#include <stdint.h>
#include <time.h>

struct perf_tsc {
	uint64_t hz;
	int invariant;		/* constant_tsc and nonstop_tsc in /proc/cpuinfo */
};

/* Calibrate over about `ms` milliseconds. 0 or -errno. */
int perf_tsc_calibrate(struct perf_tsc *tsc, unsigned int ms);

static inline double
perf_tsc_ns(const struct perf_tsc *tsc, uint64_t cycles)
{
	return (double)cycles * 1e9 / (double)tsc->hz;
}

/* Shared clock helpers: nanoseconds of clock c (0 on error), a sleep that resumes on EINTR. */
uint64_t perf_clock_ns(clockid_t c);
void perf_sleep_ms(uint32_t ms);

#endif /* PERF_TSC_H */

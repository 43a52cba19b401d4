/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>

#include "perf_tsc.h"

uint64_t
perf_clock_ns(clockid_t c)
{
	struct timespec ts;

	if (clock_gettime(c, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void
perf_sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static uint64_t
mono_ns(void)
{
	return perf_clock_ns(CLOCK_MONOTONIC);
}

static int
tsc_invariant(void)
{
	char line[4096];
	int found = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "flags", 5) == 0) {
			found = strstr(line, " constant_tsc") != NULL &&
				strstr(line, " nonstop_tsc") != NULL;
			break;
		}
	}
	fclose(f);
	return found;
}

int
perf_tsc_calibrate(struct perf_tsc *tsc, unsigned int ms)
{
	struct timespec req = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	uint64_t t0, c0, t1, c1;

	/* Bracket each TSC read by the clock reads closest to it. */
	t0 = mono_ns();
	c0 = rte_rdtsc();
	nanosleep(&req, NULL);
	t1 = mono_ns();
	c1 = rte_rdtsc();
	if (t1 <= t0 || c1 <= c0)
		return -EIO;
	tsc->hz = (uint64_t)((double)(c1 - c0) * 1e9 / (double)(t1 - t0));
	tsc->invariant = tsc_invariant();
	return 0;
}

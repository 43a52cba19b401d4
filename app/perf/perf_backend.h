/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The backend in the benchmark process, for the test types that need it (ring, idle):
 * vhb_init() on the first EAL worker lcore, its poll loop launched there with the
 * polling mode the test asks for, and that thread's CPU clock. One test type runs per
 * process; it starts the backend, may change the mode (vhb_set_poll_params()), stops it.
 */
#ifndef PERF_BACKEND_H
#define PERF_BACKEND_H

#include <stdint.h>

#include "vhost_balloon.h"

struct perf_backend {
	unsigned int lcore;	/* the poll lcore */
	char dir[64];		/* socket directory, removed by perf_backend_stop() */
	int started;
};

/* Raise the fd limit, vhb_init(), set pp, launch the poll loop. 0 or -errno. */
int perf_backend_start(struct perf_backend *b, const struct vhb_poll_params *pp,
		       const char *test);
void perf_backend_stop(struct perf_backend *b);

/* CPU time (ns) the poll thread got so far; 0 if its clock is unknown. */
uint64_t perf_backend_cpu_ns(void);
int perf_backend_cpu_known(void);

#endif /* PERF_BACKEND_H */

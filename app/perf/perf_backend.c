/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <rte_launch.h>
#include <rte_lcore.h>

#include "perf_backend.h"
#include "perf_tsc.h"

static clockid_t g_poll_clock;
static volatile int g_poll_clock_ok;

/* The poll loop, remembering its thread's CPU clock. */
static int
poll_main(void *arg)
{
	if (pthread_getcpuclockid(pthread_self(), &g_poll_clock) == 0)
		g_poll_clock_ok = 1;
	return vhb_lcore_loop(arg);
}

int
perf_backend_cpu_known(void)
{
	return g_poll_clock_ok;
}

uint64_t
perf_backend_cpu_ns(void)
{
	return g_poll_clock_ok ? perf_clock_ns(g_poll_clock) : 0;
}

int
perf_backend_start(struct perf_backend *b, const struct vhb_poll_params *pp, const char *test)
{
	struct rlimit rl;
	unsigned int i;
	int rc;

	if (b->started)
		return 0;
	/* Every VM costs ~30 fds in this process (both ends of the connection). */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	b->lcore = rte_get_next_lcore(-1, 1, 0);
	if (b->lcore >= RTE_MAX_LCORE) {
		fprintf(stderr, "test %s needs a worker lcore (e.g. -l 0-1)\n", test);
		return -EINVAL;
	}
	snprintf(b->dir, sizeof(b->dir), "/tmp/vhb-perf.XXXXXX");
	if (mkdtemp(b->dir) == NULL)
		return -errno;
	rc = vhb_init(&b->lcore, 1);
	if (rc == 0)
		rc = vhb_set_poll_params(pp);
	if (rc == 0)
		rc = rte_eal_remote_launch(poll_main, NULL, b->lcore);
	if (rc != 0) {
		rmdir(b->dir);
		return rc;
	}
	/* The clock is known before anything is measured. */
	for (i = 0; i < 1000 && !g_poll_clock_ok; i++)
		perf_sleep_ms(1);
	b->started = 1;
	return 0;
}

void
perf_backend_stop(struct perf_backend *b)
{
	if (!b->started)
		return;
	vhb_stop();
	rte_eal_mp_wait_lcore();
	vhb_cleanup();
	rmdir(b->dir);
	b->started = 0;
}

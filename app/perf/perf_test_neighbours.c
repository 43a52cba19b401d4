/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --test neighbours: what idle devices cost the busy ones on the same poll lcore. Per
 * device count of --vms (16 MiB memfd vmsim guests, all connected), per polling mode of
 * --poll-modes, in the same run:
 * - all idle for --idle-ms: passes, ns per pass that found no work (what scanning the
 *   polled set costs) and per device, how many devices stay in the polled set, the
 *   poll thread's CPU share;
 * - 1, 8 and 64 of them (at most all) ballooning 8 MiB up and down for --seconds, one
 *   request in flight per guest (Linux's rule): ns per empty pass, service time p50/p99 of
 *   the busy devices' requests (the backend's own histogram), beside the row of the
 *   same busy count with no idle neighbour (the smallest --vms equal to it) of the same
 *   mode: the cost each idle neighbour adds to a pass, and the p99 ratio.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "vhost_balloon.h"
#include "vmsim.h"

#include "perf_backend.h"
#include "perf_ring_guest.h"
#include "perf_test.h"
#include "perf_tsc.h"

#define MiB		(1ULL << 20)
#define GUEST_MIB	16		/* vmsim's smallest guest */
#define BALLOON_MIB	8		/* what a busy guest balloons each way */
#define SETTLE_MS	300		/* after a mode change: idle devices park */

static const uint32_t busy_counts[] = { 1, 8, 64 };

static const enum vhb_poll_mode vhb_mode[PERF_PM_MAX] = {
	[PERF_PM_POLL] = VHB_POLL_BUSY,
	[PERF_PM_ADAPTIVE] = VHB_POLL_ADAPTIVE,
	[PERF_PM_INTERRUPT] = VHB_POLL_INTERRUPT,
	[PERF_PM_AUTO] = VHB_POLL_AUTO,
};

struct nb_snap {
	struct vhb_lcore_stats ls;
	struct vhb_service_time st;	/* summed over the busy devices */
	uint64_t wall_ns, cpu_ns;
};

/* One printed row, kept to compare with its baseline (no idle neighbour). */
struct nb_row {
	uint32_t devices, busy;
	enum perf_poll_mode mode;
	double empty_ns, p50_us, p99_us, cpu_share;
	unsigned int polled;
	uint64_t passes, requests;
};

#define NB_MAX_ROWS	(PERF_MAX_VM_COUNTS * PERF_PM_MAX * RTE_DIM(busy_counts))

static struct perf_backend g_be;
static struct nb_row g_rows[NB_MAX_ROWS];
static unsigned int g_nrows;

static void
snap(struct ring_vm *v, uint32_t nbusy, struct nb_snap *s)
{
	memset(s, 0, sizeof(*s));
	ring_service_time_add(v, nbusy, &s->st);
	vhb_lcore_get_stats(0, &s->ls);
	s->wall_ns = perf_clock_ns(CLOCK_MONOTONIC);
	s->cpu_ns = perf_backend_cpu_ns();
}

static void
fill(struct nb_row *r, const struct nb_snap *a, const struct nb_snap *b)
{
	double hz = (double)rte_get_tsc_hz();

	uint64_t empty = (b->ls.passes - a->ls.passes) - (b->ls.busy_passes - a->ls.busy_passes);
	uint64_t empty_cyc = (b->ls.total_cycles - a->ls.total_cycles) -
			     (b->ls.busy_cycles - a->ls.busy_cycles);

	r->passes = b->ls.passes - a->ls.passes;
	/* Passes that found no work cost what scanning the polled set costs. */
	r->empty_ns = empty > 0 ? (double)empty_cyc * 1e9 / hz / (double)empty : 0;
	r->cpu_share = b->wall_ns > a->wall_ns ?
		       (double)(b->cpu_ns - a->cpu_ns) / (double)(b->wall_ns - a->wall_ns) : 0;
	r->polled = b->ls.devices_polled;
	r->requests = b->st.count - a->st.count;
	r->p50_us = ring_service_time_pct_us(&a->st, &b->st, 0.50);
	r->p99_us = ring_service_time_pct_us(&a->st, &b->st, 0.99);
}

static const struct nb_row *
baseline(const struct nb_row *r)
{
	unsigned int i;

	for (i = 0; i < g_nrows; i++)
		if (g_rows[i].mode == r->mode && g_rows[i].busy == r->busy &&
		    g_rows[i].devices == r->busy)
			return &g_rows[i];
	return NULL;
}

static void
print_row(const struct nb_row *r)
{
	const struct nb_row *base = r->busy > 0 ? baseline(r) : NULL;
	uint32_t idle = r->devices - r->busy;

	printf("%7u %4u %-9s %10" PRIu64 " %9.0f %8.1f %7u %6.3f %8" PRIu64 " %8.1f %8.1f",
	       r->devices, r->busy, perf_poll_mode_name(r->mode), r->passes, r->empty_ns,
	       r->devices > 0 ? r->empty_ns / r->devices : 0, r->polled, r->cpu_share,
	       r->requests, r->p50_us, r->p99_us);
	if (base != NULL && base != r && idle > 0 && base->p99_us > 0)
		printf("   %+8.1f ns  %5.2fx", (r->empty_ns - base->empty_ns) / idle,
		       r->p99_us / base->p99_us);
	printf("\n");
	fflush(stdout);
	if (g_nrows < NB_MAX_ROWS)
		g_rows[g_nrows++] = *r;
}

/* The first nbusy guests balloon up and down, again until `seconds` passed; 0 or -errno. */
static int
work(struct ring_vm *v, uint32_t nbusy, uint32_t seconds, uint32_t threads)
{
	uint32_t pages = (uint32_t)(BALLOON_MIB * MiB / VMS_PAGE_SIZE);
	uint64_t end = perf_clock_ns(CLOCK_MONOTONIC) + (uint64_t)seconds * 1000000000ULL;
	int rc = 0;

	do {
		rc = ring_guests_balloon(v, nbusy, pages, threads);
		if (rc == 0)
			rc = ring_guests_balloon(v, nbusy, 0, threads);
	} while (rc == 0 && perf_clock_ns(CLOCK_MONOTONIC) < end);
	return rc;
}

static int
run_count(const struct perf_options *o, uint32_t n)
{
	struct vhb_poll_params pp;
	struct nb_snap a, b;
	struct ring_vm *v;
	uint32_t up, m, k;
	int rc = 0;

	v = ring_vms_setup(&g_be, o, PERF_BACKING_MEMFD, PERF_PATTERN_REVERSE, GUEST_MIB, n, &up);
	if (v == NULL)
		return -ENOMEM;
	if (up < n) {
		printf("# %u of %u VMs came up: measuring %u\n", up, n, up);
		n = up;
	}
	/* Unmeasured: the first inflate releases populated memory, the later ones do not. */
	k = RTE_MIN(n, busy_counts[RTE_DIM(busy_counts) - 1]);
	if (n > 0)
		rc = work(v, k, 0, o->guest_threads);
	for (m = 0; m < PERF_PM_MAX && rc == 0 && n > 0; m++) {
		struct nb_row r = { .devices = n, .mode = m };

		if (!(o->poll_modes & (1U << m)))
			continue;
		vhb_poll_params_default(&pp);
		pp.mode = vhb_mode[m];
		pp.idle_us = o->idle_us;
		rc = vhb_set_poll_params(&pp);
		if (rc != 0)
			break;
		perf_sleep_ms(SETTLE_MS);
		snap(v, 0, &a);
		perf_sleep_ms(o->idle_ms);
		snap(v, 0, &b);
		fill(&r, &a, &b);
		print_row(&r);
		for (k = 0; k < RTE_DIM(busy_counts) && rc == 0; k++) {
			struct nb_row w = { .devices = n, .busy = busy_counts[k], .mode = m };

			if (w.busy > n)
				break;
			snap(v, w.busy, &a);
			rc = work(v, w.busy, o->seconds, o->guest_threads);
			snap(v, w.busy, &b);
			fill(&w, &a, &b);
			print_row(&w);
		}
	}
	ring_vms_teardown(v, up);
	return rc;
}

static int
neighbours_run(const struct perf_options *o, const struct perf_tsc *tsc)
{
	struct vhb_poll_params pp;
	uint32_t k;
	int rc;

	RTE_SET_USED(tsc);
	if (!o->eal) {
		fprintf(stderr, "test neighbours runs the backend in this process: give EAL "
			"arguments, e.g. -l 0-1 --no-huge -m 512 --no-pci -- --test neighbours\n");
		return -EINVAL;
	}
	vhb_poll_params_default(&pp);
	rc = perf_backend_start(&g_be, &pp, "neighbours");
	if (rc != 0)
		return rc;
	printf("# one poll lcore (%u); %u MiB memfd guests; busy ones balloon %u MiB up and "
	       "down, one request in flight each;\n# empty-ns: lcore TSC per pass that found no "
	       "work (scanning the polled set); polled: devices in the polled set at the end;\n"
	       "# cpu: poll thread CPU / wall;\n"
	       "# +ns/idle: what each idle neighbour adds to an empty pass, and p99x: the busy "
	       "devices' p99 against the same busy count alone (same mode)\n",
	       g_be.lcore, GUEST_MIB, BALLOON_MIB);
	printf("%7s %4s %-9s %10s %9s %8s %7s %6s %8s %8s %8s   %11s  %6s\n", "devices", "busy",
	       "mode", "passes", "empty-ns", "ns/dev", "polled", "cpu", "requests", "p50us",
	       "p99us", "+ns/idle", "p99x");
	for (k = 0; k < o->nvm_counts && rc == 0; k++)
		rc = run_count(o, o->vm_counts[k]);
	perf_backend_stop(&g_be);
	return rc;
}

const struct perf_test perf_test_neighbours = {
	.name = "neighbours",
	.help = "idle devices beside busy ones on one poll lcore: pass cost, service time",
	.run = neighbours_run,
};

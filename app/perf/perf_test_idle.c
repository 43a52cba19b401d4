/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --test idle: what an idle poll lcore costs and how fast it answers the first request
 * after idle, per polling mode, with --vms idle devices. The backend's poll loop runs on
 * an EAL worker lcore of this process (perf_backend) serving vmsim guests (16 MiB memfd
 * each, inflate + deflate queues, no stats). Per device count, busy polling (the
 * baseline) first, then each other mode of --poll-modes, in the same run:
 * - idle CPU: the poll thread's own CPU clock over --seconds of silence, and how often
 *   it went to sleep;
 * - first request after idle: --samples single requests, each posted once the lcore
 *   is idle (asleep; in poll mode after 2 ms without requests), timed with the TSC from
 *   post to ack as the guest sees it (post, kick, backend, call, guest wake-up);
 * - loaded: requests back to back from one guest for --seconds, one in flight, with
 *   the poll thread's CPU under that load.
 * Each row carries the baseline's figures of the same device count beside its own.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>

#include "vhost_balloon.h"
#include "vmsim.h"

#include "perf_backend.h"
#include "perf_test.h"

#define MiB		(1ULL << 20)
#define IDLE_MEM_MIB	16	/* vmsim's smallest guest */
#define POLL_GAP_MS	2	/* poll mode never sleeps: "idle" is this long without work */

static const enum vhb_poll_mode vhb_mode[PERF_PM_MAX] = {
	[PERF_PM_POLL] = VHB_POLL_BUSY,
	[PERF_PM_ADAPTIVE] = VHB_POLL_ADAPTIVE,
	[PERF_PM_INTERRUPT] = VHB_POLL_INTERRUPT,
	[PERF_PM_AUTO] = VHB_POLL_AUTO,
};

struct idle_guest {
	struct vhb_device *dev;
	struct vms_vm *vm;
	uint32_t pfn;		/* a free page, inflated and deflated in turn */
};

struct idle_row {
	uint32_t devices;
	enum perf_poll_mode mode;
	double cpu_pct;		/* poll thread CPU / wall while idle */
	double sleeps_s;
	double p50_us, p99_us, max_us;
	uint32_t samples;
	double req_s;
	double load_cpu_pct;
};

static struct perf_backend g_be;

static struct vhb_lcore_stats
lstats(void)
{
	struct vhb_lcore_stats st;

	memset(&st, 0, sizeof(st));
	vhb_lcore_get_stats(0, &st);
	return st;
}

static int
guest_up(struct idle_guest *g, unsigned int i)
{
	struct vhb_device_params dp = {
		.features = (1ULL << VHB_F_MUST_TELL_HOST) | (1ULL << VHB_F_DEFLATE_ON_OOM),
		.socket_gid = -1,
		.socket_mode = 0600,
		.lcore_id = g_be.lcore,
	};
	struct vms_vm_params vp;
	char path[128], name[32];
	uint64_t p;
	int rc;

	snprintf(name, sizeof(name), "idle%u", i);
	snprintf(path, sizeof(path), "%s/%s.sock", g_be.dir, name);
	dp.socket_path = path;
	dp.name = name;
	g->dev = vhb_device_create(&dp);
	if (g->dev == NULL) {
		printf("# device %u not created (rte_errno %d)\n", i, rte_errno);
		return -ENOSPC;
	}
	vms_vm_params_init(&vp);
	vp.socket_path = path;
	vp.mem_bytes = IDLE_MEM_MIB * MiB;
	vp.backing = VMS_BACKING_MEMFD;
	vp.connect_timeout_ms = 5000;
	vp.num_vqs = 2;
	vp.timeout_ms = 10000;
	g->vm = vms_vm_create(&vp);
	if (g->vm == NULL) {
		printf("# guest %u not created: %s\n", i, strerror(errno));
		return -ENOSPC;
	}
	rc = vms_vm_connect(g->vm);
	if (rc == 0)
		rc = vms_vm_start(g->vm);
	if (rc != 0) {
		printf("# guest %u: connect/start failed: %s\n", i, strerror(-rc));
		return -ENOSPC;
	}
	g->pfn = 0;
	for (p = (IDLE_MEM_MIB * MiB >> VMS_PAGE_SHIFT) - 1; p > 0 && g->pfn == 0; p--)
		if (vms_vm_page_state(g->vm, p) == VMS_PAGE_FREE)
			g->pfn = (uint32_t)p;
	return g->pfn != 0 ? 0 : -ENOSPC;
}

static void
guest_down(struct idle_guest *g)
{
	if (g->vm != NULL)
		vms_vm_destroy(g->vm);
	if (g->dev != NULL)
		vhb_device_destroy(g->dev);
	memset(g, 0, sizeof(*g));
}

/* One inflate or deflate of the guest's free page, acknowledged: TSC cycles, or 0. */
static uint64_t
request(struct idle_guest *g, int inflate, int *rc)
{
	uint32_t le = rte_cpu_to_le_32(g->pfn);
	uint64_t c0 = rte_rdtsc();

	*rc = vms_vm_send_pfns(g->vm, inflate ? VMS_VQ_INFLATE : VMS_VQ_DEFLATE, &le,
			       sizeof(le), true);
	return *rc == 0 ? rte_rdtsc() - c0 : 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The lcore is idle: asleep (it says so), or in poll mode POLL_GAP_MS without requests. */
static void
wait_idle(enum perf_poll_mode m, uint32_t idle_us)
{
	unsigned int i;

	if (m == PERF_PM_POLL) {
		perf_sleep_ms(POLL_GAP_MS);
		return;
	}
	perf_sleep_ms(idle_us / 1000 + 1);
	for (i = 0; i < 1000 && !lstats().sleeping; i++)
		perf_sleep_ms(1);
}

static int
measure(const struct perf_options *o, const struct perf_tsc *tsc, struct idle_guest *g,
	enum perf_poll_mode m, struct idle_row *r)
{
	struct vhb_poll_params pp = {
		.mode = vhb_mode[m],
		.idle_us = o->idle_us,
		.max_sleep_ms = VHB_POLL_MAX_SLEEP_MS_DEFAULT,
	};
	struct vhb_lcore_stats s0, s1;
	uint64_t *lat, c0, c1, t0, t1, n;
	unsigned int i;
	int rc;

	r->mode = m;
	r->devices = lstats().ndevices;
	rc = vhb_set_poll_params(&pp);
	if (rc != 0)
		return rc;
	perf_sleep_ms(300);	/* warm-up: the lcore settles into the mode */

	/* Idle cost. */
	s0 = lstats();
	c0 = perf_backend_cpu_ns();
	t0 = perf_clock_ns(CLOCK_MONOTONIC);
	perf_sleep_ms(o->seconds * 1000);
	c1 = perf_backend_cpu_ns();
	t1 = perf_clock_ns(CLOCK_MONOTONIC);
	s1 = lstats();
	r->cpu_pct = 100.0 * (double)(c1 - c0) / (double)(t1 - t0);
	r->sleeps_s = (double)(s1.sleeps - s0.sleeps) * 1e9 / (double)(t1 - t0);

	/* First request after idle, on guest 0; inflate and deflate alternate. */
	lat = calloc(o->samples, sizeof(*lat));
	if (lat == NULL)
		return -ENOMEM;
	for (i = 0; i < o->samples && rc == 0; i++) {
		wait_idle(m, o->idle_us);
		lat[i] = request(&g[0], i % 2 == 0, &rc);
	}
	if (rc == 0 && o->samples % 2 != 0)
		request(&g[0], 0, &rc);
	if (rc != 0) {
		free(lat);
		return rc;
	}
	qsort(lat, o->samples, sizeof(*lat), cmp_u64);
	r->samples = o->samples;
	r->p50_us = perf_tsc_ns(tsc, lat[o->samples / 2]) / 1e3;
	r->p99_us = perf_tsc_ns(tsc, lat[(o->samples * 99) / 100]) / 1e3;
	r->max_us = perf_tsc_ns(tsc, lat[o->samples - 1]) / 1e3;
	free(lat);

	/* Under load: back to back on guest 0 (the guest thread is the other core). */
	n = 0;
	c0 = perf_backend_cpu_ns();
	t0 = perf_clock_ns(CLOCK_MONOTONIC);
	do {
		request(&g[0], 1, &rc);
		if (rc == 0)
			request(&g[0], 0, &rc);
		n += 2;
		t1 = perf_clock_ns(CLOCK_MONOTONIC);
	} while (rc == 0 && t1 - t0 < (uint64_t)o->seconds * 1000000000ULL);
	c1 = perf_backend_cpu_ns();
	r->req_s = (double)n * 1e9 / (double)(t1 - t0);
	r->load_cpu_pct = 100.0 * (double)(c1 - c0) / (double)(t1 - t0);
	return rc;
}

static void
print_header(const struct perf_options *o)
{
	if (o->json)
		return;
	if (o->csv) {
		printf("devices,mode,idle_cpu_pct,poll_idle_cpu_pct,sleeps_per_s,first_p50_us,"
		       "poll_first_p50_us,first_p99_us,poll_first_p99_us,first_max_us,samples,"
		       "loaded_req_per_s,poll_loaded_req_per_s,loaded_cpu_pct\n");
		return;
	}
	printf("%7s %-9s %9s %9s %8s %8s %8s %8s %8s %8s %7s %9s %10s %9s\n", "devices", "mode",
	       "idle-CPU%", "poll-CPU%", "sleeps/s", "1st-p50", "poll-p50", "1st-p99", "poll-p99",
	       "1st-max", "samples", "req/s", "poll-req/s", "load-CPU%");
	printf("%7s %-9s %9s %9s %8s %8s %8s %8s %8s %8s %7s %9s %10s %9s\n", "", "", "(lcore)",
	       "(lcore)", "", "(us)", "(us)", "(us)", "(us)", "(us)", "", "(loaded)", "(loaded)",
	       "(lcore)");
}

static void
print_row(const struct perf_options *o, const struct idle_row *r, const struct idle_row *b)
{
	const char *mode = perf_poll_mode_name(r->mode);

	if (o->json)
		printf("{\"devices\":%u,\"mode\":\"%s\",\"idle_cpu_pct\":%.3f,"
		       "\"poll_idle_cpu_pct\":%.3f,\"sleeps_per_s\":%.1f,\"first_p50_us\":%.1f,"
		       "\"poll_first_p50_us\":%.1f,\"first_p99_us\":%.1f,"
		       "\"poll_first_p99_us\":%.1f,\"first_max_us\":%.1f,\"samples\":%u,"
		       "\"loaded_req_per_s\":%.0f,\"poll_loaded_req_per_s\":%.0f,"
		       "\"loaded_cpu_pct\":%.1f}\n", r->devices, mode, r->cpu_pct, b->cpu_pct,
		       r->sleeps_s, r->p50_us, b->p50_us, r->p99_us, b->p99_us, r->max_us,
		       r->samples, r->req_s, b->req_s, r->load_cpu_pct);
	else if (o->csv)
		printf("%u,%s,%.3f,%.3f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%u,%.0f,%.0f,%.1f\n",
		       r->devices, mode, r->cpu_pct, b->cpu_pct, r->sleeps_s, r->p50_us,
		       b->p50_us, r->p99_us, b->p99_us, r->max_us, r->samples, r->req_s,
		       b->req_s, r->load_cpu_pct);
	else
		printf("%7u %-9s %9.3f %9.3f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %7u %9.0f %10.0f"
		       " %9.1f\n", r->devices, mode, r->cpu_pct, b->cpu_pct, r->sleeps_s,
		       r->p50_us, b->p50_us, r->p99_us, b->p99_us, r->max_us, r->samples,
		       r->req_s, b->req_s, r->load_cpu_pct);
	fflush(stdout);
}

static int
idle_run(const struct perf_options *o, const struct perf_tsc *tsc)
{
	struct vhb_poll_params pp;
	struct idle_guest *g;
	struct idle_row base, r;
	uint32_t k, maxdev = 0, up = 0, m;
	int rc;

	if (!o->eal) {
		fprintf(stderr, "test idle runs the backend in this process: give EAL arguments,"
			" e.g. -l 0-1 --no-huge -m 256 --no-pci -- --test idle\n");
		return -EINVAL;
	}
	for (k = 0; k < o->nvm_counts; k++)
		maxdev = RTE_MAX(maxdev, o->vm_counts[k]);
	g = calloc(maxdev, sizeof(*g));
	if (g == NULL)
		return -ENOMEM;
	/* Busy polling while guests come up; measure() sets each mode. */
	vhb_poll_params_default(&pp);
	pp.mode = VHB_POLL_BUSY;
	pp.idle_us = o->idle_us;
	rc = perf_backend_start(&g_be, &pp, "idle");
	if (rc != 0) {
		free(g);
		return rc;
	}
	if (!perf_backend_cpu_known()) {
		fprintf(stderr, "test idle: the poll thread's CPU clock is unknown\n");
		rc = -ENOTSUP;
	}
	printf("# one poll lcore (lcore %u) serving guests of %u MiB memfd (inflate + deflate"
	       " queues); per mode %u s idle, %u first-request samples, %u s loaded;"
	       " adaptive idle %u us\n# poll-* columns: the busy-poll baseline of the same"
	       " device count, measured first; latencies are guest round trips (TSC)\n",
	       g_be.lcore, (unsigned int)IDLE_MEM_MIB, o->seconds, o->samples, o->seconds,
	       o->idle_us);
	print_header(o);
	for (k = 0; k < o->nvm_counts && rc == 0; k++) {
		while (up < o->vm_counts[k] && rc == 0) {
			rc = guest_up(&g[up], up);
			up++;
		}
		if (rc != 0)
			break;
		while (up > o->vm_counts[k])
			guest_down(&g[--up]);
		rc = measure(o, tsc, g, PERF_PM_POLL, &base);
		if (rc == 0)
			print_row(o, &base, &base);
		for (m = PERF_PM_POLL + 1; m < PERF_PM_MAX && rc == 0; m++) {
			if (!(o->poll_modes & (1U << m)))
				continue;
			rc = measure(o, tsc, g, (enum perf_poll_mode)m, &r);
			if (rc == 0)
				print_row(o, &r, &base);
		}
	}
	if (rc == -ENOSPC) {
		/* rte_vhost 22.11's fdset: about 500 devices in one process. */
		printf("# stopped: guest %u did not come up (the most this process accepts"
		       " here)\n", up - 1);
		rc = 0;
	}
	while (up > 0)
		guest_down(&g[--up]);
	free(g);
	perf_backend_stop(&g_be);
	return rc;
}

const struct perf_test perf_test_idle = {
	.name = "idle",
	.help = "polling modes: idle poll-lcore CPU, first request after idle, loaded req/s,"
		" beside busy polling",
	.run = idle_run,
};

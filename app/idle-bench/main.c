/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-balloon-idle-bench: what an idle poll lcore costs and how fast it answers
 * the first request after idle, per polling mode, with 1..N idle guests.
 *
 * The real library serves N vmsim guests (16 MiB memfd each, inflate + deflate
 * queues) on one poll lcore. Per mode: the lcore thread's CPU time over --seconds
 * of silence (its own CPU clock), then --samples requests each sent after the lcore
 * went idle (asleep, or 2 ms of nothing in poll mode) timed from post to ack as
 * the guest sees it, then requests back to back for --seconds (throughput).
 * Poll mode is the baseline, measured in the same run.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "vhost_balloon.h"
#include "vmsim.h"

#define MAX_COUNTS	8
#define MiB		((uint64_t)1 << 20)
#define POLL_LCORE	1

struct opts {
	unsigned int counts[MAX_COUNTS];
	unsigned int ncounts;
	unsigned int seconds;
	unsigned int samples;
	uint32_t idle_us;
	bool csv;
};

struct guest {
	struct vhb_device *dev;
	struct vms_vm *vm;
	uint32_t pfn;
};

static char g_dir[64];
static clockid_t g_lcore_clock;
static uint32_t g_clock_ready;

static void
die(const char *what, int err)
{
	fprintf(stderr, "idle-bench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static int
record_clock(void *arg)
{
	RTE_SET_USED(arg);
	if (pthread_getcpuclockid(pthread_self(), &g_lcore_clock) == 0)
		__atomic_store_n(&g_clock_ready, 1, __ATOMIC_RELEASE);
	return 0;
}

static uint64_t
lcore_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(g_lcore_clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static struct vhb_lcore_stats
lstats(void)
{
	struct vhb_lcore_stats st;

	vhb_lcore_get_stats(0, &st);
	return st;
}

static void
usage(const char *prog)
{
	printf("usage: %s [--devices 1,64,256] [--seconds 3] [--samples 200] [--idle-us 1000] "
	       "[--csv]\n", prog);
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "devices", required_argument, NULL, 'd' },
		{ "seconds", required_argument, NULL, 's' },
		{ "samples", required_argument, NULL, 'n' },
		{ "idle-us", required_argument, NULL, 'i' },
		{ "csv", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *tok, *save = NULL;
	int c;

	o->counts[0] = 1;
	o->counts[1] = 64;
	o->counts[2] = 256;
	o->ncounts = 3;
	o->seconds = 3;
	o->samples = 200;
	o->idle_us = VHB_POLL_IDLE_US_DEFAULT;
	o->csv = false;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->ncounts = 0;
			for (tok = strtok_r(optarg, ",", &save); tok != NULL;
			     tok = strtok_r(NULL, ",", &save)) {
				if (o->ncounts == MAX_COUNTS)
					return -EINVAL;
				o->counts[o->ncounts] = (unsigned int)strtoul(tok, NULL, 10);
				if (o->counts[o->ncounts] == 0 || o->counts[o->ncounts] > 1000)
					return -EINVAL;
				o->ncounts++;
			}
			break;
		case 's':
			o->seconds = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			o->samples = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'i':
			o->idle_us = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			o->csv = true;
			break;
		default:
			usage(argv[0]);
			return -EINVAL;
		}
	}
	if (o->ncounts == 0 || o->seconds == 0 || o->seconds > 60 || o->samples < 10 ||
	    o->samples > 100000)
		return -EINVAL;
	return 0;
}

static void
guest_up(struct guest *g, unsigned int i)
{
	const uint64_t f = (1ULL << VHB_F_MUST_TELL_HOST) | (1ULL << VHB_F_DEFLATE_ON_OOM);
	struct vhb_device_params dp = {
		.features = f,
		.socket_gid = -1,
		.socket_mode = 0600,
		.lcore_id = POLL_LCORE,
	};
	struct vms_vm_params vp;
	char path[128], name[32];
	uint64_t p;
	int rc;

	snprintf(name, sizeof(name), "idle%u", i);
	snprintf(path, sizeof(path), "%s/%s.sock", g_dir, name);
	dp.socket_path = path;
	dp.name = name;
	g->dev = vhb_device_create(&dp);
	if (g->dev == NULL)
		die("device", rte_errno);
	vms_vm_params_init(&vp);
	vp.socket_path = path;
	vp.mem_bytes = 16 * MiB;
	vp.backing = VMS_BACKING_MEMFD;
	vp.connect_timeout_ms = 5000;
	vp.num_vqs = 2;
	vp.timeout_ms = 10000;
	g->vm = vms_vm_create(&vp);
	if (g->vm == NULL)
		die("guest", errno);
	rc = vms_vm_connect(g->vm);
	if (rc == 0)
		rc = vms_vm_start(g->vm);
	if (rc != 0)
		die("guest start", rc);
	g->pfn = 0;
	for (p = (16 * MiB >> VMS_PAGE_SHIFT) - 1; p > 0 && g->pfn == 0; p--)
		if (vms_vm_page_state(g->vm, p) == VMS_PAGE_FREE)
			g->pfn = (uint32_t)p;
}

static void
guest_down(struct guest *g)
{
	vms_vm_destroy(g->vm);
	vhb_device_destroy(g->dev);
}

/* One inflate or deflate of the guest's free page; returns post-to-ack time in ns. */
static uint64_t
request(struct guest *g, bool inflate)
{
	uint32_t le = rte_cpu_to_le_32(g->pfn);
	uint64_t t0 = mono_ns();
	int rc;

	rc = vms_vm_send_pfns(g->vm, inflate ? VMS_VQ_INFLATE : VMS_VQ_DEFLATE, &le, sizeof(le),
			      true);
	if (rc != 0)
		die("request not served", rc);
	return mono_ns() - t0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The lcore is idle: asleep (it announces it), or in poll mode 2 ms without requests. */
static void
wait_idle(enum vhb_poll_mode mode, uint32_t idle_us)
{
	unsigned int i;

	if (mode == VHB_POLL_BUSY) {
		sleep_ms(2);
		return;
	}
	sleep_ms(idle_us / 1000 + 1);
	for (i = 0; i < 1000 && !lstats().sleeping; i++)
		sleep_ms(1);
}

struct row {
	unsigned int ndev;
	enum vhb_poll_mode mode;
	double cpu_pct;
	double sleeps_s;
	uint64_t p50, p99, max;
	double req_s;
	double load_cpu_pct;
};

static void
print_row(const struct opts *o, const struct row *r)
{
	if (o->csv) {
		printf("%u,%s,%.3f,%.1f,%.1f,%.1f,%.1f,%.0f,%.1f\n", r->ndev,
		       vhb_poll_mode_name(r->mode), r->cpu_pct, r->sleeps_s, r->p50 / 1e3,
		       r->p99 / 1e3, r->max / 1e3, r->req_s, r->load_cpu_pct);
		return;
	}
	printf("%7u  %-9s  %9.3f  %9.1f  %8.1f  %8.1f  %8.1f  %9.0f  %8.1f\n", r->ndev,
	       vhb_poll_mode_name(r->mode), r->cpu_pct, r->sleeps_s, r->p50 / 1e3, r->p99 / 1e3,
	       r->max / 1e3, r->req_s, r->load_cpu_pct);
}

static void
measure(const struct opts *o, struct guest *g, unsigned int ndev, enum vhb_poll_mode mode)
{
	struct vhb_poll_params pp = {
		.mode = mode,
		.idle_us = o->idle_us,
		.max_sleep_ms = VHB_POLL_MAX_SLEEP_MS_DEFAULT,
	};
	struct vhb_lcore_stats s0, s1;
	uint64_t *lat, c0, c1, t0, t1, n;
	struct row r = { .ndev = ndev, .mode = mode };
	unsigned int i;
	int rc;

	rc = vhb_set_poll_params(&pp);
	if (rc != 0)
		die("poll params", rc);
	/* Warm-up: the lcore settles into the mode. */
	sleep_ms(300);

	/* Idle cost. */
	s0 = lstats();
	c0 = lcore_cpu_ns();
	t0 = mono_ns();
	sleep_ms(o->seconds * 1000);
	c1 = lcore_cpu_ns();
	t1 = mono_ns();
	s1 = lstats();
	r.cpu_pct = 100.0 * (double)(c1 - c0) / (double)(t1 - t0);
	r.sleeps_s = (double)(s1.sleeps - s0.sleeps) * 1e9 / (double)(t1 - t0);

	/* First request after idle, on guest 0. */
	lat = calloc(o->samples, sizeof(*lat));
	if (lat == NULL)
		die("alloc", ENOMEM);
	for (i = 0; i < o->samples; i++) {
		wait_idle(mode, o->idle_us);
		lat[i] = request(&g[0], i % 2 == 0);
	}
	if (o->samples % 2 != 0)
		request(&g[0], false);
	qsort(lat, o->samples, sizeof(*lat), cmp_u64);
	r.p50 = lat[o->samples / 2];
	r.p99 = lat[(o->samples * 99) / 100];
	r.max = lat[o->samples - 1];
	free(lat);

	/* Under load: back to back on guest 0 (the guest thread is the other core). */
	n = 0;
	c0 = lcore_cpu_ns();
	t0 = mono_ns();
	do {
		request(&g[0], true);
		request(&g[0], false);
		n += 2;
		t1 = mono_ns();
	} while (t1 - t0 < (uint64_t)o->seconds * 1000000000ULL);
	c1 = lcore_cpu_ns();
	r.req_s = (double)n * 1e9 / (double)(t1 - t0);
	r.load_cpu_pct = 100.0 * (double)(c1 - c0) / (double)(t1 - t0);
	print_row(o, &r);
}

int
main(int argc, char **argv)
{
	static const enum vhb_poll_mode modes[] = {
		VHB_POLL_BUSY, VHB_POLL_ADAPTIVE, VHB_POLL_INTERRUPT,
	};
	char prefix[32];
	char *eal[] = {
		argv[0], (char *)(uintptr_t)"-l", (char *)(uintptr_t)"0-1",
		(char *)(uintptr_t)"--no-huge", (char *)(uintptr_t)"-m", (char *)(uintptr_t)"512",
		(char *)(uintptr_t)"--no-pci", (char *)(uintptr_t)"--no-telemetry",
		(char *)(uintptr_t)"--file-prefix", prefix,
		(char *)(uintptr_t)"--log-level", (char *)(uintptr_t)"lib.vhb.*:warning",
		(char *)(uintptr_t)"--log-level", (char *)(uintptr_t)"lib.vhost.*:error",
		(char *)(uintptr_t)"--log-level", (char *)(uintptr_t)"lib.eal.*:error",
	};
	unsigned int lcore = POLL_LCORE, k, m, i, maxdev = 0;
	struct guest *g;
	struct opts o;
	int rc;

	if (parse(argc, argv, &o) != 0) {
		usage(argv[0]);
		return 2;
	}
	snprintf(prefix, sizeof(prefix), "vhbidle%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0)
		die("EAL init", rte_errno);
	snprintf(g_dir, sizeof(g_dir), "/tmp/vhbidle.XXXXXX");
	if (mkdtemp(g_dir) == NULL)
		die("mkdtemp", errno);
	rc = vhb_init(&lcore, 1);
	if (rc != 0)
		die("vhb_init", rc);
	rte_eal_remote_launch(record_clock, NULL, POLL_LCORE);
	rte_eal_wait_lcore(POLL_LCORE);
	if (!__atomic_load_n(&g_clock_ready, __ATOMIC_ACQUIRE))
		die("lcore CPU clock", ENOTSUP);
	if (rte_eal_remote_launch(vhb_lcore_loop, NULL, POLL_LCORE) != 0)
		die("launch", EBUSY);
	for (k = 0; k < o.ncounts; k++)
		maxdev = RTE_MAX(maxdev, o.counts[k]);
	g = calloc(maxdev, sizeof(*g));
	if (g == NULL)
		die("alloc", ENOMEM);

	printf("idle-bench: one poll lcore (lcore %u), guests of 16 MiB memfd (inflate+deflate "
	       "queues), %u s per measurement, %u first-request samples, adaptive idle %u us, "
	       "TSC %" PRIu64 " Hz\n", POLL_LCORE, o.seconds, o.samples, o.idle_us,
	       rte_get_tsc_hz());
	if (o.csv)
		printf("devices,mode,idle_cpu_pct,sleeps_per_s,first_p50_us,first_p99_us,"
		       "first_max_us,loaded_req_per_s,loaded_cpu_pct\n");
	else
		printf("%7s  %-9s  %9s  %9s  %8s  %8s  %8s  %9s  %8s\n", "devices", "mode",
		       "idle CPU%", "sleeps/s", "1st p50", "1st p99", "1st max", "loaded", "load CPU%");
	if (!o.csv)
		printf("%7s  %-9s  %9s  %9s  %8s  %8s  %8s  %9s  %8s\n", "", "", "(lcore)", "",
		       "(us)", "(us)", "(us)", "(req/s)", "(lcore)");
	i = 0;
	for (k = 0; k < o.ncounts; k++) {
		while (i < o.counts[k]) {
			guest_up(&g[i], i);
			i++;
		}
		while (i > o.counts[k])
			guest_down(&g[--i]);
		for (m = 0; m < RTE_DIM(modes); m++)
			measure(&o, g, o.counts[k], modes[m]);
	}
	while (i > 0)
		guest_down(&g[--i]);
	free(g);
	vhb_stop();
	rte_eal_mp_wait_lcore();
	vhb_cleanup();
	rmdir(g_dir);
	rte_eal_cleanup();
	return 0;
}

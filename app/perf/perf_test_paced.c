/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --test paced: what ballooning costs the host when guests pace their requests as a
 * Linux guest does. Each balloon step is the driver's: GET_CONFIG, one request of 256
 * PFNs, its ack, SET_CONFIG; then the guest thinks for --think-us before the next step
 * (a real guest's step takes 0.1-5 ms: it allocates the pages, waits for its interrupt,
 * updates `actual`). Every VM has its own thread.
 *
 * Per backing and think time, per polling mode (poll first: the busy baseline), and
 * then interrupt mode with per-page release, QEMU's own release path: fresh guests of
 * --mem MiB (every page populated) inflate --volume MiB each. Printed per GiB inflated:
 * wall time, and the backend's CPU time: every thread of this process except the
 * guests' and the main thread's (the poll lcore, vhost-events, EAL and telemetry
 * threads), from the process's own CPU clock; the poll lcore's, vhost-events' and the
 * gate's (vhb-gate) shares beside it. Ratios against the interrupt row (CPU) and the poll row (wall) of the same
 * run close each row. The last row is the kernel's floor: the final balloon's ranges
 * punched on a fresh populated file (the release alone, without any ring or request).
 */

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "vhost_balloon.h"
#include "vmsim.h"

#include "perf_backend.h"
#include "perf_ring_guest.h"
#include "perf_test.h"

#define MiB		(1ULL << 20)
#define GiB		(1ULL << 30)
#define ROW_QEMU	PERF_PM_MAX	/* interrupt + per-page release */
#define ROW_FLOOR	(PERF_PM_MAX + 1)	/* the kernel alone */
#define NROWS		(PERF_PM_MAX + 2)

static const enum vhb_poll_mode vhb_mode[NROWS] = {
	[PERF_PM_POLL] = VHB_POLL_BUSY,
	[PERF_PM_ADAPTIVE] = VHB_POLL_ADAPTIVE,
	[PERF_PM_INTERRUPT] = VHB_POLL_INTERRUPT,
	[PERF_PM_AUTO] = VHB_POLL_AUTO,
	[ROW_QEMU] = VHB_POLL_INTERRUPT,
	[ROW_FLOOR] = VHB_POLL_INTERRUPT,
};

struct paced_vm {
	struct vhb_device *dev;
	struct vms_vm *vm;
	uint32_t think_us;
	uint32_t target;
	uint64_t steps;
	uint64_t cpu_ns;	/* the guest thread's own CPU */
	int rc;
};

struct paced_row {
	const char *name;
	double wall_s_gib, cpu_s_gib, lcore_s_gib, events_s_gib, gate_s_gib;
	double sleeps_req, kicks_req;
	double awake_us_req, busy_us_req;	/* poll lcore, TSC: awake, in busy passes */
	uint64_t requests;
};

static struct perf_backend g_be;

static uint64_t
thread_cpu_ns(void)
{
	return perf_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* CPU time (ns) of the thread named comm* (its schedstat); 0 if not found. */
static uint64_t
named_thread_cpu_ns(const char *name)
{
	char path[300], comm[32];
	unsigned long long ns = 0;
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");
	FILE *f;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		comm[0] = '\0';
		if (fgets(comm, sizeof(comm), f) == NULL)
			comm[0] = '\0';
		fclose(f);
		if (strncmp(comm, name, strlen(name)) != 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", de->d_name);
		f = fopen(path, "r");
		if (f != NULL) {
			if (fscanf(f, "%llu", &ns) != 1)
				ns = 0;
			fclose(f);
		}
		break;
	}
	closedir(d);
	return ns;
}

/* Linux's balloon work, one step at a time, thinking between steps, until the target. */
static void *
guest_thread(void *arg)
{
	struct paced_vm *p = arg;
	struct timespec think = {
		.tv_sec = p->think_us / 1000000, .tv_nsec = (long)(p->think_us % 1000000) * 1000,
	};
	struct vms_config cfg;
	int rc;

	for (;;) {
		vms_vm_config(p->vm, &cfg);
		if (cfg.num_pages == p->target && cfg.actual == p->target)
			break;
		rc = vms_vm_poll(p->vm, 10);
		if (rc < 0) {
			p->rc = rc;
			break;
		}
		if (rc > 0) {
			p->steps += (uint64_t)rc;
			if (p->think_us != 0)
				nanosleep(&think, NULL);
		}
	}
	p->cpu_ns = thread_cpu_ns();
	return NULL;
}

/* All guests to target (pages); their threads' CPU summed into *guest_ns. */
static int
balloon_all(struct paced_vm *v, uint32_t nvms, uint32_t pages, uint32_t think_us,
	    uint64_t *guest_ns, uint64_t *steps)
{
	pthread_t *t = calloc(nvms, sizeof(*t));
	uint32_t i;
	int rc = 0;

	if (t == NULL)
		return -ENOMEM;
	for (i = 0; i < nvms; i++) {
		v[i].think_us = think_us;
		v[i].target = pages;
		v[i].steps = 0;
		v[i].rc = 0;
		rc = vhb_device_set_target_pages(v[i].dev, pages);
		if (rc != 0)
			break;
	}
	for (i = 0; i < nvms && rc == 0; i++)
		if (pthread_create(&t[i], NULL, guest_thread, &v[i]) != 0)
			rc = -EAGAIN;
	nvms = rc == 0 ? nvms : i;
	for (i = 0; i < nvms; i++) {
		pthread_join(t[i], NULL);
		*guest_ns += v[i].cpu_ns;
		*steps += v[i].steps;
		if (v[i].rc != 0 && rc == 0)
			rc = v[i].rc;
	}
	free(t);
	return rc;
}

static void
guests_down(struct paced_vm *v, uint32_t nvms)
{
	uint32_t i;

	for (i = 0; i < nvms; i++) {
		if (v[i].vm != NULL)
			vms_vm_destroy(v[i].vm);
		if (v[i].dev != NULL)
			vhb_device_destroy(v[i].dev);
	}
	memset(v, 0, nvms * sizeof(*v));
}

/* Fresh devices and guests (every page populated), started. */
static int
guests_up(const struct perf_options *o, enum perf_backing bk, struct paced_vm *v,
	  uint32_t nvms, int per_page)
{
	struct vhb_device_params dp = {
		.features = (1ULL << VHB_F_MUST_TELL_HOST) | (1ULL << VHB_F_DEFLATE_ON_OOM),
		.socket_gid = -1,
		.socket_mode = 0600,
		.lcore_id = g_be.lcore,
	};
	struct vms_vm_params vp;
	char path[128], name[32];
	uint32_t i;
	int rc = 0;

	for (i = 0; i < nvms && rc == 0; i++) {
		snprintf(name, sizeof(name), "paced%u", i);
		snprintf(path, sizeof(path), "%s/%s.sock", g_be.dir, name);
		dp.socket_path = path;
		dp.name = name;
		v[i].dev = vhb_device_create(&dp);
		if (v[i].dev == NULL)
			return -rte_errno;
		vms_vm_params_init(&vp);
		vp.socket_path = path;
		vp.mem_bytes = o->mem_mib * MiB;
		vp.backing = bk == PERF_BACKING_HUGETLBFS ? VMS_BACKING_HUGETLBFS :
			     VMS_BACKING_MEMFD;
		vp.hugetlbfs_dir = o->hugetlbfs_dir;
		vp.connect_timeout_ms = 5000;
		vp.num_vqs = 2;
		vp.timeout_ms = 10000;
		v[i].vm = vms_vm_create(&vp);
		if (v[i].vm == NULL)
			return -errno;
		rc = vms_vm_connect(v[i].vm);
		if (rc == 0)
			rc = vms_vm_start(v[i].vm);
		if (rc == 0 && per_page)
			rc = vhb_device_set_release_mode(v[i].dev, VHB_DEVICE_RELEASE_PER_PAGE);
	}
	return rc;
}

/*
 * The kernel's floor after the interrupt row: the final balloon of each guest punched
 * on a fresh file like its backing, mapped twice and populated, in coalesced ranges
 * (thread CPU of the fallocate calls).
 */
static int
floor_row(const struct perf_options *o, enum perf_backing bk, struct paced_vm *v,
	  uint32_t nvms, uint64_t gib, struct paced_row *f)
{
	uint64_t ns = 0, calls = 0, bytes = 0;
	uint32_t i;
	int rc = 0;

	for (i = 0; i < nvms && rc == 0; i++) {
		vms_vm_disconnect(v[i].vm);
		rc = ring_raw_floor(v[i].vm, bk, o->hugetlbfs_dir, &ns, &calls, &bytes);
	}
	f->name = "floor";
	f->cpu_s_gib = (double)ns / 1e9 * GiB / (double)gib;
	f->requests = calls;
	return rc;
}

static int
measure(const struct perf_options *o, enum perf_backing bk, uint32_t think_us,
	unsigned int row, struct paced_row *r, struct paced_row *floor)
{
	uint32_t nvms = o->vm_counts[0];
	uint64_t volume = o->volume_mib != 0 ? o->volume_mib : o->mem_mib / 2;
	uint32_t pages = (uint32_t)(volume * MiB / VMS_PAGE_SIZE);
	struct vhb_poll_params pp;
	struct vhb_lcore_stats s0, s1;
	uint64_t p0, p1, m0, m1, l0, l1, e0, e1, g0, g1, t0, t1, guest_ns = 0, steps = 0, gib;
	struct paced_vm *v = calloc(nvms, sizeof(*v));
	int rc;

	if (v == NULL)
		return -ENOMEM;
	r->name = row == ROW_QEMU ? "qemu-path" : perf_poll_mode_name((enum perf_poll_mode)row);
	vhb_poll_params_default(&pp);
	pp.mode = vhb_mode[row];
	pp.idle_us = o->idle_us;
	rc = vhb_set_poll_params(&pp);
	if (rc == 0)
		rc = guests_up(o, bk, v, nvms, row == ROW_QEMU);
	if (rc != 0)
		goto out;
	perf_sleep_ms(200);	/* the lcore settles into the mode */
	memset(&s0, 0, sizeof(s0));
	memset(&s1, 0, sizeof(s1));
	vhb_lcore_get_stats(0, &s0);
	p0 = perf_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	m0 = thread_cpu_ns();
	l0 = perf_backend_cpu_ns();
	e0 = named_thread_cpu_ns("vhost-events");
	g0 = named_thread_cpu_ns("vhb-gate");
	t0 = perf_clock_ns(CLOCK_MONOTONIC);
	rc = balloon_all(v, nvms, pages, think_us, &guest_ns, &steps);
	t1 = perf_clock_ns(CLOCK_MONOTONIC);
	g1 = named_thread_cpu_ns("vhb-gate");
	e1 = named_thread_cpu_ns("vhost-events");
	l1 = perf_backend_cpu_ns();
	m1 = thread_cpu_ns();
	p1 = perf_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	vhb_lcore_get_stats(0, &s1);
	if (rc != 0)
		goto out;
	gib = (uint64_t)nvms * volume * MiB;
	r->requests = steps;
	r->wall_s_gib = (double)(t1 - t0) / 1e9 * GiB / (double)gib;
	r->cpu_s_gib = (double)(p1 - p0 - guest_ns - (m1 - m0)) / 1e9 * GiB / (double)gib;
	r->lcore_s_gib = (double)(l1 - l0) / 1e9 * GiB / (double)gib;
	r->events_s_gib = (double)(e1 - e0) / 1e9 * GiB / (double)gib;
	r->gate_s_gib = (double)(g1 - g0) / 1e9 * GiB / (double)gib;
	r->sleeps_req = steps == 0 ? 0 : (double)(s1.sleeps - s0.sleeps) / (double)steps;
	r->kicks_req = steps == 0 ? 0 : (double)(s1.wakeups_kick - s0.wakeups_kick) /
					 (double)steps;
	if (steps != 0) {
		double hz = (double)s1.tsc_hz;

		r->awake_us_req = (double)(s1.poll_cycles - s0.poll_cycles) / hz * 1e6 /
				  (double)steps;
		r->busy_us_req = (double)(s1.busy_cycles - s0.busy_cycles) / hz * 1e6 /
				 (double)steps;
	}
	if (row == PERF_PM_AUTO && !o->csv && !o->json)
		printf("# auto learned: gap %.1f us, sleep cost %.1f us, polls %.1f us after work\n",
		       s1.auto_gap_ns / 1e3, s1.auto_sleep_cost_ns / 1e3, s1.auto_spin_ns / 1e3);
	if (floor != NULL)
		rc = floor_row(o, bk, v, nvms, gib, floor);
out:
	guests_down(v, nvms);
	free(v);
	return rc;
}

static void
print_header(const struct perf_options *o)
{
	if (o->json)
		return;
	if (o->csv) {
		printf("backing,think_us,mode,requests,wall_s_per_gib,cpu_s_per_gib,"
		       "lcore_s_per_gib,events_s_per_gib,gate_s_per_gib,awake_us_per_req,busy_us_per_req,"
		       "sleeps_per_req,kick_wakeups_per_req,cpu_vs_interrupt,wall_vs_poll\n");
		return;
	}
	printf("%-9s %5s %-9s %5s %7s %7s %7s %7s %7s %7s %7s %6s %6s %7s %7s\n", "backing",
	       "think", "mode", "reqs", "wall", "CPU", "lcore", "events", "gate", "awake", "busy",
	       "sleeps", "kicks", "CPU/", "wall/");
	printf("%-9s %5s %-9s %5s %7s %7s %7s %7s %7s %7s %7s %6s %6s %7s %7s\n", "", "(us)", "",
	       "", "(s/GiB)", "(s/GiB)", "(s/GiB)", "(s/GiB)", "(s/GiB)", "(us/req)", "(us/req)",
	       "/req", "/req", "intr", "poll");
}

static void
print_row(const struct perf_options *o, enum perf_backing bk, uint32_t think_us,
	  const struct paced_row *r, const struct paced_row *intr, const struct paced_row *poll)
{
	/* 0 when the baseline row was not measured (--poll-modes without it). */
	double cpu_x = intr->cpu_s_gib > 0 ? r->cpu_s_gib / intr->cpu_s_gib : 0;
	double wall_x = poll->wall_s_gib > 0 ? r->wall_s_gib / poll->wall_s_gib : 0;

	if (o->json)
		printf("{\"backing\":\"%s\",\"think_us\":%u,\"mode\":\"%s\",\"requests\":%" PRIu64
		       ",\"wall_s_per_gib\":%.4f,\"cpu_s_per_gib\":%.4f,\"lcore_s_per_gib\":%.4f,"
		       "\"events_s_per_gib\":%.4f,\"gate_s_per_gib\":%.4f,"
		       "\"awake_us_per_req\":%.1f,"
		       "\"busy_us_per_req\":%.1f,\"sleeps_per_req\":%.2f,"
		       "\"kick_wakeups_per_req\":%.2f,\"cpu_vs_interrupt\":%.3f,"
		       "\"wall_vs_poll\":%.3f}\n", perf_backing_name(bk), think_us, r->name,
		       r->requests, r->wall_s_gib, r->cpu_s_gib, r->lcore_s_gib, r->events_s_gib,
		       r->gate_s_gib, r->awake_us_req, r->busy_us_req, r->sleeps_req, r->kicks_req,
		       cpu_x, wall_x);
	else if (o->csv)
		printf("%s,%u,%s,%" PRIu64 ",%.4f,%.4f,%.4f,%.4f,%.4f,%.1f,%.1f,%.2f,%.2f,%.3f,"
		       "%.3f\n", perf_backing_name(bk), think_us, r->name, r->requests,
		       r->wall_s_gib, r->cpu_s_gib, r->lcore_s_gib, r->events_s_gib, r->gate_s_gib,
		       r->awake_us_req, r->busy_us_req, r->sleeps_req, r->kicks_req, cpu_x, wall_x);
	else
		printf("%-9s %5u %-9s %5" PRIu64 " %7.3f %7.4f %7.4f %7.4f %7.4f %7.1f %7.1f %6.2f"
		       " %6.2f %6.2fx %6.2fx\n", perf_backing_name(bk), think_us, r->name,
		       r->requests, r->wall_s_gib, r->cpu_s_gib, r->lcore_s_gib, r->events_s_gib,
		       r->gate_s_gib, r->awake_us_req, r->busy_us_req, r->sleeps_req, r->kicks_req,
		       cpu_x, wall_x);
	fflush(stdout);
}

static int
paced_run(const struct perf_options *o, const struct perf_tsc *tsc)
{
	struct paced_row rows[NROWS];
	struct vhb_poll_params pp;
	unsigned int b, k, m;
	int rc;

	RTE_SET_USED(tsc);
	if (!o->eal) {
		fprintf(stderr, "test paced runs the backend in this process: give EAL arguments,"
			" e.g. -l 0-1 --no-huge -m 256 --no-pci -- --test paced\n");
		return -EINVAL;
	}
	vhb_poll_params_default(&pp);
	rc = perf_backend_start(&g_be, &pp, "paced");
	if (rc != 0)
		return rc;
	printf("# %u VM(s) of %" PRIu64 " MiB on one poll lcore (lcore %u), each inflating %"
	       PRIu64 " MiB in Linux's 1 MiB steps with a think time after each ack; backend"
	       " CPU = every thread but the guests' and main's\n# CPU/intr: against the"
	       " interrupt row, wall/poll: against the poll row of the same backing and think"
	       " time; qemu-path: interrupt mode releasing page by page as QEMU does\n",
	       o->vm_counts[0], o->mem_mib, g_be.lcore,
	       o->volume_mib != 0 ? o->volume_mib : o->mem_mib / 2);
	print_header(o);
	for (b = 0; b < PERF_BACKING_MAX && rc == 0; b++) {
		if (!(o->backings & (1U << b)))
			continue;
		for (k = 0; k < o->nthink && rc == 0; k++) {
			memset(rows, 0, sizeof(rows));
			for (m = 0; m < ROW_FLOOR && rc == 0; m++) {
				/* The ratios need poll and interrupt (in the default "all"). */
				if (m < PERF_PM_MAX && !(o->poll_modes & (1U << m)))
					continue;
				rc = measure(o, (enum perf_backing)b, o->think_us[k], m, &rows[m],
					     m == PERF_PM_INTERRUPT ? &rows[ROW_FLOOR] : NULL);
			}
			if (rc == -ENOENT || rc == -EACCES || rc == -ENODEV) {
				printf("# %s: guest memory unavailable (%s); skipped\n",
				       perf_backing_name((enum perf_backing)b), strerror(-rc));
				rc = 0;
				break;
			}
			for (m = 0; m < NROWS && rc == 0; m++)
				if (rows[m].name != NULL)
					print_row(o, (enum perf_backing)b, o->think_us[k], &rows[m],
						  &rows[PERF_PM_INTERRUPT], &rows[PERF_PM_POLL]);
		}
	}
	perf_backend_stop(&g_be);
	return rc;
}

const struct perf_test perf_test_paced = {
	.name = "paced",
	.help = "guests that think between balloon steps, as Linux does: backend CPU and wall"
		" time per GiB inflated for every polling mode and QEMU's per-page path",
	.run = paced_run,
};

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --test ring: the whole path. The backend's poll loop runs on an EAL worker lcore of
 * this process (busy polling), simulated QEMU + Linux guests (vmsim) on other threads
 * talk to it over real vhost-user sockets with real guest memory (memfd 4 KiB or
 * hugetlbfs 2 MiB). Per run (backing x pattern x workload x VM count x release mode):
 * PFNs and bytes per second of poll-core busy time, CPU seconds and syscalls per GiB
 * released, cycles per PFN, per-request service time percentiles from the devices'
 * histograms, and beside the bulk inflate the kernel's floor for the same final ranges.
 * The idle workload prints the poll cost per idle device per pass.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "vhost_balloon.h"
#include "vmsim.h"

#include "perf_backend.h"
#include "perf_ring_guest.h"
#include "perf_test.h"

#define MiB		(1ULL << 20)
#define GiB		((double)(1ULL << 30))
#define IDLE_MEM_MIB	16	/* idle guests: vmsim's smallest */

struct snap {
	struct vhb_lcore_stats ls;
	uint64_t pfns, bytes, regained, calls, report_bytes, requests, guest_errors;
	struct vhb_service_time st;
	uint64_t tsc;
	uint64_t poll_cpu_ns;	/* CPU time the poll thread got */
	uint64_t wall_ns;
};

struct row {
	const char *backing, *pattern, *workload, *method;
	uint32_t vms;
	uint64_t mem_mib;
	uint64_t pages;		/* 4 KiB pages handled: PFNs in/out, reported pages */
	uint64_t bytes;		/* released */
	uint64_t calls;
	uint64_t requests;
	double busy_s, wall_s;
	double share;		/* poll thread on CPU / wall: busy_s is busy cycles x share */
	double p50_us, p99_us, p999_us;
	double idle_ns;		/* idle: per device per pass */
	uint64_t passes;
};

/*
 * The backend busy-polls (every pass is counted, nothing sleeps: the cost we measure).
 * A busy-polling thread is always runnable, so the time others' processes take from
 * it falls into busy and idle passes in proportion to their length: busy cycles x
 * (CPU time / wall time) is the poll core's own busy time on a shared machine.
 */
static struct perf_backend g_be;

/* The last bulk row, so the unmeasured row of the same run can print the measurement's cost. */
static struct row g_bulk;
static int g_bulk_valid;

static double
cycles_per_page(const struct row *r)
{
	return r->pages > 0 ? r->busy_s * (double)rte_get_tsc_hz() / (double)r->pages : 0;
}

static void
print_measure_cost(const struct perf_options *o, const struct row *r, uint64_t regained)
{
	if (o->csv || o->json)
		return;
	if (strcmp(r->method, perf_release_name(PERF_REL_BULK)) == 0) {
		g_bulk = *r;
		g_bulk_valid = 1;
		printf("# bulk: regained %" PRIu64 " of %" PRIu64 " MiB asked\n", regained >> 20,
		       r->bytes >> 20);
		return;
	}
	if (strcmp(r->method, perf_release_name(PERF_REL_UNMEASURED)) != 0 || !g_bulk_valid ||
	    strcmp(g_bulk.backing, r->backing) != 0 || strcmp(g_bulk.pattern, r->pattern) != 0 ||
	    strcmp(g_bulk.workload, r->workload) != 0 || g_bulk.vms != r->vms ||
	    cycles_per_page(r) <= 0)
		return;
	printf("# measuring what was regained: bulk/unmeasured %.3fx in cycles per PFN, %.3fx in"
	       " p50 service time\n", cycles_per_page(&g_bulk) / cycles_per_page(r),
	       r->p50_us > 0 ? g_bulk.p50_us / r->p50_us : 0);
}

static int
set_release(struct ring_vm *v, uint32_t n, int mode)
{
	uint32_t i, tries;
	int rc = 0;

	for (i = 0; i < n; i++) {
		/* Tracking exists once the first queue started (the guest's probe). */
		for (tries = 0; tries < 2000; tries++) {
			rc = vhb_device_set_release_mode(v[i].dev, mode);
			if (rc != -EAGAIN)
				break;
			vms_vm_poll(v[i].vm, 1);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void
take_snap(struct ring_vm *v, uint32_t n, struct snap *s)
{
	struct vhb_device_counters c;
	uint32_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < n; i++) {
		vhb_device_get_counters(v[i].dev, &c);
		s->pfns += c.pfns_inflated + c.pfns_deflated;
		s->bytes += c.bytes_release_asked;
		s->regained += c.bytes_regained;
		s->calls += c.release_calls;
		s->report_bytes += c.report_bytes_release_asked + c.report_bytes_skipped;
		s->requests += c.inflate_requests + c.deflate_requests + c.report_requests;
		s->guest_errors += c.guest_errors;
	}
	ring_service_time_add(v, n, &s->st);
	vhb_lcore_get_stats(0, &s->ls);
	s->tsc = rte_rdtsc();
	s->wall_ns = perf_clock_ns(CLOCK_MONOTONIC);
	s->poll_cpu_ns = perf_backend_cpu_ns();
}

static void
fill_row(struct row *r, const struct snap *a, const struct snap *b)
{
	double hz = (double)rte_get_tsc_hz();

	r->pages = (b->pfns - a->pfns) + (b->report_bytes - a->report_bytes) / 4096;
	r->bytes = b->bytes - a->bytes;
	r->calls = b->calls - a->calls;
	r->requests = b->requests - a->requests;
	r->share = b->wall_ns > a->wall_ns && perf_backend_cpu_known() ?
		   (double)(b->poll_cpu_ns - a->poll_cpu_ns) / (double)(b->wall_ns - a->wall_ns) : 1;
	if (r->share > 1)
		r->share = 1;
	r->busy_s = (double)(b->ls.busy_cycles - a->ls.busy_cycles) / hz * r->share;
	r->wall_s = (double)(b->tsc - a->tsc) / hz;
	r->p50_us = ring_service_time_pct_us(&a->st, &b->st, 0.50);
	r->p99_us = ring_service_time_pct_us(&a->st, &b->st, 0.99);
	r->p999_us = ring_service_time_pct_us(&a->st, &b->st, 0.999);
	r->passes = b->ls.passes - a->ls.passes;
}

static void
print_header(const struct perf_options *o)
{
	if (o->json)
		return;
	if (o->csv) {
		printf("backing,mem_mib,pattern,workload,vms,method,pages,requests,mpfn_per_s_core,"
		       "gib_per_s_core,cpu_s_per_gib,syscalls_per_gib,cycles_per_pfn,p50_us,p99_us,"
		       "p999_us,wall_s,wall_mpfn_per_s,idle_ns_per_dev_pass,poll_cpu_share,"
		       "p50_mpfn_per_s\n");
		return;
	}
	printf("%-9s %6s %-10s %-8s %4s %-9s %10s %8s %9s %8s %10s %9s %8s %8s %8s %7s %8s %5s"
	       " %10s\n",
	       "backing", "MiB", "pattern", "workload", "vms", "method", "pages", "Mpfn/s",
	       "GiB/s", "cpu-s/GiB", "calls/GiB", "cyc/pfn", "p50us", "p99us", "p99.9us",
	       "wall-s", "idle-ns", "share", "Mpfn/s@p50");
}

static void
print_row(const struct perf_options *o, const struct row *r)
{
	double hz = (double)rte_get_tsc_hz();
	double gib = (double)r->bytes / GiB;
	double mpps = r->busy_s > 0 ? (double)r->pages / r->busy_s / 1e6 : 0;
	double gibps = r->busy_s > 0 ? gib / r->busy_s : 0;
	double spg = gib > 0 ? r->busy_s / gib : 0;
	double cpg = gib > 0 ? (double)r->calls / gib : 0;
	double cpp = r->pages > 0 ? r->busy_s * hz / (double)r->pages : 0;
	double wall = r->wall_s > 0 ? (double)r->pages / r->wall_s / 1e6 : 0;
	/* Robust to preemption: a median request's PFNs per its service time. */
	double med = r->requests > 0 && r->p50_us > 0 ?
		     (double)r->pages / (double)r->requests / r->p50_us : 0;

	if (o->json)
		printf("{\"backing\":\"%s\",\"mem_mib\":%" PRIu64 ",\"pattern\":\"%s\","
		       "\"workload\":\"%s\",\"vms\":%u,\"method\":\"%s\",\"pages\":%" PRIu64 ","
		       "\"requests\":%" PRIu64 ",\"mpfn_per_s_core\":%.3f,\"gib_per_s_core\":%.3f,"
		       "\"cpu_s_per_gib\":%.5f,\"syscalls_per_gib\":%.1f,\"cycles_per_pfn\":%.2f,"
		       "\"p50_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,\"wall_s\":%.3f,"
		       "\"wall_mpfn_per_s\":%.3f,\"idle_ns_per_dev_pass\":%.2f,"
		       "\"poll_cpu_share\":%.3f,\"p50_mpfn_per_s\":%.3f}\n",
		       r->backing, r->mem_mib, r->pattern, r->workload, r->vms, r->method,
		       r->pages, r->requests, mpps, gibps, spg, cpg, cpp, r->p50_us, r->p99_us,
		       r->p999_us, r->wall_s, wall, r->idle_ns, r->share, med);
	else if (o->csv)
		printf("%s,%" PRIu64 ",%s,%s,%u,%s,%" PRIu64 ",%" PRIu64 ",%.3f,%.3f,%.5f,%.1f,"
		       "%.2f,%.2f,%.2f,%.2f,%.3f,%.3f,%.2f,%.3f,%.3f\n", r->backing, r->mem_mib,
		       r->pattern, r->workload, r->vms, r->method, r->pages, r->requests, mpps,
		       gibps, spg, cpg, cpp, r->p50_us, r->p99_us, r->p999_us, r->wall_s, wall,
		       r->idle_ns, r->share, med);
	else
		printf("%-9s %6" PRIu64 " %-10s %-8s %4u %-9s %10" PRIu64 " %8.2f %9.2f %8.4f "
		       "%10.0f %9.1f %8.2f %8.2f %8.2f %7.2f %8.1f %5.2f %10.2f\n", r->backing,
		       r->mem_mib, r->pattern, r->workload, r->vms, r->method, r->pages, mpps,
		       gibps, spg, cpg, cpp, r->p50_us, r->p99_us, r->p999_us, r->wall_s,
		       r->idle_ns, r->share, med);
	fflush(stdout);
}

/* The idle workload: n VMs connected, no work; poll cost per device per pass. */
static int
run_idle(const struct perf_options *o, enum perf_backing bk, uint32_t n)
{
	struct row r = { .backing = perf_backing_name(bk), .pattern = "-", .workload = "idle",
			 .method = "poll", .mem_mib = IDLE_MEM_MIB };
	struct snap a, b;
	struct ring_vm *v;
	uint32_t up;

	v = ring_vms_setup(&g_be, o, bk, PERF_PATTERN_SEQUENTIAL, IDLE_MEM_MIB, n, &up);
	if (v == NULL)
		return -ENOMEM;
	if (up < n)
		printf("# idle: %u of %u VMs came up (the largest count this process accepts"
		       " here)\n", up, n);
	perf_sleep_ms(100);	/* queues started, first passes done */
	take_snap(v, up, &a);
	perf_sleep_ms(o->idle_ms);
	take_snap(v, up, &b);
	fill_row(&r, &a, &b);
	r.vms = b.ls.ndevices;
	if (r.passes > 0 && r.vms > 0)
		r.idle_ns = (double)(b.ls.total_cycles - a.ls.total_cycles) * 1e9 * r.share /
			    (double)rte_get_tsc_hz() / (double)r.passes / (double)r.vms;
	print_row(o, &r);
	ring_vms_teardown(v, n);
	return 0;
}

/* One measured workload on n fresh VMs in release mode `mode`; row printed. */
static int
run_one(const struct perf_options *o, enum perf_backing bk, enum perf_pattern pat,
	enum perf_workload wl, uint32_t n, enum perf_release mode, int floor)
{
	uint64_t vol = o->volume_mib != 0 ? o->volume_mib : o->mem_mib / 2;
	uint32_t pages = (uint32_t)(vol * MiB / VMS_PAGE_SIZE), up, i, round;
	struct row r = { .backing = perf_backing_name(bk), .pattern = perf_pattern_name(pat),
			 .workload = perf_workload_name(wl), .method = perf_release_name(mode),
			 .vms = n, .mem_mib = o->mem_mib };
	struct snap a, b;
	struct ring_vm *v;
	int rc;

	v = ring_vms_setup(&g_be, o, bk, pat, o->mem_mib, n, &up);
	if (v == NULL)
		return -ENOMEM;
	if (up < n) {
		ring_vms_teardown(v, n);
		return -ENOSPC;
	}
	rc = set_release(v, n, (int)mode);
	if (rc == 0 && wl == PERF_WL_DEFLATE)
		rc = ring_guests_balloon(v, n, pages, o->guest_threads);	/* unmeasured */
	take_snap(v, n, &a);
	switch (wl) {
	case PERF_WL_INFLATE:
		if (rc == 0)
			rc = ring_guests_balloon(v, n, pages, o->guest_threads);
		break;
	case PERF_WL_DEFLATE:
		if (rc == 0)
			rc = ring_guests_balloon(v, n, 0, o->guest_threads);
		break;
	case PERF_WL_REPORT:
		if (rc == 0)
			rc = ring_guests_report(v, n, vol * MiB, o->guest_threads);
		break;
	case PERF_WL_CHURN:
		for (round = 0; round < 2 && rc == 0; round++) {
			/* Report while memory is free, then balloon up and down again. */
			rc = ring_guests_report(v, n, vol * MiB / 4, o->guest_threads);
			if (rc == 0)
				rc = ring_guests_balloon(v, n, pages, o->guest_threads);
			if (rc == 0)
				rc = ring_guests_balloon(v, n, 0, o->guest_threads);
		}
		break;
	default:
		rc = -EINVAL;
	}
	take_snap(v, n, &b);
	if (rc == 0 && b.guest_errors != a.guest_errors)
		rc = -EPROTO;
	/* Every inflate, deflate and report request has its service time, once. */
	if (rc == 0 && b.st.count - a.st.count != b.requests - a.requests) {
		fprintf(stderr, "service-time histogram counted %" PRIu64 " of %" PRIu64
			" requests\n", b.st.count - a.st.count, b.requests - a.requests);
		rc = -EPROTO;
	}
	if (rc == 0) {
		fill_row(&r, &a, &b);
		print_row(o, &r);
		print_measure_cost(o, &r, b.regained - a.regained);
	}
	if (rc == 0 && floor) {
		struct row f = r;

		f.method = "raw-punch";
		f.calls = 0;
		f.bytes = 0;
		f.requests = 0;
		f.wall_s = 0;
		f.p50_us = f.p99_us = f.p999_us = 0;
		{
			uint64_t cyc = 0;

			/* Guests first: their memory goes, the floor file takes its place. */
			for (i = 0; i < n && rc == 0; i++) {
				vms_vm_disconnect(v[i].vm);
				rc = ring_raw_floor(v[i].vm, bk, o->hugetlbfs_dir, &cyc, &f.calls,
						    &f.bytes);
			}
			/* Thread CPU time (user + kernel) of the punching: immune to preemption. */
			f.busy_s = (double)cyc / 1e9;
			f.share = 1;
		}
		if (rc == 0)
			print_row(o, &f);
	}
	ring_vms_teardown(v, n);
	return rc;
}

static int
ring_run(const struct perf_options *o, const struct perf_tsc *tsc)
{
	struct vhb_poll_params pp;
	uint32_t bk, pat, wl, k, m;
	int rc;

	RTE_SET_USED(tsc);
	if (!o->eal) {
		fprintf(stderr, "test ring runs the backend in this process: give EAL arguments,"
			" e.g. -l 0-1 --no-huge -m 256 --no-pci -- --test ring\n");
		return -EINVAL;
	}
	vhb_poll_params_default(&pp);
	pp.mode = VHB_POLL_BUSY;
	rc = perf_backend_start(&g_be, &pp, "ring");
	if (rc != 0)
		return rc;
	printf("# poll lcore %u busy-polls; guests run on the main lcore's CPU (2-core box:"
	       " they compete with everything else there)\n", g_be.lcore);
	printf("# Mpfn/s, GiB/s, cpu-s/GiB, cyc/pfn: per poll core, from busy cycles x share"
	       " (share: the poll thread's CPU time / wall time);\n# raw-punch: the punching"
	       " thread's CPU time; wall-s is guest-bound; service times are log2/4 bucket upper"
	       " bounds\n");
	print_header(o);
	for (bk = 0; bk < PERF_BACKING_MAX && rc == 0; bk++) {
		if (!(o->backings & (1U << bk)))
			continue;
		for (k = 0; k < o->nvm_counts && rc == 0; k++) {
			if (o->workloads & (1U << PERF_WL_IDLE))
				rc = run_idle(o, bk, o->vm_counts[k]);
			for (wl = 0; wl < PERF_WL_IDLE && rc == 0; wl++) {
				if (!(o->workloads & (1U << wl)))
					continue;
				for (pat = 0; pat < PERF_PATTERN_MAX && rc == 0; pat++) {
					if (!(o->patterns & (1U << pat)))
						continue;
					for (m = 0; m < PERF_REL_MAX && rc == 0; m++)
						if (o->releases & (1U << m))
							rc = run_one(o, bk, pat, wl,
								     o->vm_counts[k], m,
								     wl == PERF_WL_INFLATE &&
								     m == PERF_REL_BULK);
				}
			}
		}
		if (rc == -ENOENT || rc == -ENOSPC || rc == -ENOMEM) {
			printf("# %s: stopped: %s (hugepages or memory)\n", perf_backing_name(bk),
			       strerror(-rc));
			rc = 0;
		}
	}
	perf_backend_stop(&g_be);
	return rc;
}

const struct perf_test perf_test_ring = {
	.name = "ring",
	.help = "the full path: backend poll lcore + simulated guests over vhost-user sockets",
	.run = ring_run,
};

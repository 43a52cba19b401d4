/* SPDX-License-Identifier: BSD-3-Clause */
/* One simulated guest: connect (waiting for the socket), boot the driver, follow the
 * backend's targets, report free pages on a timer, check guest memory, print what happened. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vmsim_app.h"

volatile int vmsim_stop;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *
guest_name(const struct vmsim_opts *o, unsigned int idx, char *buf, size_t len)
{
	const char *s = strrchr(o->sockets[idx], '/');

	snprintf(buf, len, "vm%u:%s", idx, s != NULL ? s + 1 : o->sockets[idx]);
	return buf;
}

static int
verify(struct vms_vm *vm, const char *name, bool quiet)
{
	struct vms_verify_report r;
	int64_t bad = vms_vm_verify(vm, &r);
	unsigned int i;

	if (bad < 0) {
		printf("[%s] verify failed: %s\n", name, strerror((int)-bad));
		return VMSIM_EXIT_ERROR;
	}
	if (bad == 0) {
		if (!quiet)
			printf("[%s] verify: %" PRIu64 " pages intact\n", name, r.pages_checked);
		return VMSIM_EXIT_OK;
	}
	printf("[%s] verify: %" PRId64 " of %" PRIu64 " pages CORRUPTED; first pfns:", name, bad,
			r.pages_checked);
	for (i = 0; i < r.nbad; i++)
		printf(" 0x%" PRIx64 "(%s)", r.bad_pfns[i], vms_page_state_name(r.bad_state[i]));
	printf("\n");
	return VMSIM_EXIT_CORRUPT;
}

static void
summary(struct vms_vm *vm, const char *name, uint64_t t0, unsigned int changes)
{
	struct vms_counters c;
	struct vms_features f;
	struct vms_config cfg;
	struct vms_page_counts pc;

	vms_vm_counters(vm, &c);
	vms_vm_features(vm, &f);
	vms_vm_config(vm, &cfg);
	vms_vm_page_counts(vm, &pc);
	printf("[%s] summary: %.1f s, %u target changes, num_pages %u, balloon %" PRIu64
			" pages (%" PRIu64 " MiB)\n", name, (double)(now_ms() - t0) / 1000.0, changes,
			cfg.num_pages, pc.balloon, pc.balloon >> 8);
	printf("[%s]   features offered 0x%" PRIx64 " accepted 0x%" PRIx64 " protocol 0x%" PRIx64
			"\n", name, f.offered, f.accepted, f.protocol_negotiated);
	printf("[%s]   inflate %" PRIu64 " reqs %" PRIu64 " pfns, deflate %" PRIu64 " reqs %"
			PRIu64 " pfns, config reads %" PRIu64 " writes %" PRIu64 " changes %"
			PRIu64 "\n", name, c.inflate_reqs, c.pfns_inflated, c.deflate_reqs,
			c.pfns_deflated, c.config_reads, c.config_writes, c.config_changes);
	printf("[%s]   stats used %" PRIu64 ", reports %" PRIu64 " (%" PRIu64 " MiB), oom %"
			PRIu64 ", kicks %" PRIu64 " (+%" PRIu64 " suppressed), interrupts %" PRIu64
			", out of puff %" PRIu64 ", errors %" PRIu64 "\n", name, c.stats_used,
			c.report_acks, c.report_bytes >> 20, c.oom_leaks, c.kicks,
			c.kicks_suppressed, c.interrupts, c.out_of_puff, c.errors);
}

int
vmsim_run_guest(const struct vmsim_opts *o, unsigned int idx)
{
	struct vms_vm_params p = o->vm;
	struct vms_vm *vm;
	struct vms_config cfg;
	char name[128];
	uint64_t t0, change_t = 0, next_report, deadline;
	uint64_t change_from = 0;
	unsigned int changes = 0, settled_changes = 0, tag;
	uint32_t target;
	bool pending = false;
	int ret, status = VMSIM_EXIT_OK;

	guest_name(o, idx, name, sizeof(name));
	p.socket_path = o->sockets[idx];
	p.seed = o->vm.seed + idx;
	vm = vms_vm_create(&p);
	if (vm == NULL) {
		printf("[%s] cannot create the guest: %s\n", name, strerror(errno));
		return VMSIM_EXIT_ERROR;
	}
	for (tag = 0; tag < VMS_STAT_NR; tag++)
		if (o->stats_set & (1U << tag))
			vms_vm_set_stat(vm, (uint16_t)tag, o->stats_val[tag]);
	if (!o->quiet)
		printf("[%s] guest %" PRIu64 " MiB %s (host page %" PRIu64 " KiB), connecting to %s\n",
				name, o->vm.mem_bytes >> 20,
				o->vm.backing == VMS_BACKING_MEMFD ? "memfd" :
				o->vm.backing == VMS_BACKING_HUGETLBFS ? "hugetlbfs" : "memfd-hugetlb",
				vms_vm_backing_page_size(vm) >> 10, p.socket_path);
	fflush(stdout);
	ret = vms_vm_connect(vm);
	if (ret == 0)
		ret = vms_vm_start(vm);
	if (ret < 0) {
		printf("[%s] %s failed: %s\n", name, vms_vm_connected(vm) ? "driver start" : "connect",
				strerror(-ret));
		if (o->trace)
			vms_vm_trace_dump(vm);
		vms_vm_destroy(vm);
		return VMSIM_EXIT_ERROR;
	}
	{
		struct vms_features f;

		vms_vm_features(vm, &f);
		if (!o->quiet)
			printf("[%s] driver up: features 0x%" PRIx64 ", queues inflate %d deflate %d "
					"stats %d reporting %d\n", name, f.accepted,
					vms_vm_queue_index(vm, VMS_VQ_INFLATE),
					vms_vm_queue_index(vm, VMS_VQ_DEFLATE),
					vms_vm_queue_index(vm, VMS_VQ_STATS),
					vms_vm_queue_index(vm, VMS_VQ_REPORTING));
	}
	t0 = now_ms();
	deadline = o->duration_ms ? t0 + o->duration_ms : UINT64_MAX;
	next_report = o->report_every_ms ? t0 + o->report_every_ms : UINT64_MAX;
	vms_vm_config(vm, &cfg);
	target = cfg.num_pages;
	if (target != 0) {
		pending = true;
		change_t = t0;
	}
	while (!vmsim_stop && now_ms() < deadline) {
		/* Returns after each step, so a target change is seen when the guest reads it. */
		ret = vms_vm_poll(vm, 20);
		if (ret < 0 && o->reconnect && !vmsim_stop) {
			printf("[%s] backend lost (%s): reconnecting\n", name, strerror(-ret));
			vms_vm_disconnect(vm);
			ret = vms_vm_connect(vm);
			if (ret == 0)
				ret = vms_vm_start(vm);
			if (ret == 0) {
				printf("[%s] reconnected, guest resumed\n", name);
				continue;
			}
		}
		if (ret < 0) {
			printf("[%s] backend failure: %s\n", name, strerror(-ret));
			status = VMSIM_EXIT_ERROR;
			break;
		}
		vms_vm_config(vm, &cfg);
		if (cfg.num_pages != target) {
			target = cfg.num_pages;
			pending = true;
			change_t = now_ms();
		}
		if (pending && vms_vm_settle(vm, 0) == 0) {
			uint64_t now = vms_vm_balloon_pfns(vm, NULL, 0);

			pending = false;
			changes++;
			settled_changes++;
			printf("[%s] target %u pages (%u MiB): actual %" PRIu64 ", %s%" PRIu64
					" pages in %.3f s\n", name, target, target >> 8, now,
					now >= change_from ? "+" : "-",
					now >= change_from ? now - change_from : change_from - now,
					(double)(now_ms() - change_t) / 1000.0);
			fflush(stdout);
			change_from = now;
			if (o->verify_every && settled_changes % o->verify_every == 0) {
				status = verify(vm, name, o->quiet);
				if (status != VMSIM_EXIT_OK)
					break;
			}
			if (o->exit_after_settle)
				break;
		}
		if (now_ms() >= next_report) {
			ret = vms_vm_report(vm, o->report_blocks);
			next_report += o->report_every_ms;
			if (ret < 0 && ret != -ENOTSUP) {
				printf("[%s] free page report failed: %s\n", name, strerror(-ret));
				status = VMSIM_EXIT_ERROR;
				break;
			}
			if (ret > 0 && !o->quiet)
				printf("[%s] reported %d free blocks\n", name, ret);
		}
	}
	if (status != VMSIM_EXIT_CORRUPT) {
		int v = verify(vm, name, false);

		if (v != VMSIM_EXIT_OK)
			status = v;
	}
	summary(vm, name, t0, changes);
	if (o->trace)
		vms_vm_trace_dump(vm);
	if (vms_vm_connected(vm))
		(void)vms_vm_stop(vm);
	vms_vm_destroy(vm);
	fflush(stdout);
	return status;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/* Functional test harness: EAL, poll lcore, temp sockets, VM helpers. */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "func_common.h"

static char tmpdir[64];
static char sockbuf[160];

void
func_start(void)
{
	char prefix[64];
	char *argv[] = {
		(char *)(uintptr_t)"vhb-functional", (char *)(uintptr_t)"-l",
		(char *)(uintptr_t)"0-1", (char *)(uintptr_t)"--no-huge",
		(char *)(uintptr_t)"-m", (char *)(uintptr_t)"256",
		(char *)(uintptr_t)"--no-pci", (char *)(uintptr_t)"--no-telemetry",
		(char *)(uintptr_t)"--file-prefix", prefix,
		(char *)(uintptr_t)"--log-level", (char *)(uintptr_t)"lib.vhb.*:info",
		(char *)(uintptr_t)"--log-level", (char *)(uintptr_t)"lib.vhost.*:warning",
	};
	unsigned int lcore = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(prefix, sizeof(prefix), "vhbft%d", (int)getpid());
	CHECK(rte_eal_init((int)RTE_DIM(argv), argv) >= 0, "EAL init");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vhbft.XXXXXX");
	CHECK(mkdtemp(tmpdir) != NULL, "mkdtemp");
	CHECK(vhb_init(&lcore, 1) == 0, "vhb_init");
	CHECK(rte_eal_remote_launch(vhb_lcore_loop, NULL, 1) == 0, "launch poll loop");
}

void
func_stop(void)
{
	vhb_stop();
	rte_eal_mp_wait_lcore();
	vhb_cleanup();
	rmdir(tmpdir);
	rte_eal_cleanup();
}

const char *
func_socket(const char *name)
{
	snprintf(sockbuf, sizeof(sockbuf), "%s/%s.sock", tmpdir, name);
	return sockbuf;
}

struct vhb_device *
func_device(const char *name, uint64_t features, uint32_t stats_s)
{
	struct vhb_device_params p = {
		.socket_path = func_socket(name),
		.name = name,
		.features = features,
		.stats_interval_s = stats_s,
		.socket_gid = -1,
		.socket_mode = 0600,
		.lcore_id = 1,
	};
	struct vhb_device *dev = vhb_device_create(&p);

	CHECK(dev != NULL, "device %s: rte_errno %d", name, rte_errno);
	return dev;
}

void
func_vm_params(struct vms_vm_params *p, const char *sock, uint64_t features)
{
	vms_vm_params_init(p);
	p->socket_path = sock;
	p->mem_bytes = 64 * MiB;
	p->backing = VMS_BACKING_MEMFD;
	p->connect_timeout_ms = 2000;
	p->num_vqs = 2 + ((features >> VHB_F_STATS_VQ) & 1) + ((features >> VHB_F_REPORTING) & 1);
}

const char *
func_backing_name(struct vms_vm *vm)
{
	return vms_vm_backing_page_size(vm) > 4096 ? "hugetlbfs 2 MiB" : "memfd 4 KiB";
}

struct vms_vm *
func_vm(const struct vms_vm_params *p)
{
	struct vms_vm *vm = vms_vm_create(p);
	int rc;

	if (vm == NULL)
		return NULL;
	rc = vms_vm_connect(vm);
	CHECK(rc == 0, "connect: %d", rc);
	rc = vms_vm_start(vm);
	CHECK(rc == 0, "start: %d", rc);
	return vm;
}

bool
func_poll_until(struct vms_vm *vm, bool (*cond)(void *arg), void *arg, int timeout_ms)
{
	int waited;

	for (waited = 0; waited < timeout_ms; waited += 10) {
		if (cond(arg))
			return true;
		CHECK(vms_vm_poll(vm, 10) >= 0, "vm poll");
	}
	return cond(arg);
}

void
func_balloon_to(struct vhb_device *dev, struct vms_vm *vm, uint32_t pages)
{
	struct vhb_device_info info;
	struct vms_config cfg;
	int rc;

	CHECK(vhb_device_set_target_pages(dev, pages) == 0, "set target");
	rc = vms_vm_settle(vm, 20000);
	CHECK(rc == 0, "settle to %u pages: %d", pages, rc);
	vms_vm_config(vm, &cfg);
	CHECK(cfg.num_pages == pages, "guest read num_pages %u, want %u", cfg.num_pages, pages);
	CHECK(vhb_device_get_info(dev, &info) == 0, "info");
	CHECK(info.actual == pages, "backend saw actual %u, want %u", info.actual, pages);
}

uint64_t
func_expected_release(struct vms_vm *vm)
{
	uint64_t page = vms_vm_backing_page_size(vm);
	uint64_t per = page / VMS_PAGE_SIZE;
	struct vms_region_info reg[8];
	unsigned int nreg = vms_vm_regions(vm, reg, 8);
	uint64_t n = vms_vm_balloon_pfns(vm, NULL, 0);
	uint64_t *pfns = calloc(n + 1, sizeof(*pfns));
	uint64_t maxoff = 0, full = 0, i;
	uint32_t *count;
	unsigned int r;

	CHECK(pfns != NULL, "alloc");
	vms_vm_balloon_pfns(vm, pfns, n);
	for (r = 0; r < nreg; r++)
		if (reg[r].file_offset + reg[r].size > maxoff)
			maxoff = reg[r].file_offset + reg[r].size;
	count = calloc(maxoff / page + 1, sizeof(*count));
	CHECK(count != NULL, "alloc");
	/* Count balloon pieces per host page of the backing file. */
	for (i = 0; i < n; i++) {
		uint64_t gpa = pfns[i] << VMS_PAGE_SHIFT;

		for (r = 0; r < nreg; r++) {
			if (gpa >= reg[r].gpa && gpa < reg[r].gpa + reg[r].size) {
				count[(gpa - reg[r].gpa + reg[r].file_offset) / page]++;
				break;
			}
		}
	}
	for (i = 0; i <= maxoff / page; i++)
		if (count[i] == per)
			full++;
	free(count);
	free(pfns);
	return full * page;
}

void
func_verify(struct vms_vm *vm, const char *when)
{
	struct vms_verify_report rep;
	int64_t bad = vms_vm_verify(vm, &rep);

	CHECK(bad == 0, "%s: %" PRId64 " corrupted pages (first pfn %#" PRIx64 ")", when, bad,
	      rep.nbad > 0 ? rep.bad_pfns[0] : 0);
	printf("  verify %s: %" PRIu64 " pages checked, 0 corrupted\n", when, rep.pages_checked);
}

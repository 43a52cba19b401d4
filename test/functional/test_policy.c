/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The balancing policy against the real backend and three simulated guests (docs/policy.md
 * "The scenario"): a busy guest, an idle guest with a big page cache and a guest that starts
 * swapping, on a played host whose available memory is a pressure curve plus every balloon
 * (what the balloons give back to the host). The host is files in a temporary directory
 * (meminfo and memory PSI), the guests' statistics follow their memory models.
 *
 * One tick is one statistics interval: write the host, set every guest's statistics, wait
 * until each device has a fresh update carrying them, run one policy pass, let the guests
 * follow. No timing assertions: the checks are on order and settled outcomes.
 *
 * Usage: func-policy [memfd|hugetlbfs] [CSV_FILE]
 * CSV_FILE gets one row per tick (usertools/policy_plot.sh draws docs/img/policy-scenario.png).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>

#include "func_common.h"
#include "vhb_policy.h"

#define NVM		3
#define GUEST_MB	256
#define KERNEL_MB	16	/* what the guest kernel keeps for itself */
#define TICKS		64
#define PRESSURE_AT	4	/* the host runs short */
#define SWAP_AT		22	/* the swapper's working set grows */
#define RELIEF_AT	42	/* the host has memory again */
#define HOST_TOTAL_MB	4096

enum { BUSY = 0, IDLE, SWAPPER };

struct guest {
	const char *name;
	uint64_t ws_mb;			/* working set (anonymous memory) */
	uint64_t cache_mb;		/* page cache it would keep */
	uint64_t swap_in, swap_out, majflt;
	struct vhb_device *dev;
	struct vms_vm *vm;
};

static struct guest guests[NVM] = {
	[BUSY] = { .name = "busy", .ws_mb = 190, .cache_mb = 20 },
	[IDLE] = { .name = "idle", .ws_mb = 30, .cache_mb = 160 },
	[SWAPPER] = { .name = "swapper", .ws_mb = 60, .cache_mb = 40 },
};

static char host_dir[64], meminfo[128], psi[128];

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Host available memory without the balloons: the played pressure curve. */
static uint64_t
host_base_mb(unsigned int t)
{
	if (t < PRESSURE_AT)
		return 900;
	if (t < RELIEF_AT)
		return 400;
	return 1000;
}

static void
write_host(uint64_t avail_mb)
{
	FILE *f = fopen(meminfo, "w");

	CHECK(f != NULL, "%s", meminfo);
	fprintf(f, "MemTotal:       %" PRIu64 " kB\nMemFree:        %" PRIu64 " kB\n"
		"MemAvailable:   %" PRIu64 " kB\n", (uint64_t)HOST_TOTAL_MB * 1024,
		avail_mb * 1024 / 2, avail_mb * 1024);
	fclose(f);
	f = fopen(psi, "w");
	CHECK(f != NULL, "%s", psi);
	fprintf(f, "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
		"full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
	fclose(f);
}

static struct vhb_device_info
info(struct guest *g)
{
	struct vhb_device_info in;

	CHECK(vhb_device_get_info(g->dev, &in) == 0, "%s info", g->name);
	return in;
}

static uint64_t
balloon_mb(struct guest *g)
{
	return (uint64_t)info(g).actual * 4096 / MiB;
}

static uint64_t
target_mb(struct guest *g)
{
	return (uint64_t)info(g).num_pages * 4096 / MiB;
}

/*
 * The guest's statistics for its size now: what its working set and kernel leave is
 * available (cache first, then free); a working set that does not fit swaps, and every
 * missing MiB is read back in (swap-in, major faults) at each interval.
 */
static void
guest_stats(struct guest *g)
{
	uint64_t size = GUEST_MB - balloon_mb(g), need = g->ws_mb + KERNEL_MB;
	uint64_t avail = size > need ? size - need : 0;
	uint64_t cache = avail < g->cache_mb ? avail : g->cache_mb;

	if (need > size) {
		g->swap_in += (need - size) * MiB;
		g->swap_out += (need - size) * MiB;
		g->majflt += (need - size) * MiB / 4096;
	}
	CHECK(vms_vm_set_stat(g->vm, VMS_STAT_SWAP_IN, g->swap_in) == 0, "stat");
	CHECK(vms_vm_set_stat(g->vm, VMS_STAT_SWAP_OUT, g->swap_out) == 0, "stat");
	CHECK(vms_vm_set_stat(g->vm, VMS_STAT_MAJFLT, g->majflt) == 0, "stat");
	CHECK(vms_vm_set_stat(g->vm, VMS_STAT_MEMTOT, size * MiB) == 0, "stat");
	CHECK(vms_vm_set_stat(g->vm, VMS_STAT_AVAIL, avail * MiB) == 0, "stat");
	CHECK(vms_vm_set_stat(g->vm, VMS_STAT_CACHES, cache * MiB) == 0, "stat");
	CHECK(vms_vm_set_stat(g->vm, VMS_STAT_MEMFREE, (avail - cache) * MiB) == 0, "stat");
	CHECK(vms_vm_set_stat(g->vm, VHB_POLICY_STAT_OOM_KILL, 0) == 0, "stat");
}

/* Serve every guest until each device holds an update newer than before[] with our values. */
static void
wait_stats(const uint64_t *before)
{
	struct vhb_guest_stats gs;
	unsigned int i, fresh, rounds;
	for (rounds = 0; rounds < 2000; rounds++) {
		fresh = 0;
		for (i = 0; i < NVM; i++) {
			vhb_device_get_guest_stats(guests[i].dev, &gs);
			if (gs.updates > before[i] && gs.val[VMS_STAT_SWAP_IN] == guests[i].swap_in &&
					gs.val[VMS_STAT_MEMTOT] == (GUEST_MB - balloon_mb(&guests[i])) *
					MiB)
				fresh++;
			else
				CHECK(vms_vm_poll(guests[i].vm, 10) >= 0, "%s poll", guests[i].name);
		}
		if (fresh == NVM)
			return;
	}
	CHECK(false, "fresh statistics from every guest (20 s)");
}

/* Let every guest follow its target. */
static void
follow(void)
{
	unsigned int i;
	int rc;

	for (i = 0; i < NVM; i++) {
		rc = vms_vm_wait_target(guests[i].vm, info(&guests[i]).num_pages, 30000);
		CHECK(rc == 0, "%s reaches its target: %d", guests[i].name, rc);
	}
}

static void
print_policy(struct vhb_policy *pol, unsigned int t)
{
	struct vhb_policy_vm vms[NVM];
	struct vhb_policy_status st;
	unsigned int i, n;

	n = vhb_policy_get_status(pol, &st, vms, NVM);
	printf("  t=%2u host %4" PRIu64 " MiB %-6s", t, st.host.mem_available / MiB,
	       vhb_policy_host_state_name(st.verdict.state));
	for (i = 0; i < n && i < NVM; i++)
		printf(" | %s %3" PRIu64 "->%3" PRIu64 " %s", vms[i].name, vms[i].target / MiB,
		       vms[i].new_target / MiB, vhb_policy_action_name(vms[i].action));
	printf("\n");
	for (i = 0; i < n && i < NVM; i++) {
		if (vms[i].action != VHB_POLICY_HOLD)
			printf("        %s: %s\n", vms[i].name, vms[i].reason);
	}
}

int
main(int argc, char **argv)
{
	static const uint16_t tags[] = { 0, 1, 2, 3, 8, 9, 4, 5, 6, 7, VHB_POLICY_STAT_OOM_KILL };
	const char *backing = argc > 1 ? argv[1] : "memfd";
	uint64_t before[NVM], tgt[TICKS][NVM], swap_updates = 0, swap_target = 0;
	uint64_t peak[NVM] = { 0 }, host_mb, sum;
	struct vhb_policy_params pp;
	struct vms_vm_params vp;
	struct vhb_guest_stats gs;
	struct vhb_policy *pol;
	unsigned int t, i, deflated_at = 0;
	FILE *csv = NULL;

	func_start();
	snprintf(host_dir, sizeof(host_dir), "/tmp/vhb-policy-host.XXXXXX");
	CHECK(mkdtemp(host_dir) != NULL, "mkdtemp");
	snprintf(meminfo, sizeof(meminfo), "%s/meminfo", host_dir);
	snprintf(psi, sizeof(psi), "%s/memory", host_dir);
	if (argc > 2) {
		csv = fopen(argv[2], "w");
		CHECK(csv != NULL, "%s", argv[2]);
		fprintf(csv, "tick,host_available_mib");
		for (i = 0; i < NVM; i++)
			fprintf(csv, ",%s_target_mib,%s_actual_mib", guests[i].name, guests[i].name);
		fprintf(csv, "\n");
	}

	for (i = 0; i < NVM; i++) {
		guests[i].dev = func_device(guests[i].name, 0, 1);
		func_vm_params(&vp, func_socket(guests[i].name), VHB_FEATURES_DEFAULT);
		vp.mem_bytes = GUEST_MB * MiB;
		if (strcmp(backing, "hugetlbfs") == 0)
			vp.backing = VMS_BACKING_HUGETLBFS;
		guests[i].vm = func_vm(&vp);
		if (guests[i].vm == NULL) {
			printf("SKIP: no %s guest memory: %s\n", backing, strerror(errno));
			return TEST_SKIP;
		}
		CHECK(vms_vm_set_stat_tags(guests[i].vm, tags, RTE_DIM(tags)) == 0, "tags");
	}
	printf("policy scenario: 3 guests of %u MiB (%s), stats every 1 s, host %u MiB played "
	       "from %s\n", GUEST_MB, func_backing_name(guests[0].vm), HOST_TOTAL_MB, host_dir);

	vhb_policy_params_default(&pp);
	pp.mode = VHB_POLICY_ON;
	pp.host_low = 512 * MiB;
	pp.host_high = 768 * MiB;
	pp.step = 16 * MiB;
	pp.give_back = 16 * MiB;
	pp.deflate = 48 * MiB;
	pp.stale_s = 5;
	pp.hold_s = 4;
	snprintf(pp.meminfo_path, sizeof(pp.meminfo_path), "%s", meminfo);
	snprintf(pp.psi_path, sizeof(pp.psi_path), "%s", psi);
	pol = vhb_policy_create(&pp);
	CHECK(pol != NULL, "policy");

	for (t = 0; t < TICKS; t++) {
		if (t == SWAP_AT)
			guests[SWAPPER].ws_mb = 150;
		sum = 0;
		for (i = 0; i < NVM; i++) {
			sum += balloon_mb(&guests[i]);
			vhb_device_get_guest_stats(guests[i].dev, &gs);
			before[i] = gs.updates;
			guest_stats(&guests[i]);
		}
		host_mb = host_base_mb(t) + sum;
		write_host(host_mb);
		wait_stats(before);
		if (t == SWAP_AT) {
			vhb_device_get_guest_stats(guests[SWAPPER].dev, &gs);
			swap_updates = gs.updates;
			swap_target = target_mb(&guests[SWAPPER]);
			CHECK(guests[SWAPPER].swap_in > 0, "the swapper swaps at t=%u", t);
		}
		CHECK(vhb_policy_step(pol, mono_ns()) >= 0, "policy pass");
		print_policy(pol, t);
		if (csv != NULL) {
			fprintf(csv, "%u,%" PRIu64, t, host_mb);
			for (i = 0; i < NVM; i++)
				fprintf(csv, ",%" PRIu64 ",%" PRIu64, target_mb(&guests[i]),
					balloon_mb(&guests[i]));
			fprintf(csv, "\n");
		}
		for (i = 0; i < NVM; i++) {
			tgt[t][i] = target_mb(&guests[i]);
			CHECK(GUEST_MB * MiB - tgt[t][i] * MiB >= GUEST_MB * MiB / 4,
			      "%s stays above its min (target %" PRIu64 " MiB)", guests[i].name,
			      tgt[t][i]);
			if (t < RELIEF_AT && tgt[t][i] > peak[i])
				peak[i] = tgt[t][i];
		}
		if (t >= SWAP_AT && deflated_at == 0 && tgt[t][SWAPPER] < swap_target) {
			vhb_device_get_guest_stats(guests[SWAPPER].dev, &gs);
			deflated_at = t;
			printf("  swapper deflated at t=%u: %" PRIu64 " stats update(s) after the "
			       "swapping began\n", t, gs.updates - swap_updates + 1);
			CHECK(gs.updates - swap_updates + 1 <= 2,
			      "deflated within two stats intervals (%" PRIu64 " updates)",
			      gs.updates - swap_updates + 1);
		}
		follow();
	}

	printf("  peak balloons under pressure: busy %" PRIu64 ", idle %" PRIu64 ", swapper %"
	       PRIu64 " MiB; before relief: busy %" PRIu64 ", idle %" PRIu64 ", swapper %" PRIu64
	       " MiB\n", peak[BUSY], peak[IDLE], peak[SWAPPER], tgt[RELIEF_AT - 1][BUSY],
	       tgt[RELIEF_AT - 1][IDLE], tgt[RELIEF_AT - 1][SWAPPER]);
	CHECK(deflated_at != 0, "the swapper was deflated");
	CHECK(peak[SWAPPER] > tgt[RELIEF_AT - 1][SWAPPER], "the swapper holds less balloon than "
	      "before it swapped");
	/* Under pressure, settled: the idle guest gives most, the busy one least. */
	CHECK(tgt[RELIEF_AT - 1][IDLE] > tgt[RELIEF_AT - 1][SWAPPER] &&
	      tgt[RELIEF_AT - 1][SWAPPER] > tgt[RELIEF_AT - 1][BUSY],
	      "idle > swapper > busy before relief");
	CHECK(peak[IDLE] > peak[BUSY] && peak[IDLE] >= peak[SWAPPER], "the idle guest gave most");
	for (t = RELIEF_AT - 6; t < RELIEF_AT; t++) {
		for (i = 0; i < NVM; i++)
			CHECK(tgt[t][i] == tgt[RELIEF_AT - 1][i], "%s settled under pressure "
			      "(t=%u: %" PRIu64 " MiB)", guests[i].name, t, tgt[t][i]);
	}
	/* After relief: everything back, settled. */
	for (t = TICKS - 4; t < TICKS; t++) {
		for (i = 0; i < NVM; i++)
			CHECK(tgt[t][i] == 0, "%s got its memory back (t=%u: %" PRIu64 " MiB)",
			      guests[i].name, t, tgt[t][i]);
	}
	for (i = 0; i < NVM; i++) {
		func_verify(guests[i].vm, guests[i].name);
		vms_vm_destroy(guests[i].vm);
		CHECK(vhb_device_destroy(guests[i].dev) == 0, "destroy");
	}
	vhb_policy_free(pol);
	if (csv != NULL)
		fclose(csv);
	unlink(meminfo);
	unlink(psi);
	rmdir(host_dir);
	func_stop();
	printf("policy scenario: %d checks passed\n", test_checks);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the hostile tests. */

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_log.h>

#include "hostile_common.h"

static FILE *g_log;

void
hostile_log_capture(void)
{
	if (getenv("HOSTILE_LOG_STDERR") != NULL)
		return;		/* for debugging: log lines are not counted then */
	g_log = tmpfile();
	CHECK(g_log != NULL, "tmpfile");
	setvbuf(g_log, NULL, _IOLBF, 0);
	CHECK(rte_openlog_stream(g_log) == 0, "log stream");
}

unsigned int
hostile_log_count(const char *a, const char *b)
{
	char line[1024];
	unsigned int n = 0;
	FILE *f;

	if (g_log == NULL)
		return 0;
	fflush(g_log);
	/* A second stream on the same file: the writers keep their position. */
	snprintf(line, sizeof(line), "/proc/self/fd/%d", fileno(g_log));
	f = fopen(line, "r");
	CHECK(f != NULL, "reopen log");
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, a) != NULL && (b == NULL || strstr(line, b) != NULL))
			n++;
	fclose(f);
	return n;
}

struct vhb_device_counters
hostile_counters(struct vhb_device *dev)
{
	struct vhb_device_counters c;

	CHECK(vhb_device_get_counters(dev, &c) == 0, "counters");
	return c;
}

struct vhb_device_counters
hostile_counters_quiet(struct vhb_device *dev)
{
	struct vhb_device_counters a, b;
	int k;

	/* The lcore publishes counters after the pass whose ack the guest may already see. */
	b = hostile_counters(dev);
	for (k = 0; k < 200; k++) {
		a = b;
		usleep(5000);
		b = hostile_counters(dev);
		if (memcmp(&a, &b, sizeof(a)) == 0)
			break;
	}
	return b;
}

struct vhb_device_info
hostile_info(struct vhb_device *dev)
{
	struct vhb_device_info i;

	CHECK(vhb_device_get_info(dev, &i) == 0, "info");
	return i;
}

void
hostile_pair_up(struct hostile_pair *hp, const char *name, uint16_t vq_size)
{
	snprintf(hp->name, sizeof(hp->name), "%s", name);
	hp->dev = func_device(hp->name, HOSTILE_F, 0);
	snprintf(hp->path, sizeof(hp->path), "%s", func_socket(hp->name));
	func_vm_params(&hp->p, hp->path, HOSTILE_F);
	hp->p.mem_bytes = 16 * MiB;
	hp->p.kernel_bytes = 2 * MiB;
	hp->p.free_percent = 30;
	if (vq_size != 0)
		hp->p.vq_size = vq_size;
	hp->vm = func_vm(&hp->p);
	CHECK(hp->vm != NULL, "vm %s: %s", name, strerror(errno));
}

void
hostile_pair_down(struct hostile_pair *hp)
{
	vms_vm_destroy(hp->vm);
	hp->vm = NULL;
	CHECK(vhb_device_destroy(hp->dev) == 0, "destroy %s", hp->name);
	hp->dev = NULL;
}

bool
hostile_wait_errors(struct hostile_pair *hp, uint64_t n, int timeout_ms)
{
	int waited;

	for (waited = 0; waited < timeout_ms; waited += 5) {
		if (hostile_counters(hp->dev).guest_errors >= n)
			return true;
		if (hp->vm != NULL && vms_vm_connected(hp->vm))
			vms_vm_poll(hp->vm, 0);
		usleep(5000);
	}
	return hostile_counters(hp->dev).guest_errors >= n;
}

bool
hostile_wait_listening(struct vhb_device *dev, int timeout_ms)
{
	int waited;

	for (waited = 0; waited < timeout_ms; waited += 2) {
		if (hostile_info(dev).state == VHB_DEV_LISTENING)
			return true;
		usleep(2000);
	}
	return false;
}

void
hostile_neighbour_check(struct hostile_pair *nb, const char *when)
{
	struct vms_config cfg;
	uint32_t target;

	vms_vm_config(nb->vm, &cfg);
	target = cfg.actual == 512 ? 1024 : 512;
	func_balloon_to(nb->dev, nb->vm, target);
	CHECK(hostile_info(nb->dev).pages_in_balloon == target, "%s: neighbour balloon %" PRIu64
	      ", want %u", when, hostile_info(nb->dev).pages_in_balloon, target);
	CHECK(hostile_counters(nb->dev).guest_errors == 0, "%s: neighbour has errors", when);
	CHECK(vms_vm_verify(nb->vm, NULL) == 0, "%s: neighbour memory corrupted", when);
}

unsigned int
hostile_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned int n = 0;

	CHECK(d != NULL, "opendir");
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

void
hostile_verify_except(struct vms_vm *vm, const struct vms_block *allowed, unsigned int n,
		      const char *when)
{
	struct vms_verify_report rep;
	int64_t bad = vms_vm_verify(vm, &rep);
	unsigned int i, j;

	CHECK(bad >= 0, "%s: verify: %" PRId64, when, bad);
	for (i = 0; i < rep.nbad && i < 16; i++) {
		uint64_t gpa = rep.bad_pfns[i] << VMS_PAGE_SHIFT;
		bool ok = false;

		for (j = 0; j < n; j++)
			ok |= gpa >= allowed[j].gpa && gpa - allowed[j].gpa < allowed[j].len;
		CHECK(ok, "%s: page %#" PRIx64 " (%s) corrupted outside what the guest offered",
		      when, rep.bad_pfns[i], vms_page_state_name(rep.bad_state[i]));
	}
	CHECK(n > 0 || bad == 0, "%s: %" PRId64 " pages corrupted", when, bad);
}

unsigned int
hostile_fd_settled(unsigned int want, int timeout_ms)
{
	unsigned int n = hostile_fd_count(), same = 0;
	int waited;

	/*
	 * rte_vhost closes a connection's fds (socket, regions, kick/call) after its
	 * destroy_connection callback, i.e. after the device reads LISTENING.
	 */
	for (waited = 0; waited < timeout_ms && n != want && same < 50; waited += 2) {
		unsigned int m;

		usleep(2000);
		m = hostile_fd_count();
		same = m == n ? same + 1 : 0;
		n = m;
	}
	return n;
}

int
hostile_main(int argc, char **argv, const struct hostile_group *groups, unsigned int ngroups,
	     struct hostile_pair *nb)
{
	const char *g = argc > 1 ? argv[1] : "";
	unsigned int i;
	int rc = 2;

	func_start();
	hostile_log_capture();
	hostile_pair_up(nb, "neighbour", 0);
	for (i = 0; i < ngroups; i++)
		if (strcmp(g, groups[i].name) == 0)
			break;
	if (i < ngroups)
		rc = groups[i].run();
	else
		fprintf(stderr, "unknown group '%s'\n", g);
	if (rc == 0)
		hostile_neighbour_check(nb, "at the end");
	hostile_pair_down(nb);
	func_stop();
	if (rc == 0)
		printf("PASS %s\n", g);
	return rc;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection churn with timing pressure: several VMs on one poll lcore, each run by its
 * own thread as a sequence of sessions (a new frontend with new guest memory each time,
 * as a VM restarted into a new QEMU), while a prober thread connects to random sockets,
 * asks GET_FEATURES and closes (as monitoring tools do), and spinner processes keep
 * every CPU busy. A new session connects right after the previous frontend closed, or
 * before its close (so the backend may see the new connection first).
 *
 * Every session is well-behaved, so every one must complete its start, inflate and
 * deflate with its memory intact, and no device may count a guest error.
 * argv[1]: sessions per VM (default 150), argv[2]: memfd | hugetlbfs.
 */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>

#include "hostile_common.h"

#define NVM		3
#define NSPIN		2
#define TARGET_PAGES	1024	/* 4 MiB: four 256-PFN inflate and deflate requests */

struct race_vm {
	unsigned int idx;
	struct vhb_device *dev;
	struct vms_vm_params p;
	char name[16];
	char path[160];
	unsigned int sessions;
	unsigned int early;	/* sessions whose frontend connected before the old one closed */
	char fail[256];		/* first failure, empty if none */
};

static uint32_t g_stop;
static unsigned int g_probes;

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static bool
session_step(struct race_vm *v, unsigned int k, const char *what, int rc)
{
	if (rc == 0)
		return true;
	snprintf(v->fail, sizeof(v->fail), "%s session %u: %s failed (%d, %s)", v->name, k, what,
		 rc, strerror(-rc));
	return false;
}

/* One session: connect (maybe before the previous frontend closes), start, balloon. */
static bool
session(struct race_vm *v, unsigned int k, struct vms_vm **prev, uint32_t *seed)
{
	struct vms_vm *vm = vms_vm_create(&v->p);
	bool early = *prev != NULL && (rnd(seed) & 1);
	struct vms_verify_report rep;
	int64_t bad;

	if (vm == NULL) {
		snprintf(v->fail, sizeof(v->fail), "%s session %u: vm: %s", v->name, k,
			 strerror(errno));
		return false;
	}
	if (!early && *prev != NULL) {
		vms_vm_destroy(*prev);
		*prev = NULL;
	}
	if (!session_step(v, k, "connect", vms_vm_connect(vm)))
		goto fail;
	if (early) {
		v->early++;
		vms_vm_destroy(*prev);
		*prev = NULL;
	}
	if (!session_step(v, k, "start", vms_vm_start(vm)) ||
	    !session_step(v, k, "set target", vhb_device_set_target_pages(v->dev, TARGET_PAGES)) ||
	    !session_step(v, k, "inflate", vms_vm_wait_target(vm, TARGET_PAGES, 10000)) ||
	    !session_step(v, k, "set target 0", vhb_device_set_target_pages(v->dev, 0)) ||
	    !session_step(v, k, "deflate", vms_vm_wait_target(vm, 0, 10000)))
		goto fail;
	bad = vms_vm_verify(vm, &rep);
	if (bad != 0) {
		snprintf(v->fail, sizeof(v->fail), "%s session %u: %" PRId64 " corrupted pages",
			 v->name, k, bad);
		goto fail;
	}
	*prev = vm;
	return true;
fail:
	vms_vm_destroy(vm);
	return false;
}

static void *
vm_thread(void *arg)
{
	struct race_vm *v = arg;
	struct vms_vm *prev = NULL;
	uint32_t seed = 0x9e3779b9u * (v->idx + 1);
	unsigned int k;

	for (k = 0; k < v->sessions && !__atomic_load_n(&g_stop, __ATOMIC_RELAXED); k++) {
		if (!session(v, k, &prev, &seed)) {
			__atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
			break;
		}
		/* Sometimes a pause, so probes also meet idle and listening devices. */
		if ((rnd(&seed) & 3) == 0)
			usleep(rnd(&seed) % 2000);
	}
	v->sessions = k;
	vms_vm_destroy(prev);
	return NULL;
}

/* connect, GET_FEATURES, read the reply (or not), close. */
static void
probe_once(const char *path, bool read_reply)
{
	uint32_t hdr[3] = { VMS_REQ_GET_FEATURES, VMS_MSG_VERSION, 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	uint8_t reply[VMS_MSG_HDR_SIZE + 8];
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		close(fd);
		return;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    write(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr) && read_reply) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 1000) == 1 && read(fd, reply, sizeof(reply)) < 0)
			fprintf(stderr, "probe: read: %s\n", strerror(errno));
	}
	close(fd);
}

static void *
probe_thread(void *arg)
{
	struct race_vm *vms = arg;
	uint32_t seed = 0x12345678u;

	while (!__atomic_load_n(&g_stop, __ATOMIC_RELAXED)) {
		probe_once(vms[rnd(&seed) % NVM].path, rnd(&seed) & 1);
		__atomic_fetch_add(&g_probes, 1, __ATOMIC_RELAXED);
		usleep(rnd(&seed) % 3000);
	}
	return NULL;
}

static pid_t
spinner(void)
{
	pid_t pid = fork();

	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		volatile uint64_t x = 0;

		for (;;)
			x++;
	}
	return pid;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	unsigned int sessions = argc > 1 ? (unsigned int)strtoul(argv[1], NULL, 0) : 150;
	bool huge = argc > 2 && strcmp(argv[2], "hugetlbfs") == 0;
	struct race_vm vms[NVM];
	pthread_t vt[NVM], pt;
	pid_t spin[NSPIN];
	unsigned int i, total = 0, early = 0, fails = 0;
	struct vms_vm *probe_vm;
	double t0;

	func_start();
	hostile_log_capture();
	memset(vms, 0, sizeof(vms));
	for (i = 0; i < NVM; i++) {
		struct race_vm *v = &vms[i];

		v->idx = i;
		v->sessions = sessions;
		snprintf(v->name, sizeof(v->name), "race%u", i);
		v->dev = func_device(v->name, HOSTILE_F, 1);
		snprintf(v->path, sizeof(v->path), "%s", func_socket(v->name));
		func_vm_params(&v->p, v->path, HOSTILE_F);
		v->p.mem_bytes = 16 * MiB;
		v->p.kernel_bytes = 2 * MiB;
		v->p.free_percent = 60;
		v->p.timeout_ms = 10000;
		if (huge)
			v->p.backing = VMS_BACKING_HUGETLBFS;
	}
	/* The backing is there (or the test is skipped with the reason). */
	probe_vm = vms_vm_create(&vms[0].p);
	if (probe_vm == NULL) {
		printf("SKIP: %s guest memory unavailable: %s\n", huge ? "hugetlbfs" : "memfd",
		       strerror(errno));
		return TEST_SKIP;
	}
	printf("churn race: %u VMs x %u sessions on one lcore (%s), GET_FEATURES probes, "
	       "%d spinners\n", NVM, sessions, func_backing_name(probe_vm), NSPIN);
	vms_vm_destroy(probe_vm);

	for (i = 0; i < NSPIN; i++)
		spin[i] = spinner();
	t0 = now_s();
	CHECK(pthread_create(&pt, NULL, probe_thread, vms) == 0, "probe thread");
	for (i = 0; i < NVM; i++)
		CHECK(pthread_create(&vt[i], NULL, vm_thread, &vms[i]) == 0, "vm thread");
	for (i = 0; i < NVM; i++)
		pthread_join(vt[i], NULL);
	__atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
	pthread_join(pt, NULL);
	for (i = 0; i < NSPIN; i++) {
		kill(spin[i], SIGKILL);
		waitpid(spin[i], NULL, 0);
	}

	for (i = 0; i < NVM; i++) {
		struct vhb_device_counters c = hostile_counters(vms[i].dev);

		total += vms[i].sessions;
		early += vms[i].early;
		if (vms[i].fail[0] != '\0') {
			fprintf(stderr, "FAIL %s\n", vms[i].fail);
			fails++;
		}
		if (c.guest_errors != 0) {
			fprintf(stderr, "FAIL %s: %" PRIu64 " guest errors from well-behaved "
				"frontends\n", vms[i].name, c.guest_errors);
			fails++;
		}
	}
	printf("  %u sessions (%u connected before the previous frontend closed), %u probes, "
	       "%.1f s; queue stops logged: %u\n", total, early,
	       __atomic_load_n(&g_probes, __ATOMIC_RELAXED), now_s() - t0,
	       hostile_log_count("stopped:", NULL));
	CHECK(fails == 0, "%u failures", fails);
	CHECK(hostile_log_count("stopped:", NULL) == 0, "a queue of a well-behaved guest stopped");
	for (i = 0; i < NVM; i++) {
		CHECK(hostile_wait_listening(vms[i].dev, 5000), "%s listening", vms[i].name);
		CHECK(vhb_device_destroy(vms[i].dev) == 0, "destroy");
	}
	func_stop();
	printf("PASS churn race\n");
	return 0;
}

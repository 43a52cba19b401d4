/* SPDX-License-Identifier: BSD-3-Clause */
/* The policy loop: one engine pass per interval on a control thread (vhbd_policy.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vhb_policy.h"
#include "vhbd_policy.h"

static pthread_t pol_thread;
static bool pol_started;
static atomic_bool pol_stop;
static int pol_wake_fd = -1;

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *
policy_loop(void *arg)
{
	struct vhbd_daemon *d = arg;
	struct vhb_policy_params p;
	struct pollfd pfd;
	uint64_t v;

	while (!atomic_load(&pol_stop) && !atomic_load(&d->stop)) {
		vhb_policy_get_params(d->policy, &p);
		pfd = (struct pollfd){ .fd = pol_wake_fd, .events = POLLIN };
		if (poll(&pfd, 1, (int)p.interval_ms) > 0 &&
				read(pol_wake_fd, &v, sizeof(v)) != sizeof(v))
			VHBD_LOG(DEBUG, "policy: wake-up read failed");
		if (atomic_load(&pol_stop) || atomic_load(&d->stop))
			break;
		pthread_mutex_lock(&d->cmd_lock);
		vhb_policy_step(d->policy, mono_ns());
		pthread_mutex_unlock(&d->cmd_lock);
	}
	return NULL;
}

int
vhbd_policy_start(struct vhbd_daemon *d)
{
	const struct vhbd_params *p = d->params;
	unsigned int i;
	int ret;

	d->policy = vhb_policy_create(&p->policy);
	if (d->policy == NULL)
		return -ENOMEM;
	for (i = 0; i < p->nvms; i++) {
		ret = vhb_policy_set_vm(d->policy, p->vms[i].name, &p->vms[i].policy);
		if (ret != 0) {
			VHBD_LOG(ERR, "VM %s: policy settings: %s", p->vms[i].name,
				strerror(-ret));
			goto fail;
		}
	}
	pol_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pol_wake_fd < 0) {
		ret = -errno;
		goto fail;
	}
	atomic_store(&pol_stop, false);
	ret = -pthread_create(&pol_thread, NULL, policy_loop, d);
	if (ret != 0)
		goto fail_fd;
	pthread_setname_np(pol_thread, "vhb-policy");
	pol_started = true;
	vhb_policy_telemetry_attach(d->policy);
	VHBD_LOG(INFO, "policy %s (every %u ms; docs/policy.md)",
		vhb_policy_mode_name(p->policy.mode), p->policy.interval_ms);
	return 0;
fail_fd:
	close(pol_wake_fd);
	pol_wake_fd = -1;
fail:
	vhb_policy_free(d->policy);
	d->policy = NULL;
	return ret;
}

void
vhbd_policy_kick(void)
{
	uint64_t one = 1;

	if (pol_wake_fd >= 0 && write(pol_wake_fd, &one, sizeof(one)) != sizeof(one))
		VHBD_LOG(DEBUG, "policy: wake-up write failed");
}

void
vhbd_policy_stop(struct vhbd_daemon *d)
{
	if (pol_started) {
		atomic_store(&pol_stop, true);
		vhbd_policy_kick();
		pthread_join(pol_thread, NULL);
		pol_started = false;
	}
	vhb_policy_telemetry_attach(NULL);
	if (pol_wake_fd >= 0) {
		close(pol_wake_fd);
		pol_wake_fd = -1;
	}
	vhb_policy_free(d->policy);
	d->policy = NULL;
}

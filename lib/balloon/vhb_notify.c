/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sleeping poll lcores: the epoll set of kick eventfds and the wake eventfd
 * (see vhb_notify.h for who touches what).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_vhost.h>

#include "vhb_device.h"
#include "vhb_notify.h"

/* epoll data: NULL for the wake eventfd, else the device whose queue was kicked. */

int
vhb_notify_init(struct vhb_notify *n)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int rc;

	n->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (n->epfd < 0)
		return -errno;
	n->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->wakefd < 0) {
		rc = -errno;
		goto close_ep;
	}
	/* Level-triggered: a wake written just before the wait is not lost. */
	if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->wakefd, &ev) != 0) {
		rc = -errno;
		goto close_wake;
	}
	return 0;
close_wake:
	close(n->wakefd);
close_ep:
	close(n->epfd);
	n->epfd = n->wakefd = -1;
	return rc;
}

void
vhb_notify_fini(struct vhb_notify *n)
{
	if (n->wakefd >= 0)
		close(n->wakefd);
	if (n->epfd >= 0)
		close(n->epfd);
	n->epfd = n->wakefd = -1;
}

void
vhb_notify_wake(struct vhb_notify *n)
{
	uint64_t one = 1;

	/* Only EAGAIN (counter full, i.e. already awake-worthy) can fail here. */
	if (write(n->wakefd, &one, sizeof(one)) != sizeof(one))
		return;
}

unsigned int
vhb_notify_wait(struct vhb_notify *n, int timeout_ms, struct vhb_device **kicked,
		unsigned int *nkicked)
{
	struct epoll_event ev[VHB_NOTIFY_MAX_EVENTS];
	unsigned int why = 0;
	uint64_t v;
	int i, nev;

	*nkicked = 0;
	nev = epoll_wait(n->epfd, ev, VHB_NOTIFY_MAX_EVENTS, timeout_ms);
	if (nev <= 0)
		return VHB_WOKE_TIMEOUT;	/* EINTR too: the loop looks again */
	for (i = 0; i < nev; i++) {
		if (ev[i].data.ptr == NULL) {
			why |= VHB_WOKE_CONTROL;
			/* Ours alone, never closed while the lcore runs: safe to drain. */
			while (read(n->wakefd, &v, sizeof(v)) == sizeof(v))
				;
		} else {
			why |= VHB_WOKE_KICK;
			kicked[(*nkicked)++] = ev[i].data.ptr;
		}
	}
	return why;
}

static void
unwatch_one(struct vhb_notify *n, struct vhb_queue *q)
{
	if (!q->kick_watched)
		return;
	/* Remove before close: the file lives on in the frontend, so would its registration. */
	epoll_ctl(n->epfd, EPOLL_CTL_DEL, q->kick_fd, NULL);
	close(q->kick_fd);
	q->kick_watched = false;
	q->kick_fd = -1;
}

int
vhb_notify_watch_kick(struct vhb_notify *n, struct vhb_device *dev, int vid, unsigned int idx)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.ptr = dev };
	struct vhb_queue *q = &dev->q[idx];
	struct rte_vhost_vring vring;
	int fd;

	unwatch_one(n, q);
	if (rte_vhost_get_vhost_vring(vid, (uint16_t)idx, &vring) != 0 || vring.kickfd < 0)
		return -ENOENT;
	fd = fcntl(vring.kickfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/*
	 * A kick fd arrives already signalled (protocol.md#P-qemu-kick): adding it
	 * reports one event,
	 * the lcore wakes and scans, which is what a fresh queue needs anyway.
	 */
	if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	q->kick_fd = fd;
	q->kick_watched = true;
	return 0;
}

void
vhb_notify_unwatch_kicks(struct vhb_notify *n, struct vhb_device *dev)
{
	unsigned int i;

	for (i = 0; i < VHB_MAX_QUEUES; i++)
		unwatch_one(n, &dev->q[i]);
}

bool
vhb_notify_device_kicks(struct vhb_device *dev, bool kicks)
{
	bool pending = false;
	unsigned int i;

	if ((dev->lc_seen & VHB_CTL_RUN) == 0)
		return false;
	for (i = 0; i < VHB_MAX_QUEUES; i++) {
		struct vhb_queue *q = &dev->q[i];

		if (!q->started || q->broken)
			continue;
		vhb_vring_set_no_notify(&q->vr, !kicks);
		pending |= q->notify_pending;
	}
	return pending;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sleeping poll lcores: one epoll set per lcore holding the kick eventfds of the
 * queues it serves plus one wake eventfd the control side writes.
 *
 * Ownership. The kick fds are our own dup()s, registered and closed by the control
 * side only while the device is quiesced (dev->lock held), so the lcore never sees
 * a half-changed set through the device. rte_vhost closes its fd on a new
 * SET_VRING_KICK or at GET_VRING_BASE; our dup keeps the registration valid until
 * we remove it. Kick fds are edge-triggered and never read: every guest write
 * produces an event, and the lcore touches no kick fd itself (a control thread may be
 * closing it). An event names the device whose queue was kicked: the lcore puts it
 * back in its polled set. The pointer stays valid while the event can be returned:
 * the registration is removed before the device leaves the lcore (vhb_lcore_unplace),
 * and the lcore handles the events of one wait before it drains its mailbox again.
 */
#ifndef VHB_NOTIFY_H
#define VHB_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

struct vhb_device;

struct vhb_notify {
	int epfd;
	int wakefd;
};

/* Why vhb_notify_wait() returned (bits). */
#define VHB_WOKE_KICK		0x1
#define VHB_WOKE_CONTROL	0x2
#define VHB_WOKE_TIMEOUT	0x4

int vhb_notify_init(struct vhb_notify *n);
void vhb_notify_fini(struct vhb_notify *n);

/* Control side: make a waiting (or about to wait) lcore return. */
void vhb_notify_wake(struct vhb_notify *n);

/* The most kicked devices one wait reports. */
#define VHB_NOTIFY_MAX_EVENTS	64

/*
 * Lcore side: wait up to timeout_ms (0: only look); returns VHB_WOKE_* bits. The
 * devices whose kicks fired go to kicked[] (VHB_NOTIFY_MAX_EVENTS, may repeat).
 */
unsigned int vhb_notify_wait(struct vhb_notify *n, int timeout_ms, struct vhb_device **kicked,
			     unsigned int *nkicked);

/*
 * Control side, device quiesced, dev->lock held: watch (replace) queue idx's kick
 * eventfd as rte_vhost knows it now; forget every watched kick fd of the device.
 */
int vhb_notify_watch_kick(struct vhb_notify *n, struct vhb_device *dev, int vid,
			  unsigned int idx);
void vhb_notify_unwatch_kicks(struct vhb_notify *n, struct vhb_device *dev);

/*
 * Lcore side, for a device it runs (RUN acknowledged): ask the driver to kick
 * (kicks true: VRING_USED_F_NO_NOTIFY cleared) or not. Returns true if a guest
 * notification is still pending on one of its queues (the lcore must not sleep).
 */
bool vhb_notify_device_kicks(struct vhb_device *dev, bool kicks);

/* Poll lcores (vhb_lcore.c), control side, dev->lock held: the hooks' entry points. */
void vhb_lcore_watch_kick(struct vhb_device *dev, int vid, unsigned int idx);
void vhb_lcore_unwatch_kicks(struct vhb_device *dev);
/* Any control thread: a setting the lcore reads changed (e.g. the stats interval). */
void vhb_lcore_wake_dev(struct vhb_device *dev);

/* Queue timers (vhb_queues.c), lcore side: TSC of the next timer due, UINT64_MAX none. */
uint64_t vhb_device_next_timer(const struct vhb_device *dev);

#endif /* VHB_NOTIFY_H */

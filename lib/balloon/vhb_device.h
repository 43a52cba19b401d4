/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One balloon device (one vhost-user socket, one VM): private layout shared by the
 * device files (registry, message hooks, queue handlers, poll loop).
 *
 * Ownership. The control side (vhost-events thread for rte_vhost callbacks and
 * message hooks, control threads for the public API) serialises on dev->lock.
 * The poll lcore owns the queues, the memory map and page tracking while the
 * device runs. The hand-off is one atomic word, dev->ctl = (seq << 1) | RUN, and
 * the lcore's acknowledgement dev->ack: to change anything the lcore uses, the
 * control side quiesces (stores a new seq without RUN and waits until the lcore
 * has acknowledged it, i.e. finished its pass), edits, then resumes (stores a new
 * seq with RUN; the lcore's acquire-load of ctl makes the edits visible).
 */
#ifndef VHB_DEVICE_H
#define VHB_DEVICE_H

#include <pthread.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <rte_seqlock.h>

#include "vhost_balloon.h"
#include "vhb_balloon_pages.h"
#include "vhb_config.h"
#include "vhb_features.h"
#include "vhb_guest_mem.h"
#include "vhb_latency.h"
#include "vhb_log.h"
#include "vhb_vring.h"

#define VHB_CTL_RUN	1u

struct vhb_queue {
	enum vhb_vq_role role;
	bool started;		/* SET_VRING_KICK seen, ring attached */
	bool enabled;		/* SET_VRING_ENABLE 1 (or no protocol features) */
	bool have_base;		/* indexes valid for a GET_VRING_BASE reply */
	bool broken;		/* the driver violated the ring protocol */
	bool base_set;		/* SET_VRING_BASE since the last start */
	bool notify_pending;	/* a guest notification could not be sent yet */
	bool stats_held;	/* the stats buffer is held by the device */
	uint16_t stats_head;
	uint64_t stats_rx_tsc;	/* when the held stats buffer arrived */
	bool kick_watched;	/* kick_fd is in the lcore's epoll set (vhb_notify.c) */
	int kick_fd;		/* our dup of the kick eventfd; control side only */
	struct vhb_vring vr;
};

/* Counters the control side writes (atomically), merged into vhb_device_counters. */
struct vhb_ctl_counters {
	uint64_t get_config, set_config, config_changes_sent, guest_errors;
};

struct vhb_gate_listener;

struct vhb_device {
	TAILQ_ENTRY(vhb_device) next;
	char name[64];
	char path[108];			/* the public socket (the gate's, vhb_gate.c) */
	char vhost_path[108];		/* the private socket rte_vhost serves */
	struct vhb_gate_listener *gate;	/* the gate's listener of path; NULL: none */
	uint64_t features_offered;	/* balloon bits */
	uint32_t stats_interval_s;	/* atomic */
	int socket_gid;
	uint32_t socket_mode;
	unsigned int lcore_req;		/* params.lcore_id */
	bool registered;		/* rte_vhost driver registered */

	pthread_mutex_t lock;		/* control side */
	int vid;			/* atomic; -1: no frontend */
	uint32_t state;			/* enum vhb_device_state, atomic */
	bool dying;
	uint64_t negotiated;		/* virtio features the driver accepted */
	bool features_known;		/* SET_FEATURES seen on this connection */
	uint64_t protocol_negotiated;
	int numa_node;

	/* Hand-off (see above). */
	uint32_t ctl;
	uint32_t ack;
	uint32_t seq;			/* control side */
	uint32_t lc_seen;		/* lcore side */
	int lcore_idx;			/* index in the lcore table; -1 not placed */
	uint32_t lc_poke;		/* atomic: a setting the lcore reads changed */

	/* Polling state on its lcore (vhb_lcore.c), lcore side: polled or parked on kicks. */
	unsigned int lc_pos;		/* index in the lcore's device array */
	bool lc_kicks;			/* its drivers were asked to kick */
	uint64_t lc_last_busy;		/* TSC: the last pass that found work */
	uint64_t lc_work_end;		/* TSC: end of its last work; 0 once its gap was learned */
	uint64_t lc_gap_avg, lc_gap_last;	/* auto mode: gaps between its requests */
	uint64_t lc_spin;		/* auto mode: poll this long after work before parking */

	/* Owned by the lcore while RUN, by the control side while quiesced. */
	struct vhb_queue q[VHB_MAX_QUEUES];
	struct vhb_guest_mem gm;
	bool mem_valid;
	struct vhb_balloon_pages *bp;
	struct vhb_balloon_pages_stats bp_base;	/* folded in from destroyed trackers */
	struct vhb_log_ratelimit rl;		/* lcore side */
	struct vhb_log_ratelimit rl_ctl;	/* vhost-events side */
	uint64_t lc_cnt[sizeof(struct vhb_device_counters) / sizeof(uint64_t)];

	/* Published by the lcore (relaxed), read by anyone. */
	struct vhb_device_counters cnt;
	uint64_t pages_in_balloon;
	struct vhb_ctl_counters ctl_cnt;
	rte_seqlock_t gs_lock;
	struct vhb_guest_stats gs;

	struct vhb_config cfg;
	struct vhb_latency lat;		/* lcore writes, anyone reads relaxed */
};

/*
 * Registry (vhb_device.c). Every connection on a device's socket is known by its vid
 * from new_connection on; it becomes the device's frontend (dev->vid) only when it
 * claims the device with SET_OWNER, so a connection that only asks questions (a
 * liveness probe) never disturbs the frontend being served.
 */
struct vhb_device *vhb_device_by_vid(int vid);
/* The device whose private socket (vhost_path) rte_vhost serves at path. */
struct vhb_device *vhb_device_by_vhost_path(const char *path);
void vhb_device_conn_add(struct vhb_device *dev, int vid);
void vhb_device_conn_del(int vid);
bool vhb_device_is_frontend(const struct vhb_device *dev, int vid);
/* vid claims the device: a frontend it had is cut off and everything of it forgotten. */
void vhb_device_bind_vid(struct vhb_device *dev, int vid);
void vhb_device_unbind_vid(struct vhb_device *dev);
uint64_t vhb_device_mem_bytes(const struct vhb_device *dev);

struct rte_vhost_device_ops;

/* rte_vhost glue (vhb_msg_hooks.c). */
extern const struct rte_vhost_device_ops vhb_vhost_ops;
/* Stop every queue and forget the memory map and page tracking (connection gone). */
void vhb_device_disconnected(struct vhb_device *dev);
/*
 * SET_CONFIG from the device's frontend: the payload's actual (and poison_val if the
 * driver may write it) applied, counted and logged. VHB_CFG_CHANGED_* bits, or -EINVAL
 * (nothing changed, nothing counted) for a bad payload. vhost-events, or the gate for a
 * settled lone frontend (vhb_gate.c).
 */
int vhb_device_config_set(struct vhb_device *dev, const uint8_t *payload, uint32_t size);

/* Guest RAM allocated on the host (vhb_resident.c). Control side, dev->lock held. */
uint64_t vhb_device_host_resident(const struct vhb_device *dev);
/* Refresh every device's figure once a second off the poll lcores (vhb_init/vhb_stop). */
void vhb_resident_timer_start(void);
void vhb_resident_timer_stop(void);

/* Poll lcores (vhb_lcore.c). Control side, dev->lock held. */
int vhb_lcore_place(struct vhb_device *dev, int numa_node);
void vhb_lcore_unplace(struct vhb_device *dev);
void vhb_dev_quiesce(struct vhb_device *dev);
void vhb_dev_resume(struct vhb_device *dev);
bool vhb_lcore_valid(unsigned int lcore_id);
unsigned int vhb_lcore_id_at(int idx);

/* Queue work (vhb_queues.c), lcore side: one pass over the device; true if busy. */
bool vhb_device_poll(struct vhb_device *dev, uint64_t now_tsc);
/* Publish tracking stats into dev->cnt (lcore side, or control side when quiesced). */
void vhb_device_publish_counters(struct vhb_device *dev);
void vhb_pages_stats_accumulate(struct vhb_balloon_pages_stats *acc,
				const struct vhb_balloon_pages_stats *add);

/* Counter index in lc_cnt[] for a field of struct vhb_device_counters. */
#define VHB_CNT(field) (offsetof(struct vhb_device_counters, field) / sizeof(uint64_t))

static inline bool
vhb_dev_has_feature(const struct vhb_device *dev, unsigned int bit)
{
	return vhb_has_feature(dev->negotiated, bit);
}

static inline enum vhb_device_state
vhb_dev_state(const struct vhb_device *dev)
{
	return (enum vhb_device_state)__atomic_load_n(&dev->state, __ATOMIC_RELAXED);
}

static inline void
vhb_dev_set_state(struct vhb_device *dev, enum vhb_device_state s)
{
	__atomic_store_n(&dev->state, (uint32_t)s, __ATOMIC_RELAXED);
}

#endif /* VHB_DEVICE_H */

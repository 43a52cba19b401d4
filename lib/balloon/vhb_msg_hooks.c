/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rte_vhost glue: connection callbacks and the pre/post message hooks.
 *
 * rte_vhost 22.11 serves config messages only for vDPA, never fires new_device
 * when the guest leaves a queue unset, unmaps guest memory on SET_MEM_TABLE with
 * no callback and replies GET_VRING_BASE with a stale index. So: GET/SET_CONFIG
 * are answered in pre; queues start on their SET_VRING_KICK (post); the device is
 * quiesced before SET_MEM_TABLE and GET_VRING_BASE; the memory map is rebuilt
 * after SET_MEM_TABLE; our ring indexes go to rte_vhost before GET_VRING_BASE
 * replies. Everything here runs on the single vhost-events thread shared by all
 * VMs: nothing waits on a guest (quiescing waits at most one lcore pass).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_vhost.h>

#include "vhb_device.h"
#include "vhb_msg_check.h"
#include "vhb_notify.h"
#include "vhb_numa.h"

/* vhost-user message layout (vhost-user spec; rte_vhost's private vhost_user.h). */
#define VU_VRING_IDX_MASK	0xff
#define VU_CONFIG_HDR_SIZE	12
#define VU_MAX_CONFIG_SIZE	256
#define VU_PROTOCOL_F_SLAVE_REQ	5

/* rte_vhost 22.11's largest payload member (the crypto session parameters). */
#define VU_PAYLOAD_SIZE		632
#define VU_MAX_MEM_REGIONS	8	/* VHOST_MEMORY_MAX_NREGIONS */
#define VU_MEM_HDR_SIZE		8	/* nregions, padding */
#define VU_MEM_REGION_SIZE	32

struct vu_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	union {
		uint64_t u64;
		struct {
			uint32_t index;
			uint32_t num;
		} state;
		struct {
			uint32_t offset;
			uint32_t size;
			uint32_t flags;
			uint8_t region[VU_MAX_CONFIG_SIZE];
		} cfg;
		struct {
			uint32_t nregions;
			uint32_t padding;
			struct {
				uint64_t gpa;
				uint64_t size;
				uint64_t uaddr;
				uint64_t mmap_offset;
			} regions[VU_MAX_MEM_REGIONS];
		} memory;
		uint8_t raw[VU_PAYLOAD_SIZE];
	} payload;
} __rte_packed;

/*
 * What the hooks receive: rte_vhost's struct vhu_msg_context (private
 * lib/vhost/vhost_user.h, whose comment says external handlers rely on its
 * layout): the message, then the fds that came with it. A message the hooks
 * answer themselves never reaches rte_vhost's handlers, which are the ones that
 * close unexpected fds: we must close them, or a frontend leaks our fds at will.
 */
struct vu_msg_ctx {
	struct vu_msg msg;
	int fds[VU_MAX_MEM_REGIONS];
	int fd_num;
} __rte_packed;

_Static_assert(sizeof(struct vu_msg) == 12 + VU_PAYLOAD_SIZE, "rte_vhost 22.11 VhostUserMsg");
_Static_assert(VU_CONFIG_HDR_SIZE == VHB_MSG_CONFIG_HDR_SIZE &&
	       VU_MAX_CONFIG_SIZE == VHB_MSG_CONFIG_MAX_SIZE &&
	       VHB_MSG_CONFIG_REPLY_MAX <= VU_PAYLOAD_SIZE &&
	       VU_MAX_MEM_REGIONS == VHB_MSG_MEM_MAX_REGIONS &&
	       VU_MEM_HDR_SIZE == VHB_MSG_MEM_HDR_SIZE &&
	       VU_MEM_REGION_SIZE == VHB_MSG_MEM_REGION_SIZE, "vhb_msg_check.h layout");

static bool
any_queue_started(const struct vhb_device *dev)
{
	unsigned int i;

	for (i = 0; i < VHB_MAX_QUEUES; i++)
		if (dev->q[i].started)
			return true;
	return false;
}

static bool
any_queue_broken(const struct vhb_device *dev)
{
	unsigned int i;

	for (i = 0; i < VHB_MAX_QUEUES; i++)
		if (dev->q[i].started && dev->q[i].broken)
			return true;
	return false;
}

/* Resume the lcore if there is anything for it to do (dev->lock held, quiesced). */
static void
resume_if_useful(struct vhb_device *dev)
{
	if (!dev->dying && dev->mem_valid && any_queue_started(dev))
		vhb_dev_resume(dev);
}

/*
 * The driver stopped (or the guest reset): the guest owns every page again, so
 * page tracking is forgotten; stale tracking would later release pages in use.
 */
static void
driver_stopped(struct vhb_device *dev)
{
	unsigned int i;

	for (i = 0; i < VHB_MAX_QUEUES; i++) {
		dev->q[i].started = false;
		dev->q[i].notify_pending = false;
	}
	vhb_lcore_unwatch_kicks(dev);	/* rte_vhost closes the kick fds next */
	if (dev->bp != NULL) {
		vhb_balloon_pages_reset(dev->bp);
		vhb_device_publish_counters(dev);
	}
	if (vhb_dev_state(dev) != VHB_DEV_LISTENING)
		vhb_dev_set_state(dev, VHB_DEV_CONNECTED);
}

/* Keep the cumulative counters of a tracker that goes away with its connection. */
static void
fold_tracker(struct vhb_device *dev)
{
	struct vhb_balloon_pages_stats st;

	if (dev->bp == NULL)
		return;
	vhb_balloon_pages_get_stats(dev->bp, &st);
	vhb_pages_stats_accumulate(&dev->bp_base, &st);
	vhb_balloon_pages_destroy(dev->bp);
	dev->bp = NULL;
	vhb_device_publish_counters(dev);
}

void
vhb_device_disconnected(struct vhb_device *dev)
{
	vhb_dev_quiesce(dev);
	driver_stopped(dev);
	memset(dev->q, 0, sizeof(dev->q));
	/* rte_vhost unmaps the regions and closes their fds next: forget them all. */
	fold_tracker(dev);
	dev->mem_valid = false;
	memset(&dev->gm, 0, sizeof(dev->gm));
	dev->negotiated = 0;
	dev->features_known = false;
	dev->protocol_negotiated = 0;
	vhb_config_set(&dev->cfg.actual, 0);
	vhb_config_set(&dev->cfg.poison_val, 0);
}

static int
mem_rebuild(struct vhb_device *dev, int vid)
{
	struct rte_vhost_memory *mem = NULL;
	struct vhb_guest_mem gm;
	int rc;

	if (rte_vhost_get_mem_table(vid, &mem) != 0 || mem == NULL)
		return -EINVAL;
	rc = vhb_guest_mem_from_vhost(&gm, mem);
	free(mem);
	if (rc != 0)
		return rc;
	/* Tracking is created at the first queue start, once its NUMA node is known. */
	if (dev->bp != NULL) {
		rc = vhb_balloon_pages_set_mem(dev->bp, &gm);
		if (rc != 0)
			return rc;
	}
	dev->gm = gm;
	return 0;
}

/* Re-read the ring addresses rte_vhost re-translated (after a memory change). */
static int
queue_attach(struct vhb_device *dev, int vid, unsigned int idx, uint16_t last_avail,
	     uint16_t last_used)
{
	struct vhb_queue *q = &dev->q[idx];
	struct rte_vhost_vring vring;
	int rc;

	if (rte_vhost_get_vhost_vring(vid, (uint16_t)idx, &vring) != 0 || vring.desc == NULL ||
	    vring.avail == NULL || vring.used == NULL)
		return -EINVAL;
	rc = vhb_vring_init(&q->vr, vring.desc, vring.avail, vring.used, vring.size, last_avail,
			    last_used);
	if (rc != 0)
		return rc;
	/* We poll: the driver need not kick. */
	vhb_vring_set_no_notify(&q->vr, true);
	return 0;
}

static void
queue_start(struct vhb_device *dev, int vid, unsigned int idx)
{
	struct vhb_queue *q;
	enum vhb_vq_role role;
	uint16_t la = 0, lu = 0;
	int rc, node;

	role = vhb_queue_role(dev->negotiated, idx);
	if (role == VHB_VQ_NONE || role == VHB_VQ_FREE_PAGE_HINT) {
		VHB_LOG(WARNING, dev, "%s: kick for queue %u, which has no role under features %#"
			PRIx64 "; not served", dev->name, idx, dev->negotiated);
		return;
	}
	if (!dev->mem_valid) {
		VHB_LOG(ERR, dev, "%s: queue %u kicked before any memory table; not served",
			dev->name, idx);
		return;
	}
	q = &dev->q[idx];
	vhb_dev_quiesce(dev);
	if (q->started && !q->base_set) {
		/* A second kick of a running queue: rte_vhost's indexes are stale, ours are not. */
		la = q->vr.last_avail;
		lu = q->vr.last_used;
	} else if (rte_vhost_get_vring_base(vid, (uint16_t)idx, &la, &lu) != 0) {
		la = lu = 0;
	}
	q->base_set = false;
	q->role = role;
	q->broken = false;
	q->stats_held = false;
	q->notify_pending = false;
	rc = queue_attach(dev, vid, idx, la, lu);
	if (rc != 0) {
		VHB_LOG(ERR, dev, "%s: queue %u has no usable ring (size or addresses); not served",
			dev->name, idx);
		__atomic_fetch_add(&dev->ctl_cnt.guest_errors, 1, __ATOMIC_RELAXED);
		resume_if_useful(dev);
		return;
	}
	if (dev->bp == NULL) {
		/*
		 * The guest's ring is in its memory, and populated: its node is the
		 * memory's. Page tracking goes on that node, the device on an lcore there.
		 */
		node = vhb_numa_node_of(q->vr.desc);
		if (node >= 0)
			dev->numa_node = node;
		dev->bp = vhb_balloon_pages_create(&dev->gm, dev->numa_node);
		if (dev->bp == NULL) {
			VHB_LOG(ERR, dev, "%s: no memory for page tracking; queue %u not served",
				dev->name, idx);
			resume_if_useful(dev);
			return;
		}
	}
	q->started = true;
	q->have_base = true;
	if (!vhb_has_feature(dev->negotiated, VHB_VHOST_USER_F_PROTOCOL_FEATURES))
		q->enabled = true;
	if (dev->lcore_idx < 0 && vhb_lcore_place(dev, dev->numa_node) != 0)
		VHB_LOG(ERR, dev, "%s: no poll lcore to serve it", dev->name);
	vhb_dev_set_state(dev, VHB_DEV_RUNNING);
	VHB_LOG(INFO, dev, "%s: %s queue %u started (size %u, base %u)", dev->name,
		vhb_queue_role_name(role), idx, q->vr.size, la);
	vhb_lcore_watch_kick(dev, vid, idx);	/* a sleeping lcore wakes on its kicks */
	resume_if_useful(dev);
}

static void
queue_stop_for_base(struct vhb_device *dev, int vid, unsigned int idx)
{
	struct vhb_queue *q = &dev->q[idx];
	uint16_t la;

	vhb_dev_quiesce(dev);
	if (q->have_base) {
		/*
		 * The stats buffer the device holds goes back to the driver's side:
		 * the next start re-reads it (protocol.md#P-qemu-stats-unpop).
		 */
		la = q->vr.last_avail;
		if (q->role == VHB_VQ_STATS && q->stats_held)
			la--;
		rte_vhost_set_vring_base(vid, (uint16_t)idx, la, q->vr.last_used);
		VHB_LOG(INFO, dev, "%s: queue %u stopped at avail %u used %u", dev->name, idx, la,
			q->vr.last_used);
	}
	q->stats_held = false;
	q->have_base = false;
	/*
	 * rte_vhost tears the whole device down at the first GET_VRING_BASE (its
	 * destroy_device fires only if new_device did, which an unset queue prevents):
	 * stop every queue and forget tracking now. The others keep their indexes
	 * (have_base) for their own GET_VRING_BASE.
	 */
	driver_stopped(dev);
}

static enum rte_vhost_msg_result
config_get(struct vhb_device *dev, struct vu_msg *m)
{
	uint32_t off = m->payload.cfg.offset, size = m->payload.cfg.size, reply_size;

	__atomic_fetch_add(&dev->ctl_cnt.get_config, 1, __ATOMIC_RELAXED);
	/*
	 * Answered in place; the reply keeps size = 12 + len, or QEMU rejects it
	 * (protocol.md#P-qemu-cfg-reply).
	 */
	if (vhb_msg_config_get(&dev->cfg, m->payload.raw, m->size, m->payload.raw,
			       &reply_size) != 0) {
		VHB_LOG_RATELIMIT(ERR, dev, &dev->rl_ctl, "%s: bad GET_CONFIG (msg size %u, offset %u, "
				  "size %u)", dev->name, m->size, off, size);
		__atomic_fetch_add(&dev->ctl_cnt.guest_errors, 1, __ATOMIC_RELAXED);
		return RTE_VHOST_MSG_RESULT_ERR;
	}
	m->size = reply_size;
	return RTE_VHOST_MSG_RESULT_REPLY;
}

/*
 * The driver writes poison_val at probe, before DRIVER_OK, and the frontend sends
 * SET_FEATURES only at DRIVER_OK: until then PAGE_POISON counts as negotiated if
 * offered. Dropping the value would let reporting discard a poisoning guest's pages.
 */
static bool
poison_writable(const struct vhb_device *dev)
{
	if (dev->features_known)
		return vhb_dev_has_feature(dev, VHB_F_PAGE_POISON);
	return vhb_has_feature(dev->features_offered, VHB_F_PAGE_POISON);
}

int
vhb_device_config_set(struct vhb_device *dev, const uint8_t *payload, uint32_t size)
{
	uint32_t old_actual = vhb_config_get(&dev->cfg.actual);
	int rc;

	rc = vhb_msg_config_set(&dev->cfg, poison_writable(dev), payload, size);
	if (rc < 0)
		return rc;
	__atomic_fetch_add(&dev->ctl_cnt.set_config, 1, __ATOMIC_RELAXED);
	if (rc & VHB_CFG_CHANGED_ACTUAL)
		VHB_LOG(DEBUG, dev, "%s: actual %u -> %u pages", dev->name, old_actual,
			vhb_config_get(&dev->cfg.actual));
	if (rc & VHB_CFG_CHANGED_POISON)
		VHB_LOG(INFO, dev, "%s: poison_val %#x%s", dev->name,
			vhb_config_get(&dev->cfg.poison_val),
			vhb_config_get(&dev->cfg.poison_val) != 0 ?
			": free page reporting will discard nothing" : "");
	return rc;
}

static enum rte_vhost_msg_result
config_set(struct vhb_device *dev, struct vu_msg *m)
{
	uint32_t off = m->payload.cfg.offset, size = m->payload.cfg.size;

	if (vhb_device_config_set(dev, m->payload.raw, m->size) < 0) {
		__atomic_fetch_add(&dev->ctl_cnt.set_config, 1, __ATOMIC_RELAXED);
		VHB_LOG_RATELIMIT(ERR, dev, &dev->rl_ctl, "%s: bad SET_CONFIG (msg size %u, offset %u, "
				  "size %u)", dev->name, m->size, off, size);
		__atomic_fetch_add(&dev->ctl_cnt.guest_errors, 1, __ATOMIC_RELAXED);
		return RTE_VHOST_MSG_RESULT_ERR;
	}
	return RTE_VHOST_MSG_RESULT_OK;
}

/* A message we answer in pre carries no fds: close any that came (see vu_msg_ctx). */
static void
close_msg_fds(struct vu_msg_ctx *ctx)
{
	int i, n = ctx->fd_num;

	if (n < 0 || n > VU_MAX_MEM_REGIONS)
		n = VU_MAX_MEM_REGIONS;
	for (i = 0; i < n; i++)
		if (ctx->fds[i] >= 0)
			close(ctx->fds[i]);
	ctx->fd_num = 0;
}

/*
 * rte_vhost maps whatever SET_MEM_TABLE says (protocol.md#P-dpdk-no-validation):
 * refuse what it must not
 * map before it unmaps the table in force, so a refused table leaves the device
 * serving on the old one (vhb_msg_mem_table_check()). NULL if acceptable.
 */
static const char *
mem_table_invalid(const struct vu_msg_ctx *ctx)
{
	const char *why;

	/* A negative fd count matches no region count, as 0 does. */
	if (vhb_msg_mem_table_check(ctx->msg.payload.raw, ctx->msg.size, ctx->fds,
				    ctx->fd_num < 0 ? 0 : (uint32_t)ctx->fd_num, &why) != 0)
		return why;
	return NULL;
}

/* Refuse a message in pre: rte_vhost acks it non-zero (REPLY_ACK) or closes the connection. */
static enum rte_vhost_msg_result
refuse(struct vhb_device *dev, struct vu_msg_ctx *ctx, bool guest_error)
{
	if (guest_error)
		__atomic_fetch_add(&dev->ctl_cnt.guest_errors, 1, __ATOMIC_RELAXED);
	close_msg_fds(ctx);
	return RTE_VHOST_MSG_RESULT_ERR;
}

/*
 * What a connection may send before it claims the device with SET_OWNER: questions
 * and its own negotiation, which rte_vhost keeps per connection (a probe's
 * GET_FEATURES; QEMU's realize up to SET_OWNER, protocol.md#P-dpdk-connections).
 */
static bool
allowed_before_owner(uint32_t request)
{
	switch (request) {
	case VHB_VU_GET_FEATURES:
	case VHB_VU_GET_PROTOCOL_FEATURES:
	case VHB_VU_SET_PROTOCOL_FEATURES:
	case VHB_VU_GET_QUEUE_NUM:
	case VHB_VU_GET_MAX_MEM_SLOTS:
	case VHB_VU_SET_BACKEND_REQ_FD:
		return true;
	default:
		return false;
	}
}

/*
 * Does this message make the connection the device's frontend? SET_OWNER always (the
 * newest owner wins: a VM restarted into a new QEMU may claim before the old one's EOF
 * is seen). The first message of a start sequence, only while the device has no
 * frontend: QEMU's generic device reconnects without a new SET_OWNER.
 */
static bool
claims_device(const struct vhb_device *dev, uint32_t request)
{
	if (request == VHB_VU_SET_OWNER)
		return true;
	return (request == VHB_VU_SET_FEATURES || request == VHB_VU_SET_MEM_TABLE) &&
	       __atomic_load_n(&dev->vid, __ATOMIC_RELAXED) < 0;
}

/*
 * A connection that is not the device's frontend: questions pass, a claim makes it the
 * frontend (true: go on as for the frontend), anything else is refused in *res.
 */
static bool
pre_msg_not_frontend(struct vhb_device *dev, int vid, struct vu_msg_ctx *ctx,
		     enum rte_vhost_msg_result *res)
{
	uint64_t pf;

	*res = RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	if (claims_device(dev, ctx->msg.request)) {
		vhb_device_bind_vid(dev, vid);
		/* Negotiated on this connection before its claim. */
		if (rte_vhost_get_negotiated_protocol_features(vid, &pf) == 0) {
			pthread_mutex_lock(&dev->lock);
			dev->protocol_negotiated = pf;
			pthread_mutex_unlock(&dev->lock);
		}
		VHB_LOG(INFO, dev, "%s: vid %d is the frontend now", dev->name, vid);
		return true;
	}
	if (allowed_before_owner(ctx->msg.request))
		return false;
	VHB_LOG_RATELIMIT(ERR, dev, &dev->rl_ctl, "%s: vid %d: request %u refused: the "
			  "connection is not the device's frontend (no SET_OWNER, or a newer "
			  "frontend took over)", dev->name, vid, ctx->msg.request);
	*res = refuse(dev, ctx, false);
	return false;
}

static enum rte_vhost_msg_result
pre_msg(int vid, void *msg)
{
	struct vhb_device *dev = vhb_device_by_vid(vid);
	struct vu_msg_ctx *ctx = msg;
	struct vu_msg *m = &ctx->msg;
	enum rte_vhost_msg_result res = RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	const char *why;
	unsigned int idx;
	uint32_t want = 0;

	if (dev == NULL)
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	/* Before anything reads the payload, from any connection. */
	if (vhb_msg_size_check(m->request, m->size, &want) != 0) {
		VHB_LOG_RATELIMIT(ERR, dev, &dev->rl_ctl, "%s: vid %d: request %u refused: "
				  "payload of %u bytes, the request has %u", dev->name, vid,
				  m->request, m->size, want);
		return refuse(dev, ctx, true);
	}
	if (!vhb_device_is_frontend(dev, vid) && !pre_msg_not_frontend(dev, vid, ctx, &res))
		return res;
	switch (m->request) {
	case VHB_VU_GET_CONFIG:
		close_msg_fds(ctx);
		res = config_get(dev, m);
		break;
	case VHB_VU_SET_CONFIG:
		close_msg_fds(ctx);
		res = config_set(dev, m);
		break;
	case VHB_VU_GET_INFLIGHT_FD:
	case VHB_VU_SET_INFLIGHT_FD:
		/*
		 * INFLIGHT_SHMFD is never offered (QEMU's vhost-user-base has no inflight
		 * support), yet rte_vhost 22.11 serves these anyway: GET allocates and
		 * zeroes num_queues x queue_size worth of shared memory the frontend picks,
		 * tens of GiB per message (65535 queues of 65535 entries).
		 */
		VHB_LOG_RATELIMIT(ERR, dev, &dev->rl_ctl, "%s: inflight request %u refused "
				  "(not negotiated)", dev->name, m->request);
		return refuse(dev, ctx, true);
	case VHB_VU_ADD_MEM_REG:
	case VHB_VU_REM_MEM_REG:
		/* CONFIGURE_MEM_SLOTS is never offered; rte_vhost 22.11 has no handler. */
		VHB_LOG_RATELIMIT(ERR, dev, &dev->rl_ctl, "%s: memory region request %u refused "
				  "(not negotiated)", dev->name, m->request);
		return refuse(dev, ctx, true);
	case VHB_VU_SET_MEM_TABLE:
		why = mem_table_invalid(ctx);
		if (why != NULL) {
			VHB_LOG_RATELIMIT(ERR, dev, &dev->rl_ctl, "%s: SET_MEM_TABLE refused: %s; "
					  "the previous table stays in force", dev->name, why);
			return refuse(dev, ctx, true);
		}
		/* rte_vhost unmaps the old regions in this message: stop touching them. */
		pthread_mutex_lock(&dev->lock);
		vhb_dev_quiesce(dev);
		dev->mem_valid = false;
		/*
		 * rte_vhost re-translates the rings in this message and compares its own
		 * indexes with used->idx: give it ours so it has nothing to "repair".
		 */
		for (idx = 0; idx < VHB_MAX_QUEUES; idx++)
			if (dev->q[idx].started)
				rte_vhost_set_vring_base(vid, (uint16_t)idx, dev->q[idx].vr.last_avail,
							 dev->q[idx].vr.last_used);
		pthread_mutex_unlock(&dev->lock);
		break;
	case VHB_VU_GET_VRING_BASE:
		idx = m->payload.state.index;
		pthread_mutex_lock(&dev->lock);
		if (idx < VHB_MAX_QUEUES)
			queue_stop_for_base(dev, vid, idx);
		pthread_mutex_unlock(&dev->lock);
		break;
	default:
		break;
	}
	return res;
}

static enum rte_vhost_msg_result
post_msg(int vid, void *msg)
{
	struct vhb_device *dev = vhb_device_by_vid(vid);
	struct vu_msg *m = msg;
	uint64_t f;
	unsigned int idx;
	int rc;

	if (dev == NULL || !vhb_device_is_frontend(dev, vid))
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	switch (m->request) {
	case VHB_VU_SET_FEATURES:
		if (rte_vhost_get_negotiated_features(vid, &f) == 0) {
			pthread_mutex_lock(&dev->lock);
			dev->negotiated = f;
			dev->features_known = true;
			/* The driver refused PAGE_POISON: its earlier poison_val means nothing. */
			if (!vhb_has_feature(f, VHB_F_PAGE_POISON))
				vhb_config_set(&dev->cfg.poison_val, 0);
			pthread_mutex_unlock(&dev->lock);
			VHB_LOG(INFO, dev, "%s: driver features %#" PRIx64 " (%u queues)", dev->name,
				f, vhb_features_num_vqs(f));
		}
		break;
	case VHB_VU_SET_PROTOCOL_FEATURES:
		if (rte_vhost_get_negotiated_protocol_features(vid, &f) == 0) {
			pthread_mutex_lock(&dev->lock);
			dev->protocol_negotiated = f;
			pthread_mutex_unlock(&dev->lock);
		}
		break;
	case VHB_VU_SET_MEM_TABLE:
		pthread_mutex_lock(&dev->lock);
		rc = mem_rebuild(dev, vid);
		if (rc != 0) {
			VHB_LOG(ERR, dev, "%s: unusable memory table (%d); device stays stopped "
				"until a usable one", dev->name, rc);
			/* rte_vhost took it; our stricter map did not: a protocol violation. */
			__atomic_fetch_add(&dev->ctl_cnt.guest_errors, 1, __ATOMIC_RELAXED);
			vhb_dev_set_state(dev, VHB_DEV_BROKEN);
		} else {
			dev->mem_valid = true;
			/* rte_vhost re-translated the rings: attach to the new addresses. */
			for (idx = 0; idx < VHB_MAX_QUEUES; idx++) {
				struct vhb_queue *q = &dev->q[idx];

				if (q->started &&
				    queue_attach(dev, vid, idx, q->vr.last_avail, q->vr.last_used) != 0)
					q->started = false;
			}
			VHB_LOG(INFO, dev, "%s: memory table: %u regions, %" PRIu64 " MiB",
				dev->name, dev->gm.nregions, vhb_device_mem_bytes(dev) >> 20);
			/* Stopped only for an unusable table before this one: running again. */
			if (vhb_dev_state(dev) == VHB_DEV_BROKEN && any_queue_started(dev) &&
			    !any_queue_broken(dev))
				vhb_dev_set_state(dev, VHB_DEV_RUNNING);
		}
		resume_if_useful(dev);
		pthread_mutex_unlock(&dev->lock);
		break;
	case VHB_VU_SET_VRING_BASE:
		idx = m->payload.state.index;
		if (idx >= VHB_MAX_QUEUES)
			break;
		pthread_mutex_lock(&dev->lock);
		dev->q[idx].base_set = true;
		pthread_mutex_unlock(&dev->lock);
		break;
	case VHB_VU_SET_VRING_KICK:
		idx = (unsigned int)(m->payload.u64 & VU_VRING_IDX_MASK);
		pthread_mutex_lock(&dev->lock);
		if (idx < VHB_MAX_QUEUES && !dev->dying)
			queue_start(dev, vid, idx);
		pthread_mutex_unlock(&dev->lock);
		break;
	case VHB_VU_SET_VRING_ENABLE:
		idx = m->payload.state.index;
		if (idx >= VHB_MAX_QUEUES)
			break;
		pthread_mutex_lock(&dev->lock);
		vhb_dev_quiesce(dev);
		dev->q[idx].enabled = m->payload.state.num != 0;
		resume_if_useful(dev);
		pthread_mutex_unlock(&dev->lock);
		break;
	default:
		break;
	}
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static const struct rte_vhost_user_extern_ops vhb_extern_ops = {
	.pre_msg_handle = pre_msg,
	.post_msg_handle = post_msg,
};

static int
on_new_connection(int vid)
{
	char path[PATH_MAX];
	struct vhb_device *dev;

	if (rte_vhost_get_ifname(vid, path, sizeof(path)) != 0)
		return -1;
	dev = vhb_device_by_vhost_path(path);
	if (dev == NULL)
		return -1;
	if (rte_vhost_extern_callback_register(vid, &vhb_extern_ops, dev) != 0) {
		VHB_LOG(ERR, dev, "%s: cannot install message hooks", dev->name);
		return -1;
	}
	/* Not the frontend yet: it becomes that with SET_OWNER (pre_msg_not_frontend()). */
	vhb_device_conn_add(dev, vid);
	VHB_LOG(INFO, dev, "%s: connection vid %d", dev->name, vid);
	return 0;
}

static void
on_destroy_connection(int vid)
{
	struct vhb_device *dev = vhb_device_by_vid(vid);

	if (dev == NULL)
		return;
	vhb_device_conn_del(vid);
	if (!vhb_device_is_frontend(dev, vid)) {
		VHB_LOG(INFO, dev, "%s: connection vid %d closed (not the frontend)", dev->name,
			vid);
		return;
	}
	VHB_LOG(INFO, dev, "%s: frontend gone (vid %d)", dev->name, vid);
	vhb_device_unbind_vid(dev);
}

/* new_device is not relied upon (it never fires while a queue is left unset). */
static int
on_new_device(int vid)
{
	RTE_SET_USED(vid);
	return 0;
}

/* The first GET_VRING_BASE or a lost connection: the driver is stopping. */
static void
on_destroy_device(int vid)
{
	struct vhb_device *dev = vhb_device_by_vid(vid);

	if (dev == NULL || !vhb_device_is_frontend(dev, vid))
		return;
	pthread_mutex_lock(&dev->lock);
	vhb_dev_quiesce(dev);
	/*
	 * Every queue stops and tracking is forgotten now, whether or not the other
	 * queues' GET_VRING_BASE follow; their indexes (have_base) are kept for them.
	 */
	driver_stopped(dev);
	pthread_mutex_unlock(&dev->lock);
}

const struct rte_vhost_device_ops vhb_vhost_ops = {
	.new_device = on_new_device,
	.destroy_device = on_destroy_device,
	.new_connection = on_new_connection,
	.destroy_connection = on_destroy_connection,
};

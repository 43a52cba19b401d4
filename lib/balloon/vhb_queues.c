/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device's queue work, run by its poll lcore: inflate, deflate, free page
 * reporting and stats. Every request is acknowledged only after the release
 * engine call it caused has returned.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_seqlock.h>
#include <rte_vhost.h>

#include "vhb_device.h"
#include "vhb_guest_stats.h"
#include "vhb_latency.h"
#include "vhb_notify.h"

/*
 * Largest inflate/deflate request taken: 1024 PFNs, four times what Linux sends
 * (256; Firecracker and Cloud Hypervisor refuse more than that). A
 * bigger one would hold the lcore, and every device on it: scattered PFNs cost one
 * hole punch each (about 10 us on memfd), so 64 KiB requests let a guest take over
 * a second of the lcore per pass. Dropping part of a deflate would leave pages the
 * guest reuses in our tracking, so it stops the queue instead.
 */
#define VHB_MAX_PFN_REQ_BYTES	(4u * 1024)

static inline void
cnt_add(struct vhb_device *dev, size_t idx, uint64_t v)
{
	dev->lc_cnt[idx] += v;
}

static void
queue_break(struct vhb_device *dev, unsigned int qidx, struct vhb_queue *q)
{
	q->broken = true;
	cnt_add(dev, VHB_CNT(guest_errors), 1);
	vhb_dev_set_state(dev, VHB_DEV_BROKEN);
	VHB_LOG_RATELIMIT(ERR, ring, &dev->rl, "%s: %s queue %u stopped: %s", dev->name,
			  vhb_queue_role_name(q->role), qidx,
			  q->vr.error != NULL ? q->vr.error : "protocol violation");
}

/* The PFNs of one chunk, copied out of guest memory: per poll thread, not per device. */
static _Thread_local uint32_t tl_pfn_buf[VHB_MAX_BATCH_PFNS];

/*
 * Copy the chain's bytes as LE32 PFNs into tl_pfn_buf in chunks and hand each chunk
 * to the engine. The guest may rewrite its buffer at any time: we only ever use
 * our copy. A trailing partial PFN is ignored.
 */
static void
handle_pfns(struct vhb_device *dev, const struct vhb_vring_chain *ch, bool inflate)
{
	uint32_t *pfn_buf = tl_pfn_buf;
	uint8_t part[4];
	uint32_t npart = 0, n = 0, done;
	uint16_t s;

	for (s = 0; s < ch->nseg; s++) {
		const uint8_t *p = ch->seg[s].ptr;
		uint32_t len = ch->seg[s].len;
		uint32_t off = 0;

		while (off < len) {
			if (npart == 0 && len - off >= 4) {
				uint32_t v;

				memcpy(&v, p + off, 4);
				pfn_buf[n++] = rte_le_to_cpu_32(v);
				off += 4;
			} else {
				part[npart++] = p[off++];
				if (npart == 4) {
					pfn_buf[n++] = vhb_le32_load(part);
					npart = 0;
				}
			}
			if (n == VHB_MAX_BATCH_PFNS) {
				if (inflate)
					vhb_balloon_pages_inflate(dev->bp, pfn_buf, n);
				else
					vhb_balloon_pages_deflate(dev->bp, pfn_buf, n);
				n = 0;
			}
		}
	}
	if (n > 0) {
		if (inflate)
			done = vhb_balloon_pages_inflate(dev->bp, pfn_buf, n);
		else
			done = vhb_balloon_pages_deflate(dev->bp, pfn_buf, n);
		RTE_SET_USED(done);
	}
	if (npart != 0)
		VHB_LOG_RATELIMIT(WARNING, ring, &dev->rl,
				  "%s: %s request of %" PRIu64 " bytes is not whole PFNs; tail ignored",
				  dev->name, inflate ? "inflate" : "deflate", ch->total_len);
	cnt_add(dev, inflate ? VHB_CNT(inflate_requests) : VHB_CNT(deflate_requests), 1);
}

static void
handle_report(struct vhb_device *dev, const struct vhb_vring_chain *ch)
{
	struct vhb_gpa_range ranges[VHB_MAX_CHAIN_LEN];
	uint16_t s;

	cnt_add(dev, VHB_CNT(report_requests), 1);
	/*
	 * A poisoning guest expects reported pages to keep poison_val; a hole reads
	 * back as zeros, so nothing may be discarded (protocol.md#P-poison).
	 */
	if (vhb_config_get(&dev->cfg.poison_val) != 0) {
		cnt_add(dev, VHB_CNT(report_skipped_poison), 1);
		return;
	}
	for (s = 0; s < ch->nseg; s++) {
		ranges[s].gpa = ch->seg[s].gpa;
		ranges[s].len = ch->seg[s].len;
	}
	vhb_balloon_pages_report(dev->bp, ranges, ch->nseg);
}

static void
stats_store(struct vhb_device *dev, const struct vhb_guest_stats *fresh)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	rte_seqlock_write_lock(&dev->gs_lock);
	memcpy(dev->gs.val, fresh->val, sizeof(dev->gs.val));
	dev->gs.valid = fresh->valid;
	dev->gs.updates++;
	dev->gs.updated_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	rte_seqlock_write_unlock(&dev->gs_lock);
}

/* Returns true if the buffer is held (not to be returned now). */
static bool
handle_stats(struct vhb_device *dev, struct vhb_queue *q, const struct vhb_vring_chain *ch,
	     uint64_t now)
{
	uint8_t buf[VHB_GUEST_STATS_MAX_BYTES];
	struct vhb_guest_stats_parse_result res;
	struct vhb_guest_stats fresh;
	uint32_t len = 0;
	uint16_t s;

	/* The driver keeps at most one buffer queued; a second one goes straight back. */
	if (q->stats_held)
		return false;
	for (s = 0; s < ch->nseg && len < sizeof(buf); s++) {
		uint32_t n = RTE_MIN(ch->seg[s].len, (uint32_t)sizeof(buf) - len);

		memcpy(buf + len, ch->seg[s].ptr, n);
		len += n;
	}
	vhb_guest_stats_parse(buf, len, &fresh, &res);
	if (res.tail_bytes != 0 || ch->total_len > sizeof(buf)) {
		cnt_add(dev, VHB_CNT(stats_bad_length), 1);
		VHB_LOG_RATELIMIT(WARNING, ring, &dev->rl,
				  "%s: stats buffer of %" PRIu64 " bytes is not whole 10-byte entries"
				  " (or too long); tail ignored", dev->name, ch->total_len);
	}
	stats_store(dev, &fresh);
	cnt_add(dev, VHB_CNT(stats_updates), 1);
	q->stats_held = true;
	q->stats_head = ch->head;
	q->stats_rx_tsc = now;
	return true;
}

/* Give the held stats buffer back when the interval has passed: that asks for fresh stats. */
static bool
stats_timer(struct vhb_device *dev, struct vhb_queue *q, uint64_t now)
{
	uint32_t interval = __atomic_load_n(&dev->stats_interval_s, __ATOMIC_RELAXED);

	if (!q->stats_held || interval == 0)
		return false;
	if (now - q->stats_rx_tsc < (uint64_t)interval * rte_get_tsc_hz())
		return false;
	vhb_vring_push(&q->vr, q->stats_head, 0);
	q->stats_held = false;
	return true;
}

uint64_t
vhb_device_next_timer(const struct vhb_device *dev)
{
	uint32_t interval = __atomic_load_n(&dev->stats_interval_s, __ATOMIC_RELAXED);
	unsigned int i;

	if (interval == 0 || (dev->lc_seen & VHB_CTL_RUN) == 0)
		return UINT64_MAX;
	for (i = 0; i < VHB_MAX_QUEUES; i++) {
		const struct vhb_queue *q = &dev->q[i];

		/* When stats_timer() gives the held buffer back. */
		if (q->role == VHB_VQ_STATS && q->started && q->enabled && !q->broken &&
		    q->stats_held)
			return q->stats_rx_tsc + (uint64_t)interval * rte_get_tsc_hz();
	}
	return UINT64_MAX;
}

static void
notify_guest(struct vhb_device *dev, unsigned int qidx, struct vhb_queue *q)
{
	int vid = __atomic_load_n(&dev->vid, __ATOMIC_RELAXED);
	int rc;

	/*
	 * Never the blocking call: the vhost-events thread holds the queue locks
	 * while it handles messages. rte_vhost checks VRING_AVAIL_F_NO_INTERRUPT after
	 * its own fence; on -EAGAIN we retry on the next pass.
	 */
	rc = rte_vhost_vring_call_nonblock(vid, (uint16_t)qidx);
	if (rc == -EAGAIN) {
		q->notify_pending = true;
		return;
	}
	q->notify_pending = false;
	if (rc == 0 && !vhb_vring_no_interrupt(&q->vr))
		cnt_add(dev, VHB_CNT(guest_notifications), 1);
}

static bool
poll_queue(struct vhb_device *dev, unsigned int qidx, struct vhb_queue *q, uint64_t now)
{
	struct vhb_vring_chain ch;
	enum vhb_vring_dir dir;
	const struct vhb_guest_mem *gm;
	uint64_t pop_tsc[VHB_BURST_HEADS];
	bool busy = false, published;
	unsigned int i, npop = 0;
	int rc;

	if (!q->started || !q->enabled || q->broken)
		return false;
	dir = q->role == VHB_VQ_REPORTING ? VHB_VRING_DEV_WRITES : VHB_VRING_DEV_READS;
	/* Reported ranges are handed to the engine as addresses, never dereferenced. */
	gm = q->role == VHB_VQ_REPORTING ? NULL : &dev->gm;

	if (q->role == VHB_VQ_STATS && stats_timer(dev, q, now))
		busy = true;
	for (i = 0; i < VHB_BURST_HEADS; i++) {
		bool hold = false;

		rc = vhb_vring_pop(&q->vr, gm, dir, &ch);
		if (rc == -EAGAIN)
			break;
		if (rc < 0) {
			queue_break(dev, qidx, q);
			busy = true;	/* publishes the error count */
			break;
		}
		busy = true;
		pop_tsc[npop] = rte_rdtsc();
		if ((q->role == VHB_VQ_INFLATE || q->role == VHB_VQ_DEFLATE) &&
		    ch.total_len > VHB_MAX_PFN_REQ_BYTES) {
			q->vr.error = "PFN request larger than 4 KiB";
			queue_break(dev, qidx, q);
			break;
		}
		switch (q->role) {
		case VHB_VQ_INFLATE:
			handle_pfns(dev, &ch, true);
			break;
		case VHB_VQ_DEFLATE:
			handle_pfns(dev, &ch, false);
			break;
		case VHB_VQ_REPORTING:
			handle_report(dev, &ch);
			break;
		case VHB_VQ_STATS:
			hold = handle_stats(dev, q, &ch, now);
			break;
		default:
			break;
		}
		/* The engine call has returned: every release is done, the ack may go. */
		if (!hold) {
			vhb_vring_push(&q->vr, ch.head, 0);
			npop += q->role != VHB_VQ_STATS;
		}
	}
	published = vhb_vring_publish(&q->vr);
	vhb_latency_record(&dev->lat, pop_tsc, npop);	/* acks published: service times */
	if (published || q->notify_pending)
		notify_guest(dev, qidx, q);
	return busy;
}

void
vhb_pages_stats_accumulate(struct vhb_balloon_pages_stats *acc,
			   const struct vhb_balloon_pages_stats *add)
{
	acc->pfns_inflated += add->pfns_inflated;
	acc->pfns_deflated += add->pfns_deflated;
	acc->pfns_duplicate += add->pfns_duplicate;
	acc->pfns_out_of_range += add->pfns_out_of_range;
	acc->host_pages_released += add->host_pages_released;
	acc->bytes_release_asked += add->bytes_release_asked;
	acc->bytes_regained += add->bytes_regained;
	acc->release_calls += add->release_calls;
	acc->release_errors += add->release_errors;
	acc->inflate_bytes_release_asked += add->inflate_bytes_release_asked;
	acc->inflate_bytes_regained += add->inflate_bytes_regained;
	acc->report_ranges += add->report_ranges;
	acc->report_bytes_release_asked += add->report_bytes_release_asked;
	acc->report_bytes_regained += add->report_bytes_regained;
	acc->report_bytes_skipped += add->report_bytes_skipped;
	acc->report_ranges_invalid += add->report_ranges_invalid;
	acc->measure_calls += add->measure_calls;
}

void
vhb_device_publish_counters(struct vhb_device *dev)
{
	struct vhb_balloon_pages_stats st, sum = dev->bp_base;
	uint64_t *c = dev->lc_cnt;
	uint64_t *out = (uint64_t *)&dev->cnt;
	size_t i;

	memset(&st, 0, sizeof(st));
	if (dev->bp != NULL)
		vhb_balloon_pages_get_stats(dev->bp, &st);
	vhb_pages_stats_accumulate(&sum, &st);
	c[VHB_CNT(pfns_inflated)] = sum.pfns_inflated;
	c[VHB_CNT(pfns_deflated)] = sum.pfns_deflated;
	c[VHB_CNT(pfns_duplicate)] = sum.pfns_duplicate;
	c[VHB_CNT(pfns_out_of_range)] = sum.pfns_out_of_range;
	c[VHB_CNT(host_pages_released)] = sum.host_pages_released;
	c[VHB_CNT(bytes_release_asked)] = sum.bytes_release_asked;
	c[VHB_CNT(bytes_regained)] = sum.bytes_regained;
	c[VHB_CNT(release_calls)] = sum.release_calls;
	c[VHB_CNT(release_errors)] = sum.release_errors;
	c[VHB_CNT(inflate_bytes_release_asked)] = sum.inflate_bytes_release_asked;
	c[VHB_CNT(inflate_bytes_regained)] = sum.inflate_bytes_regained;
	c[VHB_CNT(report_bytes_release_asked)] = sum.report_bytes_release_asked;
	c[VHB_CNT(report_bytes_regained)] = sum.report_bytes_regained;
	c[VHB_CNT(report_bytes_skipped)] = sum.report_bytes_skipped;
	for (i = 0; i < RTE_DIM(dev->lc_cnt); i++)
		__atomic_store_n(&out[i], c[i], __ATOMIC_RELAXED);
	__atomic_store_n(&dev->pages_in_balloon, st.pages_in_balloon, __ATOMIC_RELAXED);
}

bool
vhb_device_poll(struct vhb_device *dev, uint64_t now)
{
	uint32_t c = __atomic_load_n(&dev->ctl, __ATOMIC_ACQUIRE);
	bool busy = false;
	unsigned int i;

	if (c != dev->lc_seen) {
		/* Everything before this point of ours is finished: acknowledge. */
		dev->lc_seen = c;
		__atomic_store_n(&dev->ack, c, __ATOMIC_RELEASE);
	}
	if ((c & VHB_CTL_RUN) == 0)
		return false;
	for (i = 0; i < VHB_MAX_QUEUES; i++)
		busy |= poll_queue(dev, i, &dev->q[i], now);
	if (busy)
		vhb_device_publish_counters(dev);
	return busy;
}

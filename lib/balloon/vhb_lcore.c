/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Poll lcores: each owns a set of devices and runs passes over them. Devices are
 * handed over at runtime through a small single-producer mailbox (control side,
 * serialised by the library lock) that the lcore drains at the top of each pass;
 * the data path takes no locks.
 *
 * When a loop is not running (not launched yet, or returned after vhb_stop()),
 * the control side takes the lcore's ownership word itself and applies mailbox
 * messages and acknowledgements on the lcore's behalf.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "vhb_device.h"
#include "vhb_numa.h"

#define MBOX_SIZE	16
#define LCORE_MAX_DEVICES	1024

enum mbox_op {
	MBOX_ADD = 1,
	MBOX_REMOVE,
};

struct mbox_msg {
	struct vhb_device *dev;
	uint32_t op;
};

enum owner {
	OWNER_NONE = 0,
	OWNER_LOOP,
	OWNER_CONTROL,
};

struct vhb_lcore {
	unsigned int lcore_id;
	int node;
	uint32_t owner;		/* enum owner, atomic */
	uint32_t stop;		/* atomic */
	struct mbox_msg mbox[MBOX_SIZE];
	uint32_t mb_head;	/* written by the control side */
	uint32_t mb_tail;	/* written by the consumer */
	struct vhb_device **devs;	/* owner's list */
	unsigned int ndevs;
	unsigned int nplaced;	/* control side: devices placed here */
	struct vhb_lcore_stats st;	/* written by the loop, read relaxed */
};

static struct vhb_lcore *g_lcores;
static unsigned int g_nlcores;

static bool
owner_try(struct vhb_lcore *lc, uint32_t who)
{
	uint32_t none = OWNER_NONE;

	return __atomic_compare_exchange_n(&lc->owner, &none, who, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static void
owner_release(struct vhb_lcore *lc)
{
	__atomic_store_n(&lc->owner, OWNER_NONE, __ATOMIC_RELEASE);
}

/* Consumer side: apply queued hand-overs (the loop, or the control side owning lc). */
static void
mbox_drain(struct vhb_lcore *lc)
{
	uint32_t tail = lc->mb_tail;
	uint32_t head = __atomic_load_n(&lc->mb_head, __ATOMIC_ACQUIRE);

	while (tail != head) {
		struct mbox_msg *m = &lc->mbox[tail % MBOX_SIZE];
		unsigned int i;

		if (m->op == MBOX_ADD && lc->ndevs < LCORE_MAX_DEVICES) {
			lc->devs[lc->ndevs++] = m->dev;
		} else if (m->op == MBOX_REMOVE) {
			for (i = 0; i < lc->ndevs; i++) {
				if (lc->devs[i] == m->dev) {
					lc->devs[i] = lc->devs[--lc->ndevs];
					break;
				}
			}
		}
		tail++;
		__atomic_store_n(&lc->mb_tail, tail, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&lc->st.ndevices, lc->ndevs, __ATOMIC_RELAXED);
}

/* Control side (library lock held): post and wait until the consumer has applied it. */
static void
mbox_post(struct vhb_lcore *lc, struct vhb_device *dev, uint32_t op)
{
	uint32_t head = lc->mb_head;

	while (head - __atomic_load_n(&lc->mb_tail, __ATOMIC_ACQUIRE) >= MBOX_SIZE)
		rte_pause();
	lc->mbox[head % MBOX_SIZE].dev = dev;
	lc->mbox[head % MBOX_SIZE].op = op;
	__atomic_store_n(&lc->mb_head, head + 1, __ATOMIC_RELEASE);
	while ((int32_t)(__atomic_load_n(&lc->mb_tail, __ATOMIC_ACQUIRE) - (head + 1)) < 0) {
		if (owner_try(lc, OWNER_CONTROL)) {
			mbox_drain(lc);
			owner_release(lc);
			break;
		}
		rte_pause();
	}
}

bool
vhb_lcore_valid(unsigned int lcore_id)
{
	unsigned int i;

	for (i = 0; i < g_nlcores; i++)
		if (g_lcores[i].lcore_id == lcore_id)
			return true;
	return false;
}

unsigned int
vhb_lcore_id_at(int idx)
{
	if (idx < 0 || (unsigned int)idx >= g_nlcores)
		return VHB_LCORE_ANY;
	return g_lcores[idx].lcore_id;
}

static pthread_mutex_t g_place_lock = PTHREAD_MUTEX_INITIALIZER;

int
vhb_lcore_place(struct vhb_device *dev, int numa_node)
{
	struct vhb_lcore_slot slots[RTE_MAX_LCORE];
	struct vhb_lcore *lc;
	unsigned int i;
	int idx = -1;

	if (dev->lcore_idx >= 0)
		return 0;
	if (g_nlcores == 0)
		return -ENODEV;
	pthread_mutex_lock(&g_place_lock);
	if (dev->lcore_req != VHB_LCORE_ANY) {
		for (i = 0; i < g_nlcores; i++)
			if (g_lcores[i].lcore_id == dev->lcore_req)
				idx = (int)i;
	} else {
		for (i = 0; i < g_nlcores; i++) {
			slots[i].lcore_id = g_lcores[i].lcore_id;
			slots[i].node = g_lcores[i].node;
			slots[i].ndevices = g_lcores[i].nplaced;
		}
		idx = vhb_numa_pick(slots, g_nlcores, numa_node);
	}
	if (idx < 0) {
		pthread_mutex_unlock(&g_place_lock);
		return -ENODEV;
	}
	lc = &g_lcores[idx];
	lc->nplaced++;
	mbox_post(lc, dev, MBOX_ADD);
	dev->lcore_idx = idx;
	pthread_mutex_unlock(&g_place_lock);
	VHB_LOG(INFO, dev, "%s: served by lcore %u (guest memory on node %d, lcore on node %d)",
		dev->name, lc->lcore_id, numa_node, lc->node);
	return 0;
}

void
vhb_lcore_unplace(struct vhb_device *dev)
{
	struct vhb_lcore *lc;

	if (dev->lcore_idx < 0)
		return;
	pthread_mutex_lock(&g_place_lock);
	lc = &g_lcores[dev->lcore_idx];
	mbox_post(lc, dev, MBOX_REMOVE);
	lc->nplaced--;
	dev->lcore_idx = -1;
	pthread_mutex_unlock(&g_place_lock);
}

void
vhb_dev_quiesce(struct vhb_device *dev)
{
	struct vhb_lcore *lc;
	uint32_t c;

	dev->seq++;
	c = dev->seq << 1;
	__atomic_store_n(&dev->ctl, c, __ATOMIC_RELEASE);
	if (dev->lcore_idx < 0)
		return;
	lc = &g_lcores[dev->lcore_idx];
	/* Bounded by one pass of the lcore: it never waits on a guest or on us. */
	while (__atomic_load_n(&dev->ack, __ATOMIC_ACQUIRE) != c) {
		if (owner_try(lc, OWNER_CONTROL)) {
			/* The loop is not running: nobody touches the device. */
			owner_release(lc);
			break;
		}
		rte_pause();
	}
}

void
vhb_dev_resume(struct vhb_device *dev)
{
	dev->seq++;
	__atomic_store_n(&dev->ctl, (dev->seq << 1) | VHB_CTL_RUN, __ATOMIC_RELEASE);
}

int
vhb_init(const unsigned int *lcores, unsigned int nlcores)
{
	unsigned int i, j;

	if (g_lcores != NULL)
		return -EALREADY;
	if (lcores == NULL || nlcores == 0 || nlcores > RTE_MAX_LCORE)
		return -EINVAL;
	for (i = 0; i < nlcores; i++) {
		if (lcores[i] >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lcores[i]) ||
		    lcores[i] == rte_get_main_lcore())
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (lcores[j] == lcores[i])
				return -EINVAL;
	}
	g_lcores = calloc(nlcores, sizeof(*g_lcores));
	if (g_lcores == NULL)
		return -ENOMEM;
	for (i = 0; i < nlcores; i++) {
		struct vhb_lcore *lc = &g_lcores[i];
		int node = (int)rte_lcore_to_socket_id(lcores[i]);

		lc->lcore_id = lcores[i];
		lc->node = node == SOCKET_ID_ANY ? -1 : node;
		lc->st.lcore_id = lcores[i];
		lc->devs = rte_zmalloc_socket("vhb_lcore_devs", LCORE_MAX_DEVICES * sizeof(void *),
					      RTE_CACHE_LINE_SIZE, node);
		if (lc->devs == NULL)
			lc->devs = rte_zmalloc("vhb_lcore_devs", LCORE_MAX_DEVICES * sizeof(void *),
					       RTE_CACHE_LINE_SIZE);
		if (lc->devs == NULL)
			goto fail;
	}
	g_nlcores = nlcores;
	return 0;
fail:
	while (i-- > 0)
		rte_free(g_lcores[i].devs);
	free(g_lcores);
	g_lcores = NULL;
	return -ENOMEM;
}

static struct vhb_lcore *
lcore_self(void)
{
	unsigned int id = rte_lcore_id();
	unsigned int i;

	for (i = 0; i < g_nlcores; i++)
		if (g_lcores[i].lcore_id == id)
			return &g_lcores[i];
	return NULL;
}

int
vhb_lcore_loop(void *arg)
{
	struct vhb_lcore *lc = lcore_self();

	RTE_SET_USED(arg);
	if (lc == NULL)
		return -EINVAL;
	while (!owner_try(lc, OWNER_LOOP)) {
		if (__atomic_load_n(&lc->stop, __ATOMIC_RELAXED))
			return 0;
		rte_pause();
	}
	while (!__atomic_load_n(&lc->stop, __ATOMIC_RELAXED)) {
		uint64_t t0 = rte_rdtsc();
		bool busy = false;
		unsigned int i;
		uint64_t t1;

		mbox_drain(lc);
		for (i = 0; i < lc->ndevs; i++)
			busy |= vhb_device_poll(lc->devs[i], t0);
		t1 = rte_rdtsc();
		/* Counters: written here only, read relaxed by anyone. */
		__atomic_store_n(&lc->st.passes, lc->st.passes + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&lc->st.total_cycles, lc->st.total_cycles + (t1 - t0),
				 __ATOMIC_RELAXED);
		if (busy) {
			__atomic_store_n(&lc->st.busy_passes, lc->st.busy_passes + 1,
					 __ATOMIC_RELAXED);
			__atomic_store_n(&lc->st.busy_cycles, lc->st.busy_cycles + (t1 - t0),
					 __ATOMIC_RELAXED);
		} else {
			rte_pause();
		}
	}
	owner_release(lc);
	return 0;
}

void
vhb_stop(void)
{
	unsigned int i;

	for (i = 0; i < g_nlcores; i++)
		__atomic_store_n(&g_lcores[i].stop, 1, __ATOMIC_RELAXED);
}

void
vhb_cleanup(void)
{
	unsigned int i;

	for (i = 0; i < g_nlcores; i++)
		rte_free(g_lcores[i].devs);
	free(g_lcores);
	g_lcores = NULL;
	g_nlcores = 0;
}

int
vhb_lcore_get_stats(unsigned int i, struct vhb_lcore_stats *st)
{
	const struct vhb_lcore_stats *s;

	if (st == NULL)
		return -EINVAL;
	if (i >= g_nlcores)
		return -ENOENT;
	s = &g_lcores[i].st;
	st->lcore_id = s->lcore_id;
	st->ndevices = __atomic_load_n(&s->ndevices, __ATOMIC_RELAXED);
	st->passes = __atomic_load_n(&s->passes, __ATOMIC_RELAXED);
	st->busy_passes = __atomic_load_n(&s->busy_passes, __ATOMIC_RELAXED);
	st->busy_cycles = __atomic_load_n(&s->busy_cycles, __ATOMIC_RELAXED);
	st->total_cycles = __atomic_load_n(&s->total_cycles, __ATOMIC_RELAXED);
	return 0;
}

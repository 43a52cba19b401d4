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
 *
 * Polling modes: a device is either polled (in the pass) or parked on its kick
 * eventfds (vhb_notify.c). A device that found no work for its spin time asks its
 * drivers to kick (clears VRING_USED_F_NO_NOTIFY), fences, and is polled once more:
 * a request posted before the driver could see the flag is found by that re-check,
 * one posted after comes with a kick, which puts the device back in the polled set.
 * A pass costs what the polled devices cost; parked ones cost nothing until a kick,
 * their stats timer or a control action on them. With no device left in the polled
 * set the lcore sleeps in epoll_wait; while others are polled it looks at the kicks
 * every PARKED_CHECK_US without waiting. Every control action the lcore must see
 * (mailbox, quiesce, resume, settings) bumps ctl_gen and writes the wake eventfd if
 * the lcore is (about to be) asleep; the lcore re-checks ctl_gen after announcing its
 * sleep, so either it sees the change or the control side sees it sleeping. On a
 * ctl_gen change the lcore looks at each parked device's ctl word and poke flag.
 *
 * The modes differ only in a device's spin time: poll never parks, interrupt parks
 * after the first pass without work, adaptive after idle_us, and auto (the default)
 * after what the device's own traffic warrants: it learns the gap between the end of
 * one request's work and the next request, and what one sleep costs the lcore in CPU
 * (asking for kicks, the re-check, the sleep and wake-up system calls). Gaps shorter
 * than twice a sleep's cost are polled through (twice the expected gap, at most
 * idle_us); longer ones are parked through at once, with kicks left on while
 * requests keep coming that way. See docs/device.md.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "vhb_device.h"
#include "vhb_notify.h"
#include "vhb_numa.h"
#include "vhb_poll_auto.h"

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
	struct vhb_device **devs;	/* owner's list: [0, npolled) polled, then parked */
	uint64_t *park_timer;		/* TSC of a parked device's next timer, by index */
	unsigned int ndevs;
	unsigned int npolled;
	uint64_t timer_min;		/* the earliest park_timer[] (a bound: may be early) */
	uint64_t parked_check;		/* TSC: look at parked devices' kicks then */
	unsigned int nplaced;	/* control side: devices placed here */
	struct vhb_lcore_stats st;	/* written by the loop, read relaxed */

	/* Polling mode: settings (control side, atomic) and sleeping. */
	uint32_t mode;		/* enum vhb_poll_mode */
	uint32_t idle_us;
	uint64_t idle_cycles;	/* idle_us in TSC cycles (atomic): no division per pass */
	uint32_t max_sleep_ms;
	uint32_t ctl_gen;	/* bumped by every control action (atomic) */
	uint32_t gen_seen;	/* loop: ctl_gen at the start of the last pass */
	uint32_t sleeping;	/* loop announces a sleep (atomic) */
	struct vhb_notify nt;

	uint32_t mode_seen;	/* loop: the mode of the last pass */

	/* Auto mode, loop only (TSC cycles; published in st.auto_*); gaps are per device. */
	uint64_t sleep_cost;	/* moving average of one sleep's CPU cost */
	uint64_t arm_tsc;	/* start of the pass that parked the last polled device; 0:
				 * none since the last sleep */
};

/* While some devices are polled, parked devices' kicks are looked at this often. */
#define PARKED_CHECK_US		20

/* The cheapest a sleep is taken to cost: a wake-up is at least a context switch. */
#define AUTO_SLEEP_COST_MIN_NS	2000
/* One sleep in this many (a power of 2) has its CPU cost measured. */
#define AUTO_SAMPLE		16

static struct vhb_lcore *g_lcores;
static unsigned int g_nlcores;
static struct vhb_poll_params g_poll = {
	.mode = VHB_POLL_AUTO,
	.idle_us = VHB_POLL_IDLE_US_DEFAULT,
	.max_sleep_ms = VHB_POLL_MAX_SLEEP_MS_DEFAULT,
};

/* Control side: tell the loop something changed; wake it if it sleeps. */
static void
lcore_wake(struct vhb_lcore *lc)
{
	__atomic_fetch_add(&lc->ctl_gen, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&lc->sleeping, __ATOMIC_SEQ_CST))
		vhb_notify_wake(&lc->nt);
}

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

static inline void
st_add(uint64_t *field, uint64_t v)
{
	__atomic_store_n(field, *field + v, __ATOMIC_RELAXED);
}

/* Owner of lc: swap two entries of the device array (and their park timers). */
static void
dev_swap(struct vhb_lcore *lc, unsigned int a, unsigned int b)
{
	struct vhb_device *d = lc->devs[a];
	uint64_t t = lc->park_timer[a];

	lc->devs[a] = lc->devs[b];
	lc->park_timer[a] = lc->park_timer[b];
	lc->devs[b] = d;
	lc->park_timer[b] = t;
	lc->devs[a]->lc_pos = a;
	d->lc_pos = b;
}

/* Owner of lc: a parked device joins the polled set, with its spin time from now. */
static bool
dev_unpark(struct vhb_lcore *lc, struct vhb_device *dev, uint64_t now)
{
	if (dev->lc_pos < lc->npolled)
		return false;
	dev_swap(lc, dev->lc_pos, lc->npolled);
	lc->npolled++;
	dev->lc_last_busy = now;
	return true;
}

/* Owner of lc: a polled device leaves the polled set until a kick, its timer or a control action. */
static void
dev_park(struct vhb_lcore *lc, struct vhb_device *dev, uint64_t timer)
{
	unsigned int last = lc->npolled - 1;

	dev_swap(lc, dev->lc_pos, last);
	lc->npolled = last;
	lc->park_timer[last] = timer;
	if (timer < lc->timer_min)
		lc->timer_min = timer;
}

/* Consumer side: apply queued hand-overs (the loop, or the control side owning lc). */
static void
mbox_drain(struct vhb_lcore *lc)
{
	uint32_t tail = lc->mb_tail;
	uint32_t head = __atomic_load_n(&lc->mb_head, __ATOMIC_ACQUIRE);

	while (tail != head) {
		struct mbox_msg *m = &lc->mbox[tail % MBOX_SIZE];
		struct vhb_device *dev = m->dev;
		unsigned int pos = dev->lc_pos;

		if (m->op == MBOX_ADD && lc->ndevs < LCORE_MAX_DEVICES) {
			/* New: polled, and its rings' notification flags unknown (kicks: maybe on). */
			dev->lc_kicks = true;
			dev->lc_work_end = dev->lc_gap_avg = dev->lc_gap_last = dev->lc_spin = 0;
			dev->lc_pos = lc->ndevs;
			lc->devs[lc->ndevs] = dev;
			lc->park_timer[lc->ndevs++] = UINT64_MAX;
			dev_unpark(lc, dev, rte_rdtsc());
		} else if (m->op == MBOX_REMOVE && pos < lc->ndevs && lc->devs[pos] == dev) {
			if (pos < lc->npolled)
				dev_park(lc, dev, UINT64_MAX);
			dev_swap(lc, dev->lc_pos, lc->ndevs - 1);
			lc->ndevs--;
		}
		tail++;
		__atomic_store_n(&lc->mb_tail, tail, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&lc->st.ndevices, lc->ndevs, __ATOMIC_RELAXED);
	__atomic_store_n(&lc->st.devices_polled, lc->npolled, __ATOMIC_RELAXED);
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
	lcore_wake(lc);
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
	vhb_notify_unwatch_kicks(&lc->nt, dev);
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
	lcore_wake(lc);
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
	if (dev->lcore_idx >= 0)
		lcore_wake(&g_lcores[dev->lcore_idx]);
}

void
vhb_lcore_watch_kick(struct vhb_device *dev, int vid, unsigned int idx)
{
	int rc;

	if (dev->lcore_idx < 0 || idx >= VHB_MAX_QUEUES)
		return;
	rc = vhb_notify_watch_kick(&g_lcores[dev->lcore_idx].nt, dev, vid, idx);
	if (rc != 0)
		VHB_LOG(WARNING, dev, "%s: queue %u kicks not watched (%d): a sleeping lcore "
			"sees its requests only at its next timeout", dev->name, idx, rc);
}

void
vhb_lcore_unwatch_kicks(struct vhb_device *dev)
{
	if (dev->lcore_idx >= 0)
		vhb_notify_unwatch_kicks(&g_lcores[dev->lcore_idx].nt, dev);
}

void
vhb_lcore_wake_dev(struct vhb_device *dev)
{
	int idx = __atomic_load_n(&dev->lcore_idx, __ATOMIC_RELAXED);

	/* A parked device is looked at again when the lcore sees the poke. */
	__atomic_store_n(&dev->lc_poke, 1, __ATOMIC_RELEASE);
	if (idx >= 0 && (unsigned int)idx < g_nlcores)
		lcore_wake(&g_lcores[idx]);
}

static void
lcore_apply_params(struct vhb_lcore *lc, const struct vhb_poll_params *p)
{
	__atomic_store_n(&lc->idle_us, p->idle_us, __ATOMIC_RELAXED);
	__atomic_store_n(&lc->idle_cycles, (uint64_t)p->idle_us * rte_get_tsc_hz() / 1000000,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&lc->max_sleep_ms, p->max_sleep_ms, __ATOMIC_RELAXED);
	__atomic_store_n(&lc->mode, (uint32_t)p->mode, __ATOMIC_RELAXED);
	lcore_wake(lc);
}

static bool
poll_params_valid(const struct vhb_poll_params *p)
{
	return p != NULL && (p->mode == VHB_POLL_ADAPTIVE || p->mode == VHB_POLL_BUSY ||
			     p->mode == VHB_POLL_INTERRUPT || p->mode == VHB_POLL_AUTO) &&
	       p->max_sleep_ms > 0 &&
	       p->max_sleep_ms <= 3600 * 1000;
}

void
vhb_poll_params_default(struct vhb_poll_params *p)
{
	p->mode = VHB_POLL_AUTO;
	p->idle_us = VHB_POLL_IDLE_US_DEFAULT;
	p->max_sleep_ms = VHB_POLL_MAX_SLEEP_MS_DEFAULT;
}

int
vhb_set_poll_params(const struct vhb_poll_params *p)
{
	unsigned int i;

	if (!poll_params_valid(p))
		return -EINVAL;
	pthread_mutex_lock(&g_place_lock);
	g_poll = *p;
	for (i = 0; i < g_nlcores; i++)
		lcore_apply_params(&g_lcores[i], p);
	pthread_mutex_unlock(&g_place_lock);
	return 0;
}

int
vhb_lcore_set_poll_params(unsigned int i, const struct vhb_poll_params *p)
{
	if (!poll_params_valid(p))
		return -EINVAL;
	if (i >= g_nlcores)
		return -ENOENT;
	pthread_mutex_lock(&g_place_lock);
	lcore_apply_params(&g_lcores[i], p);
	pthread_mutex_unlock(&g_place_lock);
	return 0;
}

int
vhb_lcore_get_poll_params(unsigned int i, struct vhb_poll_params *p)
{
	const struct vhb_lcore *lc;

	if (p == NULL)
		return -EINVAL;
	if (i >= g_nlcores)
		return -ENOENT;
	lc = &g_lcores[i];
	p->mode = (enum vhb_poll_mode)__atomic_load_n(&lc->mode, __ATOMIC_RELAXED);
	p->idle_us = __atomic_load_n(&lc->idle_us, __ATOMIC_RELAXED);
	p->max_sleep_ms = __atomic_load_n(&lc->max_sleep_ms, __ATOMIC_RELAXED);
	return 0;
}

const char *
vhb_poll_mode_name(enum vhb_poll_mode mode)
{
	switch (mode) {
	case VHB_POLL_ADAPTIVE:
		return "adaptive";
	case VHB_POLL_BUSY:
		return "poll";
	case VHB_POLL_INTERRUPT:
		return "interrupt";
	case VHB_POLL_AUTO:
		return "auto";
	default:
		return "unknown";
	}
}

int
vhb_poll_mode_parse(const char *name, enum vhb_poll_mode *mode)
{
	if (name == NULL || mode == NULL)
		return -EINVAL;
	if (strcasecmp(name, "adaptive") == 0)
		*mode = VHB_POLL_ADAPTIVE;
	else if (strcasecmp(name, "poll") == 0)
		*mode = VHB_POLL_BUSY;
	else if (strcasecmp(name, "interrupt") == 0)
		*mode = VHB_POLL_INTERRUPT;
	else if (strcasecmp(name, "auto") == 0)
		*mode = VHB_POLL_AUTO;
	else
		return -EINVAL;
	return 0;
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
		lc->st.tsc_hz = rte_get_tsc_hz();
		lc->mode = (uint32_t)g_poll.mode;
		lc->idle_us = g_poll.idle_us;
		lc->idle_cycles = (uint64_t)g_poll.idle_us * rte_get_tsc_hz() / 1000000;
		lc->max_sleep_ms = g_poll.max_sleep_ms;
		lc->st.mode = lc->mode;
		if (vhb_notify_init(&lc->nt) != 0) {
			lc->devs = NULL;
			goto fail_one;
		}
		lc->devs = rte_zmalloc_socket("vhb_lcore_devs", LCORE_MAX_DEVICES * sizeof(void *),
					      RTE_CACHE_LINE_SIZE, node);
		if (lc->devs == NULL)
			lc->devs = rte_zmalloc("vhb_lcore_devs", LCORE_MAX_DEVICES * sizeof(void *),
					       RTE_CACHE_LINE_SIZE);
		lc->park_timer = calloc(LCORE_MAX_DEVICES, sizeof(*lc->park_timer));
		if (lc->devs == NULL || lc->park_timer == NULL) {
			rte_free(lc->devs);
			free(lc->park_timer);
			vhb_notify_fini(&lc->nt);
			goto fail_one;
		}
		lc->timer_min = UINT64_MAX;
	}
	g_nlcores = nlcores;
	vhb_resident_timer_start();
	return 0;
fail_one:
	while (i-- > 0) {
		rte_free(g_lcores[i].devs);
		free(g_lcores[i].park_timer);
		vhb_notify_fini(&g_lcores[i].nt);
	}
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

static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Auto mode: the device's spin time from what was learned (vhb_poll_auto.h), published. */
static void
auto_update(struct vhb_lcore *lc, struct vhb_device *dev)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t cost_min = AUTO_SLEEP_COST_MIN_NS * hz / 1000000000ULL;
	uint64_t cap = __atomic_load_n(&lc->idle_cycles, __ATOMIC_RELAXED);

	dev->lc_spin = vhb_auto_spin(dev->lc_gap_avg, dev->lc_gap_last, lc->sleep_cost, cost_min,
				     cap);
	__atomic_store_n(&lc->st.auto_gap_ns, RTE_MIN(dev->lc_gap_avg, dev->lc_gap_last) *
			 1000000000ULL / hz, __ATOMIC_RELAXED);
	__atomic_store_n(&lc->st.auto_sleep_cost_ns, RTE_MAX(lc->sleep_cost, cost_min) *
			 1000000000ULL / hz, __ATOMIC_RELAXED);
	__atomic_store_n(&lc->st.auto_spin_ns, dev->lc_spin * 1000000000ULL / hz,
			 __ATOMIC_RELAXED);
}

/* One sleep cost arm_cycles (kicks asked for, re-check pass) and cpu_ns in the wait. */
static void
auto_learn_sleep(struct vhb_lcore *lc, uint64_t arm_cycles, uint64_t cpu_ns)
{
	uint64_t hz = rte_get_tsc_hz();

	lc->sleep_cost = vhb_auto_ewma(lc->sleep_cost, arm_cycles + cpu_ns * hz / 1000000000ULL);
}

/*
 * A pass that started at t0 found work on dev: learn the gap since its last work, and
 * stop its kicks if it is going to be polled (interrupt mode and an auto device that
 * parks at once leave them on).
 */
static void
dev_found_work(struct vhb_lcore *lc, struct vhb_device *dev, uint64_t t0,
	       enum vhb_poll_mode mode)
{
	uint64_t t = rte_rdtsc();

	if (dev->lc_work_end != 0 && t0 > dev->lc_work_end) {
		dev->lc_gap_last = t0 - dev->lc_work_end;
		dev->lc_gap_avg = vhb_auto_ewma(dev->lc_gap_avg, dev->lc_gap_last);
		auto_update(lc, dev);
	}
	dev->lc_work_end = t;
	dev->lc_last_busy = t;
	if (dev->lc_kicks && mode != VHB_POLL_INTERRUPT &&
	    (mode != VHB_POLL_AUTO || dev->lc_spin != 0)) {
		vhb_notify_device_kicks(dev, false);
		dev->lc_kicks = false;
	}
}

/*
 * Park dev if it is still idle once its drivers were asked to kick: the re-check after
 * the fence finds a request posted before a driver could see the flag. True if parked.
 */
static bool
dev_try_park(struct vhb_lcore *lc, struct vhb_device *dev, uint64_t now,
	     enum vhb_poll_mode mode)
{
	uint32_t seen = dev->lc_seen;

	dev->lc_kicks = true;
	if (vhb_notify_device_kicks(dev, true))
		return false;	/* a guest notification to retry: keep polling */
	/*
	 * Store (flags) then load (avail->idx in the re-check): only a full fence orders
	 * them; the driver has its own between avail->idx and the flags.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vhb_device_poll(dev, now)) {
		st_add(&lc->st.sleep_aborts, 1);
		dev_found_work(lc, dev, now, mode);
		return false;
	}
	/* The re-check took a control change: its queues may not have been asked to kick. */
	if (dev->lc_seen != seen)
		return false;
	dev_park(lc, dev, vhb_device_next_timer(dev));
	st_add(&lc->st.parks, 1);
	return true;
}

/* Owner of lc: every device polled, none asked to kick (poll mode, or the loop ends). */
static void
unpark_all(struct vhb_lcore *lc, uint64_t now)
{
	unsigned int i;

	for (i = 0; i < lc->ndevs; i++) {
		struct vhb_device *dev = lc->devs[i];

		dev_unpark(lc, dev, now);
		if (dev->lc_kicks) {
			vhb_notify_device_kicks(dev, false);
			dev->lc_kicks = false;
		}
	}
	lc->timer_min = UINT64_MAX;
}

/*
 * Parked devices back to the polled set: after a control change, those whose ctl word
 * or poke flag moved; when a timer may be due, those whose timer is (the rest give the
 * new earliest timer).
 */
static void
unpark_changed(struct vhb_lcore *lc, uint64_t now, bool ctl)
{
	uint64_t min = UINT64_MAX;
	unsigned int i;

	for (i = lc->npolled; i < lc->ndevs; i++) {
		struct vhb_device *dev = lc->devs[i];
		bool wake;

		if (ctl)
			wake = __atomic_load_n(&dev->ctl, __ATOMIC_ACQUIRE) != dev->lc_seen ||
			       __atomic_exchange_n(&dev->lc_poke, 0, __ATOMIC_ACQ_REL) != 0;
		else
			wake = lc->park_timer[i] <= now;
		if (!wake) {
			min = RTE_MIN(min, lc->park_timer[i]);
			continue;
		}
		/* The device now at i was at npolled: already looked at (or it is dev). */
		dev_unpark(lc, dev, now);
		if (ctl)
			dev->lc_kicks = true;	/* its queues may be new: flags unknown */
		st_add(&lc->st.unparks_other, 1);
	}
	if (!ctl || min < lc->timer_min)
		lc->timer_min = min;
}

/* Devices whose kicks fired: back to the polled set. */
static void
unpark_kicked(struct vhb_lcore *lc, struct vhb_device **kicked, unsigned int n, uint64_t now)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct vhb_device *dev = kicked[i];

		/* Still ours (see vhb_notify.h) and parked: a polled device's kick is old news. */
		if (dev->lc_pos < lc->ndevs && lc->devs[dev->lc_pos] == dev &&
		    dev_unpark(lc, dev, now))
			st_add(&lc->st.unparks_kick, 1);
	}
}

/* Sleep until a kick, a control action or the next timer (every device parked). */
static void
lcore_sleep(struct vhb_lcore *lc, uint64_t now, uint64_t *last)
{
	struct vhb_device *kicked[VHB_NOTIFY_MAX_EVENTS];
	uint64_t hz = rte_get_tsc_hz();
	uint64_t next = lc->timer_min, t_in, t_out, ms, cpu_in;
	int timeout = (int)__atomic_load_n(&lc->max_sleep_ms, __ATOMIC_RELAXED);
	unsigned int why, nkicked;
	bool sample;

	if (next != UINT64_MAX) {
		if (next <= now) {
			unpark_changed(lc, now, false);
			return;
		}
		ms = ((next - now) * 1000 + hz - 1) / hz;
		if (ms < (uint64_t)timeout)
			timeout = (int)ms;
	}
	__atomic_store_n(&lc->sleeping, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&lc->st.sleeping, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&lc->ctl_gen, __ATOMIC_SEQ_CST) != lc->gen_seen ||
	    __atomic_load_n(&lc->stop, __ATOMIC_RELAXED))
		goto awake;
	t_in = rte_rdtsc();
	st_add(&lc->st.poll_cycles, t_in - *last);
	st_add(&lc->st.sleeps, 1);
	/*
	 * The CPU clock is a system call of its own: sample one sleep in AUTO_SAMPLE, of
	 * those that follow the park of the last polled device (its cost is part of it).
	 */
	sample = (lc->st.sleeps & (AUTO_SAMPLE - 1)) == 1 && lc->arm_tsc != 0 &&
		 lc->arm_tsc <= t_in;
	cpu_in = sample ? thread_cpu_ns() : 0;
	why = vhb_notify_wait(&lc->nt, timeout, kicked, &nkicked);
	t_out = rte_rdtsc();
	if (sample)
		auto_learn_sleep(lc, t_in - lc->arm_tsc, thread_cpu_ns() - cpu_in);
	lc->arm_tsc = 0;
	st_add(&lc->st.sleep_cycles, t_out - t_in);
	*last = t_out;
	if (why & VHB_WOKE_KICK)
		st_add(&lc->st.wakeups_kick, 1);
	if (why & VHB_WOKE_CONTROL)
		st_add(&lc->st.wakeups_control, 1);
	if (why == VHB_WOKE_TIMEOUT)
		st_add(&lc->st.wakeups_timeout, 1);
	unpark_kicked(lc, kicked, nkicked, t_out);
	if (t_out >= lc->timer_min)
		unpark_changed(lc, t_out, false);
awake:
	__atomic_store_n(&lc->sleeping, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&lc->st.sleeping, 0, __ATOMIC_RELAXED);
}

/* Some devices polled, some parked: look at the parked ones' kicks and timers, not waiting. */
static void
lcore_check_parked(struct vhb_lcore *lc, uint64_t now)
{
	struct vhb_device *kicked[VHB_NOTIFY_MAX_EVENTS];
	unsigned int nkicked;

	if (now >= lc->parked_check) {
		vhb_notify_wait(&lc->nt, 0, kicked, &nkicked);
		unpark_kicked(lc, kicked, nkicked, now);
		lc->parked_check = now + PARKED_CHECK_US * rte_get_tsc_hz() / 1000000;
	}
	if (now >= lc->timer_min)
		unpark_changed(lc, now, false);
}

/* How long a device is polled after its last work before it parks (not for VHB_POLL_BUSY). */
static inline uint64_t
spin_cycles(const struct vhb_device *dev, enum vhb_poll_mode mode, uint64_t adaptive)
{
	if (mode == VHB_POLL_ADAPTIVE)
		return adaptive;
	if (mode == VHB_POLL_AUTO)
		return dev->lc_spin;
	return 0;
}

int
vhb_lcore_loop(void *arg)
{
	struct vhb_lcore *lc = lcore_self();
	uint64_t last;

	RTE_SET_USED(arg);
	if (lc == NULL)
		return -EINVAL;
	while (!owner_try(lc, OWNER_LOOP)) {
		if (__atomic_load_n(&lc->stop, __ATOMIC_RELAXED))
			return 0;
		rte_pause();
	}
	last = rte_rdtsc();
	/* Whatever state a previous run left: every device polled, kicks unknown. */
	unpark_all(lc, last);
	lc->mode_seen = UINT32_MAX;
	while (!__atomic_load_n(&lc->stop, __ATOMIC_RELAXED)) {
		uint32_t gen = __atomic_load_n(&lc->ctl_gen, __ATOMIC_ACQUIRE);
		enum vhb_poll_mode mode = __atomic_load_n(&lc->mode, __ATOMIC_RELAXED);
		uint64_t adaptive = __atomic_load_n(&lc->idle_cycles, __ATOMIC_RELAXED);
		uint64_t t0 = rte_rdtsc();
		bool busy = false, parked = false;
		unsigned int i;
		uint64_t t1;

		if ((uint32_t)mode != lc->mode_seen) {
			lc->mode_seen = (uint32_t)mode;
			__atomic_store_n(&lc->st.mode, (uint32_t)mode, __ATOMIC_RELAXED);
			if (mode == VHB_POLL_BUSY)
				unpark_all(lc, t0);
		}
		if (gen != lc->gen_seen) {
			lc->gen_seen = gen;
			unpark_changed(lc, t0, true);
		}
		mbox_drain(lc);
		for (i = 0; i < lc->npolled;) {
			struct vhb_device *dev = lc->devs[i];

			if (vhb_device_poll(dev, t0)) {
				dev_found_work(lc, dev, t0, mode);
				busy = true;
			} else if (mode != VHB_POLL_BUSY && t0 > dev->lc_last_busy &&
				   t0 - dev->lc_last_busy >= spin_cycles(dev, mode, adaptive) &&
				   dev_try_park(lc, dev, t0, mode)) {
				parked = true;
				continue;	/* another device moved into slot i */
			}
			i++;
		}
		t1 = rte_rdtsc();
		/* Counters: written here only, read relaxed by anyone. */
		st_add(&lc->st.passes, 1);
		st_add(&lc->st.total_cycles, t1 - t0);
		st_add(&lc->st.poll_cycles, t1 - last);
		last = t1;
		if (busy) {
			st_add(&lc->st.busy_passes, 1);
			st_add(&lc->st.busy_cycles, t1 - t0);
		}
		if (parked)
			lc->arm_tsc = t0;
		__atomic_store_n(&lc->st.devices_polled, lc->npolled, __ATOMIC_RELAXED);
		/* Every device parked (never in poll mode), or none here: wait for an event. */
		if (lc->npolled == 0)
			lcore_sleep(lc, t1, &last);
		else if (lc->npolled < lc->ndevs)
			lcore_check_parked(lc, t1);
		if (!busy)
			rte_pause();
	}
	unpark_all(lc, rte_rdtsc());
	__atomic_store_n(&lc->st.devices_polled, lc->npolled, __ATOMIC_RELAXED);
	owner_release(lc);
	return 0;
}

void
vhb_stop(void)
{
	unsigned int i;

	vhb_resident_timer_stop();
	for (i = 0; i < g_nlcores; i++) {
		__atomic_store_n(&g_lcores[i].stop, 1, __ATOMIC_RELAXED);
		lcore_wake(&g_lcores[i]);
	}
}

void
vhb_cleanup(void)
{
	unsigned int i;

	for (i = 0; i < g_nlcores; i++) {
		rte_free(g_lcores[i].devs);
		free(g_lcores[i].park_timer);
		vhb_notify_fini(&g_lcores[i].nt);
	}
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
	st->mode = __atomic_load_n(&s->mode, __ATOMIC_RELAXED);
	st->sleeping = __atomic_load_n(&s->sleeping, __ATOMIC_RELAXED);
	st->tsc_hz = s->tsc_hz;
	st->poll_cycles = __atomic_load_n(&s->poll_cycles, __ATOMIC_RELAXED);
	st->sleep_cycles = __atomic_load_n(&s->sleep_cycles, __ATOMIC_RELAXED);
	st->sleeps = __atomic_load_n(&s->sleeps, __ATOMIC_RELAXED);
	st->wakeups_kick = __atomic_load_n(&s->wakeups_kick, __ATOMIC_RELAXED);
	st->wakeups_control = __atomic_load_n(&s->wakeups_control, __ATOMIC_RELAXED);
	st->wakeups_timeout = __atomic_load_n(&s->wakeups_timeout, __ATOMIC_RELAXED);
	st->sleep_aborts = __atomic_load_n(&s->sleep_aborts, __ATOMIC_RELAXED);
	st->auto_gap_ns = __atomic_load_n(&s->auto_gap_ns, __ATOMIC_RELAXED);
	st->auto_sleep_cost_ns = __atomic_load_n(&s->auto_sleep_cost_ns, __ATOMIC_RELAXED);
	st->auto_spin_ns = __atomic_load_n(&s->auto_spin_ns, __ATOMIC_RELAXED);
	st->devices_polled = __atomic_load_n(&s->devices_polled, __ATOMIC_RELAXED);
	st->parks = __atomic_load_n(&s->parks, __ATOMIC_RELAXED);
	st->unparks_kick = __atomic_load_n(&s->unparks_kick, __ATOMIC_RELAXED);
	st->unparks_other = __atomic_load_n(&s->unparks_other, __ATOMIC_RELAXED);
	return 0;
}

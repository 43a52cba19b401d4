/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy engine: one pass reads the host and every device (public API of lib/balloon),
 * runs vhb_policy_decide() and sets the targets. It keeps the per-VM state between passes,
 * the per-VM settings and a snapshot of the last pass for "show policy" and telemetry.
 *
 * Threads: vhb_policy_step() runs on one control thread at a time and the caller keeps
 * devices from being destroyed during it (the daemon holds its command lock). Settings and
 * the snapshot are behind pol->lock, so any thread may read or change them.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_log.h>

#include "vhost_balloon.h"
#include "vhb_policy.h"

RTE_LOG_REGISTER(vhb_policy_logtype, lib.vhb.policy, INFO);

#define POL_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vhb_policy_logtype, "vhb_policy: " fmt "\n", ##__VA_ARGS__)

/* Most VMs one pass handles (as many as the daemon can serve). */
#define POL_MAX_VMS	1024
#define POL_MAX_CFGS	1024

struct pol_cfg {
	char name[64];
	struct vhb_policy_vm_cfg c;
};

struct vhb_policy {
	pthread_mutex_t lock;		/* params, cfgs, snap, status */
	struct vhb_policy_params p;
	struct pol_cfg *cfgs;
	unsigned int ncfgs;
	/* Step only (one thread at a time). */
	struct vhb_policy_vm *vms, *next;
	unsigned int nvms, nnext;
	struct vhb_policy_vm_state *saved;	/* advisory: the state before the decision */
	struct vhb_policy_host_out verdict;	/* the previous one goes into the next decision */
	bool host_error_logged;
	bool reset;			/* mode changed: start every VM afresh */
	/* Last pass. */
	struct vhb_policy_vm *snap;
	struct vhb_policy_status status;
};

struct vhb_policy *
vhb_policy_create(const struct vhb_policy_params *p)
{
	struct vhb_policy *pol = calloc(1, sizeof(*pol));

	if (pol == NULL)
		goto fail;
	pol->p = *p;
	pol->cfgs = calloc(POL_MAX_CFGS, sizeof(*pol->cfgs));
	pol->vms = calloc(POL_MAX_VMS, sizeof(*pol->vms));
	pol->next = calloc(POL_MAX_VMS, sizeof(*pol->next));
	pol->snap = calloc(POL_MAX_VMS, sizeof(*pol->snap));
	pol->saved = calloc(POL_MAX_VMS, sizeof(*pol->saved));
	if (pol->cfgs == NULL || pol->vms == NULL || pol->next == NULL || pol->snap == NULL ||
			pol->saved == NULL)
		goto fail;
	pthread_mutex_init(&pol->lock, NULL);
	pol->status.mode = p->mode;
	return pol;
fail:
	vhb_policy_free(pol);
	errno = ENOMEM;
	return NULL;
}

void
vhb_policy_free(struct vhb_policy *pol)
{
	if (pol == NULL)
		return;
	free(pol->cfgs);
	free(pol->vms);
	free(pol->next);
	free(pol->snap);
	free(pol->saved);
	free(pol);
}

int
vhb_policy_set_mode(struct vhb_policy *pol, enum vhb_policy_mode mode)
{
	if (mode != VHB_POLICY_OFF && mode != VHB_POLICY_ADVISORY && mode != VHB_POLICY_ON)
		return -EINVAL;
	pthread_mutex_lock(&pol->lock);
	if (pol->p.mode != mode) {
		POL_LOG(INFO, "mode %s (was %s)", vhb_policy_mode_name(mode),
			vhb_policy_mode_name(pol->p.mode));
		pol->reset = true;
	}
	pol->p.mode = mode;
	pol->status.mode = mode;
	pthread_mutex_unlock(&pol->lock);
	return 0;
}

void
vhb_policy_get_params(struct vhb_policy *pol, struct vhb_policy_params *p)
{
	pthread_mutex_lock(&pol->lock);
	*p = pol->p;
	pthread_mutex_unlock(&pol->lock);
}

static struct pol_cfg *
find_cfg(struct vhb_policy *pol, const char *name)
{
	unsigned int i;

	for (i = 0; i < pol->ncfgs; i++) {
		if (strcmp(pol->cfgs[i].name, name) == 0)
			return &pol->cfgs[i];
	}
	return NULL;
}

int
vhb_policy_set_vm(struct vhb_policy *pol, const char *name, const struct vhb_policy_vm_cfg *c)
{
	struct pol_cfg *pc;
	int ret = 0;

	if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof(pc->name) ||
			c->weight > 1000 || (c->max != 0 && c->min > c->max))
		return -EINVAL;
	pthread_mutex_lock(&pol->lock);
	pc = find_cfg(pol, name);
	if (pc == NULL && pol->ncfgs == POL_MAX_CFGS) {
		ret = -ENOSPC;
	} else {
		if (pc == NULL) {
			pc = &pol->cfgs[pol->ncfgs++];
			strcpy(pc->name, name);
		}
		pc->c = *c;
	}
	pthread_mutex_unlock(&pol->lock);
	return ret;
}

void
vhb_policy_get_vm(struct vhb_policy *pol, const char *name, struct vhb_policy_vm_cfg *c)
{
	struct pol_cfg *pc;

	pthread_mutex_lock(&pol->lock);
	pc = find_cfg(pol, name);
	if (pc != NULL)
		*c = pc->c;
	else
		memset(c, 0, sizeof(*c));
	pthread_mutex_unlock(&pol->lock);
}

/* Carry a VM's state from the previous pass. */
static void
carry_state(struct vhb_policy *pol, struct vhb_policy_vm *v)
{
	unsigned int i;

	for (i = 0; i < pol->nvms; i++) {
		if (strcmp(pol->vms[i].name, v->name) == 0) {
			v->st = pol->vms[i].st;
			return;
		}
	}
}

struct collect {
	struct vhb_policy *pol;
	uint64_t real_ns;
};

static void
guest_signals(struct vhb_policy_vm *v, const struct vhb_guest_stats *gs, uint64_t real_ns)
{
	static const struct {
		unsigned int tag;
		uint32_t bit;
		size_t off;
	} map[] = {
		{ 6, VHB_POLICY_SIG_AVAIL, offsetof(struct vhb_policy_vm, avail) },
		{ 4, VHB_POLICY_SIG_FREE, offsetof(struct vhb_policy_vm, free) },
		{ 7, VHB_POLICY_SIG_CACHES, offsetof(struct vhb_policy_vm, caches) },
		{ 0, VHB_POLICY_SIG_SWAP_IN, offsetof(struct vhb_policy_vm, swap_in) },
		{ 1, VHB_POLICY_SIG_SWAP_OUT, offsetof(struct vhb_policy_vm, swap_out) },
		{ 2, VHB_POLICY_SIG_MAJFLT, offsetof(struct vhb_policy_vm, majflt) },
		{ VHB_POLICY_STAT_OOM_KILL, VHB_POLICY_SIG_OOM,
		  offsetof(struct vhb_policy_vm, oom_kills) },
	};
	unsigned int i;

	v->stats_updates = gs->updates;
	v->stats_age_ns = gs->updated_ns == 0 || real_ns < gs->updated_ns ? 0 :
		real_ns - gs->updated_ns;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].tag >= VHB_GUEST_STAT_NR || (gs->valid & (1u << map[i].tag)) == 0)
			continue;
		v->valid |= map[i].bit;
		*(uint64_t *)((char *)v + map[i].off) = gs->val[map[i].tag];
	}
}

static int
collect_one(struct vhb_device *dev, void *arg)
{
	struct collect *c = arg;
	struct vhb_policy *pol = c->pol;
	struct vhb_device_info in;
	struct vhb_guest_stats gs;
	struct vhb_policy_vm *v;
	struct pol_cfg *pc;

	if (pol->nnext == POL_MAX_VMS)
		return 1;
	if (vhb_device_get_info(dev, &in) != 0)
		return 0;
	v = &pol->next[pol->nnext++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", in.name);
	carry_state(pol, v);
	pthread_mutex_lock(&pol->lock);
	pc = find_cfg(pol, v->name);
	if (pc != NULL)
		v->cfg = pc->c;
	pthread_mutex_unlock(&pol->lock);
	v->running = in.state == VHB_DEV_RUNNING && in.guest_mem_bytes != 0;
	v->guest_mem = in.guest_mem_bytes;
	v->target = (uint64_t)in.num_pages * VHB_PFN_SIZE;
	v->actual = (uint64_t)in.actual * VHB_PFN_SIZE;
	if ((in.features_negotiated & (1ULL << VHB_F_STATS_VQ)) != 0 &&
			vhb_device_get_guest_stats(dev, &gs) == 0)
		guest_signals(v, &gs, c->real_ns);
	return 0;
}

static uint64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int
vhb_policy_step(struct vhb_policy *pol, uint64_t now_ns)
{
	struct collect c = { .pol = pol, .real_ns = realtime_ns() };
	struct vhb_policy_params p;
	struct vhb_policy_host host;
	enum vhb_policy_host_state prev = pol->verdict.state;
	struct vhb_policy_vm *v, *tmp;
	struct vhb_device *dev;
	unsigned int i;
	int ret, nset = 0;

	pthread_mutex_lock(&pol->lock);
	p = pol->p;
	if (pol->reset) {
		/* Advisory decisions moved no target: their state would mislead the next ones. */
		pol->nvms = 0;
		memset(&pol->verdict, 0, sizeof(pol->verdict));
		pol->reset = false;
	}
	pthread_mutex_unlock(&pol->lock);
	if (p.mode == VHB_POLICY_OFF)
		return 0;
	ret = vhb_policy_read_host(p.meminfo_path, p.psi_path, &host);
	if (ret != 0 && !pol->host_error_logged) {
		POL_LOG(ERR, "%s: %s: holding every target until it can be read",
			p.meminfo_path, strerror(-ret));
		pol->host_error_logged = true;
	} else if (ret == 0) {
		pol->host_error_logged = false;
	}

	pol->nnext = 0;
	vhb_device_foreach(collect_one, &c);
	tmp = pol->vms;
	pol->vms = pol->next;
	pol->next = tmp;
	pol->nvms = pol->nnext;

	for (i = 0; i < pol->nvms; i++)
		pol->saved[i] = pol->vms[i].st;
	vhb_policy_decide(&p, &host, pol->vms, pol->nvms, now_ns, &pol->verdict);
	/*
	 * Advisory: no target moved, so the step bookkeeping stays as it was (the next pass
	 * does not wait for the guest); the signals and the direction (logged once) go on.
	 */
	for (i = 0; p.mode == VHB_POLICY_ADVISORY && i < pol->nvms; i++) {
		pol->vms[i].st.change_updates = pol->saved[i].change_updates;
		pol->vms[i].st.reclaim_ns = pol->saved[i].reclaim_ns;
	}
	if (pol->verdict.state != prev)
		POL_LOG(INFO, "host %s", pol->verdict.reason);

	for (i = 0; i < pol->nvms; i++) {
		v = &pol->vms[i];
		if (v->dir_changed)
			POL_LOG(INFO, "VM %s: %s%s: %s", v->name, vhb_policy_action_name(v->action),
				p.mode == VHB_POLICY_ADVISORY ? " (advisory)" : "", v->reason);
		if (p.mode != VHB_POLICY_ON || v->new_target == v->target)
			continue;
		dev = vhb_device_find(v->name);
		if (dev == NULL)
			continue;
		ret = vhb_device_set_target_pages(dev, (uint32_t)(v->new_target / VHB_PFN_SIZE));
		if (ret != 0) {
			POL_LOG(WARNING, "VM %s: cannot set the target to %" PRIu64 " MiB: %s",
				v->name, v->new_target >> 20, strerror(-ret));
			continue;
		}
		nset++;
	}

	pthread_mutex_lock(&pol->lock);
	memcpy(pol->snap, pol->vms, pol->nvms * sizeof(*pol->vms));
	pol->status.nvms = pol->nvms;
	pol->status.steps++;
	pol->status.targets_set += nset;
	pol->status.last_ns = now_ns;
	pol->status.host = host;
	pol->status.verdict = pol->verdict;
	pthread_mutex_unlock(&pol->lock);
	return nset;
}

unsigned int
vhb_policy_get_status(struct vhb_policy *pol, struct vhb_policy_status *st,
	struct vhb_policy_vm *vms, unsigned int max)
{
	unsigned int n;

	pthread_mutex_lock(&pol->lock);
	*st = pol->status;
	st->mode = pol->p.mode;
	n = pol->status.nvms;
	if (vms != NULL)
		memcpy(vms, pol->snap, (n < max ? n : max) * sizeof(*vms));
	pthread_mutex_unlock(&pol->lock);
	return n;
}

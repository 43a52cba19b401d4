/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy's decisions: a pure function of the host signals, each VM's signals and the state
 * kept from the previous decision (docs/policy.md#algorithm). No EAL, no clock, no I/O.
 *
 * In order, per VM: bounds first (a guest outside [min, max] is brought back), then guest
 * pressure (deflate at once), then the host: short -> reclaim in proportion to spare memory
 * and weight, capped per step and larger steps from idler guests; plenty -> give back a step
 * to the busiest guests first; between the watermarks -> hold.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vhb_policy.h"

#define PAGE		((uint64_t)4096)
#define MiB		((uint64_t)1 << 20)
#define NS		((uint64_t)1000000000)

void
vhb_policy_params_default(struct vhb_policy_params *p)
{
	memset(p, 0, sizeof(*p));
	p->mode = VHB_POLICY_OFF;
	p->interval_ms = 1000;
	p->psi_some = 20.0;
	p->psi_full = 5.0;
	p->reserve_pct = 10;
	p->min_pct = 25;
	p->weight = 100;
	p->step = 64 * MiB;
	p->give_back = 32 * MiB;
	p->deflate = 128 * MiB;
	p->stale_s = 30;
	p->hold_s = 30;
	p->swap_in = 1 * MiB;
	p->major_faults = 1000;
	snprintf(p->meminfo_path, sizeof(p->meminfo_path), "/proc/meminfo");
	snprintf(p->psi_path, sizeof(p->psi_path), "/proc/pressure/memory");
}

const char *
vhb_policy_mode_name(enum vhb_policy_mode mode)
{
	switch (mode) {
	case VHB_POLICY_OFF: return "off";
	case VHB_POLICY_ADVISORY: return "advisory";
	case VHB_POLICY_ON: return "on";
	}
	return "?";
}

int
vhb_policy_mode_parse(const char *s, enum vhb_policy_mode *mode)
{
	if (strcmp(s, "off") == 0)
		*mode = VHB_POLICY_OFF;
	else if (strcmp(s, "advisory") == 0)
		*mode = VHB_POLICY_ADVISORY;
	else if (strcmp(s, "on") == 0)
		*mode = VHB_POLICY_ON;
	else
		return -EINVAL;
	return 0;
}

const char *
vhb_policy_action_name(enum vhb_policy_action a)
{
	switch (a) {
	case VHB_POLICY_NONE: return "none";
	case VHB_POLICY_HOLD: return "hold";
	case VHB_POLICY_RECLAIM: return "reclaim";
	case VHB_POLICY_GIVE_BACK: return "give-back";
	case VHB_POLICY_DEFLATE: return "deflate";
	}
	return "?";
}

const char *
vhb_policy_host_state_name(enum vhb_policy_host_state s)
{
	switch (s) {
	case VHB_POLICY_HOST_UNKNOWN: return "unknown";
	case VHB_POLICY_HOST_SHORT: return "short";
	case VHB_POLICY_HOST_OK: return "ok";
	case VHB_POLICY_HOST_PLENTY: return "plenty";
	}
	return "?";
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t
max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t
page_down(uint64_t b)
{
	return b & ~(PAGE - 1);
}

static uint64_t
page_up(uint64_t b)
{
	return b > UINT64_MAX - PAGE ? page_down(b) : page_down(b + PAGE - 1);
}

static uint64_t
mib(uint64_t b)
{
	return b / MiB;
}

static double
mibf(uint64_t b)
{
	return (double)b / (double)MiB;
}

/* Guest size the current target leaves. */
static uint64_t
guest_size(const struct vhb_policy_vm *v)
{
	return v->guest_mem - min_u64(v->target, v->guest_mem);
}

/* Share of the guest's size that could be taken: how idle it is, 0..1. */
static double
idleness(const struct vhb_policy_vm *v)
{
	uint64_t size = guest_size(v);

	return size == 0 ? 0.0 : (double)v->spare / (double)size;
}

static bool
stats_fresh(const struct vhb_policy_params *p, const struct vhb_policy_vm *v)
{
	return v->stats_updates > 0 && (v->valid & VHB_POLICY_SIG_AVAIL) != 0 &&
		v->stats_age_ns <= (uint64_t)p->stale_s * NS;
}

/* Move the target to leave size bytes to the guest. */
static void
set_size(struct vhb_policy_vm *v, enum vhb_policy_action a, uint64_t size, uint64_t now_ns)
{
	v->action = a;
	v->new_target = v->guest_mem - min_u64(size, v->guest_mem);
	if (v->new_target == v->target)
		return;
	v->st.change_updates = v->stats_updates;
	if (a == VHB_POLICY_RECLAIM)
		v->st.reclaim_ns = now_ns;
	if (v->st.dir != a) {
		v->dir_changed = true;
		v->st.dir = a;
		v->st.dir_ns = now_ns;
	}
}

static void __attribute__((format(printf, 2, 3)))
reason(struct vhb_policy_vm *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

/* Bounds, the signals of a new statistics update, reserve and spare memory. */
static void
vm_signals(const struct vhb_policy_params *p, struct vhb_policy_vm *v)
{
	struct vhb_policy_vm_state *st = &v->st;
	uint64_t size, oom_delta = 0;

	v->min = v->cfg.min != 0 ? v->cfg.min : page_up(v->guest_mem / 100 * p->min_pct);
	v->max = v->cfg.max != 0 ? min_u64(v->cfg.max, v->guest_mem) : v->guest_mem;
	if (v->min > v->max)
		v->min = v->max;
	size = guest_size(v);
	v->reserve = page_up(size / 100 * p->reserve_pct);

	if (v->stats_updates != 0 && v->stats_updates != st->seen_updates) {
		if (st->have_prev) {
			if ((v->valid & VHB_POLICY_SIG_SWAP_IN) && v->swap_in > st->prev_swap_in)
				v->swap_in_delta = v->swap_in - st->prev_swap_in;
			if ((v->valid & VHB_POLICY_SIG_MAJFLT) && v->majflt > st->prev_majflt)
				v->majflt_delta = v->majflt - st->prev_majflt;
			if ((v->valid & VHB_POLICY_SIG_OOM) && v->oom_kills > st->prev_oom)
				oom_delta = v->oom_kills - st->prev_oom;
		}
		v->pressure = (p->swap_in != 0 && v->swap_in_delta >= p->swap_in) ||
			(p->major_faults != 0 && v->majflt_delta >= p->major_faults) ||
			oom_delta != 0 ||
			((v->valid & VHB_POLICY_SIG_AVAIL) && v->avail < v->reserve);
		st->prev_swap_in = v->swap_in;
		st->prev_majflt = v->majflt;
		st->prev_oom = v->oom_kills;
		st->have_prev = true;
		st->seen_updates = v->stats_updates;
	}
	if (stats_fresh(p, v) && v->avail > v->reserve && size > v->min)
		v->spare = page_down(min_u64(v->avail - v->reserve, size - v->min));
}

/* Bounds and guest pressure: true if that decided the VM. */
static bool
vm_own(const struct vhb_policy_params *p, struct vhb_policy_vm *v, uint64_t now_ns)
{
	uint64_t size = guest_size(v), more;

	if (size < v->min) {
		set_size(v, VHB_POLICY_GIVE_BACK, v->min, now_ns);
		reason(v, "below its min %.1f MiB: raised to it", mibf(v->min));
		return true;
	}
	if (size > v->max) {
		set_size(v, VHB_POLICY_RECLAIM, v->max, now_ns);
		reason(v, "above its max %.1f MiB: lowered to it", mibf(v->max));
		return true;
	}
	if (!v->pressure)
		return false;
	v->st.hold_until_ns = now_ns + (uint64_t)p->hold_s * NS;
	if (size >= v->max) {
		v->action = VHB_POLICY_HOLD;
		reason(v, "guest pressure, but already at its max %.1f MiB", mibf(v->max));
		return true;
	}
	more = max_u64(p->deflate, v->avail < v->reserve ? v->reserve - v->avail : 0);
	more = min_u64(page_up(more), v->max - size);
	set_size(v, VHB_POLICY_DEFLATE, size + more, now_ns);
	if (v->swap_in_delta >= p->swap_in && p->swap_in != 0)
		reason(v, "guest pressure: swap-in +%" PRIu64 " KiB: deflated %.1f MiB",
			v->swap_in_delta >> 10, mibf(more));
	else if (v->majflt_delta >= p->major_faults && p->major_faults != 0)
		reason(v, "guest pressure: %" PRIu64 " major faults: deflated %.1f MiB",
			v->majflt_delta, mibf(more));
	else if (v->avail < v->reserve)
		reason(v, "guest pressure: available %.1f MiB < reserve %.1f MiB: deflated "
			"%.1f MiB", mibf(v->avail), mibf(v->reserve), mibf(more));
	else
		reason(v, "guest pressure: OOM kill: deflated %.1f MiB", mibf(more));
	return true;
}

/* Whether a VM cannot be squeezed now (its reason set), false if it can. */
static bool
not_squeezable(const struct vhb_policy_params *p, struct vhb_policy_vm *v, uint64_t now_ns)
{
	v->action = VHB_POLICY_HOLD;
	if (v->stats_updates == 0)
		reason(v, "no statistics yet: not squeezed");
	else if ((v->valid & VHB_POLICY_SIG_AVAIL) == 0)
		reason(v, "no available-memory statistic: not squeezed");
	else if (!stats_fresh(p, v))
		reason(v, "statistics stale (%" PRIu64 " s > %u s): not squeezed",
			v->stats_age_ns / NS, p->stale_s);
	else if (now_ns < v->st.hold_until_ns)
		reason(v, "guest pressure: not squeezed for %" PRIu64 " s",
			(v->st.hold_until_ns - now_ns + NS - 1) / NS);
	else if (v->actual != v->target)
		reason(v, "waiting for the guest: balloon %.1f of %.1f MiB",
			mibf(v->actual), mibf(v->target));
	else if (v->stats_updates == v->st.change_updates)
		reason(v, "waiting for statistics after the last step");
	else if (v->spare == 0 && guest_size(v) <= v->min)
		reason(v, "at its min %.1f MiB", mibf(v->min));
	else if (v->spare == 0)
		reason(v, "no spare memory: available %.1f MiB, reserve %.1f MiB",
			mibf(v->avail), mibf(v->reserve));
	else
		return false;
	return true;
}

/*
 * Most one step may take from v: the step scaled by how idle the guest is (spare share of its
 * size), so idler guests are squeezed faster, but at least a sixteenth of it so that the last
 * of the spare memory is reached; never past the spare memory.
 */
static uint64_t
step_cap(const struct vhb_policy_params *p, const struct vhb_policy_vm *v)
{
	uint64_t cap = max_u64((uint64_t)((double)p->step * idleness(v)), p->step / 16);

	return page_down(min_u64(v->spare, cap));
}

/*
 * Host short: need split over the squeezable VMs by spare * weight, each capped; what the caps
 * left over goes to the idlest VMs first. new_target - target is the take so far.
 */
static void
reclaim(const struct vhb_policy_params *p, struct vhb_policy_vm *vms, unsigned int n,
	const bool *open, uint64_t need)
{
	double score = 0.0;
	uint64_t left = need, t, cap;
	unsigned int i, best;

	for (i = 0; i < n; i++) {
		if (open[i])
			score += (double)vms[i].spare * vms[i].weight;
	}
	if (score <= 0.0)
		return;
	for (i = 0; i < n; i++) {
		if (!open[i])
			continue;
		t = (uint64_t)((double)need * ((double)vms[i].spare * vms[i].weight / score));
		t = page_down(min_u64(t, step_cap(p, &vms[i])));
		vms[i].new_target = vms[i].target + t;
		left -= min_u64(t, left);
	}
	/* Leftovers: idlest first, up to each cap. */
	while (left >= PAGE) {
		best = n;
		for (i = 0; i < n; i++) {
			if (!open[i] || vms[i].new_target - vms[i].target >= step_cap(p, &vms[i]))
				continue;
			if (best == n || idleness(&vms[i]) > idleness(&vms[best]))
				best = i;
		}
		if (best == n)
			break;
		cap = step_cap(p, &vms[best]) - (vms[best].new_target - vms[best].target);
		t = page_down(min_u64(cap, left));
		if (t == 0)
			break;
		vms[best].new_target += t;
		left -= t;
	}
}

void
vhb_policy_decide(const struct vhb_policy_params *p, const struct vhb_policy_host *host,
	struct vhb_policy_vm *vms, unsigned int n, uint64_t now_ns,
	struct vhb_policy_host_out *out)
{
	bool psi_short, decided[n > 0 ? n : 1], open[n > 0 ? n : 1];
	enum vhb_policy_host_state prev;
	uint64_t mid, left, give, take, size;
	struct vhb_policy_vm *v;
	unsigned int i, j, best;

	prev = out->state;
	memset(out, 0, sizeof(*out));
	out->low = p->host_low != 0 ? p->host_low : host->mem_total / 10;
	out->high = p->host_high != 0 ? p->host_high : host->mem_total / 5;
	if (out->high < out->low)
		out->high = out->low;
	psi_short = host->psi_ok && ((p->psi_some > 0 && host->psi_some > p->psi_some) ||
		(p->psi_full > 0 && host->psi_full > p->psi_full));
	mid = out->low + (out->high - out->low) / 2;
	if (!host->meminfo_ok) {
		out->state = VHB_POLICY_HOST_UNKNOWN;
		snprintf(out->reason, sizeof(out->reason), "memory unknown (meminfo unreadable): nothing squeezed");
	} else if (host->mem_available < out->low || psi_short ||
			(prev == VHB_POLICY_HOST_SHORT && host->mem_available < mid)) {
		/* Short until the middle of the watermarks: a reclaim that started goes on
		 * past the low watermark, so the next dip does not start it again at once.
		 */
		out->state = VHB_POLICY_HOST_SHORT;
		out->need = page_up(mid > host->mem_available ? mid - host->mem_available : p->step);
		if (host->mem_available >= out->low && !psi_short)
			snprintf(out->reason, sizeof(out->reason), "short: available %" PRIu64
				" MiB, reclaiming up to %" PRIu64 " MiB: reclaim %" PRIu64 " MiB",
				mib(host->mem_available), mib(mid), mib(out->need));
		else if (host->mem_available < out->low)
			snprintf(out->reason, sizeof(out->reason), "short: available %" PRIu64
				" MiB < low %" PRIu64 " MiB: reclaim %" PRIu64 " MiB",
				mib(host->mem_available), mib(out->low), mib(out->need));
		else
			snprintf(out->reason, sizeof(out->reason), "short: memory PSI some %.1f%% "
				"full %.1f%%: reclaim %" PRIu64 " MiB", host->psi_some,
				host->psi_full, mib(out->need));
	} else if (host->mem_available > out->high) {
		out->state = VHB_POLICY_HOST_PLENTY;
		out->budget = page_down(host->mem_available - out->high);
		snprintf(out->reason, sizeof(out->reason), "plenty: available %" PRIu64
			" MiB > high %" PRIu64 " MiB: give back up to %" PRIu64 " MiB",
			mib(host->mem_available), mib(out->high), mib(out->budget));
	} else {
		out->state = VHB_POLICY_HOST_OK;
		snprintf(out->reason, sizeof(out->reason), "within the watermarks (%" PRIu64
			"-%" PRIu64 " MiB available): hold", mib(out->low), mib(out->high));
	}

	for (i = 0; i < n; i++) {
		v = &vms[i];
		v->action = VHB_POLICY_NONE;
		v->new_target = v->target;
		v->dir_changed = false;
		v->pressure = false;
		v->swap_in_delta = v->majflt_delta = 0;
		v->min = v->max = v->reserve = v->spare = 0;
		/* Shown for a VM whose guest is not running yet too: it is configuration. */
		v->weight = v->cfg.weight != 0 ? v->cfg.weight : p->weight;
		if (v->weight == 0)
			v->weight = 1;
		decided[i] = true;
		open[i] = false;
		if (!v->running || v->guest_mem == 0) {
			reason(v, "no guest driver running");
			continue;
		}
		vm_signals(p, v);
		decided[i] = vm_own(p, v, now_ns);
	}

	switch (out->state) {
	case VHB_POLICY_HOST_SHORT:
		for (i = 0; i < n; i++)
			open[i] = !decided[i] && !not_squeezable(p, &vms[i], now_ns);
		reclaim(p, vms, n, open, out->need);
		for (i = 0; i < n; i++) {
			if (!open[i])
				continue;
			v = &vms[i];
			take = v->new_target - v->target;
			v->new_target = v->target;
			if (take == 0) {
				v->action = VHB_POLICY_HOLD;
				reason(v, "host short, but the others cover it");
				continue;
			}
			set_size(v, VHB_POLICY_RECLAIM, guest_size(v) - take, now_ns);
			reason(v, "host short: took %.1f MiB (spare %.1f MiB, weight "
				"%u, idle %u%%)", mibf(take), mibf(v->spare), v->weight,
				(unsigned int)(idleness(v) * 100.0));
		}
		break;
	case VHB_POLICY_HOST_PLENTY:
		/* Busiest first: least spare for its size. */
		left = out->budget;
		for (j = 0; j < n; j++) {
			best = n;
			for (i = 0; i < n; i++) {
				if (decided[i] || open[i])
					continue;
				if (best == n || idleness(&vms[i]) < idleness(&vms[best]))
					best = i;
			}
			if (best == n)
				break;
			open[best] = true;	/* visited */
			v = &vms[best];
			size = guest_size(v);
			v->action = VHB_POLICY_HOLD;
			if (size >= v->max) {
				reason(v, "at its max %.1f MiB", mibf(v->max));
				continue;
			}
			if (v->st.reclaim_ns != 0 &&
					now_ns - v->st.reclaim_ns < (uint64_t)p->hold_s * NS) {
				reason(v, "squeezed %" PRIu64 " s ago: no give-back yet",
					(now_ns - v->st.reclaim_ns) / NS);
				continue;
			}
			give = page_down(min_u64(min_u64(p->give_back, v->max - size), left));
			if (give == 0) {
				reason(v, "host has memory, but the others took the budget");
				continue;
			}
			left -= give;
			set_size(v, VHB_POLICY_GIVE_BACK, size + give, now_ns);
			reason(v, "host has plenty: gave back %.1f MiB", mibf(give));
		}
		break;
	default:
		for (i = 0; i < n; i++) {
			if (decided[i])
				continue;
			vms[i].action = VHB_POLICY_HOLD;
			reason(&vms[i], "%s", out->state == VHB_POLICY_HOST_OK ?
				"host within the watermarks: hold" : "host memory unknown: hold");
		}
		break;
	}
}

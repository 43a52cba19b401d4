/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Telemetry, served from the last pass's snapshot:
 *   /vhost_balloon/policy          the mode, the host's signals and verdict, and per VM (a dict
 *                                  keyed by VM name) the action, target now, target chosen
 *                                  and why
 *   /vhost_balloon/policy,<name>   one VM: its signals too
 * Telemetry replies are at most 16 KiB in DPDK 22.11: the summary holds a few dozen VMs, the
 * per-VM endpoint any. The engine attached with vhb_policy_telemetry_attach() is used under
 * tel_lock, so detaching before vhb_policy_free() is enough.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_telemetry.h>

#include "vhb_policy.h"

#define TEL_MAX_VMS	1024

static pthread_mutex_t tel_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vhb_policy *tel_pol;

void
vhb_policy_telemetry_attach(struct vhb_policy *pol)
{
	pthread_mutex_lock(&tel_lock);
	tel_pol = pol;
	pthread_mutex_unlock(&tel_lock);
}

static int
vm_dict(const struct vhb_policy_vm *v, struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "action", vhb_policy_action_name(v->action));
	rte_tel_data_add_dict_string(d, "reason", v->reason);
	rte_tel_data_add_dict_u64(d, "guest_mem_bytes", v->guest_mem);
	rte_tel_data_add_dict_u64(d, "target_bytes", v->target);
	rte_tel_data_add_dict_u64(d, "chosen_target_bytes", v->new_target);
	rte_tel_data_add_dict_u64(d, "actual_bytes", v->actual);
	rte_tel_data_add_dict_u64(d, "min_bytes", v->min);
	rte_tel_data_add_dict_u64(d, "max_bytes", v->max);
	rte_tel_data_add_dict_u64(d, "weight", v->weight);
	rte_tel_data_add_dict_u64(d, "reserve_bytes", v->reserve);
	rte_tel_data_add_dict_u64(d, "spare_bytes", v->spare);
	rte_tel_data_add_dict_u64(d, "stats_updates", v->stats_updates);
	rte_tel_data_add_dict_int(d, "stats_age_ms", v->stats_updates == 0 ? -1 :
		(int)RTE_MIN(v->stats_age_ns / 1000000, (uint64_t)INT32_MAX));
	if (v->valid & VHB_POLICY_SIG_AVAIL)
		rte_tel_data_add_dict_u64(d, "available_bytes", v->avail);
	if (v->valid & VHB_POLICY_SIG_FREE)
		rte_tel_data_add_dict_u64(d, "free_bytes", v->free);
	if (v->valid & VHB_POLICY_SIG_CACHES)
		rte_tel_data_add_dict_u64(d, "caches_bytes", v->caches);
	if (v->valid & VHB_POLICY_SIG_SWAP_IN)
		rte_tel_data_add_dict_u64(d, "swap_in_delta_bytes", v->swap_in_delta);
	if (v->valid & VHB_POLICY_SIG_MAJFLT)
		rte_tel_data_add_dict_u64(d, "major_faults_delta", v->majflt_delta);
	if (v->valid & VHB_POLICY_SIG_OOM)
		rte_tel_data_add_dict_u64(d, "oom_kills", v->oom_kills);
	rte_tel_data_add_dict_int(d, "pressure", v->pressure);
	return 0;
}

/* The summary of one VM in /vhost_balloon/policy. */
static int
vm_brief(const struct vhb_policy_vm *v, struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "action", vhb_policy_action_name(v->action));
	rte_tel_data_add_dict_u64(d, "target_bytes", v->target);
	rte_tel_data_add_dict_u64(d, "chosen_target_bytes", v->new_target);
	rte_tel_data_add_dict_string(d, "reason", v->reason);
	return 0;
}

static int
tel_policy(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct vhb_policy_status st;
	struct vhb_policy_vm *vms;
	struct rte_tel_data *vd;
	unsigned int i, n;
	bool one = params != NULL && params[0] != '\0';

	RTE_SET_USED(cmd);
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&tel_lock);
	if (tel_pol == NULL) {
		pthread_mutex_unlock(&tel_lock);
		rte_tel_data_add_dict_string(d, "mode", "off");
		return 0;
	}
	vms = calloc(TEL_MAX_VMS, sizeof(*vms));
	if (vms == NULL) {
		pthread_mutex_unlock(&tel_lock);
		return -ENOMEM;
	}
	n = vhb_policy_get_status(tel_pol, &st, vms, TEL_MAX_VMS);
	pthread_mutex_unlock(&tel_lock);
	if (n > TEL_MAX_VMS)
		n = TEL_MAX_VMS;
	if (one) {
		for (i = 0; i < n && strcmp(vms[i].name, params) != 0; i++)
			;
		if (i < n)
			vm_dict(&vms[i], d);
		free(vms);
		/* Telemetry answers a negative return with null for the command. */
		return i < n ? 0 : -ENOENT;
	}
	rte_tel_data_add_dict_string(d, "mode", vhb_policy_mode_name(st.mode));
	rte_tel_data_add_dict_u64(d, "steps", st.steps);
	rte_tel_data_add_dict_u64(d, "targets_set", st.targets_set);
	rte_tel_data_add_dict_string(d, "host_state", vhb_policy_host_state_name(st.verdict.state));
	rte_tel_data_add_dict_string(d, "host_reason", st.verdict.reason);
	rte_tel_data_add_dict_u64(d, "host_mem_total_bytes", st.host.mem_total);
	rte_tel_data_add_dict_u64(d, "host_mem_available_bytes", st.host.mem_available);
	rte_tel_data_add_dict_u64(d, "host_low_bytes", st.verdict.low);
	rte_tel_data_add_dict_u64(d, "host_high_bytes", st.verdict.high);
	if (st.host.psi_ok) {
		/* DPDK 22.11 telemetry has no floating point values: percent * 100. */
		rte_tel_data_add_dict_u64(d, "psi_some_avg10_x100",
			(uint64_t)(st.host.psi_some * 100.0 + 0.5));
		rte_tel_data_add_dict_u64(d, "psi_full_avg10_x100",
			(uint64_t)(st.host.psi_full * 100.0 + 0.5));
	}
	for (i = 0; i < n; i++) {
		vd = rte_tel_data_alloc();
		if (vd == NULL)
			break;
		vm_brief(&vms[i], vd);
		if (rte_tel_data_add_dict_container(d, vms[i].name, vd, 0) != 0)
			rte_tel_data_free(vd);
	}
	free(vms);
	return 0;
}

RTE_INIT(vhb_policy_telemetry_init)
{
	/* The help text must stay under RTE_TEL_MAX_STRING_LEN (128), or nothing registers. */
	rte_telemetry_register_cmd("/vhost_balloon/policy", tel_policy,
		"Balancing policy: host, per VM action, target, reason. Parameters: VM name "
		"(optional), for its signals");
}

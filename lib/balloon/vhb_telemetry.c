/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Telemetry endpoints, over the public API only:
 *   /vhost_balloon/devices              list of device names
 *   /vhost_balloon/device,<name>        info and counters of one device
 *   /vhost_balloon/guest_stats,<name>   the guest's latest memory statistics
 *   /vhost_balloon/lcores               per poll lcore busy/idle counters, polling mode
 * The telemetry thread is not serialised with the daemon's commands, so a device is looked up
 * and read inside vhb_device_foreach(): the registry lock keeps it from being freed meanwhile.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_telemetry.h>

#include "vhost_balloon.h"

#define TEL_PREFIX "/vhost_balloon"

static int
add_name(struct vhb_device *dev, void *arg)
{
	struct vhb_device_info in;

	if (vhb_device_get_info(dev, &in) == 0)
		rte_tel_data_add_array_string(arg, in.name);
	return 0;
}

static int
tel_devices(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	vhb_device_foreach(add_name, d);
	return 0;
}

/* Which device a request names and what to fill in for it. */
struct tel_query {
	const char *name;
	struct rte_tel_data *d;
	int (*fill)(struct vhb_device *dev, const struct vhb_device_info *in,
		struct rte_tel_data *d);
	int ret;
};

static int
query_one(struct vhb_device *dev, void *arg)
{
	struct tel_query *q = arg;
	struct vhb_device_info in;

	if (vhb_device_get_info(dev, &in) != 0)
		return 0;
	if (strcmp(in.name, q->name) != 0 && strcmp(in.socket_path, q->name) != 0)
		return 0;
	q->ret = q->fill(dev, &in, q->d);
	return 1;
}

static int
tel_query(const char *params, struct rte_tel_data *d,
	int (*fill)(struct vhb_device *, const struct vhb_device_info *, struct rte_tel_data *))
{
	struct tel_query q = { .name = params, .d = d, .fill = fill, .ret = -ENOENT };

	/* Telemetry answers a negative return with null for the command. */
	if (params == NULL || params[0] == '\0')
		return -EINVAL;
	vhb_device_foreach(query_one, &q);
	return q.ret;
}

static int
fill_device(struct vhb_device *dev, const struct vhb_device_info *in, struct rte_tel_data *d)
{
	const struct vhb_counter_name *names;
	struct vhb_device_counters c;
	struct rte_tel_data *cd;
	unsigned int i, n;

	if (vhb_device_get_counters(dev, &c) != 0)
		return -ENOENT;
	cd = rte_tel_data_alloc();
	if (cd == NULL)
		return -ENOMEM;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", in->name);
	rte_tel_data_add_dict_string(d, "socket", in->socket_path);
	rte_tel_data_add_dict_string(d, "state", vhb_device_state_name(in->state));
	rte_tel_data_add_dict_int(d, "lcore", in->lcore_id == VHB_LCORE_ANY ? -1 :
		(int)in->lcore_id);
	rte_tel_data_add_dict_int(d, "numa_node", in->numa_node);
	rte_tel_data_add_dict_u64(d, "features_offered", in->features_offered);
	rte_tel_data_add_dict_u64(d, "features_negotiated", in->features_negotiated);
	rte_tel_data_add_dict_u64(d, "guest_mem_bytes", in->guest_mem_bytes);
	rte_tel_data_add_dict_u64(d, "regions", in->nregions);
	rte_tel_data_add_dict_u64(d, "backing_page_size", in->backing_page_size);
	rte_tel_data_add_dict_u64(d, "target_pages", in->num_pages);
	rte_tel_data_add_dict_u64(d, "actual_pages", in->actual);
	rte_tel_data_add_dict_u64(d, "poison_val", in->poison_val);
	rte_tel_data_add_dict_u64(d, "pages_in_balloon", in->pages_in_balloon);
	rte_tel_data_add_dict_u64(d, "bytes_release_asked", in->bytes_release_asked);
	rte_tel_data_add_dict_u64(d, "bytes_regained", in->bytes_regained);
	rte_tel_data_add_dict_u64(d, "host_resident_bytes", in->host_resident_bytes);

	rte_tel_data_start_dict(cd);
	names = vhb_device_counter_names(&n);
	for (i = 0; i < n; i++)
		rte_tel_data_add_dict_u64(cd, names[i].name,
			*(const uint64_t *)((const char *)&c + names[i].offset));
	if (rte_tel_data_add_dict_container(d, "counters", cd, 0) != 0)
		rte_tel_data_free(cd);
	return 0;
}

static int
tel_device(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	return tel_query(params, d, fill_device);
}

static int
fill_guest_stats(struct vhb_device *dev, const struct vhb_device_info *in,
	struct rte_tel_data *d)
{
	struct vhb_guest_stats gs;
	struct timespec now;
	char key[RTE_TEL_MAX_STRING_LEN], *p;
	uint64_t now_ns;
	unsigned int i;

	if (vhb_device_get_guest_stats(dev, &gs) != 0)
		return -ENOENT;
	clock_gettime(CLOCK_REALTIME, &now);
	now_ns = (uint64_t)now.tv_sec * 1000000000ULL + now.tv_nsec;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", in->name);
	rte_tel_data_add_dict_u64(d, "updates", gs.updates);
	rte_tel_data_add_dict_u64(d, "updated_ns", gs.updated_ns);
	/* -1: the guest never sent statistics. */
	rte_tel_data_add_dict_int(d, "age_ms", gs.updated_ns == 0 ? -1 :
		now_ns <= gs.updated_ns ? 0 : (int)RTE_MIN((now_ns - gs.updated_ns) / 1000000,
			(uint64_t)INT32_MAX));
	for (i = 0; i < VHB_GUEST_STAT_NR; i++) {
		if ((gs.valid & (1u << i)) == 0)
			continue;
		/* Telemetry names allow [A-Za-z0-9_/] only: "swap-in" becomes "swap_in". */
		snprintf(key, sizeof(key), "%s", vhb_guest_stat_name(i));
		for (p = key; *p != '\0'; p++)
			if (*p == '-')
				*p = '_';
		rte_tel_data_add_dict_u64(d, key, gs.val[i]);
	}
	return 0;
}

static int
tel_guest_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	return tel_query(params, d, fill_guest_stats);
}

static int
tel_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct vhb_lcore_stats st;
	struct vhb_poll_params pp;
	struct rte_tel_data *ld;
	char key[32];
	unsigned int i;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	/* A dict keyed "lcore<N>": telemetry arrays hold only arrays, not dicts. */
	rte_tel_data_start_dict(d);
	for (i = 0; vhb_lcore_get_stats(i, &st) == 0; i++) {
		ld = rte_tel_data_alloc();
		if (ld == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(ld);
		rte_tel_data_add_dict_u64(ld, "lcore_id", st.lcore_id);
		rte_tel_data_add_dict_u64(ld, "devices", st.ndevices);
		rte_tel_data_add_dict_u64(ld, "passes", st.passes);
		rte_tel_data_add_dict_u64(ld, "busy_passes", st.busy_passes);
		rte_tel_data_add_dict_u64(ld, "busy_cycles", st.busy_cycles);
		rte_tel_data_add_dict_u64(ld, "total_cycles", st.total_cycles);
		/* Polling mode: cycles awake/asleep and why the lcore woke (docs/device.md). */
		rte_tel_data_add_dict_string(ld, "mode", vhb_poll_mode_name(st.mode));
		rte_tel_data_add_dict_u64(ld, "sleeping", st.sleeping);
		rte_tel_data_add_dict_u64(ld, "tsc_hz", st.tsc_hz);
		rte_tel_data_add_dict_u64(ld, "poll_cycles", st.poll_cycles);
		rte_tel_data_add_dict_u64(ld, "sleep_cycles", st.sleep_cycles);
		rte_tel_data_add_dict_u64(ld, "sleeps", st.sleeps);
		rte_tel_data_add_dict_u64(ld, "wakeups_kick", st.wakeups_kick);
		rte_tel_data_add_dict_u64(ld, "wakeups_control", st.wakeups_control);
		rte_tel_data_add_dict_u64(ld, "wakeups_timeout", st.wakeups_timeout);
		rte_tel_data_add_dict_u64(ld, "sleep_aborts", st.sleep_aborts);
		rte_tel_data_add_dict_u64(ld, "auto_gap_ns", st.auto_gap_ns);
		rte_tel_data_add_dict_u64(ld, "auto_sleep_cost_ns", st.auto_sleep_cost_ns);
		rte_tel_data_add_dict_u64(ld, "auto_spin_ns", st.auto_spin_ns);
		rte_tel_data_add_dict_u64(ld, "devices_polled", st.devices_polled);
		rte_tel_data_add_dict_u64(ld, "parks", st.parks);
		rte_tel_data_add_dict_u64(ld, "unparks_kick", st.unparks_kick);
		rte_tel_data_add_dict_u64(ld, "unparks_other", st.unparks_other);
		if (vhb_lcore_get_poll_params(i, &pp) != 0)
			vhb_poll_params_default(&pp);
		rte_tel_data_add_dict_u64(ld, "idle_us", pp.idle_us);
		rte_tel_data_add_dict_u64(ld, "max_sleep_ms", pp.max_sleep_ms);
		snprintf(key, sizeof(key), "lcore%u", st.lcore_id);
		if (rte_tel_data_add_dict_container(d, key, ld, 0) != 0)
			rte_tel_data_free(ld);
	}
	return 0;
}

RTE_INIT(vhb_telemetry_init)
{
	rte_telemetry_register_cmd(TEL_PREFIX "/devices", tel_devices,
		"List vhost-balloon devices. Takes no parameters");
	rte_telemetry_register_cmd(TEL_PREFIX "/device", tel_device,
		"Info and counters of one device. Parameters: VM name or socket path");
	rte_telemetry_register_cmd(TEL_PREFIX "/guest_stats", tel_guest_stats,
		"Latest guest memory statistics. Parameters: VM name or socket path");
	rte_telemetry_register_cmd(TEL_PREFIX "/lcores", tel_lcores,
		"Poll lcore busy/idle counters and polling mode. Takes no parameters");
}

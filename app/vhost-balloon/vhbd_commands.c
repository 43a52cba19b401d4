/* SPDX-License-Identifier: BSD-3-Clause */
/* The command table: every command's work, written once for the CLI and the control socket. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>

#include "vhost_balloon.h"
#include "vhb_metrics.h"
#include "vhb_policy.h"
#include "vhbd_commands.h"
#include "vhbd_parse.h"
#include "vhbd_policy.h"

const char *
vhbd_arg_name(enum vhbd_arg a)
{
	switch (a) {
	case VHBD_ARG_DEVICE: return "NAME";
	case VHBD_ARG_SIZE: return "SIZE";
	case VHBD_ARG_SECONDS: return "SECONDS";
	case VHBD_ARG_PATH: return "PATH";
	case VHBD_ARG_NAME: return "VMNAME";
	case VHBD_ARG_POLL_MODE: return "MODE";
	case VHBD_ARG_KEY: return "KEY";
	case VHBD_ARG_VALUE: return "VALUE";
	case VHBD_ARG_FORMAT: return "FORMAT";
	default: return "";
	}
}

static struct vhb_device *
find_dev(const char *name, struct vhbd_reply *r)
{
	struct vhb_device *dev = vhb_device_find(name);

	if (dev == NULL)
		vhbd_reply_error(r, "not_found", "no device '%s' (see 'show devices')", name);
	return dev;
}

static int
lcore_of(unsigned int id)
{
	return id == VHB_LCORE_ANY ? -1 : (int)id;
}

/* The fields of "show devices" rows; "show device" adds more after them. */
static void
device_fields(const struct vhb_device_info *in, struct vhbd_reply *r)
{
	char feat[128];

	vhbd_reply_str(r, "name", in->name);
	vhbd_reply_str(r, "state", vhb_device_state_name(in->state));
	vhbd_reply_id(r, "lcore", lcore_of(in->lcore_id));
	vhbd_reply_id(r, "numa", in->numa_node);
	vhbd_reply_bytes(r, "guest_mem", in->guest_mem_bytes);
	vhbd_reply_bytes(r, "page_size", in->backing_page_size);
	vhbd_reply_bytes(r, "target", (uint64_t)in->num_pages * VHB_PFN_SIZE);
	vhbd_reply_bytes(r, "actual", (uint64_t)in->actual * VHB_PFN_SIZE);
	vhbd_reply_bytes(r, "in_balloon", in->pages_in_balloon * VHB_PFN_SIZE);
	vhbd_reply_bytes(r, "release_asked", in->bytes_release_asked);
	vhbd_reply_bytes(r, "regained", in->bytes_regained);
	vhbd_reply_bytes(r, "host_resident", in->host_resident_bytes);
	vhbd_format_features(in->features_negotiated, feat, sizeof(feat));
	vhbd_reply_str(r, "features", feat);
	vhbd_reply_str(r, "socket", in->socket_path);
}

static int
show_one(struct vhb_device *dev, void *arg)
{
	struct vhbd_reply *r = arg;
	struct vhb_device_info in;

	if (vhb_device_get_info(dev, &in) != 0)
		return 0;	/* going away under a concurrent destroy; skip it */
	vhbd_reply_obj_begin(r, NULL);
	device_fields(&in, r);
	vhbd_reply_obj_end(r);
	return 0;
}

static void
cmd_show_devices(struct vhbd_daemon *d, char **args, unsigned int nargs, struct vhbd_reply *r)
{
	(void)d;
	(void)args;
	(void)nargs;
	vhbd_reply_list_begin(r, "devices");
	vhb_device_foreach(show_one, r);
	vhbd_reply_list_end(r);
}

static void
cmd_show_device(struct vhbd_daemon *d, char **args, unsigned int nargs, struct vhbd_reply *r)
{
	struct vhb_device *dev = find_dev(args[0], r);
	struct vhb_device_info in;
	char feat[128];
	int ret;

	(void)d;
	(void)nargs;
	if (dev == NULL)
		return;
	ret = vhb_device_get_info(dev, &in);
	if (ret != 0) {
		vhbd_reply_errno(r, ret, args[0]);
		return;
	}
	vhbd_reply_obj_begin(r, "device");
	device_fields(&in, r);
	vhbd_format_features(in.features_offered, feat, sizeof(feat));
	vhbd_reply_str(r, "features_offered", feat);
	vhbd_reply_u64(r, "regions", in.nregions);
	vhbd_reply_u64(r, "target_pages", in.num_pages);
	vhbd_reply_u64(r, "actual_pages", in.actual);
	vhbd_reply_u64(r, "in_balloon_pages", in.pages_in_balloon);
	vhbd_reply_u64(r, "poison_val", in.poison_val);
	vhbd_reply_obj_end(r);
}

static void
cmd_show_counters(struct vhbd_daemon *d, char **args, unsigned int nargs, struct vhbd_reply *r)
{
	struct vhb_device *dev = find_dev(args[0], r);
	const struct vhb_counter_name *names;
	struct vhb_device_counters c;
	unsigned int i, n;
	int ret;

	(void)d;
	(void)nargs;
	if (dev == NULL)
		return;
	ret = vhb_device_get_counters(dev, &c);
	if (ret != 0) {
		vhbd_reply_errno(r, ret, args[0]);
		return;
	}
	vhbd_reply_str(r, "device", args[0]);
	vhbd_reply_obj_begin(r, "counters");
	names = vhb_device_counter_names(&n);
	for (i = 0; i < n; i++)
		vhbd_reply_u64(r, names[i].name,
			       *(const uint64_t *)((const char *)&c + names[i].offset));
	vhbd_reply_obj_end(r);
}

static void
cmd_show_stats(struct vhbd_daemon *d, char **args, unsigned int nargs, struct vhbd_reply *r)
{
	struct vhb_device *dev = find_dev(args[0], r);
	struct vhb_guest_stats gs;
	struct timespec now;
	uint64_t now_ns;
	unsigned int i;
	int ret;

	(void)d;
	(void)nargs;
	if (dev == NULL)
		return;
	ret = vhb_device_get_guest_stats(dev, &gs);
	if (ret != 0) {
		vhbd_reply_errno(r, ret, args[0]);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	now_ns = (uint64_t)now.tv_sec * 1000000000ULL + now.tv_nsec;
	vhbd_reply_str(r, "device", args[0]);
	vhbd_reply_u64(r, "updates", gs.updates);
	if (gs.updated_ns == 0) {
		vhbd_reply_double(r, "age_s", -1, 0);
		vhbd_reply_text(r, "(the guest has sent no statistics yet)\n");
	} else {
		vhbd_reply_double(r, "age_s", now_ns > gs.updated_ns ?
			(now_ns - gs.updated_ns) / 1e9 : 0.0, 1);
	}
	vhbd_reply_obj_begin(r, "stats");
	for (i = 0; i < VHB_GUEST_STAT_NR; i++) {
		if (gs.valid & (1u << i))
			vhbd_reply_u64(r, vhb_guest_stat_name(i), gs.val[i]);
	}
	vhbd_reply_obj_end(r);
}

/* TSC cycles -> ms without overflow (hz is a few GHz, cycles grow for years). */
static uint64_t
cycles_ms(uint64_t cycles, uint64_t hz)
{
	if (hz == 0)
		return 0;
	return cycles / hz * 1000 + cycles % hz * 1000 / hz;
}

/* Field groups of "show lcores": one JSON object each, four text tables (100 columns). */
#define LC_ACTIVITY	1u
#define LC_MODE		2u
#define LC_SLEEPS	4u
#define LC_PARKING	8u

static void
lcore_fields(const struct vhb_lcore_stats *st, const struct vhb_poll_params *pp,
	unsigned int groups, struct vhbd_reply *r)
{
	uint64_t awake = st->poll_cycles + st->sleep_cycles;

	vhbd_reply_u64(r, "lcore", st->lcore_id);
	if (groups & LC_ACTIVITY) {
		vhbd_reply_u64(r, "devices", st->ndevices);
		vhbd_reply_u64(r, "passes", st->passes);
		vhbd_reply_u64(r, "busy_passes", st->busy_passes);
		vhbd_reply_double(r, "busy_pct", st->total_cycles == 0 ? 0.0 :
			100.0 * st->busy_cycles / st->total_cycles, 2);
		vhbd_reply_double(r, "idle_pct", st->total_cycles == 0 ? 0.0 :
			100.0 - 100.0 * st->busy_cycles / st->total_cycles, 2);
	}
	if (groups & LC_MODE) {
		vhbd_reply_str(r, "mode", vhb_poll_mode_name(st->mode));
		vhbd_reply_u64(r, "idle_us", pp->idle_us);
		vhbd_reply_u64(r, "max_sleep_ms", pp->max_sleep_ms);
		vhbd_reply_u64(r, "sleeping", st->sleeping);
		vhbd_reply_u64(r, "poll_ms", cycles_ms(st->poll_cycles, st->tsc_hz));
		vhbd_reply_u64(r, "sleep_ms", cycles_ms(st->sleep_cycles, st->tsc_hz));
		/* Share of time awake: 100 in poll mode, near 0 for an idle interrupt lcore. */
		vhbd_reply_double(r, "cpu_pct", awake == 0 ? 0.0 :
			100.0 * st->poll_cycles / awake, 2);
	}
	if (groups & LC_SLEEPS) {
		vhbd_reply_u64(r, "sleeps", st->sleeps);
		vhbd_reply_u64(r, "wakeups_kick", st->wakeups_kick);
		vhbd_reply_u64(r, "wakeups_control", st->wakeups_control);
		vhbd_reply_u64(r, "wakeups_timeout", st->wakeups_timeout);
		vhbd_reply_u64(r, "sleep_aborts", st->sleep_aborts);
		/* What the auto mode learned (docs/device.md#polling-modes). */
		vhbd_reply_double(r, "auto_gap_us", st->auto_gap_ns / 1000.0, 1);
		vhbd_reply_double(r, "auto_sleep_cost_us", st->auto_sleep_cost_ns / 1000.0, 1);
		vhbd_reply_double(r, "auto_spin_us", st->auto_spin_ns / 1000.0, 1);
	}
	if (groups & LC_PARKING) {
		/* Per-device polling: the rest of its devices wait on kicks. */
		if (!(groups & LC_ACTIVITY))
			vhbd_reply_u64(r, "devices", st->ndevices);
		vhbd_reply_u64(r, "devices_polled", st->devices_polled);
		vhbd_reply_u64(r, "parks", st->parks);
		vhbd_reply_u64(r, "unparks_kick", st->unparks_kick);
		vhbd_reply_u64(r, "unparks_other", st->unparks_other);
	}
}

/* One list of lcores with the given field groups. */
static void
lcore_list(unsigned int groups, struct vhbd_reply *r)
{
	struct vhb_lcore_stats st;
	struct vhb_poll_params pp;
	unsigned int i;

	vhbd_reply_list_begin(r, "lcores");
	for (i = 0; vhb_lcore_get_stats(i, &st) == 0; i++) {
		if (vhb_lcore_get_poll_params(i, &pp) != 0)
			vhb_poll_params_default(&pp);
		vhbd_reply_obj_begin(r, NULL);
		lcore_fields(&st, &pp, groups, r);
		vhbd_reply_obj_end(r);
	}
	vhbd_reply_list_end(r);
}

static void
cmd_show_lcores(struct vhbd_daemon *d, char **args, unsigned int nargs, struct vhbd_reply *r)
{
	(void)d;
	(void)args;
	(void)nargs;
	if (r->fmt == VHBD_FMT_JSON) {
		lcore_list(LC_ACTIVITY | LC_MODE | LC_SLEEPS | LC_PARKING, r);
		return;
	}
	/* Text: one table per group, each within 100 columns. */
	lcore_list(LC_ACTIVITY, r);
	vhbd_reply_text(r, "\n");
	lcore_list(LC_MODE, r);
	vhbd_reply_text(r, "\n");
	lcore_list(LC_SLEEPS, r);
	vhbd_reply_text(r, "\n");
	lcore_list(LC_PARKING, r);
}

/* "idle-us N" style value of "set poll-mode"; max inclusive, min 0 or 1. */
static bool
poll_value(const char *key, const char *val, uint64_t min, uint64_t max, uint64_t *out,
	struct vhbd_reply *r)
{
	if (vhbd_parse_u64(val, max, out) != 0 || *out < min) {
		vhbd_reply_error(r, "invalid_argument", "%s '%s': give a number %" PRIu64
			"-%" PRIu64, key, val, min, max);
		return false;
	}
	return true;
}

static void
cmd_set_poll_mode(struct vhbd_daemon *d, char **args, unsigned int nargs, struct vhbd_reply *r)
{
	struct vhb_poll_params pp;
	bool one = false;
	uint64_t v, lcore = 0;
	unsigned int i, idx = 0, seen = 0, bit;
	struct vhb_lcore_stats st;
	int ret;

	(void)d;
	if (vhbd_parse_poll_mode(args[0], &pp.mode) != 0) {
		vhbd_reply_error(r, "invalid_argument", "poll mode '%s': give auto, adaptive, "
			"poll or interrupt", args[0]);
		return;
	}
	if (nargs % 2 == 0) {
		vhbd_reply_error(r, "bad_command", "'%s' needs a value; usage: set poll-mode "
			"MODE [idle-us N] [max-sleep-ms N] [lcore I]", args[nargs - 1]);
		return;
	}
	/* First pass: the lcore, whose current values are the base for the others. */
	for (i = 1; i + 1 < nargs; i += 2) {
		if (strcmp(args[i], "idle-us") == 0) {
			bit = 1;
		} else if (strcmp(args[i], "max-sleep-ms") == 0) {
			bit = 2;
		} else if (strcmp(args[i], "lcore") == 0) {
			bit = 4;
			if (!poll_value("lcore", args[i + 1], 0, VHBD_MAX_LCORES - 1, &lcore, r))
				return;
			one = true;
		} else {
			vhbd_reply_error(r, "bad_command", "unknown key '%s' (expected idle-us, "
				"max-sleep-ms or lcore)", args[i]);
			return;
		}
		if (seen & bit) {
			vhbd_reply_error(r, "bad_command", "'%s' given twice", args[i]);
			return;
		}
		seen |= bit;
	}
	/* Keys left out keep their current values (of that lcore, or of the first one). */
	if (one) {
		for (idx = 0; vhb_lcore_get_stats(idx, &st) == 0; idx++) {
			if (st.lcore_id == lcore)
				break;
		}
		if (vhb_lcore_get_poll_params(idx, &pp) != 0) {
			vhbd_reply_error(r, "not_found", "lcore %" PRIu64 " is not a poll lcore "
				"(see 'show lcores')", lcore);
			return;
		}
	} else if (vhb_lcore_get_poll_params(0, &pp) != 0) {
		vhb_poll_params_default(&pp);
	}
	vhbd_parse_poll_mode(args[0], &pp.mode);
	for (i = 1; i + 1 < nargs; i += 2) {
		if (strcmp(args[i], "idle-us") == 0) {
			if (!poll_value("idle-us", args[i + 1], 0, UINT32_MAX, &v, r))
				return;
			pp.idle_us = v;
		} else if (strcmp(args[i], "max-sleep-ms") == 0) {
			if (!poll_value("max-sleep-ms", args[i + 1], 1, VHBD_MAX_SLEEP_MS_MAX, &v,
					r))
				return;
			pp.max_sleep_ms = v;
		}
	}
	ret = one ? vhb_lcore_set_poll_params(idx, &pp) : vhb_set_poll_params(&pp);
	if (ret != 0) {
		vhbd_reply_errno(r, ret, "set poll-mode");
		return;
	}
	if (one)
		vhbd_reply_u64(r, "lcore", lcore);
	else
		vhbd_reply_str(r, "lcores", "all");
	vhbd_reply_str(r, "mode", vhb_poll_mode_name(pp.mode));
	vhbd_reply_u64(r, "idle_us", pp.idle_us);
	vhbd_reply_u64(r, "max_sleep_ms", pp.max_sleep_ms);
}

static bool
parse_size_arg(const char *s, uint64_t *bytes, struct vhbd_reply *r)
{
	int ret = vhbd_parse_size(s, bytes);

	if (ret == -ERANGE)
		vhbd_reply_error(r, "out_of_range", "size '%s' is too large", s);
	else if (ret != 0)
		vhbd_reply_error(r, "invalid_argument", "size '%s': give a multiple of 4 KiB "
			"with a unit, e.g. 512M, 2G, 1536MiB", s);
	return ret == 0;
}

static void
cmd_set_target(struct vhbd_daemon *d, char **args, unsigned int nargs, struct vhbd_reply *r)
{
	struct vhb_device *dev = find_dev(args[0], r);
	uint64_t bytes;
	int ret;

	(void)d;
	(void)nargs;
	if (dev == NULL || !parse_size_arg(args[1], &bytes, r))
		return;
	if (bytes / VHB_PFN_SIZE > UINT32_MAX) {
		vhbd_reply_error(r, "out_of_range", "balloon size '%s' is over 16 TiB", args[1]);
		return;
	}
	ret = vhb_device_set_target_pages(dev,
		(uint32_t)(bytes / VHB_PFN_SIZE));
	if (ret != 0) {
		vhbd_reply_errno(r, ret, args[0]);
		return;
	}
	vhbd_reply_str(r, "device", args[0]);
	vhbd_reply_bytes(r, "target", bytes);
}

static void
cmd_set_guest_size(struct vhbd_daemon *d, char **args, unsigned int nargs, struct vhbd_reply *r)
{
	struct vhb_device *dev = find_dev(args[0], r);
	struct vhb_device_info in;
	uint64_t bytes;
	int ret;

	(void)d;
	(void)nargs;
	if (dev == NULL || !parse_size_arg(args[1], &bytes, r))
		return;
	ret = vhb_device_set_guest_size(dev, bytes);
	if (ret == -EAGAIN) {
		vhbd_reply_error(r, "not_connected", "%s: the guest's memory size is known once "
			"it connected; 'set target' works before", args[0]);
		return;
	}
	if (ret == 0)
		ret = vhb_device_get_info(dev, &in);
	if (ret != 0) {
		vhbd_reply_errno(r, ret, args[0]);
		return;
	}
	vhbd_reply_str(r, "device", args[0]);
	vhbd_reply_bytes(r, "guest_size", bytes);
	vhbd_reply_bytes(r, "target", (uint64_t)in.num_pages * VHB_PFN_SIZE);
}

static void
cmd_set_stats_interval(struct vhbd_daemon *d, char **args, unsigned int nargs,
	struct vhbd_reply *r)
{
	struct vhb_device *dev = find_dev(args[0], r);
	uint64_t s;
	int ret;

	(void)d;
	(void)nargs;
	if (dev == NULL)
		return;
	if (vhbd_parse_u64(args[1], UINT32_MAX - 1, &s) != 0) {
		vhbd_reply_error(r, "invalid_argument", "'%s' is not a number of seconds",
			args[1]);
		return;
	}
	ret = vhb_device_set_stats_interval(dev, (uint32_t)s);
	if (ret != 0) {
		vhbd_reply_errno(r, ret, args[0]);
		return;
	}
	vhbd_reply_str(r, "device", args[0]);
	vhbd_reply_u64(r, "stats_interval_s", s);
}

static void
cmd_add_socket(struct vhbd_daemon *d, char **args, unsigned int nargs, struct vhbd_reply *r)
{
	struct vhbd_vm vm;
	char err[256];
	int ret;

	memset(&vm, 0, sizeof(vm));
	vm.lcore = VHB_LCORE_ANY;
	vm.stats_interval = VHBD_INHERIT;
	if (strlen(args[0]) >= sizeof(vm.path)) {
		vhbd_reply_error(r, "invalid_argument", "socket path longer than %zu characters",
			sizeof(vm.path) - 1);
		return;
	}
	strcpy(vm.path, args[0]);
	if (nargs > 1)
		snprintf(vm.name, sizeof(vm.name), "%s", args[1]);
	else
		vhbd_default_name(vm.path, vm.name, sizeof(vm.name));
	if (vhb_device_find(vm.name) != NULL) {
		vhbd_reply_error(r, "exists", "a device named '%s' exists", vm.name);
		return;
	}
	ret = vhbd_daemon_add_vm(d, &vm, err, sizeof(err));
	if (ret != 0) {
		/* Past the process's limit: no_space, the message names the limit. */
		vhbd_reply_error(r, ret == -ENOSPC ? "no_space" : "failed", "%s", err);
		return;
	}
	vhbd_reply_str(r, "device", vm.name);
	vhbd_reply_str(r, "socket", vm.path);
}

static void
cmd_del_socket(struct vhbd_daemon *d, char **args, unsigned int nargs, struct vhbd_reply *r)
{
	struct vhb_device *dev = find_dev(args[0], r);
	int ret;

	(void)d;
	(void)nargs;
	if (dev == NULL)
		return;
	ret = vhb_device_destroy(dev);
	if (ret != 0) {
		vhbd_reply_errno(r, ret, args[0]);
		return;
	}
	vhbd_reply_str(r, "deleted", args[0]);
}

static void
cmd_show_metrics(struct vhbd_daemon *d, char **args, unsigned int nargs, struct vhbd_reply *r)
{
	enum vhb_metrics_format fmt = VHB_METRICS_OPENMETRICS;
	size_t len;
	char *text;
	int ret;

	(void)d;
	if (nargs > 0 && vhb_metrics_format_parse(args[0], &fmt) != 0) {
		vhbd_reply_error(r, "invalid_argument", "metrics format '%s': give openmetrics or "
			"prometheus", args[0]);
		return;
	}
	ret = vhb_metrics_render(fmt, &text, &len);
	if (ret != 0) {
		vhbd_reply_errno(r, ret, "show metrics");
		return;
	}
	/* JSON: the text as one string; the CLI prints it as it is. */
	if (r->fmt == VHBD_FMT_JSON) {
		vhbd_reply_str(r, "format", vhb_metrics_format_name(fmt));
		vhbd_reply_str(r, "content_type", vhb_metrics_content_type(fmt));
		vhbd_reply_str(r, "metrics", text);
	} else {
		vhbd_reply_raw(r, text);
	}
	free(text);
}

/* Most VMs "show policy" lists (the daemon serves VHBD_MAX_VMS from its config, more added). */
#define POLICY_SHOW_MAX	1024

static void
cmd_show_policy(struct vhbd_daemon *d, char **args, unsigned int nargs, struct vhbd_reply *r)
{
	struct vhb_policy_params pp;
	struct vhb_policy_status st;
	struct vhb_policy_vm *vms, *v;
	unsigned int i, n;

	(void)args;
	(void)nargs;
	if (d->policy == NULL) {
		vhbd_reply_error(r, "not_running", "the policy loop is not running");
		return;
	}
	vms = calloc(POLICY_SHOW_MAX, sizeof(*vms));
	if (vms == NULL) {
		vhbd_reply_errno(r, -ENOMEM, "show policy");
		return;
	}
	vhb_policy_get_params(d->policy, &pp);
	n = vhb_policy_get_status(d->policy, &st, vms, POLICY_SHOW_MAX);
	if (n > POLICY_SHOW_MAX)
		n = POLICY_SHOW_MAX;
	vhbd_reply_str(r, "mode", vhb_policy_mode_name(st.mode));
	vhbd_reply_u64(r, "interval_ms", pp.interval_ms);
	vhbd_reply_u64(r, "passes", st.steps);
	vhbd_reply_u64(r, "targets_set", st.targets_set);
	vhbd_reply_str(r, "host", vhb_policy_host_state_name(st.verdict.state));
	vhbd_reply_bytes(r, "host_available", st.host.mem_available);
	vhbd_reply_bytes(r, "host_total", st.host.mem_total);
	vhbd_reply_bytes(r, "host_low", st.verdict.low);
	vhbd_reply_bytes(r, "host_high", st.verdict.high);
	vhbd_reply_double(r, "psi_some", st.host.psi_ok ? st.host.psi_some : -1.0, 2);
	vhbd_reply_double(r, "psi_full", st.host.psi_ok ? st.host.psi_full : -1.0, 2);
	vhbd_reply_str(r, "host_reason", st.steps == 0 ? (st.mode == VHB_POLICY_OFF ?
		"policy off: 'set policy on' or 'set policy advisory'" : "no pass yet") :
		st.verdict.reason);
	vhbd_reply_list_begin(r, "vms");
	for (i = 0; i < n; i++) {
		v = &vms[i];
		vhbd_reply_obj_begin(r, NULL);
		vhbd_reply_str(r, "name", v->name);
		vhbd_reply_str(r, "action", vhb_policy_action_name(v->action));
		vhbd_reply_bytes(r, "target", v->target);
		vhbd_reply_bytes(r, "chosen", v->new_target);
		vhbd_reply_bytes(r, "actual", v->actual);
		vhbd_reply_bytes(r, "available", v->valid & VHB_POLICY_SIG_AVAIL ? v->avail : 0);
		vhbd_reply_bytes(r, "spare", v->spare);
		vhbd_reply_bytes(r, "min", v->min);
		vhbd_reply_bytes(r, "max", v->max);
		vhbd_reply_u64(r, "weight", v->weight);
		vhbd_reply_double(r, "stats_age_s", v->stats_updates == 0 ? -1.0 :
			v->stats_age_ns / 1e9, 1);
		vhbd_reply_str(r, "reason", v->reason);
		vhbd_reply_obj_end(r);
	}
	vhbd_reply_list_end(r);
	free(vms);
}

/* "min SIZE", "max SIZE", "weight N" pairs of "set policy vm NAME ...". */
static bool
policy_vm_pairs(char **args, unsigned int nargs, struct vhb_policy_vm_cfg *c,
	struct vhbd_reply *r)
{
	unsigned int i, seen = 0, bit;
	uint64_t v;

	if (nargs % 2 != 0) {
		vhbd_reply_error(r, "bad_command", "usage: set policy vm NAME [min SIZE] "
			"[max SIZE] [weight N]");
		return false;
	}
	for (i = 2; i + 1 < nargs; i += 2) {
		if (strcmp(args[i], "min") == 0 || strcmp(args[i], "max") == 0) {
			bit = args[i][1] == 'i' ? 1 : 2;
			if (!parse_size_arg(args[i + 1], &v, r))
				return false;
			if (bit == 1)
				c->min = v;
			else
				c->max = v;
		} else if (strcmp(args[i], "weight") == 0) {
			bit = 4;
			if (!poll_value("weight", args[i + 1], 1, 1000, &v, r))
				return false;
			c->weight = v;
		} else {
			vhbd_reply_error(r, "bad_command", "unknown key '%s' (expected min, max or "
				"weight)", args[i]);
			return false;
		}
		if (seen & bit) {
			vhbd_reply_error(r, "bad_command", "'%s' given twice", args[i]);
			return false;
		}
		seen |= bit;
	}
	if (c->max != 0 && c->min > c->max) {
		vhbd_reply_error(r, "invalid_argument", "min is above max");
		return false;
	}
	return true;
}

static void
cmd_set_policy(struct vhbd_daemon *d, char **args, unsigned int nargs, struct vhbd_reply *r)
{
	enum vhb_policy_mode mode;
	struct vhb_policy_vm_cfg c;
	struct vhb_device_info in;
	struct vhb_device *dev;
	int ret;

	if (d->policy == NULL) {
		vhbd_reply_error(r, "not_running", "the policy loop is not running");
		return;
	}
	if (strcmp(args[0], "vm") != 0) {
		if (vhb_policy_mode_parse(args[0], &mode) != 0 || nargs != 1) {
			vhbd_reply_error(r, "invalid_argument", "usage: set policy on|off|advisory, "
				"or set policy vm NAME [min SIZE] [max SIZE] [weight N]");
			return;
		}
		vhb_policy_set_mode(d->policy, mode);
		vhbd_policy_kick();
		vhbd_reply_str(r, "policy", vhb_policy_mode_name(mode));
		return;
	}
	if (nargs < 2) {
		vhbd_reply_error(r, "bad_command", "usage: set policy vm NAME [min SIZE] "
			"[max SIZE] [weight N]");
		return;
	}
	dev = find_dev(args[1], r);
	if (dev == NULL)
		return;
	ret = vhb_device_get_info(dev, &in);
	if (ret != 0) {
		vhbd_reply_errno(r, ret, args[1]);
		return;
	}
	/* Keys left out keep their values; 0 means the default again. */
	vhb_policy_get_vm(d->policy, in.name, &c);
	if (!policy_vm_pairs(args, nargs, &c, r))
		return;
	ret = vhb_policy_set_vm(d->policy, in.name, &c);
	if (ret != 0) {
		vhbd_reply_errno(r, ret, "set policy vm");
		return;
	}
	vhbd_policy_kick();
	vhbd_reply_str(r, "device", in.name);
	vhbd_reply_bytes(r, "min", c.min);
	vhbd_reply_bytes(r, "max", c.max);
	vhbd_reply_u64(r, "weight", c.weight);
	vhbd_reply_text(r, "(0: the [policy] default)\n");
}

static void
cmd_help(struct vhbd_daemon *d, char **args, unsigned int nargs, struct vhbd_reply *r)
{
	unsigned int i;

	(void)d;
	(void)args;
	(void)nargs;
	vhbd_reply_list_begin(r, "commands");
	for (i = 0; i < vhbd_ncmds; i++) {
		vhbd_reply_obj_begin(r, NULL);
		vhbd_reply_str(r, "command", vhbd_cmds[i].usage);
		vhbd_reply_str(r, "help", vhbd_cmds[i].help);
		vhbd_reply_obj_end(r);
	}
	vhbd_reply_list_end(r);
	vhbd_reply_text(r, "SIZE: a multiple of 4 KiB with a unit: 512M, 2G, 1536MiB. "
		"NAME: a VM name or socket path.\n");
}

static void
cmd_quit(struct vhbd_daemon *d, char **args, unsigned int nargs, struct vhbd_reply *r)
{
	(void)d;
	(void)args;
	(void)nargs;
	r->quit = true;
	vhbd_reply_bool(r, "bye", true);
}

const struct vhbd_cmd vhbd_cmds[] = {
	{ { "show", "devices" }, { 0 }, 0, "show devices",
	  "every device: state, guest memory, balloon target/actual, memory asked, regained and resident",
	  cmd_show_devices },
	{ { "show", "device" }, { VHBD_ARG_DEVICE }, 0, "show device NAME",
	  "one device in detail", cmd_show_device },
	{ { "show", "stats" }, { VHBD_ARG_DEVICE }, 0, "show stats NAME",
	  "the guest's memory statistics and their age", cmd_show_stats },
	{ { "show", "counters" }, { VHBD_ARG_DEVICE }, 0, "show counters NAME",
	  "the device's request, release and error counters", cmd_show_counters },
	{ { "show", "lcores" }, { 0 }, 0, "show lcores",
	  "poll lcores: devices, busy/idle share, polling mode, sleeps and wake-ups",
	  cmd_show_lcores },
	{ { "set", "target" }, { VHBD_ARG_DEVICE, VHBD_ARG_SIZE }, 0, "set target NAME SIZE",
	  "set the balloon size (memory taken from the guest)", cmd_set_target },
	{ { "set", "guest-size" }, { VHBD_ARG_DEVICE, VHBD_ARG_SIZE }, 0,
	  "set guest-size NAME SIZE",
	  "set the memory left to the guest (balloon = guest memory - SIZE)", cmd_set_guest_size },
	{ { "set", "stats-interval" }, { VHBD_ARG_DEVICE, VHBD_ARG_SECONDS }, 0,
	  "set stats-interval NAME SECONDS", "ask the guest for statistics this often (0: never)",
	  cmd_set_stats_interval },
	{ { "set", "poll-mode" }, { VHBD_ARG_POLL_MODE, VHBD_ARG_KEY, VHBD_ARG_VALUE,
	  VHBD_ARG_KEY, VHBD_ARG_VALUE, VHBD_ARG_KEY, VHBD_ARG_VALUE }, 6,
	  "set poll-mode MODE [idle-us N] [max-sleep-ms N] [lcore I]",
	  "how poll lcores wait for work: auto, adaptive, poll (busy) or interrupt; every lcore, "
	  "or lcore I", cmd_set_poll_mode, "idle-us#max-sleep-ms#lcore" },
	{ { "show", "metrics" }, { VHBD_ARG_FORMAT }, 1, "show metrics [FORMAT]",
	  "Prometheus metrics of every device and lcore; FORMAT openmetrics (default) or "
	  "prometheus (text 0.0.4)", cmd_show_metrics, "openmetrics#prometheus" },
	{ { "show", "policy" }, { 0 }, 0, "show policy",
	  "automatic balancing: mode, host signals, per VM signals, chosen target and why",
	  cmd_show_policy },
	{ { "set", "policy" }, { VHBD_ARG_KEY, VHBD_ARG_DEVICE, VHBD_ARG_KEY, VHBD_ARG_VALUE,
	  VHBD_ARG_KEY, VHBD_ARG_VALUE, VHBD_ARG_KEY, VHBD_ARG_VALUE }, 7,
	  "set policy on|off|advisory | vm NAME [min SIZE] [max SIZE] [weight N]",
	  "automatic balancing on, off or advisory (shows targets, sets none); a VM's bounds "
	  "and weight", cmd_set_policy, "on#off#advisory#vm#min#max#weight" },
	{ { "add", "socket" }, { VHBD_ARG_PATH, VHBD_ARG_NAME }, 1, "add socket PATH [VMNAME]",
	  "serve one more VM on a new vhost-user socket", cmd_add_socket },
	{ { "del", "socket" }, { VHBD_ARG_DEVICE }, 0, "del socket NAME",
	  "disconnect a VM and remove its socket", cmd_del_socket },
	{ { "help" }, { 0 }, 0, "help", "this list", cmd_help },
	{ { "quit" }, { 0 }, 0, "quit",
	  "CLI: stop the daemon; control socket: close this connection", cmd_quit },
};

const unsigned int vhbd_ncmds = sizeof(vhbd_cmds) / sizeof(vhbd_cmds[0]);

void
vhbd_cmd_run(struct vhbd_daemon *d, const struct vhbd_cmd *c, char **args, unsigned int nargs,
	struct vhbd_reply *r)
{
	pthread_mutex_lock(&d->cmd_lock);
	c->fn(d, args, nargs, r);
	pthread_mutex_unlock(&d->cmd_lock);
}

static unsigned int
cmd_nwords(const struct vhbd_cmd *c)
{
	unsigned int n = 0;

	while (n < VHBD_CMD_WORDS && c->words[n] != NULL)
		n++;
	return n;
}

static unsigned int
cmd_nargs(const struct vhbd_cmd *c)
{
	unsigned int n = 0;

	while (n < VHBD_CMD_ARGS && c->args[n] != VHBD_ARG_NONE)
		n++;
	return n;
}

int
vhbd_cmd_run_line(struct vhbd_daemon *d, const char *line, struct vhbd_reply *r)
{
	char buf[VHBD_LINE_MAX], *w[VHBD_CMD_WORDS + VHBD_CMD_ARGS + 1], *save, *tok;
	const struct vhbd_cmd *c, *prefix = NULL;
	unsigned int n = 0, i, j, nw, na;

	if (strlen(line) >= sizeof(buf)) {
		vhbd_reply_error(r, "too_long", "command longer than %d bytes", VHBD_LINE_MAX - 1);
		return -EINVAL;
	}
	strcpy(buf, line);
	for (tok = strtok_r(buf, " \t\r\n", &save); tok != NULL;
			tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 0 && tok[0] == '#')
			return 0;
		if (n == RTE_DIM(w)) {
			vhbd_reply_error(r, "bad_command", "too many words (see 'help')");
			return -EINVAL;
		}
		w[n++] = tok;
	}
	if (n == 0)
		return 0;
	for (i = 0; i < vhbd_ncmds; i++) {
		c = &vhbd_cmds[i];
		nw = cmd_nwords(c);
		na = cmd_nargs(c);
		for (j = 0; j < nw && j < n; j++) {
			if (strcmp(w[j], c->words[j]) != 0)
				break;
		}
		if (j < nw)
			continue;
		prefix = c;
		if (n - nw > na || n - nw < na - c->noptional)
			continue;
		vhbd_cmd_run(d, c, w + nw, n - nw, r);
		return 0;
	}
	if (prefix != NULL)
		vhbd_reply_error(r, "bad_command", "usage: %s", prefix->usage);
	else
		vhbd_reply_error(r, "bad_command", "unknown command '%s%s%s' (see 'help')", w[0],
			n > 1 ? " " : "", n > 1 ? w[1] : "");
	return -EINVAL;
}

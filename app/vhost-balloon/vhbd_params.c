/* SPDX-License-Identifier: BSD-3-Clause */
/* Daemon options and the INI config file (rte_cfgfile), with our own key/value checks. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>
#include <rte_common.h>

#include "vhost_balloon.h"
#include "vhbd_params.h"

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void
vhbd_params_defaults(struct vhbd_params *p)
{
	memset(p, 0, sizeof(*p));
	p->stats_interval = 10;
	p->socket_mode = 0660;
	p->socket_gid = -1;
	p->control_mode = VHBD_INHERIT;
	p->control_gid = VHBD_GID_INHERIT;
	/* The library's defaults (vhb_poll_params_default() needs the library linked). */
	p->poll.mode = VHB_POLL_AUTO;
	p->poll.idle_us = VHB_POLL_IDLE_US_DEFAULT;
	p->poll.max_sleep_ms = VHB_POLL_MAX_SLEEP_MS_DEFAULT;
	vhb_policy_params_default(&p->policy);
}

void
vhbd_default_name(const char *path, char *name, size_t len)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base == NULL ? path : base + 1;
	n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".sock") == 0)
		n -= 5;
	if (n >= len)
		n = len - 1;
	memcpy(name, base, n);
	name[n] = '\0';
}

int
vhbd_socket_path(const char *run_dir, const char *path, char *out, size_t len)
{
	int n;

	if (path[0] == '/' || run_dir == NULL || run_dir[0] == '\0')
		n = snprintf(out, len, "%s", path);
	else
		n = snprintf(out, len, "%s/%s", run_dir, path);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* VM names are used as command words and telemetry parameters: keep them plain. */
static bool
valid_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	}
	return true;
}

int
vhbd_add_vm(struct vhbd_params *p, const struct vhbd_vm *vm, char *err, size_t errlen)
{
	unsigned int i;

	if (vm->path[0] == '\0')
		return fail(err, errlen, "empty socket path");
	if (!valid_name(vm->name))
		return fail(err, errlen, "VM name '%s': use letters, digits, '-', '_' or '.'",
			vm->name);
	if (p->nvms == VHBD_MAX_VMS)
		return fail(err, errlen, "too many sockets (at most %u, what one process serves: "
			    "%s)", VHBD_MAX_VMS, VHBD_MORE_VMS);
	for (i = 0; i < p->nvms; i++) {
		if (strcmp(p->vms[i].name, vm->name) == 0)
			return fail(err, errlen, "VM name '%s' used twice", vm->name);
		if (strcmp(p->vms[i].path, vm->path) == 0)
			return fail(err, errlen, "socket '%s' used twice", vm->path);
	}
	p->vms[p->nvms++] = *vm;
	return 0;
}

static int
set_path(char *dst, size_t len, const char *src, const char *what, char *err, size_t errlen)
{
	if (src[0] == '\0')
		return fail(err, errlen, "%s: empty path", what);
	if (strlen(src) >= len)
		return fail(err, errlen, "%s: path longer than %zu characters", what, len - 1);
	strcpy(dst, src);
	return 0;
}

static int
parse_lcore(const char *s, unsigned int *lcore)
{
	uint64_t v;
	int ret;

	ret = vhbd_parse_u64(s, VHBD_MAX_LCORES - 1, &v);
	if (ret == 0)
		*lcore = v;
	return ret;
}

static int
parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;
	int ret;

	ret = vhbd_parse_u64(s, UINT32_MAX - 1, &v);
	if (ret == 0)
		*out = v;
	return ret;
}

static int
parse_group(const char *s, int *gid)
{
	struct group *gr;
	uint64_t v;

	if (vhbd_parse_u64(s, INT32_MAX, &v) == 0) {
		*gid = v;
		return 0;
	}
	gr = getgrnam(s);
	if (gr == NULL)
		return -ENOENT;
	*gid = gr->gr_gid;
	return 0;
}

/*
 * One per-VM key (shared by --socket's key=value list and [vm NAME] sections). On error the
 * message names the value; the caller prefixes where it came from.
 */
static int
vm_key(struct vhbd_vm *vm, const char *key, const char *val, bool allow_name,
	char *err, size_t errlen)
{
	char msg[160];
	uint64_t v;

	if (allow_name && strcmp(key, "name") == 0) {
		if (strlen(val) >= sizeof(vm->name))
			return fail(err, errlen, "name '%s' longer than %zu characters", val,
				sizeof(vm->name) - 1);
		if (!valid_name(val))
			return fail(err, errlen, "name '%s': use letters, digits, '-', '_' or '.'",
				val);
		strcpy(vm->name, val);
	} else if (strcmp(key, "features") == 0) {
		if (vhbd_parse_features(val, &vm->features, msg, sizeof(msg)) != 0)
			return fail(err, errlen, "features '%s': %s", val, msg);
	} else if (strcmp(key, "lcore") == 0) {
		if (parse_lcore(val, &vm->lcore) != 0)
			return fail(err, errlen, "lcore '%s': not an lcore id (0-%u)", val,
				VHBD_MAX_LCORES - 1);
	} else if (strcmp(key, "stats-interval") == 0) {
		if (parse_u32(val, &vm->stats_interval) != 0)
			return fail(err, errlen, "stats-interval '%s': not a number of seconds",
				val);
	} else if (strcmp(key, "policy-min") == 0 || strcmp(key, "policy-max") == 0) {
		if (vhbd_parse_size(val, key[8] == 'i' ? &vm->policy.min : &vm->policy.max) != 0)
			return fail(err, errlen, "%s '%s': give a size with a unit (e.g. 512M, "
				"2G)", key, val);
		if (vm->policy.max != 0 && vm->policy.min > vm->policy.max)
			return fail(err, errlen, "policy-min is above policy-max");
	} else if (strcmp(key, "policy-weight") == 0) {
		if (vhbd_parse_u64(val, 1000, &v) != 0 || v == 0)
			return fail(err, errlen, "policy-weight '%s': give a number 1-1000", val);
		vm->policy.weight = v;
	} else {
		return fail(err, errlen, "unknown key '%s' (expected %sfeatures, lcore, "
			"stats-interval, policy-min, policy-max, policy-weight)", key,
			allow_name ? "name, " : "socket, ");
	}
	return 0;
}

static void
vm_init(struct vhbd_vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->lcore = VHB_LCORE_ANY;
	vm->stats_interval = VHBD_INHERIT;
}

int
vhbd_add_socket_spec(struct vhbd_params *p, const char *spec, char *err, size_t errlen)
{
	char buf[512], msg[256];
	struct vhbd_vm vm;
	char *tok, *save, *eq;

	if (strlen(spec) >= sizeof(buf))
		return fail(err, errlen, "--socket: argument too long");
	strcpy(buf, spec);
	vm_init(&vm);
	tok = strtok_r(buf, ",", &save);
	if (tok == NULL || strchr(tok, '=') != NULL)
		return fail(err, errlen, "--socket '%s': starts with the socket path", spec);
	if (set_path(vm.path, sizeof(vm.path), tok, "--socket", err, errlen) != 0)
		return -EINVAL;
	vhbd_default_name(vm.path, vm.name, sizeof(vm.name));
	while ((tok = strtok_r(NULL, ",", &save)) != NULL) {
		eq = strchr(tok, '=');
		if (eq == NULL)
			return fail(err, errlen, "--socket '%s': '%s' is not key=value", spec, tok);
		*eq = '\0';
		if (vm_key(&vm, tok, eq + 1, true, msg, sizeof(msg)) != 0)
			return fail(err, errlen, "--socket '%s': %s", spec, msg);
	}
	if (vhbd_add_vm(p, &vm, msg, sizeof(msg)) != 0)
		return fail(err, errlen, "--socket '%s': %s", spec, msg);
	return 0;
}

/* One [daemon] key or daemon option; what names the option or the config key for errors. */
static int
daemon_key(struct vhbd_params *p, const char *key, const char *val, char *err, size_t errlen)
{
	uint64_t v;
	int n;

	if (strcmp(key, "stats-interval") == 0) {
		if (parse_u32(val, &p->stats_interval) != 0)
			return fail(err, errlen, "'%s' is not a number of seconds", val);
	} else if (strcmp(key, "socket-mode") == 0) {
		if (vhbd_parse_mode(val, &p->socket_mode) != 0)
			return fail(err, errlen, "'%s' is not an octal mode (e.g. 0660)", val);
	} else if (strcmp(key, "socket-group") == 0) {
		if (parse_group(val, &p->socket_gid) != 0)
			return fail(err, errlen, "no group '%s'", val);
	} else if (strcmp(key, "control-mode") == 0) {
		if (vhbd_parse_mode(val, &p->control_mode) != 0)
			return fail(err, errlen, "'%s' is not an octal mode (e.g. 0600)", val);
	} else if (strcmp(key, "control-group") == 0) {
		if (parse_group(val, &p->control_gid) != 0)
			return fail(err, errlen, "no group '%s'", val);
	} else if (strcmp(key, "control") == 0) {
		return set_path(p->control, sizeof(p->control), val, "control socket", err, errlen);
	} else if (strcmp(key, "run-dir") == 0) {
		return set_path(p->run_dir, sizeof(p->run_dir), val, "run dir", err, errlen);
	} else if (strcmp(key, "metrics-listen") == 0) {
		if (val[0] == '\0' || strcmp(val, "off") == 0) {
			p->metrics_host[0] = '\0';
			p->metrics_port = 0;
		} else if (vhbd_parse_listen(val, p->metrics_host, sizeof(p->metrics_host),
				&p->metrics_port) != 0) {
			p->metrics_host[0] = '\0';
			return fail(err, errlen, "'%s' is not an address to listen on (PORT, "
				"HOST:PORT or [IPV6]:PORT; port 1-65535)", val);
		}
	} else if (strcmp(key, "poll-lcores") == 0) {
		n = vhbd_parse_lcore_list(val, p->poll_lcores, VHBD_MAX_LCORES);
		if (n < 0)
			return fail(err, errlen, "'%s' is not an lcore list (e.g. 1,2 or 1-3; ids "
				"0-%u, no repeats)", val, VHBD_MAX_LCORES - 1);
		p->npoll_lcores = n;
	} else if (strcmp(key, "poll-mode") == 0) {
		if (vhbd_parse_poll_mode(val, &p->poll.mode) != 0)
			return fail(err, errlen, "'%s' is not a polling mode (auto, adaptive, "
				"poll or interrupt)", val);
	} else if (strcmp(key, "poll-idle-us") == 0) {
		if (vhbd_parse_u64(val, UINT32_MAX, &v) != 0)
			return fail(err, errlen, "'%s' is not a number of microseconds (0-%u)",
				val, UINT32_MAX);
		p->poll.idle_us = v;
	} else if (strcmp(key, "poll-max-sleep-ms") == 0) {
		if (vhbd_parse_u64(val, VHBD_MAX_SLEEP_MS_MAX, &v) != 0 || v == 0)
			return fail(err, errlen, "'%s' is not a number of milliseconds (1-%u)",
				val, VHBD_MAX_SLEEP_MS_MAX);
		p->poll.max_sleep_ms = v;
	} else {
		return fail(err, errlen, "unknown key '%s' (expected control, run-dir, "
			"metrics-listen, stats-interval, socket-mode, socket-group, control-mode, "
			"control-group, poll-lcores, poll-mode, poll-idle-us, poll-max-sleep-ms)",
			key);
	}
	return 0;
}

/* A percentage with decimals, 0-100 ("12.5"). */
static int
parse_pct(const char *s, double *out)
{
	char *end;
	double v;

	if (*s == '\0' || *s == '-' || *s == '+')
		return -EINVAL;
	v = strtod(s, &end);
	if (*end != '\0' || !(v >= 0.0 && v <= 100.0))
		return -EINVAL;
	*out = v;
	return 0;
}

/* One [policy] key (docs/policy.md#knobs); --policy is its "mode". */
int
vhbd_policy_key(struct vhb_policy_params *pp, const char *key, const char *val, char *err,
	size_t errlen)
{
	static const struct {
		const char *key;
		size_t off;
		bool zero_ok;
	} sizes[] = {
		{ "host-low", offsetof(struct vhb_policy_params, host_low), true },
		{ "host-high", offsetof(struct vhb_policy_params, host_high), true },
		{ "step", offsetof(struct vhb_policy_params, step), false },
		{ "give-back", offsetof(struct vhb_policy_params, give_back), false },
		{ "deflate", offsetof(struct vhb_policy_params, deflate), false },
		{ "swap-in", offsetof(struct vhb_policy_params, swap_in), true },
	};
	static const struct {
		const char *key;
		size_t off;
		uint64_t min, max;
		const char *what;
	} nums[] = {
		{ "interval-ms", offsetof(struct vhb_policy_params, interval_ms), 100, 3600000,
		  "milliseconds" },
		{ "reserve-pct", offsetof(struct vhb_policy_params, reserve_pct), 0, 90, "percent" },
		{ "min-pct", offsetof(struct vhb_policy_params, min_pct), 0, 100, "percent" },
		{ "weight", offsetof(struct vhb_policy_params, weight), 1, 1000, "weight" },
		{ "stale-s", offsetof(struct vhb_policy_params, stale_s), 1, 86400, "seconds" },
		{ "hold-s", offsetof(struct vhb_policy_params, hold_s), 0, 86400, "seconds" },
	};
	unsigned int i;
	uint64_t v;

	if (strcmp(key, "mode") == 0) {
		if (vhb_policy_mode_parse(val, &pp->mode) != 0)
			return fail(err, errlen, "'%s' is not a policy mode (off, advisory or on)",
				val);
		return 0;
	}
	for (i = 0; i < RTE_DIM(sizes); i++) {
		if (strcmp(key, sizes[i].key) != 0)
			continue;
		if (vhbd_parse_size(val, &v) != 0 || (v == 0 && !sizes[i].zero_ok))
			return fail(err, errlen, "'%s' is not a size with a unit (e.g. 64M, 2G%s)",
				val, sizes[i].zero_ok ? ", or 0" : "");
		*(uint64_t *)((char *)pp + sizes[i].off) = v;
		return 0;
	}
	for (i = 0; i < RTE_DIM(nums); i++) {
		if (strcmp(key, nums[i].key) != 0)
			continue;
		if (vhbd_parse_u64(val, nums[i].max, &v) != 0 || v < nums[i].min)
			return fail(err, errlen, "'%s' is not a number of %s (%" PRIu64 "-%"
				PRIu64 ")", val, nums[i].what, nums[i].min, nums[i].max);
		*(uint32_t *)((char *)pp + nums[i].off) = v;
		return 0;
	}
	if (strcmp(key, "psi-some") == 0 || strcmp(key, "psi-full") == 0) {
		if (parse_pct(val, key[4] == 's' ? &pp->psi_some : &pp->psi_full) != 0)
			return fail(err, errlen, "'%s' is not a percentage (0-100; 0: ignore PSI)",
				val);
	} else if (strcmp(key, "major-faults") == 0) {
		if (vhbd_parse_u64(val, UINT64_MAX - 1, &pp->major_faults) != 0)
			return fail(err, errlen, "'%s' is not a number of faults", val);
	} else if (strcmp(key, "meminfo") == 0) {
		return set_path(pp->meminfo_path, sizeof(pp->meminfo_path), val, "meminfo", err,
			errlen);
	} else if (strcmp(key, "psi") == 0) {
		return set_path(pp->psi_path, sizeof(pp->psi_path), val, "psi", err, errlen);
	} else {
		return fail(err, errlen, "unknown key '%s' (expected mode, interval-ms, host-low, "
			"host-high, psi-some, psi-full, reserve-pct, min-pct, weight, step, "
			"give-back, deflate, stale-s, hold-s, swap-in, major-faults, meminfo, psi)",
			key);
	}
	return 0;
}

/* Strip a line for the syntax pre-scan: a comment after '#', blanks around. */
static char *
strip_line(char *s)
{
	char *e;

	s[strcspn(s, "#\r\n")] = '\0';
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * Line of "key" in "[section]" (or of the section header when key is NULL); 0 if not found.
 * rte_cfgfile keeps no line numbers, so errors found after loading look the line up here.
 */
static unsigned int
config_line(const char *path, const char *section, const char *key)
{
	unsigned int line = 0, found = 0;
	bool in_section = false;
	char buf[1024], *s, *e;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (found == 0 && fgets(buf, sizeof(buf), f) != NULL) {
		line++;
		s = strip_line(buf);
		if (*s == '[') {
			e = strchr(s, ']');
			if (e != NULL)
				*e = '\0';
			s = strip_line(s + 1);
			in_section = strcmp(s, section) == 0;
			if (in_section && key == NULL)
				found = line;
			continue;
		}
		if (!in_section || key == NULL)
			continue;
		e = strchr(s, '=');
		if (e == NULL)
			continue;
		*e = '\0';
		if (strcmp(strip_line(s), key) == 0)
			found = line;
	}
	fclose(f);
	return found;
}

/* Syntax check with line numbers before rte_cfgfile_load(), which reports none to us. */
static int
config_prescan(const char *path, char *err, size_t errlen)
{
	bool section = false;
	unsigned int line = 0;
	char buf[1024], *s;
	int ret = 0;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL) {
		ret = -errno;
		fail(err, errlen, "config %s: %s", path, strerror(-ret));
		return ret;
	}
	while (ret == 0 && fgets(buf, sizeof(buf), f) != NULL) {
		line++;
		if (strchr(buf, '\n') == NULL && !feof(f)) {
			ret = fail(err, errlen, "%s:%u: line too long", path, line);
			break;
		}
		s = strip_line(buf);
		if (*s == '\0')
			continue;
		if (*s == '[') {
			if (s[strlen(s) - 1] != ']' || strlen(s) < 3)
				ret = fail(err, errlen, "%s:%u: bad section header '%s'", path,
					line, s);
			else if (strlen(s) - 2 >= CFG_NAME_LEN)
				ret = fail(err, errlen, "%s:%u: section name too long", path, line);
			section = true;
		} else if (!section) {
			ret = fail(err, errlen, "%s:%u: '%s' outside any [section]", path, line, s);
		} else if (strchr(s, '=') == NULL) {
			ret = fail(err, errlen, "%s:%u: '%s' is not key = value", path, line, s);
		} else if (s[0] == '=') {
			ret = fail(err, errlen, "%s:%u: missing key before '='", path, line);
		} else if (*strip_line(strchr(s, '=') + 1) == '\0') {
			*strchr(s, '=') = '\0';
			ret = fail(err, errlen, "%s:%u: empty value for '%s'", path, line,
				strip_line(s));
		} else if (strlen(strchr(s, '=') + 1) >= CFG_VALUE_LEN) {
			ret = fail(err, errlen, "%s:%u: value too long", path, line);
		}
	}
	fclose(f);
	return ret;
}

static int
config_section(struct rte_cfgfile *cfg, const char *path, const char *sec,
	struct vhbd_params *p, char *err, size_t errlen)
{
	struct rte_cfgfile_entry *ent = NULL;
	bool is_daemon = strcmp(sec, "daemon") == 0;
	bool is_policy = strcmp(sec, "policy") == 0;
	char msg[256];
	struct vhbd_vm vm;
	int n, i, j, ret = 0;

	if (!is_daemon && !is_policy) {
		if (strncmp(sec, "vm ", 3) != 0 || !valid_name(sec + 3))
			return fail(err, errlen, "%s:%u: unknown section [%s] (expected [daemon], "
				"[policy] or [vm NAME], NAME of letters, digits, '-', '_', '.')", path,
				config_line(path, sec, NULL), sec);
		vm_init(&vm);
		snprintf(vm.name, sizeof(vm.name), "%s", sec + 3);
	}
	n = rte_cfgfile_section_num_entries(cfg, sec);
	if (n < 0)
		return fail(err, errlen, "%s: cannot read [%s]", path, sec);
	ent = calloc(n + 1, sizeof(*ent));
	if (ent == NULL)
		return -ENOMEM;
	n = rte_cfgfile_section_entries(cfg, sec, ent, n);
	for (i = 0; i < n && ret == 0; i++) {
		for (j = 0; j < i; j++) {
			if (strcmp(ent[i].name, ent[j].name) == 0)
				break;
		}
		if (j < i) {
			ret = fail(err, errlen, "%s:%u: [%s] %s given twice", path,
				config_line(path, sec, ent[i].name), sec, ent[i].name);
			break;
		}
		if (is_daemon)
			ret = daemon_key(p, ent[i].name, ent[i].value, msg, sizeof(msg));
		else if (is_policy)
			ret = vhbd_policy_key(&p->policy, ent[i].name, ent[i].value, msg,
				sizeof(msg));
		else if (strcmp(ent[i].name, "socket") == 0)
			ret = set_path(vm.path, sizeof(vm.path), ent[i].value, "socket", msg,
				sizeof(msg));
		else
			ret = vm_key(&vm, ent[i].name, ent[i].value, false, msg, sizeof(msg));
		if (ret != 0)
			ret = fail(err, errlen, "%s:%u: [%s] %s: %s", path,
				config_line(path, sec, ent[i].name), sec, ent[i].name, msg);
	}
	free(ent);
	if (ret != 0 || is_daemon || is_policy)
		return ret;
	if (vm.path[0] == '\0')
		return fail(err, errlen, "%s:%u: [%s] has no 'socket = PATH'", path,
			config_line(path, sec, NULL), sec);
	if (vhbd_add_vm(p, &vm, msg, sizeof(msg)) != 0)
		return fail(err, errlen, "%s:%u: [%s] %s", path, config_line(path, sec, NULL),
			sec, msg);
	return 0;
}

int
vhbd_load_config(const char *path, struct vhbd_params *p, char *err, size_t errlen)
{
	struct rte_cfgfile_parameters cfp = { .comment_character = '#' };
	struct rte_cfgfile *cfg;
	char **names = NULL;
	int i, n, ret;

	ret = config_prescan(path, err, errlen);
	if (ret != 0)
		return ret;
	cfg = rte_cfgfile_load_with_params(path, 0, &cfp);
	if (cfg == NULL)
		return fail(err, errlen, "config %s: rte_cfgfile could not parse it", path);
	n = rte_cfgfile_num_sections(cfg, NULL, 0);
	names = calloc(n + 1, sizeof(*names));
	if (names == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		names[i] = malloc(CFG_NAME_LEN);
		if (names[i] == NULL) {
			ret = -ENOMEM;
			goto out;
		}
	}
	n = rte_cfgfile_sections(cfg, names, n);
	for (i = 0; i < n && ret == 0; i++)
		ret = config_section(cfg, path, names[i], p, err, errlen);
out:
	if (names != NULL) {
		for (i = 0; names[i] != NULL; i++)
			free(names[i]);
		free(names);
	}
	rte_cfgfile_close(cfg);
	if (ret == -ENOMEM)
		fail(err, errlen, "config %s: out of memory", path);
	return ret;
}

enum {
	OPT_SOCKET = 256,
	OPT_POLL_LCORES,
	OPT_STATS_INTERVAL,
	OPT_SOCKET_MODE,
	OPT_SOCKET_GROUP,
	OPT_CONTROL,
	OPT_RUN_DIR,
	OPT_CMDLINE_FILE,
	OPT_CONFIG,
	OPT_POLL_MODE,
	OPT_POLL_IDLE_US,
	OPT_POLL_MAX_SLEEP_MS,
	OPT_METRICS_LISTEN,
	OPT_CONTROL_MODE,
	OPT_CONTROL_GROUP,
	OPT_POLICY,
};

static const struct option long_opts[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "poll-lcores", required_argument, NULL, OPT_POLL_LCORES },
	{ "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
	{ "socket-mode", required_argument, NULL, OPT_SOCKET_MODE },
	{ "socket-group", required_argument, NULL, OPT_SOCKET_GROUP },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "run-dir", required_argument, NULL, OPT_RUN_DIR },
	{ "cmdline-file", required_argument, NULL, OPT_CMDLINE_FILE },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "poll-mode", required_argument, NULL, OPT_POLL_MODE },
	{ "poll-idle-us", required_argument, NULL, OPT_POLL_IDLE_US },
	{ "poll-max-sleep-ms", required_argument, NULL, OPT_POLL_MAX_SLEEP_MS },
	{ "metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN },
	{ "control-mode", required_argument, NULL, OPT_CONTROL_MODE },
	{ "control-group", required_argument, NULL, OPT_CONTROL_GROUP },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "interactive", no_argument, NULL, 'i' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char *
opt_name(int opt)
{
	unsigned int i;

	for (i = 0; long_opts[i].name != NULL; i++) {
		if (long_opts[i].val == opt)
			return long_opts[i].name;
	}
	return "?";
}

int
vhbd_parse_args(int argc, char **argv, struct vhbd_params *p, char *err, size_t errlen)
{
	char msg[256];
	int opt, ret, pass;

	/* Pass 0 loads --config so that pass 1's options override the file. */
	for (pass = 0; pass < 2; pass++) {
		optind = 0;	/* glibc: full re-initialisation, also between test cases */
		opterr = 0;
		while ((opt = getopt_long(argc, argv, ":ih", long_opts, NULL)) != -1) {
			ret = 0;
			if (opt == '?') {
				if (optopt != 0 && optopt < 256)
					return fail(err, errlen,
						"unknown option '-%c' (see --help)", optopt);
				return fail(err, errlen, "unknown option '%s' (see --help)",
					argv[optind - 1]);
			}
			if (opt == ':')
				return fail(err, errlen, "option '--%s' needs a value",
					opt_name(optopt));
			if (pass == 0) {
				if (opt == OPT_CONFIG) {
					if (p->config[0] != '\0')
						return fail(err, errlen, "--config given twice");
					if (set_path(p->config, sizeof(p->config), optarg,
							"--config", err, errlen) != 0)
						return -EINVAL;
					ret = vhbd_load_config(optarg, p, err, errlen);
					if (ret != 0)
						return ret;
				}
				continue;
			}
			switch (opt) {
			case OPT_SOCKET:
				ret = vhbd_add_socket_spec(p, optarg, err, errlen);
				break;
			case OPT_POLL_LCORES:
			case OPT_STATS_INTERVAL:
			case OPT_SOCKET_MODE:
			case OPT_SOCKET_GROUP:
			case OPT_CONTROL:
			case OPT_RUN_DIR:
			case OPT_POLL_MODE:
			case OPT_POLL_IDLE_US:
			case OPT_POLL_MAX_SLEEP_MS:
			case OPT_METRICS_LISTEN:
			case OPT_CONTROL_MODE:
			case OPT_CONTROL_GROUP:
				ret = daemon_key(p, opt_name(opt), optarg, msg, sizeof(msg));
				if (ret != 0)
					return fail(err, errlen, "--%s: %s", opt_name(opt), msg);
				break;
			case OPT_POLICY:
				ret = vhbd_policy_key(&p->policy, "mode", optarg, msg, sizeof(msg));
				if (ret != 0)
					return fail(err, errlen, "--policy: %s", msg);
				break;
			case OPT_CMDLINE_FILE:
				ret = set_path(p->cmdline_file, sizeof(p->cmdline_file), optarg,
					"--cmdline-file", err, errlen);
				break;
			case 'i':
				p->interactive = true;
				break;
			case 'h':
				p->help = true;
				break;
			default:
				break;
			}
			if (ret != 0)
				return ret;
		}
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument '%s' (options start with --)",
			argv[optind]);
	return 0;
}

void
vhbd_usage(const char *prog)
{
	printf("Usage: %s [EAL options] -- [options]\n"
		"  --socket PATH[,name=VM][,features=F+F..][,lcore=N][,stats-interval=S]\n"
		"                          [,policy-min=SIZE][,policy-max=SIZE][,policy-weight=N]\n"
		"                          serve one VM on vhost-user socket PATH (repeatable);\n"
		"                          F: must-tell-host stats deflate-on-oom page-poison\n"
		"                          reporting, or 'default'\n"
		"  --config FILE           INI file: [daemon] and one [vm NAME] per socket\n"
		"  --run-dir DIR           base of relative socket paths (created if missing)\n"
		"  --poll-lcores LIST      worker lcores that poll devices (default: all)\n"
		"  --poll-mode MODE        auto (default): poll through short gaps between\n"
		"                          requests, sleep on kicks through long ones;\n"
		"                          adaptive: poll, sleep after --poll-idle-us idle;\n"
		"                          poll: always busy; interrupt: sleep whenever idle\n"
		"  --poll-idle-us N        adaptive: sleep after N us without work; auto: poll\n"
		"                          at most N us between requests (default 1000)\n"
		"  --poll-max-sleep-ms N   longest sleep, 1-3600000 ms (default 1000)\n"
		"  --stats-interval S      ask guests for memory stats every S s (0: never)\n"
		"  --socket-mode MODE      permission bits of the sockets (default 0660)\n"
		"  --socket-group GROUP    group owning the sockets\n"
		"  --control PATH          control socket (one command per line, JSON replies)\n"
		"  --control-mode MODE     its permission bits (default: --socket-mode)\n"
		"  --control-group GROUP   its group (default: --socket-group)\n"
		"  --metrics-listen [HOST:]PORT\n"
		"                          serve Prometheus metrics over HTTP (GET /metrics);\n"
		"                          HOST defaults to 127.0.0.1 (default: off)\n"
		"  --policy MODE           automatic balancing: off (default), advisory, on;\n"
		"                          knobs in the config file's [policy] (docs/policy.md)\n"
		"  -i, --interactive       interactive command line\n"
		"  --cmdline-file FILE     run the commands in FILE at start\n"
		"  -h, --help              this text\n"
		"Docs: docs/running.md, docs/cli.md, docs/control-socket.md, docs/metrics.md,\n"
		"      docs/policy.md\n", prog);
}

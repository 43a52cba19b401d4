/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus metrics, rendered from snapshots taken through the public API: every family is
 * written whole (all its samples together), as both text formats require. Device snapshots
 * are taken first, so a family never mixes two moments of the same device.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vhost_balloon.h"
#include "vhb_metrics.h"

#ifndef VHB_VERSION
#define VHB_VERSION "unknown"
#endif

#define PFX	"vhost_balloon_"

struct mbuf {
	char *p;
	size_t len, cap;
	bool oom;
	enum vhb_metrics_format fmt;
};

struct dev_snap {
	struct vhb_device_info in;
	struct vhb_device_counters c;
	struct vhb_guest_stats gs;
	bool have_c, have_gs;
};

struct snap {
	struct dev_snap *dev;
	unsigned int ndev, cap;
};

static void
put(struct mbuf *b, const char *s, size_t n)
{
	size_t cap;
	char *nb;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap == 0 ? 16384 : b->cap;
		while (cap < b->len + n + 1)
			cap *= 2;
		nb = realloc(b->p, cap);
		if (nb == NULL) {
			b->oom = true;
			return;
		}
		b->p = nb;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
puts_(struct mbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
putf(struct mbuf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A label value or HELP text: backslash, newline (and in labels the quote) escaped. */
static void
put_escaped(struct mbuf *b, const char *s, bool quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			puts_(b, "\\\\");
		else if (*s == '\n')
			puts_(b, "\\n");
		else if (*s == '"' && quote)
			puts_(b, "\\\"");
		else
			put(b, s, 1);
	}
}

enum mtype { M_GAUGE, M_COUNTER, M_INFO, M_STATESET };

/*
 * The metadata of one family. OpenMetrics: TYPE, UNIT, HELP on the family name (counters'
 * samples add _total, infos' _info). Prometheus 0.0.4 knows neither UNIT nor info and
 * stateset (gauges there) and names a counter by its sample name.
 */
static void
family(struct mbuf *b, const char *name, enum mtype t, const char *unit, const char *help)
{
	static const char *const om_type[] = { "gauge", "counter", "info", "stateset" };
	const char *sfx = "";

	if (b->fmt == VHB_METRICS_OPENMETRICS) {
		putf(b, "# TYPE %s%s %s\n", PFX, name, om_type[t]);
		if (unit != NULL)
			putf(b, "# UNIT %s%s %s\n", PFX, name, unit);
	} else {
		if (t == M_COUNTER)
			sfx = "_total";
		else if (t == M_INFO)
			sfx = "_info";
		putf(b, "# TYPE %s%s%s %s\n", PFX, name, sfx, t == M_COUNTER ? "counter" : "gauge");
	}
	putf(b, "# HELP %s%s%s ", PFX, name, sfx);
	put_escaped(b, help, false);
	puts_(b, "\n");
}

/* Start a sample: name, suffix, '{'. Labels follow with label(), then value_*(). */
static void
sample(struct mbuf *b, const char *name, const char *sfx)
{
	putf(b, "%s%s%s{", PFX, name, sfx);
}

static void
label(struct mbuf *b, bool first, const char *key, const char *val)
{
	if (!first)
		puts_(b, ",");
	puts_(b, key);
	puts_(b, "=\"");
	put_escaped(b, val, true);
	puts_(b, "\"");
}

static void
value_u64(struct mbuf *b, uint64_t v)
{
	putf(b, "} %" PRIu64 "\n", v);
}

static void
value_f(struct mbuf *b, double v)
{
	putf(b, "} %.6f\n", v);
}

static void
label_vm(struct mbuf *b, const struct dev_snap *d)
{
	label(b, true, "vm", d->in.name);
}

static void
label_lcore(struct mbuf *b, unsigned int id)
{
	char s[16];

	snprintf(s, sizeof(s), "%u", id);
	label(b, true, "lcore", s);
}

static int
snap_one(struct vhb_device *dev, void *arg)
{
	struct snap *s = arg;
	struct dev_snap *d;
	unsigned int cap;

	if (s->ndev == s->cap) {
		cap = s->cap == 0 ? 16 : s->cap * 2;
		d = realloc(s->dev, cap * sizeof(*d));
		if (d == NULL)
			return -ENOMEM;
		s->dev = d;
		s->cap = cap;
	}
	d = &s->dev[s->ndev];
	memset(d, 0, sizeof(*d));
	if (vhb_device_get_info(dev, &d->in) != 0)
		return 0;	/* going away: leave it out */
	d->have_c = vhb_device_get_counters(dev, &d->c) == 0;
	d->have_gs = vhb_device_get_guest_stats(dev, &d->gs) == 0;
	s->ndev++;
	return 0;
}

/* Device gauges of struct vhb_device_info. */
enum dev_field {
	F_GUEST_MEM, F_TARGET, F_ACTUAL, F_IN_BALLOON, F_PAGE_SIZE, F_ASKED, F_REGAINED, F_RESIDENT,
};

static uint64_t
dev_field(const struct vhb_device_info *in, enum dev_field f)
{
	switch (f) {
	case F_GUEST_MEM: return in->guest_mem_bytes;
	case F_TARGET: return (uint64_t)in->num_pages * VHB_PFN_SIZE;
	case F_ACTUAL: return (uint64_t)in->actual * VHB_PFN_SIZE;
	case F_IN_BALLOON: return in->pages_in_balloon * VHB_PFN_SIZE;
	case F_PAGE_SIZE: return in->backing_page_size;
	case F_ASKED: return in->bytes_release_asked;
	case F_REGAINED: return in->bytes_regained;
	case F_RESIDENT: return in->host_resident_bytes;
	}
	return 0;
}

/*
 * name: the per-device gauge (NULL: the counter table already has it per device);
 * all_name/all_help: the sum over the devices present (NULL: none).
 */
static const struct {
	enum dev_field f;
	const char *name, *help, *all_name, *all_help;
} dev_gauges[] = {
	{ F_GUEST_MEM, "guest_memory_bytes", "Guest memory mapped by the frontend",
	  "all_guest_memory_bytes", "Guest memory of all devices" },
	{ F_TARGET, "target_bytes", "Balloon target: memory asked back from the guest",
	  "all_target_bytes", "Balloon targets of all devices" },
	{ F_ACTUAL, "actual_bytes", "Balloon size the guest driver last reported",
	  "all_actual_bytes", "Balloon sizes the guests reported, all devices" },
	{ F_IN_BALLOON, "in_balloon_bytes", "Memory the backend counts in the balloon",
	  "all_in_balloon_bytes", "Memory in the balloons of all devices" },
	{ F_PAGE_SIZE, "backing_page_size_bytes", "Largest host page size of the guest memory",
	  NULL, NULL },
	{ F_ASKED, NULL, NULL, "all_release_asked_bytes",
	  "Memory the devices present asked the kernel to release (holes again included)" },
	{ F_REGAINED, NULL, NULL, "all_regained_bytes",
	  "Host memory the devices present really got back (inflate and free page reporting)" },
	{ F_RESIDENT, NULL, NULL, "all_host_resident_bytes",
	  "Guest RAM of the devices present allocated on the host now" },
};

/* Counters of struct vhb_device_counters that go up and down: gauges, not counters. */
static const char *const gauge_counters[] = {
	"host_resident_bytes",
};

static const struct {
	const char *counter, *help;
} counter_help[] = {
	{ "inflate_requests", "Inflate requests served" },
	{ "deflate_requests", "Deflate requests served" },
	{ "report_requests", "Free page reports served" },
	{ "stats_updates", "Guest statistics buffers received" },
	{ "pfns_inflated", "4 KiB pages the guest put in the balloon" },
	{ "pfns_deflated", "4 KiB pages the guest took out of the balloon" },
	{ "pfns_duplicate", "Inflated pages that were already in the balloon" },
	{ "pfns_out_of_range", "Page numbers outside guest memory (dropped)" },
	{ "host_pages_released", "Host pages in release calls" },
	{ "bytes_release_asked", "Memory the backend asked the kernel to release (inflate and "
	  "free page reporting; a range that was already a hole counts again)" },
	{ "bytes_regained", "Host memory really given back: what the guest memory files' "
	  "allocation fell by across the releases" },
	{ "release_calls", "Release system calls" },
	{ "release_errors", "Release system calls that failed" },
	{ "inflate_bytes_release_asked", "Memory inflate requests asked the kernel to release" },
	{ "inflate_bytes_regained", "Host memory inflate requests really got back" },
	{ "report_bytes_release_asked", "Memory free page reports asked the kernel to release" },
	{ "report_bytes_regained", "Host memory free page reports really got back" },
	{ "report_bytes_skipped", "Reported memory not released (partial host pages)" },
	{ "report_skipped_poison", "Reports not released because of page poisoning" },
	{ "guest_errors", "Guest protocol violations (queue or device stopped)" },
	{ "config_changes_sent", "Config-change notifications sent to the frontend" },
	{ "get_config", "GET_CONFIG messages from the frontend" },
	{ "set_config", "SET_CONFIG messages from the frontend" },
	{ "guest_notifications", "Interrupts sent to the guest" },
	{ "stats_bad_length", "Statistics buffers that were not whole entries" },
	{ "host_resident_bytes", "Guest RAM allocated on the host now (allocated blocks of the "
	  "guest memory files, each file once)" },
};

/*
 * Metric name of a counter: characters outside [a-z0-9_] become '_', and a "bytes" word
 * moves to the end as the unit. Returns whether the name has the bytes unit.
 */
static bool
counter_metric_name(const char *counter, char *out, size_t len)
{
	char buf[96], *w, *save;
	bool bytes = false;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", counter);
	for (i = 0; buf[i] != '\0'; i++) {
		if (buf[i] >= 'A' && buf[i] <= 'Z')
			buf[i] = buf[i] - 'A' + 'a';
		else if (!((buf[i] >= 'a' && buf[i] <= 'z') || (buf[i] >= '0' && buf[i] <= '9')))
			buf[i] = '_';
	}
	out[0] = '\0';
	for (w = strtok_r(buf, "_", &save); w != NULL; w = strtok_r(NULL, "_", &save)) {
		if (strcmp(w, "bytes") == 0) {
			bytes = true;
			continue;
		}
		if (out[0] != '\0')
			strncat(out, "_", len - strlen(out) - 1);
		strncat(out, w, len - strlen(out) - 1);
	}
	if (bytes)
		strncat(out, out[0] != '\0' ? "_bytes" : "bytes", len - strlen(out) - 1);
	return bytes;
}

static void
device_counters(struct mbuf *b, const struct snap *s)
{
	const struct vhb_counter_name *names = vhb_device_counter_names(NULL);
	unsigned int i, j, k, n;
	char name[128], help[160];
	const char *h;
	bool bytes, gauge;

	vhb_device_counter_names(&n);
	for (i = 0; i < n; i++) {
		bytes = counter_metric_name(names[i].name, name, sizeof(name));
		gauge = false;
		for (j = 0; j < sizeof(gauge_counters) / sizeof(gauge_counters[0]); j++)
			gauge |= strcmp(names[i].name, gauge_counters[j]) == 0;
		h = NULL;
		for (j = 0; j < sizeof(counter_help) / sizeof(counter_help[0]); j++) {
			if (strcmp(names[i].name, counter_help[j].counter) == 0)
				h = counter_help[j].help;
		}
		if (h == NULL) {
			snprintf(help, sizeof(help), "Device counter %s (show counters)",
				 names[i].name);
			h = help;
		}
		family(b, name, gauge ? M_GAUGE : M_COUNTER, bytes ? "bytes" : NULL, h);
		for (k = 0; k < s->ndev; k++) {
			if (!s->dev[k].have_c)
				continue;
			sample(b, name, gauge ? "" : "_total");
			label_vm(b, &s->dev[k]);
			value_u64(b, *(const uint64_t *)((const char *)&s->dev[k].c +
							 names[i].offset));
		}
	}
}

/* Guest statistics: memory sizes are gauges, the rest are event counts since guest boot. */
static void
guest_stats(struct mbuf *b, const struct snap *s, uint64_t now_ns)
{
	char name[96], help[160];
	const char *stat, *unit;
	unsigned int i, k, c;
	bool gauge, any;
	size_t len;

	for (i = 0; i < VHB_GUEST_STAT_NR; i++) {
		any = false;
		for (k = 0; k < s->ndev; k++)
			any |= s->dev[k].have_gs && (s->dev[k].gs.valid & (1u << i)) != 0;
		if (!any)
			continue;
		stat = vhb_guest_stat_name(i);
		len = strlen(stat);
		gauge = (len > 7 && strcmp(stat + len - 7, "-memory") == 0) ||
			(len > 7 && strcmp(stat + len - 7, "-caches") == 0);
		unit = gauge || strncmp(stat, "swap-", 5) == 0 ? "bytes" : NULL;
		snprintf(name, sizeof(name), "guest_%s%s", stat, unit != NULL ? "_bytes" : "");
		for (c = 0; name[c] != '\0'; c++) {
			if (name[c] == '-')
				name[c] = '_';
		}
		snprintf(help, sizeof(help), "Guest statistic %s as the guest last reported it%s",
			 stat, gauge ? "" : " (since guest boot)");
		family(b, name, gauge ? M_GAUGE : M_COUNTER, unit, help);
		for (k = 0; k < s->ndev; k++) {
			if (!s->dev[k].have_gs || (s->dev[k].gs.valid & (1u << i)) == 0)
				continue;
			sample(b, name, gauge ? "" : "_total");
			label_vm(b, &s->dev[k]);
			value_u64(b, s->dev[k].gs.val[i]);
		}
	}
	family(b, "guest_stats_age_seconds", M_GAUGE, "seconds",
	       "Time since the guest last sent statistics");
	for (k = 0; k < s->ndev; k++) {
		const struct vhb_guest_stats *gs = &s->dev[k].gs;

		if (!s->dev[k].have_gs || gs->updated_ns == 0)
			continue;
		sample(b, "guest_stats_age_seconds", "");
		label_vm(b, &s->dev[k]);
		value_f(b, now_ns > gs->updated_ns ? (now_ns - gs->updated_ns) / 1e9 : 0.0);
	}
}

static void
devices(struct mbuf *b, const struct snap *s)
{
	static const enum vhb_device_state states[] = {
		VHB_DEV_LISTENING, VHB_DEV_CONNECTED, VHB_DEV_RUNNING, VHB_DEV_BROKEN,
	};
	char feat[160], num[16];
	unsigned int i, j, k, bit;
	size_t n;

	family(b, "device", M_INFO, NULL, "A device (one VM's vhost-user socket); value 1");
	for (k = 0; k < s->ndev; k++) {
		const struct vhb_device_info *in = &s->dev[k].in;

		n = 0;
		feat[0] = '\0';
		for (bit = 0; bit < 64; bit++) {
			if ((in->features_negotiated & (1ULL << bit)) != 0 && n < sizeof(feat))
				n += snprintf(feat + n, sizeof(feat) - n, "%s%s", n > 0 ? "+" : "",
					      vhb_feature_name(bit));
		}
		sample(b, "device", "_info");
		label_vm(b, &s->dev[k]);
		label(b, false, "socket", in->socket_path);
		label(b, false, "features", feat);
		if (in->lcore_id == VHB_LCORE_ANY)
			snprintf(num, sizeof(num), "none");
		else
			snprintf(num, sizeof(num), "%u", in->lcore_id);
		label(b, false, "lcore", num);
		snprintf(num, sizeof(num), "%d", in->numa_node);
		label(b, false, "numa_node", num);
		puts_(b, "} 1\n");
	}
	family(b, "device_state", M_STATESET, NULL,
	       "Device state: listening, connected, running or broken");
	for (k = 0; k < s->ndev; k++) {
		for (j = 0; j < sizeof(states) / sizeof(states[0]); j++) {
			sample(b, "device_state", "");
			label_vm(b, &s->dev[k]);
			label(b, false, PFX "device_state", vhb_device_state_name(states[j]));
			value_u64(b, s->dev[k].in.state == states[j]);
		}
	}
	for (i = 0; i < sizeof(dev_gauges) / sizeof(dev_gauges[0]); i++) {
		if (dev_gauges[i].name == NULL)
			continue;
		family(b, dev_gauges[i].name, M_GAUGE, "bytes", dev_gauges[i].help);
		for (k = 0; k < s->ndev; k++) {
			sample(b, dev_gauges[i].name, "");
			label_vm(b, &s->dev[k]);
			value_u64(b, dev_field(&s->dev[k].in, dev_gauges[i].f));
		}
	}
}

/* Process-wide: the build, devices per state, sums over the devices present. */
static void
totals(struct mbuf *b, const struct snap *s)
{
	static const enum vhb_device_state states[] = {
		VHB_DEV_LISTENING, VHB_DEV_CONNECTED, VHB_DEV_RUNNING, VHB_DEV_BROKEN,
	};
	char name[64];
	unsigned int i, j, k, n;
	uint64_t sum;

	family(b, "build", M_INFO, NULL, "The vhost-balloon build; value 1");
	sample(b, "build", "_info");
	label(b, true, "version", VHB_VERSION);
	puts_(b, "} 1\n");
	family(b, "devices", M_GAUGE, NULL, "Devices in each state");
	for (j = 0; j < sizeof(states) / sizeof(states[0]); j++) {
		for (k = 0, n = 0; k < s->ndev; k++)
			n += s->dev[k].in.state == states[j];
		sample(b, "devices", "");
		label(b, true, "state", vhb_device_state_name(states[j]));
		value_u64(b, n);
	}
	for (i = 0; i < sizeof(dev_gauges) / sizeof(dev_gauges[0]); i++) {
		if (dev_gauges[i].all_name == NULL)
			continue;
		snprintf(name, sizeof(name), "%s", dev_gauges[i].all_name);
		family(b, name, M_GAUGE, "bytes", dev_gauges[i].all_help);
		for (k = 0, sum = 0; k < s->ndev; k++)
			sum += dev_field(&s->dev[k].in, dev_gauges[i].f);
		putf(b, "%s%s %" PRIu64 "\n", PFX, name, sum);
	}
}

static double
seconds(uint64_t cycles, uint64_t hz)
{
	return hz == 0 ? 0.0 : (double)cycles / (double)hz;
}

enum lc_field {
	L_DEVICES, L_PASSES, L_BUSY_PASSES, L_AWAKE, L_ASLEEP, L_CPU, L_BUSY, L_SLEEPING,
	L_IDLE, L_MAX_SLEEP, L_SLEEPS, L_SLEEP_ABORTS, L_POLLED, L_PARKS,
};

static const struct {
	enum lc_field f;
	const char *name;
	enum mtype t;
	const char *unit, *help;
} lc_metrics[] = {
	{ L_DEVICES, "lcore_devices", M_GAUGE, NULL, "Devices served by the poll lcore" },
	{ L_PASSES, "lcore_passes", M_COUNTER, NULL, "Poll passes" },
	{ L_BUSY_PASSES, "lcore_busy_passes", M_COUNTER, NULL, "Poll passes that found work" },
	{ L_AWAKE, "lcore_awake_seconds", M_COUNTER, "seconds",
	  "Time the lcore was awake (polling, busy or not)" },
	{ L_ASLEEP, "lcore_asleep_seconds", M_COUNTER, "seconds",
	  "Time the lcore slept waiting for a kick" },
	{ L_CPU, "lcore_cpu_ratio", M_GAUGE, "ratio",
	  "Share of time awake since start: awake / (awake + asleep)" },
	{ L_BUSY, "lcore_busy_ratio", M_GAUGE, "ratio",
	  "Share of poll-pass cycles that did work, since start" },
	{ L_SLEEPING, "lcore_sleeping", M_GAUGE, NULL, "1 while the lcore waits for a kick" },
	{ L_IDLE, "lcore_poll_idle_seconds", M_GAUGE, "seconds",
	  "Adaptive mode: time without work before sleeping" },
	{ L_MAX_SLEEP, "lcore_max_sleep_seconds", M_GAUGE, "seconds",
	  "Longest sleep when no timer is due" },
	{ L_SLEEPS, "lcore_sleeps", M_COUNTER, NULL, "Times the lcore went to sleep" },
	{ L_SLEEP_ABORTS, "lcore_sleep_aborts", M_COUNTER, NULL,
	  "Sleeps abandoned because the re-check found work" },
	{ L_POLLED, "lcore_devices_polled", M_GAUGE, NULL,
	  "Devices in the polled set; the rest wait on their guests' kicks" },
	{ L_PARKS, "lcore_parks", M_COUNTER, NULL,
	  "Times a device left the polled set to wait on kicks" },
};

static void
lc_value(struct mbuf *b, const struct vhb_lcore_stats *st, const struct vhb_poll_params *pp,
	 enum lc_field f)
{
	uint64_t awake = st->poll_cycles + st->sleep_cycles;

	switch (f) {
	case L_DEVICES: value_u64(b, st->ndevices); break;
	case L_PASSES: value_u64(b, st->passes); break;
	case L_BUSY_PASSES: value_u64(b, st->busy_passes); break;
	case L_AWAKE: value_f(b, seconds(st->poll_cycles, st->tsc_hz)); break;
	case L_ASLEEP: value_f(b, seconds(st->sleep_cycles, st->tsc_hz)); break;
	case L_CPU: value_f(b, awake == 0 ? 0.0 : (double)st->poll_cycles / awake); break;
	case L_BUSY:
		value_f(b, st->total_cycles == 0 ? 0.0 :
			(double)st->busy_cycles / st->total_cycles);
		break;
	case L_SLEEPING: value_u64(b, st->sleeping); break;
	case L_IDLE: value_f(b, pp->idle_us / 1e6); break;
	case L_MAX_SLEEP: value_f(b, pp->max_sleep_ms / 1e3); break;
	case L_SLEEPS: value_u64(b, st->sleeps); break;
	case L_SLEEP_ABORTS: value_u64(b, st->sleep_aborts); break;
	case L_POLLED: value_u64(b, st->devices_polled); break;
	case L_PARKS: value_u64(b, st->parks); break;
	}
}

static void
lcores(struct mbuf *b)
{
	static const enum vhb_poll_mode modes[] = {
		VHB_POLL_AUTO, VHB_POLL_ADAPTIVE, VHB_POLL_BUSY, VHB_POLL_INTERRUPT,
	};
	static const char *const reasons[] = { "kick", "control", "timeout" };
	struct vhb_lcore_stats one, *st;
	struct vhb_poll_params *pp;
	unsigned int i, j, n;
	uint64_t v;

	for (n = 0; vhb_lcore_get_stats(n, &one) == 0; n++)
		;
	st = calloc(n + 1, sizeof(*st));
	pp = calloc(n + 1, sizeof(*pp));
	if (st == NULL || pp == NULL) {
		b->oom = true;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (vhb_lcore_get_stats(i, &st[i]) != 0)
			break;
		if (vhb_lcore_get_poll_params(i, &pp[i]) != 0)
			vhb_poll_params_default(&pp[i]);
	}
	n = i;
	family(b, "lcore_mode", M_STATESET, NULL,
	       "Polling mode in force: auto, adaptive, poll or interrupt");
	for (i = 0; i < n; i++) {
		for (j = 0; j < sizeof(modes) / sizeof(modes[0]); j++) {
			sample(b, "lcore_mode", "");
			label_lcore(b, st[i].lcore_id);
			label(b, false, PFX "lcore_mode", vhb_poll_mode_name(modes[j]));
			value_u64(b, st[i].mode == (uint32_t)modes[j]);
		}
	}
	for (j = 0; j < sizeof(lc_metrics) / sizeof(lc_metrics[0]); j++) {
		family(b, lc_metrics[j].name, lc_metrics[j].t, lc_metrics[j].unit,
		       lc_metrics[j].help);
		for (i = 0; i < n; i++) {
			sample(b, lc_metrics[j].name, lc_metrics[j].t == M_COUNTER ? "_total" : "");
			label_lcore(b, st[i].lcore_id);
			lc_value(b, &st[i], &pp[i], lc_metrics[j].f);
		}
	}
	family(b, "lcore_wakeups", M_COUNTER, NULL,
	       "What ended each sleep: a guest kick, a control action, or the timeout");
	for (i = 0; i < n; i++) {
		for (j = 0; j < sizeof(reasons) / sizeof(reasons[0]); j++) {
			v = j == 0 ? st[i].wakeups_kick : j == 1 ? st[i].wakeups_control :
				st[i].wakeups_timeout;
			sample(b, "lcore_wakeups", "_total");
			label_lcore(b, st[i].lcore_id);
			label(b, false, "reason", reasons[j]);
			value_u64(b, v);
		}
	}
out:
	free(st);
	free(pp);
}

int
vhb_metrics_render(enum vhb_metrics_format fmt, char **out, size_t *len)
{
	struct mbuf b = { .fmt = fmt };
	struct snap s = { 0 };
	struct timespec now;
	int ret;

	if (out == NULL || (fmt != VHB_METRICS_OPENMETRICS && fmt != VHB_METRICS_PROMETHEUS))
		return -EINVAL;
	ret = vhb_device_foreach(snap_one, &s);
	if (ret != 0) {
		free(s.dev);
		return ret < 0 ? ret : -ENOMEM;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	totals(&b, &s);
	devices(&b, &s);
	device_counters(&b, &s);
	guest_stats(&b, &s, (uint64_t)now.tv_sec * 1000000000ULL + now.tv_nsec);
	lcores(&b);
	if (fmt == VHB_METRICS_OPENMETRICS)
		puts_(&b, "# EOF\n");
	free(s.dev);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	if (len != NULL)
		*len = b.len;
	return 0;
}

const char *
vhb_metrics_content_type(enum vhb_metrics_format fmt)
{
	return fmt == VHB_METRICS_OPENMETRICS ?
		"application/openmetrics-text; version=1.0.0; charset=utf-8" :
		"text/plain; version=0.0.4; charset=utf-8";
}

const char *
vhb_metrics_format_name(enum vhb_metrics_format fmt)
{
	return fmt == VHB_METRICS_OPENMETRICS ? "openmetrics" : "prometheus";
}

int
vhb_metrics_format_parse(const char *name, enum vhb_metrics_format *fmt)
{
	if (strcmp(name, "openmetrics") == 0)
		*fmt = VHB_METRICS_OPENMETRICS;
	else if (strcmp(name, "prometheus") == 0)
		*fmt = VHB_METRICS_PROMETHEUS;
	else
		return -EINVAL;
	return 0;
}

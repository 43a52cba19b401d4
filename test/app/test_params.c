/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests (no EAL) of the daemon's option and config-file parsing: every accepted form and
 * every error path, each checking that the message names the option or file:line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhost_balloon.h"
#include "vhbd_params.h"

static int failures;
static char tmpdir[] = "/tmp/vhbd-params-XXXXXX";

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond); \
		failures++; \
	} \
} while (0)

/* Run the parser on a NULL-terminated list of words; returns its result and the message. */
static int
parse(struct vhbd_params *p, char *err, size_t errlen, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	char *a;

	argv[argc++] = (char *)(uintptr_t)"vhost-balloon";
	va_start(ap, errlen);
	while ((a = va_arg(ap, char *)) != NULL && argc < 31)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	vhbd_params_defaults(p);
	err[0] = '\0';
	return vhbd_parse_args(argc, argv, p, err, errlen);
}

/* Expect an error whose message contains want. */
#define BAD(want, ...) do { \
	int r_ = parse(&p, err, sizeof(err), __VA_ARGS__, NULL); \
	if (r_ == 0 || strstr(err, want) == NULL) { \
		fprintf(stderr, "%s:%d: FAIL: ret %d, message '%s', wanted '%s'\n", \
			__FILE__, __LINE__, r_, err, want); \
		failures++; \
	} \
} while (0)

#define GOOD(...) do { \
	int r_ = parse(&p, err, sizeof(err), __VA_ARGS__, NULL); \
	if (r_ != 0) { \
		fprintf(stderr, "%s:%d: FAIL: ret %d: %s\n", __FILE__, __LINE__, r_, err); \
		failures++; \
	} \
} while (0)

static struct vhbd_params p;
static char err[512];

static const char *
write_config(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	return path;
}

static void
test_values(void)
{
	unsigned int l[8];
	uint64_t v;
	uint32_t m;
	char buf[128];

	CHECK(vhbd_parse_size("1G", &v) == 0 && v == 1ULL << 30);
	CHECK(vhbd_parse_size("512MiB", &v) == 0 && v == 512ULL << 20);
	CHECK(vhbd_parse_size("512mb", &v) == 0 && v == 512ULL << 20);
	CHECK(vhbd_parse_size("64K", &v) == 0 && v == 64ULL << 10);
	CHECK(vhbd_parse_size("2TiB", &v) == 0 && v == 2ULL << 40);
	CHECK(vhbd_parse_size("0", &v) == 0 && v == 0);
	CHECK(vhbd_parse_size("512", &v) == -EINVAL);	/* no unit */
	CHECK(vhbd_parse_size("1K", &v) == -EINVAL);	/* not 4 KiB aligned */
	CHECK(vhbd_parse_size("1X", &v) == -EINVAL);
	CHECK(vhbd_parse_size("-1G", &v) == -EINVAL);
	CHECK(vhbd_parse_size("", &v) == -EINVAL);
	CHECK(vhbd_parse_size("G", &v) == -EINVAL);
	CHECK(vhbd_parse_size("99999999999999999999G", &v) == -ERANGE);
	CHECK(vhbd_parse_size("17179869184T", &v) == -ERANGE);

	CHECK(vhbd_parse_u64("42", 100, &v) == 0 && v == 42);
	CHECK(vhbd_parse_u64("101", 100, &v) == -ERANGE);
	CHECK(vhbd_parse_u64("4x", 100, &v) == -EINVAL);
	CHECK(vhbd_parse_u64("+4", 100, &v) == -EINVAL);
	CHECK(vhbd_parse_u64(" 4", 100, &v) == -EINVAL);

	CHECK(vhbd_parse_mode("0660", &m) == 0 && m == 0660);
	CHECK(vhbd_parse_mode("600", &m) == 0 && m == 0600);
	CHECK(vhbd_parse_mode("0890", &m) == -EINVAL);
	CHECK(vhbd_parse_mode("17777", &m) == -EINVAL);
	CHECK(vhbd_parse_mode("x", &m) == -EINVAL);

	CHECK(vhbd_parse_features("stats+reporting", &v, buf, sizeof(buf)) == 0 &&
		v == ((1ULL << VHB_F_STATS_VQ) | (1ULL << VHB_F_REPORTING)));
	CHECK(vhbd_parse_features("stats-vq+free-page-reporting", &v, buf, sizeof(buf)) == 0 &&
		v == ((1ULL << VHB_F_STATS_VQ) | (1ULL << VHB_F_REPORTING)));
	CHECK(vhbd_parse_features("default", &v, buf, sizeof(buf)) == 0 &&
		v == VHB_FEATURES_DEFAULT);
	CHECK(vhbd_parse_features("stats+bogus", &v, buf, sizeof(buf)) == -EINVAL &&
		strstr(buf, "'bogus'") != NULL);
	CHECK(vhbd_parse_features("stats+", &v, buf, sizeof(buf)) == -EINVAL);
	CHECK(vhbd_parse_features("", &v, buf, sizeof(buf)) == -EINVAL);
	vhbd_format_features(VHB_FEATURES_DEFAULT, buf, sizeof(buf));
	CHECK(strcmp(buf, "must-tell-host+stats+deflate-on-oom+page-poison+reporting") == 0);
	vhbd_format_features(0, buf, sizeof(buf));
	CHECK(strcmp(buf, "none") == 0);

	CHECK(vhbd_parse_lcore_list("1,3-5", l, 8) == 4 && l[0] == 1 && l[1] == 3 && l[3] == 5);
	CHECK(vhbd_parse_lcore_list("1,1", l, 8) == -EEXIST);
	CHECK(vhbd_parse_lcore_list("5-3", l, 8) == -ERANGE);
	CHECK(vhbd_parse_lcore_list("128", l, 8) == -ERANGE);
	CHECK(vhbd_parse_lcore_list("1,", l, 8) == -EINVAL);
	CHECK(vhbd_parse_lcore_list("a", l, 8) == -EINVAL);
	CHECK(vhbd_parse_lcore_list("0-9", l, 8) == -E2BIG);

	vhbd_format_bytes(3ULL << 29, buf, sizeof(buf));
	CHECK(strcmp(buf, "1.50 GiB") == 0);
	vhbd_default_name("/run/x/vm1.sock", buf, sizeof(buf));
	CHECK(strcmp(buf, "vm1") == 0);
	CHECK(vhbd_socket_path("/run/d", "a.sock", buf, sizeof(buf)) == 0 &&
		strcmp(buf, "/run/d/a.sock") == 0);
	CHECK(vhbd_socket_path("/run/d", "/abs.sock", buf, sizeof(buf)) == 0 &&
		strcmp(buf, "/abs.sock") == 0);
	CHECK(vhbd_socket_path("/a/very/long/dir", "x.sock", buf, 10) == -ENAMETOOLONG);
}

static void
test_options(void)
{
	char longpath[200], huge[600], spec[32];
	unsigned int i;

	GOOD("--socket", "/tmp/a.sock", "--socket", "b.sock,name=web,features=stats+reporting,"
		"lcore=1,stats-interval=3", "--stats-interval", "5", "--socket-mode", "0600",
		"--socket-group", "root", "--control", "/tmp/c.sock", "-i", "--cmdline-file", "f",
		"--poll-lcores", "1-2", "--run-dir", "/tmp/r");
	CHECK(p.nvms == 2);
	CHECK(strcmp(p.vms[0].name, "a") == 0 && p.vms[0].features == 0 &&
		p.vms[0].lcore == VHB_LCORE_ANY && p.vms[0].stats_interval == VHBD_INHERIT);
	CHECK(strcmp(p.vms[1].name, "web") == 0 && p.vms[1].lcore == 1 &&
		p.vms[1].stats_interval == 3 &&
		p.vms[1].features == ((1ULL << VHB_F_STATS_VQ) | (1ULL << VHB_F_REPORTING)));
	CHECK(p.stats_interval == 5 && p.socket_mode == 0600 && p.socket_gid == 0);
	CHECK(strcmp(p.control, "/tmp/c.sock") == 0 && p.interactive);
	CHECK(strcmp(p.cmdline_file, "f") == 0 && strcmp(p.run_dir, "/tmp/r") == 0);
	CHECK(p.npoll_lcores == 2 && p.poll_lcores[1] == 2);
	GOOD("--stats-interval=7", "--help");
	CHECK(p.stats_interval == 7 && p.help);
	GOOD("--socket-group", "0");
	CHECK(p.socket_gid == 0);
	/* The control socket: the sockets' mode and group unless given its own. */
	CHECK(p.control_mode == VHBD_INHERIT && p.control_gid == VHBD_GID_INHERIT);
	GOOD("--control-mode", "0600", "--control-group", "0");
	CHECK(p.control_mode == 0600 && p.control_gid == 0 && p.socket_mode == 0660 &&
		p.socket_gid == -1);
	/* Polling mode: the library's defaults unless given. */
	CHECK(p.poll.mode == VHB_POLL_AUTO && p.poll.idle_us == VHB_POLL_IDLE_US_DEFAULT &&
		p.poll.max_sleep_ms == VHB_POLL_MAX_SLEEP_MS_DEFAULT);
	GOOD("--poll-mode", "interrupt", "--poll-idle-us", "0", "--poll-max-sleep-ms", "3600000");
	CHECK(p.poll.mode == VHB_POLL_INTERRUPT && p.poll.idle_us == 0 &&
		p.poll.max_sleep_ms == 3600000);
	GOOD("--poll-mode=poll", "--poll-idle-us=4294967295", "--poll-max-sleep-ms=1");
	CHECK(p.poll.mode == VHB_POLL_BUSY && p.poll.idle_us == UINT32_MAX &&
		p.poll.max_sleep_ms == 1);
	GOOD("--poll-mode", "adaptive");
	CHECK(p.poll.mode == VHB_POLL_ADAPTIVE);
	GOOD("--poll-mode", "auto");
	CHECK(p.poll.mode == VHB_POLL_AUTO);
	/* Metrics over HTTP: off by default; a bare port listens on 127.0.0.1 only. */
	CHECK(p.metrics_host[0] == '\0' && p.metrics_port == 0);
	GOOD("--metrics-listen", "9187");
	CHECK(strcmp(p.metrics_host, "127.0.0.1") == 0 && p.metrics_port == 9187);
	GOOD("--metrics-listen=:1");
	CHECK(strcmp(p.metrics_host, "127.0.0.1") == 0 && p.metrics_port == 1);
	GOOD("--metrics-listen", "0.0.0.0:65535");
	CHECK(strcmp(p.metrics_host, "0.0.0.0") == 0 && p.metrics_port == 65535);
	GOOD("--metrics-listen", "[::1]:9100");
	CHECK(strcmp(p.metrics_host, "::1") == 0 && p.metrics_port == 9100);
	GOOD("--metrics-listen", "localhost:80");
	CHECK(strcmp(p.metrics_host, "localhost") == 0 && p.metrics_port == 80);
	GOOD("--metrics-listen", "9187", "--metrics-listen", "off");
	CHECK(p.metrics_host[0] == '\0');

	BAD("--metrics-listen: 'x' is not an address to listen on", "--metrics-listen", "x");
	BAD("--metrics-listen: '0' is not an address", "--metrics-listen", "0");
	BAD("--metrics-listen: '65536' is not an address", "--metrics-listen", "65536");
	BAD("--metrics-listen: 'host:' is not an address", "--metrics-listen", "host:");
	BAD("--metrics-listen: '::1:80' is not an address", "--metrics-listen", "::1:80");
	BAD("--metrics-listen: '[::1]9100' is not an address", "--metrics-listen", "[::1]9100");
	BAD("--metrics-listen: '[]:80' is not an address", "--metrics-listen", "[]:80");
	BAD("unknown option '--bogus'", "--bogus");
	BAD("unknown option '-x'", "-x");
	BAD("'--socket' needs a value", "--socket");
	BAD("'--stats-interval' needs a value", "--stats-interval");
	BAD("unexpected argument 'extra'", "extra");
	BAD("--stats-interval: 'abc' is not a number", "--stats-interval", "abc");
	BAD("--stats-interval: '4294967295' is not a number", "--stats-interval", "4294967295");
	BAD("--socket-mode: '999' is not an octal mode", "--socket-mode", "999");
	BAD("--socket-group: no group 'no-such-group-xyz'", "--socket-group", "no-such-group-xyz");
	BAD("--control-mode: '8' is not an octal mode", "--control-mode", "8");
	BAD("--control-group: no group 'no-such-group-xyz'", "--control-group",
		"no-such-group-xyz");
	BAD("--poll-lcores: '1,1' is not an lcore list", "--poll-lcores", "1,1");
	BAD("--poll-mode: 'busy' is not a polling mode (auto, adaptive, poll or interrupt)",
		"--poll-mode", "busy");
	BAD("--poll-mode: 'Poll' is not a polling mode", "--poll-mode", "Poll");
	BAD("'--poll-mode' needs a value", "--poll-mode");
	BAD("--poll-idle-us: '-1' is not a number of microseconds (0-4294967295)",
		"--poll-idle-us", "-1");
	BAD("--poll-idle-us: '4294967296' is not a number of microseconds", "--poll-idle-us",
		"4294967296");
	BAD("--poll-idle-us: '1ms' is not a number of microseconds", "--poll-idle-us", "1ms");
	BAD("--poll-max-sleep-ms: '0' is not a number of milliseconds (1-3600000)",
		"--poll-max-sleep-ms", "0");
	BAD("--poll-max-sleep-ms: '3600001' is not a number of milliseconds",
		"--poll-max-sleep-ms", "3600001");
	BAD("--poll-max-sleep-ms: '' is not a number of milliseconds", "--poll-max-sleep-ms", "");
	BAD("--control: control socket: empty path", "--control", "");
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	longpath[0] = '/';
	BAD("--control: control socket: path longer than 107", "--control", longpath);
	BAD("--socket: path longer than 107", "--socket", longpath);
	BAD("--cmdline-file: empty path", "--cmdline-file", "");
	BAD("--socket ',name=x': starts with the socket path", "--socket", ",name=x");
	BAD("--socket 'name=x': starts with the socket path", "--socket", "name=x");
	BAD("--socket 'a.sock,lcore': 'lcore' is not key=value", "--socket", "a.sock,lcore");
	BAD("--socket 'a.sock,lcor=1': unknown key 'lcor'", "--socket", "a.sock,lcor=1");
	BAD("--socket 'a.sock,lcore=x': lcore 'x': not an lcore id", "--socket", "a.sock,lcore=x");
	BAD("lcore '128': not an lcore id", "--socket", "a.sock,lcore=128");
	BAD("features 'stats+nope': unknown feature 'nope'", "--socket",
		"a.sock,features=stats+nope");
	BAD("stats-interval 'x': not a number", "--socket", "a.sock,stats-interval=x");
	BAD("name 'a b': use letters", "--socket", "a.sock,name=a b");
	BAD("VM name '': use letters", "--socket", "/tmp/");
	BAD("VM name 'a' used twice", "--socket", "a.sock", "--socket", "/x/a.sock");
	BAD("socket 'a.sock' used twice", "--socket", "a.sock", "--socket", "a.sock,name=b");
	memcpy(huge, "a.sock,name=", 12);
	memset(huge + 12, 'x', sizeof(huge) - 13);
	huge[sizeof(huge) - 1] = '\0';
	BAD("--socket: argument too long", "--socket", huge);
	BAD("name '0123456789012345678901234567890123456789012345678901234567890123' longer",
		"--socket", "a.sock,name=01234567890123456789012345678901234567890123456789"
		"01234567890123");
	/* At most VHBD_MAX_VMS sockets. */
	vhbd_params_defaults(&p);
	for (i = 0; i < VHBD_MAX_VMS; i++) {
		snprintf(spec, sizeof(spec), "s%u.sock", i);
		CHECK(vhbd_add_socket_spec(&p, spec, err, sizeof(err)) == 0);
	}
	CHECK(vhbd_add_socket_spec(&p, "one-more.sock", err, sizeof(err)) == -EINVAL &&
		strstr(err, "too many sockets (at most 511, what one process serves: run a "
			"second vhost-balloon") != NULL);
	BAD("--config given twice", "--config", write_config("ok.ini", "[daemon]\n"),
		"--config", "x");
	BAD("config /nonexistent/x.ini: No such file", "--config", "/nonexistent/x.ini");
}

/* Expect the config text to fail with a message containing want (which names file:line). */
static void
bad_config(int line, const char *text, const char *want)
{
	const char *path = write_config("bad.ini", text);
	char full[600];
	int r;

	/* want starts with "%s", the file name. */
	snprintf(full, sizeof(full), "%s%s", path, want + 2);
	r = parse(&p, err, sizeof(err), "--config", path, NULL);
	if (r == 0 || strstr(err, full) == NULL) {
		fprintf(stderr, "%s:%d: FAIL: ret %d, message '%s', wanted '%s'\n", __FILE__, line,
			r, err, full);
		failures++;
	}
}

static void
test_config(void)
{
	char big[1100], text[1300];
	const char *path;

	path = write_config("good.ini",
		"# a comment\n"
		"[daemon]\n"
		"control = ctl.sock   # trailing comment\n"
		"run-dir = /tmp/vhbd\n"
		"stats-interval = 4\n"
		"socket-mode = 0600\n"
		"socket-group = root\n"
		"control-mode = 0640\n"
		"control-group = 0\n"
		"poll-lcores = 1\n"
		"poll-mode = interrupt\n"
		"poll-idle-us = 250\n"
		"poll-max-sleep-ms = 20\n"
		"metrics-listen = 127.0.0.2:9999\n"
		"\n"
		"[vm web1]\n"
		"socket = web1.sock\n"
		"features = stats+reporting\n"
		"lcore = 1\n"
		"stats-interval = 2\n"
		"[vm db]\n"
		"socket = /tmp/db.sock\n");
	GOOD("--config", path, "--stats-interval", "9", "--socket", "extra.sock",
		"--poll-mode", "poll");
	CHECK(strcmp(p.control, "ctl.sock") == 0 && strcmp(p.run_dir, "/tmp/vhbd") == 0);
	CHECK(p.stats_interval == 9);	/* the option overrides the file */
	CHECK(p.socket_mode == 0600 && p.socket_gid == 0);
	CHECK(p.control_mode == 0640 && p.control_gid == 0);
	CHECK(p.npoll_lcores == 1 && p.poll_lcores[0] == 1);
	/* --poll-mode overrides the file's poll-mode; the other two keys come from the file. */
	CHECK(p.poll.mode == VHB_POLL_BUSY && p.poll.idle_us == 250 && p.poll.max_sleep_ms == 20);
	CHECK(strcmp(p.metrics_host, "127.0.0.2") == 0 && p.metrics_port == 9999);
	CHECK(p.nvms == 3);
	CHECK(strcmp(p.vms[0].name, "web1") == 0 && strcmp(p.vms[0].path, "web1.sock") == 0 &&
		p.vms[0].lcore == 1 && p.vms[0].stats_interval == 2);
	CHECK(strcmp(p.vms[1].name, "db") == 0 && p.vms[1].features == 0 &&
		p.vms[1].stats_interval == VHBD_INHERIT);
	CHECK(strcmp(p.vms[2].name, "extra") == 0);
	CHECK(strcmp(p.config, path) == 0);

	bad_config(__LINE__, "key = 1\n", "%s:1: 'key = 1' outside any [section]");
	bad_config(__LINE__, "[daemon]\n\njunk\n", "%s:3: 'junk' is not key = value");
	bad_config(__LINE__, "[daemon\n", "%s:1: bad section header '[daemon'");
	bad_config(__LINE__, "[]\n", "%s:1: bad section header '[]'");
	bad_config(__LINE__, "[daemon]\n= 4\n", "%s:2: missing key before '='");
	bad_config(__LINE__, "[daemon]\nstats-interval = 1\n[other]\n",
		"%s:3: unknown section [other]");
	bad_config(__LINE__, "[vm a b]\nsocket = x\n", "%s:1: unknown section [vm a b]");
	bad_config(__LINE__, "[daemon]\n\nstats-intervall = 4\n",
		"%s:3: [daemon] stats-intervall: unknown key 'stats-intervall'");
	bad_config(__LINE__, "[daemon]\nstats-interval = soon\n",
		"%s:2: [daemon] stats-interval: 'soon' is not a number of seconds");
	bad_config(__LINE__, "[daemon]\nsocket-mode = rw\n",
		"%s:2: [daemon] socket-mode: 'rw' is not an octal mode");
	bad_config(__LINE__, "[daemon]\nsocket-group = no-such-group-xyz\n",
		"%s:2: [daemon] socket-group: no group");
	bad_config(__LINE__, "[daemon]\npoll-lcores = 1-\n",
		"%s:2: [daemon] poll-lcores: '1-' is not an lcore list");
	bad_config(__LINE__, "[daemon]\n\npoll-mode = sometimes\n",
		"%s:3: [daemon] poll-mode: 'sometimes' is not a polling mode (auto, adaptive, poll or "
		"interrupt)");
	bad_config(__LINE__, "[daemon]\npoll-idle-us = 1.5\n",
		"%s:2: [daemon] poll-idle-us: '1.5' is not a number of microseconds");
	bad_config(__LINE__, "[daemon]\npoll-max-sleep-ms = 0\n",
		"%s:2: [daemon] poll-max-sleep-ms: '0' is not a number of milliseconds (1-3600000)");
	bad_config(__LINE__, "[daemon]\npoll-max-sleep-ms = 99999999999\n",
		"%s:2: [daemon] poll-max-sleep-ms: '99999999999' is not a number of milliseconds");
	bad_config(__LINE__, "[daemon]\npoll-mode = poll\npoll-mode = interrupt\n",
		"%s:2: [daemon] poll-mode given twice");
	bad_config(__LINE__, "[daemon]\npoll-modes = poll\n",
		"%s:2: [daemon] poll-modes: unknown key 'poll-modes'");
	bad_config(__LINE__, "[daemon]\nmetrics-listen = everywhere\n",
		"%s:2: [daemon] metrics-listen: 'everywhere' is not an address to listen on");
	bad_config(__LINE__, "[daemon]\ncontrol =\n", "%s:2: empty value for 'control'");
	bad_config(__LINE__, "[daemon]\nstats-interval = 1\nstats-interval = 2\n",
		"%s:2: [daemon] stats-interval given twice");
	bad_config(__LINE__, "[vm a]\nsocket = a.sock\nlcore = many\n",
		"%s:3: [vm a] lcore: lcore 'many': not an lcore id");
	bad_config(__LINE__, "[vm a]\nsocket = a.sock\nfeatures = stats+x\n",
		"%s:3: [vm a] features: features 'stats+x': unknown feature 'x'");
	bad_config(__LINE__, "[vm a]\nsocket = a.sock\nstats-interval = -1\n",
		"%s:3: [vm a] stats-interval: stats-interval '-1': not a number");
	bad_config(__LINE__, "[vm a]\nsocket = a.sock\nname = b\n",
		"%s:3: [vm a] name: unknown key 'name' (expected socket,");
	bad_config(__LINE__, "[vm a]\nfeatures = stats\n", "%s:1: [vm a] has no 'socket = PATH'");
	bad_config(__LINE__, "[vm a]\nsocket = x.sock\n[vm b]\nsocket = x.sock\n",
		"%s:3: [vm b] socket 'x.sock' used twice");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(text, sizeof(text), "[daemon]\n# %s\n", big);
	bad_config(__LINE__, text, "%s:2: line too long");
	snprintf(text, sizeof(text), "[daemon]\ncontrol = %.300s\n", big);
	bad_config(__LINE__, text, "%s:2: value too long");
	snprintf(text, sizeof(text), "[vm %.70s]\nsocket = a\n", big);
	bad_config(__LINE__, text, "%s:1: section name too long");
	bad_config(__LINE__, "[daemon]\nrun-dir =  \n", "%s:2: empty value for 'run-dir'");
	bad_config(__LINE__, "[vm a]\nsocket = /tmp/0123456789012345678901234567890123456789"
		"0123456789012345678901234567890123456789"
		"0123456789012345678901234567890123456789\n",
		"%s:2: [vm a] socket: socket: path longer than 107");
}

/* [policy], --policy and the per-VM policy keys (docs/policy.md#knobs). */
static void
test_policy(void)
{
	const char *path;

	GOOD("--socket", "a.sock");
	CHECK(p.policy.mode == VHB_POLICY_OFF && p.policy.interval_ms == 1000 &&
		strcmp(p.policy.meminfo_path, "/proc/meminfo") == 0);
	path = write_config("policy.ini",
		"[policy]\n"
		"mode = advisory\n"
		"interval-ms = 500\n"
		"host-low = 1G\n"
		"host-high = 2G\n"
		"psi-some = 12.5\n"
		"psi-full = 0\n"
		"reserve-pct = 15\n"
		"min-pct = 30\n"
		"weight = 50\n"
		"step = 32M\n"
		"give-back = 16M\n"
		"deflate = 256M\n"
		"stale-s = 20\n"
		"hold-s = 0\n"
		"swap-in = 0\n"
		"major-faults = 500\n"
		"meminfo = /tmp/mi\n"
		"psi = /tmp/psi\n"
		"[vm web]\n"
		"socket = web.sock\n"
		"policy-min = 512M\n"
		"policy-max = 4G\n"
		"policy-weight = 200\n");
	GOOD("--config", path, "--socket", "x.sock,policy-weight=7,policy-min=1G");
	CHECK(p.policy.mode == VHB_POLICY_ADVISORY && p.policy.interval_ms == 500);
	CHECK(p.policy.host_low == 1ULL << 30 && p.policy.host_high == 2ULL << 30);
	CHECK(p.policy.psi_some == 12.5 && p.policy.psi_full == 0.0);
	CHECK(p.policy.reserve_pct == 15 && p.policy.min_pct == 30 && p.policy.weight == 50);
	CHECK(p.policy.step == 32ULL << 20 && p.policy.give_back == 16ULL << 20 &&
		p.policy.deflate == 256ULL << 20);
	CHECK(p.policy.stale_s == 20 && p.policy.hold_s == 0 && p.policy.swap_in == 0 &&
		p.policy.major_faults == 500);
	CHECK(strcmp(p.policy.meminfo_path, "/tmp/mi") == 0 &&
		strcmp(p.policy.psi_path, "/tmp/psi") == 0);
	CHECK(p.nvms == 2 && p.vms[0].policy.min == 512ULL << 20 &&
		p.vms[0].policy.max == 4ULL << 30 && p.vms[0].policy.weight == 200);
	CHECK(p.vms[1].policy.weight == 7 && p.vms[1].policy.min == 1ULL << 30 &&
		p.vms[1].policy.max == 0);
	GOOD("--config", path, "--policy", "on");
	CHECK(p.policy.mode == VHB_POLICY_ON);
	BAD("--policy: 'maybe' is not a policy mode", "--policy", "maybe");
	BAD("policy-weight '0'", "--socket", "a.sock,policy-weight=0");
	BAD("policy-min is above policy-max", "--socket", "a.sock,policy-max=1G,policy-min=2G");
	BAD("policy-min '12'", "--socket", "a.sock,policy-min=12");
	path = write_config("policy.ini", "[policy]\ninterval-ms = 10\n");
	BAD("policy.ini:2: [policy] interval-ms: '10' is not a number of milliseconds", "--config",
		path);
	path = write_config("policy.ini", "[policy]\npsi-some = 101\n");
	BAD("[policy] psi-some: '101' is not a percentage", "--config", path);
	path = write_config("policy.ini", "[policy]\nstep = 0\n");
	BAD("[policy] step: '0' is not a size", "--config", path);
	path = write_config("policy.ini", "[policy]\nreserve-pct = 91\n");
	BAD("[policy] reserve-pct", "--config", path);
	path = write_config("policy.ini", "[policy]\nwhatever = 1\n");
	BAD("unknown key 'whatever' (expected mode", "--config", path);
	path = write_config("policy.ini", "[policies]\nmode = on\n");
	BAD("unknown section [policies]", "--config", path);
	unlink(path);
}

/* The shipped default config must load and describe several VMs. */
static void
test_default_config(const char *path)
{
	GOOD("--config", path);
	CHECK(p.nvms >= 3);
	CHECK(strcmp(p.control, "control.sock") == 0);
	CHECK(strcmp(p.run_dir, "/run/vhost-balloon") == 0);
	/* The sockets are QEMU's group's; the control socket is not (docs/security.md). */
	CHECK(p.socket_mode == 0660 && p.control_mode == 0600);
	CHECK(p.vms[0].features == VHB_FEATURES_DEFAULT);
	CHECK(p.poll.mode == VHB_POLL_AUTO && p.poll.idle_us == VHB_POLL_IDLE_US_DEFAULT &&
		p.poll.max_sleep_ms == VHB_POLL_MAX_SLEEP_MS_DEFAULT);
	/* The packaged config leaves the policy off. */
	CHECK(p.policy.mode == VHB_POLICY_OFF);
}

int
main(int argc, char **argv)
{
	printf("test_params: option and config parsing (no guest memory)\n");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_values();
	test_options();
	test_config();
	test_policy();
	if (argc > 1)
		test_default_config(argv[1]);
	unlink(write_config("ok.ini", ""));
	unlink(write_config("bad.ini", ""));
	unlink(write_config("good.ini", ""));
	rmdir(tmpdir);
	if (failures != 0) {
		printf("test_params: %d failures\n", failures);
		return 1;
	}
	printf("test_params: all passed\n");
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/* Command line of vhost-balloon-vmsim: a table of options, checked and printed. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmsim_app.h"

enum {
	OPT_SOCKET = 256, OPT_MEM, OPT_BACKING, OPT_HUGETLBFS, OPT_SPLIT, OPT_PATTERN, OPT_SEED,
	OPT_NUM_VQS, OPT_VQ_SIZE, OPT_CONFIG_SIZE, OPT_DECLINE, OPT_POISON, OPT_INIT_ON_FREE,
	OPT_NO_INIT_ON_ALLOC, OPT_ACK, OPT_FREE, OPT_STATS, OPT_REPORT_EVERY, OPT_REPORT_BLOCKS,
	OPT_VERIFY_EVERY, OPT_EXIT_AFTER_SETTLE, OPT_DURATION, OPT_CONNECT_TIMEOUT, OPT_TIMEOUT,
	OPT_QUIET, OPT_LOG, OPT_TRACE, OPT_HELP, OPT_REUSE_REPORTED, OPT_RECONNECT,
};

static const struct option long_opts[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "backing", required_argument, NULL, OPT_BACKING },
	{ "hugetlbfs-dir", required_argument, NULL, OPT_HUGETLBFS },
	{ "split", no_argument, NULL, OPT_SPLIT },
	{ "pattern", required_argument, NULL, OPT_PATTERN },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "num-vqs", required_argument, NULL, OPT_NUM_VQS },
	{ "vq-size", required_argument, NULL, OPT_VQ_SIZE },
	{ "config-size", required_argument, NULL, OPT_CONFIG_SIZE },
	{ "decline", required_argument, NULL, OPT_DECLINE },
	{ "page-poison", no_argument, NULL, OPT_POISON },
	{ "init-on-free", no_argument, NULL, OPT_INIT_ON_FREE },
	{ "no-init-on-alloc", no_argument, NULL, OPT_NO_INIT_ON_ALLOC },
	{ "ack", required_argument, NULL, OPT_ACK },
	{ "free-percent", required_argument, NULL, OPT_FREE },
	{ "stats-values", required_argument, NULL, OPT_STATS },
	{ "report-every", required_argument, NULL, OPT_REPORT_EVERY },
	{ "report-blocks", required_argument, NULL, OPT_REPORT_BLOCKS },
	{ "verify-every", required_argument, NULL, OPT_VERIFY_EVERY },
	{ "exit-after-settle", no_argument, NULL, OPT_EXIT_AFTER_SETTLE },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "log", no_argument, NULL, OPT_LOG },
	{ "trace", no_argument, NULL, OPT_TRACE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "reuse-reported", no_argument, NULL, OPT_REUSE_REPORTED },
	{ "reconnect", no_argument, NULL, OPT_RECONNECT },
	{ NULL, 0, NULL, 0 },
};

void
vmsim_usage(const char *prog)
{
	printf("Usage: %s --socket PATH [--socket PATH ...] [options]\n"
		"Simulated guests (QEMU 10 vhost-user-device + Linux 6.1 virtio_balloon), one\n"
		"process per --socket, against vhost-user balloon backend sockets.\n\n"
		"Guest:\n"
		"  --mem SIZE              guest RAM (default 256M; K/M/G suffixes)\n"
		"  --backing KIND          memfd | hugetlbfs | memfd-hugetlb (default memfd)\n"
		"  --hugetlbfs-dir DIR     hugetlbfs mount (default $VHB_HUGETLBFS or /proc/mounts)\n"
		"  --split                 RAM split like QEMU's PCI hole: half at 0, half at 4 GiB\n"
		"  --pattern P             sequential | reverse | random | fragmented\n"
		"  --seed N                seed for random/fragmented layouts (default 1)\n"
		"  --free-percent N        share of guest memory free at boot (default 10)\n"
		"  --page-poison           the guest poisons freed pages (accepts PAGE_POISON)\n"
		"  --init-on-free          the guest zeroes freed pages (poison_val 0)\n"
		"  --no-init-on-alloc      do not zero pages before ballooning them\n"
		"  --decline LIST          features the driver declines: must-tell-host,stats,\n"
		"                          deflate-on-oom,free-page-hint,page-poison,reporting\n"
		"  --stats-values LIST     tag=value,... guest stats (tags 0-15 or names:\n"
		"                          swap-in,swap-out,major-faults,minor-faults,free,total,\n"
		"                          available,caches,hugetlb-allocs,hugetlb-failures)\n"
		"Device (QEMU properties):\n"
		"  --num-vqs N             default: what the driver needs\n"
		"  --vq-size N             default 64 (QEMU's default)\n"
		"  --config-size N         default 16\n"
		"  --ack MODE              interrupt | poll (default interrupt)\n"
		"Run:\n"
		"  --report-every DUR      free page report every DUR (e.g. 2s)\n"
		"  --report-blocks N       blocks per report, <= 32 (default 32)\n"
		"  --reuse-reported        the guest reuses reported pages right after the ack\n"
		"                          (a late discard by the backend then shows in verify)\n"
		"  --verify-every N        check guest memory after every N settled changes\n"
		"                          (always at exit)\n"
		"  --exit-after-settle     exit once the balloon has settled after a change\n"
		"  --duration DUR          run this long (default: until SIGINT/SIGTERM)\n"
		"  --connect-timeout DUR   wait for the socket to appear (default 10s)\n"
		"  --reconnect             when the backend goes away, connect again (within\n"
		"                          --connect-timeout) and resume the running guest\n"
		"  --timeout DUR           reply and ack timeout (default 5s)\n"
		"  --quiet | --log | --trace\n\n"
		"Exit status: 0 ok, 1 backend/protocol error, 2 usage, 3 guest memory corrupted.\n",
		prog);
}

int
vmsim_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K':
		v <<= 10;
		end++;
		break;
	case 'm': case 'M':
		v <<= 20;
		end++;
		break;
	case 'g': case 'G':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end == 'B')
		end++;
	if (*end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

int
vmsim_parse_duration_ms(const char *s, uint64_t *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || v < 0)
		return -EINVAL;
	if (strcmp(end, "ms") == 0)
		*out = (uint64_t)v;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		*out = (uint64_t)(v * 1000);
	else if (strcmp(end, "m") == 0)
		*out = (uint64_t)(v * 60000);
	else
		return -EINVAL;
	return 0;
}

static int
feature_bit(const char *name)
{
	static const char *const names[] = { "must-tell-host", "stats", "deflate-on-oom",
		"free-page-hint", "page-poison", "reporting" };
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

static int
stat_tag(const char *name)
{
	static const char *const names[] = { "swap-in", "swap-out", "major-faults",
		"minor-faults", "free", "total", "available", "caches", "hugetlb-allocs",
		"hugetlb-failures" };
	unsigned int i;
	char *end;
	long v;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	v = strtol(name, &end, 10);
	if (*end != '\0' || end == name || v < 0 || v >= VMS_STAT_NR)
		return -1;
	return (int)v;
}

/* Comma-separated list; cb gets each item. */
static int
each_item(const char *list, int (*cb)(char *item, struct vmsim_opts *o), struct vmsim_opts *o)
{
	char buf[1024], *save = NULL, *tok;

	if (strlen(list) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, list, strlen(list) + 1);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		int ret = cb(tok, o);

		if (ret < 0)
			return ret;
	}
	return 0;
}

static int
decline_item(char *item, struct vmsim_opts *o)
{
	int b = feature_bit(item);

	if (b < 0) {
		fprintf(stderr, "unknown feature '%s'\n", item);
		return -EINVAL;
	}
	o->vm.driver_features &= ~VMS_BIT((unsigned int)b);
	return 0;
}

static int
stats_item(char *item, struct vmsim_opts *o)
{
	char *eq = strchr(item, '=');
	uint64_t v;
	int tag;

	if (eq == NULL)
		return -EINVAL;
	*eq = '\0';
	tag = stat_tag(item);
	if (tag < 0 || vmsim_parse_size(eq + 1, &v) < 0) {
		fprintf(stderr, "bad stats value '%s=%s'\n", item, eq + 1);
		return -EINVAL;
	}
	o->stats_val[tag] = v;
	o->stats_set |= 1U << tag;
	return 0;
}

static int
parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
vmsim_parse(int argc, char **argv, struct vmsim_opts *o)
{
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	vms_vm_params_init(&o->vm);
	o->vm.connect_timeout_ms = 10000;
	o->report_blocks = VMS_REPORT_CAPACITY;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		int ret = 0;

		switch (c) {
		case OPT_SOCKET:
			if (o->nsockets >= VMSIM_MAX_GUESTS)
				return -E2BIG;
			o->sockets[o->nsockets++] = optarg;
			break;
		case OPT_MEM:
			ret = vmsim_parse_size(optarg, &o->vm.mem_bytes);
			break;
		case OPT_BACKING:
			if (strcmp(optarg, "memfd") == 0)
				o->vm.backing = VMS_BACKING_MEMFD;
			else if (strcmp(optarg, "hugetlbfs") == 0)
				o->vm.backing = VMS_BACKING_HUGETLBFS;
			else if (strcmp(optarg, "memfd-hugetlb") == 0)
				o->vm.backing = VMS_BACKING_MEMFD_HUGETLB;
			else
				ret = -EINVAL;
			break;
		case OPT_HUGETLBFS:
			o->vm.hugetlbfs_dir = optarg;
			break;
		case OPT_SPLIT:
			o->vm.split_regions = true;
			break;
		case OPT_PATTERN:
			if (strcmp(optarg, "sequential") == 0)
				o->vm.pattern = VMS_PATTERN_SEQUENTIAL;
			else if (strcmp(optarg, "reverse") == 0)
				o->vm.pattern = VMS_PATTERN_REVERSE;
			else if (strcmp(optarg, "random") == 0)
				o->vm.pattern = VMS_PATTERN_RANDOM;
			else if (strcmp(optarg, "fragmented") == 0)
				o->vm.pattern = VMS_PATTERN_FRAGMENTED;
			else
				ret = -EINVAL;
			break;
		case OPT_SEED:
			ret = parse_uint(optarg, UINT64_MAX, &o->vm.seed);
			break;
		case OPT_NUM_VQS:
			ret = parse_uint(optarg, 64, &v);
			o->vm.num_vqs = (uint32_t)v;
			break;
		case OPT_VQ_SIZE:
			ret = parse_uint(optarg, 1024, &v);
			o->vm.vq_size = (uint16_t)v;
			break;
		case OPT_CONFIG_SIZE:
			ret = parse_uint(optarg, VMS_MAX_CONFIG_SIZE, &v);
			o->vm.config_size = (uint32_t)v;
			break;
		case OPT_DECLINE:
			ret = each_item(optarg, decline_item, o);
			break;
		case OPT_POISON:
			o->vm.page_poison = true;
			break;
		case OPT_INIT_ON_FREE:
			o->vm.init_on_free = true;
			break;
		case OPT_NO_INIT_ON_ALLOC:
			o->vm.init_on_alloc = false;
			break;
		case OPT_ACK:
			if (strcmp(optarg, "interrupt") == 0)
				o->vm.ack_mode = VMS_ACK_INTERRUPT;
			else if (strcmp(optarg, "poll") == 0)
				o->vm.ack_mode = VMS_ACK_POLL;
			else
				ret = -EINVAL;
			break;
		case OPT_FREE:
			ret = parse_uint(optarg, 100, &v);
			o->vm.free_percent = (uint32_t)v;
			break;
		case OPT_STATS:
			ret = each_item(optarg, stats_item, o);
			break;
		case OPT_REPORT_EVERY:
			ret = vmsim_parse_duration_ms(optarg, &o->report_every_ms);
			break;
		case OPT_REPORT_BLOCKS:
			ret = parse_uint(optarg, VMS_REPORT_CAPACITY, &v);
			o->report_blocks = (unsigned int)v;
			break;
		case OPT_VERIFY_EVERY:
			ret = parse_uint(optarg, UINT32_MAX, &v);
			o->verify_every = (unsigned int)v;
			break;
		case OPT_EXIT_AFTER_SETTLE:
			o->exit_after_settle = true;
			break;
		case OPT_DURATION:
			ret = vmsim_parse_duration_ms(optarg, &o->duration_ms);
			break;
		case OPT_CONNECT_TIMEOUT:
			ret = vmsim_parse_duration_ms(optarg, &v);
			o->vm.connect_timeout_ms = (uint32_t)v;
			break;
		case OPT_TIMEOUT:
			ret = vmsim_parse_duration_ms(optarg, &v);
			o->vm.timeout_ms = (uint32_t)v;
			break;
		case OPT_QUIET:
			o->quiet = true;
			break;
		case OPT_LOG:
			o->vm.log = true;
			break;
		case OPT_TRACE:
			o->trace = true;
			break;
		case OPT_REUSE_REPORTED:
			o->vm.reuse_reported = true;
			break;
		case OPT_RECONNECT:
			o->reconnect = true;
			break;
		case 'h':
		case OPT_HELP:
			return 1;
		default:
			return -EINVAL;
		}
		if (ret < 0) {
			fprintf(stderr, "bad value for --%s: '%s'\n",
					long_opts[c - OPT_SOCKET].name, optarg);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (o->nsockets == 0) {
		fprintf(stderr, "at least one --socket is needed\n");
		return -EINVAL;
	}
	if (o->vm.vq_size == 0 || (o->vm.vq_size & (o->vm.vq_size - 1)) != 0) {
		fprintf(stderr, "--vq-size must be a power of two\n");
		return -EINVAL;
	}
	return 0;
}

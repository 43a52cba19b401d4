/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhb_limits.h"
#include "vhost_balloon.h"

#include "perf_options.h"
#include "perf_test.h"

static const char *const backing_names[PERF_BACKING_MAX] = { "memfd", "hugetlbfs" };
static const char *const pattern_names[PERF_PATTERN_MAX] = {
	"sequential", "reverse", "random2m", "fragmented",
};

static const char *const workload_names[PERF_WL_MAX] = {
	"inflate", "deflate", "report", "churn", "idle",
};
static const char *const release_names[PERF_REL_MAX] = { "bulk", "per-page", "none",
								   "unmeasured" };
static const char *const poll_mode_names[PERF_PM_MAX] = {
	"poll", "adaptive", "interrupt", "auto",
};

const char *
perf_poll_mode_name(enum perf_poll_mode m)
{
	return m < PERF_PM_MAX ? poll_mode_names[m] : "?";
}

const char *
perf_workload_name(enum perf_workload w)
{
	return w < PERF_WL_MAX ? workload_names[w] : "?";
}

const char *
perf_release_name(enum perf_release r)
{
	return r < PERF_REL_MAX ? release_names[r] : "?";
}

const char *
perf_backing_name(enum perf_backing b)
{
	return b < PERF_BACKING_MAX ? backing_names[b] : "?";
}

const char *
perf_pattern_name(enum perf_pattern p)
{
	return p < PERF_PATTERN_MAX ? pattern_names[p] : "?";
}

void
perf_options_default(struct perf_options *o)
{
	memset(o, 0, sizeof(*o));
	o->test = "engine";
	o->mem_mib = 256;
	o->backings = (1U << PERF_BACKING_MAX) - 1;
	o->patterns = (1U << PERF_PATTERN_MAX) - 1;
	o->req_pfns = VHB_LINUX_PFNS_PER_REQ;
	o->warmup = 1;
	o->repeat = 1;
	o->seed = 1;
	o->vm_counts[0] = 1;
	o->nvm_counts = 1;
	o->workloads = 1U << PERF_WL_INFLATE;
	o->releases = (1U << PERF_REL_BULK) | (1U << PERF_REL_PER_PAGE) |
		      (1U << PERF_REL_UNMEASURED);
	o->guest_threads = 8;
	o->idle_ms = 300;
	o->poll_modes = (1U << PERF_PM_MAX) - 1;
	o->seconds = 3;
	o->samples = 200;
	o->idle_us = VHB_POLL_IDLE_US_DEFAULT;
	o->think_us[0] = 100;
	o->think_us[1] = 1000;
	o->think_us[2] = 5000;
	o->nthink = 3;
}

static void
usage(const char *prog)
{
	unsigned int i;

	printf("Usage: %s [options]\n"
	       "  --test NAME           test type (default engine):", prog);
	for (i = 0; perf_tests[i] != NULL; i++)
		printf(" %s", perf_tests[i]->name);
	printf("\n"
	       "  --mem MIB             guest memory per backing (default 256)\n"
	       "  --backing LIST        memfd,hugetlbfs or all (default all)\n"
	       "  --pattern LIST        sequential,reverse,random2m,fragmented or all\n"
	       "                        (default all)\n"
	       "  --req-pfns N          PFNs per request (default 256, as Linux)\n"
	       "  --warmup N            unmeasured engine runs per pattern, >= 1 (default 1)\n"
	       "  --repeat N            measured runs per method, median printed (default 1)\n"
	       "  --seed N              seed of the random patterns (default 1)\n"
	       "  --hugetlbfs-dir DIR   2 MiB hugetlbfs mount\n"
	       "                        (default: $VHB_HUGETLBFS, then /proc/mounts)\n"
	       "  --csv                 comma-separated output\n"
	       "  --json                one JSON object per row\n"
	       "test ring only (EAL arguments first, then --):\n"
	       "  --vms LIST            VM counts, one run each (default 1), e.g. 1,64,256,512\n"
	       "  --workload LIST       inflate,deflate,report,churn,idle or all (default inflate)\n"
	       "  --release LIST        bulk,per-page,none,unmeasured or all\n"
	       "                        (default bulk,per-page,unmeasured)\n"
	       "  --volume MIB          balloon per VM (default half of --mem)\n"
	       "  --guest-threads N     threads driving the guests (default 8)\n"
	       "  --idle-ms N           idle measurement period (default 300)\n"
	       "test idle only (EAL arguments first, then --; also --vms, --csv, --json):\n"
	       "  --poll-modes LIST     poll,adaptive,interrupt,auto or all (default all); poll,\n"
	       "                        the baseline, is measured first in any case\n"
	       "  --seconds N           idle CPU and loaded periods per mode (default 3)\n"
	       "  --samples N           idle: first-request-after-idle samples per mode; ctl: round\n"
	       "                        trips per measure (>= 10, default 200)\n"
	       "  --idle-us N           adaptive mode's idle_us (default 1000)\n"
	       "test paced only (EAL arguments first, then --; also --vms (first count),\n"
	       "--mem, --volume, --backing, --poll-modes, --idle-us, --csv, --json):\n"
	       "  --think-us LIST       guest think time after each ack, one run each\n"
	       "                        (default 100,1000,5000)\n"
	       "test neighbours (EAL arguments first, then --; --vms: device counts, e.g.\n"
	       "1,64,256,511; --poll-modes, --seconds per busy run, --idle-ms, --idle-us,\n"
	       "--guest-threads)\n"
	       "  --help\n");
	for (i = 0; perf_tests[i] != NULL; i++)
		printf("test %s: %s\n", perf_tests[i]->name, perf_tests[i]->help);
}

/* "a,b" or "all" against names; sets bits. */
static int
parse_list(const char *arg, const char *const *names, unsigned int n, uint32_t *bits)
{
	char buf[256], *tok, *save = NULL;
	unsigned int i;

	if (strcmp(arg, "all") == 0) {
		*bits = (1U << n) - 1;
		return 0;
	}
	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	*bits = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < n && strcmp(tok, names[i]) != 0; i++)
			;
		if (i == n)
			return -EINVAL;
		*bits |= 1U << i;
	}
	return *bits != 0 ? 0 : -EINVAL;
}

static int
parse_u64(const char *arg, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(arg, &end, 0);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-')
		return -EINVAL;
	return 0;
}

static int
parse_u32(const char *arg, uint32_t *v)
{
	uint64_t x;

	if (parse_u64(arg, &x) != 0 || x > UINT32_MAX)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

/* "1,64,256": at most max numbers, each min to 10^7. */
static int
parse_counts_max(const char *arg, uint32_t *v, uint32_t *n, uint32_t max, uint32_t min)
{
	char buf[256], *tok, *save = NULL;
	uint32_t x;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (*n == max || parse_u32(tok, &x) != 0 || x < min || x > 10000000)
			return -EINVAL;
		v[(*n)++] = x;
	}
	return *n != 0 ? 0 : -EINVAL;
}

/* VM counts: at most PERF_MAX_VM_COUNTS, each 1 to 4096. */
static int
parse_counts(const char *arg, uint32_t *v, uint32_t *n)
{
	uint32_t i;

	if (parse_counts_max(arg, v, n, PERF_MAX_VM_COUNTS, 1) != 0)
		return -EINVAL;
	for (i = 0; i < *n; i++)
		if (v[i] > 4096)
			return -EINVAL;
	return 0;
}

enum {
	OPT_TEST = 256, OPT_MEM, OPT_BACKING, OPT_PATTERN, OPT_REQ_PFNS, OPT_WARMUP, OPT_REPEAT,
	OPT_SEED, OPT_HUGETLBFS_DIR, OPT_CSV, OPT_HELP, OPT_JSON, OPT_VMS, OPT_WORKLOAD,
	OPT_RELEASE, OPT_VOLUME, OPT_GUEST_THREADS, OPT_IDLE_MS, OPT_POLL_MODES, OPT_SECONDS,
	OPT_SAMPLES, OPT_IDLE_US, OPT_THINK_US,
};

static const struct option long_options[] = {
	{ "test", required_argument, NULL, OPT_TEST },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "backing", required_argument, NULL, OPT_BACKING },
	{ "pattern", required_argument, NULL, OPT_PATTERN },
	{ "req-pfns", required_argument, NULL, OPT_REQ_PFNS },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "repeat", required_argument, NULL, OPT_REPEAT },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "hugetlbfs-dir", required_argument, NULL, OPT_HUGETLBFS_DIR },
	{ "csv", no_argument, NULL, OPT_CSV },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "vms", required_argument, NULL, OPT_VMS },
	{ "workload", required_argument, NULL, OPT_WORKLOAD },
	{ "release", required_argument, NULL, OPT_RELEASE },
	{ "volume", required_argument, NULL, OPT_VOLUME },
	{ "guest-threads", required_argument, NULL, OPT_GUEST_THREADS },
	{ "idle-ms", required_argument, NULL, OPT_IDLE_MS },
	{ "poll-modes", required_argument, NULL, OPT_POLL_MODES },
	{ "seconds", required_argument, NULL, OPT_SECONDS },
	{ "samples", required_argument, NULL, OPT_SAMPLES },
	{ "idle-us", required_argument, NULL, OPT_IDLE_US },
	{ "think-us", required_argument, NULL, OPT_THINK_US },
	{ NULL, 0, NULL, 0 },
};

int
perf_options_parse(struct perf_options *o, int argc, char **argv)
{
	int opt, ret = 0;

	while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (opt) {
		case OPT_TEST:
			o->test = optarg;
			break;
		case OPT_MEM:
			ret = parse_u64(optarg, &o->mem_mib);
			break;
		case OPT_BACKING:
			ret = parse_list(optarg, backing_names, PERF_BACKING_MAX, &o->backings);
			break;
		case OPT_PATTERN:
			ret = parse_list(optarg, pattern_names, PERF_PATTERN_MAX, &o->patterns);
			break;
		case OPT_REQ_PFNS:
			ret = parse_u32(optarg, &o->req_pfns);
			break;
		case OPT_WARMUP:
			ret = parse_u32(optarg, &o->warmup);
			break;
		case OPT_REPEAT:
			ret = parse_u32(optarg, &o->repeat);
			break;
		case OPT_SEED:
			ret = parse_u64(optarg, &o->seed);
			break;
		case OPT_HUGETLBFS_DIR:
			o->hugetlbfs_dir = optarg;
			break;
		case OPT_CSV:
			o->csv = 1;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_VMS:
			ret = parse_counts(optarg, o->vm_counts, &o->nvm_counts);
			break;
		case OPT_WORKLOAD:
			ret = parse_list(optarg, workload_names, PERF_WL_MAX, &o->workloads);
			break;
		case OPT_RELEASE:
			ret = parse_list(optarg, release_names, PERF_REL_MAX, &o->releases);
			break;
		case OPT_VOLUME:
			ret = parse_u64(optarg, &o->volume_mib);
			break;
		case OPT_GUEST_THREADS:
			ret = parse_u32(optarg, &o->guest_threads);
			break;
		case OPT_IDLE_MS:
			ret = parse_u32(optarg, &o->idle_ms);
			break;
		case OPT_POLL_MODES:
			ret = parse_list(optarg, poll_mode_names, PERF_PM_MAX, &o->poll_modes);
			break;
		case OPT_SECONDS:
			ret = parse_u32(optarg, &o->seconds);
			break;
		case OPT_SAMPLES:
			ret = parse_u32(optarg, &o->samples);
			break;
		case OPT_IDLE_US:
			ret = parse_u32(optarg, &o->idle_us);
			break;
		case OPT_THINK_US:
			ret = parse_counts_max(optarg, o->think_us, &o->nthink, PERF_MAX_THINK, 0);
			break;
		case 'h':
		case OPT_HELP:
			usage(argv[0]);
			return 1;
		default:
			usage(argv[0]);
			return -EINVAL;
		}
		if (ret != 0) {
			fprintf(stderr, "invalid value for --%s: '%s'\n",
				long_options[opt - OPT_TEST].name, optarg);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

int
perf_options_check(const struct perf_options *o)
{
	if (perf_test_find(o->test) == NULL) {
		fprintf(stderr, "unknown test type '%s'\n", o->test);
		return -EINVAL;
	}
	/* PFNs are 32-bit: at most 16 TiB of guest memory; hugetlbfs needs whole 2 MiB pages. */
	if (o->mem_mib < 2 || o->mem_mib % 2 != 0 || o->mem_mib > (1ULL << 24)) {
		fprintf(stderr, "--mem must be an even number of MiB, 2 to 16 Mi\n");
		return -EINVAL;
	}
	if (o->req_pfns == 0 || o->req_pfns > (1U << 20)) {
		fprintf(stderr, "--req-pfns must be 1 to 1 Mi\n");
		return -EINVAL;
	}
	if (o->volume_mib * 2 > o->mem_mib * 2 || o->guest_threads == 0 ||
	    o->guest_threads > 256) {
		fprintf(stderr, "--volume must be at most --mem; --guest-threads 1 to 256\n");
		return -EINVAL;
	}
	if (o->repeat == 0) {
		fprintf(stderr, "--repeat must be at least 1\n");
		return -EINVAL;
	}
	if (o->seconds == 0 || o->seconds > 60 || o->samples < 10 || o->samples > 100000 ||
	    o->idle_us > 10000000) {
		fprintf(stderr, "--seconds must be 1 to 60, --samples 10 to 100000, --idle-us at"
			" most 10 s\n");
		return -EINVAL;
	}
	return 0;
}

void
perf_options_print(const struct perf_options *o)
{
	unsigned int i;

	printf("# vhost-balloon-perf options\n");
	printf("#   test:          %s\n", o->test);
	printf("#   mem:           %" PRIu64 " MiB per backing\n", o->mem_mib);
	printf("#   backings:     ");
	for (i = 0; i < PERF_BACKING_MAX; i++)
		if (o->backings & (1U << i))
			printf(" %s", backing_names[i]);
	printf("\n#   patterns:     ");
	for (i = 0; i < PERF_PATTERN_MAX; i++)
		if (o->patterns & (1U << i))
			printf(" %s", pattern_names[i]);
	printf("\n#   req-pfns:      %u\n", o->req_pfns);
	printf("#   warmup/repeat: %u/%u (median of the measured runs)\n", o->warmup,
	       o->repeat);
	printf("#   seed:          %" PRIu64 "\n", o->seed);
	printf("#   hugetlbfs-dir: %s\n", o->hugetlbfs_dir != NULL ? o->hugetlbfs_dir :
	       "(auto)");
	if (strcmp(o->test, "engine") == 0)
		return;
	if (strcmp(o->test, "ctl") == 0) {
		printf("#   samples:       %u per measure\n", o->samples);
		return;
	}
	printf("#   vms:          ");
	for (i = 0; i < o->nvm_counts; i++)
		printf(" %u", o->vm_counts[i]);
	if (strcmp(o->test, "paced") == 0) {
		printf("\n#   think-us:     ");
		for (i = 0; i < o->nthink; i++)
			printf(" %u", o->think_us[i]);
		printf("\n#   poll-modes:   ");
		for (i = 0; i < PERF_PM_MAX; i++)
			if (o->poll_modes & (1U << i))
				printf(" %s", poll_mode_names[i]);
		printf(", qemu-path (interrupt with per-page release)\n");
		printf("#   volume:        %" PRIu64 " MiB per VM, idle-us: %u\n",
		       o->volume_mib != 0 ? o->volume_mib : o->mem_mib / 2, o->idle_us);
		return;
	}
	if (strcmp(o->test, "neighbours") == 0) {
		printf("\n#   poll-modes:   ");
		for (i = 0; i < PERF_PM_MAX; i++)
			if (o->poll_modes & (1U << i))
				printf(" %s", poll_mode_names[i]);
		printf("\n#   seconds:       %u per busy run, idle-ms: %u, idle-us: %u\n",
		       o->seconds, o->idle_ms, o->idle_us);
		return;
	}
	if (strcmp(o->test, "idle") == 0) {
		printf("\n#   poll-modes:    poll (baseline)");
		for (i = PERF_PM_POLL + 1; i < PERF_PM_MAX; i++)
			if (o->poll_modes & (1U << i))
				printf(" %s", poll_mode_names[i]);
		printf("\n#   seconds:       %u per measurement, samples: %u, idle-us: %u\n",
		       o->seconds, o->samples, o->idle_us);
		return;
	}
	printf("\n#   workloads:    ");
	for (i = 0; i < PERF_WL_MAX; i++)
		if (o->workloads & (1U << i))
			printf(" %s", workload_names[i]);
	printf("\n#   releases:     ");
	for (i = 0; i < PERF_REL_MAX; i++)
		if (o->releases & (1U << i))
			printf(" %s", release_names[i]);
	printf("\n#   volume:        %" PRIu64 " MiB per VM\n",
	       o->volume_mib != 0 ? o->volume_mib : o->mem_mib / 2);
	printf("#   guest-threads: %u, idle-ms: %u\n", o->guest_threads, o->idle_ms);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-balloon-perf options: parsed, checked and printed like test-crypto-perf's. */
#ifndef PERF_OPTIONS_H
#define PERF_OPTIONS_H

#include <stdint.h>

enum perf_backing {
	PERF_BACKING_MEMFD = 0,		/* memfd, 4 KiB pages */
	PERF_BACKING_HUGETLBFS,		/* hugetlbfs, 2 MiB pages */
	PERF_BACKING_MAX,
};

enum perf_pattern {
	PERF_PATTERN_SEQUENTIAL = 0,	/* requests low to high, PFNs ascending */
	PERF_PATTERN_REVERSE,		/* high to low, PFNs descending: what Linux does */
	PERF_PATTERN_RANDOM2M,		/* 2 MiB frames in order, PFNs shuffled within each */
	PERF_PATTERN_FRAGMENTED,	/* runs of 1-32 pages, runs shuffled over all memory */
	PERF_PATTERN_MAX,
};

enum perf_workload {
	PERF_WL_INFLATE = 0,		/* balloon up to --volume */
	PERF_WL_DEFLATE,		/* balloon back down to 0 (inflate first, unmeasured) */
	PERF_WL_REPORT,			/* free page reporting of --volume (guest churn between) */
	PERF_WL_CHURN,			/* report, inflate, deflate, twice */
	PERF_WL_IDLE,			/* devices connected, nothing to do: poll cost */
	PERF_WL_MAX,
};

enum perf_release {
	PERF_REL_BULK = 0,		/* VHB_DEVICE_RELEASE_* in this order */
	PERF_REL_PER_PAGE,
	PERF_REL_NONE,
	PERF_REL_UNMEASURED,		/* bulk without measuring what was regained */
	PERF_REL_MAX,
};

/* Polling modes of --test idle and paced, in the order they are measured (poll first). */
enum perf_poll_mode {
	PERF_PM_POLL = 0,		/* VHB_POLL_BUSY */
	PERF_PM_ADAPTIVE,		/* VHB_POLL_ADAPTIVE */
	PERF_PM_INTERRUPT,		/* VHB_POLL_INTERRUPT */
	PERF_PM_AUTO,			/* VHB_POLL_AUTO */
	PERF_PM_MAX,
};

#define PERF_MAX_VM_COUNTS	16
#define PERF_MAX_THINK		8

struct perf_options {
	const char *test;		/* test type, e.g. "engine" */
	uint64_t mem_mib;		/* guest memory per backing */
	uint32_t backings;		/* bit per enum perf_backing */
	uint32_t patterns;		/* bit per enum perf_pattern */
	uint32_t req_pfns;		/* PFNs per request (Linux: 256) */
	uint32_t warmup;		/* unmeasured engine runs per pattern (at least 1) */
	uint32_t repeat;		/* measured repetitions; the median is printed */
	uint64_t seed;
	int csv;
	const char *hugetlbfs_dir;	/* NULL: env VHB_HUGETLBFS, then /proc/mounts */
	/* Test ring (EAL, backend and simulated guests in this process). */
	int eal;			/* rte_eal_init() done (EAL args before "--") */
	int json;
	uint32_t vm_counts[PERF_MAX_VM_COUNTS];	/* --vms: one run per count */
	uint32_t nvm_counts;
	uint32_t workloads;		/* bit per enum perf_workload */
	uint32_t releases;		/* bit per enum perf_release */
	uint64_t volume_mib;		/* balloon per VM; 0: half of --mem */
	uint32_t guest_threads;		/* threads driving the guests */
	uint32_t idle_ms;		/* measured idle period */
	/* Test idle (EAL; one poll lcore, its polling modes). */
	uint32_t poll_modes;		/* bit per enum perf_poll_mode */
	uint32_t seconds;		/* per idle-CPU and per loaded measurement */
	uint32_t samples;		/* first-request-after-idle samples per mode */
	uint32_t idle_us;		/* adaptive: sleep after this long without work */
	/* Test paced (guests that think between balloon steps). */
	uint32_t think_us[PERF_MAX_THINK];	/* --think-us: one run per think time */
	uint32_t nthink;
};

const char *perf_backing_name(enum perf_backing b);
const char *perf_pattern_name(enum perf_pattern p);
const char *perf_workload_name(enum perf_workload w);
const char *perf_release_name(enum perf_release r);
const char *perf_poll_mode_name(enum perf_poll_mode m);

void perf_options_default(struct perf_options *o);
/* 0, 1 for --help (usage printed), -EINVAL (message printed). */
int perf_options_parse(struct perf_options *o, int argc, char **argv);
int perf_options_check(const struct perf_options *o);
void perf_options_print(const struct perf_options *o);

#endif /* PERF_OPTIONS_H */

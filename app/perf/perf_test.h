/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test types of vhost-balloon-perf. Each lives in its own perf_test_<name>.c and
 * is listed once in perf_tests[] (main.c).
 */
#ifndef PERF_TEST_H
#define PERF_TEST_H

#include "perf_options.h"
#include "perf_tsc.h"

struct perf_test {
	const char *name;
	const char *help;
	/* Measure and print; 0 or -errno. */
	int (*run)(const struct perf_options *opts, const struct perf_tsc *tsc);
};

extern const struct perf_test *const perf_tests[];	/* NULL-terminated */

const struct perf_test *perf_test_find(const char *name);

extern const struct perf_test perf_test_engine;
extern const struct perf_test perf_test_ring;
extern const struct perf_test perf_test_idle;
extern const struct perf_test perf_test_paced;
extern const struct perf_test perf_test_ctl;
extern const struct perf_test perf_test_neighbours;

#endif /* PERF_TEST_H */

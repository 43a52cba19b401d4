/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-balloon-perf: measures the balloon backend and prints the numbers beside
 * baselines measured in the same run. Shaped like DPDK's test-crypto-perf: parse
 * the options, check them, print them, then the test type warms up, measures with
 * the TSC and prints aligned rows (or --csv). No EAL: the TSC frequency is
 * calibrated against CLOCK_MONOTONIC.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <rte_eal.h>

#include "vhost_balloon.h"

#include "perf_options.h"
#include "perf_test.h"
#include "perf_tsc.h"

const struct perf_test *const perf_tests[] = {
	&perf_test_engine,
	&perf_test_ring,
	&perf_test_idle,
	&perf_test_paced,
	&perf_test_ctl,
	&perf_test_neighbours,
	NULL,
};

const struct perf_test *
perf_test_find(const char *name)
{
	unsigned int i;

	for (i = 0; perf_tests[i] != NULL; i++)
		if (strcmp(perf_tests[i]->name, name) == 0)
			return perf_tests[i];
	return NULL;
}

static void
print_machine(const struct perf_tsc *tsc)
{
	char line[512], model[256] = "?";
	struct utsname u;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			char *c = strchr(line, ':');

			if (strncmp(line, "model name", 10) == 0 && c != NULL) {
				snprintf(model, sizeof(model), "%s", c + 2);
				model[strcspn(model, "\n")] = '\0';
				break;
			}
		}
		fclose(f);
	}
	if (uname(&u) != 0)
		snprintf(u.release, sizeof(u.release), "?");
	printf("# machine: %ld CPUs, %s, Linux %s\n", sysconf(_SC_NPROCESSORS_ONLN), model,
	       u.release);
	printf("# TSC: %.3f GHz, calibrated against CLOCK_MONOTONIC over 200 ms%s\n",
	       (double)tsc->hz / 1e9, tsc->invariant ? "" :
	       " (no constant_tsc/nonstop_tsc flag: times may drift)");
}

int
main(int argc, char **argv)
{
	const struct perf_test *test;
	struct perf_options opts;
	struct perf_tsc tsc;
	int ret, i, eal = 0;

	/* EAL arguments come before "--" (test ring runs the backend in this process). */
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			eal = 1;
	if (eal) {
		vhb_log_defaults();	/* the daemon's; --log-level overrides */
		ret = rte_eal_init(argc, argv);
		if (ret < 0) {
			fprintf(stderr, "EAL init failed\n");
			return EXIT_FAILURE;
		}
		argc -= ret;
		argv += ret;
		optind = 1;
	}
	perf_options_default(&opts);
	opts.eal = eal;
	ret = perf_options_parse(&opts, argc, argv);
	if (ret != 0)
		return ret > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	if (perf_options_check(&opts) != 0)
		return EXIT_FAILURE;
	perf_options_print(&opts);
	if (perf_tsc_calibrate(&tsc, 200) != 0) {
		fprintf(stderr, "TSC calibration failed\n");
		return EXIT_FAILURE;
	}
	print_machine(&tsc);
	fflush(stdout);
	test = perf_test_find(opts.test);
	ret = test->run(&opts, &tsc);
	if (ret != 0) {
		fprintf(stderr, "test %s failed: %s\n", test->name, strerror(-ret));
		return EXIT_FAILURE;
	}
	if (eal)
		rte_eal_cleanup();
	return EXIT_SUCCESS;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/* The check macro and skip code of the backend's C tests (unit, functional, hostile). */
#ifndef VHB_TEST_CHECK_H
#define VHB_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

/* meson's exit code for a skipped test. */
#define TEST_SKIP	77

/* Checks run in this file (some tests print it). */
static int test_checks __attribute__((unused));

/* Stop the test at the first failed check, saying where and why. */
#define CHECK(cond, ...) do { \
	test_checks++; \
	if (!(cond)) { \
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fprintf(stderr, "\n"); \
		exit(1); \
	} \
} while (0)

#endif /* VHB_TEST_CHECK_H */

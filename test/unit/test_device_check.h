/* SPDX-License-Identifier: BSD-3-Clause */
/* A check macro for the device's unit tests (no EAL). */
#ifndef TEST_DEVICE_CHECK_H
#define TEST_DEVICE_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int test_checks;

#define CHECK(cond, ...) do { \
	test_checks++; \
	if (!(cond)) { \
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fprintf(stderr, "\n"); \
		exit(1); \
	} \
} while (0)

#endif /* TEST_DEVICE_CHECK_H */

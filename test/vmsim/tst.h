/* SPDX-License-Identifier: BSD-3-Clause */
/* Tiny assertion helpers for vmsim's tests. */
#ifndef VMS_TEST_TST_H
#define VMS_TEST_TST_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int tst_failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		tst_failures++; \
	} \
} while (0)

#define CHECK_EQ(a, b) do { \
	long long va_ = (long long)(a), vb_ = (long long)(b); \
	if (va_ != vb_) { \
		fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", __FILE__, \
			__LINE__, #a, va_, #b, vb_); \
		tst_failures++; \
	} \
} while (0)

#define REQUIRE(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
		exit(1); \
	} \
} while (0)

static inline int
tst_done(const char *name)
{
	if (tst_failures != 0) {
		fprintf(stderr, "%s: %d failure(s)\n", name, tst_failures);
		return 1;
	}
	printf("%s: ok\n", name);
	return 0;
}

/* A per-process socket path under /tmp. */
static inline void
tst_sock_path(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "/tmp/vmsim-%s-%d.sock", tag, (int)getpid());
}

#endif /* VMS_TEST_TST_H */

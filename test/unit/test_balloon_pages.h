/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TEST_BALLOON_PAGES_H
#define TEST_BALLOON_PAGES_H

/* Page tracking and release cases on one backing ("memfd" or "hugetlbfs"). */
int test_balloon_pages_main(const char *kind);

/* Random inflate/deflate/report operations against an independent model. */
int test_integrity_main(const char *kind);

#endif /* TEST_BALLOON_PAGES_H */

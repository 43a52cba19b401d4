/* SPDX-License-Identifier: BSD-3-Clause */
#include "test_balloon_pages.h"

int
main(void)
{
	return test_balloon_pages_main("hugetlbfs");
}

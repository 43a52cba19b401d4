/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The auto polling mode's decision (vhb_poll_auto.h): sparse requests are slept
 * through at once, dense ones polled through, a burst after a quiet spell is polled
 * from its second request, the budget is capped, and a sleep never counts as free.
 * Times in microseconds here; the loop uses TSC cycles (the functions are unit-free).
 */

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "vhb_poll_auto.h"
#include "vhb_test_check.h"

#define CAP	1000	/* idle_us */
#define FLOOR	2	/* the least a sleep costs */

int
main(void)
{
	uint64_t avg = 0, i;

	/* A Linux guest's 1 MiB steps: 0.1-5 ms apart, a sleep costs ~20 us: sleep at once. */
	CHECK(vhb_auto_spin(139, 139, 22, FLOOR, CAP) == 0, "paced guest: no polling");
	CHECK(vhb_auto_spin(5000, 5000, 22, FLOOR, CAP) == 0, "5 ms apart: no polling");
	/* Dense: gaps shorter than twice a sleep's cost are polled through, twice over. */
	CHECK(vhb_auto_spin(10, 10, 22, FLOOR, CAP) == 20, "10 us gaps: poll 20 us");
	CHECK(vhb_auto_spin(43, 43, 22, FLOOR, CAP) == 86, "just below break-even");
	CHECK(vhb_auto_spin(44, 44, 22, FLOOR, CAP) == 0, "at break-even: sleep");
	/* The budget never passes idle_us. */
	CHECK(vhb_auto_spin(900, 900, 1000, FLOOR, CAP) == CAP, "capped at idle_us");
	/* An unmeasured (or tiny) sleep cost counts as the floor: 3 us gaps are not polled. */
	CHECK(vhb_auto_spin(3, 3, 0, FLOOR, CAP) == 6 && vhb_auto_spin(4, 4, 0, FLOOR, CAP) == 0,
	      "sleep cost floor");
	/* A burst after a quiet spell: the average is still long, the last gap short. */
	CHECK(vhb_auto_spin(4000, 8, 22, FLOOR, CAP) == 16, "burst polled from its 2nd request");
	/* One late request in a dense stream does not stop the polling. */
	CHECK(vhb_auto_spin(9, 300, 22, FLOOR, CAP) == 18, "one long gap in a dense stream");
	/* The moving average: first sample whole, then a quarter of each. */
	CHECK(vhb_auto_ewma(0, 400) == 400 && vhb_auto_ewma(400, 0) == 300 &&
	      vhb_auto_ewma(400, 800) == 500, "moving average");
	/* Sparse traffic that turns dense: within a few requests the average follows. */
	avg = 4000;
	for (i = 0; i < 20 && vhb_auto_spin(avg, 10, 22, FLOOR, CAP) != 0; i++)
		avg = vhb_auto_ewma(avg, 10);
	CHECK(vhb_auto_spin(avg, 10, 22, FLOOR, CAP) == 20, "dense after sparse");
	for (i = 0; i < 20 && avg >= 44; i++)
		avg = vhb_auto_ewma(avg, 10);
	CHECK(avg < 44 && i < 20, "the average drops below break-even in %" PRIu64
	      " requests", i);
	printf("poll-auto: %d checks passed\n", test_checks);
	return 0;
}

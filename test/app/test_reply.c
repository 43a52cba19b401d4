/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests (no EAL) of command replies: exact JSON, text tables and error replies. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vhbd_reply.h"

static int failures;

static void
expect(int line, struct vhbd_reply *r, const char *want)
{
	const char *got = vhbd_reply_finish(r);

	if (strcmp(got, want) != 0) {
		fprintf(stderr, "test_reply.c:%d: FAIL:\n got: [%s]\nwant: [%s]\n", line, got,
			want);
		failures++;
	}
	vhbd_reply_free(r);
}

static void
devices(struct vhbd_reply *r)
{
	vhbd_reply_list_begin(r, "devices");
	vhbd_reply_obj_begin(r, NULL);
	vhbd_reply_str(r, "name", "vm1");
	vhbd_reply_bytes(r, "target", 1ULL << 30);
	vhbd_reply_id(r, "lcore", -1);
	vhbd_reply_obj_end(r);
	vhbd_reply_obj_begin(r, NULL);
	vhbd_reply_str(r, "name", "database");
	vhbd_reply_bytes(r, "target", 0);
	vhbd_reply_int(r, "lcore", 1);
	vhbd_reply_obj_end(r);
	vhbd_reply_list_end(r);
}

int
main(void)
{
	struct vhbd_reply r;

	printf("test_reply: reply rendering (no guest memory)\n");

	vhbd_reply_init(&r, VHBD_FMT_JSON);
	devices(&r);
	expect(__LINE__, &r, "{\"devices\":[{\"name\":\"vm1\",\"target_bytes\":1073741824,"
		"\"lcore\":-1},{\"name\":\"database\",\"target_bytes\":0,\"lcore\":1}]}\n");

	vhbd_reply_init(&r, VHBD_FMT_TEXT);
	devices(&r);
	expect(__LINE__, &r,
		"name      target    lcore\n"
		"vm1       1.00 GiB  -\n"
		"database  0 B       1\n");

	vhbd_reply_init(&r, VHBD_FMT_TEXT);
	vhbd_reply_list_begin(&r, "devices");
	vhbd_reply_list_end(&r);
	expect(__LINE__, &r, "(none)\n");

	/* Two tables in one reply ("show lcores"): each with its own columns. */
	vhbd_reply_init(&r, VHBD_FMT_TEXT);
	devices(&r);
	vhbd_reply_text(&r, "\n");
	vhbd_reply_list_begin(&r, "lcores");
	vhbd_reply_obj_begin(&r, NULL);
	vhbd_reply_u64(&r, "lcore", 1);
	vhbd_reply_str(&r, "mode", "interrupt");
	vhbd_reply_obj_end(&r);
	vhbd_reply_list_end(&r);
	expect(__LINE__, &r,
		"name      target    lcore\n"
		"vm1       1.00 GiB  -\n"
		"database  0 B       1\n"
		"\n"
		"lcore  mode\n"
		"1      interrupt\n");

	vhbd_reply_init(&r, VHBD_FMT_JSON);
	vhbd_reply_str(&r, "device", "a\"b\\c\n\x01");
	vhbd_reply_obj_begin(&r, "stats");
	vhbd_reply_u64(&r, "swap-in", 5);
	vhbd_reply_bool(&r, "ok", true);
	vhbd_reply_obj_end(&r);
	vhbd_reply_double(&r, "age_s", 1.25, 1);
	expect(__LINE__, &r, "{\"device\":\"a\\\"b\\\\c\\u000a\\u0001\",\"stats\":{\"swap-in\":5,"
		"\"ok\":true},\"age_s\":1.2}\n");

	vhbd_reply_init(&r, VHBD_FMT_TEXT);
	vhbd_reply_str(&r, "device", "vm1");
	vhbd_reply_obj_begin(&r, "stats");
	vhbd_reply_u64(&r, "swap_in", 5);
	vhbd_reply_obj_end(&r);
	expect(__LINE__, &r,
		"device:                vm1\n"
		"stats:\n"
		"  swap in:               5\n");

	/* An error replaces whatever the command wrote before it. */
	vhbd_reply_init(&r, VHBD_FMT_JSON);
	vhbd_reply_str(&r, "device", "vm1");
	vhbd_reply_error(&r, "not_found", "no device '%s'", "x\"y");
	vhbd_reply_str(&r, "ignored", "after the error");
	expect(__LINE__, &r, "{\"error\":{\"code\":\"not_found\",\"message\":\"no device "
		"'x\\\"y'\"}}\n");

	vhbd_reply_init(&r, VHBD_FMT_TEXT);
	vhbd_reply_errno(&r, -ERANGE, "vm1");
	expect(__LINE__, &r, "error: vm1: Numerical result out of range\n");

	vhbd_reply_init(&r, VHBD_FMT_JSON);
	vhbd_reply_errno(&r, -ENOTCONN, "vm1");
	expect(__LINE__, &r, "{\"error\":{\"code\":\"not_connected\",\"message\":"
		"\"vm1: Transport endpoint is not connected\"}}\n");

	if (failures != 0) {
		printf("test_reply: %d failures\n", failures);
		return 1;
	}
	printf("test_reply: all passed\n");
	return 0;
}

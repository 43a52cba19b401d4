/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Command replies written once, rendered two ways: JSON (the control socket; one line) or
 * aligned text for people (the CLI). A list of objects becomes a table in text; an object
 * becomes "key: value" lines. Byte counts are numbers in JSON (key + "_bytes") and "1.50 GiB"
 * in text.
 */
#ifndef VHBD_REPLY_H
#define VHBD_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vhbd_fmt {
	VHBD_FMT_TEXT,
	VHBD_FMT_JSON,
};

#define VHBD_REPLY_DEPTH	6
/* A reply bigger than this is replaced by a "too_big" error ("show metrics" of 500 VMs fits). */
#define VHBD_REPLY_MAX		(2 << 20)
#define VHBD_TABLE_COLS		16

struct vhbd_table_cell {
	char key[24];
	char val[112];
};

struct vhbd_reply {
	enum vhbd_fmt fmt;
	char *buf;
	size_t len, cap;
	bool oom;			/* the reply outgrew VHBD_REPLY_MAX or malloc failed */
	bool failed;			/* vhbd_reply_error() was called */
	bool quit;			/* "quit": the front end should end */
	int depth;
	bool first[VHBD_REPLY_DEPTH];	/* JSON: no comma before the next member */
	bool in_list[VHBD_REPLY_DEPTH];
	/* Text tables: rows buffered until the list ends, then printed with column widths. */
	struct vhbd_table_cell *cells;
	unsigned int ncells, cells_cap, ncols, row_cells;
	int list_depth;			/* depth of the open text table, -1 none */
};

void vhbd_reply_init(struct vhbd_reply *r, enum vhbd_fmt fmt);
void vhbd_reply_free(struct vhbd_reply *r);

/* Finish the reply (closes the top-level object in JSON, appends "\n"); returns the text. */
const char *vhbd_reply_finish(struct vhbd_reply *r);

/*
 * An error reply replaces anything written so far: JSON {"error":{"code":C,"message":M}},
 * text "error: M". code is a short stable word (see docs/control-socket.md).
 */
void vhbd_reply_error(struct vhbd_reply *r, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Error from a -errno of the device API. */
void vhbd_reply_errno(struct vhbd_reply *r, int err, const char *what);

void vhbd_reply_obj_begin(struct vhbd_reply *r, const char *key);
void vhbd_reply_obj_end(struct vhbd_reply *r);
void vhbd_reply_list_begin(struct vhbd_reply *r, const char *key);
void vhbd_reply_list_end(struct vhbd_reply *r);

void vhbd_reply_str(struct vhbd_reply *r, const char *key, const char *val);
void vhbd_reply_u64(struct vhbd_reply *r, const char *key, uint64_t val);
void vhbd_reply_int(struct vhbd_reply *r, const char *key, int64_t val);
/* An id that may be unknown: -1 in JSON, "-" in text. */
void vhbd_reply_id(struct vhbd_reply *r, const char *key, int64_t val);
void vhbd_reply_bool(struct vhbd_reply *r, const char *key, bool val);
/* val with decimals (a percentage, an age in seconds). */
void vhbd_reply_double(struct vhbd_reply *r, const char *key, double val, int decimals);
/* JSON key "<key>_bytes" with the number; text "<key>" with a human size. */
void vhbd_reply_bytes(struct vhbd_reply *r, const char *key, uint64_t bytes);
/* Plain text line (text replies only; ignored in JSON). */
void vhbd_reply_text(struct vhbd_reply *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Text of any length, as it is (text replies only; ignored in JSON). */
void vhbd_reply_raw(struct vhbd_reply *r, const char *text);

#endif /* VHBD_REPLY_H */

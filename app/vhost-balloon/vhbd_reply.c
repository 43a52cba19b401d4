/* SPDX-License-Identifier: BSD-3-Clause */
/* Command replies: JSON for the control socket, aligned text for the CLI. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhbd_parse.h"
#include "vhbd_reply.h"

static void
put(struct vhbd_reply *r, const char *s, size_t n)
{
	size_t cap;
	char *nb;

	if (r->oom)
		return;
	if (r->len + n + 1 > r->cap) {
		cap = r->cap == 0 ? 1024 : r->cap;
		while (cap < r->len + n + 1)
			cap *= 2;
		nb = cap > VHBD_REPLY_MAX ? NULL : realloc(r->buf, cap);
		if (nb == NULL) {
			r->oom = true;
			return;
		}
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->buf[r->len] = '\0';
}

static void
puts_(struct vhbd_reply *r, const char *s)
{
	put(r, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
putf(struct vhbd_reply *r, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(r, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* JSON string with the escapes RFC 8259 requires. */
static void
put_json_str(struct vhbd_reply *r, const char *s)
{
	char esc[8];

	puts_(r, "\"");
	for (; *s != '\0'; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = c;
			put(r, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			puts_(r, esc);
		} else {
			put(r, (const char *)&c, 1);
		}
	}
	puts_(r, "\"");
}

void
vhbd_reply_init(struct vhbd_reply *r, enum vhbd_fmt fmt)
{
	memset(r, 0, sizeof(*r));
	r->fmt = fmt;
	r->first[0] = true;
	r->list_depth = -1;
	if (fmt == VHBD_FMT_JSON)
		puts_(r, "{");
	else
		puts_(r, "");
}

void
vhbd_reply_free(struct vhbd_reply *r)
{
	free(r->buf);
	free(r->cells);
	memset(r, 0, sizeof(*r));
}

void
vhbd_reply_error(struct vhbd_reply *r, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->len = 0;
	r->oom = false;
	r->failed = true;
	r->ncells = 0;
	r->list_depth = -1;
	if (r->fmt == VHBD_FMT_JSON) {
		puts_(r, "{\"error\":{\"code\":");
		put_json_str(r, code);
		puts_(r, ",\"message\":");
		put_json_str(r, msg);
		puts_(r, "}}\n");
	} else {
		putf(r, "error: %s\n", msg);
	}
}

void
vhbd_reply_errno(struct vhbd_reply *r, int err, const char *what)
{
	const char *code;

	switch (-err) {
	case ENOENT: code = "not_found"; break;
	case EINVAL: code = "invalid_argument"; break;
	case ERANGE: code = "out_of_range"; break;
	case EEXIST: code = "exists"; break;
	case EBUSY: code = "busy"; break;
	case ENOTCONN: code = "not_connected"; break;
	case ENOTSUP: code = "not_supported"; break;
	case ENOSPC: code = "no_space"; break;
	default: code = "failed"; break;
	}
	vhbd_reply_error(r, code, "%s: %s", what, strerror(-err));
}

const char *
vhbd_reply_finish(struct vhbd_reply *r)
{
	if (r->oom) {
		free(r->buf);
		r->buf = NULL;
		r->cap = r->len = 0;
		vhbd_reply_error(r, "too_big", "reply larger than %d bytes", VHBD_REPLY_MAX);
	} else if (!r->failed && r->fmt == VHBD_FMT_JSON) {
		puts_(r, "}\n");
	}
	return r->buf != NULL ? r->buf : "";
}

/* Text label of a key: "in_balloon" -> "in balloon". */
static void
label(const char *key, char *out, size_t len)
{
	size_t i;

	for (i = 0; key[i] != '\0' && i + 1 < len; i++)
		out[i] = key[i] == '_' ? ' ' : key[i];
	out[i] = '\0';
}

static bool
in_table(const struct vhbd_reply *r)
{
	return r->list_depth >= 0 && r->depth > r->list_depth;
}

/* JSON: comma and key as needed for the next member at the current depth. */
static void
json_key(struct vhbd_reply *r, const char *key)
{
	if (!r->first[r->depth])
		puts_(r, ",");
	r->first[r->depth] = false;
	if (!r->in_list[r->depth] && key != NULL) {
		put_json_str(r, key);
		puts_(r, ":");
	}
}

static void
text_scalar(struct vhbd_reply *r, const char *key, const char *val)
{
	struct vhbd_table_cell *c;
	unsigned int cap;
	char lab[64];

	if (in_table(r)) {
		if (r->ncells == r->cells_cap) {
			cap = r->cells_cap == 0 ? 64 : r->cells_cap * 2;
			c = realloc(r->cells, cap * sizeof(*c));
			if (c == NULL) {
				r->oom = true;
				return;
			}
			r->cells = c;
			r->cells_cap = cap;
		}
		c = &r->cells[r->ncells++];
		label(key, c->key, sizeof(c->key));
		snprintf(c->val, sizeof(c->val), "%s", val);
		r->row_cells++;
		return;
	}
	label(key, lab, sizeof(lab));
	strcat(lab, ":");
	putf(r, "%*s%-22s %s\n", 2 * r->depth, "", lab, val);
}

static void
scalar(struct vhbd_reply *r, const char *key, const char *json, const char *text)
{
	if (r->failed)
		return;
	if (r->fmt == VHBD_FMT_JSON) {
		json_key(r, key);
		puts_(r, json);
	} else {
		text_scalar(r, key, text);
	}
}

void
vhbd_reply_obj_begin(struct vhbd_reply *r, const char *key)
{
	char lab[64];

	if (r->failed || r->depth + 1 >= VHBD_REPLY_DEPTH)
		return;
	if (r->fmt == VHBD_FMT_JSON) {
		json_key(r, key);
		puts_(r, "{");
	} else if (in_table(r)) {
		r->row_cells = 0;
	} else if (key != NULL) {
		label(key, lab, sizeof(lab));
		putf(r, "%*s%s:\n", 2 * r->depth, "", lab);
	}
	r->depth++;
	r->first[r->depth] = true;
	r->in_list[r->depth] = false;
}

void
vhbd_reply_obj_end(struct vhbd_reply *r)
{
	if (r->failed || r->depth == 0)
		return;
	if (r->fmt == VHBD_FMT_JSON)
		puts_(r, "}");
	r->depth--;
	if (r->fmt == VHBD_FMT_TEXT && r->depth == r->list_depth && r->ncols == 0)
		r->ncols = r->row_cells;
}

void
vhbd_reply_list_begin(struct vhbd_reply *r, const char *key)
{
	char lab[64];

	if (r->failed || r->depth + 1 >= VHBD_REPLY_DEPTH)
		return;
	if (r->fmt == VHBD_FMT_JSON) {
		json_key(r, key);
		puts_(r, "[");
	} else if (!in_table(r)) {
		if (r->depth > 0 && key != NULL) {
			label(key, lab, sizeof(lab));
			putf(r, "%*s%s:\n", 2 * r->depth, "", lab);
		}
		r->list_depth = r->depth + 1;
		r->ncells = 0;
		r->ncols = 0;
		r->row_cells = 0;	/* a reply may hold several tables */
	}
	r->depth++;
	r->first[r->depth] = true;
	r->in_list[r->depth] = true;
}

/* Print the buffered table: header from the first row's keys, columns as wide as needed. */
static void
text_table(struct vhbd_reply *r)
{
	unsigned int w[VHBD_TABLE_COLS] = { 0 };
	unsigned int ncols = r->ncols, i, col, indent = 2 * (r->list_depth - 1);
	size_t n;

	if (ncols == 0) {
		putf(r, "%*s(none)\n", indent, "");
		return;
	}
	if (ncols > VHBD_TABLE_COLS)
		ncols = VHBD_TABLE_COLS;
	for (i = 0; i < r->ncells; i++) {
		col = i % r->ncols;
		if (col >= ncols)
			continue;
		n = strlen(r->cells[i].val);
		if (n > w[col])
			w[col] = n;
		n = strlen(r->cells[col].key);
		if (n > w[col])
			w[col] = n;
	}
	putf(r, "%*s", indent, "");
	for (col = 0; col < ncols; col++)
		putf(r, "%-*s%s", col + 1 < ncols ? (int)w[col] : 0, r->cells[col].key,
			col + 1 < ncols ? "  " : "\n");
	for (i = 0; i < r->ncells; i++) {
		col = i % r->ncols;
		if (col >= ncols)
			continue;
		if (col == 0)
			putf(r, "%*s", indent, "");
		putf(r, "%-*s%s", col + 1 < ncols ? (int)w[col] : 0, r->cells[i].val,
			col + 1 < ncols ? "  " : "\n");
	}
}

void
vhbd_reply_list_end(struct vhbd_reply *r)
{
	if (r->failed || r->depth == 0)
		return;
	if (r->fmt == VHBD_FMT_JSON) {
		puts_(r, "]");
	} else if (r->depth == r->list_depth) {
		text_table(r);
		r->list_depth = -1;
		r->ncells = 0;
	}
	r->depth--;
}

void
vhbd_reply_str(struct vhbd_reply *r, const char *key, const char *val)
{
	struct vhbd_reply tmp;

	if (r->failed)
		return;
	if (r->fmt == VHBD_FMT_TEXT) {
		text_scalar(r, key, val);
		return;
	}
	/* Escape into a scratch reply so that scalar() stays one code path. */
	memset(&tmp, 0, sizeof(tmp));
	put_json_str(&tmp, val);
	scalar(r, key, tmp.oom ? "\"\"" : tmp.buf, val);
	free(tmp.buf);
}

void
vhbd_reply_u64(struct vhbd_reply *r, const char *key, uint64_t val)
{
	char s[32];

	snprintf(s, sizeof(s), "%" PRIu64, val);
	scalar(r, key, s, s);
}

void
vhbd_reply_int(struct vhbd_reply *r, const char *key, int64_t val)
{
	char s[32];

	snprintf(s, sizeof(s), "%" PRId64, val);
	scalar(r, key, s, s);
}

void
vhbd_reply_id(struct vhbd_reply *r, const char *key, int64_t val)
{
	char s[32];

	snprintf(s, sizeof(s), "%" PRId64, val < 0 ? -1 : val);
	scalar(r, key, s, val < 0 ? "-" : s);
}

void
vhbd_reply_bool(struct vhbd_reply *r, const char *key, bool val)
{
	scalar(r, key, val ? "true" : "false", val ? "yes" : "no");
}

void
vhbd_reply_double(struct vhbd_reply *r, const char *key, double val, int decimals)
{
	char s[48];

	snprintf(s, sizeof(s), "%.*f", decimals, val);
	scalar(r, key, s, s);
}

void
vhbd_reply_bytes(struct vhbd_reply *r, const char *key, uint64_t bytes)
{
	char k[64], j[32], t[32];

	snprintf(k, sizeof(k), "%s_bytes", key);
	snprintf(j, sizeof(j), "%" PRIu64, bytes);
	vhbd_format_bytes(bytes, t, sizeof(t));
	if (r->fmt == VHBD_FMT_JSON)
		scalar(r, k, j, t);
	else
		scalar(r, key, j, t);
}

void
vhbd_reply_text(struct vhbd_reply *r, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;

	if (r->failed || r->fmt != VHBD_FMT_TEXT)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	puts_(r, tmp);
}

void
vhbd_reply_raw(struct vhbd_reply *r, const char *text)
{
	if (r->failed || r->fmt != VHBD_FMT_TEXT)
		return;
	puts_(r, text);
}

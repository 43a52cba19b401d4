/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The interactive CLI. Its cmdline instructions are generated from the command table: fixed
 * words become string tokens with completion, VM names a token that completes from the live
 * device list, other arguments free words. Every instruction calls the same vhbd_cmd_run().
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmdline.h>
#include <cmdline_parse.h>
#include <cmdline_parse_string.h>
#include <cmdline_rdline.h>
#include <cmdline_socket.h>

#include "vhost_balloon.h"
#include "vhbd_cli.h"
#include "vhbd_commands.h"

/* Where the parsed words and arguments land (one fixed-size slot per token). */
struct cli_result {
	cmdline_fixed_string_t words[VHBD_CMD_WORDS];
	cmdline_fixed_string_t args[VHBD_CMD_ARGS];
};

/* One generated instruction: a command with a given number of its arguments. */
struct cli_variant {
	const struct vhbd_cmd *cmd;
	unsigned int nargs;
	char help[200];
};

static struct vhbd_daemon *cli_daemon;
static struct cmdline *cli;
static cmdline_parse_ctx_t *cli_ctx;
static struct cli_variant *cli_variants;
static cmdline_parse_token_string_t *cli_tokens;
static bool cli_done;

/* Completion of VM names from the devices that exist right now. */
struct name_iter {
	int want, seen;
	char *dst;
	unsigned int size;
};

static int
count_dev(struct vhb_device *dev, void *arg)
{
	(void)dev;
	(*(int *)arg)++;
	return 0;
}

static int
nth_dev(struct vhb_device *dev, void *arg)
{
	struct name_iter *it = arg;
	struct vhb_device_info in;

	if (it->seen++ != it->want)
		return 0;
	if (vhb_device_get_info(dev, &in) != 0)
		return 1;
	snprintf(it->dst, it->size, "%s", in.name);
	return 1;
}

static int
dev_complete_nb(cmdline_parse_token_hdr_t *tk)
{
	int n = 0;

	(void)tk;
	vhb_device_foreach(count_dev, &n);
	return n;
}

static int
dev_complete_elt(cmdline_parse_token_hdr_t *tk, int idx, char *dst, unsigned int size)
{
	struct name_iter it = { .want = idx, .dst = dst, .size = size };

	(void)tk;
	if (size == 0)
		return -1;
	dst[0] = '\0';
	vhb_device_foreach(nth_dev, &it);
	return dst[0] == '\0' ? -1 : 0;
}

static int
dev_help(cmdline_parse_token_hdr_t *tk, char *dst, unsigned int size)
{
	(void)tk;
	snprintf(dst, size, "NAME (a VM name or socket path)");
	return 0;
}

static int
word_help(cmdline_parse_token_hdr_t *tk, char *dst, unsigned int size)
{
	(void)tk;
	snprintf(dst, size, "argument");
	return 0;
}

/*
 * Words completed from a '#'-separated list (string_data.str) but parsed as any word, so that a
 * wrong one reaches the command and gets its clear error instead of cmdline's "Bad arguments".
 */
static int
choice_parse(cmdline_parse_token_hdr_t *tk, const char *buf, void *res, unsigned int ressize)
{
	cmdline_parse_token_string_t any = *(cmdline_parse_token_string_t *)tk;

	any.string_data.str = NULL;
	return cmdline_parse_string(&any.hdr, buf, res, ressize);
}

static int
choice_help(cmdline_parse_token_hdr_t *tk, char *dst, unsigned int size)
{
	cmdline_parse_token_string_t *t = (cmdline_parse_token_string_t *)tk;
	unsigned int i;

	snprintf(dst, size, "one of: %s", t->string_data.str);
	for (i = 0; dst[i] != '\0'; i++) {
		if (dst[i] == '#')
			dst[i] = ' ';
	}
	return 0;
}

static struct cmdline_token_ops choice_token_ops = {
	.parse = choice_parse,
	.complete_get_nb = cmdline_complete_get_nb_string,
	.complete_get_elt = cmdline_complete_get_elt_string,
	.get_help = choice_help,
};

static struct cmdline_token_ops dev_token_ops = {
	.parse = cmdline_parse_string,
	.complete_get_nb = dev_complete_nb,
	.complete_get_elt = dev_complete_elt,
	.get_help = dev_help,
};

static struct cmdline_token_ops word_token_ops = {
	.parse = cmdline_parse_string,
	.get_help = word_help,
};

static void
cli_exec(void *parsed, struct cmdline *cl, void *data)
{
	struct cli_result *res = parsed;
	struct cli_variant *v = data;
	char *args[VHBD_CMD_ARGS];
	struct vhbd_reply r;
	unsigned int i;

	for (i = 0; i < v->nargs; i++)
		args[i] = res->args[i];
	vhbd_reply_init(&r, VHBD_FMT_TEXT);
	vhbd_cmd_run(cli_daemon, v->cmd, args, v->nargs, &r);
	cmdline_printf(cl, "%s", vhbd_reply_finish(&r));
	if (r.quit) {
		cli_done = true;
		cmdline_quit(cl);
		vhbd_daemon_request_stop(cli_daemon);
	}
	vhbd_reply_free(&r);
}

static void
set_token(cmdline_parse_token_string_t *t, struct cmdline_token_ops *ops, size_t offset,
	const char *str)
{
	t->hdr.ops = ops;
	t->hdr.offset = offset;
	t->string_data.str = str;
}

/* Build the cmdline context from the command table. */
static int
build_ctx(void)
{
	unsigned int i, j, k, nw, na, nv = 0, ntok = 0, iv = 0, itok = 0;
	const struct vhbd_cmd *c;
	cmdline_parse_inst_t *inst;
	struct cli_variant *v;

	for (i = 0; i < vhbd_ncmds; i++) {
		nv += vhbd_cmds[i].noptional + 1;
		ntok += (vhbd_cmds[i].noptional + 1) * (VHBD_CMD_WORDS + VHBD_CMD_ARGS);
	}
	cli_ctx = calloc(nv + 1, sizeof(*cli_ctx));
	cli_variants = calloc(nv, sizeof(*cli_variants));
	cli_tokens = calloc(ntok, sizeof(*cli_tokens));
	if (cli_ctx == NULL || cli_variants == NULL || cli_tokens == NULL)
		return -ENOMEM;
	for (i = 0; i < vhbd_ncmds; i++) {
		c = &vhbd_cmds[i];
		for (nw = 0; nw < VHBD_CMD_WORDS && c->words[nw] != NULL; nw++)
			;
		for (na = 0; na < VHBD_CMD_ARGS && c->args[na] != VHBD_ARG_NONE; na++)
			;
		for (k = na - c->noptional; k <= na; k++) {
			inst = calloc(1, sizeof(*inst) + (nw + k + 1) * sizeof(inst->tokens[0]));
			if (inst == NULL)
				return -ENOMEM;
			v = &cli_variants[iv];
			v->cmd = c;
			v->nargs = k;
			snprintf(v->help, sizeof(v->help), "%s: %s", c->usage, c->help);
			inst->f = cli_exec;
			inst->data = v;
			inst->help_str = v->help;
			for (j = 0; j < nw; j++) {
				set_token(&cli_tokens[itok], &cmdline_token_string_ops,
					offsetof(struct cli_result, words[j]), c->words[j]);
				inst->tokens[j] = &cli_tokens[itok++].hdr;
			}
			for (j = 0; j < k; j++) {
				if (c->args[j] == VHBD_ARG_DEVICE)
					set_token(&cli_tokens[itok], &dev_token_ops,
						offsetof(struct cli_result, args[j]), NULL);
				else if (c->args[j] == VHBD_ARG_POLL_MODE)
					set_token(&cli_tokens[itok], &choice_token_ops,
						offsetof(struct cli_result, args[j]),
						VHBD_POLL_MODES);
				else if ((c->args[j] == VHBD_ARG_KEY ||
						c->args[j] == VHBD_ARG_FORMAT) && c->keys != NULL)
					set_token(&cli_tokens[itok], &choice_token_ops,
						offsetof(struct cli_result, args[j]), c->keys);
				else
					set_token(&cli_tokens[itok], &word_token_ops,
						offsetof(struct cli_result, args[j]), NULL);
				inst->tokens[nw + j] = &cli_tokens[itok++].hdr;
			}
			inst->tokens[nw + k] = NULL;
			cli_ctx[iv++] = inst;
		}
	}
	cli_ctx[iv] = NULL;
	return 0;
}

static void
free_ctx(void)
{
	unsigned int i;

	for (i = 0; cli_ctx != NULL && cli_ctx[i] != NULL; i++)
		free(cli_ctx[i]);
	free(cli_ctx);
	free(cli_variants);
	free(cli_tokens);
	cli_ctx = NULL;
	cli_variants = NULL;
	cli_tokens = NULL;
}

int
vhbd_cli_start(struct vhbd_daemon *d)
{
	int ret;

	cli_daemon = d;
	ret = build_ctx();
	if (ret != 0) {
		free_ctx();
		return ret;
	}
	cli = cmdline_stdin_new(cli_ctx, "vhost-balloon> ");
	if (cli == NULL) {
		free_ctx();
		return -ENOMEM;
	}
	return 0;
}

bool
vhbd_cli_input(void)
{
	char buf[256];
	ssize_t n;

	if (cli == NULL || cli_done)
		return false;
	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		cli_done = true;
		return false;
	}
	/* Negative on Ctrl-D at an empty line or after cmdline_quit(). */
	if (cmdline_in(cli, buf, n) < 0)
		cli_done = true;
	return !cli_done;
}

void
vhbd_cli_stop(void)
{
	if (cli != NULL) {
		cmdline_stdin_exit(cli);
		cli = NULL;
	}
	free_ctx();
}

int
vhbd_cli_run_file(struct vhbd_daemon *d, const char *path)
{
	char line[VHBD_LINE_MAX];
	unsigned int lineno = 0;
	const char *txt;
	bool bad;
	struct vhbd_reply r;
	int ret = 0;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL) {
		ret = -errno;
		VHBD_LOG(ERR, "--cmdline-file %s: %s", path, strerror(-ret));
		return ret;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		vhbd_reply_init(&r, VHBD_FMT_TEXT);
		bad = vhbd_cmd_run_line(d, line, &r) != 0;
		txt = vhbd_reply_finish(&r);
		if (bad) {
			VHBD_LOG(ERR, "%s:%u: %.*s", path, lineno, (int)strcspn(txt, "\n"), txt);
			ret = -EINVAL;
		} else if (r.failed) {
			VHBD_LOG(WARNING, "%s:%u: %.*s", path, lineno, (int)strcspn(txt, "\n"),
				txt);
		} else {
			fputs(txt, stdout);
		}
		vhbd_reply_free(&r);
		if (ret != 0)
			break;
	}
	fclose(f);
	fflush(stdout);
	return ret;
}

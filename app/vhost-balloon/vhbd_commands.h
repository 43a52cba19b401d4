/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one table of commands. The CLI (cmdline tokens built from this table) and the control
 * socket (the same words, JSON replies) both run commands through vhbd_cmd_run().
 */
#ifndef VHBD_COMMANDS_H
#define VHBD_COMMANDS_H

#include "vhbd_daemon.h"
#include "vhbd_reply.h"

#define VHBD_CMD_WORDS		2
#define VHBD_CMD_ARGS		8	/* "set policy vm NAME" and three KEY VALUE pairs */
#define VHBD_LINE_MAX		4096	/* longest command line, both front ends */

enum vhbd_arg {
	VHBD_ARG_NONE = 0,
	VHBD_ARG_DEVICE,	/* VM name or socket path */
	VHBD_ARG_SIZE,		/* 512M, 4G ... */
	VHBD_ARG_SECONDS,
	VHBD_ARG_PATH,
	VHBD_ARG_NAME,		/* a new VM name */
	VHBD_ARG_POLL_MODE,	/* auto, adaptive, poll, interrupt */
	VHBD_ARG_KEY,		/* the KEY of an optional "KEY VALUE" pair */
	VHBD_ARG_VALUE,		/* its VALUE */
	VHBD_ARG_FORMAT,	/* a word of the command's keys (e.g. a metrics format) */
};

struct vhbd_cmd {
	const char *words[VHBD_CMD_WORDS];	/* fixed words; unused ones NULL */
	enum vhbd_arg args[VHBD_CMD_ARGS];
	unsigned int noptional;			/* trailing args that may be left out */
	const char *usage;			/* "set target NAME SIZE" */
	const char *help;
	void (*fn)(struct vhbd_daemon *d, char **args, unsigned int nargs, struct vhbd_reply *r);
	const char *keys;			/* VHBD_ARG_KEY/FORMAT completion, '#'-separated */
};

extern const struct vhbd_cmd vhbd_cmds[];
extern const unsigned int vhbd_ncmds;

/* Name of an argument type for help texts ("NAME", "SIZE"). */
const char *vhbd_arg_name(enum vhbd_arg a);

/* The words of VHBD_ARG_POLL_MODE, '#'-separated (CLI completion). */
#define VHBD_POLL_MODES		"auto#adaptive#poll#interrupt"

/* Run one command of the table with its arguments (serialised on d->cmd_lock). */
void vhbd_cmd_run(struct vhbd_daemon *d, const struct vhbd_cmd *c, char **args,
	unsigned int nargs, struct vhbd_reply *r);

/*
 * Split a line into words, find its command and run it. Empty and '#' lines give an empty
 * reply and return 0; an unknown or malformed command gives a "bad_command" error reply and
 * returns -EINVAL. "quit" sets r->quit.
 */
int vhbd_cmd_run_line(struct vhbd_daemon *d, const char *line, struct vhbd_reply *r);

#endif /* VHBD_COMMANDS_H */

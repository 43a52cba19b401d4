/* SPDX-License-Identifier: BSD-3-Clause */
/* Interactive command line (DPDK cmdline, tokens built from the command table). */
#ifndef VHBD_CLI_H
#define VHBD_CLI_H

#include <stdbool.h>

#include "vhbd_daemon.h"

/* Start the CLI on stdin/stdout. */
int vhbd_cli_start(struct vhbd_daemon *d);

/* Feed what stdin has; false once stdin ended or "quit" was given. */
bool vhbd_cli_input(void);

/* Restore the terminal and free the CLI. */
void vhbd_cli_stop(void);

/*
 * Run the commands of a file at start, printing their replies. A line that is not a command
 * is an error naming file:line (-EINVAL); a command that fails is reported and the rest run.
 */
int vhbd_cli_run_file(struct vhbd_daemon *d, const char *path);

#endif /* VHBD_CLI_H */

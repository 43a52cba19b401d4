/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-balloon-vmsim: one process per simulated guest, like one QEMU per VM. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmsim_app.h"

static pid_t children[VMSIM_MAX_GUESTS];
static unsigned int nchildren;

static void
on_signal(int sig)
{
	unsigned int i;

	vmsim_stop = 1;
	/* The parent passes the signal on; each guest prints its summary and exits. */
	for (i = 0; i < nchildren; i++)
		if (children[i] > 0)
			kill(children[i], sig);
}

int
main(int argc, char **argv)
{
	struct vmsim_opts o;
	struct sigaction sa;
	unsigned int i;
	int ret, status = VMSIM_EXIT_OK;

	ret = vmsim_parse(argc, argv, &o);
	if (ret != 0) {
		vmsim_usage(argv[0]);
		return ret > 0 ? VMSIM_EXIT_OK : VMSIM_EXIT_USAGE;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (o.nsockets == 1)
		return vmsim_run_guest(&o, 0);
	for (i = 0; i < o.nsockets; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			fprintf(stderr, "fork: %s\n", strerror(errno));
			status = VMSIM_EXIT_ERROR;
			break;
		}
		if (pid == 0) {
			nchildren = 0;
			_exit(vmsim_run_guest(&o, i));
		}
		children[nchildren++] = pid;
	}
	for (i = 0; i < nchildren; i++) {
		int st;

		while (waitpid(children[i], &st, 0) < 0 && errno == EINTR)
			;
		children[i] = 0;
		if (WIFEXITED(st)) {
			/* The worst outcome wins: corruption over errors. */
			if (WEXITSTATUS(st) == VMSIM_EXIT_CORRUPT || status == VMSIM_EXIT_OK)
				status = WEXITSTATUS(st) > status ? WEXITSTATUS(st) : status;
		} else {
			status = status == VMSIM_EXIT_OK ? VMSIM_EXIT_ERROR : status;
		}
	}
	return status;
}

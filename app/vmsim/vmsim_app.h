/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-balloon-vmsim: simulated QEMU + Linux guests against balloon backend sockets. */
#ifndef VMSIM_APP_H
#define VMSIM_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "vmsim.h"

#define VMSIM_MAX_GUESTS	256

enum vmsim_exit {
	VMSIM_EXIT_OK = 0,
	VMSIM_EXIT_ERROR = 1,		/* connect, protocol or backend failure */
	VMSIM_EXIT_USAGE = 2,
	VMSIM_EXIT_CORRUPT = 3,		/* an integrity check failed */
};

struct vmsim_opts {
	const char *sockets[VMSIM_MAX_GUESTS];
	unsigned int nsockets;
	struct vms_vm_params vm;	/* socket_path set per guest */
	uint64_t stats_val[VMS_STAT_NR];
	uint32_t stats_set;
	uint64_t report_every_ms;	/* 0: never */
	unsigned int report_blocks;
	unsigned int verify_every;	/* verify after every N settled target changes; 0: only
					 * at exit */
	bool exit_after_settle;
	uint64_t duration_ms;		/* 0: until a signal */
	bool quiet;
	bool trace;			/* dump the message trace at exit */
	bool reconnect;			/* on a lost backend: connect again and resume */
};

/* vmsim_opts.c */
int vmsim_parse(int argc, char **argv, struct vmsim_opts *o);
void vmsim_usage(const char *prog);
int vmsim_parse_size(const char *s, uint64_t *out);
int vmsim_parse_duration_ms(const char *s, uint64_t *out);

/* vmsim_guest.c: one guest, in the calling process. Returns an enum vmsim_exit. */
int vmsim_run_guest(const struct vmsim_opts *o, unsigned int idx);
extern volatile int vmsim_stop;

#endif /* VMSIM_APP_H */

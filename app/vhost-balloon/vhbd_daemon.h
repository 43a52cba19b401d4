/* SPDX-License-Identifier: BSD-3-Clause */
/* Daemon-wide state shared by main, the command table and its two front ends. */
#ifndef VHBD_DAEMON_H
#define VHBD_DAEMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <rte_log.h>

#include "vhb_policy.h"
#include "vhbd_params.h"

extern int vhbd_logtype;

#define VHBD_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vhbd_logtype, "vhost-balloon: " fmt "\n", ##__VA_ARGS__)

struct vhbd_daemon {
	struct vhbd_params *params;
	/* One command at a time, whichever front end it came from: a device cannot be
	 * destroyed by "del socket" while another command still holds its pointer.
	 */
	pthread_mutex_t cmd_lock;
	atomic_bool stop;
	int wake_fd;		/* eventfd; written when stop is requested */
	struct vhb_policy *policy;	/* the balancing engine (vhbd_policy.h) */
};

/* Ask the main loop to shut down (any thread). */
void vhbd_daemon_request_stop(struct vhbd_daemon *d);

/*
 * Create the device of one VM (resolving its path against the run dir and filling in the
 * daemon's defaults). Call with cmd_lock held, or before any front end runs.
 */
int vhbd_daemon_add_vm(struct vhbd_daemon *d, const struct vhbd_vm *vm, char *err, size_t len);

#endif /* VHBD_DAEMON_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gate in front of rte_vhost (docs/design.md#the-gate). The library owns each
 * device's public vhost-user socket. One gate thread (vhb-gate) reads every frontend
 * connection non-blocking into a buffer of its own, with its SCM_RIGHTS fds, and
 * hands rte_vhost only whole messages whose payload size is right, over a private
 * connection to a socket rte_vhost serves in a 0700 directory of this process.
 * Replies and anything else rte_vhost writes come back the same way, buffered up to
 * a bound. So rte_vhost's one vhost-events thread never waits on a frontend.
 *
 * A frontend connection is closed, counted (guest_errors) and logged once when it
 * holds a partial message for more than VHB_GATE_PARTIAL_MS, or leaves more than
 * VHB_GATE_OUT_MAX bytes of replies unread. Its private connection is shut with it,
 * so rte_vhost ends that connection as if the frontend had gone.
 */
#ifndef VHB_GATE_H
#define VHB_GATE_H

#include <stddef.h>

struct vhb_device;

/* A message may not stay partial longer than this (ms). */
#define VHB_GATE_PARTIAL_MS	1000
/* Replies the gate holds for a frontend that does not read them (bytes). */
#define VHB_GATE_OUT_MAX	(16u * 1024)
/* Largest payload the gate takes; rte_vhost 22.11's own limit is lower (P-gate). */
#define VHB_GATE_MAX_PAYLOAD	4096u
/* SCM_RIGHTS fds per message (rte_vhost 22.11: VHOST_MEMORY_MAX_NREGIONS). */
#define VHB_GATE_MAX_FDS	8u

/*
 * Name a private socket for rte_vhost to serve (path, len bytes), in the process's
 * private 0700 directory (made on first use). 0 or a negative errno. Every success
 * is paired with one vhb_gate_path_put() once rte_vhost let the path go (the
 * directory is removed with its last user).
 */
int vhb_gate_path_get(char *path, size_t len);
void vhb_gate_path_put(void);

/*
 * Bind and listen on dev->path (prepared by the caller), served by the gate thread
 * from now on (started on first use). rte_vhost must already serve dev->vhost_path.
 * 0 or a negative errno.
 */
int vhb_gate_listen(struct vhb_device *dev);

/*
 * Stop serving dev->path: the listening socket is closed and unlinked, every
 * connection of it closed (rte_vhost sees their private ends close). When this
 * returns the gate no longer touches dev. No-op if dev is not listening.
 */
void vhb_gate_unlisten(struct vhb_device *dev);

/* GET_CONFIG and SET_CONFIG requests the gate handled itself since the process started. */
uint64_t vhb_gate_config_answered(void);

#endif /* VHB_GATE_H */

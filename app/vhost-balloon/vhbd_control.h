/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket: a unix stream socket served by one control thread (epoll). One command per
 * line (the CLI's words), one JSON object per line back. See docs/control-socket.md.
 */
#ifndef VHBD_CONTROL_H
#define VHBD_CONTROL_H

#include <stdint.h>

#include "vhbd_daemon.h"
#include "vhbd_reply.h"

#define VHBD_CONTROL_MAX_CLIENTS	64
/* Unread replies after which a client's requests wait (it stalls only itself). */
#define VHBD_CONTROL_OUT_HIGH		(64u << 10)
/* Hard bound of one client's pending output: the high mark plus one largest reply. */
#define VHBD_CONTROL_MAX_OUT		(VHBD_CONTROL_OUT_HIGH + VHBD_REPLY_MAX + 4096u)

/* Create the socket (mode, gid -1: unchanged) and start its thread. */
int vhbd_control_start(struct vhbd_daemon *d, const char *path, uint32_t mode, int gid);

/* Stop the thread, close every client, remove the socket file. */
void vhbd_control_stop(void);

#endif /* VHBD_CONTROL_H */

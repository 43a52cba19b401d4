/* SPDX-License-Identifier: BSD-3-Clause */
/* The optional metrics HTTP endpoint (--metrics-listen): GET /metrics, one control thread. */
#ifndef VHBD_HTTP_H
#define VHBD_HTTP_H

#include <stdint.h>

#include "vhbd_daemon.h"

#define VHBD_HTTP_HEADER_MAX	8192	/* longest request header accepted */
#define VHBD_HTTP_READ_MS	2000	/* a client has this long to send its request */
#define VHBD_HTTP_SEND_MS	5000	/* and this long to read the reply */

/* Listen on host:port and start the thread. 0 or -errno. */
int vhbd_http_start(struct vhbd_daemon *d, const char *host, uint16_t port);

/* Stop the thread and close the socket (no-op if not started). */
void vhbd_http_stop(void);

#endif /* VHBD_HTTP_H */

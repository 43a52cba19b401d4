/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metrics HTTP endpoint: GET /metrics on one TCP socket, served by one control thread,
 * one connection at a time, never by a poll lcore. Each exchange is bounded (request header
 * size, a deadline for reading the request and one for sending the reply), so a slow or
 * silent client delays the next scrape by at most those deadlines and holds nothing else.
 * Metrics are rendered under the command lock: the same state the control socket reads.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "vhb_metrics.h"
#include "vhbd_http.h"

static struct {
	struct vhbd_daemon *d;
	int listen_fd, stop_fd;
	pthread_t thread;
	bool running;
} http = { .listen_fd = -1, .stop_fd = -1 };

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events or the deadline passed (false), or stop was asked. */
static bool
wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd pfd[2] = {
		{ .fd = fd, .events = events },
		{ .fd = http.stop_fd, .events = POLLIN },
	};
	uint64_t now;
	int n;

	for (;;) {
		now = now_ms();
		if (now >= deadline)
			return false;
		n = poll(pfd, 2, (int)(deadline - now));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (pfd[1].revents & POLLIN) != 0)
			return false;
		return true;
	}
}

static bool
send_all(int fd, const char *p, size_t n, uint64_t deadline)
{
	ssize_t w;

	while (n > 0) {
		if (!wait_fd(fd, POLLOUT, deadline))
			return false;
		w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= w;
	}
	return true;
}

static void
respond(int fd, const char *status, const char *ctype, const char *extra, const char *body,
	size_t len, bool head, uint64_t deadline)
{
	char hdr[512];
	int n;

	n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "%sConnection: close\r\n\r\n", status, ctype, len, extra);
	if (n <= 0 || (size_t)n >= sizeof(hdr))
		return;
	if (send_all(fd, hdr, n, deadline) && !head)
		send_all(fd, body, len, deadline);
}

static void
respond_text(int fd, const char *status, const char *extra, const char *msg, uint64_t deadline)
{
	respond(fd, status, "text/plain; charset=utf-8", extra, msg, strlen(msg), false,
		deadline);
}

/* Read the request header (up to the blank line) into buf; false on timeout or overflow. */
static bool
read_request(int fd, char *buf, size_t cap, uint64_t deadline)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < cap) {
		if (!wait_fd(fd, POLLIN, deadline))
			return false;
		n = recv(fd, buf + len, cap - 1 - len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n <= 0)
			return false;
		len += n;
		buf[len] = '\0';
		if (memchr(buf, '\0', len) != NULL)
			return false;
		if (strstr(buf, "\r\n\r\n") != NULL || strstr(buf, "\n\n") != NULL)
			return true;
	}
	return false;
}

static void
serve(int fd)
{
	uint64_t deadline = now_ms() + VHBD_HTTP_READ_MS;
	enum vhb_metrics_format fmt = VHB_METRICS_PROMETHEUS;
	char req[VHBD_HTTP_HEADER_MAX], *sp, *path, *accept;
	bool head;
	size_t len;
	char *text;
	int ret;

	if (!read_request(fd, req, sizeof(req), deadline)) {
		respond_text(fd, "400 Bad Request", "", "bad or incomplete request\n",
			     now_ms() + VHBD_HTTP_SEND_MS);
		return;
	}
	deadline = now_ms() + VHBD_HTTP_SEND_MS;
	/* Request line: METHOD SP TARGET SP HTTP/1.x */
	sp = strchr(req, ' ');
	if (sp == NULL) {
		respond_text(fd, "400 Bad Request", "", "bad request line\n", deadline);
		return;
	}
	*sp = '\0';
	path = sp + 1;
	sp = strchr(path, ' ');
	if (sp == NULL || strncmp(sp + 1, "HTTP/1.", 7) != 0) {
		respond_text(fd, "400 Bad Request", "", "bad request line\n", deadline);
		return;
	}
	*sp = '\0';
	path[strcspn(path, "?")] = '\0';
	head = strcmp(req, "HEAD") == 0;
	if (strcmp(req, "GET") != 0 && !head) {
		respond_text(fd, "405 Method Not Allowed", "Allow: GET, HEAD\r\n",
			     "only GET and HEAD\n", deadline);
		return;
	}
	if (strcmp(path, "/metrics") != 0) {
		respond_text(fd, "404 Not Found", "", "metrics are at /metrics\n", deadline);
		return;
	}
	/* Prometheus asks for OpenMetrics; anything else gets the older text format. */
	accept = strcasestr(sp + 1, "\naccept:");
	if (accept != NULL) {
		accept[strcspn(accept + 1, "\r\n") + 1] = '\0';
		if (strstr(accept, "application/openmetrics-text") != NULL)
			fmt = VHB_METRICS_OPENMETRICS;
	}
	pthread_mutex_lock(&http.d->cmd_lock);
	ret = vhb_metrics_render(fmt, &text, &len);
	pthread_mutex_unlock(&http.d->cmd_lock);
	if (ret != 0) {
		respond_text(fd, "500 Internal Server Error", "", "cannot render the metrics\n",
			     deadline);
		return;
	}
	respond(fd, "200 OK", vhb_metrics_content_type(fmt), "", text, len, head, deadline);
	free(text);
}

static void *
http_thread(void *arg)
{
	struct pollfd pfd[2];
	int fd;

	(void)arg;
	for (;;) {
		pfd[0] = (struct pollfd){ .fd = http.listen_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = http.stop_fd, .events = POLLIN };
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			VHBD_LOG(ERR, "metrics: poll: %s", strerror(errno));
			return NULL;
		}
		if (pfd[1].revents & POLLIN)
			return NULL;
		fd = accept4(http.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				VHBD_LOG(WARNING, "metrics: out of file descriptors");
				usleep(100000);
			}
			continue;
		}
		serve(fd);
		/* Half-close first so that unread request bytes do not reset the reply. */
		shutdown(fd, SHUT_WR);
		close(fd);
	}
}

int
vhbd_http_start(struct vhbd_daemon *d, const char *host, uint16_t port)
{
	/* No AI_ADDRCONFIG: it hides 127.0.0.1 and ::1 on a host with only loopback. */
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	char sport[8];
	int ret, one = 1;

	http.d = d;
	snprintf(sport, sizeof(sport), "%u", port);
	ret = getaddrinfo(host, sport, &hints, &res);
	if (ret != 0) {
		VHBD_LOG(ERR, "metrics: %s: %s", host, gai_strerror(ret));
		return -EINVAL;
	}
	ret = -EADDRNOTAVAIL;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		http.listen_fd = socket(ai->ai_family,
					ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (http.listen_fd < 0) {
			ret = -errno;
			continue;
		}
		setsockopt(http.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(http.listen_fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
				listen(http.listen_fd, 16) == 0)
			break;
		ret = -errno;
		close(http.listen_fd);
		http.listen_fd = -1;
	}
	freeaddrinfo(res);
	if (http.listen_fd < 0)
		return ret;
	http.stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (http.stop_fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = rte_ctrl_thread_create(&http.thread, "vhb-metrics", NULL, http_thread, NULL);
	if (ret != 0) {
		ret = ret > 0 ? -ret : ret;
		goto fail;
	}
	http.running = true;
	return 0;

fail:
	if (http.stop_fd >= 0)
		close(http.stop_fd);
	close(http.listen_fd);
	http.stop_fd = http.listen_fd = -1;
	return ret;
}

void
vhbd_http_stop(void)
{
	uint64_t one = 1;

	if (!http.running)
		return;
	if (write(http.stop_fd, &one, sizeof(one)) != sizeof(one))
		VHBD_LOG(ERR, "metrics: cannot wake the metrics thread");
	pthread_join(http.thread, NULL);
	close(http.stop_fd);
	close(http.listen_fd);
	http.stop_fd = http.listen_fd = -1;
	http.running = false;
}

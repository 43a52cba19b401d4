/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control socket. Everything is non-blocking and bounded: a request line is at most
 * VHBD_LINE_MAX bytes (longer: a "too_long" error, then the connection is closed); once a
 * client has VHBD_CONTROL_OUT_HIGH bytes of replies it has not read, its further requests are
 * left unread in its socket (it only stalls itself); a client that sends half a line only
 * holds its own buffer. No poll lcore is involved.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "vhbd_commands.h"
#include "vhbd_control.h"

struct ctl_client {
	int fd;
	bool closing;		/* hang up once the output is flushed */
	size_t inlen;
	char in[VHBD_LINE_MAX];
	char *out;
	size_t outlen, outcap;
};

static struct {
	struct vhbd_daemon *d;
	int listen_fd, stop_fd, ep;
	pthread_t thread;
	bool running;
	char path[108];
	struct ctl_client *clients[VHBD_CONTROL_MAX_CLIENTS];
} ctl = { .listen_fd = -1, .stop_fd = -1, .ep = -1 };

static void
client_close(struct ctl_client *c)
{
	unsigned int i;
	char drain[4096];

	/* Unread input would turn our close into a reset that can swallow the last reply:
	 * drain what is already queued (bounded; a client cannot keep us here).
	 */
	for (i = 0; i < 16 && recv(c->fd, drain, sizeof(drain), MSG_DONTWAIT) > 0; i++)
		;

	for (i = 0; i < VHBD_CONTROL_MAX_CLIENTS; i++) {
		if (ctl.clients[i] == c)
			ctl.clients[i] = NULL;
	}
	epoll_ctl(ctl.ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	free(c);
}

static void
client_watch(struct ctl_client *c)
{
	struct epoll_event ev = { .data.ptr = c };

	ev.events = (c->closing || c->outlen >= VHBD_CONTROL_OUT_HIGH ? 0 : EPOLLIN) |
		(c->outlen > 0 ? EPOLLOUT : 0);
	epoll_ctl(ctl.ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write what we can; false if the client is gone. */
static bool
client_flush(struct ctl_client *c)
{
	ssize_t n;

	while (c->outlen > 0) {
		n = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return false;
		memmove(c->out, c->out + n, c->outlen - n);
		c->outlen -= n;
	}
	return !(c->closing && c->outlen == 0);
}

/* Queue a reply; false if the client let too much pile up (it is then dropped). */
static bool
client_queue(struct ctl_client *c, const char *s)
{
	size_t n = strlen(s), cap;
	char *nb;

	if (c->outlen + n > VHBD_CONTROL_MAX_OUT)
		return false;
	if (c->outlen + n > c->outcap) {
		cap = c->outcap == 0 ? 4096 : c->outcap;
		while (cap < c->outlen + n)
			cap *= 2;
		nb = realloc(c->out, cap);
		if (nb == NULL)
			return false;
		c->out = nb;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, s, n);
	c->outlen += n;
	return true;
}

static bool
client_error(struct ctl_client *c, const char *code, const char *msg)
{
	struct vhbd_reply r;
	bool ok;

	vhbd_reply_init(&r, VHBD_FMT_JSON);
	vhbd_reply_error(&r, code, "%s", msg);
	ok = client_queue(c, vhbd_reply_finish(&r));
	vhbd_reply_free(&r);
	return ok;
}

static bool
client_line(struct ctl_client *c, const char *line)
{
	struct vhbd_reply r;
	bool ok;

	vhbd_reply_init(&r, VHBD_FMT_JSON);
	vhbd_cmd_run_line(ctl.d, line, &r);
	/* A blank or comment line still gets a reply: one request, one reply line. */
	ok = client_queue(c, vhbd_reply_finish(&r));
	if (r.quit)
		c->closing = true;
	vhbd_reply_free(&r);
	return ok;
}

/* Run every complete line in the input buffer. */
static bool
client_lines(struct ctl_client *c)
{
	char *nl;
	size_t n;

	while (!c->closing && c->outlen < VHBD_CONTROL_OUT_HIGH &&
			(nl = memchr(c->in, '\n', c->inlen)) != NULL) {
		*nl = '\0';
		n = nl - c->in + 1;
		if (strlen(c->in) != n - 1) {
			if (!client_error(c, "bad_request", "NUL byte in request"))
				return false;
		} else if (!client_line(c, c->in)) {
			return false;
		}
		memmove(c->in, c->in + n, c->inlen - n);
		c->inlen -= n;
	}
	if (!c->closing && c->inlen == sizeof(c->in) && memchr(c->in, '\n', c->inlen) == NULL) {
		c->closing = true;
		return client_error(c, "too_long", "request longer than 4095 bytes; closing");
	}
	return true;
}

static bool
client_read(struct ctl_client *c)
{
	ssize_t n;

	for (;;) {
		/* Replies the client has not read yet: leave its requests in the socket. */
		if (c->closing || c->outlen >= VHBD_CONTROL_OUT_HIGH)
			return true;
		n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n < 0)
			return false;
		if (n == 0) {
			/* EOF: a last request without its newline still counts. */
			c->closing = true;
			if (c->inlen > 0 && c->inlen < sizeof(c->in)) {
				size_t len = c->inlen;

				c->in[len] = '\0';
				c->inlen = 0;
				if (strlen(c->in) == len && !client_line(c, c->in))
					return false;
			}
			return c->outlen > 0;
		}
		c->inlen += n;
		if (!client_lines(c))
			return false;
	}
}

static void
accept_clients(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ctl_client *c;
	unsigned int i;
	int fd;

	for (;;) {
		fd = accept4(ctl.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			/* Out of fds the pending connection stays queued and the listen fd stays
			 * readable: pause instead of spinning until some fd is closed.
			 */
			if (errno == EMFILE || errno == ENFILE) {
				VHBD_LOG(WARNING, "control: out of file descriptors");
				usleep(100000);
			}
			return;
		}
		for (i = 0; i < VHBD_CONTROL_MAX_CLIENTS && ctl.clients[i] != NULL; i++)
			;
		c = i < VHBD_CONTROL_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
		if (c == NULL) {
			static const char busy[] = "{\"error\":{\"code\":\"busy\",\"message\":"
				"\"too many control clients\"}}\n";

			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				VHBD_LOG(DEBUG, "control: busy reply not sent");
			close(fd);
			continue;
		}
		c->fd = fd;
		ev.data.ptr = c;
		if (epoll_ctl(ctl.ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			close(fd);
			free(c);
			continue;
		}
		ctl.clients[i] = c;
	}
}

static void *
control_thread(void *arg)
{
	struct epoll_event evs[16];
	struct ctl_client *c;
	int i, n;

	(void)arg;
	for (;;) {
		n = epoll_wait(ctl.ep, evs, RTE_DIM(evs), -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			VHBD_LOG(ERR, "control: epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &ctl.stop_fd)
				return NULL;
			if (evs[i].data.ptr == &ctl.listen_fd) {
				accept_clients();
				continue;
			}
			c = evs[i].data.ptr;
			if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 &&
					!client_read(c)) {
				client_close(c);
				continue;
			}
			if (!client_flush(c)) {
				client_close(c);
				continue;
			}
			/* Output drained: run the requests that waited in the buffer. */
			if (c->inlen > 0 && !client_lines(c)) {
				client_close(c);
				continue;
			}
			client_watch(c);
		}
	}
	return NULL;
}

/* Does a process accept connections on this socket path? */
static bool
socket_is_live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return live;
}

int
vhbd_control_start(struct vhbd_daemon *d, const char *path, uint32_t mode, int gid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };
	mode_t old_mask;
	struct stat st;
	int ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	ctl.d = d;
	snprintf(ctl.path, sizeof(ctl.path), "%s", path);
	strcpy(sa.sun_path, path);
	ctl.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ctl.stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ctl.ep = epoll_create1(EPOLL_CLOEXEC);
	if (ctl.listen_fd < 0 || ctl.stop_fd < 0 || ctl.ep < 0)
		goto fail_errno;
	/* A stale socket from a crashed run would make bind() fail; never remove anything
	 * that is not a socket (a mistyped --control must not delete a file).
	 */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			ret = -EEXIST;
			goto fail;
		}
		if (socket_is_live(&sa)) {
			ret = -EADDRINUSE;	/* another daemon serves it */
			goto fail;
		}
		unlink(path);
	}
	/* Nobody may connect before chmod/chown below: create it owner-only. Start-up is
	 * single-threaded as far as file creation goes, so the process-wide umask is safe here.
	 */
	old_mask = umask(0177);
	ret = bind(ctl.listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (ret != 0)
		goto fail_errno;
	if (chmod(path, mode != 0 ? mode : 0660) != 0 ||
			(gid >= 0 && chown(path, (uid_t)-1, (gid_t)gid) != 0))
		goto fail_unlink;
	if (listen(ctl.listen_fd, 64) != 0)
		goto fail_unlink;
	ev.data.ptr = &ctl.listen_fd;
	if (epoll_ctl(ctl.ep, EPOLL_CTL_ADD, ctl.listen_fd, &ev) != 0)
		goto fail_unlink;
	ev.data.ptr = &ctl.stop_fd;
	if (epoll_ctl(ctl.ep, EPOLL_CTL_ADD, ctl.stop_fd, &ev) != 0)
		goto fail_unlink;
	ret = rte_ctrl_thread_create(&ctl.thread, "vhb-control", NULL, control_thread, NULL);
	if (ret != 0) {
		errno = ret > 0 ? ret : -ret;
		goto fail_unlink;
	}
	ctl.running = true;
	return 0;

fail_unlink:
	ret = -errno;
	unlink(path);
	goto fail;
fail_errno:
	ret = -errno;
fail:
	if (ctl.ep >= 0)
		close(ctl.ep);
	if (ctl.stop_fd >= 0)
		close(ctl.stop_fd);
	if (ctl.listen_fd >= 0)
		close(ctl.listen_fd);
	ctl.ep = ctl.stop_fd = ctl.listen_fd = -1;
	return ret;
}

void
vhbd_control_stop(void)
{
	uint64_t one = 1;
	unsigned int i;

	if (!ctl.running)
		return;
	if (write(ctl.stop_fd, &one, sizeof(one)) != sizeof(one))
		VHBD_LOG(ERR, "control: cannot wake the control thread");
	pthread_join(ctl.thread, NULL);
	for (i = 0; i < VHBD_CONTROL_MAX_CLIENTS; i++) {
		if (ctl.clients[i] != NULL)
			client_close(ctl.clients[i]);
	}
	close(ctl.ep);
	close(ctl.stop_fd);
	close(ctl.listen_fd);
	unlink(ctl.path);
	ctl.ep = ctl.stop_fd = ctl.listen_fd = -1;
	ctl.running = false;
}

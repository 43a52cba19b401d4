/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gate: the public vhost-user sockets, read non-blocking by one epoll thread,
 * whole size-checked messages relayed to rte_vhost over private connections
 * (vhb_gate.h, docs/design.md#the-gate, protocol.md#P-gate).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>

#include "vhb_device.h"
#include "vhb_gate.h"
#include "vhb_log.h"
#include "vhb_msg_check.h"

#define HDR_SIZE		12u
#define F_VERSION_MASK		0x3u
#define F_VERSION		0x1u
#define F_REPLY			0x4u
#define F_NEED_REPLY		0x8u
/* Messages (or accepts) handled per connection per event: fairness between connections. */
#define BURST			16
#define MAX_EVENTS		64

/* One whole message on its way, header and payload contiguous, its fds sent with byte 0. */
struct gate_msg {
	STAILQ_ENTRY(gate_msg) next;
	uint32_t len, off;
	unsigned int nfds;
	int fds[VHB_GATE_MAX_FDS];
	uint8_t buf[];
};
STAILQ_HEAD(gate_msgq, gate_msg);

/* Framing of what one side sends: the header, then a message of its size. */
struct gate_rx {
	uint8_t hdr[HDR_SIZE];
	uint32_t have;			/* bytes of the current message received */
	struct gate_msg *m;		/* allocated once the header is whole */
	unsigned int nfds;
	int fds[VHB_GATE_MAX_FDS];
	uint64_t since_ms;		/* first byte of a partial message; 0: none */
};

enum gate_ep_kind { EP_WAKE, EP_LISTEN, EP_PUB, EP_PRIV };

/* What an epoll event points at. */
struct gate_ep {
	enum gate_ep_kind kind;
	void *owner;
	int fd;
	uint32_t events;		/* registered interest */
};

struct vhb_gate_listener;

struct gate_conn {
	TAILQ_ENTRY(gate_conn) next;
	struct vhb_gate_listener *l;
	unsigned int id;
	bool draining;			/* frontend side closed; rte_vhost's side shut, drained */
	bool dead;			/* both closed, freed after this batch of events */
	struct gate_ep pub, priv;
	struct gate_rx from_fe, from_vh;
	struct gate_msg *to_vh;		/* being written to rte_vhost; pub not read meanwhile */
	struct gate_msgq to_fe;		/* replies the frontend has not taken yet */
	uint32_t to_fe_bytes;
	/* What the gate knows of rte_vhost's progress on this connection (conn_answer_config). */
	uint32_t last_req;		/* the last message forwarded */
	bool last_counted;		/* it gets exactly one reply: counted in cfg_owed */
	bool last_alone;		/* no other connection when it was forwarded */
	uint64_t last_gen;		/* l->gen when it was forwarded */
	unsigned int cfg_owed;		/* counted messages forwarded, their replies not back */
	bool settled;			/* the last message's reply is back and says "frontend" */
	bool fwd_any;			/* anything forwarded at all */
	bool vh_eof;			/* rte_vhost closed its side: it reads nothing more */
};
TAILQ_HEAD(gate_connq, gate_conn);

struct vhb_gate_listener {
	TAILQ_ENTRY(vhb_gate_listener) next;
	struct vhb_device *dev;
	struct gate_ep ep;
	struct gate_connq conns;
	unsigned int next_id;
	uint64_t gen;			/* changes whenever a connection comes or goes */
	bool unsure;			/* one went without rte_vhost's close seen: answer nothing */
	dev_t st_dev;			/* the socket file we bound, unlinked only if still it */
	ino_t st_ino;
	struct vhb_log_ratelimit rl;	/* gate thread */
};

struct gate_cmd {
	STAILQ_ENTRY(gate_cmd) next;
	bool add;
	struct vhb_gate_listener *l;
	bool done;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	STAILQ_HEAD(, gate_cmd) cmds;
	bool running;
	pthread_t thread;
	int epfd;
	struct gate_ep wake;
	unsigned int path_users;
	unsigned int path_seq;
	bool swept;			/* sweep_stale() done */
	uint64_t config_answered;	/* atomic: GET/SET_CONFIGs the gate handled itself */
	char dir[80];
	/* Gate thread only. */
	TAILQ_HEAD(, vhb_gate_listener) listeners;
	struct gate_connq graveyard;
} g_gate = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.cmds = STAILQ_HEAD_INITIALIZER(g_gate.cmds),
	.epfd = -1,
	.wake = { .kind = EP_WAKE, .fd = -1 },
	.listeners = TAILQ_HEAD_INITIALIZER(g_gate.listeners),
	.graveyard = TAILQ_HEAD_INITIALIZER(g_gate.graveyard),
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t
load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void
close_fds(int *fds, unsigned int *nfds)
{
	unsigned int i;

	for (i = 0; i < *nfds; i++)
		close(fds[i]);
	*nfds = 0;
}

static void
msg_free(struct gate_msg *m)
{
	if (m == NULL)
		return;
	close_fds(m->fds, &m->nfds);
	free(m);
}

static void
rx_reset(struct gate_rx *rx)
{
	msg_free(rx->m);
	rx->m = NULL;
	close_fds(rx->fds, &rx->nfds);
	rx->have = 0;
	rx->since_ms = 0;
}

/*
 * Read what fd has of the current message, never past its end (fds travel with
 * the bytes they were sent with, so a read stopping at a message boundary keeps
 * them with their message). 1: *out is a whole message (ownership passes);
 * 0: nothing more for now; -EPIPE: peer closed (or reset); -EMSGSIZE: payload
 * over VHB_GATE_MAX_PAYLOAD; -ETOOMANYREFS: more than VHB_GATE_MAX_FDS fds;
 * -ENOMEM; other negative errno: read error.
 */
static int
rx_read(int fd, struct gate_rx *rx, struct gate_msg **out)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHB_GATE_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh;
	struct cmsghdr *c;
	struct iovec iov;
	uint32_t want;
	ssize_t n;
	int rc = 0;

	for (;;) {
		if (rx->have < HDR_SIZE) {
			iov.iov_base = rx->hdr + rx->have;
			iov.iov_len = HDR_SIZE - rx->have;
		} else {
			iov.iov_base = rx->m->buf + rx->have;
			iov.iov_len = rx->m->len - rx->have;
		}
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return errno == ECONNRESET ? -EPIPE : -errno;
		}
		for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
			unsigned int i, k;
			int fdv;

			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			k = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (i = 0; i < k; i++) {
				memcpy(&fdv, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				if (rx->nfds < VHB_GATE_MAX_FDS)
					rx->fds[rx->nfds++] = fdv;
				else {
					close(fdv);
					rc = -ETOOMANYREFS;
				}
			}
		}
		if ((mh.msg_flags & MSG_CTRUNC) != 0)
			rc = -ETOOMANYREFS;
		if (rc != 0)
			return rc;
		if (n == 0)
			return -EPIPE;
		if (rx->have == 0)
			rx->since_ms = now_ms();
		rx->have += (uint32_t)n;
		if (rx->have == HDR_SIZE && rx->m == NULL) {
			want = load32(rx->hdr + 8);
			if (want > VHB_GATE_MAX_PAYLOAD)
				return -EMSGSIZE;
			rx->m = malloc(sizeof(*rx->m) + HDR_SIZE + want);
			if (rx->m == NULL)
				return -ENOMEM;
			rx->m->len = HDR_SIZE + want;
			rx->m->off = 0;
			rx->m->nfds = 0;
			memcpy(rx->m->buf, rx->hdr, HDR_SIZE);
		}
		if (rx->m != NULL && rx->have == rx->m->len) {
			*out = rx->m;
			memcpy(rx->m->fds, rx->fds, sizeof(int) * rx->nfds);
			rx->m->nfds = rx->nfds;
			rx->nfds = 0;
			rx->m = NULL;
			rx->have = 0;
			rx->since_ms = 0;
			return 1;
		}
	}
}

/* Write what can be written of m. 1: all of it; 0: later (EAGAIN); negative errno. */
static int
msg_send(int fd, struct gate_msg *m)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHB_GATE_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh;
	struct cmsghdr *c;
	struct iovec iov;
	ssize_t n;

	while (m->off < m->len) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = m->buf + m->off;
		iov.iov_len = m->len - m->off;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if (m->off == 0 && m->nfds > 0) {
			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * m->nfds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * m->nfds);
			memcpy(CMSG_DATA(c), m->fds, sizeof(int) * m->nfds);
		}
		n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		/* The receiver holds its own copies now. */
		close_fds(m->fds, &m->nfds);
		m->off += (uint32_t)n;
	}
	return 1;
}

static void
ep_set(struct gate_ep *ep, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = ep };

	if (ep->fd < 0 || ep->events == events)
		return;
	if (epoll_ctl(g_gate.epfd, EPOLL_CTL_MOD, ep->fd, &ev) == 0)
		ep->events = events;
}

static int
ep_add(struct gate_ep *ep, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = ep };

	if (epoll_ctl(g_gate.epfd, EPOLL_CTL_ADD, ep->fd, &ev) != 0)
		return -errno;
	ep->events = events;
	return 0;
}

static void
ep_close(struct gate_ep *ep)
{
	if (ep->fd < 0)
		return;
	epoll_ctl(g_gate.epfd, EPOLL_CTL_DEL, ep->fd, NULL);
	close(ep->fd);
	ep->fd = -1;
}

/* Interest that matches the connection's state. */
static void
conn_arm(struct gate_conn *cn)
{
	ep_set(&cn->pub, (cn->to_vh == NULL ? EPOLLIN : 0) |
	       (STAILQ_EMPTY(&cn->to_fe) ? 0 : EPOLLOUT));
	ep_set(&cn->priv, EPOLLIN | (cn->to_vh != NULL ? EPOLLOUT : 0));
}

static void
conn_drop_state(struct gate_conn *cn)
{
	struct gate_msg *m;

	rx_reset(&cn->from_fe);
	rx_reset(&cn->from_vh);
	msg_free(cn->to_vh);
	cn->to_vh = NULL;
	while ((m = STAILQ_FIRST(&cn->to_fe)) != NULL) {
		STAILQ_REMOVE_HEAD(&cn->to_fe, next);
		msg_free(m);
	}
	cn->to_fe_bytes = 0;
}

/* Close both ends; freed after the current batch of events (they may still name it). */
static void
conn_free(struct gate_conn *cn)
{
	if (cn->dead)
		return;
	cn->dead = true;
	/* rte_vhost may still read what it was sent: nothing is known of its order any more. */
	if (cn->fwd_any && !cn->vh_eof)
		cn->l->unsure = true;
	ep_close(&cn->pub);
	ep_close(&cn->priv);
	conn_drop_state(cn);
	TAILQ_REMOVE(&cn->l->conns, cn, next);
	cn->l->gen++;
	TAILQ_INSERT_TAIL(&g_gate.graveyard, cn, next);
}

/*
 * The frontend's side ends: its socket is closed, nothing more is forwarded.
 * rte_vhost's side is shut for writing, as a frontend's close would: rte_vhost reads
 * what it was given, then the end, and ends the vid. What it writes meanwhile is read
 * and dropped (failed sends it would log one by one); its close frees the connection.
 */
static void
conn_close(struct gate_conn *cn)
{
	if (cn->dead || cn->draining)
		return;
	cn->draining = true;
	ep_close(&cn->pub);
	conn_drop_state(cn);
	if (shutdown(cn->priv.fd, SHUT_WR) != 0) {
		conn_free(cn);
		return;
	}
	ep_set(&cn->priv, EPOLLIN);
}

/* The frontend broke a gate rule: one line, one guest error, connection closed. */
static void
conn_cut(struct gate_conn *cn, const char *fmt, ...) __rte_format_printf(2, 3);

static void
conn_cut(struct gate_conn *cn, const char *fmt, ...)
{
	struct vhb_device *dev = cn->l->dev;
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	__atomic_fetch_add(&dev->ctl_cnt.guest_errors, 1, __ATOMIC_RELAXED);
	VHB_LOG_RATELIMIT(ERR, dev, &cn->l->rl, "%s: connection %u closed by the gate: %s",
			  dev->name, cn->id, why);
	conn_close(cn);
}

/* Flush replies to the frontend; false if the connection was closed. */
static bool
conn_flush_fe(struct gate_conn *cn)
{
	struct gate_msg *m;
	int rc;

	while ((m = STAILQ_FIRST(&cn->to_fe)) != NULL) {
		uint32_t left = m->len - m->off;

		rc = msg_send(cn->pub.fd, m);
		cn->to_fe_bytes -= left - (m->len - m->off);
		if (rc == 0)
			break;
		if (rc < 0) {
			conn_close(cn);
			return false;
		}
		STAILQ_REMOVE_HEAD(&cn->to_fe, next);
		msg_free(m);
	}
	if (cn->to_fe_bytes > VHB_GATE_OUT_MAX) {
		conn_cut(cn, "more than %u bytes of replies left unread", VHB_GATE_OUT_MAX);
		return false;
	}
	return true;
}

static void
queue_to_fe(struct gate_conn *cn, struct gate_msg *m)
{
	STAILQ_INSERT_TAIL(&cn->to_fe, m, next);
	cn->to_fe_bytes += m->len - m->off;
}

/* The reply to a request with these flags (as rte_vhost builds it), carrying len bytes. */
static struct gate_msg *
reply_new(uint32_t req, uint32_t flags, const void *payload, uint32_t len)
{
	struct gate_msg *r = malloc(sizeof(*r) + HDR_SIZE + len);

	if (r == NULL)
		return NULL;
	flags = (flags & ~(F_VERSION_MASK | F_NEED_REPLY)) | F_VERSION | F_REPLY;
	memcpy(r->buf, &req, 4);
	memcpy(r->buf + 4, &flags, 4);
	memcpy(r->buf + 8, &len, 4);
	memcpy(r->buf + HDR_SIZE, payload, len);
	r->len = HDR_SIZE + len;
	r->off = 0;
	r->nfds = 0;
	return r;
}

/*
 * A payload of the wrong size is refused here, before rte_vhost reads a field of it.
 * What the frontend sees is what rte_vhost does with a refused message: a non-zero
 * ack if it asked for one, the connection closed otherwise. false if closed.
 */
static bool
conn_refuse_size(struct gate_conn *cn, struct gate_msg *m, uint32_t want)
{
	struct vhb_device *dev = cn->l->dev;
	uint32_t req = load32(m->buf), flags = load32(m->buf + 4), size = load32(m->buf + 8);
	uint64_t nack = 1;
	struct gate_msg *r;

	__atomic_fetch_add(&dev->ctl_cnt.guest_errors, 1, __ATOMIC_RELAXED);
	VHB_LOG_RATELIMIT(ERR, dev, &cn->l->rl, "%s: connection %u: request %u refused: "
			  "payload of %u bytes, the request has %u", dev->name, cn->id, req,
			  size, want);
	msg_free(m);
	if ((flags & F_NEED_REPLY) == 0) {
		conn_close(cn);
		return false;
	}
	r = reply_new(req, flags, &nack, sizeof(nack));
	if (r == NULL) {
		conn_close(cn);
		return false;
	}
	queue_to_fe(cn, r);
	return conn_flush_fe(cn);
}

static bool
conn_alone(const struct gate_conn *cn)
{
	return TAILQ_FIRST(&cn->l->conns) == cn && TAILQ_NEXT(cn, next) == NULL;
}

/*
 * m goes to rte_vhost. GET_CONFIG, and SET_CONFIG with NEED_REPLY, get exactly one reply
 * each (the answer or an ack; rte_vhost closes the connection otherwise): those are
 * counted, and the reply to the last of them tells whether the connection was the
 * device's frontend when rte_vhost read it (note_reply()).
 */
static void
note_forward(struct gate_conn *cn, const struct gate_msg *m)
{
	uint32_t req = load32(m->buf), flags = load32(m->buf + 4);

	cn->fwd_any = true;
	cn->settled = false;
	cn->last_req = req;
	cn->last_counted = req == VHB_VU_GET_CONFIG ||
			   (req == VHB_VU_SET_CONFIG && (flags & F_NEED_REPLY) != 0);
	cn->last_alone = conn_alone(cn);
	cn->last_gen = cn->l->gen;
	if (cn->last_counted)
		cn->cfg_owed++;
}

/*
 * A reply from rte_vhost. Replies on one connection come in the order of its messages;
 * the reply to the last counted message, with nothing forwarded after it, means every
 * message of this connection is through rte_vhost. A GET_CONFIG answer (size 12 + len;
 * a refusal is an 8-byte ack) or a SET_CONFIG ack of 0 means our pre hook took the
 * connection for the device's frontend (a refused non-frontend gets a non-zero ack).
 * Anything unexpected leaves the connection unsettled until its next counted message.
 */
static void
note_reply(struct gate_conn *cn, const struct gate_msg *m)
{
	uint32_t req = load32(m->buf), flags = load32(m->buf + 4), size = load32(m->buf + 8);
	uint64_t ack = 1;
	bool ok;

	if ((flags & F_REPLY) == 0 ||
	    (req != VHB_VU_GET_CONFIG && req != VHB_VU_SET_CONFIG))
		return;
	if (cn->cfg_owed == 0) {
		cn->settled = false;
		return;
	}
	if (--cn->cfg_owed != 0 || !cn->last_counted || req != cn->last_req)
		return;
	if (req == VHB_VU_GET_CONFIG) {
		ok = size > sizeof(ack);
	} else {
		if (size == sizeof(ack) && m->len == HDR_SIZE + sizeof(ack))
			memcpy(&ack, m->buf + HDR_SIZE, sizeof(ack));
		ok = ack == 0;
	}
	cn->settled = ok;
}

/*
 * GET_CONFIG answered by the gate, without the two thread hand-offs through vhost-events,
 * only where the answer is provably the one our pre hook (config_get() in
 * vhb_msg_hooks.c) would give, in the same order (docs/design.md#the-gate):
 * - the connection is settled: its last forwarded message was answered, so rte_vhost has
 *   read and handled all of its messages (one connection's messages are handled in
 *   order), and that answer says it was the device's frontend then;
 * - it was the listener's only connection when that message was forwarded and no
 *   connection came or went since (l->gen): no other connection has had a message
 *   handled since, so none has claimed the device (pre_msg_not_frontend()), which is the
 *   only way the connection stops being the frontend short of its own close. A connection
 *   closed earlier was closed by rte_vhost first (its end seen: vh_eof; else l->unsure
 *   stops all of this for the listener), and rte_vhost runs a connection's close and its
 *   destroy_connection callback before it handles any other message;
 * - nothing of the connection is on its way to or from rte_vhost (to_vh, from_vh), so
 *   the reply queued now follows every earlier reply;
 * - no fds, the version rte_vhost answers, and a request vhb_msg_config_get() accepts;
 *   anything else is forwarded and refused (or answered) there as before.
 * The config fields are atomics the gate reads as vhost-events does (num_pages is the
 * operator's, actual and poison_val change only with this connection's messages). The
 * reply is built as rte_vhost's send_vhost_reply() builds it. -1: not here (forward m);
 * 1: answered; 0: answered and the connection closed.
 */
static bool
conn_may_answer(const struct gate_conn *cn, const struct gate_msg *m)
{
	const struct vhb_gate_listener *l = cn->l;
	uint32_t flags = load32(m->buf + 4);

	return cn->settled && cn->last_alone && cn->last_gen == l->gen && !l->unsure &&
	       conn_alone(cn) && cn->to_vh == NULL && cn->from_vh.have == 0 && m->nfds == 0 &&
	       (flags & (F_VERSION_MASK | F_REPLY)) == F_VERSION &&
	       __atomic_load_n(&l->dev->vid, __ATOMIC_RELAXED) >= 0;
}

/*
 * SET_CONFIG of the same settled, lone frontend, applied by the gate under the same
 * conditions (conn_may_answer()): every earlier message of the connection is through
 * vhost-events, no other connection has had one handled since, so vhost-events touches
 * neither the config nor the features poison_writable() reads until this connection's
 * next forwarded message or its close. A payload vhb_device_config_set() refuses is
 * forwarded, to be refused, counted and logged by the pre hook as before. With
 * NEED_REPLY the ack (0) is built as rte_vhost builds it; the connection stays settled.
 */
static int
conn_apply_config(struct gate_conn *cn, struct gate_msg *m)
{
	uint32_t req = load32(m->buf), flags = load32(m->buf + 4), size = load32(m->buf + 8);
	uint64_t ack = 0;
	struct gate_msg *r = NULL;

	if (!conn_may_answer(cn, m))
		return -1;
	/* The ack first: once the config is written, it must go out. */
	if ((flags & F_NEED_REPLY) != 0) {
		r = reply_new(req, flags, &ack, sizeof(ack));
		if (r == NULL)
			return -1;
	}
	if (vhb_device_config_set(cn->l->dev, m->buf + HDR_SIZE, size) < 0) {
		free(r);
		return -1;
	}
	__atomic_fetch_add(&g_gate.config_answered, 1, __ATOMIC_RELAXED);
	msg_free(m);
	if (r == NULL)
		return 1;
	queue_to_fe(cn, r);
	return conn_flush_fe(cn) ? 1 : 0;
}

static int
conn_answer_config(struct gate_conn *cn, struct gate_msg *m)
{
	struct vhb_device *dev = cn->l->dev;
	uint32_t req = load32(m->buf), flags = load32(m->buf + 4), size = load32(m->buf + 8);
	uint8_t out[VHB_MSG_CONFIG_REPLY_MAX];
	uint32_t rsize;
	struct gate_msg *r;

	if (!conn_may_answer(cn, m) ||
	    vhb_msg_config_get(&dev->cfg, m->buf + HDR_SIZE, size, out, &rsize) != 0)
		return -1;
	r = reply_new(req, flags, out, rsize);
	if (r == NULL)
		return -1;
	__atomic_fetch_add(&dev->ctl_cnt.get_config, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&g_gate.config_answered, 1, __ATOMIC_RELAXED);
	msg_free(m);
	queue_to_fe(cn, r);
	return conn_flush_fe(cn) ? 1 : 0;
}

/* Hand m to rte_vhost; false if the connection was closed. */
static bool
conn_forward(struct gate_conn *cn, struct gate_msg *m)
{
	uint32_t req = load32(m->buf), size = load32(m->buf + 8), want = 0;
	int rc, fl;

	if (vhb_msg_size_check(req, size, &want) != 0)
		return conn_refuse_size(cn, m, want);
	if (req == VHB_VU_GET_CONFIG || req == VHB_VU_SET_CONFIG) {
		rc = req == VHB_VU_GET_CONFIG ? conn_answer_config(cn, m) :
		     conn_apply_config(cn, m);
		if (rc >= 0)
			return rc == 1;
	}
	note_forward(cn, m);
	/*
	 * The backend channel: rte_vhost writes config-change messages to this fd and,
	 * with need_reply false, never reads it. Non-blocking, a frontend that does not
	 * read it makes a config-change send fail (logged, counted as not sent) instead
	 * of blocking the control thread that sends it (protocol.md#P-gate).
	 */
	if (req == VHB_VU_SET_BACKEND_REQ_FD && m->nfds == 1) {
		fl = fcntl(m->fds[0], F_GETFL);
		if (fl >= 0)
			fcntl(m->fds[0], F_SETFL, fl | O_NONBLOCK);
	}
	rc = msg_send(cn->priv.fd, m);
	if (rc < 0) {
		cn->vh_eof = rc == -EPIPE || rc == -ECONNRESET;
		msg_free(m);
		conn_free(cn);
		return false;
	}
	if (rc == 0)
		cn->to_vh = m;
	else
		msg_free(m);
	return true;
}

static void
on_pub(struct gate_conn *cn, uint32_t events)
{
	struct gate_msg *m;
	int rc;

	if ((events & EPOLLOUT) != 0 && !conn_flush_fe(cn))
		return;
	/*
	 * The frontend is gone while rte_vhost has not taken its last message: nothing
	 * waits for the rest (and a hang-up is reported whatever the interest, so
	 * waiting here would spin).
	 */
	if (cn->to_vh != NULL && (events & (EPOLLHUP | EPOLLERR)) != 0) {
		conn_close(cn);
		return;
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0)
		goto arm;
	/*
	 * One whole message per event: the level-triggered event comes back at once if
	 * more is there, and nothing is spent on the read that would find the socket empty
	 * (a frontend waits for each reply: there is one message per event almost always).
	 */
	if (cn->to_vh == NULL) {
		rc = rx_read(cn->pub.fd, &cn->from_fe, &m);
		if (rc == 0)
			goto arm;
		if (rc == 1) {
			if (!conn_forward(cn, m))
				return;
			goto arm;
		}
		if (rc == -EPIPE) {
			conn_close(cn);
		} else if (rc == -EMSGSIZE) {
			conn_cut(cn, "request %u with a payload of %u bytes (over %u)",
				 load32(cn->from_fe.hdr), load32(cn->from_fe.hdr + 8),
				 VHB_GATE_MAX_PAYLOAD);
		} else if (rc == -ETOOMANYREFS) {
			conn_cut(cn, "more than %u fds with one message", VHB_GATE_MAX_FDS);
		} else {
			VHB_LOG(ERR, dev, "%s: connection %u: read failed (%d)", cn->l->dev->name,
				cn->id, rc);
			conn_close(cn);
		}
		return;
	}
arm:
	conn_arm(cn);
}

static void
on_priv(struct gate_conn *cn, uint32_t events)
{
	struct gate_msg *m;
	int i, rc;

	if (cn->draining) {
		for (i = 0; i < BURST; i++) {
			rc = rx_read(cn->priv.fd, &cn->from_vh, &m);
			if (rc == 0)
				return;
			if (rc < 0) {
				cn->vh_eof = rc == -EPIPE;
				conn_free(cn);
				return;
			}
			msg_free(m);
		}
		return;
	}
	if ((events & EPOLLOUT) != 0 && cn->to_vh != NULL) {
		rc = msg_send(cn->priv.fd, cn->to_vh);
		if (rc < 0) {
			cn->vh_eof = rc == -EPIPE || rc == -ECONNRESET;
			conn_free(cn);
			return;
		}
		if (rc == 1) {
			msg_free(cn->to_vh);
			cn->to_vh = NULL;
		}
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
		/* One reply per event, as on_pub(). */
		rc = rx_read(cn->priv.fd, &cn->from_vh, &m);
		if (rc < 0) {
			/* rte_vhost ended the connection: pass on what it said, then go. */
			cn->vh_eof = rc == -EPIPE;
			conn_flush_fe(cn);
			conn_free(cn);
			return;
		}
		if (rc == 1) {
			note_reply(cn, m);
			queue_to_fe(cn, m);
		}
		if (!STAILQ_EMPTY(&cn->to_fe) && !conn_flush_fe(cn))
			return;
	}
	conn_arm(cn);
}

static void
on_accept(struct vhb_gate_listener *l)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vhb_device *dev = l->dev;
	struct gate_conn *cn;
	int i, pfd, vfd;

	for (i = 0; i < BURST; i++) {
		pfd = accept4(l->ep.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (pfd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				VHB_LOG_RATELIMIT(ERR, dev, &l->rl, "%s: accept: %s", dev->name,
						  strerror(errno));
			return;
		}
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", dev->vhost_path);
		vfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		cn = calloc(1, sizeof(*cn));
		if (vfd < 0 || cn == NULL ||
		    connect(vfd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			VHB_LOG_RATELIMIT(ERR, dev, &l->rl, "%s: connection refused: rte_vhost "
					  "not reachable (%s)", dev->name, strerror(errno));
			free(cn);
			if (vfd >= 0)
				close(vfd);
			close(pfd);
			continue;
		}
		cn->l = l;
		cn->id = l->next_id++;
		cn->pub = (struct gate_ep){ .kind = EP_PUB, .owner = cn, .fd = pfd };
		cn->priv = (struct gate_ep){ .kind = EP_PRIV, .owner = cn, .fd = vfd };
		STAILQ_INIT(&cn->to_fe);
		TAILQ_INSERT_TAIL(&l->conns, cn, next);
		l->gen++;
		if (ep_add(&cn->pub, EPOLLIN) != 0 || ep_add(&cn->priv, EPOLLIN) != 0) {
			VHB_LOG(ERR, dev, "%s: epoll: %s", dev->name, strerror(errno));
			conn_free(cn);
		}
	}
}

/* Close every connection that held a partial message too long; ms to the next deadline. */
static int
expire(uint64_t now)
{
	struct vhb_gate_listener *l;
	struct gate_conn *cn, *tmp;
	uint64_t next = UINT64_MAX, dl;

	TAILQ_FOREACH(l, &g_gate.listeners, next) {
		for (cn = TAILQ_FIRST(&l->conns); cn != NULL; cn = tmp) {
			tmp = TAILQ_NEXT(cn, next);
			if (cn->from_fe.since_ms == 0)
				continue;
			dl = cn->from_fe.since_ms + VHB_GATE_PARTIAL_MS;
			if (dl <= now) {
				conn_cut(cn, "request %u: %u of %u bytes received in %u ms",
					 cn->from_fe.have >= 4 ? load32(cn->from_fe.hdr) : 0,
					 cn->from_fe.have,
					 cn->from_fe.m != NULL ? cn->from_fe.m->len : 0,
					 (unsigned int)(now - cn->from_fe.since_ms));
				continue;
			}
			next = RTE_MIN(next, dl);
		}
	}
	return next == UINT64_MAX ? -1 : (int)(next - now);
}

static void
listener_free(struct vhb_gate_listener *l)
{
	struct gate_conn *cn;
	struct stat st;

	while ((cn = TAILQ_FIRST(&l->conns)) != NULL)
		conn_free(cn);
	ep_close(&l->ep);
	/* rte_vhost unlinked its path at unregister; the public one is ours to remove. */
	if (lstat(l->dev->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == l->st_dev &&
	    st.st_ino == l->st_ino)
		unlink(l->dev->path);
	free(l);
}

static void
run_commands(void)
{
	struct gate_cmd *c;

	pthread_mutex_lock(&g_gate.lock);
	while ((c = STAILQ_FIRST(&g_gate.cmds)) != NULL) {
		STAILQ_REMOVE_HEAD(&g_gate.cmds, next);
		if (c->add) {
			TAILQ_INSERT_TAIL(&g_gate.listeners, c->l, next);
			if (ep_add(&c->l->ep, EPOLLIN) != 0)
				VHB_LOG(ERR, dev, "%s: epoll: %s", c->l->dev->name,
					strerror(errno));
		} else {
			TAILQ_REMOVE(&g_gate.listeners, c->l, next);
			listener_free(c->l);
		}
		c->done = true;
	}
	pthread_cond_broadcast(&g_gate.cond);
	pthread_mutex_unlock(&g_gate.lock);
}

static void *
gate_thread(void *arg)
{
	struct epoll_event ev[MAX_EVENTS];
	struct gate_conn *cn;
	uint64_t v;
	int i, n, timeout;

	RTE_SET_USED(arg);
	timeout = -1;
	for (;;) {
		n = epoll_wait(g_gate.epfd, ev, MAX_EVENTS, timeout);
		for (i = 0; i < n; i++) {
			struct gate_ep *ep = ev[i].data.ptr;

			switch (ep->kind) {
			case EP_WAKE:
				if (read(ep->fd, &v, sizeof(v)) < 0)
					v = 0;
				break;
			case EP_LISTEN:
				on_accept(ep->owner);
				break;
			case EP_PUB:
				cn = ep->owner;
				if (!cn->dead && !cn->draining)
					on_pub(cn, ev[i].events);
				break;
			case EP_PRIV:
				cn = ep->owner;
				if (!cn->dead)
					on_priv(cn, ev[i].events);
				break;
			}
		}
		timeout = expire(now_ms());
		/* Nothing of this batch names a connection closed in it any more. */
		while ((cn = TAILQ_FIRST(&g_gate.graveyard)) != NULL) {
			TAILQ_REMOVE(&g_gate.graveyard, cn, next);
			free(cn);
		}
		run_commands();
	}
	return NULL;
}

static int
gate_start(void)
{
	int rc;

	if (g_gate.running)
		return 0;
	g_gate.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (g_gate.epfd < 0)
		return -errno;
	g_gate.wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (g_gate.wake.fd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = ep_add(&g_gate.wake, EPOLLIN);
	if (rc != 0)
		goto fail;
	rc = -pthread_create(&g_gate.thread, NULL, gate_thread, NULL);
	if (rc != 0)
		goto fail;
	pthread_setname_np(g_gate.thread, "vhb-gate");
	g_gate.running = true;
	return 0;
fail:
	if (g_gate.wake.fd >= 0)
		close(g_gate.wake.fd);
	g_gate.wake.fd = -1;
	close(g_gate.epfd);
	g_gate.epfd = -1;
	return rc;
}

/* g_gate.lock held; the gate thread runs it and signals. */
static void
command(struct gate_cmd *c)
{
	uint64_t one = 1;

	STAILQ_INSERT_TAIL(&g_gate.cmds, c, next);
	if (write(g_gate.wake.fd, &one, sizeof(one)) < 0)
		VHB_LOG(ERR, dev, "gate: wake-up failed: %s", strerror(errno));
	while (!c->done)
		pthread_cond_wait(&g_gate.cond, &g_gate.lock);
}

/* Is a socket bound under dir (a path prefix ending in '/') in this network namespace? */
static bool
dir_has_bound_socket(const char *dir)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/net/unix", "re");

	if (f == NULL)
		return true;	/* cannot tell: treat as in use */
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, dir) != NULL;
	fclose(f);
	return found;
}

/* Does a process listen on dir/name (dir ends in '/')? */
static bool
socket_answers(const char *dir, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, n;
	bool yes;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return true;	/* cannot tell */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	yes = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN;
	close(fd);
	return yes;
}

/*
 * Private directories of processes that died without destroying their devices:
 * ours (uid, 0700), untouched for a minute, with no socket bound under them in this
 * network namespace and none that accepts a connection. Their socket files are
 * removed, then the directory (left alone if anything else is in it). Once per process, before its first directory is made.
 */
static void
sweep_stale(const char *tmp)
{
	char sub[PATH_MAX];
	struct dirent *e, *f;
	struct stat st;
	DIR *d, *dd;
	bool live;
	int dfd;

	d = opendir(tmp);
	if (d == NULL)
		return;
	dfd = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "vhb-gate-", 9) != 0 || strlen(e->d_name) != 15 ||
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
		    (st.st_mode & 0777) != 0700 || st.st_mtime + 60 > time(NULL))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s/", tmp, e->d_name);
		if (dir_has_bound_socket(sub))
			continue;
		dd = opendir(sub);
		if (dd == NULL)
			continue;
		/* Another network namespace's sockets are not in our /proc/net/unix. */
		live = false;
		while (!live && (f = readdir(dd)) != NULL)
			live = fstatat(dirfd(dd), f->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			       S_ISSOCK(st.st_mode) && socket_answers(sub, f->d_name);
		rewinddir(dd);
		while (!live && (f = readdir(dd)) != NULL)
			if (fstatat(dirfd(dd), f->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISSOCK(st.st_mode))
				unlinkat(dirfd(dd), f->d_name, 0);
		closedir(dd);
		if (live)
			continue;
		if (unlinkat(dfd, e->d_name, AT_REMOVEDIR) == 0)
			VHB_LOG(INFO, dev, "gate: removed %s/%s, left by a process that ended", tmp,
				e->d_name);
	}
	closedir(d);
}

/*
 * Where the private directory goes: the process's runtime directory ($XDG_RUNTIME_DIR:
 * the packaged unit's /run/vhost-balloon, writable under its read-only file system),
 * else $TMPDIR, else /tmp; the first that is an absolute, short (sun_path), writable
 * directory.
 */
static const char *
private_base(void)
{
	const char *env[] = { getenv("XDG_RUNTIME_DIR"), getenv("TMPDIR") };
	unsigned int i;

	for (i = 0; i < RTE_DIM(env); i++)
		if (env[i] != NULL && env[i][0] == '/' && strlen(env[i]) <= 48 &&
		    access(env[i], W_OK | X_OK) == 0)
			return env[i];
	return "/tmp";
}

int
vhb_gate_path_get(char *path, size_t len)
{
	const char *tmp;
	int n, rc = 0;

	pthread_mutex_lock(&g_gate.lock);
	if (g_gate.path_users == 0) {
		tmp = private_base();
		if (!g_gate.swept) {
			sweep_stale(tmp);
			g_gate.swept = true;
		}
		snprintf(g_gate.dir, sizeof(g_gate.dir), "%s/vhb-gate-XXXXXX", tmp);
		/* mkdtemp makes it 0700: only this user reaches rte_vhost's sockets. */
		if (mkdtemp(g_gate.dir) == NULL) {
			rc = -errno;
			VHB_LOG(ERR, dev, "gate: cannot make a private directory in %s (%d)", tmp,
				rc);
			goto out;
		}
	}
	n = snprintf(path, len, "%s/%u", g_gate.dir, g_gate.path_seq++);
	if (n < 0 || (size_t)n >= len) {
		rc = -ENAMETOOLONG;
		if (g_gate.path_users == 0)
			rmdir(g_gate.dir);
		goto out;
	}
	g_gate.path_users++;
out:
	pthread_mutex_unlock(&g_gate.lock);
	return rc;
}

void
vhb_gate_path_put(void)
{
	pthread_mutex_lock(&g_gate.lock);
	if (g_gate.path_users > 0 && --g_gate.path_users == 0)
		rmdir(g_gate.dir);
	pthread_mutex_unlock(&g_gate.lock);
}

int
vhb_gate_listen(struct vhb_device *dev)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct gate_cmd cmd = { .add = true };
	struct vhb_gate_listener *l;
	struct stat st;
	int fd, rc;

	if (strlen(dev->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, dev->path, strlen(dev->path) + 1);
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = -errno;
		goto fail_fd;
	}
	if (lstat(dev->path, &st) != 0 || listen(fd, SOMAXCONN) != 0) {
		rc = -errno;
		unlink(dev->path);
		goto fail_fd;
	}
	l->dev = dev;
	l->st_dev = st.st_dev;
	l->st_ino = st.st_ino;
	l->ep = (struct gate_ep){ .kind = EP_LISTEN, .owner = l, .fd = fd };
	TAILQ_INIT(&l->conns);
	pthread_mutex_lock(&g_gate.lock);
	rc = gate_start();
	if (rc != 0) {
		pthread_mutex_unlock(&g_gate.lock);
		unlink(dev->path);
		goto fail_fd;
	}
	cmd.l = l;
	command(&cmd);
	dev->gate = l;
	pthread_mutex_unlock(&g_gate.lock);
	return 0;
fail_fd:
	close(fd);
fail:
	free(l);
	return rc;
}

uint64_t
vhb_gate_config_answered(void)
{
	return __atomic_load_n(&g_gate.config_answered, __ATOMIC_RELAXED);
}

void
vhb_gate_unlisten(struct vhb_device *dev)
{
	struct gate_cmd cmd = { .add = false };

	pthread_mutex_lock(&g_gate.lock);
	if (dev->gate != NULL) {
		cmd.l = dev->gate;
		command(&cmd);
		dev->gate = NULL;
	}
	pthread_mutex_unlock(&g_gate.lock);
}

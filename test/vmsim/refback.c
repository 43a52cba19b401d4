/* SPDX-License-Identifier: BSD-3-Clause */
/* Reference vhost-user balloon backend for vmsim's tests (see refback.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "refback.h"

static uint32_t
g32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t
g64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint16_t
g16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static void
p32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void
p64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static int
read_full(int fd, void *buf, size_t len, int *fds, unsigned int *nfds)
{
	size_t done = 0;

	while (done < len) {
		char cbuf[CMSG_SPACE(8 * sizeof(int))];
		struct iovec iov = { (char *)buf + done, len - done };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			.msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		ssize_t r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
			unsigned int n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int), k;
			int got[8];

			if (c->cmsg_type != SCM_RIGHTS || n > 8)
				continue;
			memcpy(got, CMSG_DATA(c), n * sizeof(int));
			for (k = 0; k < n; k++) {
				if (fds != NULL && *nfds < 8)
					fds[(*nfds)++] = got[k];
				else
					close(got[k]);
			}
		}
		done += (size_t)r;
	}
	return 0;
}

static void
reply(struct refback *rb, uint32_t req, const void *payload, uint32_t size)
{
	uint8_t buf[12 + 512];

	p32(buf, req);
	p32(buf + 4, 0x5);
	p32(buf + 8, size);
	memcpy(buf + 12, payload, size);
	if (send(rb->cfd, buf, 12 + size, MSG_NOSIGNAL) < 0)
		rb->conn_closed = true;
}

static void *
xlate(struct refback *rb, uint64_t uaddr, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < rb->nreg; i++) {
		struct rb_region *r = &rb->reg[i];

		if (uaddr >= r->uaddr && uaddr - r->uaddr + len <= r->size)
			return r->map + r->off + (uaddr - r->uaddr);
	}
	return NULL;
}

static void *
gpa_ptr(struct refback *rb, uint64_t gpa, uint64_t len, uint64_t *fileoff, int *fd)
{
	unsigned int i;

	for (i = 0; i < rb->nreg; i++) {
		struct rb_region *r = &rb->reg[i];

		if (gpa >= r->gpa && gpa - r->gpa + len <= r->size) {
			if (fileoff != NULL)
				*fileoff = r->off + (gpa - r->gpa);
			if (fd != NULL)
				*fd = r->fd;
			return r->map + r->off + (gpa - r->gpa);
		}
	}
	return NULL;
}

static void
unmap_all(struct refback *rb)
{
	unsigned int i;

	for (i = 0; i < rb->nreg; i++) {
		munmap(rb->reg[i].map, rb->reg[i].maplen);
		close(rb->reg[i].fd);
	}
	rb->nreg = 0;
}

static int
role_of(const struct refback *rb, unsigned int idx)
{
	uint64_t f = rb->neg_features;
	unsigned int next = 2;

	if (idx == 0)
		return 0;
	if (idx == 1)
		return 1;
	if (f & RB_F(1)) {
		if (idx == next)
			return 2;
		next++;
	}
	if (f & RB_F(3)) {
		if (idx == next)
			return 3;
		next++;
	}
	if ((f & RB_F(5)) && idx == next)
		return 4;
	return -1;
}

static void
push_used(struct refback *rb, unsigned int q, uint16_t head, uint32_t len)
{
	struct rb_vq *v = &rb->vq[q];
	uint8_t *used = xlate(rb, v->used, 4 + 8ULL * v->num);
	uint16_t idx;
	uint64_t one = 1;

	if (used == NULL)
		return;
	idx = g16(used + 2);
	p32(used + 4 + 8 * (idx % v->num), head);
	p32(used + 8 + 8 * (idx % v->num), len);
	__atomic_store_n((uint16_t *)(used + 2), (uint16_t)(idx + 1), __ATOMIC_SEQ_CST);
	if (rb->neg_features & RB_F(29)) {
		/* Signal only if used_event (after the avail ring) was crossed. */
		uint8_t *avail = xlate(rb, v->avail, 6 + 2ULL * v->num);
		uint16_t ev = avail != NULL ? g16(avail + 4 + 2 * v->num) : 0;

		if ((uint16_t)(idx + 1 - ev - 1) >= (uint16_t)1) {
			rb->signals_skipped++;
			return;
		}
	}
	rb->signals++;
	if (!rb->no_signal && v->call >= 0 && write(v->call, &one, 8) < 0)
		return;
}

static void
handle_chain(struct refback *rb, unsigned int q, uint16_t head)
{
	struct rb_vq *v = &rb->vq[q];
	uint8_t *desc = xlate(rb, v->desc, 16ULL * v->num);
	int role = role_of(rb, q);
	uint16_t i = head;
	unsigned int n = 0;
	uint64_t cur_gpa[32] = { 0 }, cur_len[32] = { 0 };

	uint8_t *table = desc;
	uint16_t tnum = v->num;

	if (desc == NULL)
		return;
	if (g16(desc + 16 * (head % v->num) + 12) & 4) {
		/* VIRTQ_DESC_F_INDIRECT: walk the table instead (it is guest-physical). */
		uint8_t *d = desc + 16 * (head % v->num);

		table = gpa_ptr(rb, g64(d), g32(d + 8), NULL, NULL);
		tnum = (uint16_t)(g32(d + 8) / 16);
		if (table == NULL || tnum == 0)
			return;
		rb->indirect_chains++;
		i = 0;
	}
	for (;;) {
		uint8_t *d = table + 16 * (i % tnum);
		uint64_t addr = g64(d);
		uint32_t len = g32(d + 8);
		uint16_t flags = g16(d + 12);

		rb->last_desc_flags[q] = flags;
		n++;
		if (role == 0 || role == 1) {
			uint8_t *pf = gpa_ptr(rb, addr, len, NULL, NULL);
			uint32_t k, cnt = len / 4, prev = 0;

			if (role == 0 && rb->close_on_inflate) {
				rb->close_on_inflate = false;	/* once */
				close(rb->cfd);
				rb->cfd = -1;
				rb->conn_closed = true;
				return;
			}
			if (cnt > rb->max_pfns_per_req)
				rb->max_pfns_per_req = cnt;
			for (k = 0; pf != NULL && k < cnt; k++) {
				uint32_t pfn = g32(pf + 4 * k);
				uint64_t off;
				int fd;

				if (k > 0 && pfn + 1 == prev)
					rb->pfns_desc_order++;
				if (k > 0 && pfn == prev + 1)
					rb->pfns_asc_order++;
				prev = pfn;
				if (k == 0 && role == 0)
					rb->first_pfn_last_inflate = pfn;
				if (gpa_ptr(rb, (uint64_t)pfn << 12, 4096, &off, &fd) == NULL) {
					rb->bad_pfns++;
					continue;
				}
				if (role == 0 && rb->punch)
					fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
							(off_t)off, 4096);
			}
			if (role == 0) {
				rb->inflate_reqs++;
				rb->inflate_pfns += cnt;
				rb->in_balloon += cnt;
			} else {
				rb->deflate_reqs++;
				rb->deflate_pfns += cnt;
				rb->in_balloon -= cnt;
			}
		} else if (role == 2) {
			uint8_t *s = gpa_ptr(rb, addr, len, NULL, NULL);
			unsigned int k;

			rb->stats_bufs++;
			rb->nstats = 0;
			for (k = 0; s != NULL && k < len / 10 && k < 32; k++) {
				rb->stats_tags[k] = g16(s + 10 * k);
				rb->stats_vals[k] = g64(s + 10 * k + 2);
				rb->nstats++;
			}
		} else if (role == 4) {
			uint64_t off;
			int fd;

			rb->report_bytes += len;
			if (rb->punch_reports && gpa_ptr(rb, addr, len, &off, &fd) != NULL)
				fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
						(off_t)len);
			if (n <= 32) {
				cur_gpa[n - 1] = addr;
				cur_len[n - 1] = len;
			}
		}
		if (!(flags & 1))
			break;
		i = g16(d + 14);
		if (n > tnum)
			break;
	}
	if (role == 4) {
		unsigned int k;

		/* A late discard: the previous report's ranges, acked long ago and reused. */
		for (k = 0; rb->late_report_discard && k < rb->prev_rep_n; k++) {
			uint64_t off;
			int fd;

			if (gpa_ptr(rb, rb->prev_rep_gpa[k], rb->prev_rep_len[k], &off, &fd) != NULL)
				fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
						(off_t)rb->prev_rep_len[k]);
		}
		rb->prev_rep_n = n <= 32 ? n : 32;
		memcpy(rb->prev_rep_gpa, cur_gpa, sizeof(cur_gpa));
		memcpy(rb->prev_rep_len, cur_len, sizeof(cur_len));
		rb->report_reqs++;
		if (n > rb->report_max_entries)
			rb->report_max_entries = n;
	}
	if (role == 2) {
		v->holding = true;
		v->held_head = head;
		return;
	}
	push_used(rb, q, head, 0);
	if (role == 1 && rb->corrupt_on_deflate) {
		uint8_t *pf = gpa_ptr(rb, g64(desc + 16 * (head % v->num)), 4, NULL, NULL);
		uint8_t *pg;

		/* A release racing a deflate, made deterministic: zero the first page of the
		 * previous deflate request, which the guest reused right after its ack (it has
		 * sent this request since). */
		if (rb->corrupt_pfn != 0) {
			pg = gpa_ptr(rb, (uint64_t)rb->corrupt_pfn << 12, 4096, NULL, NULL);
			if (pg != NULL)
				memset(pg, 0, 4096);
		}
		rb->corrupt_pfn = pf != NULL ? g32(pf) : 0;
	}
}

static void
serve_rings(struct refback *rb)
{
	unsigned int q;

	for (q = 0; q < RB_MAX_VQS; q++) {
		struct rb_vq *v = &rb->vq[q];
		uint8_t *avail, *used;
		uint16_t aidx;

		if (!v->enabled || !v->addr_set || v->num == 0)
			continue;
		avail = xlate(rb, v->avail, 4 + 2ULL * v->num);
		used = xlate(rb, v->used, 4);
		if (avail == NULL || used == NULL)
			continue;
		if (rb->no_notify)
			p32(used, g32(used) | 1);
		aidx = __atomic_load_n((uint16_t *)(avail + 2), __ATOMIC_ACQUIRE);
		while (v->last_avail != aidx && !rb->conn_closed) {
			uint16_t head = g16(avail + 4 + 2 * (v->last_avail % v->num));

			v->last_avail++;
			handle_chain(rb, q, head);
		}
		if ((rb->neg_features & RB_F(29)) && !rb->no_avail_event && !rb->conn_closed) {
			/* avail_event (after the used ring): kick me for the next one. */
			uint8_t *ue = xlate(rb, v->used, 6 + 8ULL * v->num);

			if (ue != NULL)
				__atomic_store_n((uint16_t *)(ue + 4 + 8 * v->num), v->last_avail,
						__ATOMIC_SEQ_CST);
		}
	}
}

static void
handle_msg(struct refback *rb)
{
	uint8_t hdr[12], pl[4096], out[512];
	int fds[8];
	unsigned int nfds = 0, i;
	uint32_t req, flags, size;
	int ack = 0;
	bool replied = false;

	if (read_full(rb->cfd, hdr, 12, fds, &nfds) < 0) {
		rb->conn_closed = true;
		return;
	}
	req = g32(hdr);
	flags = g32(hdr + 4);
	size = g32(hdr + 8);
	if (size > sizeof(pl) || (size > 0 && read_full(rb->cfd, pl, size, fds, &nfds) < 0)) {
		rb->conn_closed = true;
		return;
	}
	if (rb->nmsgs < RB_MAX_MSGS) {
		struct rb_msg_rec *m = &rb->msgs[rb->nmsgs++];

		m->request = req;
		m->flags = flags;
		m->size = size;
		m->nfds = nfds;
		m->u64 = size >= 8 ? g64(pl) : 0;
	}
	switch (req) {
	case 1:	/* GET_FEATURES */
		p64(out, rb->features);
		reply(rb, req, out, 8);
		replied = true;
		break;
	case 2:	/* SET_FEATURES */
		rb->neg_features = g64(pl);
		break;
	case 15:	/* GET_PROTOCOL_FEATURES */
		p64(out, rb->pfeatures);
		reply(rb, req, out, 8);
		replied = true;
		break;
	case 16:
		rb->neg_pf = g64(pl);
		break;
	case 17:	/* GET_QUEUE_NUM */
	case 36:	/* GET_MAX_MEM_SLOTS */
		p64(out, req == 17 ? RB_MAX_VQS : 8);
		reply(rb, req, out, 8);
		replied = true;
		break;
	case 3:
		break;
	case 5: {	/* SET_MEM_TABLE */
		uint32_t n = g32(pl);

		unmap_all(rb);
		for (i = 0; i < n && i < nfds && i < RB_MAX_REGIONS; i++) {
			struct rb_region *r = &rb->reg[i];
			const uint8_t *e = pl + 8 + 32 * i;

			r->gpa = g64(e);
			r->size = g64(e + 8);
			r->uaddr = g64(e + 16);
			r->off = g64(e + 24);
			r->maplen = r->off + r->size;
			r->fd = fds[i];
			fds[i] = -1;
			r->map = mmap(NULL, r->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
			if (r->map == MAP_FAILED) {
				ack = 1;
				close(r->fd);
				break;
			}
			rb->nreg++;
		}
		break;
	}
	case 37:	/* ADD_MEM_REG: u64 padding, then one region */
		if (nfds > 0 && rb->nreg < RB_MAX_REGIONS) {
			struct rb_region *r = &rb->reg[rb->nreg];

			r->gpa = g64(pl + 8);
			r->size = g64(pl + 16);
			r->uaddr = g64(pl + 24);
			r->off = g64(pl + 32);
			r->maplen = r->off + r->size;
			r->fd = fds[0];
			fds[0] = -1;
			r->map = mmap(NULL, r->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
			if (r->map == MAP_FAILED) {
				ack = 1;
				close(r->fd);
			} else {
				rb->nreg++;
			}
		}
		break;
	case 38:	/* REM_MEM_REG */
		for (i = 0; i < rb->nreg; i++) {
			if (rb->reg[i].gpa == g64(pl + 8) && rb->reg[i].size == g64(pl + 16)) {
				munmap(rb->reg[i].map, rb->reg[i].maplen);
				close(rb->reg[i].fd);
				rb->reg[i] = rb->reg[--rb->nreg];
				break;
			}
		}
		break;
	case 8:
		if (g32(pl) < RB_MAX_VQS)
			rb->vq[g32(pl)].num = (uint16_t)g32(pl + 4);
		break;
	case 10:
		if (g32(pl) < RB_MAX_VQS)
			rb->vq[g32(pl)].last_avail = (uint16_t)g32(pl + 4);
		break;
	case 9:
		if (g32(pl) < RB_MAX_VQS) {
			struct rb_vq *v = &rb->vq[g32(pl)];

			v->desc = g64(pl + 8);
			v->used = g64(pl + 16);
			v->avail = g64(pl + 24);
			v->addr_set = true;
		}
		break;
	case 11: {	/* GET_VRING_BASE */
		uint32_t q = g32(pl);

		if (q < RB_MAX_VQS) {
			struct rb_vq *v = &rb->vq[q];
			uint16_t base = v->last_avail;

			/* Give a held stats buffer back (QEMU's virtqueue_unpop). */
			if (v->holding) {
				base--;
				v->holding = false;
			}
			v->enabled = false;
			v->addr_set = false;
			p32(out, q);
			p32(out + 4, base);
		}
		reply(rb, req, out, 8);
		replied = true;
		break;
	}
	case 12:
	case 13:
	case 14: {
		uint32_t q = (uint32_t)(g64(pl) & 0xff);

		if (q < RB_MAX_VQS && nfds > 0) {
			int *slot = req == 12 ? &rb->vq[q].kick : req == 13 ? &rb->vq[q].call : NULL;

			if (req == 12) {
				struct pollfd kp = { .fd = fds[0], .events = POLLIN };

				if (poll(&kp, 1, 0) == 1)
					rb->kicks_presignalled++;
			}
			if (req == 13 && rb->keep_first_call && *slot >= 0)
				slot = NULL;
			if (slot != NULL) {
				if (*slot >= 0)
					close(*slot);
				*slot = fds[0];
				fds[0] = -1;
			}
		}
		break;
	}
	case 18: {	/* SET_VRING_ENABLE */
		uint32_t q = g32(pl);

		if (q < RB_MAX_VQS) {
			rb->vq[q].enabled = g32(pl + 4) != 0;
			if (rb->vq[q].enabled && role_of(rb, q) == 2 && rb->vq[q].addr_set) {
				uint8_t *avail = xlate(rb, rb->vq[q].avail, 4);

				if (avail != NULL && g16(avail + 2) != rb->vq[q].last_avail)
					rb->stats_before_enable = true;
			}
		}
		break;
	}
	case 21:	/* SET_BACKEND_REQ_FD */
		if (nfds > 0) {
			if (rb->slave >= 0)
				close(rb->slave);
			rb->slave = fds[0];
			fds[0] = -1;
		}
		break;
	case 24: {	/* GET_CONFIG */
		uint32_t csize = g32(pl + 4);

		rb->get_config++;
		if (rb->blocking_config_change && rb->slave >= 0) {
			uint8_t cm[20];
			struct pollfd sp = { .fd = rb->slave, .events = POLLIN };

			p32(cm, 2);
			p32(cm + 4, 0x9);
			p32(cm + 8, 0);
			if (send(rb->slave, cm, 12, MSG_NOSIGNAL) == 12 && poll(&sp, 1, 2000) == 1)
				(void)read_full(rb->slave, cm, 20, NULL, NULL);
		}
		if (csize > 256)
			csize = 256;
		memcpy(out, pl, 12);
		memcpy(out + 12, rb->cfg, csize);
		reply(rb, req, out, rb->bad_get_config_size ? 12 + csize - 4 : 12 + csize);
		replied = true;
		break;
	}
	case 25: {	/* SET_CONFIG: whole config from offset 0 */
		uint32_t off = g32(pl), csize = g32(pl + 4);

		rb->set_config++;
		if (off == 0 && csize >= 4)
			rb->set_config_num_pages = g32(pl + 12);
		if (off == 0 && csize >= 8) {
			rb->actual = g32(pl + 12 + 4);
			memcpy(rb->cfg + 4, pl + 12 + 4, 4);
		}
		if (off == 0 && csize >= 16) {
			rb->poison_val = g32(pl + 12 + 12);
			memcpy(rb->cfg + 12, pl + 12 + 12, 4);
		}
		break;
	}
	case 40:	/* GET_STATUS */
		p64(out, 0);
		reply(rb, req, out, 8);
		replied = true;
		break;
	default:
		ack = 1;
		break;
	}
	for (i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if ((flags & 0x8) && !replied) {
		p64(out, (uint64_t)ack);
		reply(rb, req, out, 8);
	}
}

static void *
rb_thread(void *arg)
{
	struct refback *rb = arg;

	while (!rb->stop) {
		struct pollfd p;

		if (rb->cfd < 0) {
			p = (struct pollfd){ .fd = rb->lfd, .events = POLLIN };
			if (poll(&p, 1, 5) > 0) {
				rb->cfd = accept4(rb->lfd, NULL, NULL, SOCK_CLOEXEC);
				rb->conn_closed = false;
			}
			continue;
		}
		p = (struct pollfd){ .fd = rb->cfd, .events = POLLIN };
		if (rb->stop_reading) {
			usleep(1000);
			continue;
		}
		if (poll(&p, 1, 1) > 0) {
			pthread_mutex_lock(&rb->lock);
			handle_msg(rb);
			pthread_mutex_unlock(&rb->lock);
		}
		pthread_mutex_lock(&rb->lock);
		if (!rb->conn_closed)
			serve_rings(rb);
		if (rb->conn_closed && rb->cfd >= 0) {
			close(rb->cfd);
			rb->cfd = -1;
		}
		pthread_mutex_unlock(&rb->lock);
	}
	return NULL;
}

int
rb_start(struct refback *rb, const char *path, uint64_t features, uint64_t pfeatures)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned int i;

	memset(rb, 0, sizeof(*rb));
	snprintf(rb->path, sizeof(rb->path), "%s", path);
	rb->features = features;
	rb->pfeatures = pfeatures;
	rb->config_size = 16;
	rb->cfd = -1;
	rb->slave = -1;
	for (i = 0; i < RB_MAX_VQS; i++)
		rb->vq[i].kick = rb->vq[i].call = -1;
	pthread_mutex_init(&rb->lock, NULL);
	unlink(path);
	rb->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (rb->lfd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (bind(rb->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(rb->lfd, 4) < 0)
		return -errno;
	if (pthread_create(&rb->th, NULL, rb_thread, rb) != 0)
		return -EAGAIN;
	rb->running = true;
	return 0;
}

void
rb_stop(struct refback *rb)
{
	unsigned int i;

	if (rb->running) {
		rb->stop = true;
		pthread_join(rb->th, NULL);
	}
	rb->running = false;
	if (rb->cfd >= 0)
		close(rb->cfd);
	if (rb->slave >= 0)
		close(rb->slave);
	for (i = 0; i < RB_MAX_VQS; i++) {
		if (rb->vq[i].kick >= 0)
			close(rb->vq[i].kick);
		if (rb->vq[i].call >= 0)
			close(rb->vq[i].call);
	}
	unmap_all(rb);
	close(rb->lfd);
	unlink(rb->path);
	pthread_mutex_destroy(&rb->lock);
}

int
rb_set_target(struct refback *rb, uint32_t pages)
{
	uint8_t msg[12];
	int ret = 0;

	pthread_mutex_lock(&rb->lock);
	p32(rb->cfg, pages);
	if (rb->slave >= 0) {
		p32(msg, 2);	/* BACKEND_CONFIG_CHANGE_MSG */
		p32(msg + 4, 0x1);
		p32(msg + 8, 0);
		if (send(rb->slave, msg, 12, MSG_NOSIGNAL) != 12)
			ret = -EIO;
	}
	pthread_mutex_unlock(&rb->lock);
	return ret;
}

int
rb_request_stats(struct refback *rb)
{
	unsigned int q;
	int ret = -ENOENT;

	pthread_mutex_lock(&rb->lock);
	for (q = 0; q < RB_MAX_VQS; q++) {
		if (role_of(rb, q) == 2 && rb->vq[q].holding) {
			rb->vq[q].holding = false;
			push_used(rb, q, rb->vq[q].held_head, 0);
			ret = 0;
		}
	}
	pthread_mutex_unlock(&rb->lock);
	return ret;
}

int64_t
rb_backend_msg(struct refback *rb, uint32_t req, uint32_t flags, void (*poll_cb)(void *),
		void *arg, uint32_t *reply_flags)
{
	uint8_t msg[12 + 8];
	unsigned int t;

	p32(msg, req);
	p32(msg + 4, flags);
	p32(msg + 8, 0);
	if (rb->slave < 0 || send(rb->slave, msg, 12, MSG_NOSIGNAL) != 12)
		return -EIO;
	if (!(flags & 0x8))
		return 0;
	for (t = 0; t < 400; t++) {
		struct pollfd p = { .fd = rb->slave, .events = POLLIN };

		poll_cb(arg);
		if (poll(&p, 1, 5) == 1) {
			if (read_full(rb->slave, msg, 20, NULL, NULL) < 0)
				return -EIO;
			*reply_flags = g32(msg + 4);
			if (g32(msg) != req || g32(msg + 8) != 8)
				return -EPROTO;
			return (int64_t)g64(msg + 12);
		}
	}
	return -ETIMEDOUT;
}

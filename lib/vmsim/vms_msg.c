/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-user message encoding and the unix socket I/O with SCM_RIGHTS. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vms_msg.h"

void
vms_msg_init(struct vms_msg *m, uint32_t request, uint32_t flags)
{
	m->request = request;
	m->flags = flags;
	m->size = 0;
}

void
vms_msg_u64(struct vms_msg *m, uint32_t request, uint32_t flags, uint64_t v)
{
	vms_msg_init(m, request, flags);
	memcpy(m->payload, &v, 8);
	m->size = VMS_PL_U64;
}

void
vms_msg_state(struct vms_msg *m, uint32_t request, uint32_t flags, uint32_t idx, uint32_t num)
{
	vms_msg_init(m, request, flags);
	memcpy(m->payload, &idx, 4);
	memcpy(m->payload + 4, &num, 4);
	m->size = VMS_PL_STATE;
}

void
vms_msg_addr(struct vms_msg *m, uint32_t idx, uint32_t aflags, uint64_t desc, uint64_t used,
		uint64_t avail, uint64_t log)
{
	vms_msg_init(m, VMS_REQ_SET_VRING_ADDR, VMS_MSG_VERSION);
	/* struct vhost_vring_addr: note desc, used, avail order. */
	memcpy(m->payload, &idx, 4);
	memcpy(m->payload + 4, &aflags, 4);
	memcpy(m->payload + 8, &desc, 8);
	memcpy(m->payload + 16, &used, 8);
	memcpy(m->payload + 24, &avail, 8);
	memcpy(m->payload + 32, &log, 8);
	m->size = VMS_PL_ADDR;
}

static void
put_region(uint8_t *p, const struct vms_msg_region *r)
{
	memcpy(p, &r->gpa, 8);
	memcpy(p + 8, &r->size, 8);
	memcpy(p + 16, &r->uaddr, 8);
	memcpy(p + 24, &r->mmap_offset, 8);
}

int
vms_msg_mem_table(struct vms_msg *m, uint32_t flags, const struct vms_msg_region *r,
		unsigned int n)
{
	uint32_t pad = 0;
	unsigned int i;

	if (n > 8)
		return -E2BIG;
	vms_msg_init(m, VMS_REQ_SET_MEM_TABLE, flags);
	memcpy(m->payload, &n, 4);
	memcpy(m->payload + 4, &pad, 4);
	for (i = 0; i < n; i++)
		put_region(m->payload + VMS_PL_MEM_HDR + i * VMS_PL_REGION, &r[i]);
	/* QEMU sends only the regions it fills, not the 8-entry array. */
	m->size = VMS_PL_MEM_HDR + n * VMS_PL_REGION;
	return 0;
}

void
vms_msg_mem_reg(struct vms_msg *m, uint32_t request, uint32_t flags,
		const struct vms_msg_region *r)
{
	uint64_t pad = 0;

	vms_msg_init(m, request, flags);
	memcpy(m->payload, &pad, 8);
	put_region(m->payload + 8, r);
	m->size = VMS_PL_MEM_REG;
}

int
vms_msg_config(struct vms_msg *m, uint32_t request, uint32_t flags, uint32_t offset,
		uint32_t size, uint32_t cfg_flags, const uint8_t *data)
{
	if (size > VMS_MAX_CONFIG_SIZE)
		return -EINVAL;
	vms_msg_init(m, request, flags);
	memcpy(m->payload, &offset, 4);
	memcpy(m->payload + 4, &size, 4);
	memcpy(m->payload + 8, &cfg_flags, 4);
	if (data != NULL)
		memcpy(m->payload + VMS_PL_CONFIG_HDR, data, size);
	else
		memset(m->payload + VMS_PL_CONFIG_HDR, 0, size);
	m->size = VMS_PL_CONFIG_HDR + size;
	return 0;
}

int
vms_msg_get_u64(const struct vms_msg *m, uint64_t *v)
{
	if (m->size != VMS_PL_U64)
		return -EPROTO;
	memcpy(v, m->payload, 8);
	return 0;
}

int
vms_msg_get_state(const struct vms_msg *m, uint32_t *idx, uint32_t *num)
{
	if (m->size != VMS_PL_STATE)
		return -EPROTO;
	memcpy(idx, m->payload, 4);
	memcpy(num, m->payload + 4, 4);
	return 0;
}

int
vms_msg_get_config(const struct vms_msg *m, uint32_t *offset, uint32_t *size, uint32_t *flags,
		const uint8_t **data)
{
	if (m->size < VMS_PL_CONFIG_HDR)
		return -EPROTO;
	memcpy(offset, m->payload, 4);
	memcpy(size, m->payload + 4, 4);
	memcpy(flags, m->payload + 8, 4);
	*data = m->payload + VMS_PL_CONFIG_HDR;
	return 0;
}

int
vms_msg_get_mem_table(const struct vms_msg *m, struct vms_msg_region *r, unsigned int max,
		unsigned int *n)
{
	uint32_t nr;
	unsigned int i;

	if (m->size < VMS_PL_MEM_HDR)
		return -EPROTO;
	memcpy(&nr, m->payload, 4);
	if (nr > 8 || nr > max || m->size < VMS_PL_MEM_HDR + nr * VMS_PL_REGION)
		return -EPROTO;
	for (i = 0; i < nr; i++) {
		const uint8_t *p = m->payload + VMS_PL_MEM_HDR + i * VMS_PL_REGION;

		memcpy(&r[i].gpa, p, 8);
		memcpy(&r[i].size, p + 8, 8);
		memcpy(&r[i].uaddr, p + 16, 8);
		memcpy(&r[i].mmap_offset, p + 24, 8);
	}
	*n = nr;
	return 0;
}

uint32_t
vms_le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void
vms_le32_put(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

uint16_t
vms_le16_get(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

void
vms_le16_put(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

uint64_t
vms_le64_get(const uint8_t *p)
{
	return (uint64_t)vms_le32_get(p) | (uint64_t)vms_le32_get(p + 4) << 32;
}

void
vms_le64_put(uint8_t *p, uint64_t v)
{
	vms_le32_put(p, (uint32_t)v);
	vms_le32_put(p + 4, (uint32_t)(v >> 32));
}

int
vms_sock_send(int fd, const void *buf, size_t len, const int *fds, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VMS_MSG_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct msghdr mh;
	struct iovec iov;
	size_t done = 0;
	ssize_t r;

	if (nfds > VMS_MSG_MAX_FDS)
		return -EINVAL;
	while (done < len) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = (char *)(uintptr_t)buf + done;
		iov.iov_len = len - done;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		/* fds travel with the first byte, as with QEMU's qemu_chr_fe_write_all. */
		if (done == 0 && nfds > 0) {
			struct cmsghdr *c;

			memset(&u, 0, sizeof(u));
			mh.msg_control = u.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		r = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* SO_SNDTIMEO expired (or a non-blocking socket is full). */
			if (errno == EAGAIN)
				return -ETIMEDOUT;
			return -errno;
		}
		done += (size_t)r;
	}
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
vms_sock_recv_bytes(int fd, void *buf, size_t len, int timeout_ms, int *fds, unsigned int *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VMS_MSG_MAX_FDS)];
		struct cmsghdr align;
	} u;
	int64_t deadline = now_ms() + timeout_ms;
	size_t done = 0;

	if (nfds != NULL)
		*nfds = 0;
	while (done < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		struct msghdr mh;
		struct cmsghdr *c;
		struct iovec iov;
		ssize_t r;
		int pr;

		if (left < 0)
			left = 0;
		pr = poll(&p, 1, (int)left);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pr == 0)
			return -ETIMEDOUT;
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = (char *)buf + done;
		iov.iov_len = len - done;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ECONNRESET;
		for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
			unsigned int k, n;
			int got[VMS_MSG_MAX_FDS];

			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			if (n > VMS_MSG_MAX_FDS)
				n = VMS_MSG_MAX_FDS;
			memcpy(got, CMSG_DATA(c), n * sizeof(int));
			for (k = 0; k < n; k++) {
				if (fds != NULL && nfds != NULL && *nfds < VMS_MSG_MAX_FDS)
					fds[(*nfds)++] = got[k];
				else
					close(got[k]);
			}
		}
		done += (size_t)r;
	}
	return 0;
}

int
vms_sock_recv(int fd, struct vms_msg *m, int timeout_ms, int *fds, unsigned int *nfds)
{
	unsigned int n2 = 0;
	int ret;

	ret = vms_sock_recv_bytes(fd, m, VMS_MSG_HDR_SIZE, timeout_ms, fds, nfds);
	if (ret < 0)
		return ret;
	if (m->size > VMS_MSG_MAX_PAYLOAD)
		return -EPROTO;
	if (m->size == 0)
		return 0;
	/* fds normally ride on the header; any on the payload are kept only if none came yet. */
	ret = vms_sock_recv_bytes(fd, m->payload, m->size, timeout_ms,
			fds != NULL && nfds != NULL && *nfds == 0 ? fds : NULL, &n2);
	if (nfds != NULL)
		*nfds += n2;
	return ret;
}

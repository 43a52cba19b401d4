/* SPDX-License-Identifier: BSD-3-Clause */
/* Message encoding against byte offsets from vhost-user.rst, LE config accessors, and the
 * socket layer (fds via SCM_RIGHTS, oversize messages, EOF, timeouts). */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vms_msg.h"
#include "tst.h"

static uint32_t
at32(const void *base, size_t off)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)base + off, 4);
	return v;
}

static uint64_t
at64(const void *base, size_t off)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)base + off, 8);
	return v;
}

static void
test_layout(void)
{
	struct vms_msg m;
	struct vms_msg_region r[2] = {
		{ 0, 1ULL << 30, 0x7f0000000000ULL, 0 },
		{ 4ULL << 30, 1ULL << 30, 0x7f0040000000ULL, 1ULL << 30 },
	};
	struct vms_msg_region back[8];
	uint8_t cfg[16];
	unsigned int n;
	uint32_t off, sz, fl;
	const uint8_t *data;
	uint64_t v;

	CHECK_EQ(sizeof(struct vms_msg), 12 + VMS_MSG_MAX_PAYLOAD);
	vms_msg_u64(&m, VMS_REQ_SET_FEATURES, VMS_MSG_VERSION, 0x140000027ULL);
	CHECK_EQ(at32(&m, 0), 2);
	CHECK_EQ(at32(&m, 4), 1);
	CHECK_EQ(at32(&m, 8), 8);
	CHECK_EQ(at64(&m, 12), 0x140000027ULL);
	CHECK(vms_msg_get_u64(&m, &v) == 0 && v == 0x140000027ULL);
	m.size = 4;
	CHECK(vms_msg_get_u64(&m, &v) == -EPROTO);

	vms_msg_state(&m, VMS_REQ_SET_VRING_ENABLE, VMS_MSG_VERSION | VMS_MSG_NEED_REPLY, 3, 1);
	CHECK_EQ(at32(&m, 0), 18);
	CHECK_EQ(at32(&m, 4), 0x9);
	CHECK_EQ(at32(&m, 8), 8);
	CHECK_EQ(at32(&m, 12), 3);
	CHECK_EQ(at32(&m, 16), 1);

	/* struct vhost_vring_addr: index, flags, desc, used, avail, log. */
	vms_msg_addr(&m, 2, 0, 0x1000, 0x3000, 0x2000, 0x4000);
	CHECK_EQ(at32(&m, 0), 9);
	CHECK_EQ(at32(&m, 8), 40);
	CHECK_EQ(at32(&m, 12), 2);
	CHECK_EQ(at64(&m, 20), 0x1000);
	CHECK_EQ(at64(&m, 28), 0x3000);
	CHECK_EQ(at64(&m, 36), 0x2000);
	CHECK_EQ(at64(&m, 44), 0x4000);

	CHECK(vms_msg_mem_table(&m, VMS_MSG_VERSION, r, 2) == 0);
	CHECK_EQ(at32(&m, 0), 5);
	CHECK_EQ(at32(&m, 8), 8 + 2 * 32);
	CHECK_EQ(at32(&m, 12), 2);
	CHECK_EQ(at64(&m, 20 + 32 + 0), 4ULL << 30);
	CHECK_EQ(at64(&m, 20 + 32 + 8), 1ULL << 30);
	CHECK_EQ(at64(&m, 20 + 32 + 16), 0x7f0040000000ULL);
	CHECK_EQ(at64(&m, 20 + 32 + 24), 1ULL << 30);
	CHECK(vms_msg_get_mem_table(&m, back, 8, &n) == 0 && n == 2);
	CHECK(back[1].mmap_offset == (1ULL << 30) && back[0].uaddr == 0x7f0000000000ULL);
	CHECK(vms_msg_mem_table(&m, VMS_MSG_VERSION, r, 9) == -E2BIG);

	vms_msg_mem_reg(&m, VMS_REQ_ADD_MEM_REG, VMS_MSG_VERSION, &r[1]);
	CHECK_EQ(at32(&m, 8), 40);
	CHECK_EQ(at64(&m, 12), 0);
	CHECK_EQ(at64(&m, 20), 4ULL << 30);

	/* GET_CONFIG as QEMU sends it: offset 0, size 16, flags 0, 16 zero bytes: size 28. */
	CHECK(vms_msg_config(&m, VMS_REQ_GET_CONFIG, VMS_MSG_VERSION, 0, 16, 0, NULL) == 0);
	CHECK_EQ(at32(&m, 0), 24);
	CHECK_EQ(at32(&m, 8), 28);
	CHECK_EQ(at32(&m, 12), 0);
	CHECK_EQ(at32(&m, 16), 16);
	CHECK_EQ(at32(&m, 20), 0);
	CHECK_EQ(at64(&m, 24), 0);
	memset(cfg, 0, sizeof(cfg));
	vms_le32_put(cfg + 4, 256);
	CHECK(vms_msg_config(&m, VMS_REQ_SET_CONFIG, VMS_MSG_VERSION, 0, 16, 0, cfg) == 0);
	CHECK(vms_msg_get_config(&m, &off, &sz, &fl, &data) == 0);
	CHECK(off == 0 && sz == 16 && fl == 0 && vms_le32_get(data + 4) == 256);
	CHECK(vms_msg_config(&m, VMS_REQ_SET_CONFIG, 1, 0, 257, 0, cfg) == -EINVAL);
}

static void
test_le(void)
{
	uint8_t b[8] = { 0 };

	vms_le32_put(b, 0xaaaaaaaaU);
	CHECK(b[0] == 0xaa && b[3] == 0xaa);
	vms_le32_put(b, 0x01020304U);
	CHECK(b[0] == 4 && b[1] == 3 && b[2] == 2 && b[3] == 1);
	CHECK_EQ(vms_le32_get(b), 0x01020304U);
	vms_le16_put(b, 0x0809);
	CHECK(b[0] == 9 && b[1] == 8 && vms_le16_get(b) == 0x0809);
	vms_le64_put(b, 0x1122334455667788ULL);
	CHECK(b[0] == 0x88 && b[7] == 0x11 && vms_le64_get(b) == 0x1122334455667788ULL);
}

static void
test_socket(void)
{
	struct vms_msg m, r;
	int sv[2], efd, fds[8];
	unsigned int nfds = 0;
	uint64_t one = 1, got;

	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	efd = eventfd(0, 0);
	REQUIRE(efd >= 0);
	vms_msg_u64(&m, VMS_REQ_SET_VRING_KICK, VMS_MSG_VERSION, 1);
	CHECK(vms_sock_send(sv[0], &m, 12 + m.size, &efd, 1) == 0);
	CHECK(vms_sock_recv(sv[1], &r, 1000, fds, &nfds) == 0);
	CHECK(r.request == VMS_REQ_SET_VRING_KICK && r.size == 8 && nfds == 1);
	if (nfds == 1) {
		/* The received fd is the same eventfd. */
		CHECK(write(fds[0], &one, 8) == 8);
		CHECK(read(efd, &got, 8) == 8 && got == 1);
		close(fds[0]);
	}
	/* Nothing to read: timeout, not a hang. */
	CHECK(vms_sock_recv(sv[1], &r, 20, NULL, NULL) == -ETIMEDOUT);
	/* Oversize payload is refused. */
	m.request = 1;
	m.flags = 5;
	m.size = VMS_MSG_MAX_PAYLOAD + 1;
	CHECK(vms_sock_send(sv[0], &m, 12, NULL, 0) == 0);
	CHECK(vms_sock_recv(sv[1], &r, 1000, NULL, NULL) == -EPROTO);
	/* A half message then EOF. */
	vms_msg_u64(&m, VMS_REQ_GET_FEATURES, 5, 7);
	CHECK(vms_sock_send(sv[0], &m, 14, NULL, 0) == 0);
	close(sv[0]);
	CHECK(vms_sock_recv(sv[1], &r, 1000, NULL, NULL) == -ECONNRESET);
	close(sv[1]);
	close(efd);
}

int
main(void)
{
	printf("vmsim-msg: no guest memory used\n");
	test_layout();
	test_le();
	test_socket();
	CHECK(strcmp(vms_request_name(VMS_REQ_SET_BACKEND_REQ_FD), "SET_BACKEND_REQ_FD") == 0);
	CHECK(strcmp(vms_request_name(999), "UNKNOWN") == 0);
	return tst_done("vmsim-msg");
}

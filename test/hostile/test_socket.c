/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user socket security: the socket file gets the operator's mode and group,
 * a stale socket (nobody listening) is replaced, and every other thing at the
 * path (a live socket, a directory, a regular file, a symlink, a missing parent,
 * a path longer than sun_path) makes device creation fail without touching it.
 * Failed creations leave no fd behind.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_errno.h>

#include "hostile_common.h"

static struct vhb_device *
create(const char *name, const char *path, int gid, uint32_t mode)
{
	struct vhb_device_params p = {
		.socket_path = path,
		.name = name,
		.socket_gid = gid,
		.socket_mode = mode,
		.lcore_id = 1,
	};

	return vhb_device_create(&p);
}

static int
listen_at(const char *path, bool keep)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK(fd >= 0, "socket");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 1) == 0, "bind %s",
	      path);
	if (!keep) {
		close(fd);	/* the file stays: a stale socket */
		return -1;
	}
	return fd;
}

static bool
connectable(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static void
refused(const char *what, const char *path, unsigned int base_fds)
{
	struct vhb_device *dev = create("refused", path, -1, 0600);

	CHECK(dev == NULL, "%s: device created", what);
	CHECK(hostile_fd_settled(base_fds, 2000) == base_fds, "%s: fds %u, baseline %u", what,
	      hostile_fd_count(), base_fds);
	printf("  %-44s refused (rte_errno %d), nothing touched\n", what, rte_errno);
}

int
main(void)
{
	char path[256], other[256], dir[128];
	struct vhb_device *dev;
	struct stat st;
	unsigned int base_fds;
	int lfd, fd;

	func_start();
	hostile_log_capture();
	snprintf(dir, sizeof(dir), "%s", func_socket("x"));
	*strrchr(dir, '/') = '\0';
	printf("socket security (in %s)\n", dir);

	/* Mode and group as asked; 0 means 0660. */
	snprintf(path, sizeof(path), "%s/mode.sock", dir);
	dev = create("mode", path, (int)getgid(), 0600);
	CHECK(dev != NULL, "create");
	CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode), "socket exists");
	CHECK((st.st_mode & 07777) == 0600 && st.st_gid == getgid(), "mode %o gid %u",
	      st.st_mode & 07777, st.st_gid);
	CHECK(vhb_device_destroy(dev) == 0 && lstat(path, &st) != 0, "socket removed");
	dev = create("mode", path, -1, 0);
	CHECK(dev != NULL && lstat(path, &st) == 0 && (st.st_mode & 07777) == 0660,
	      "default mode %o", st.st_mode & 07777);
	CHECK(vhb_device_destroy(dev) == 0, "destroy");
	printf("  mode 0600 + group as asked, default 0660, file removed on destroy\n");
	/* After the first device: rte_vhost's vhost-events thread and its pipe exist now. */
	base_fds = hostile_fd_settled(0, 1000);

	/* A stale socket (its server died) is replaced. */
	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	listen_at(path, false);
	dev = create("stale", path, -1, 0600);
	CHECK(dev != NULL, "stale socket not replaced");
	CHECK(connectable(path), "the new socket serves");
	CHECK(vhb_device_destroy(dev) == 0, "destroy");
	printf("  stale socket replaced\n");

	/* A live socket of another server is left alone. */
	snprintf(path, sizeof(path), "%s/live.sock", dir);
	lfd = listen_at(path, true);
	refused("live socket of another process", path, base_fds + 1);
	CHECK(connectable(path), "the other server still serves");
	close(lfd);
	unlink(path);

	/* A directory, a regular file, a symlink (to a stale socket, to a file). */
	snprintf(path, sizeof(path), "%s/dir.sock", dir);
	CHECK(mkdir(path, 0700) == 0, "mkdir");
	refused("a directory", path, base_fds);
	CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "directory intact");
	rmdir(path);

	snprintf(path, sizeof(path), "%s/file.sock", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1, "file");
	close(fd);
	refused("a regular file", path, base_fds);
	CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 1, "file intact");

	snprintf(other, sizeof(other), "%s/link.sock", dir);
	CHECK(symlink(path, other) == 0, "symlink");
	refused("a symlink to a regular file", other, base_fds);
	CHECK(lstat(other, &st) == 0 && S_ISLNK(st.st_mode), "link intact");
	unlink(other);
	unlink(path);

	snprintf(path, sizeof(path), "%s/target.sock", dir);
	listen_at(path, false);
	CHECK(symlink(path, other) == 0, "symlink");
	refused("a symlink to a stale socket", other, base_fds);
	CHECK(lstat(other, &st) == 0 && S_ISLNK(st.st_mode), "link intact");
	CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode), "target intact");
	unlink(other);
	unlink(path);

	/* Paths that cannot be a socket. */
	snprintf(path, sizeof(path), "%s/no/such/dir.sock", dir);
	refused("a missing parent directory", path, base_fds);
	memset(path, 'a', 120);
	path[0] = '/';
	path[120] = '\0';
	refused("a path longer than sun_path", path, base_fds);
	refused("an empty path", "", base_fds);

	/* Two devices on one path. */
	snprintf(path, sizeof(path), "%s/twice.sock", dir);
	dev = create("twice", path, -1, 0600);
	CHECK(dev != NULL, "create");
	{
		struct vhb_device *dup = create("twice2", path, -1, 0600);

		CHECK(dup == NULL && rte_errno == EEXIST, "second device on a path: %d", rte_errno);
	}
	CHECK(connectable(path), "first still serves");
	CHECK(vhb_device_destroy(dev) == 0, "destroy");
	printf("  a second device on a path in use: EEXIST\n");

	/*
	 * As many devices as one process serves (VHB_MAX_DEVICES), each with a live socket;
	 * one more is refused with ENOSPC and leaves nothing behind; a freed slot is usable.
	 */
	{
		static struct vhb_device *many[VHB_MAX_DEVICES];
		char name[32];
		unsigned int i, n;

		for (n = 0; n < VHB_MAX_DEVICES; n++) {
			snprintf(name, sizeof(name), "many%u", n);
			snprintf(path, sizeof(path), "%s/%s.sock", dir, name);
			many[n] = create(name, path, -1, 0600);
			CHECK(many[n] != NULL, "device %u of %u: rte_errno %d", n + 1,
			      VHB_MAX_DEVICES, rte_errno);
		}
		CHECK(connectable(path), "the last one serves");
		snprintf(path, sizeof(path), "%s/one-more.sock", dir);
		dev = create("one-more", path, -1, 0600);
		CHECK(dev == NULL && rte_errno == ENOSPC, "device %u: rte_errno %d, want ENOSPC",
		      VHB_MAX_DEVICES + 1, rte_errno);
		CHECK(access(path, F_OK) != 0, "no socket file left by the refused device");
		CHECK(vhb_device_destroy(many[0]) == 0, "destroy one");
		dev = create("one-more", path, -1, 0600);
		CHECK(dev != NULL && connectable(path), "the freed slot serves a new device");
		many[0] = dev;
		for (i = 0; i < n; i++)
			CHECK(vhb_device_destroy(many[i]) == 0, "destroy %u", i);
		printf("  %u devices serve; one more: ENOSPC, nothing left behind; a freed slot "
		       "is reused\n", VHB_MAX_DEVICES);
	}
	CHECK(hostile_fd_settled(base_fds, 2000) == base_fds, "fds at the end");
	func_stop();
	printf("PASS socket\n");
	return 0;
}

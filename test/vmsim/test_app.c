/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-balloon-vmsim as a program, against the reference backend: waits for a socket that
 * appears late, follows a target and exits after it settled (status 0), reports a corrupting
 * backend with status 3, fails on a missing backend with status 1, rejects bad options with
 * status 2, and runs several guests as separate processes. argv[1] is the binary. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "refback.h"
#include "tst.h"

#define F_ALL	((1ULL << 32) | (1ULL << 30) | 0x27)

static const char *bin;
static char outpath[128];

static pid_t
spawn(const char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		char *av[32];
		unsigned int i;

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		for (i = 0; i < 31 && argv[i] != NULL; i++)
			av[i] = strdup(argv[i]);
		av[i] = NULL;
		execv(bin, av);
		_exit(127);
	}
	return pid;
}

static int
wait_exit(pid_t pid, int timeout_ms)
{
	int st, t;

	for (t = 0; t < timeout_ms; t += 10) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static bool
output_has(const char *needle)
{
	char buf[65536];
	FILE *f = fopen(outpath, "r");
	size_t n;

	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static void
dump_output(void)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "cat %s >&2", outpath);
	if (system(cmd) != 0)
		return;
}

static bool
wait_for(volatile uint32_t *v, uint32_t want, int timeout_ms)
{
	int t;

	for (t = 0; t < timeout_ms; t += 5) {
		if (*v == want)
			return true;
		usleep(5000);
	}
	return false;
}

static void
test_late_socket_and_settle(void)
{
	char path[108];
	struct refback rb;
	pid_t pid;
	int st;
	const char *argv[] = { bin, "--socket", path, "--mem", "32M", "--connect-timeout",
		"10s", "--exit-after-settle", "--duration", "20s", NULL };

	tst_sock_path(path, sizeof(path), "app1");
	unlink(path);
	pid = spawn(argv);
	usleep(300000);	/* the backend starts after the guest */
	REQUIRE(rb_start(&rb, path, F_ALL, 0x228) == 0);
	rb_set_target(&rb, 2048);	/* set before the guest probes: read at probe */
	st = wait_exit(pid, 20000);
	CHECK_EQ(st, 0);
	CHECK_EQ(rb.actual, 2048);
	CHECK_EQ(rb.inflate_pfns, 2048);
	CHECK(output_has("target 2048 pages (8 MiB): actual 2048"));
	CHECK(output_has("pages intact"));
	if (st != 0)
		dump_output();
	rb_stop(&rb);
}

static void
test_corruption_exit(void)
{
	char path[108];
	struct refback rb;
	pid_t pid;
	int st;
	const char *argv[] = { bin, "--socket", path, "--mem", "32M", "--verify-every", "1",
		"--duration", "20s", "--quiet", NULL };

	tst_sock_path(path, sizeof(path), "app2");
	REQUIRE(rb_start(&rb, path, F_ALL, 0x228) == 0);
	pid = spawn(argv);
	/* Wait until the guest is up (the backend channel exists), then move the target. */
	{
		int t;

		for (t = 0; t < 1000 && rb.slave < 0; t++)
			usleep(5000);
		usleep(50000);
	}
	rb_set_target(&rb, 1024);
	CHECK(wait_for(&rb.actual, 1024, 10000));
	rb.corrupt_on_deflate = true;
	rb_set_target(&rb, 0);
	st = wait_exit(pid, 20000);
	CHECK_EQ(st, 3);
	CHECK(output_has("CORRUPTED"));
	/* Found by the check after the settle, not only by the one at exit. */
	CHECK(output_has("target 0 pages"));
	if (st != 3 || tst_failures)
		dump_output();
	rb_stop(&rb);
}

static void
test_reconnect(void)
{
	char path[108];
	struct refback rb;
	pid_t pid;
	int st;
	const char *argv[] = { bin, "--socket", path, "--mem", "32M", "--reconnect",
		"--exit-after-settle", "--duration", "20s", NULL };

	tst_sock_path(path, sizeof(path), "app5");
	REQUIRE(rb_start(&rb, path, F_ALL, 0x228) == 0);
	rb.close_on_inflate = true;
	rb_set_target(&rb, 1024);
	pid = spawn(argv);
	st = wait_exit(pid, 20000);
	CHECK_EQ(st, 0);
	CHECK(output_has("reconnected, guest resumed"));
	CHECK(output_has("target 1024 pages (4 MiB): actual 1024"));
	CHECK_EQ(rb.actual, 1024);
	CHECK_EQ(rb.inflate_pfns, 1024);
	if (st != 0 || tst_failures)
		dump_output();
	rb_stop(&rb);
}

static void
test_errors(void)
{
	char path[108];
	const char *argv1[] = { bin, "--socket", path, "--connect-timeout", "200ms", NULL };
	const char *argv2[] = { bin, "--socket", path, "--pattern", "zigzag", NULL };
	const char *argv3[] = { bin, "--mem", "32M", NULL };

	tst_sock_path(path, sizeof(path), "app3");
	unlink(path);
	CHECK_EQ(wait_exit(spawn(argv1), 10000), 1);
	CHECK_EQ(wait_exit(spawn(argv2), 10000), 2);
	CHECK_EQ(wait_exit(spawn(argv3), 10000), 2);
}

static void
test_many_and_signal(void)
{
	char p1[108], p2[108];
	struct refback r1, r2;
	pid_t pid;
	int st;
	const char *argv[] = { bin, "--socket", p1, "--socket", p2, "--mem", "32M",
		"--pattern", "random", NULL };

	tst_sock_path(p1, sizeof(p1), "app4a");
	tst_sock_path(p2, sizeof(p2), "app4b");
	REQUIRE(rb_start(&r1, p1, F_ALL, 0x228) == 0);
	REQUIRE(rb_start(&r2, p2, F_ALL, 0x228) == 0);
	rb_set_target(&r1, 512);
	rb_set_target(&r2, 768);
	pid = spawn(argv);
	CHECK(wait_for(&r1.actual, 512, 10000));
	CHECK(wait_for(&r2.actual, 768, 10000));
	kill(pid, SIGTERM);
	st = wait_exit(pid, 10000);
	CHECK_EQ(st, 0);
	CHECK(output_has("vm0:"));
	CHECK(output_has("vm1:"));
	CHECK(output_has("summary"));
	if (st != 0)
		dump_output();
	rb_stop(&r1);
	rb_stop(&r2);
}

/* --hugetlbfs-dir names where the guest RAM file goes (it once always failed with ENOENT). */
static void
test_hugetlbfs_dir(void)
{
	char path[108], dir[256] = "", line[512];
	struct refback rb;
	FILE *m = fopen("/proc/mounts", "r");
	pid_t pid;
	int st;
	const char *argv[] = { bin, "--socket", path, "--mem", "16M", "--backing", "hugetlbfs",
		"--hugetlbfs-dir", dir, "--connect-timeout", "10s", "--exit-after-settle",
		"--duration", "20s", NULL };

	while (m != NULL && fgets(line, sizeof(line), m) != NULL) {
		char mnt[200], type[32];

		if (sscanf(line, "%*s %199s %31s", mnt, type) == 2 && strcmp(type, "hugetlbfs") == 0) {
			snprintf(dir, sizeof(dir), "%s/vmsim-app-%d", mnt, (int)getpid());
			break;
		}
	}
	if (m != NULL)
		fclose(m);
	m = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
	if (m == NULL || fscanf(m, "%d", &st) != 1)
		st = 0;
	if (m != NULL)
		fclose(m);
	/* 16 MiB of guest RAM is 8 pages; keep a margin for other tests running alongside. */
	if (dir[0] == '\0' || st < 32 || mkdir(dir, 0700) != 0) {
		printf("vmsim-app: --hugetlbfs-dir not tested: no hugetlbfs mount with 32 free 2 MiB pages\n");
		return;
	}
	printf("vmsim-app: --hugetlbfs-dir %s (hugetlbfs 2 MiB backing, 16 MiB)\n", dir);
	tst_sock_path(path, sizeof(path), "apphuge");
	unlink(path);
	REQUIRE(rb_start(&rb, path, F_ALL, 0x228) == 0);
	rb_set_target(&rb, 1024);
	pid = spawn(argv);
	st = wait_exit(pid, 20000);
	CHECK_EQ(st, 0);
	CHECK_EQ(rb.actual, 1024);
	if (st != 0)
		dump_output();
	rb_stop(&rb);
	rmdir(dir);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-TO-vhost-balloon-vmsim\n", argv[0]);
		return 2;
	}
	bin = argv[1];
	snprintf(outpath, sizeof(outpath), "/tmp/vmsim-app-%d.out", (int)getpid());
	printf("vmsim-app: guests use memfd 4 KiB backing, 32 MiB\n");
	test_late_socket_and_settle();
	test_corruption_exit();
	test_errors();
	test_reconnect();
	test_many_and_signal();
	test_hugetlbfs_dir();
	unlink(outpath);
	return tst_done("vmsim-app");
}

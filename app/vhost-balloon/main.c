/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-balloon: EAL, poll lcores, devices from the options and config file, then the control
 * socket and CLI until SIGINT/SIGTERM or "quit". Shutdown order: stop the front ends, stop
 * polling (vhb_stop), wait for the lcores, destroy the devices (their sockets go away), EAL.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "vhost_balloon.h"
#include "vhbd_cli.h"
#include "vhbd_commands.h"
#include "vhbd_control.h"
#include "vhbd_http.h"
#include "vhbd_daemon.h"
#include "vhbd_params.h"
#include "vhbd_policy.h"

RTE_LOG_REGISTER(vhbd_logtype, app.vhb, INFO);

static struct vhbd_params params;
static struct vhbd_daemon daemon_state = {
	.params = &params,
	.cmd_lock = PTHREAD_MUTEX_INITIALIZER,
	.wake_fd = -1,
};

void
vhbd_daemon_request_stop(struct vhbd_daemon *d)
{
	uint64_t one = 1;

	atomic_store(&d->stop, true);
	if (d->wake_fd >= 0 && write(d->wake_fd, &one, sizeof(one)) != sizeof(one))
		VHBD_LOG(DEBUG, "wake-up write failed");
}

int
vhbd_daemon_add_vm(struct vhbd_daemon *d, const struct vhbd_vm *vm, char *err, size_t len)
{
	const struct vhbd_params *p = d->params;
	struct vhb_device_params dp;
	char path[VHBD_SOCK_PATH_LEN];
	struct vhb_device_info in;
	struct vhb_device *dev;
	unsigned int nvqs;

	if (vhbd_socket_path(p->run_dir, vm->path, path, sizeof(path)) != 0) {
		snprintf(err, len, "%s/%s: socket path too long", p->run_dir, vm->path);
		return -ENAMETOOLONG;
	}
	memset(&dp, 0, sizeof(dp));
	dp.socket_path = path;
	dp.name = vm->name;
	dp.features = vm->features;
	dp.stats_interval_s = vm->stats_interval == VHBD_INHERIT ? p->stats_interval :
		vm->stats_interval;
	dp.socket_gid = p->socket_gid;
	dp.socket_mode = p->socket_mode;
	dp.lcore_id = vm->lcore;
	dev = vhb_device_create(&dp);
	if (dev == NULL && rte_errno == ENOSPC) {
		snprintf(err, len, "VM %s: this process serves %u VMs already, the most it can (%s)",
			vm->name, VHB_MAX_DEVICES, VHBD_MORE_VMS);
		return -ENOSPC;
	}
	if (dev == NULL) {
		snprintf(err, len, "VM %s: cannot create %s: %s", vm->name, path,
			strerror(rte_errno));
		return -rte_errno;
	}
	if (vhb_device_get_info(dev, &in) == 0) {
		/* The QEMU side must match the offered features (docs/qemu.md). */
		nvqs = 2 + ((in.features_offered >> VHB_F_STATS_VQ) & 1) +
			((in.features_offered >> VHB_F_REPORTING) & 1);
		VHBD_LOG(INFO, "VM %s: listening on %s; QEMU: -chardev socket,id=%s,path=%s "
			"-device vhost-user-device-pci,chardev=%s,virtio-id=5,num_vqs=%u,"
			"vq_size=128,config_size=%u (QEMU 10.0 made user-creatable; later QEMU: "
			"vhost-user-test-device-pci; docs/qemu.md)", vm->name, path, vm->name, path,
			vm->name, nvqs, VHB_CONFIG_SIZE);
	}
	return 0;
}

/*
 * File descriptors: a connected VM holds about 19 (measured with 4 queues and one memory
 * region: its public and private listening sockets, the gate's two connections, rte_vhost's
 * end, the memory fd, a kick and a call eventfd per queue, and the library's eventfds);
 * more memory regions take one more each. Budget 24 per VM plus the process's own.
 */
#define VHBD_FDS_PER_VM		24u
#define VHBD_FDS_BASE		64u

/*
 * Make room for every VM the process may serve: the soft RLIMIT_NOFILE (1024 by default,
 * also under systemd unless LimitNOFILE= says otherwise) would stop the 40th or so guest.
 * EAL raises the soft limit to the hard one itself; do it here too in case it did not
 * (a seccomp filter without setrlimit refuses it), and say what the limit allows.
 */
static void
raise_fd_limit(void)
{
	const rlim_t want = VHBD_FDS_BASE + (rlim_t)VHBD_FDS_PER_VM * VHBD_MAX_VMS;
	struct rlimit rl;
	rlim_t old;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		VHBD_LOG(WARNING, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		return;
	}
	old = rl.rlim_cur;
	if (rl.rlim_cur < want && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			VHBD_LOG(WARNING, "open files: cannot raise the soft limit %lu to the hard "
				"limit %lu: %s", (unsigned long)old, (unsigned long)rl.rlim_max,
				strerror(errno));
			rl.rlim_cur = old;
		}
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want) {
		VHBD_LOG(INFO, "open files: limit %lu%s (about %u per connected VM: enough for "
			"%u VMs)", (unsigned long)rl.rlim_cur, old != rl.rlim_cur ?
			" (soft limit raised to the hard limit)" : "", VHBD_FDS_PER_VM, VHBD_MAX_VMS);
		return;
	}
	VHBD_LOG(WARNING, "open files: limit %lu (about %u per connected VM: enough for about "
		"%lu of the %u VMs one process serves); raise the hard limit to %lu or more "
		"(LimitNOFILE= in the unit, ulimit -Hn; docs/running.md)",
		(unsigned long)rl.rlim_cur, VHBD_FDS_PER_VM, rl.rlim_cur > VHBD_FDS_BASE ?
		(unsigned long)((rl.rlim_cur - VHBD_FDS_BASE) / VHBD_FDS_PER_VM) : 0UL,
		VHBD_MAX_VMS, (unsigned long)want);
}

/* Poll lcores: the listed ones (each must be an enabled worker) or every worker. */
static int
poll_lcores(unsigned int *lcores, unsigned int *n)
{
	unsigned int i, id;

	*n = 0;
	if (params.npoll_lcores == 0) {
		RTE_LCORE_FOREACH_WORKER(id)
			lcores[(*n)++] = id;
	} else {
		for (i = 0; i < params.npoll_lcores; i++) {
			id = params.poll_lcores[i];
			if (!rte_lcore_is_enabled(id) || id == rte_get_main_lcore()) {
				VHBD_LOG(ERR, "--poll-lcores: lcore %u is not an EAL worker lcore "
					"(give it to EAL with -l; the main lcore %u runs the CLI)",
					id, rte_get_main_lcore());
				return -EINVAL;
			}
			lcores[(*n)++] = id;
		}
	}
	if (*n == 0) {
		VHBD_LOG(ERR, "no worker lcore to poll with: give EAL two lcores or more, "
			"e.g. -l 0,1");
		return -EINVAL;
	}
	for (i = 0; i < params.nvms; i++) {
		unsigned int j, want = params.vms[i].lcore;

		if (want == VHB_LCORE_ANY)
			continue;
		for (j = 0; j < *n && lcores[j] != want; j++)
			;
		if (j == *n) {
			VHBD_LOG(ERR, "VM %s: lcore %u is not a poll lcore", params.vms[i].name,
				want);
			return -EINVAL;
		}
	}
	return 0;
}

struct dev_list {
	struct vhb_device *devs[VHBD_MAX_VMS * 4];
	unsigned int n;
};

static int
collect_dev(struct vhb_device *dev, void *arg)
{
	struct dev_list *l = arg;

	if (l->n == RTE_DIM(l->devs))
		return 1;
	l->devs[l->n++] = dev;
	return 0;
}

/* Destroy every device (the API's foreach cannot destroy under its own iteration). */
static void
destroy_devices(void)
{
	static struct dev_list l;
	unsigned int i;

	do {
		l.n = 0;
		vhb_device_foreach(collect_dev, &l);
		for (i = 0; i < l.n; i++)
			vhb_device_destroy(l.devs[i]);
	} while (l.n == RTE_DIM(l.devs));
}

/* mkdir -p, mode 0755 for what it creates. */
static int
mkdir_p(const char *dir)
{
	char path[PATH_MAX];
	char *p;

	snprintf(path, sizeof(path), "%s", dir);
	for (p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (p[-1] != '/') {
			char c = *p;

			*p = '\0';
			if (mkdir(path, 0755) != 0 && errno != EEXIST)
				return -1;
			*p = c;
		}
		if (*p == '\0')
			return 0;
	}
}

/* Wait for a signal, "quit" or the end of the CLI's input. */
static void
main_loop(int sig_fd)
{
	struct pollfd pfd[3];
	struct signalfd_siginfo si;
	nfds_t n;

	while (!atomic_load(&daemon_state.stop)) {
		pfd[0] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = daemon_state.wake_fd, .events = POLLIN };
		n = 2;
		if (params.interactive)
			pfd[n++] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			VHBD_LOG(ERR, "poll: %s", strerror(errno));
			return;
		}
		if (pfd[0].revents & POLLIN) {
			if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
				VHBD_LOG(INFO, "signal %u: shutting down", si.ssi_signo);
			return;
		}
		if (n == 3 && (pfd[2].revents & (POLLIN | POLLHUP)) != 0 && !vhbd_cli_input()) {
			printf("\n");
			return;
		}
	}
}

int
main(int argc, char **argv)
{
	unsigned int lcores[RTE_MAX_LCORE], nlcores, i, id;
	char err[512];
	int app_argc = 0, sig_fd = -1, ret, status = EXIT_FAILURE;
	char **app_argv = NULL;
	sigset_t sigs;
	bool cli_on = false;

	/* Our options come after "--"; parse them before EAL so that a typo costs nothing. */
	for (i = 1; i < (unsigned int)argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			app_argc = argc - i;
			app_argv = argv + i;
			break;
		}
	}
	vhbd_params_defaults(&params);
	if (app_argv != NULL) {
		char *prog = app_argv[0];

		app_argv[0] = argv[0];
		ret = vhbd_parse_args(app_argc, app_argv, &params, err, sizeof(err));
		app_argv[0] = prog;
		if (ret != 0) {
			fprintf(stderr, "vhost-balloon: %s\n", err);
			return EXIT_FAILURE;
		}
		if (params.help) {
			vhbd_usage(argv[0]);
			return EXIT_SUCCESS;
		}
	}

	/* Block the stop signals in every thread EAL and rte_vhost will create; main reads
	 * them from a signalfd, so no handler runs in the middle of anything.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	vhb_log_defaults();	/* before EAL: its --log-level overrides */
	ret = rte_eal_init(app_argv != NULL ? argc - app_argc : argc, argv);
	if (ret < 0) {
		fprintf(stderr, "vhost-balloon: EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		return EXIT_FAILURE;
	}
	raise_fd_limit();
	sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	daemon_state.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sig_fd < 0 || daemon_state.wake_fd < 0) {
		VHBD_LOG(ERR, "signalfd/eventfd: %s", strerror(errno));
		goto out_eal;
	}
	if (poll_lcores(lcores, &nlcores) != 0)
		goto out_eal;
	if (params.run_dir[0] != '\0' && mkdir_p(params.run_dir) != 0) {
		VHBD_LOG(ERR, "run dir %s: %s", params.run_dir, strerror(errno));
		goto out_eal;
	}
	ret = vhb_init(lcores, nlcores);
	if (ret != 0) {
		VHBD_LOG(ERR, "vhb_init: %s", strerror(-ret));
		goto out_eal;
	}
	/* Before the loops start: they begin in the configured mode. */
	ret = vhb_set_poll_params(&params.poll);
	if (ret != 0) {
		VHBD_LOG(ERR, "--poll-mode %s: %s", vhb_poll_mode_name(params.poll.mode),
			strerror(-ret));
		goto out_stop;
	}
	for (i = 0; i < nlcores; i++) {
		ret = rte_eal_remote_launch(vhb_lcore_loop, NULL, lcores[i]);
		if (ret != 0) {
			VHBD_LOG(ERR, "lcore %u: cannot launch the poll loop: %s", lcores[i],
				strerror(-ret));
			goto out_stop;
		}
	}
	VHBD_LOG(INFO, "polling on %u lcore(s) (mode %s, idle %u us, max sleep %u ms), %u VM "
		"socket(s) configured", nlcores, vhb_poll_mode_name(params.poll.mode),
		params.poll.idle_us, params.poll.max_sleep_ms, params.nvms);

	for (i = 0; i < params.nvms; i++) {
		if (vhbd_daemon_add_vm(&daemon_state, &params.vms[i], err, sizeof(err)) != 0) {
			VHBD_LOG(ERR, "%s", err);
			goto out_stop;
		}
	}
	/* The policy thread exists in every mode: "set policy on" starts it working. */
	ret = vhbd_policy_start(&daemon_state);
	if (ret != 0) {
		VHBD_LOG(ERR, "policy: %s", strerror(-ret));
		goto out_stop;
	}
	if (params.control[0] != '\0') {
		char path[VHBD_SOCK_PATH_LEN];

		if (vhbd_socket_path(params.run_dir, params.control, path, sizeof(path)) != 0) {
			VHBD_LOG(ERR, "control socket path too long");
			goto out_stop;
		}
		/* Its own mode and group: the VM sockets' group (QEMU's) need not reach it. */
		ret = vhbd_control_start(&daemon_state, path,
			params.control_mode != VHBD_INHERIT ? params.control_mode :
			params.socket_mode, params.control_gid != VHBD_GID_INHERIT ?
			params.control_gid : params.socket_gid);
		if (ret != 0) {
			VHBD_LOG(ERR, "control socket %s: %s", path, strerror(-ret));
			goto out_stop;
		}
		VHBD_LOG(INFO, "control socket %s", path);
	}
	if (params.metrics_host[0] != '\0') {
		ret = vhbd_http_start(&daemon_state, params.metrics_host, params.metrics_port);
		if (ret != 0) {
			VHBD_LOG(ERR, "--metrics-listen %s port %u: %s", params.metrics_host,
				params.metrics_port, strerror(-ret));
			goto out_control;
		}
		VHBD_LOG(INFO, "metrics on http://%s%s%s:%u/metrics",
			strchr(params.metrics_host, ':') != NULL ? "[" : "", params.metrics_host,
			strchr(params.metrics_host, ':') != NULL ? "]" : "", params.metrics_port);
	}
	if (params.cmdline_file[0] != '\0' &&
			vhbd_cli_run_file(&daemon_state, params.cmdline_file) != 0)
		goto out_control;
	/* Tell scripts (and the demo) that every socket exists now. */
	VHBD_LOG(INFO, "ready");
	if (params.interactive) {
		if (vhbd_cli_start(&daemon_state) != 0) {
			VHBD_LOG(ERR, "cannot start the command line");
			goto out_control;
		}
		cli_on = true;
	}
	main_loop(sig_fd);
	status = EXIT_SUCCESS;

	if (cli_on)
		vhbd_cli_stop();
out_control:
	vhbd_http_stop();
	vhbd_control_stop();
out_stop:
	vhbd_policy_stop(&daemon_state);
	vhb_stop();
	RTE_LCORE_FOREACH_WORKER(id) {
		if (rte_eal_wait_lcore(id) < 0)
			VHBD_LOG(WARNING, "lcore %u: poll loop failed", id);
	}
	destroy_devices();
	vhb_cleanup();
out_eal:
	if (sig_fd >= 0)
		close(sig_fd);
	VHBD_LOG(INFO, "stopped");
	rte_eal_cleanup();
	return status;
}

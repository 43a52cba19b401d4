/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Daemon options (after EAL's "--") and the INI config file. No EAL: parsing and every error
 * path are unit tested on their own. Command-line options override [daemon] keys; --socket adds
 * to the [vm NAME] sections.
 */
#ifndef VHBD_PARAMS_H
#define VHBD_PARAMS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost_balloon.h"
#include "vhb_policy.h"
#include "vhbd_parse.h"

#define VHBD_MAX_VMS		VHB_MAX_DEVICES	/* config/vhb_limits.h */
/* What to do past it (docs/running.md). */
#define VHBD_MORE_VMS		"run a second vhost-balloon with its own sockets, control socket " \
				"and lcores: docs/running.md, more VMs than one process serves"
#define VHBD_NAME_LEN		64
#define VHBD_SOCK_PATH_LEN	108	/* sizeof(sun_path) */
#define VHBD_INHERIT		UINT32_MAX	/* per-VM value taken from [daemon] */
#define VHBD_GID_INHERIT	(-2)		/* control socket group: socket_gid */

/* One vhost-user socket (one VM). */
struct vhbd_vm {
	char path[VHBD_SOCK_PATH_LEN];
	char name[VHBD_NAME_LEN];
	uint64_t features;		/* 0: the library's default */
	unsigned int lcore;		/* UINT32_MAX (VHB_LCORE_ANY): chosen by the library */
	uint32_t stats_interval;	/* VHBD_INHERIT: the daemon's --stats-interval */
	struct vhb_policy_vm_cfg policy;	/* policy-min, policy-max, policy-weight */
};

struct vhbd_params {
	struct vhbd_vm vms[VHBD_MAX_VMS];
	unsigned int nvms;
	unsigned int poll_lcores[VHBD_MAX_LCORES];
	unsigned int npoll_lcores;	/* 0: every worker lcore polls */
	uint32_t stats_interval;	/* seconds, 0 off */
	struct vhb_poll_params poll;	/* every poll lcore's mode (vhb_set_poll_params) */
	struct vhb_policy_params policy;	/* [policy] and --policy (docs/policy.md) */
	uint32_t socket_mode;
	int socket_gid;			/* -1: unchanged */
	uint32_t control_mode;		/* VHBD_INHERIT: socket_mode */
	int control_gid;		/* VHBD_GID_INHERIT: socket_gid; -1: unchanged */
	char control[VHBD_SOCK_PATH_LEN];	/* "" none */
	char metrics_host[256];		/* --metrics-listen; "" no HTTP endpoint */
	uint16_t metrics_port;
	char run_dir[PATH_MAX];		/* base of relative socket paths; "" the cwd */
	char cmdline_file[PATH_MAX];
	char config[PATH_MAX];
	bool interactive;
	bool help;
};

/* Defaults: no VM, stats every 10 s, mode 0660, no control socket, adaptive polling, policy off. */
void vhbd_params_defaults(struct vhbd_params *p);

/*
 * Parse the daemon's own arguments (argv[0] is the program name, as left by rte_eal_init).
 * Loads --config first, then applies the other options. 0 on success (p->help set for
 * --help), -EINVAL with a message naming the option or file:line in err.
 */
int vhbd_parse_args(int argc, char **argv, struct vhbd_params *p, char *err, size_t errlen);

/* Read an INI file into p ([daemon], [policy] and [vm NAME] sections). 0 or -errno, message in err. */
int vhbd_load_config(const char *path, struct vhbd_params *p, char *err, size_t errlen);

/*
 * Add one socket from "PATH[,name=VM][,features=a+b][,lcore=N][,stats-interval=S]".
 * Relative paths are resolved against p->run_dir when the daemon starts.
 */
int vhbd_add_socket_spec(struct vhbd_params *p, const char *spec, char *err, size_t errlen);

/* One [policy] key into pp ("mode" is also --policy). 0, or -EINVAL with the reason in err. */
int vhbd_policy_key(struct vhb_policy_params *pp, const char *key, const char *val, char *err,
	size_t errlen);

/* Add a VM (checks path length and that name and path are unique). */
int vhbd_add_vm(struct vhbd_params *p, const struct vhbd_vm *vm, char *err, size_t errlen);

/* Default VM name of a socket path: its basename without ".sock". */
void vhbd_default_name(const char *path, char *name, size_t len);

/* Resolve a relative socket path against run_dir into out. -ENAMETOOLONG if it won't fit. */
int vhbd_socket_path(const char *run_dir, const char *path, char *out, size_t len);

/* Print the usage text. */
void vhbd_usage(const char *prog);

#endif /* VHBD_PARAMS_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Automatic memory balancing (docs/policy.md): balloon targets chosen from the host's memory
 * pressure and each guest's statistics, over the balloon library's public API only.
 *
 * Three layers, each usable alone:
 *  - vhb_policy_decide(): the decisions, a pure function of the signals and of a small state
 *    the caller keeps per VM (no EAL, no clock, no I/O; vhb_policy_decide.c).
 *  - vhb_policy_read_host(): the host signals, /proc/meminfo and /proc/pressure/memory at
 *    paths the caller chooses (tests play a host with their own files).
 *  - struct vhb_policy, the engine: one vhb_policy_step() reads the host, every device's info
 *    and guest statistics, decides and (mode on) applies the targets; it keeps the state, the
 *    per-VM settings and a snapshot for "show policy" and telemetry. The caller runs the
 *    steps from a control thread (never a poll lcore) and keeps devices from being destroyed
 *    during a step.
 *
 * Sizes are bytes. A VM's "guest size" is the memory left to it: guest memory - balloon.
 */
#ifndef VHB_POLICY_H
#define VHB_POLICY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vhb_policy_mode {
	VHB_POLICY_OFF = 0,	/**< no decisions (default) */
	VHB_POLICY_ADVISORY,	/**< decide and show, never set a target */
	VHB_POLICY_ON,		/**< decide and set the targets */
};

/** Knobs (docs/policy.md#knobs). vhb_policy_params_default() fills every one. */
struct vhb_policy_params {
	enum vhb_policy_mode mode;
	uint32_t interval_ms;		/**< period of the loop */
	uint64_t host_low;		/**< MemAvailable below this: the host is short; 0: 10% of
					 *   MemTotal */
	uint64_t host_high;		/**< MemAvailable above this: give memory back; 0: 20% */
	double psi_some;		/**< memory PSI "some" avg10 above this (%): short; 0 off */
	double psi_full;		/**< memory PSI "full" avg10 above this (%): short; 0 off */
	uint32_t reserve_pct;		/**< a guest keeps this share of its size available */
	uint32_t min_pct;		/**< default per-VM min guest size, share of guest memory */
	uint32_t weight;		/**< default per-VM weight (1-1000) */
	uint64_t step;			/**< most memory taken from one VM in one decision */
	uint64_t give_back;		/**< most memory given back to one VM in one decision */
	uint64_t deflate;		/**< at least this much back at once on guest pressure */
	uint32_t stale_s;		/**< statistics older than this: the VM is not squeezed */
	uint32_t hold_s;		/**< no squeeze this long after guest pressure, and no give
					 *   back this long after a squeeze (hysteresis) */
	uint64_t swap_in;		/**< swap-in growth between two updates that is pressure */
	uint64_t major_faults;		/**< major faults between two updates that are pressure */
	char meminfo_path[PATH_MAX];	/**< default /proc/meminfo */
	char psi_path[PATH_MAX];	/**< default /proc/pressure/memory */
};

void vhb_policy_params_default(struct vhb_policy_params *p);

/** "off", "advisory", "on"; and back (0 or -EINVAL). */
const char *vhb_policy_mode_name(enum vhb_policy_mode mode);
int vhb_policy_mode_parse(const char *s, enum vhb_policy_mode *mode);

/** Host signals. */
struct vhb_policy_host {
	bool meminfo_ok;		/**< mem_total and mem_available were read */
	bool psi_ok;			/**< the PSI values were read */
	uint64_t mem_total, mem_available;
	double psi_some, psi_full;	/**< avg10, percent */
};

/**
 * Read MemTotal and MemAvailable from meminfo_path and the "some"/"full" avg10 from psi_path
 * (NULL or a missing file: psi_ok false, not an error). 0, or -errno if meminfo is unreadable.
 */
int vhb_policy_read_host(const char *meminfo_path, const char *psi_path,
	struct vhb_policy_host *h);

/** Per-VM settings; 0 means the default (min: min_pct, max: all guest memory). */
struct vhb_policy_vm_cfg {
	uint64_t min;			/**< the guest size never goes below this */
	uint64_t max;			/**< nor above this */
	uint32_t weight;		/**< more weight: more of the reclaim (1-1000) */
};

/** What a decision does to one VM. */
enum vhb_policy_action {
	VHB_POLICY_NONE = 0,		/**< not managed (no guest connected) */
	VHB_POLICY_HOLD,		/**< target unchanged */
	VHB_POLICY_RECLAIM,		/**< balloon up: the host needs memory */
	VHB_POLICY_GIVE_BACK,		/**< balloon down: the host has memory to spare */
	VHB_POLICY_DEFLATE,		/**< balloon down at once: the guest is under pressure */
};

const char *vhb_policy_action_name(enum vhb_policy_action a);

/** Guest statistics as the policy uses them (bit set in valid: the value is known). */
#define VHB_POLICY_SIG_AVAIL	0x01u
#define VHB_POLICY_SIG_FREE	0x02u
#define VHB_POLICY_SIG_CACHES	0x04u
#define VHB_POLICY_SIG_SWAP_IN	0x08u
#define VHB_POLICY_SIG_SWAP_OUT	0x10u
#define VHB_POLICY_SIG_MAJFLT	0x20u
#define VHB_POLICY_SIG_OOM	0x40u

/** Guest stat tag of OOM kills (VIRTIO_BALLOON_S_OOM_KILL, sent by newer Linux). */
#define VHB_POLICY_STAT_OOM_KILL	10

/** State the caller keeps per VM between decisions (zeroed for a new VM). */
struct vhb_policy_vm_state {
	bool have_prev;			/**< the previous update's counters below are set */
	uint64_t seen_updates;		/**< stats update count at the last decision */
	uint64_t prev_swap_in, prev_majflt, prev_oom;
	uint64_t change_updates;	/**< stats update count when the target last moved */
	enum vhb_policy_action dir;	/**< last action that moved the target */
	uint64_t dir_ns;		/**< when dir last changed */
	uint64_t reclaim_ns;		/**< last reclaim */
	uint64_t hold_until_ns;		/**< no reclaim before (guest pressure) */
};

#define VHB_POLICY_REASON_LEN	112

/** One VM: settings and signals in, state in/out, decision out. */
struct vhb_policy_vm {
	/* In: settings. */
	char name[64];
	struct vhb_policy_vm_cfg cfg;
	/* In: device and guest signals. */
	bool running;			/**< the guest driver runs; guest_mem is known */
	uint64_t guest_mem;
	uint64_t target;		/**< balloon target now */
	uint64_t actual;		/**< balloon size the guest reports */
	uint32_t valid;			/**< VHB_POLICY_SIG_* */
	uint64_t stats_updates;		/**< 0: none yet */
	uint64_t stats_age_ns;
	uint64_t avail, free, caches, swap_in, swap_out, majflt, oom_kills;
	/* In/out. */
	struct vhb_policy_vm_state st;
	/* Out. */
	enum vhb_policy_action action;
	uint64_t new_target;		/**< balloon target chosen (== target on hold) */
	bool dir_changed;		/**< action moved the target the other way (log it) */
	uint64_t min, max;		/**< guest size bounds in force */
	uint32_t weight;
	uint64_t reserve, spare;	/**< available memory kept, and what could be taken */
	uint64_t swap_in_delta, majflt_delta;	/**< over the last update */
	bool pressure;			/**< the last update showed guest pressure */
	char reason[VHB_POLICY_REASON_LEN];
};

/** Host verdict. */
enum vhb_policy_host_state {
	VHB_POLICY_HOST_UNKNOWN = 0,	/**< meminfo unreadable: nothing is squeezed */
	VHB_POLICY_HOST_SHORT,		/**< below the low watermark or PSI above its limit */
	VHB_POLICY_HOST_OK,		/**< between the watermarks: hold */
	VHB_POLICY_HOST_PLENTY,		/**< above the high watermark: give back */
};

const char *vhb_policy_host_state_name(enum vhb_policy_host_state s);

struct vhb_policy_host_out {
	enum vhb_policy_host_state state;
	uint64_t low, high;		/**< watermarks in force */
	uint64_t need;			/**< reclaim sought (SHORT) */
	uint64_t budget;		/**< give-back allowed (PLENTY) */
	char reason[VHB_POLICY_REASON_LEN];
};

/**
 * Decide every VM's target. Pure: reads p, host, the VMs' inputs and state and the previous
 * verdict in *out (zeroed before the first call), writes the VMs' state and outputs and *out;
 * now_ns is any monotonic clock the caller keeps consistent.
 */
void vhb_policy_decide(const struct vhb_policy_params *p, const struct vhb_policy_host *host,
	struct vhb_policy_vm *vms, unsigned int n, uint64_t now_ns,
	struct vhb_policy_host_out *out);

/* The engine. */

struct vhb_policy;

/** NULL and errno (ENOMEM) on failure. p is copied. */
struct vhb_policy *vhb_policy_create(const struct vhb_policy_params *p);
void vhb_policy_free(struct vhb_policy *pol);

int vhb_policy_set_mode(struct vhb_policy *pol, enum vhb_policy_mode mode);
void vhb_policy_get_params(struct vhb_policy *pol, struct vhb_policy_params *p);

/** Settings of the VM of that name (kept for a VM that does not exist yet). 0, -EINVAL, -ENOSPC. */
int vhb_policy_set_vm(struct vhb_policy *pol, const char *name, const struct vhb_policy_vm_cfg *c);
/** Its settings, or zeros (defaults). */
void vhb_policy_get_vm(struct vhb_policy *pol, const char *name, struct vhb_policy_vm_cfg *c);

/**
 * One pass: read the host, every device's info and statistics, decide, and in mode on set
 * the targets that changed (vhb_device_set_target_pages()). Logs one line per VM whose
 * direction changed. Does nothing in mode off. now_ns: CLOCK_MONOTONIC. Returns the number of
 * targets set (an unreadable meminfo is logged once; every target then holds).
 */
int vhb_policy_step(struct vhb_policy *pol, uint64_t now_ns);

/** The last pass, for display. */
struct vhb_policy_status {
	enum vhb_policy_mode mode;
	uint64_t steps;			/**< passes run */
	uint64_t targets_set;		/**< targets applied since creation */
	uint64_t last_ns;		/**< CLOCK_MONOTONIC of the last pass, 0 never */
	struct vhb_policy_host host;
	struct vhb_policy_host_out verdict;
	unsigned int nvms;
};

/**
 * Copy the status and up to max VMs of the last pass (thread safe). Returns the number of VMs
 * the last pass saw (may be > max).
 */
unsigned int vhb_policy_get_status(struct vhb_policy *pol, struct vhb_policy_status *st,
	struct vhb_policy_vm *vms, unsigned int max);

/** Serve pol at telemetry /vhost_balloon/policy (NULL: answer "off"). Needs vhb_policy_tel. */
void vhb_policy_telemetry_attach(struct vhb_policy *pol);

#ifdef __cplusplus
}
#endif

#endif /* VHB_POLICY_H */

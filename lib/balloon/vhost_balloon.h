/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * vhost-balloon public API: virtio-balloon devices served over vhost-user sockets
 * by poll-mode lcores.
 *
 * Control functions (everything but vhb_lcore_loop()) are called from control
 * threads (main lcore, CLI, control socket, telemetry), never from a poll lcore.
 * They are serialised internally; they never block on a guest.
 */
#ifndef VHOST_BALLOON_H
#define VHOST_BALLOON_H

#include <stddef.h>
#include <stdint.h>

#include "vhb_limits.h"

#ifdef __cplusplus
extern "C" {
#endif

/** virtio-balloon feature bits (virtio spec; Linux uapi virtio_balloon.h). */
#define VHB_F_MUST_TELL_HOST	0
#define VHB_F_STATS_VQ		1
#define VHB_F_DEFLATE_ON_OOM	2
#define VHB_F_FREE_PAGE_HINT	3
#define VHB_F_PAGE_POISON	4
#define VHB_F_REPORTING		5

/** Balloon features offered by default (FREE_PAGE_HINT is a migration aid, not offered). */
#define VHB_FEATURES_DEFAULT	((1ULL << VHB_F_MUST_TELL_HOST) | (1ULL << VHB_F_STATS_VQ) | \
				 (1ULL << VHB_F_DEFLATE_ON_OOM) | (1ULL << VHB_F_PAGE_POISON) | \
				 (1ULL << VHB_F_REPORTING))

/** Guest memory statistics tags (VIRTIO_BALLOON_S_*). */
#define VHB_GUEST_STAT_NR	16

struct vhb_device;

/** Parameters of one device (one vhost-user socket, one VM). */
struct vhb_device_params {
	const char *socket_path;	/**< vhost-user server socket to create */
	const char *name;		/**< VM name for humans; NULL: the socket path */
	uint64_t features;		/**< balloon feature bits to offer; 0: VHB_FEATURES_DEFAULT */
	uint32_t stats_interval_s;	/**< ask the guest for stats this often; 0: never */
	int socket_gid;			/**< group owning the socket file; -1: unchanged */
	uint32_t socket_mode;		/**< permission bits of the socket file; 0: 0660 */
	unsigned int lcore_id;		/**< poll lcore; VHB_LCORE_ANY: chosen by NUMA node */
};

#define VHB_LCORE_ANY	UINT32_MAX

enum vhb_device_state {
	VHB_DEV_LISTENING = 0,	/**< socket created, no frontend connected */
	VHB_DEV_CONNECTED,	/**< frontend connected, driver not started */
	VHB_DEV_RUNNING,	/**< queues started, served by the poll lcore */
	VHB_DEV_BROKEN,		/**< stopped after a guest protocol violation */
};

/** What a device is and where its balloon stands (a snapshot). */
struct vhb_device_info {
	char name[64];
	char socket_path[108];
	enum vhb_device_state state;
	unsigned int lcore_id;
	int numa_node;			/**< node of the guest memory; -1 unknown */
	uint64_t features_offered;	/**< balloon feature bits offered */
	uint64_t features_negotiated;	/**< balloon feature bits the driver accepted */
	uint64_t guest_mem_bytes;	/**< sum of the guest memory regions */
	uint32_t nregions;
	uint64_t backing_page_size;	/**< largest host page size of the regions */
	uint32_t num_pages;		/**< target balloon size (config space), 4 KiB pages */
	uint32_t actual;		/**< balloon size the guest last wrote, 4 KiB pages */
	uint32_t poison_val;		/**< 0 unless PAGE_POISON and the guest poisons pages */
	uint64_t pages_in_balloon;	/**< 4 KiB pages the backend counts in the balloon */
	uint64_t bytes_release_asked;	/**< bytes the backend asked the kernel to release
					 *   (inflate + reporting, cumulative); includes ranges
					 *   that were already holes */
	uint64_t bytes_regained;	/**< of those, bytes the host really got back: the fall
					 *   of the backing files' allocated blocks (cumulative) */
	uint64_t host_resident_bytes;	/**< guest RAM allocated on the host now: allocated
					 *   blocks of the backing files, each file once; 0 until
					 *   the driver started. At most about 1 s old */
};

/** Counters of one device; written by its poll lcore, read relaxed. */
struct vhb_device_counters {
	uint64_t inflate_requests, deflate_requests, report_requests, stats_updates;
	uint64_t pfns_inflated, pfns_deflated, pfns_duplicate, pfns_out_of_range;
	uint64_t host_pages_released;	/**< host pages in successful release calls */
	uint64_t bytes_release_asked;	/**< bytes in successful release calls (asked) */
	uint64_t bytes_regained;	/**< of those, bytes the host really got back */
	uint64_t release_calls, release_errors;
	uint64_t inflate_bytes_release_asked, inflate_bytes_regained;	/**< inflate's share */
	uint64_t report_bytes_release_asked, report_bytes_regained;	/**< reporting's share */
	uint64_t report_bytes_skipped, report_skipped_poison;
	uint64_t guest_errors;		/**< protocol violations (queue or device marked broken) */
	uint64_t config_changes_sent;	/**< config-change messages to the frontend */
	uint64_t get_config, set_config;
	uint64_t guest_notifications;
	uint64_t stats_bad_length;	/**< stats buffers not whole 10-byte entries (tail ignored) */
	uint64_t host_resident_bytes;	/**< not a counter: the gauge of vhb_device_info, here
					 *   too so that counter-only metrics see what a VM costs */
};

/** Name and offset of one field of struct vhb_device_counters. */
struct vhb_counter_name {
	const char *name;
	size_t offset;
};

/**
 * Every field of struct vhb_device_counters, in declaration order, for front ends
 * that list counters by name (CLI, control socket, telemetry). *n is set to the count.
 */
const struct vhb_counter_name *vhb_device_counter_names(unsigned int *n);

/** Latest guest memory statistics. */
struct vhb_guest_stats {
	uint64_t val[VHB_GUEST_STAT_NR];
	uint32_t valid;			/**< bit i set: val[i] was in the last update */
	uint64_t updates;		/**< updates received */
	uint64_t updated_ns;		/**< CLOCK_REALTIME of the last update, 0 never */
};

/** Per poll lcore counters. */
struct vhb_lcore_stats {
	unsigned int lcore_id;
	unsigned int ndevices;
	uint64_t passes, busy_passes;
	uint64_t busy_cycles, total_cycles;
	/* Appended: polling modes (vhb_set_poll_params()). */
	uint32_t mode;			/**< enum vhb_poll_mode in force */
	uint32_t sleeping;		/**< 1 while the lcore waits for a kick */
	uint64_t tsc_hz;		/**< TSC frequency, to turn the cycles below into time */
	uint64_t poll_cycles;		/**< TSC cycles awake (polling, busy or not) */
	uint64_t sleep_cycles;		/**< TSC cycles asleep in epoll_wait */
	uint64_t sleeps;		/**< times the lcore went to sleep */
	uint64_t wakeups_kick;		/**< woken by a guest kick */
	uint64_t wakeups_control;	/**< woken by the control side (device, quiesce, target) */
	uint64_t wakeups_timeout;	/**< woken by the timeout (stats timer, max sleep) */
	uint64_t sleep_aborts;		/**< re-check after enabling kicks found work: no sleep */
	/* Appended: what the auto mode observed (docs/device.md#polling-modes). */
	uint64_t auto_gap_ns;		/**< expected idle gap between requests (last device
					 *   that learned one) */
	uint64_t auto_sleep_cost_ns;	/**< the loop's CPU cost of one sleep and wake-up */
	uint64_t auto_spin_ns;		/**< how long that device is polled after work */
	/* Appended: per-device polling (docs/device.md#polling-modes). */
	unsigned int devices_polled;	/**< devices in the polled set now (the rest wait on kicks) */
	uint64_t parks;			/**< devices that left the polled set */
	uint64_t unparks_kick;		/**< devices a kick brought back */
	uint64_t unparks_other;		/**< ... a timer or a control action brought back */
};

/** How a poll lcore waits for work. */
enum vhb_poll_mode {
	VHB_POLL_ADAPTIVE = 0,	/**< poll; sleep on kicks after idle_us without work */
	VHB_POLL_BUSY,		/**< always poll ("poll"): lowest latency, one busy CPU */
	VHB_POLL_INTERRUPT,	/**< never busy-poll: sleep whenever a pass found no work */
	VHB_POLL_AUTO,		/**< poll through gaps shorter than a sleep costs, else sleep
				 *   (default; at most idle_us of polling) */
};

/** Default idle period before an adaptive lcore sleeps (the most an auto lcore polls). */
#define VHB_POLL_IDLE_US_DEFAULT	1000
/** Default longest sleep when no timer is due. */
#define VHB_POLL_MAX_SLEEP_MS_DEFAULT	1000

/** Polling mode of a poll lcore. */
struct vhb_poll_params {
	enum vhb_poll_mode mode;
	uint32_t idle_us;	/**< adaptive: sleep after this long without work (0: at once);
				 *   auto: the longest it polls between requests */
	uint32_t max_sleep_ms;	/**< longest sleep when no stats timer is due (>= 1) */
};

/*
 * Most devices one process serves (VHB_MAX_DEVICES, config/vhb_limits.h): rte_vhost
 * 22.11's one event thread watches 1024 fds, two per device. vhb_device_create() past
 * it fails with rte_errno ENOSPC; more VMs need a second process.
 */

/**
 * Log levels for a backend serving many VMs: rte_vhost logs every vhost-user message it
 * reads at INFO (lib.vhost.config), which costs more CPU than the message itself (a
 * balloon step is two of them). This lowers it to NOTICE. Call before rte_eal_init(),
 * so that --log-level still decides: lib.vhost.config:info brings the lines back.
 */
void vhb_log_defaults(void);

/**
 * Set up the library for these poll lcores (must be EAL worker lcores). Call once
 * after rte_eal_init(), then launch vhb_lcore_loop() on each of them.
 */
int vhb_init(const unsigned int *lcores, unsigned int nlcores);

/** Poll loop for rte_eal_remote_launch(); arg unused. Returns after vhb_stop(). */
int vhb_lcore_loop(void *arg);

/** Make every poll loop return; then destroy devices and call vhb_cleanup(). */
void vhb_stop(void);
void vhb_cleanup(void);

/** Create a device and its vhost-user socket. NULL and rte_errno on failure. */
struct vhb_device *vhb_device_create(const struct vhb_device_params *params);

/** Disconnect the frontend, unregister and remove the socket, free the device. */
int vhb_device_destroy(struct vhb_device *dev);

/** Device by name or socket path, or NULL. */
struct vhb_device *vhb_device_find(const char *name_or_path);

/** Call cb for each device in creation order; stops early if cb returns non-zero. */
int vhb_device_foreach(int (*cb)(struct vhb_device *dev, void *arg), void *arg);

/** Balloon target as a balloon size in 4 KiB pages; notifies the guest. */
int vhb_device_set_target_pages(struct vhb_device *dev, uint32_t pages);

/** Balloon target as the guest size: balloon = guest memory - guest_bytes. */
int vhb_device_set_guest_size(struct vhb_device *dev, uint64_t guest_bytes);

int vhb_device_set_stats_interval(struct vhb_device *dev, uint32_t seconds);

int vhb_device_get_info(const struct vhb_device *dev, struct vhb_device_info *info);
int vhb_device_get_counters(const struct vhb_device *dev, struct vhb_device_counters *c);
int vhb_device_get_guest_stats(const struct vhb_device *dev, struct vhb_guest_stats *gs);

/** Stats of poll lcore i (0 <= i < count given to vhb_init()); -ENOENT past the end. */
int vhb_lcore_get_stats(unsigned int i, struct vhb_lcore_stats *st);

/** Fill p with the defaults: auto, VHB_POLL_IDLE_US_DEFAULT, VHB_POLL_MAX_SLEEP_MS_DEFAULT. */
void vhb_poll_params_default(struct vhb_poll_params *p);

/**
 * Polling mode of every poll lcore (and of lcores set up later by vhb_init()).
 * Takes effect at once, also on a sleeping lcore. 0 or -EINVAL.
 */
int vhb_set_poll_params(const struct vhb_poll_params *p);

/** Polling mode of poll lcore i (index as for vhb_lcore_get_stats()). 0, -EINVAL or -ENOENT. */
int vhb_lcore_set_poll_params(unsigned int i, const struct vhb_poll_params *p);
int vhb_lcore_get_poll_params(unsigned int i, struct vhb_poll_params *p);

/** "adaptive", "poll", "interrupt", "auto"; and back (0 or -EINVAL). */
const char *vhb_poll_mode_name(enum vhb_poll_mode mode);
int vhb_poll_mode_parse(const char *name, enum vhb_poll_mode *mode);

/** Names for humans: feature bit, device state, guest stat tag ("swap-in", ...). */
const char *vhb_feature_name(unsigned int bit);
const char *vhb_device_state_name(enum vhb_device_state state);
const char *vhb_guest_stat_name(unsigned int tag);

/* Appended: benchmarking (release mode, per-request service time). */

/** Release modes for vhb_device_set_release_mode(). */
#define VHB_DEVICE_RELEASE_BULK		0	/**< coalesced ranges (default) */
#define VHB_DEVICE_RELEASE_PER_PAGE	1	/**< one syscall per host page (QEMU-like) */
#define VHB_DEVICE_RELEASE_NONE		2	/**< track only, release nothing */
#define VHB_DEVICE_RELEASE_UNMEASURED	3	/**< BULK without measuring what the host
						 *   regained (*_regained stay): the baseline
						 *   for the measurement's cost */

/**
 * How the device releases memory, for benchmarks: applies to the page tracking of the
 * current connection (created when the first queue starts). A new connection starts
 * in BULK again. 0, -EINVAL, or -EAGAIN if no queue has started yet.
 */
int vhb_device_set_release_mode(struct vhb_device *dev, int mode);

/** Linear sub-buckets per power of two in struct vhb_service_time. */
#define VHB_SERVICE_TIME_SUB		4
#define VHB_SERVICE_TIME_BUCKETS	(64 * VHB_SERVICE_TIME_SUB)

/**
 * Service time of inflate, deflate and reporting requests: TSC cycles from the pop
 * of a request off its ring until its ack is published (cumulative since the device
 * was created). bucket[i] counts requests of at most vhb_service_time_bucket_max(i)
 * cycles (and more than bucket i - 1's maximum).
 */
struct vhb_service_time {
	uint64_t tsc_hz;
	uint64_t count;
	uint64_t sum_cycles;
	uint64_t max_cycles;
	uint64_t bucket[VHB_SERVICE_TIME_BUCKETS];
};

int vhb_device_get_service_time(const struct vhb_device *dev, struct vhb_service_time *st);

/** Largest cycle count bucket i holds. */
uint64_t vhb_service_time_bucket_max(unsigned int i);

#ifdef __cplusplus
}
#endif

#endif /* VHOST_BALLOON_H */

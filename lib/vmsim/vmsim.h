/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * vmsim: a vhost-user frontend that behaves like QEMU's generic vhost-user device
 * (vhost-user-base, QEMU 10) with a Linux virtio_balloon driver (Linux 6.1) in the
 * guest, plus a model of the guest's page allocator that can tell whether guest
 * memory was corrupted.
 *
 * It is an independent implementation of the protocol (nothing from lib/balloon):
 * message layout and virtio constants come from the spec, and its behaviour from
 * docs/protocol.md (the Linux driver and QEMU's generic device sections).
 *
 * Threading: one struct vms_vm is driven by one thread at a time; nothing runs in
 * the background. Every vms_vm_* call does its own I/O and serves the backend
 * channel (config-change messages) and the stats queue while it waits. Different
 * VMs may be used from different threads. Every wait has a timeout
 * (params.timeout_ms); a backend that closes the socket makes calls fail with
 * -ECONNRESET / -EPIPE, never crash or hang.
 *
 * Return values: int functions return 0 (or a count) on success and a negative
 * errno on failure; vms_vm_create() returns NULL and sets errno.
 */
#ifndef VMS_VMSIM_H
#define VMS_VMSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Constants: virtio, virtio-balloon and vhost-user numbers (spec; Linux uapi; vhost-user.rst).
 */

/** Guest PFNs are 4 KiB (VIRTIO_BALLOON_PFN_SHIFT). */
#define VMS_PAGE_SHIFT		12
#define VMS_PAGE_SIZE		(1ULL << VMS_PAGE_SHIFT)

/** virtio-balloon feature bits. */
#define VMS_F_MUST_TELL_HOST	0
#define VMS_F_STATS_VQ		1
#define VMS_F_DEFLATE_ON_OOM	2
#define VMS_F_FREE_PAGE_HINT	3
#define VMS_F_PAGE_POISON	4
#define VMS_F_REPORTING		5
/** Transport feature bits. */
#define VMS_F_RING_INDIRECT_DESC	28
#define VMS_F_RING_EVENT_IDX	29
#define VMS_F_PROTOCOL_FEATURES	30	/**< VHOST_USER_F_PROTOCOL_FEATURES */
#define VMS_F_VERSION_1		32
#define VMS_F_ACCESS_PLATFORM	33
#define VMS_F_RING_PACKED	34

/** Bit helper: VMS_BIT(VMS_F_STATS_VQ). */
#define VMS_BIT(b)		(1ULL << (b))

/** Features the modelled Linux driver can accept, as Linux does when they are offered: the
 *  balloon bits, VERSION_1, and the split-ring features EVENT_IDX (used_event/avail_event)
 *  and INDIRECT_DESC (a table for chains of more than one buffer: free page reports).
 *  RING_PACKED is not implemented and is declined if offered. */
#define VMS_DRIVER_FEATURES_ALL	(VMS_BIT(VMS_F_MUST_TELL_HOST) | VMS_BIT(VMS_F_STATS_VQ) | \
				 VMS_BIT(VMS_F_DEFLATE_ON_OOM) | VMS_BIT(VMS_F_FREE_PAGE_HINT) | \
				 VMS_BIT(VMS_F_PAGE_POISON) | VMS_BIT(VMS_F_REPORTING) | \
				 VMS_BIT(VMS_F_VERSION_1) | VMS_BIT(VMS_F_RING_EVENT_IDX) | \
				 VMS_BIT(VMS_F_RING_INDIRECT_DESC))

/** vhost-user protocol feature bits. */
#define VMS_PF_MQ		0
#define VMS_PF_LOG_SHMFD	1
#define VMS_PF_RARP		2
#define VMS_PF_REPLY_ACK	3
#define VMS_PF_NET_MTU		4
#define VMS_PF_BACKEND_REQ	5
#define VMS_PF_CROSS_ENDIAN	6
#define VMS_PF_CRYPTO_SESSION	7
#define VMS_PF_PAGEFAULT	8
#define VMS_PF_CONFIG		9
#define VMS_PF_BACKEND_SEND_FD	10
#define VMS_PF_HOST_NOTIFIER	11
#define VMS_PF_INFLIGHT_SHMFD	12
#define VMS_PF_RESET_DEVICE	13
#define VMS_PF_INBAND_NOTIFICATIONS 14
#define VMS_PF_CONFIGURE_MEM_SLOTS 15
#define VMS_PF_STATUS		16
#define VMS_PF_XEN_MMAP		17
#define VMS_PF_SHARED_OBJECT	18
#define VMS_PF_DEVICE_STATE	19
/** Protocol features QEMU 10 knows (VHOST_USER_PROTOCOL_FEATURE_MASK): it masks the
 *  backend's set with this before SET_PROTOCOL_FEATURES. */
#define VMS_QEMU_PROTOCOL_FEATURES	((1ULL << 20) - 1)

/** vhost-user frontend requests. */
enum vms_request {
	VMS_REQ_NONE = 0,
	VMS_REQ_GET_FEATURES = 1,
	VMS_REQ_SET_FEATURES = 2,
	VMS_REQ_SET_OWNER = 3,
	VMS_REQ_RESET_OWNER = 4,
	VMS_REQ_SET_MEM_TABLE = 5,
	VMS_REQ_SET_LOG_BASE = 6,
	VMS_REQ_SET_LOG_FD = 7,
	VMS_REQ_SET_VRING_NUM = 8,
	VMS_REQ_SET_VRING_ADDR = 9,
	VMS_REQ_SET_VRING_BASE = 10,
	VMS_REQ_GET_VRING_BASE = 11,
	VMS_REQ_SET_VRING_KICK = 12,
	VMS_REQ_SET_VRING_CALL = 13,
	VMS_REQ_SET_VRING_ERR = 14,
	VMS_REQ_GET_PROTOCOL_FEATURES = 15,
	VMS_REQ_SET_PROTOCOL_FEATURES = 16,
	VMS_REQ_GET_QUEUE_NUM = 17,
	VMS_REQ_SET_VRING_ENABLE = 18,
	VMS_REQ_SEND_RARP = 19,
	VMS_REQ_NET_SET_MTU = 20,
	VMS_REQ_SET_BACKEND_REQ_FD = 21,
	VMS_REQ_IOTLB_MSG = 22,
	VMS_REQ_SET_VRING_ENDIAN = 23,
	VMS_REQ_GET_CONFIG = 24,
	VMS_REQ_SET_CONFIG = 25,
	VMS_REQ_GET_INFLIGHT_FD = 31,
	VMS_REQ_SET_INFLIGHT_FD = 32,
	VMS_REQ_RESET_DEVICE = 34,
	VMS_REQ_GET_MAX_MEM_SLOTS = 36,
	VMS_REQ_ADD_MEM_REG = 37,
	VMS_REQ_REM_MEM_REG = 38,
	VMS_REQ_SET_STATUS = 39,
	VMS_REQ_GET_STATUS = 40,
};

/** vhost-user backend-channel requests (backend -> frontend). */
#define VMS_BREQ_IOTLB_MSG		1
#define VMS_BREQ_CONFIG_CHANGE_MSG	2
#define VMS_BREQ_VRING_HOST_NOTIFIER	3

/** vhost-user header flags. */
#define VMS_MSG_VERSION		0x1
#define VMS_MSG_REPLY		0x4
#define VMS_MSG_NEED_REPLY	0x8
#define VMS_MSG_HDR_SIZE	12
#define VMS_MSG_MAX_PAYLOAD	4096	/**< largest payload this frontend sends or accepts */
#define VMS_MSG_MAX_FDS		8
#define VMS_MAX_CONFIG_SIZE	256	/**< VHOST_USER_MAX_CONFIG_SIZE */

/** Split ring descriptor flags. */
#define VMS_DESC_F_NEXT		1
#define VMS_DESC_F_WRITE	2
#define VMS_DESC_F_INDIRECT	4
#define VMS_USED_F_NO_NOTIFY	1
#define VMS_AVAIL_F_NO_INTERRUPT 1

/** Balloon config space offsets (all fields LE32). */
#define VMS_CFG_NUM_PAGES	0
#define VMS_CFG_ACTUAL		4
#define VMS_CFG_FREE_PAGE_HINT_CMD_ID 8
#define VMS_CFG_POISON_VAL	12
#define VMS_POISON_VAL		0xaaaaaaaaU	/**< Linux PAGE_POISON byte 0xaa, as LE32 */

/** Guest stats tags (VIRTIO_BALLOON_S_*); Linux 6.1 sends 10 of them. */
#define VMS_STAT_SWAP_IN	0
#define VMS_STAT_SWAP_OUT	1
#define VMS_STAT_MAJFLT		2
#define VMS_STAT_MINFLT		3
#define VMS_STAT_MEMFREE	4
#define VMS_STAT_MEMTOT		5
#define VMS_STAT_AVAIL		6
#define VMS_STAT_CACHES		7
#define VMS_STAT_HTLB_PGALLOC	8
#define VMS_STAT_HTLB_PGFAIL	9
#define VMS_STAT_NR		16
#define VMS_STATS_MAX_ENTRIES	32	/**< most entries one stats buffer may carry */

/** Linux limits this driver follows. */
#define VMS_PFNS_PER_REQ	256	/**< VIRTIO_BALLOON_ARRAY_PFNS_MAX */
#define VMS_REPORT_CAPACITY	32	/**< PAGE_REPORTING_CAPACITY */
#define VMS_OOM_NR_PAGES	256	/**< VIRTIO_BALLOON_OOM_NR_PAGES */

/* ---------------------------------------------------------------------------------------------
 * Parameters.
 */

enum vms_backing {
	VMS_BACKING_MEMFD = 0,		/**< memfd, 4 KiB pages (memory-backend-memfd,share=on) */
	VMS_BACKING_HUGETLBFS,		/**< file in a hugetlbfs mount (memory-backend-file) */
	VMS_BACKING_MEMFD_HUGETLB,	/**< memfd with MFD_HUGETLB (memory-backend-memfd,hugetlb=on) */
};

/** Which guest pages the driver puts into the balloon. Within one request the PFN order
 *  is always what Linux does: allocation order for inflate, reversed for deflate. */
enum vms_pattern {
	VMS_PATTERN_SEQUENTIAL = 0,	/**< from the top of memory down: PFNs descending (Linux) */
	VMS_PATTERN_REVERSE,		/**< from the bottom up: PFNs ascending */
	VMS_PATTERN_RANDOM,		/**< any free/used page, seeded random order */
	VMS_PATTERN_FRAGMENTED,		/**< buddy-like after churn: short descending runs in
					 *   random 2 MiB frames, holes left behind */
};

/** How the driver learns that the device used a buffer. */
enum vms_ack_mode {
	VMS_ACK_INTERRUPT = 0,		/**< wait for the call eventfd ("interrupt"), then read
					 *   the used ring; a backend that never signals times out */
	VMS_ACK_POLL,			/**< poll the used ring (at least every 1 ms); a call
					 *   eventfd only wakes the driver sooner, none is needed */
};

struct vms_vm_params {
	const char *socket_path;	/**< backend's vhost-user socket (we connect to it) */
	uint32_t connect_timeout_ms;	/**< wait this long for the socket to appear/accept */
	uint64_t mem_bytes;		/**< guest RAM; rounded up to 4 MiB, at least 16 MiB */
	enum vms_backing backing;
	const char *hugetlbfs_dir;	/**< NULL: $VHB_HUGETLBFS, else first hugetlbfs mount in
					 *   /proc/mounts (for VMS_BACKING_HUGETLBFS) */
	bool split_regions;		/**< two regions on one file like QEMU's PCI hole */
	uint64_t split_low_bytes;	/**< low part [0, low) at gpa 0; the rest at gpa 4 GiB with
					 *   file offset low. 0: half of mem_bytes (2 MiB aligned) */
	uint32_t num_vqs;		/**< device property num_vqs; 0: what the driver needs */
	uint32_t config_size;		/**< device property config_size (QEMU: 0 = no config);
					 *   default 16 */
	uint16_t vq_size;		/**< ring size of every queue; default 64 (QEMU vq_size) */
	uint64_t driver_features;	/**< features the guest driver accepts if offered (mask);
					 *   default VMS_DRIVER_FEATURES_ALL */
	uint64_t protocol_features_mask; /**< protocol features the frontend knows; default
					  *   VMS_QEMU_PROTOCOL_FEATURES */
	bool page_poison;		/**< guest poisons freed pages (poison_val 0xaaaaaaaa);
					 *   false: Linux clears PAGE_POISON (virtballoon_validate) */
	bool init_on_free;		/**< init_on_free: the guest zeroes freed pages; it counts
					 *   as poisoning with poison_val 0 (virtballoon_validate) */
	bool init_on_alloc;		/**< zero every page the balloon allocates (Debian kernel) */
	enum vms_ack_mode ack_mode;
	enum vms_pattern pattern;
	uint64_t seed;			/**< for RANDOM/FRAGMENTED and the initial free layout */
	uint32_t free_percent;		/**< share of non-kernel pages free at boot (default 10) */
	uint32_t kernel_bytes;		/**< low memory the guest kernel owns (rings, buffers,
					 *   patterned data); default 4 MiB */
	uint32_t timeout_ms;		/**< every reply/ack wait; default 5000 */
	uint32_t oom_retry_ms;		/**< "Out of puff" back-off when nothing can be allocated
					 *   (Linux msleep(200)); default 200 */
	bool log;			/**< print what the driver does to stderr */
	bool reuse_reported;		/**< a busy guest: the pages of each acked free page report
					 *   are allocated (USED, new pattern) at once, so a backend
					 *   that discards them after the ack is caught by verify */
};

/** Fill params with QEMU/Linux defaults (a Debian 6.1 guest: no page poisoning, init_on_alloc;
 *  QEMU's vq_size 64, config_size 16; 256 MiB memfd; interrupt acks; 5 s timeouts);
 *  socket_path still needs setting. */
void vms_vm_params_init(struct vms_vm_params *p);

/* ---------------------------------------------------------------------------------------------
 * Life cycle (QEMU's order, protocol.md#P-qemu-seq-init).
 */

struct vms_vm;

/** Allocate guest memory (every page populated: the guest filled its memory) and the
 *  page model. No socket yet. NULL and errno on failure (ENOMEM, ENOENT no hugetlbfs
 *  mount, ENOSPC no hugepages). */
struct vms_vm *vms_vm_create(const struct vms_vm_params *p);

/** Connect and run QEMU's realize (again after vms_vm_disconnect() or a lost connection:
 *  the guest keeps its rings and balloon, and the next vms_vm_start() resumes the queues
 *  from their used index, as QEMU does when a connection broke): GET_FEATURES, [GET/SET_PROTOCOL_FEATURES, GET_QUEUE_NUM,
 *  GET_MAX_MEM_SLOTS, SET_BACKEND_REQ_FD], SET_OWNER, GET_FEATURES, SET_VRING_CALL +
 *  SET_VRING_ERR per vq. -EPROTO if config_size > 0 and the backend lacks PF_CONFIG
 *  (QEMU's realize error). */
int vms_vm_connect(struct vms_vm *vm);

/** First call: Linux probe (validate, compacted queues, ring set-up, stats buffer primed,
 *  poison_val written) then DRIVER_OK (SET_FEATURES, SET_MEM_TABLE or ADD_MEM_REG, per set-up
 *  vq NUM/BASE/ADDR/KICK/CALL, SET_VRING_ENABLE 1 for all num_vqs, [SET_STATUS], SET_VRING_CALL
 *  for all) then the probe's num_pages read. After vms_vm_stop(): resume (vhost_dev_start only,
 *  BASE from the GET_VRING_BASE replies). -ENODEV if the driver's probe fails (too few vqs,
 *  reporting ring < 32); -EIO if the backend nacks. */
int vms_vm_start(struct vms_vm *vm);

/** vhost_dev_stop: SET_VRING_ENABLE 0 for all, GET_VRING_BASE per started vq [SET_STATUS 0]. */
int vms_vm_stop(struct vms_vm *vm);

/** Close the socket (EOF to the backend), like QEMU exiting. Safe to call twice. */
void vms_vm_disconnect(struct vms_vm *vm);

/** Disconnect if needed and free everything. NULL is fine. */
void vms_vm_destroy(struct vms_vm *vm);

/** true while connected. */
bool vms_vm_connected(const struct vms_vm *vm);

/* ---------------------------------------------------------------------------------------------
 * Running the guest.
 */

/** Serve the backend channel (a CONFIG_CHANGE makes the guest re-read num_pages, exactly
 *  like a config interrupt), refill stats the device used, and do balloon work in Linux's
 *  steps (GET_CONFIG, one request of <= 256 PFNs, its ack, SET_CONFIG of actual) while the
 *  work is pending. Returns as soon as one step changed the balloon (so the caller sees each
 *  intermediate state), else after about timeout_ms (0: one pass, no sleep), with the number
 *  of steps done, or -errno. */
int vms_vm_poll(struct vms_vm *vm, int timeout_ms);

/** Poll until the balloon work is idle with actual == the last num_pages read (0), or
 *  -ETIMEDOUT. */
int vms_vm_settle(struct vms_vm *vm, int timeout_ms);

/** Poll until the guest has read num_pages == target and settled there (actual == target),
 *  or -ETIMEDOUT. Use after moving the target on the backend: unlike vms_vm_settle() it
 *  cannot return before the config-change message has arrived. */
int vms_vm_wait_target(struct vms_vm *vm, uint32_t target, int timeout_ms);

/** Like a config interrupt: re-read num_pages and work toward it. */
int vms_vm_config_changed(struct vms_vm *vm);

/** Set a guest stat the driver will send with its next stats buffer. */
int vms_vm_set_stat(struct vms_vm *vm, uint16_t tag, uint64_t val);

/** Tags (and their order) the driver sends; default Linux 6.1's 0,1,2,3,8,9,4,5,6,7.
 *  Tags >= VMS_STAT_NR are sent as given (hostile/unknown-tag tests), value 0. */
int vms_vm_set_stat_tags(struct vms_vm *vm, const uint16_t *tags, unsigned int ntags);

/** Free page reporting: up to nblocks (<= 32) naturally aligned 4 MiB, then 2 MiB, blocks of
 *  FREE guest memory as one chain of device-writable descriptors; waits for the ack; the
 *  pages are free again after. Returns the number of blocks reported (0 if none free, or
 *  REPORTING not negotiated: -ENOTSUP). */
int vms_vm_report(struct vms_vm *vm, unsigned int nblocks);

/** Guest churn: free npages USED pages (poisoned if the guest poisons) and allocate npages
 *  FREE pages (new pattern), most recently freed by a report first. Returns the number of
 *  pages allocated, or -errno. Touches guest memory only (no device traffic). */
int64_t vms_vm_churn(struct vms_vm *vm, uint64_t npages);

/** Blocks of the last report: gpa and length. Returns how many (<= max). */
struct vms_block {
	uint64_t gpa;
	uint64_t len;
};
unsigned int vms_vm_last_report(const struct vms_vm *vm, struct vms_block *out, unsigned int max);

/** Deflate-on-OOM: if DEFLATE_ON_OOM was negotiated, leak 256 pages and write actual
 *  (Linux's OOM notifier). Returns pages leaked, -ENOTSUP if not negotiated. */
int vms_vm_oom(struct vms_vm *vm);

/** Guest reboot (or driver unbind + rebind): Linux's remove_common() deflates the whole
 *  balloon (256 PFNs per request, each acked) and writes actual once, the device is reset
 *  (QEMU stops vhost: SET_VRING_ENABLE 0, GET_VRING_BASE), then the driver probes again on
 *  fresh rings (BASE 0) as in vms_vm_start(). Guest memory keeps its data. */
int vms_vm_reboot(struct vms_vm *vm);

/** Re-send the memory table as QEMU's vhost_commit does. flags: VMS_REMAP_*. */
#define VMS_REMAP_TOGGLE_SPLIT	0x1	/**< contiguous guest (split_regions false) only:
					 *   one region <-> two adjacent regions on the same file
					 *   (gpa 0 and gpa low, file offsets 0 and low) */
#define VMS_REMAP_NEW_FDS	0x2	/**< reopen the file: new fds, same memory */
#define VMS_REMAP_REVERSE	0x4	/**< list the regions in reverse order */
int vms_vm_remap(struct vms_vm *vm, unsigned int flags);

/* ---------------------------------------------------------------------------------------------
 * The guest page model and integrity checks.
 */

enum vms_page_state {
	VMS_PAGE_KERNEL = 0,	/**< rings, buffers, kernel data: never ballooned */
	VMS_PAGE_USED,		/**< holds a pattern of (pfn, generation) */
	VMS_PAGE_FREE,		/**< free in the guest (poison if page_poison) */
	VMS_PAGE_BALLOON,	/**< in the balloon (acked or in flight) */
	VMS_PAGE_REPORTING,	/**< in a free page report in flight */
	VMS_PAGE_INVALID,	/**< not guest RAM */
};

struct vms_verify_report {
	uint64_t pages_checked;
	uint64_t corrupted;		/**< KERNEL/USED pages whose pattern is wrong, and with a
					 *   non-zero poison_val FREE pages that lost the poison */
	unsigned int nbad;
	uint64_t bad_pfns[16];		/**< first corrupted PFNs */
	enum vms_page_state bad_state[16];
};

/** Check every KERNEL data page and USED page (and FREE pages when poisoning). Returns the
 *  number of corrupted pages (0 = intact) or -errno; report may be NULL. */
int64_t vms_vm_verify(struct vms_vm *vm, struct vms_verify_report *report);

enum vms_page_state vms_vm_page_state(const struct vms_vm *vm, uint64_t pfn);

/** Counts of pages in each state. */
struct vms_page_counts {
	uint64_t total, kernel, used, free, balloon, reporting;
};
void vms_vm_page_counts(const struct vms_vm *vm, struct vms_page_counts *c);

/** PFNs in the balloon, in inflate order (oldest first). Returns how many exist (may be
 *  > max; only max are written). */
uint64_t vms_vm_balloon_pfns(const struct vms_vm *vm, uint64_t *out, uint64_t max);

/** Host view of guest memory: pointer to a guest-physical address (NULL outside RAM). */
void *vms_vm_gpa_ptr(const struct vms_vm *vm, uint64_t gpa);

/** Bytes of the backing file that are allocated (st_blocks * 512): falls when the backend
 *  punches holes. Negative errno on failure. */
int64_t vms_vm_allocated_bytes(const struct vms_vm *vm);

/** Host page size of the backing (4096 or the hugepage size). */
uint64_t vms_vm_backing_page_size(const struct vms_vm *vm);

/** Guest RAM layout. */
struct vms_region_info {
	uint64_t gpa, size, file_offset;
	void *hva;
};
unsigned int vms_vm_regions(const struct vms_vm *vm, struct vms_region_info *out, unsigned int max);

/* ---------------------------------------------------------------------------------------------
 * What happened (for assertions).
 */

/** Queue roles; index via vms_vm_queue_index(). */
enum vms_role {
	VMS_VQ_INFLATE = 0,
	VMS_VQ_DEFLATE,
	VMS_VQ_STATS,
	VMS_VQ_FREE_PAGE,
	VMS_VQ_REPORTING,
	VMS_VQ_ROLES,
};

/** Transport queue index of a role (Linux compaction over negotiated features), -1 absent
 *  (also before vms_vm_start()). */
int vms_vm_queue_index(const struct vms_vm *vm, enum vms_role role);

/** Compaction rule alone, for any feature set: index of role or -1. */
int vms_queue_index_for(uint64_t negotiated_features, enum vms_role role);
/** Number of queues the Linux driver sets up for these features. */
unsigned int vms_queue_count_for(uint64_t negotiated_features);

/** Features: what the backend offered (GET_FEATURES), what the driver accepted (SET_FEATURES
 *  minus PROTOCOL_FEATURES), protocol features offered and negotiated. */
struct vms_features {
	uint64_t offered, accepted, sent;
	uint64_t protocol_offered, protocol_negotiated;
	uint64_t queue_num;		/**< GET_QUEUE_NUM reply, 0 if not asked */
	uint64_t max_mem_slots;		/**< GET_MAX_MEM_SLOTS reply, 0 if not asked */
};
void vms_vm_features(const struct vms_vm *vm, struct vms_features *f);

/** Decoded balloon config space. */
struct vms_config {
	uint32_t num_pages, actual, free_page_hint_cmd_id, poison_val;
	uint8_t raw[VMS_MAX_CONFIG_SIZE];	/**< the cached config (config_size bytes) */
};
/** The last config the guest read (and its cache since, as SET_CONFIG sends it). */
void vms_vm_config(const struct vms_vm *vm, struct vms_config *cfg);

struct vms_counters {
	uint64_t msgs_sent, replies;
	uint64_t config_reads, config_writes, config_changes;	/**< GET/SET_CONFIG, CONFIG_CHANGE */
	uint64_t backend_msgs;			/**< all backend-channel messages received */
	uint64_t inflate_reqs, deflate_reqs, inflate_acks, deflate_acks;
	uint64_t pfns_inflated, pfns_deflated;
	uint64_t stats_used;			/**< stats buffers the device returned (requests) */
	uint64_t stats_sent;			/**< stats buffers added (including the primed one) */
	uint64_t reports, report_acks, report_bytes;
	uint64_t oom_leaks;
	uint64_t kicks, kicks_suppressed;	/**< suppressed: VRING_USED_F_NO_NOTIFY was set */
	uint64_t interrupts;			/**< call eventfd reads that found a count */
	uint64_t out_of_puff;			/**< inflate steps that found no page */
	uint64_t target_changes;		/**< num_pages reads that differed from the last */
	uint64_t steps;				/**< balloon work steps (Linux update_balloon_size) */
	uint64_t errors;
};
void vms_vm_counters(const struct vms_vm *vm, struct vms_counters *c);

/** One message on either channel, in order. */
struct vms_trace_entry {
	uint32_t request;		/**< vms_request, or VMS_BREQ_* when from_backend */
	uint32_t flags;
	uint32_t size;
	uint8_t nfds;
	bool from_backend;		/**< received on the backend channel */
	bool is_reply;			/**< a reply the frontend received on the main socket */
	uint32_t index;			/**< vring index for vring messages, else 0 */
	uint64_t value;			/**< num/base/u64 payload; config offset<<32|size; 0 */
};

/** Trace since create or the last clear: copies up to max entries, returns the count kept
 *  (the trace keeps the first 65536 entries; later ones are counted, not kept). Replies are
 *  recorded only when with_replies was enabled. */
unsigned int vms_vm_trace(const struct vms_vm *vm, struct vms_trace_entry *out, unsigned int max);
void vms_vm_trace_clear(struct vms_vm *vm);
void vms_vm_trace_replies(struct vms_vm *vm, bool with_replies);

/** Print the trace, one message a line, to stderr. */
void vms_vm_trace_dump(const struct vms_vm *vm);

/** Names for humans. */
const char *vms_request_name(uint32_t request);
const char *vms_page_state_name(enum vms_page_state state);

/* ---------------------------------------------------------------------------------------------
 * Fault injection (robustness tests). These bypass the driver model's rules on purpose.
 */

/** One descriptor written at desc[slot]. */
struct vms_raw_desc {
	uint16_t slot;
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/** Write n descriptors into queue role's table, put head into the avail ring, bump
 *  avail->idx, kick (unless no_kick). The driver model stops using this queue's descriptors
 *  afterwards only if the test says so with vms_vm_queue_quarantine(). */
int vms_vq_post_raw(struct vms_vm *vm, enum vms_role role, const struct vms_raw_desc *d,
		unsigned int n, uint16_t head, bool no_kick);

/** Set avail->idx to any value (and kick). */
int vms_vq_set_avail_idx(struct vms_vm *vm, enum vms_role role, uint16_t idx, bool kick);

/** Kick a queue (write its kick eventfd). */
int vms_vq_kick(struct vms_vm *vm, enum vms_role role);

/** Stop the driver from using a queue (after raw posting made its state unknown). */
int vms_vm_queue_quarantine(struct vms_vm *vm, enum vms_role role);

/** Where a queue's ring lives (guest-physical), its size, and its current indexes. */
struct vms_vq_info {
	int index;			/**< transport index, -1 absent */
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t avail_idx, used_idx;	/**< driver's avail idx and the device's used idx */
	uint16_t used_flags;
	uint16_t last_base;		/**< last GET_VRING_BASE reply */
};
int vms_vq_info(const struct vms_vm *vm, enum vms_role role, struct vms_vq_info *info);

/** Guest-physical address and length of a KERNEL scratch area the test may fill (for
 *  raw descriptors and hostile buffers); it is never pattern-checked. */
int vms_vm_scratch(const struct vms_vm *vm, uint64_t *gpa, uint64_t *len);

/** Send a PFN array (raw bytes, any length, any values: outside memory, inside the rings,
 *  length not a multiple of 4) as one inflate or deflate request exactly like the driver
 *  frames it. The page model is not changed. With wait_ack, waits for the ack (-ETIMEDOUT if
 *  none). */
int vms_vm_send_pfns(struct vms_vm *vm, enum vms_role role, const void *buf, uint32_t len,
		bool wait_ack);

/** Send one raw vhost-user message on the main socket: header fields as given (size is sent
 *  as given even if it disagrees with payload_len), payload_len bytes of payload, fds as
 *  SCM_RIGHTS. If reply != NULL, wait for one message and copy it (header included) to
 *  reply (at most *reply_len bytes; *reply_len is set to what was received). */
int vms_vm_send_raw(struct vms_vm *vm, uint32_t request, uint32_t flags, uint32_t size,
		const void *payload, size_t payload_len, const int *fds, unsigned int nfds,
		void *reply, size_t *reply_len);

/** Close the socket right after the n-th message sent from now on (n >= 1): the backend sees
 *  EOF in the middle of a sequence. 0 cancels. */
void vms_vm_disconnect_after(struct vms_vm *vm, unsigned int n);

/** The backend-channel socket pair end the frontend keeps, -1 if none (raw tests). */
int vms_vm_backend_channel_fd(const struct vms_vm *vm);

#ifdef __cplusplus
}
#endif

#endif /* VMS_VMSIM_H */

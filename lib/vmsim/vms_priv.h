/* SPDX-License-Identifier: BSD-3-Clause */
/* Internal state of one simulated VM; shared by the vmsim sources and its unit tests. */
#ifndef VMS_PRIV_H
#define VMS_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "vmsim.h"
#include "vms_msg.h"
#include "vms_ring.h"

#define VMS_MAX_VQS		64	/* num_vqs this frontend accepts */
#define VMS_MAX_REGIONS		8	/* VHOST_MEMORY_BASELINE_NREGIONS */
#define VMS_TRACE_MAX		65536
#define VMS_FOUR_GIB		(4ULL << 30)
#define VMS_KERNEL_DATA_PAGES	16	/* patterned kernel pages below the rings */
#define VMS_SCRATCH_PAGES	16
#define VMS_GEN_NONE		UINT32_MAX	/* kernel page without a pattern (rings, buffers) */

/* Virtio device status bits (for SET_STATUS). */
#define VMS_S_ACKNOWLEDGE	1
#define VMS_S_DRIVER		2
#define VMS_S_DRIVER_OK		4
#define VMS_S_FEATURES_OK	8

/* One transport queue: eventfds exist for every one of num_vqs; a ring only when the driver
 * set it up. */
struct vms_vq {
	int role;			/* enum vms_role, -1 if the driver does not use it */
	bool set_up;			/* driver set it up (desc addr != 0) */
	bool started;			/* NUM..CALL sent in the current vhost start */
	bool quarantined;
	bool broken;			/* device returned a bad used entry */
	int kick_fd;			/* host notifier */
	int call_fd;			/* guest notifier */
	int masked_fd;			/* QEMU's masked notifier (init-time SET_VRING_CALL) */
	int err_fd;
	uint16_t last_base;		/* GET_VRING_BASE reply, used as BASE on resume */
	uint32_t outstanding;		/* buffers the driver waits for */
	struct vms_ring ring;
};

struct vms_trace {
	struct vms_trace_entry *e;
	unsigned int n;
	uint64_t dropped;
	bool replies;
};

struct vms_vm {
	struct vms_vm_params p;
	char socket_path[108];
	char huge_dir[256];

	/* Guest memory: one file, one mapping; gpa layout fixed at create. */
	int mem_fd;
	uint8_t *mem;
	uint64_t mem_bytes;
	uint64_t low_bytes;		/* split: bytes at gpa 0; else mem_bytes */
	bool split;
	uint64_t backing_page;
	bool table_split;		/* contiguous guest sent as two adjacent regions */
	bool table_reverse;
	struct vms_msg_region shadow[VMS_MAX_REGIONS];	/* regions the backend has (mem slots) */
	unsigned int nshadow;

	/* Page model, indexed by page number in file order (not pfn). */
	uint64_t npages;
	uint8_t *state;
	uint32_t *gen;
	uint64_t *balloon;		/* stack of page numbers, inflate order */
	uint64_t nballoon;
	uint64_t cursor;		/* SEQUENTIAL/REVERSE allocation cursor */
	uint64_t rng;
	uint64_t kernel_pages;
	uint64_t ring_page0;		/* first ring page */
	uint64_t ring_pages;		/* pages per ring slot */
	uint64_t pfnbuf_page, stats_page, indirect_page, scratch_page;

	/* Connection. */
	int sock;
	int backend_fd;			/* our end of the backend channel */
	bool connected;
	bool realized;
	unsigned int disconnect_after;
	uint64_t features_first;	/* first GET_FEATURES */
	struct vms_features feat;
	unsigned int num_vqs;
	struct vms_vq vq[VMS_MAX_VQS];
	int role_idx[VMS_VQ_ROLES];
	bool probed;			/* Linux probe done (queues set up) */
	bool started;			/* vhost started (DRIVER_OK sequence done) */
	bool probe_failed;
	uint8_t status;			/* backend status from GET_STATUS */

	/* Config space cache (QEMU's vdev->config). */
	uint8_t cfg[VMS_MAX_CONFIG_SIZE];
	bool cfg_read_once;
	uint32_t last_num_pages;

	/* Linux driver state. */
	uint32_t num_pages;		/* vb->num_pages: pages in the balloon as the driver counts */
	bool work_pending;
	bool fph_pending;		/* FREE_PAGE_HINT: cmd id read due */
	uint64_t work_not_before_ns;
	uint32_t poison_val;
	uint64_t stat_val[VMS_STAT_NR];
	uint32_t stat_set;		/* bit per tag set by the test */
	uint16_t stat_tags[VMS_STATS_MAX_ENTRIES];
	unsigned int nstat_tags;
	struct vms_block report[VMS_REPORT_CAPACITY];
	unsigned int nreport;

	struct vms_counters c;
	struct vms_trace trace;
};

/* vms_mem.c: guest memory and the page model. */
int vms_mem_create(struct vms_vm *vm);
void vms_mem_destroy(struct vms_vm *vm);
uint64_t vms_page_pfn(const struct vms_vm *vm, uint64_t page);
int64_t vms_pfn_page(const struct vms_vm *vm, uint64_t pfn);
void *vms_page_ptr(const struct vms_vm *vm, uint64_t page);
uint64_t vms_page_gpa(const struct vms_vm *vm, uint64_t page);
uint64_t vms_hva(const struct vms_vm *vm, const void *p);
void vms_page_write_pattern(struct vms_vm *vm, uint64_t page);
bool vms_page_check_pattern(const struct vms_vm *vm, uint64_t page);
void vms_page_poison(struct vms_vm *vm, uint64_t page);
unsigned int vms_mem_table(const struct vms_vm *vm, struct vms_region_info *out);
uint64_t vms_rand(struct vms_vm *vm);

/* vms_alloc.c: which pages the balloon takes, and their transitions. */
unsigned int vms_alloc_pick(struct vms_vm *vm, uint64_t *pages, unsigned int n);
void vms_page_to_balloon(struct vms_vm *vm, uint64_t page);
void vms_page_from_balloon(struct vms_vm *vm, uint64_t page);
unsigned int vms_alloc_report_blocks(struct vms_vm *vm, struct vms_block *out, unsigned int n);

/* vms_conn.c: the vhost-user channel. */
int vms_send(struct vms_vm *vm, struct vms_msg *m, const int *fds, unsigned int nfds);
int vms_recv_reply(struct vms_vm *vm, struct vms_msg *m, uint32_t request);
int vms_ack(struct vms_vm *vm, const struct vms_msg *sent);
int vms_get_u64(struct vms_vm *vm, uint32_t request, uint64_t *v);
int vms_set_u64(struct vms_vm *vm, uint32_t request, uint64_t v, bool wait_reply);
int vms_set_vring(struct vms_vm *vm, uint32_t request, uint32_t idx, uint32_t num,
		bool wait_reply);
int vms_set_vring_fd(struct vms_vm *vm, uint32_t request, uint32_t idx, int fd);
int vms_backend_serve(struct vms_vm *vm);
void vms_conn_lost(struct vms_vm *vm);
void vms_trace_add(struct vms_vm *vm, const struct vms_msg *m, unsigned int nfds,
		bool from_backend, bool is_reply);
bool vms_has_pf(const struct vms_vm *vm, unsigned int bit);
bool vms_has_f(const struct vms_vm *vm, unsigned int bit);
uint64_t vms_now_ns(void);

/* vms_config.c: guest config accesses as QEMU forwards them. */
int vms_cfg_read32(struct vms_vm *vm, uint32_t off, uint32_t *val);
int vms_cfg_write32(struct vms_vm *vm, uint32_t off, uint32_t val);

/* vms_driver.c: the Linux balloon driver. */
int vms_wait(struct vms_vm *vm, int role, int timeout_ms);
int vms_kick(struct vms_vm *vm, int role);
int vms_driver_probe(struct vms_vm *vm);
int vms_stats_fill(struct vms_vm *vm);
int vms_collect_used(struct vms_vm *vm);

/* vms_vhost.c: QEMU's vhost_dev_start/stop. */
int vms_vhost_start(struct vms_vm *vm);
uint64_t vms_driver_accept(const struct vms_vm *vm, uint64_t offered);
int vms_send_mem_table(struct vms_vm *vm);
void vms_vm_sync_bases(struct vms_vm *vm);

#endif /* VMS_PRIV_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/* Public entry points: parameters, create/destroy, what happened (features, queues, config,
 * counters, trace), the page model queries and vms_vm_verify(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vms_priv.h"

/* Linux 6.1 update_balloon_stats() order with VM_EVENT_COUNTERS and HUGETLB_PAGE. */
static const uint16_t linux_tags[] = { 0, 1, 2, 3, 8, 9, 4, 5, 6, 7 };

void
vms_vm_params_init(struct vms_vm_params *p)
{
	memset(p, 0, sizeof(*p));
	p->connect_timeout_ms = 5000;
	p->mem_bytes = 256ULL << 20;
	p->backing = VMS_BACKING_MEMFD;
	p->config_size = 16;
	p->vq_size = 64;
	p->driver_features = VMS_DRIVER_FEATURES_ALL;
	p->protocol_features_mask = VMS_QEMU_PROTOCOL_FEATURES;
	p->page_poison = false;		/* Debian 6.1: no page poisoning, init_on_alloc on */
	p->init_on_alloc = true;
	p->ack_mode = VMS_ACK_INTERRUPT;
	p->pattern = VMS_PATTERN_SEQUENTIAL;
	p->seed = 1;
	p->free_percent = 10;
	p->kernel_bytes = 4U << 20;
	p->timeout_ms = 5000;
	p->oom_retry_ms = 200;
}

struct vms_vm *
vms_vm_create(const struct vms_vm_params *p)
{
	struct vms_vm *vm;
	unsigned int i;
	int ret;

	if (p == NULL || p->socket_path == NULL || p->vq_size == 0 || p->vq_size > VMS_RING_MAX ||
			(p->vq_size & (p->vq_size - 1)) != 0 ||
			p->config_size > VMS_MAX_CONFIG_SIZE || p->num_vqs > VMS_MAX_VQS ||
			p->free_percent > 100) {
		errno = EINVAL;
		return NULL;
	}
	vm = calloc(1, sizeof(*vm));
	if (vm == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	vm->p = *p;
	if (vm->p.timeout_ms == 0)
		vm->p.timeout_ms = 5000;
	if (vm->p.kernel_bytes == 0)
		vm->p.kernel_bytes = 4U << 20;
	snprintf(vm->socket_path, sizeof(vm->socket_path), "%s", p->socket_path);
	vm->p.socket_path = vm->socket_path;
	vm->p.hugetlbfs_dir = NULL;
	if (p->hugetlbfs_dir != NULL)
		snprintf(vm->huge_dir, sizeof(vm->huge_dir), "%s", p->hugetlbfs_dir);
	vm->sock = -1;
	vm->backend_fd = -1;
	vm->mem_fd = -1;
	vm->rng = p->seed ^ 0x5eed5eedULL;
	for (i = 0; i < VMS_MAX_VQS; i++) {
		vm->vq[i].role = -1;
		vm->vq[i].kick_fd = -1;
		vm->vq[i].call_fd = -1;
		vm->vq[i].masked_fd = -1;
		vm->vq[i].err_fd = -1;
	}
	for (i = 0; i < VMS_VQ_ROLES; i++)
		vm->role_idx[i] = -1;
	memcpy(vm->stat_tags, linux_tags, sizeof(linux_tags));
	vm->nstat_tags = sizeof(linux_tags) / sizeof(linux_tags[0]);
	vm->trace.e = calloc(VMS_TRACE_MAX, sizeof(*vm->trace.e));
	if (vm->trace.e == NULL) {
		free(vm);
		errno = ENOMEM;
		return NULL;
	}
	if (vm->huge_dir[0] != '\0')
		vm->p.hugetlbfs_dir = vm->huge_dir;
	ret = vms_mem_create(vm);
	if (ret < 0) {
		free(vm->trace.e);
		free(vm);
		errno = -ret;
		return NULL;
	}
	return vm;
}

void
vms_vm_disconnect(struct vms_vm *vm)
{
	unsigned int i;

	if (vm == NULL)
		return;
	vms_conn_lost(vm);
	vms_vm_sync_bases(vm);
	vm->started = false;
	vm->realized = false;
	for (i = 0; i < VMS_MAX_VQS; i++) {
		struct vms_vq *q = &vm->vq[i];

		if (q->kick_fd >= 0)
			close(q->kick_fd);
		if (q->call_fd >= 0)
			close(q->call_fd);
		if (q->masked_fd >= 0)
			close(q->masked_fd);
		if (q->err_fd >= 0)
			close(q->err_fd);
		q->kick_fd = q->call_fd = q->masked_fd = q->err_fd = -1;
		q->started = false;
	}
}

void
vms_vm_destroy(struct vms_vm *vm)
{
	if (vm == NULL)
		return;
	vms_vm_disconnect(vm);
	vms_mem_destroy(vm);
	free(vm->trace.e);
	free(vm);
}

bool
vms_vm_connected(const struct vms_vm *vm)
{
	return vm != NULL && vm->connected;
}

int
vms_vm_set_stat(struct vms_vm *vm, uint16_t tag, uint64_t val)
{
	if (vm == NULL || tag >= VMS_STAT_NR)
		return -EINVAL;
	vm->stat_val[tag] = val;
	vm->stat_set |= 1U << tag;
	return 0;
}

int
vms_vm_set_stat_tags(struct vms_vm *vm, const uint16_t *tags, unsigned int ntags)
{
	if (vm == NULL || ntags > VMS_STATS_MAX_ENTRIES || (ntags > 0 && tags == NULL))
		return -EINVAL;
	memcpy(vm->stat_tags, tags, ntags * sizeof(*tags));
	vm->nstat_tags = ntags;
	return 0;
}

unsigned int
vms_vm_last_report(const struct vms_vm *vm, struct vms_block *out, unsigned int max)
{
	unsigned int n = vm->nreport < max ? vm->nreport : max;

	memcpy(out, vm->report, n * sizeof(*out));
	return n;
}

int64_t
vms_vm_verify(struct vms_vm *vm, struct vms_verify_report *rep)
{
	struct vms_verify_report local;
	uint64_t pg;

	if (vm == NULL)
		return -EINVAL;
	if (rep == NULL)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	for (pg = 0; pg < vm->npages; pg++) {
		uint8_t st = vm->state[pg];
		bool bad;

		if (st == VMS_PAGE_KERNEL && vm->gen[pg] != VMS_GEN_NONE) {
			bad = !vms_page_check_pattern(vm, pg);
		} else if (st == VMS_PAGE_USED) {
			bad = !vms_page_check_pattern(vm, pg);
		} else if (st == VMS_PAGE_FREE && vm->poison_val != 0 && vm->p.page_poison) {
			/* With a non-zero poison_val the device must keep freed pages poisoned;
			 * check both ends and the middle as Linux's check_poison_mem would. */
			const uint8_t *p = vms_page_ptr(vm, pg);

			bad = p[0] != 0xaa || p[VMS_PAGE_SIZE / 2] != 0xaa ||
				p[VMS_PAGE_SIZE - 1] != 0xaa;
		} else {
			continue;
		}
		rep->pages_checked++;
		if (!bad)
			continue;
		if (rep->nbad < 16) {
			rep->bad_pfns[rep->nbad] = vms_page_pfn(vm, pg);
			rep->bad_state[rep->nbad] = (enum vms_page_state)st;
			rep->nbad++;
		}
		rep->corrupted++;
	}
	return (int64_t)rep->corrupted;
}

enum vms_page_state
vms_vm_page_state(const struct vms_vm *vm, uint64_t pfn)
{
	int64_t pg = vms_pfn_page(vm, pfn);

	return pg < 0 ? VMS_PAGE_INVALID : (enum vms_page_state)vm->state[pg];
}

void
vms_vm_page_counts(const struct vms_vm *vm, struct vms_page_counts *c)
{
	uint64_t pg;

	memset(c, 0, sizeof(*c));
	c->total = vm->npages;
	for (pg = 0; pg < vm->npages; pg++) {
		switch (vm->state[pg]) {
		case VMS_PAGE_KERNEL:
			c->kernel++;
			break;
		case VMS_PAGE_USED:
			c->used++;
			break;
		case VMS_PAGE_FREE:
			c->free++;
			break;
		case VMS_PAGE_BALLOON:
			c->balloon++;
			break;
		case VMS_PAGE_REPORTING:
			c->reporting++;
			break;
		default:
			break;
		}
	}
}

uint64_t
vms_vm_balloon_pfns(const struct vms_vm *vm, uint64_t *out, uint64_t max)
{
	uint64_t i;

	for (i = 0; i < vm->nballoon && i < max; i++)
		out[i] = vms_page_pfn(vm, vm->balloon[i]);
	return vm->nballoon;
}

void *
vms_vm_gpa_ptr(const struct vms_vm *vm, uint64_t gpa)
{
	int64_t pg = vms_pfn_page(vm, gpa >> VMS_PAGE_SHIFT);

	if (pg < 0)
		return NULL;
	return (uint8_t *)vms_page_ptr(vm, (uint64_t)pg) + (gpa & (VMS_PAGE_SIZE - 1));
}

int64_t
vms_vm_allocated_bytes(const struct vms_vm *vm)
{
	struct stat st;

	if (fstat(vm->mem_fd, &st) < 0)
		return -errno;
	return (int64_t)st.st_blocks * 512;
}

uint64_t
vms_vm_backing_page_size(const struct vms_vm *vm)
{
	return vm->backing_page;
}

unsigned int
vms_vm_regions(const struct vms_vm *vm, struct vms_region_info *out, unsigned int max)
{
	struct vms_region_info r[VMS_MAX_REGIONS];
	unsigned int n = vms_mem_table(vm, r), i;

	for (i = 0; i < n && i < max; i++)
		out[i] = r[i];
	return n;
}

int
vms_queue_index_for(uint64_t f, enum vms_role role)
{
	int stats = (f & VMS_BIT(VMS_F_STATS_VQ)) != 0;
	int fph = (f & VMS_BIT(VMS_F_FREE_PAGE_HINT)) != 0;

	/* vp_find_vqs(): queues of features not negotiated take no index. */
	switch (role) {
	case VMS_VQ_INFLATE:
		return 0;
	case VMS_VQ_DEFLATE:
		return 1;
	case VMS_VQ_STATS:
		return stats ? 2 : -1;
	case VMS_VQ_FREE_PAGE:
		return fph ? 2 + stats : -1;
	case VMS_VQ_REPORTING:
		return (f & VMS_BIT(VMS_F_REPORTING)) ? 2 + stats + fph : -1;
	default:
		return -1;
	}
}

unsigned int
vms_queue_count_for(uint64_t f)
{
	unsigned int r, n = 0;

	for (r = 0; r < VMS_VQ_ROLES; r++)
		if (vms_queue_index_for(f, (enum vms_role)r) >= 0)
			n++;
	return n;
}

int
vms_vm_queue_index(const struct vms_vm *vm, enum vms_role role)
{
	if (vm == NULL || role >= VMS_VQ_ROLES || !vm->probed)
		return -1;
	return vm->role_idx[role];
}

void
vms_vm_features(const struct vms_vm *vm, struct vms_features *f)
{
	*f = vm->feat;
}

void
vms_vm_config(const struct vms_vm *vm, struct vms_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->raw, vm->cfg, sizeof(cfg->raw));
	cfg->num_pages = vms_le32_get(vm->cfg + VMS_CFG_NUM_PAGES);
	cfg->actual = vms_le32_get(vm->cfg + VMS_CFG_ACTUAL);
	cfg->free_page_hint_cmd_id = vms_le32_get(vm->cfg + VMS_CFG_FREE_PAGE_HINT_CMD_ID);
	cfg->poison_val = vms_le32_get(vm->cfg + VMS_CFG_POISON_VAL);
}

void
vms_vm_counters(const struct vms_vm *vm, struct vms_counters *c)
{
	*c = vm->c;
}

unsigned int
vms_vm_trace(const struct vms_vm *vm, struct vms_trace_entry *out, unsigned int max)
{
	unsigned int n = vm->trace.n < max ? vm->trace.n : max;

	if (out != NULL)
		memcpy(out, vm->trace.e, n * sizeof(*out));
	return vm->trace.n;
}

void
vms_vm_trace_clear(struct vms_vm *vm)
{
	vm->trace.n = 0;
	vm->trace.dropped = 0;
}

void
vms_vm_trace_replies(struct vms_vm *vm, bool with_replies)
{
	vm->trace.replies = with_replies;
}

void
vms_vm_trace_dump(const struct vms_vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->trace.n; i++) {
		const struct vms_trace_entry *e = &vm->trace.e[i];

		fprintf(stderr, "%5u %s %-24s flags 0x%x size %u fds %u idx %u val 0x%llx\n", i,
				e->from_backend ? "<-B" : e->is_reply ? "<--" : "-->",
				e->from_backend ? (e->request == VMS_BREQ_CONFIG_CHANGE_MSG ?
					"CONFIG_CHANGE_MSG" : "BACKEND_REQ") :
				vms_request_name(e->request),
				e->flags, e->size, e->nfds, e->index, (unsigned long long)e->value);
	}
}

const char *
vms_request_name(uint32_t r)
{
	static const char *const names[] = {
		[0] = "NONE", [1] = "GET_FEATURES", [2] = "SET_FEATURES", [3] = "SET_OWNER",
		[4] = "RESET_OWNER", [5] = "SET_MEM_TABLE", [6] = "SET_LOG_BASE",
		[7] = "SET_LOG_FD", [8] = "SET_VRING_NUM", [9] = "SET_VRING_ADDR",
		[10] = "SET_VRING_BASE", [11] = "GET_VRING_BASE", [12] = "SET_VRING_KICK",
		[13] = "SET_VRING_CALL", [14] = "SET_VRING_ERR", [15] = "GET_PROTOCOL_FEATURES",
		[16] = "SET_PROTOCOL_FEATURES", [17] = "GET_QUEUE_NUM", [18] = "SET_VRING_ENABLE",
		[19] = "SEND_RARP", [20] = "NET_SET_MTU", [21] = "SET_BACKEND_REQ_FD",
		[22] = "IOTLB_MSG", [23] = "SET_VRING_ENDIAN", [24] = "GET_CONFIG",
		[25] = "SET_CONFIG", [31] = "GET_INFLIGHT_FD", [32] = "SET_INFLIGHT_FD",
		[34] = "RESET_DEVICE", [36] = "GET_MAX_MEM_SLOTS", [37] = "ADD_MEM_REG",
		[38] = "REM_MEM_REG", [39] = "SET_STATUS", [40] = "GET_STATUS",
	};

	if (r < sizeof(names) / sizeof(names[0]) && names[r] != NULL)
		return names[r];
	return "UNKNOWN";
}

const char *
vms_page_state_name(enum vms_page_state s)
{
	switch (s) {
	case VMS_PAGE_KERNEL:
		return "kernel";
	case VMS_PAGE_USED:
		return "used";
	case VMS_PAGE_FREE:
		return "free";
	case VMS_PAGE_BALLOON:
		return "balloon";
	case VMS_PAGE_REPORTING:
		return "reporting";
	default:
		return "invalid";
	}
}

/* SPDX-License-Identifier: BSD-3-Clause */
/* The guest side of --test ring (see perf_ring_guest.h). */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>

#include "perf_mem.h"
#include "perf_ring_guest.h"

#define MiB		(1ULL << 20)
#define REPORT_BLOCKS	32	/* PAGE_REPORTING_CAPACITY */

struct job {
	struct ring_vm *v;
	uint32_t nvms, first, step;
	uint32_t pages;
	uint64_t bytes;
	int report;
	int rc;
};

/* Round-robin over this thread's VMs: one Linux step each, until all are there. */
static void *
balloon_thread(void *arg)
{
	struct job *j = arg;
	struct vms_config cfg;
	uint64_t deadline = rte_rdtsc() + 600 * rte_get_tsc_hz();
	uint32_t i, left;
	int rc;

	do {
		left = 0;
		for (i = j->first; i < j->nvms; i += j->step) {
			vms_vm_config(j->v[i].vm, &cfg);
			if (cfg.num_pages == j->pages && cfg.actual == j->pages)
				continue;
			left++;
			rc = vms_vm_poll(j->v[i].vm, 0);
			if (rc < 0) {
				j->rc = rc;
				return NULL;
			}
		}
		if (rte_rdtsc() > deadline) {
			j->rc = -ETIMEDOUT;
			return NULL;
		}
	} while (left != 0);
	return NULL;
}

/*
 * Report up to 32 free blocks at a time; after each ack the guest reuses what it
 * reported (allocates it again, as a busy guest does), so the next report finds other,
 * populated blocks. A VM with no free block left is done.
 */
static void *
report_thread(void *arg)
{
	struct job *j = arg;
	struct vms_counters c;
	uint64_t deadline = rte_rdtsc() + 300 * rte_get_tsc_hz();
	uint8_t *done = calloc(j->nvms, 1);
	uint32_t i, left;
	int rc;

	if (done == NULL) {
		j->rc = -ENOMEM;
		return NULL;
	}
	do {
		left = 0;
		for (i = j->first; i < j->nvms; i += j->step) {
			if (done[i])
				continue;
			vms_vm_counters(j->v[i].vm, &c);
			if (c.report_bytes >= j->bytes) {
				done[i] = 1;
				continue;
			}
			left++;
			rc = vms_vm_report(j->v[i].vm, REPORT_BLOCKS);
			if (rc == 0) {
				done[i] = 1;
			} else if (rc < 0) {
				j->rc = rc;
				break;
			} else {
				struct vms_block blk[REPORT_BLOCKS];
				unsigned int b, nb = vms_vm_last_report(j->v[i].vm, blk,
									 REPORT_BLOCKS);
				uint64_t pages = 0;

				for (b = 0; b < nb; b++)
					pages += blk[b].len / VMS_PAGE_SIZE;
				if (vms_vm_churn(j->v[i].vm, pages) < 0) {
					j->rc = -EIO;
					break;
				}
			}
		}
		if (j->rc == 0 && rte_rdtsc() > deadline)
			j->rc = -ETIMEDOUT;
	} while (left != 0 && j->rc == 0);
	free(done);
	return NULL;
}

static int
run_jobs(struct ring_vm *v, uint32_t nvms, uint32_t pages, uint64_t bytes, int report,
	 uint32_t nthreads)
{
	pthread_t th[256];
	struct job jobs[256];
	uint32_t t, n = nthreads < nvms ? nthreads : nvms;
	int rc = 0;

	for (t = 0; t < n; t++) {
		jobs[t] = (struct job){ .v = v, .nvms = nvms, .first = t, .step = n,
					.pages = pages, .bytes = bytes, .report = report };
		if (pthread_create(&th[t], NULL, report ? report_thread : balloon_thread,
				   &jobs[t]) != 0) {
			n = t;
			rc = -EAGAIN;
			break;
		}
	}
	for (t = 0; t < n; t++) {
		pthread_join(th[t], NULL);
		if (jobs[t].rc != 0 && rc == 0)
			rc = jobs[t].rc;
	}
	return rc;
}

int
ring_guests_balloon(struct ring_vm *v, uint32_t nvms, uint32_t pages, uint32_t nthreads)
{
	uint32_t i;
	int rc;

	for (i = 0; i < nvms; i++) {
		rc = vhb_device_set_target_pages(v[i].dev, pages);
		if (rc != 0)
			return rc;
	}
	return run_jobs(v, nvms, pages, 0, 0, nthreads);
}

int
ring_guests_report(struct ring_vm *v, uint32_t nvms, uint64_t bytes, uint32_t nthreads)
{
	struct vms_counters c;
	uint64_t base = UINT64_MAX;
	uint32_t i;

	/* Counters are cumulative: every VM reports `bytes` more than the least so far. */
	for (i = 0; i < nvms; i++) {
		vms_vm_counters(v[i].vm, &c);
		if (c.report_bytes < base)
			base = c.report_bytes;
	}
	return run_jobs(v, nvms, 0, base + bytes, 1, nthreads);
}

static uint64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
ring_raw_floor(struct vms_vm *vm, enum perf_backing bk, const char *hugetlbfs_dir,
	       uint64_t *cycles, uint64_t *calls, uint64_t *bytes)
{
	uint64_t page = vms_vm_backing_page_size(vm), per = page / VMS_PAGE_SIZE;
	uint64_t n = vms_vm_balloon_pfns(vm, NULL, 0), i, k, c0, c1, start, len;
	uint64_t size;
	struct vms_region_info reg[8];
	unsigned int nreg = vms_vm_regions(vm, reg, 8), r;
	uint64_t *offs = malloc((n + 1) * sizeof(*offs));
	void *second = MAP_FAILED;
	struct perf_mem m;
	char why[256];
	int rc;

	if (offs == NULL)
		return -ENOMEM;
	vms_vm_balloon_pfns(vm, offs, n);
	/* PFN -> host page index in the backing file. */
	for (i = 0, k = 0; i < n; i++) {
		uint64_t gpa = offs[i] << VMS_PAGE_SHIFT;

		for (r = 0; r < nreg; r++)
			if (gpa >= reg[r].gpa && gpa < reg[r].gpa + reg[r].size) {
				offs[k++] = (gpa - reg[r].gpa + reg[r].file_offset) / page;
				break;
			}
	}
	qsort(offs, k, sizeof(*offs), cmp_u64);
	/* Keep host pages whose every 4 KiB piece is in the balloon, once each. */
	for (i = 0, n = 0; i < k; ) {
		uint64_t j = i;

		while (j < k && offs[j] == offs[i])
			j++;
		if (j - i == per)
			offs[n++] = offs[i];
		i = j;
	}
	/*
	 * Ranges keep their lengths and order, packed into a file of their own with one
	 * host page between neighbours (so none merge): the floor needs only the memory
	 * it releases, not a second copy of the guest.
	 */
	for (i = 0, size = 0; i < n; i += len) {
		for (len = 1; i + len < n && offs[i + len] == offs[i] + len; len++)
			;
		size += (len + 1) * page;
	}
	if (size == 0) {
		free(offs);
		return 0;
	}
	rc = perf_mem_open(&m, bk, size, hugetlbfs_dir, why, sizeof(why));
	if (rc != 0) {
		fprintf(stderr, "raw floor: %s\n", why);
		free(offs);
		return rc;
	}
	rc = perf_mem_populate(&m);
	/*
	 * A second mapping, populated: guest memory is mapped by QEMU and by the backend,
	 * and a punch unmaps it from both.
	 */
	second = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m.fd, 0);
	if (second == MAP_FAILED)
		rc = rc != 0 ? rc : -errno;
	else if (rc == 0 && madvise(second, size, MADV_POPULATE_WRITE) != 0)
		rc = -errno;
	c0 = cpu_ns();
	for (i = 0, start = 0; i < n && rc == 0; i += len) {
		for (len = 1; i + len < n && offs[i + len] == offs[i] + len; len++)
			;
		if (fallocate(m.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(start * page), (off_t)(len * page)) != 0)
			rc = -errno;
		(*calls)++;
		*bytes += len * page;
		start += len + 1;
	}
	c1 = cpu_ns();
	*cycles += c1 - c0;
	if (second != MAP_FAILED)
		munmap(second, size);
	perf_mem_close(&m);
	free(offs);
	return rc;
}

void
ring_vms_teardown(struct ring_vm *v, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		vms_vm_destroy(v[i].vm);
		if (v[i].dev != NULL)
			vhb_device_destroy(v[i].dev);
	}
	free(v);
}

struct ring_vm *
ring_vms_setup(const struct perf_backend *be, const struct perf_options *o,
	       enum perf_backing bk, enum perf_pattern pat, uint64_t mem_mib, uint32_t n,
	       uint32_t *up)
{
	static const enum vms_pattern vpat[PERF_PATTERN_MAX] = {
		[PERF_PATTERN_SEQUENTIAL] = VMS_PATTERN_REVERSE,	/* ascending */
		[PERF_PATTERN_REVERSE] = VMS_PATTERN_SEQUENTIAL,	/* descending, Linux */
		[PERF_PATTERN_RANDOM2M] = VMS_PATTERN_RANDOM,
		[PERF_PATTERN_FRAGMENTED] = VMS_PATTERN_FRAGMENTED,
	};
	struct ring_vm *v = calloc(n, sizeof(*v));
	struct vms_vm_params p;
	uint32_t i;
	int rc;

	*up = 0;
	if (v == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		struct vhb_device_params dp = {
			.socket_gid = -1, .socket_mode = 0600, .lcore_id = be->lcore,
		};
		char name[32];

		snprintf(v[i].sock, sizeof(v[i].sock), "%s/vm%u.sock", be->dir, i);
		snprintf(name, sizeof(name), "perf-vm%u", i);
		dp.socket_path = v[i].sock;
		dp.name = name;
		v[i].dev = vhb_device_create(&dp);
		if (v[i].dev == NULL) {
			printf("# VM %u: device not created (rte_errno %d)\n", i, rte_errno);
			break;
		}
		vms_vm_params_init(&p);
		p.socket_path = v[i].sock;
		p.mem_bytes = mem_mib * MiB;
		p.backing = bk == PERF_BACKING_HUGETLBFS ? VMS_BACKING_HUGETLBFS :
			    VMS_BACKING_MEMFD;
		p.hugetlbfs_dir = o->hugetlbfs_dir;
		p.pattern = vpat[pat];
		p.seed = o->seed + i;
		p.connect_timeout_ms = 5000;
		p.timeout_ms = 20000;
		p.init_on_alloc = false;	/* guest-side cost; the device is measured */
		p.free_percent = 50;		/* something to report */
		v[i].vm = vms_vm_create(&p);
		if (v[i].vm == NULL) {
			printf("# VM %u: not created: %s\n", i, strerror(errno));
			break;
		}
		rc = vms_vm_connect(v[i].vm);
		if (rc == 0)
			rc = vms_vm_start(v[i].vm);
		if (rc != 0) {
			printf("# VM %u: connect/start failed: %s\n", i, strerror(-rc));
			break;
		}
	}
	*up = i;
	/* What failed (v[i]) is torn down by the caller with the rest. */
	return v;
}

void
ring_service_time_add(const struct ring_vm *v, uint32_t n, struct vhb_service_time *sum)
{
	struct vhb_service_time st;
	uint32_t i, b;

	for (i = 0; i < n; i++) {
		vhb_device_get_service_time(v[i].dev, &st);
		sum->tsc_hz = st.tsc_hz;
		sum->count += st.count;
		for (b = 0; b < VHB_SERVICE_TIME_BUCKETS; b++)
			sum->bucket[b] += st.bucket[b];
	}
}

double
ring_service_time_pct_us(const struct vhb_service_time *a, const struct vhb_service_time *b,
			 double q)
{
	uint64_t total = b->count - a->count, want, acc = 0;
	unsigned int i;

	if (total == 0)
		return 0;
	want = (uint64_t)((double)total * q);
	if (want == 0)
		want = 1;
	for (i = 0; i < VHB_SERVICE_TIME_BUCKETS; i++) {
		acc += b->bucket[i] - a->bucket[i];
		if (acc >= want)
			return (double)vhb_service_time_bucket_max(i) * 1e6 / (double)b->tsc_hz;
	}
	return 0;
}

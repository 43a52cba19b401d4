/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest memory map: validation, region lookup, the strict pointer helper, and
 * building the map from rte_vhost's table over real memfd/hugetlbfs mappings
 * (file offsets of split regions, page sizes, aliasing regions).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_vhost.h>

#include "vhb_guest_mem.h"
#include "test_engine_util.h"

#define MiB	((uint64_t)1 << 20)
#define GiB	((uint64_t)1 << 30)

static struct vhb_mem_region
fake_region(uint64_t gpa, uint64_t size, int i)
{
	struct vhb_mem_region r = {
		.gpa = gpa, .size = size, .fd = -1, .page_shift = 12,
		/* Distinct host addresses: only the pointer arithmetic is checked, never a byte. */
		.hva = (uint8_t *)(uintptr_t)(0x100000000000ULL * (uint64_t)(i + 1)),
	};

	return r;
}

static void
test_init_validation(void)
{
	struct vhb_mem_region r[VHB_MAX_MEM_REGIONS + 1];
	struct vhb_guest_mem gm;
	uint32_t i;

	CHECK(vhb_guest_mem_init(&gm, NULL, 0) == 0 && gm.nregions == 0, "empty map");
	r[0] = fake_region(0, 0, 0);
	CHECK(vhb_guest_mem_init(&gm, r, 1) == -EINVAL, "size 0");
	r[0] = fake_region(0x800, 4096, 0);
	CHECK(vhb_guest_mem_init(&gm, r, 1) == -EINVAL, "unaligned gpa");
	r[0] = fake_region(0, 4095, 0);
	CHECK(vhb_guest_mem_init(&gm, r, 1) == -EINVAL, "unaligned size");
	r[0] = fake_region(UINT64_MAX - 4095, 8192, 0);
	CHECK(vhb_guest_mem_init(&gm, r, 1) == -EINVAL, "gpa wraps");
	r[0] = fake_region(0, 4096, 0);
	r[0].hva = NULL;
	CHECK(vhb_guest_mem_init(&gm, r, 1) == -EINVAL, "no host address");
	r[0] = fake_region(0, 4096, 0);
	r[0].page_shift = 11;
	CHECK(vhb_guest_mem_init(&gm, r, 1) == -EINVAL, "page shift 11");
	r[0].page_shift = 31;
	CHECK(vhb_guest_mem_init(&gm, r, 1) == -EINVAL, "page shift 31");
	r[0] = fake_region(0, 8192, 0);
	r[1] = fake_region(4096, 8192, 1);
	CHECK(vhb_guest_mem_init(&gm, r, 2) == -EINVAL, "overlap");
	CHECK(gm.nregions == 0, "a failed init leaves an empty map");
	for (i = 0; i <= VHB_MAX_MEM_REGIONS; i++)
		r[i] = fake_region(i * GiB, MiB, (int)i);
	CHECK(vhb_guest_mem_init(&gm, r, VHB_MAX_MEM_REGIONS + 1) == -E2BIG, "too many");
	CHECK(vhb_guest_mem_init(&gm, r, VHB_MAX_MEM_REGIONS) == 0, "the maximum");

	/* Given out of order, stored sorted by gpa. */
	r[0] = fake_region(8 * GiB, MiB, 0);
	r[1] = fake_region(0, MiB, 1);
	r[2] = fake_region(4 * GiB, MiB, 2);
	CHECK(vhb_guest_mem_init(&gm, r, 3) == 0, "three regions");
	CHECK(gm.regions[0].gpa == 0 && gm.regions[1].gpa == 4 * GiB &&
	      gm.regions[2].gpa == 8 * GiB, "sorted");
	CHECK(gm.regions[0].no_release == 0 && gm.regions[2].no_release == 0, "no aliases");

	/* Same host addresses under two gpas: both never released. */
	r[0] = fake_region(0, MiB, 0);
	r[1] = fake_region(GiB, MiB, 0);
	r[1].hva += 512 * 1024;
	CHECK(vhb_guest_mem_init(&gm, r, 2) == 0, "aliased hva");
	CHECK(gm.regions[0].no_release == 1 && gm.regions[1].no_release == 1, "aliases marked");
	printf("ok init validation\n");
}

static void
test_lookup_and_ptr(void)
{
	struct vhb_mem_region r[3];
	struct vhb_guest_mem gm;
	uint8_t *h0, *h1, *h2;

	/* [0, 1 MiB) and [1 MiB, 2 MiB) touch; a gap; [4 GiB, 4 GiB + 64 KiB). */
	r[0] = fake_region(0, MiB, 0);
	r[1] = fake_region(MiB, MiB, 1);
	r[2] = fake_region(4 * GiB, 64 * 1024, 2);
	CHECK(vhb_guest_mem_init(&gm, r, 3) == 0, "init");
	CHECK(gm.regions[0].no_release == 0 && gm.regions[2].no_release == 0, "no aliases");
	h0 = gm.regions[0].hva;
	h1 = gm.regions[1].hva;
	h2 = gm.regions[2].hva;

	CHECK(vhb_guest_mem_region_of(&gm, 0) == 0, "first byte");
	CHECK(vhb_guest_mem_region_of(&gm, MiB - 1) == 0, "last byte of region 0");
	CHECK(vhb_guest_mem_region_of(&gm, MiB) == 1, "first byte of region 1");
	CHECK(vhb_guest_mem_region_of(&gm, 2 * MiB) == -1, "gap");
	CHECK(vhb_guest_mem_region_of(&gm, 4 * GiB - 1) == -1, "just before region 2");
	CHECK(vhb_guest_mem_region_of(&gm, 4 * GiB + 65535) == 2, "last byte");
	CHECK(vhb_guest_mem_region_of(&gm, 4 * GiB + 65536) == -1, "past the end");
	CHECK(vhb_guest_mem_region_of(&gm, UINT64_MAX) == -1, "UINT64_MAX");

	CHECK(vhb_guest_mem_ptr(&gm, 0, 1) == h0, "first byte");
	CHECK(vhb_guest_mem_ptr(&gm, 100, MiB - 100) == h0 + 100, "up to the end");
	CHECK(vhb_guest_mem_ptr(&gm, 100, MiB - 99) == NULL, "one byte past region 0");
	CHECK(vhb_guest_mem_ptr(&gm, MiB - 8, 16) == NULL,
	      "across two regions that touch in gpa: refused");
	CHECK(vhb_guest_mem_ptr(&gm, MiB, 8) == h1, "start of region 1");
	CHECK(vhb_guest_mem_ptr(&gm, 0, 0) == NULL, "len 0");
	CHECK(vhb_guest_mem_ptr(&gm, 2 * MiB, 1) == NULL, "in the gap");
	CHECK(vhb_guest_mem_ptr(&gm, 2 * MiB - 1, 2) == NULL, "into the gap");
	CHECK(vhb_guest_mem_ptr(&gm, 4 * GiB + 65535, 1) == h2 + 65535, "last byte");
	CHECK(vhb_guest_mem_ptr(&gm, 4 * GiB + 65535, 2) == NULL, "past the last byte");
	CHECK(vhb_guest_mem_ptr(&gm, 4 * GiB, UINT64_MAX) == NULL, "huge len");
	CHECK(vhb_guest_mem_ptr(&gm, UINT64_MAX - 3, 8) == NULL, "wraps");
	CHECK(vhb_guest_mem_ptr(&gm, 8, UINT64_MAX - 4) == NULL, "wraps from region 0");
	CHECK(vhb_guest_mem_ptr(NULL, 0, 1) == NULL, "no map");
	printf("ok region lookup and strict pointer helper\n");
}

static struct rte_vhost_memory *
vmem_alloc(uint32_t n)
{
	struct rte_vhost_memory *m = calloc(1, sizeof(*m) + n * sizeof(m->regions[0]));

	CHECK(m != NULL, "calloc");
	m->nregions = n;
	return m;
}

/* Map like rte_vhost: the whole file range from offset 0, the region at mmap_offset. */
static void
vmem_region(struct rte_vhost_mem_region *vr, int fd, uint64_t gpa, uint64_t size,
	    uint64_t mmap_offset, uint64_t align)
{
	uint64_t len = (size + mmap_offset + align - 1) & ~(align - 1);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
	vr->guest_phys_addr = gpa;
	vr->guest_user_addr = 0x7f0000000000ULL + gpa;
	vr->host_user_addr = (uintptr_t)p + mmap_offset;
	vr->size = size;
	vr->mmap_addr = p;
	vr->mmap_size = len;
	vr->fd = fd;
}

static void
vmem_free(struct rte_vhost_memory *m)
{
	uint32_t i;

	for (i = 0; i < m->nregions; i++)
		if (m->regions[i].mmap_addr != NULL)
			munmap(m->regions[i].mmap_addr, m->regions[i].mmap_size);
	free(m);
}

static void
test_from_vhost_memfd(void)
{
	struct test_backing b, other;
	struct rte_vhost_memory *m;
	struct vhb_guest_mem gm;
	uint8_t *p;

	test_backing_memfd(&b, 8 * MiB);
	test_backing_memfd(&other, 8 * MiB);
	printf("backing: %s\n", b.kind);

	/* One RAM block split around a hole: gpa [0, 3 MiB) is file [0, 3 MiB), gpa
	 * [16 MiB, 20 MiB) is file [4 MiB, 8 MiB). Given in reverse gpa order. */
	m = vmem_alloc(2);
	vmem_region(&m->regions[0], b.fd, 16 * MiB, 4 * MiB, 4 * MiB, 4096);
	vmem_region(&m->regions[1], b.fd, 0, 3 * MiB, 0, 4096);
	CHECK(vhb_guest_mem_from_vhost(&gm, m) == 0, "split regions");
	CHECK(gm.nregions == 2, "two regions");
	CHECK(gm.regions[0].gpa == 0 && gm.regions[0].fd_offset == 0 &&
	      gm.regions[0].size == 3 * MiB, "region 0");
	CHECK(gm.regions[1].gpa == 16 * MiB && gm.regions[1].fd_offset == 4 * MiB,
	      "region 1 file offset 0x%" PRIx64, gm.regions[1].fd_offset);
	CHECK(gm.regions[0].page_shift == 12 && gm.regions[1].page_shift == 12, "memfd 4 KiB");
	CHECK(gm.regions[0].fd == b.fd && gm.regions[0].no_release == 0 &&
	      gm.regions[1].no_release == 0, "fd, no aliases");
	/* The pointer of a gpa reaches the file at its offset. */
	p = vhb_guest_mem_ptr(&gm, 16 * MiB + 8192, 8);
	CHECK(p != NULL, "ptr");
	memcpy(p, "balloon", 8);
	CHECK(memcmp(b.map + 4 * MiB + 8192, "balloon", 8) == 0, "gpa -> file offset");
	vmem_free(m);

	/* Overlapping file ranges under two gpas: aliases, never released. */
	m = vmem_alloc(2);
	vmem_region(&m->regions[0], b.fd, 0, 3 * MiB, 0, 4096);
	vmem_region(&m->regions[1], b.fd, 1 * GiB, 4 * MiB, 2 * MiB, 4096);
	CHECK(vhb_guest_mem_from_vhost(&gm, m) == 0, "aliasing regions are accepted");
	CHECK(gm.regions[0].no_release == 1 && gm.regions[1].no_release == 1, "aliases marked");
	vmem_free(m);

	/* The same offsets in another file: not aliases. */
	m = vmem_alloc(2);
	vmem_region(&m->regions[0], b.fd, 0, 3 * MiB, 0, 4096);
	vmem_region(&m->regions[1], other.fd, 1 * GiB, 4 * MiB, 2 * MiB, 4096);
	CHECK(vhb_guest_mem_from_vhost(&gm, m) == 0, "two files");
	CHECK(gm.regions[0].no_release == 0 && gm.regions[1].no_release == 0, "no aliases");

	/* Hostile tables. */
	m->regions[1].size = m->regions[1].mmap_size;
	CHECK(vhb_guest_mem_from_vhost(&gm, m) == -EINVAL, "region past its mapping");
	m->regions[1].size = 4 * MiB;
	m->regions[1].host_user_addr = (uintptr_t)m->regions[1].mmap_addr - 4096;
	CHECK(vhb_guest_mem_from_vhost(&gm, m) == -EINVAL, "host address before the mapping");
	m->regions[1].host_user_addr = (uintptr_t)m->regions[1].mmap_addr;
	m->regions[1].guest_phys_addr = MiB;
	CHECK(vhb_guest_mem_from_vhost(&gm, m) == -EINVAL, "overlapping gpa");
	m->regions[1].guest_phys_addr = GiB;
	m->regions[1].size = 0;
	CHECK(vhb_guest_mem_from_vhost(&gm, m) == -EINVAL, "size 0");
	m->regions[1].size = 4 * MiB;
	m->regions[1].fd = 1000000;
	CHECK(vhb_guest_mem_from_vhost(&gm, m) == -EBADF, "bad fd");
	m->regions[1].fd = other.fd;
	m->nregions = VHB_MAX_MEM_REGIONS + 1;
	CHECK(vhb_guest_mem_from_vhost(&gm, m) == -E2BIG, "too many regions");
	m->nregions = 2;
	vmem_free(m);

	test_backing_free(&b);
	test_backing_free(&other);
	printf("ok rte_vhost table over memfd: split regions, aliases, hostile tables\n");
}

static void
test_from_vhost_hugetlbfs(void)
{
	struct rte_vhost_memory *m;
	struct vhb_guest_mem gm;
	struct test_backing b;
	char why[256];

	if (test_backing_hugetlbfs(&b, 8 * MiB, why, sizeof(why)) != 0) {
		printf("backing: hugetlbfs part skipped: %s\n", why);
		return;
	}
	printf("backing: %s\n", b.kind);
	m = vmem_alloc(2);
	vmem_region(&m->regions[0], b.fd, 0, 2 * MiB, 0, 2 * MiB);
	vmem_region(&m->regions[1], b.fd, 4 * GiB, 4 * MiB, 4 * MiB, 2 * MiB);
	CHECK(vhb_guest_mem_from_vhost(&gm, m) == 0, "hugetlbfs regions");
	CHECK(gm.regions[0].page_shift == 21 && gm.regions[1].page_shift == 21,
	      "2 MiB pages: shift %u", gm.regions[0].page_shift);
	CHECK(gm.regions[1].fd_offset == 4 * MiB, "file offset");
	vmem_free(m);
	test_backing_free(&b);
	printf("ok rte_vhost table over hugetlbfs\n");
}

int
main(void)
{
	test_init_validation();
	test_lookup_and_ptr();
	test_from_vhost_memfd();
	test_from_vhost_hugetlbfs();
	printf("PASS\n");
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/* Guest RAM (memfd or hugetlbfs file, mapped shared like QEMU's memory backends), its
 * gpa layout, and the per-page patterns that let vms_vm_verify() find corruption. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "vms_priv.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#define HUGETLBFS_MAGIC_ 0x958458f6

uint64_t
vms_rand(struct vms_vm *vm)
{
	/* splitmix64: reproducible from the seed. */
	uint64_t z = (vm->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t
vms_page_pfn(const struct vms_vm *vm, uint64_t page)
{
	uint64_t low = vm->low_bytes >> VMS_PAGE_SHIFT;

	if (!vm->split || page < low)
		return page;
	return (VMS_FOUR_GIB >> VMS_PAGE_SHIFT) + (page - low);
}

int64_t
vms_pfn_page(const struct vms_vm *vm, uint64_t pfn)
{
	uint64_t low = vm->low_bytes >> VMS_PAGE_SHIFT;
	uint64_t hi0 = VMS_FOUR_GIB >> VMS_PAGE_SHIFT;

	if (!vm->split)
		return pfn < vm->npages ? (int64_t)pfn : -1;
	if (pfn < low)
		return (int64_t)pfn;
	if (pfn >= hi0 && pfn - hi0 < vm->npages - low)
		return (int64_t)(low + pfn - hi0);
	return -1;
}

void *
vms_page_ptr(const struct vms_vm *vm, uint64_t page)
{
	return vm->mem + (page << VMS_PAGE_SHIFT);
}

uint64_t
vms_page_gpa(const struct vms_vm *vm, uint64_t page)
{
	return vms_page_pfn(vm, page) << VMS_PAGE_SHIFT;
}

uint64_t
vms_hva(const struct vms_vm *vm, const void *p)
{
	(void)vm;
	return (uint64_t)(uintptr_t)p;
}

static uint64_t
pattern(const struct vms_vm *vm, uint64_t page, uint32_t gen)
{
	return mix(vms_page_pfn(vm, page) * 0x100000001b3ULL ^ ((uint64_t)gen << 40) ^
			vm->p.seed ^ 0x766d73696dULL);
}

void
vms_page_write_pattern(struct vms_vm *vm, uint64_t page)
{
	uint8_t *p = vms_page_ptr(vm, page);
	uint64_t v = pattern(vm, page, vm->gen[page]);
	uint64_t w = ~v;

	memcpy(p, &v, 8);
	memcpy(p + VMS_PAGE_SIZE - 8, &w, 8);
}

bool
vms_page_check_pattern(const struct vms_vm *vm, uint64_t page)
{
	const uint8_t *p = vms_page_ptr(vm, page);
	uint64_t v = pattern(vm, page, vm->gen[page]);
	uint64_t a, b;

	memcpy(&a, p, 8);
	memcpy(&b, p + VMS_PAGE_SIZE - 8, 8);
	return a == v && b == ~v;
}

void
vms_page_poison(struct vms_vm *vm, uint64_t page)
{
	/* Linux poisons (0xaa) or, with init_on_free, zeroes a page it frees. */
	memset(vms_page_ptr(vm, page), vm->p.init_on_free ? 0 : 0xaa, VMS_PAGE_SIZE);
}

static int
find_hugetlbfs(char *dir, size_t len)
{
	const char *env = getenv("VHB_HUGETLBFS");
	char line[1024];
	FILE *f;

	if (env != NULL && env[0] != '\0') {
		snprintf(dir, len, "%s", env);
		return 0;
	}
	f = fopen("/proc/mounts", "r");
	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		char dev[256], mnt[512], type[64];

		if (sscanf(line, "%255s %511s %63s", dev, mnt, type) == 3 &&
				strcmp(type, "hugetlbfs") == 0 && strlen(mnt) < len) {
			memcpy(dir, mnt, strlen(mnt) + 1);
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

static int
open_backing(struct vms_vm *vm)
{
	int fd;

	switch (vm->p.backing) {
	case VMS_BACKING_MEMFD:
		fd = memfd_create("vmsim-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		break;
	case VMS_BACKING_MEMFD_HUGETLB:
		fd = memfd_create("vmsim-guest-ram", MFD_CLOEXEC | MFD_HUGETLB);
		break;
	case VMS_BACKING_HUGETLBFS: {
		char path[PATH_MAX];
		struct statfs sfs;
		int ret;

		/* p.hugetlbfs_dir may already point at huge_dir (set at create): never self-copy. */
		if (vm->p.hugetlbfs_dir != NULL && vm->p.hugetlbfs_dir != vm->huge_dir)
			snprintf(vm->huge_dir, sizeof(vm->huge_dir), "%s", vm->p.hugetlbfs_dir);
		else if (vm->p.hugetlbfs_dir == NULL &&
			 (ret = find_hugetlbfs(vm->huge_dir, sizeof(vm->huge_dir))) < 0)
			return ret;
		if (statfs(vm->huge_dir, &sfs) < 0)
			return -errno;
		if ((unsigned long)sfs.f_type != HUGETLBFS_MAGIC_)
			return -ENOTSUP;
		snprintf(path, sizeof(path), "%s/vmsim-XXXXXX", vm->huge_dir);
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0)
			unlink(path);
		break;
	}
	default:
		return -EINVAL;
	}
	return fd < 0 ? -errno : fd;
}

int
vms_mem_create(struct vms_vm *vm)
{
	struct stat st;
	uint64_t size, i, free_pages, nonkernel;
	int ret;

	ret = open_backing(vm);
	if (ret < 0)
		return ret;
	vm->mem_fd = ret;
	if (fstat(vm->mem_fd, &st) < 0) {
		ret = -errno;
		goto err_close;
	}
	vm->backing_page = (uint64_t)st.st_blksize;
	if (vm->backing_page < VMS_PAGE_SIZE)
		vm->backing_page = VMS_PAGE_SIZE;
	/* 4 MiB granularity: whole huge pages and whole 4 MiB report blocks. */
	size = (vm->p.mem_bytes + (4ULL << 20) - 1) & ~((4ULL << 20) - 1);
	if (size < (16ULL << 20))
		size = 16ULL << 20;
	if (ftruncate(vm->mem_fd, (off_t)size) < 0) {
		ret = -errno;
		goto err_close;
	}
	if (vm->p.backing == VMS_BACKING_MEMFD) {
		/* QEMU's memory-backend-memfd seals by default (seal=on). */
		(void)fcntl(vm->mem_fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
	}
	vm->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->mem_fd, 0);
	if (vm->mem == MAP_FAILED) {
		/* hugetlbfs reserves at mmap: ENOMEM means not enough free huge pages. */
		ret = errno == ENOMEM ? -ENOSPC : -errno;
		vm->mem = NULL;
		goto err_close;
	}
	vm->mem_bytes = size;
	vm->npages = size >> VMS_PAGE_SHIFT;
	vm->split = vm->p.split_regions;
	/* The low part: gpa [0, low) of a split guest, or the first of the two adjacent regions
	 * a contiguous guest is sent as after VMS_REMAP_TOGGLE_SPLIT. 4 MiB aligned. */
	vm->low_bytes = vm->p.split_low_bytes != 0 ? vm->p.split_low_bytes : size / 2;
	vm->low_bytes &= ~((4ULL << 20) - 1);
	if (vm->low_bytes == 0 || vm->low_bytes >= size) {
		ret = -EINVAL;
		goto err_unmap;
	}
	vm->state = calloc(vm->npages, 1);
	vm->gen = calloc(vm->npages, sizeof(*vm->gen));
	vm->balloon = calloc(vm->npages, sizeof(*vm->balloon));
	if (vm->state == NULL || vm->gen == NULL || vm->balloon == NULL) {
		ret = -ENOMEM;
		goto err_unmap;
	}

	/* Kernel area: patterned data, rings, PFN buffer, stats buffer, scratch, more data. */
	vm->kernel_pages = vm->p.kernel_bytes >> VMS_PAGE_SHIFT;
	vm->ring_pages = (vms_ring_bytes(vm->p.vq_size, 64) + VMS_PAGE_SIZE - 1) >> VMS_PAGE_SHIFT;
	vm->ring_page0 = VMS_KERNEL_DATA_PAGES;
	vm->pfnbuf_page = vm->ring_page0 + VMS_VQ_ROLES * vm->ring_pages;
	vm->stats_page = vm->pfnbuf_page + 1;
	vm->indirect_page = vm->stats_page + 1;
	vm->scratch_page = vm->indirect_page + 1;
	if (vm->kernel_pages < vm->scratch_page + VMS_SCRATCH_PAGES + VMS_KERNEL_DATA_PAGES)
		vm->kernel_pages = vm->scratch_page + VMS_SCRATCH_PAGES + VMS_KERNEL_DATA_PAGES;
	if (vm->kernel_pages + 2048 > vm->npages) {
		ret = -EINVAL;
		goto err_unmap;
	}
	for (i = 0; i < vm->kernel_pages; i++) {
		vm->state[i] = VMS_PAGE_KERNEL;
		if (i >= vm->ring_page0 && i < vm->scratch_page + VMS_SCRATCH_PAGES) {
			vm->gen[i] = VMS_GEN_NONE;
			memset(vms_page_ptr(vm, i), 0, VMS_PAGE_SIZE);
		} else {
			vms_page_write_pattern(vm, i);
		}
	}

	/* The guest filled its memory: most pages hold data, some are free. FREE pages form
	 * runs (whole 4 MiB blocks where possible) so that reporting has something to find;
	 * FRAGMENTED scatters them at 4 KiB granularity instead. */
	nonkernel = vm->npages - vm->kernel_pages;
	free_pages = nonkernel * vm->p.free_percent / 100;
	for (i = vm->kernel_pages; i < vm->npages; i++)
		vm->state[i] = VMS_PAGE_USED;
	if (vm->p.pattern == VMS_PATTERN_FRAGMENTED) {
		uint64_t got = 0, tries = 0;

		while (got < free_pages && tries++ < 16 * nonkernel) {
			uint64_t pg = vm->kernel_pages + vms_rand(vm) % nonkernel;

			if (vm->state[pg] == VMS_PAGE_USED) {
				vm->state[pg] = VMS_PAGE_FREE;
				got++;
			}
		}
	} else {
		/* Free memory from the top down, in whole 4 MiB blocks. */
		uint64_t blk = 1024, start = vm->npages;

		free_pages = (free_pages + blk - 1) / blk * blk;
		if (free_pages > nonkernel / 2)
			free_pages = nonkernel / 2 / blk * blk;
		start = vm->npages - free_pages;
		for (i = start; i < vm->npages; i++)
			vm->state[i] = VMS_PAGE_FREE;
	}
	for (i = vm->kernel_pages; i < vm->npages; i++) {
		if (vm->state[i] == VMS_PAGE_USED)
			vms_page_write_pattern(vm, i);
		else if (vm->p.page_poison || vm->p.init_on_free)
			vms_page_poison(vm, i);
		else
			memset(vms_page_ptr(vm, i), 0x5a, 8);	/* stale data, populated */
	}
	return 0;

err_unmap:
	munmap(vm->mem, size);
	vm->mem = NULL;
err_close:
	close(vm->mem_fd);
	vm->mem_fd = -1;
	return ret;
}

void
vms_mem_destroy(struct vms_vm *vm)
{
	if (vm->mem != NULL)
		munmap(vm->mem, vm->mem_bytes);
	vm->mem = NULL;
	if (vm->mem_fd >= 0)
		close(vm->mem_fd);
	vm->mem_fd = -1;
	free(vm->state);
	free(vm->gen);
	free(vm->balloon);
	vm->state = NULL;
	vm->gen = NULL;
	vm->balloon = NULL;
}

unsigned int
vms_mem_table(const struct vms_vm *vm, struct vms_region_info *out)
{
	struct vms_region_info r[2];
	unsigned int n, i;

	if (vm->split) {
		r[0] = (struct vms_region_info){ 0, vm->low_bytes, 0, vm->mem };
		r[1] = (struct vms_region_info){ VMS_FOUR_GIB, vm->mem_bytes - vm->low_bytes,
			vm->low_bytes, vm->mem + vm->low_bytes };
		n = 2;
	} else if (vm->table_split) {
		r[0] = (struct vms_region_info){ 0, vm->low_bytes, 0, vm->mem };
		r[1] = (struct vms_region_info){ vm->low_bytes, vm->mem_bytes - vm->low_bytes,
			vm->low_bytes, vm->mem + vm->low_bytes };
		n = 2;
	} else {
		r[0] = (struct vms_region_info){ 0, vm->mem_bytes, 0, vm->mem };
		n = 1;
	}
	for (i = 0; i < n; i++)
		out[i] = vm->table_reverse ? r[n - 1 - i] : r[i];
	return n;
}

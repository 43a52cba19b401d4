/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz harness: the guest memory map built from the frontend's memory table
 * (vhb_guest_mem_from_vhost(), vhb_guest_mem_init()) and the strict guest-address
 * helper (vhb_guest_mem_ptr(), vhb_guest_mem_region_of()).
 *
 * The input is an rte_vhost memory table as a hostile frontend could make
 * rte_vhost accept it (rte_vhost does not refuse overlapping, zero-size or
 * misaligned regions): up to 40 regions with any gpa, size, host address inside
 * or outside its mapping, and fd -1, a memfd, a dup of it (same file, other fd)
 * or a closed fd; then guest-address lookups. Host addresses are never
 * dereferenced by the code under test, so they are plain numbers here.
 *
 * Checked: the map is accepted exactly when every region is valid (host address
 * inside its mapping, size > 0, 4 KiB-aligned gpa, size and file offset, no
 * wrap, a usable fd, at most VHB_MAX_MEM_REGIONS, no two regions overlapping in
 * gpa); an accepted map holds the same regions sorted by gpa, with file offset =
 * host address - mapping start, and marks no_release exactly on regions that
 * share host addresses or a file range with another; a refused map is empty;
 * every lookup agrees with a linear search of the input.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_vhost.h>

#include "vhb_guest_mem.h"

#include "fuzz_common.h"

#define MAX_IN		40
#define MAX_LOOKUPS	64
#define PG		4096ULL
#define FAKE_BASE	0x7f0000000000ULL	/* host addresses: numbers only */

static int memfd = -1, memfd_dup = -1;

static bool
overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

struct in_region {
	uint64_t gpa, size, hva, fd_off;
	int fd;
	bool file;	/* backed by the memfd (through either fd) */
};

static bool
region_valid(const struct rte_vhost_mem_region *v, struct in_region *r)
{
	uint64_t map = (uintptr_t)v->mmap_addr;

	if (v->host_user_addr < map || v->host_user_addr - map > v->mmap_size ||
	    v->size > v->mmap_size - (v->host_user_addr - map))
		return false;
	r->gpa = v->guest_phys_addr;
	r->size = v->size;
	r->hva = v->host_user_addr;
	r->fd_off = v->host_user_addr - map;
	r->fd = v->fd;
	r->file = v->fd == memfd || v->fd == memfd_dup;
	if (v->fd >= 0 && !r->file)
		return false;	/* a closed fd: fstat fails */
	return r->size != 0 && ((r->gpa | r->size | r->fd_off) % PG) == 0 &&
		r->gpa + r->size >= r->gpa && r->fd_off + r->size >= r->fd_off &&
		r->hva != 0 && r->hva + r->size >= r->hva;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rte_vhost_memory *mem;
	struct in_region in[MAX_IN];
	struct vhb_guest_mem gm;
	uint32_t n, i, j;
	bool valid = true;
	struct fz f;
	int rc;

	fz_quiet_logs();
	if (memfd < 0) {
		memfd = memfd_create("vhb-fuzz-mem-table", MFD_CLOEXEC);
		memfd_dup = dup(memfd);
		if (memfd < 0 || memfd_dup < 0 || ftruncate(memfd, 1 << 20) != 0)
			abort();
		fprintf(stderr, "fuzz-mem-table: guest memory backing: memfd 4 KiB (never mapped)\n");
	}
	fz_init(&f, data, size);
	n = fz_u8(&f) % MAX_IN;
	mem = calloc(1, sizeof(*mem) + n * sizeof(mem->regions[0]));
	if (mem == NULL)
		abort();
	mem->nregions = n;
	for (i = 0; i < n; i++) {
		struct rte_vhost_mem_region *v = &mem->regions[i];
		uint8_t m = fz_u8(&f);
		uint64_t map = FAKE_BASE + ((uint64_t)fz_u16(&f) << 21);

		/* Mostly page-granular and plausible; raw values when a bit says so. */
		v->guest_phys_addr = (m & 1) ? fz_u64(&f) : (uint64_t)fz_u16(&f) << 20;
		v->size = (m & 2) ? fz_u64(&f) : (uint64_t)fz_u16(&f) << 12;
		v->mmap_addr = (void *)(uintptr_t)map;
		v->mmap_size = (m & 4) ? fz_u64(&f) : v->size + ((uint64_t)fz_u8(&f) << 12);
		v->host_user_addr = (m & 8) ? fz_u64(&f) : map + ((uint64_t)fz_u8(&f) << 12);
		v->guest_user_addr = v->host_user_addr;
		switch ((m >> 4) & 3) {
		case 0:
			v->fd = -1;
			break;
		case 1:
			v->fd = memfd;
			break;
		case 2:
			v->fd = memfd_dup;
			break;
		default:
			v->fd = 1000 + (m >> 6);	/* not open */
			break;
		}
		if (!region_valid(v, &in[i]))
			valid = false;
	}
	if (n > VHB_MAX_MEM_REGIONS)
		valid = false;
	for (i = 0; valid && i < n; i++)
		for (j = i + 1; j < n; j++)
			if (overlap(in[i].gpa, in[i].size, in[j].gpa, in[j].size))
				valid = false;

	memset(&gm, 0x5a, sizeof(gm));
	rc = vhb_guest_mem_from_vhost(&gm, mem);
	FZ_CHECK(valid ? rc == 0 : rc < 0, "table of %u regions: rc %d, model says %s", n, rc,
		 valid ? "valid" : "invalid");
	if (rc != 0) {
		FZ_CHECK(gm.nregions == 0, "refused map keeps %u regions", gm.nregions);
	} else {
		FZ_CHECK(gm.nregions == n, "%u regions of %u", gm.nregions, n);
		for (i = 0; i < n; i++) {
			const struct vhb_mem_region *r = &gm.regions[i];
			bool found = false, alias = false;

			FZ_CHECK(i == 0 || gm.regions[i - 1].gpa < r->gpa, "regions not sorted");
			for (j = 0; j < n; j++) {
				if (in[j].gpa != r->gpa)
					continue;
				found = true;
				FZ_CHECK(in[j].size == r->size && in[j].hva == (uintptr_t)r->hva &&
					 in[j].fd_off == r->fd_offset && in[j].fd == r->fd &&
					 r->page_shift == 12, "region at gpa 0x%llx differs",
					 (unsigned long long)r->gpa);
			}
			FZ_CHECK(found, "region at gpa 0x%llx not in the table",
				 (unsigned long long)r->gpa);
			for (j = 0; j < n; j++) {
				const struct vhb_mem_region *o = &gm.regions[j];
				bool same_file = r->fd >= 0 && o->fd >= 0;

				if (j == i)
					continue;
				if (overlap((uintptr_t)r->hva, r->size, (uintptr_t)o->hva, o->size) ||
				    (same_file && overlap(r->fd_offset, r->size, o->fd_offset, o->size)))
					alias = true;
			}
			FZ_CHECK(r->no_release == alias, "region at gpa 0x%llx: no_release %u, "
				 "aliased %d", (unsigned long long)r->gpa, r->no_release, alias);
		}
	}

	/* Lookups, against a linear search of the accepted regions. */
	for (i = 0; i < MAX_LOOKUPS && !fz_done(&f); i++) {
		uint8_t m = fz_u8(&f);
		uint64_t gpa, len;
		const struct vhb_mem_region *hit = NULL;
		uint8_t *want = NULL, *got;
		int ri;

		if (rc == 0 && n > 0 && (m & 1) == 0) {
			const struct vhb_mem_region *r = &gm.regions[fz_u8(&f) % n];

			gpa = r->gpa + fz_u64(&f) % (r->size + 2 * PG) - PG;
		} else {
			gpa = fz_u64(&f);
		}
		len = (m & 2) ? fz_u64(&f) : fz_u16(&f);
		for (j = 0; rc == 0 && j < n; j++)
			if (gpa >= gm.regions[j].gpa && gpa - gm.regions[j].gpa < gm.regions[j].size)
				hit = &gm.regions[j];
		ri = vhb_guest_mem_region_of(&gm, gpa);
		FZ_CHECK(hit == NULL ? ri == -1 : ri == (int)(hit - gm.regions), "region_of(0x%llx)",
			 (unsigned long long)gpa);
		if (hit != NULL && len > 0 && len <= hit->size - (gpa - hit->gpa))
			want = hit->hva + (gpa - hit->gpa);
		got = vhb_guest_mem_ptr(rc == 0 ? &gm : NULL, gpa, len);
		if (rc != 0)
			FZ_CHECK(got == NULL, "ptr without a map");
		else
			FZ_CHECK(got == want, "ptr(0x%llx, 0x%llx)", (unsigned long long)gpa,
				 (unsigned long long)len);
	}
	free(mem);
	return 0;
}

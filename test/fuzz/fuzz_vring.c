/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz harness: the split-ring parser (vhb_vring.h), device side, against a
 * driver that writes anything.
 *
 * The input is a header (ring size, start indexes, direction, one or two guest
 * memory regions) and then a program of driver and device steps: write a
 * descriptor, post a head, move avail->idx anywhere, pop, push, publish. The
 * descriptor table, both rings and every region are separate exact-size heap
 * blocks, so ASan reports any access outside them.
 *
 * Checked on every pop, for any input: the result agrees with a reference walk
 * of the chain written from the header's contract (0 exactly when every rule
 * holds, -EAGAIN exactly when nothing is available, -EPROTO otherwise); a
 * returned chain is the one in the table, at most min(size, VHB_MAX_CHAIN_LEN)
 * long, and each translated segment lies wholly inside one region at the right
 * host address; -EPROTO leaves the slot unconsumed and is returned again; the
 * harness then stops popping, as the device does (the ring is never used again).
 * A chain that loops can only end by the length bound: a hang is a libFuzzer
 * timeout.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vhb_guest_mem.h"
#include "vhb_vring.h"

#include "fuzz_common.h"

#define MAX_OPS		4096
#define MAX_DRAIN	300

struct ring_env {
	struct vhb_guest_mem gm;
	struct vhb_mem_region reg[2];
	uint32_t nreg;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint32_t size;
	enum vhb_vring_dir dir;
	bool translate;
};

static volatile uint8_t sink;
static bool said;

/* The region wholly holding [gpa, gpa + len), or -1. */
static int
ref_region(const struct ring_env *e, uint64_t gpa, uint64_t len)
{
	uint32_t i;

	for (i = 0; i < e->nreg; i++) {
		const struct vhb_mem_region *r = &e->reg[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return (int)i;
	}
	return -1;
}

/*
 * The header's rules, applied to the chain at slot `slot`: true if the chain is
 * acceptable; then *nseg is its length.
 */
static bool
ref_walk(const struct ring_env *e, uint16_t slot, uint32_t *nseg)
{
	uint32_t max = e->size < VHB_MAX_CHAIN_LEN ? e->size : VHB_MAX_CHAIN_LEN;
	uint16_t idx = e->avail->ring[slot & (e->size - 1)];
	uint32_t n = 0;

	if (idx >= e->size)
		return false;
	for (;;) {
		const struct vring_desc *d = &e->desc[idx];

		if (n >= max)
			return false;
		if (d->flags & VRING_DESC_F_INDIRECT)
			return false;
		if (((d->flags & VRING_DESC_F_WRITE) != 0) != (e->dir == VHB_VRING_DEV_WRITES))
			return false;
		if (d->len == 0 || d->addr + d->len < d->addr)
			return false;
		if (e->translate && ref_region(e, d->addr, d->len) < 0)
			return false;
		n++;
		if ((d->flags & VRING_DESC_F_NEXT) == 0)
			break;
		idx = d->next;
		if (idx >= e->size)
			return false;
	}
	*nseg = n;
	return true;
}

static void
check_chain(const struct ring_env *e, uint16_t slot, const struct vhb_vring_chain *ch,
	    uint32_t ref_nseg)
{
	uint32_t max = e->size < VHB_MAX_CHAIN_LEN ? e->size : VHB_MAX_CHAIN_LEN;
	uint16_t idx = e->avail->ring[slot & (e->size - 1)];
	uint64_t total = 0;
	uint32_t k;

	FZ_CHECK(ch->head == idx && ch->head < e->size, "head %u, ring says %u", ch->head, idx);
	FZ_CHECK(ch->nseg >= 1 && ch->nseg <= max && ch->nseg == ref_nseg,
		 "nseg %u (max %u, reference %u)", ch->nseg, max, ref_nseg);
	for (k = 0; k < ch->nseg; k++) {
		const struct vring_desc *d = &e->desc[idx];
		const struct vhb_vring_seg *s = &ch->seg[k];

		FZ_CHECK(s->gpa == d->addr && s->len == d->len && s->len > 0,
			 "segment %u is not descriptor %u", k, idx);
		if (e->translate) {
			int ri = ref_region(e, s->gpa, s->len);
			const struct vhb_mem_region *r;

			FZ_CHECK(ri >= 0, "segment %u gpa 0x%llx len %u outside every region", k,
				 (unsigned long long)s->gpa, s->len);
			r = &e->reg[ri];
			FZ_CHECK(s->ptr == r->hva + (s->gpa - r->gpa), "segment %u host address", k);
			/* Inside the region's heap block: ASan would see anything else. */
			sink ^= ((const uint8_t *)s->ptr)[0] ^ ((const uint8_t *)s->ptr)[s->len - 1];
		} else {
			FZ_CHECK(s->ptr == NULL, "untranslated segment %u has a pointer", k);
		}
		total += s->len;
		if (k + 1 < ch->nseg) {
			FZ_CHECK(d->flags & VRING_DESC_F_NEXT, "segment %u has no NEXT", k);
			idx = d->next;
		} else {
			FZ_CHECK((d->flags & VRING_DESC_F_NEXT) == 0, "chain cut short");
		}
	}
	FZ_CHECK(ch->total_len == total, "total_len");
}

/* One pop, checked. Returns false once the ring is broken (-EPROTO). */
static bool
do_pop(struct ring_env *e, struct vhb_vring *vr)
{
	struct vhb_vring_chain ch;
	uint16_t la = vr->last_avail;
	uint16_t n = (uint16_t)(e->avail->idx - la);
	uint32_t ref_nseg = 0;
	bool ref_ok = false;
	int rc;

	if (n != 0 && n <= e->size)
		ref_ok = ref_walk(e, la, &ref_nseg);
	rc = vhb_vring_pop(vr, e->translate ? &e->gm : NULL, e->dir, &ch);
	if (n == 0) {
		FZ_CHECK(rc == -EAGAIN, "nothing available but pop returned %d", rc);
		return true;
	}
	if (n > e->size || !ref_ok) {
		FZ_CHECK(rc == -EPROTO, "hostile ring accepted (avail moved %u, size %u, rc %d)", n,
			 e->size, rc);
		FZ_CHECK(vr->error != NULL, "-EPROTO without a reason");
		FZ_CHECK(vr->last_avail == la, "refused slot consumed");
		rc = vhb_vring_pop(vr, e->translate ? &e->gm : NULL, e->dir, &ch);
		FZ_CHECK(rc == -EPROTO, "broken ring served again (rc %d)", rc);
		return false;
	}
	FZ_CHECK(rc == 0, "valid chain refused (rc %d: %s)", rc,
		 vr->error != NULL ? vr->error : "?");
	FZ_CHECK(vr->last_avail == (uint16_t)(la + 1), "last_avail moved by other than one");
	check_chain(e, la, &ch, ref_nseg);
	return true;
}

static void
write_desc(struct ring_env *e, struct fz *f)
{
	uint8_t m = fz_u8(f);
	struct vring_desc *d = &e->desc[fz_u16(f) & (e->size - 1)];

	/* Mostly near a region, so chains get translated; sometimes any address. */
	d->addr = (m & 1) ? fz_u64(f) : e->reg[(m >> 1) & (e->nreg - 1)].gpa + fz_u16(f);
	d->len = (m & 4) ? fz_u32(f) : fz_u16(f);
	d->flags = (m & 8) ? fz_u16(f) : (uint16_t)(fz_u8(f) & 7);
	d->next = (m & 16) ? fz_u16(f) : (uint16_t)(fz_u8(f) & (e->size - 1));
}

static void
run(struct ring_env *e, struct vhb_vring *vr, struct fz *f)
{
	uint16_t model_used = vr->last_used;
	bool broken = false;
	unsigned int ops, i;
	int n;

	for (ops = 0; ops < MAX_OPS && !fz_done(f); ops++) {
		switch (fz_u8(f) % 9) {
		case 0:
			write_desc(e, f);
			break;
		case 1:	/* the driver posts a head */
			e->avail->ring[e->avail->idx & (e->size - 1)] = fz_u16(f);
			e->avail->idx++;
			break;
		case 2:	/* the driver moves avail->idx anywhere */
			e->avail->idx = fz_u16(f);
			break;
		case 3:	/* the driver rewrites any slot */
			i = fz_u16(f);
			e->avail->ring[i & (e->size - 1)] = fz_u16(f);
			break;
		case 4:
			if (!broken)
				broken = !do_pop(e, vr);
			break;
		case 5: {
			uint16_t head = fz_u16(f);
			uint32_t len = fz_u32(f);
			const struct vring_used_elem *u;

			vhb_vring_push(vr, head, len);
			u = &e->used->ring[model_used & (e->size - 1)];
			FZ_CHECK(u->id == head && u->len == len, "used element not written");
			model_used++;
			FZ_CHECK(vr->last_used == model_used, "last_used");
			break;
		}
		case 6: {
			bool pending = vr->published != vr->last_used;

			FZ_CHECK(vhb_vring_publish(vr) == pending, "publish result");
			FZ_CHECK(e->used->idx == vr->last_used || !pending, "used->idx not stored");
			break;
		}
		case 7:
			n = vhb_vring_avail_count(vr);
			i = (uint16_t)(e->avail->idx - vr->last_avail);
			FZ_CHECK(i > e->size ? n == -EPROTO : n == (int)i, "avail_count %d for %u",
				 n, i);
			break;
		case 8:
			e->avail->flags = fz_u16(f);
			vhb_vring_set_no_notify(vr, fz_u8(f) & 1);
			FZ_CHECK(vhb_vring_no_interrupt(vr) ==
				 ((e->avail->flags & VRING_AVAIL_F_NO_INTERRUPT) != 0), "no_interrupt");
			break;
		}
	}
	/* The device drains what is left, as its poll loop would. */
	for (i = 0; i < MAX_DRAIN && !broken; i++) {
		if (vr->last_avail == e->avail->idx) {
			FZ_CHECK(do_pop(e, vr), "empty ring broke");
			break;
		}
		broken = !do_pop(e, vr);
	}
}

static bool
overlap(const struct vhb_mem_region *a, const struct vhb_mem_region *b)
{
	return a->gpa < b->gpa + b->size && b->gpa < a->gpa + a->size;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ring_env e;
	struct vhb_vring vr;
	struct fz f;
	uint8_t flags, sel;
	uint16_t la, lu;
	uint32_t i;
	int rc;

	fz_quiet_logs();
	if (!said) {
		said = true;
		fprintf(stderr, "fuzz-vring: guest memory backing: heap blocks (malloc), no file\n");
	}
	fz_init(&f, data, size);
	memset(&e, 0, sizeof(e));
	flags = fz_u8(&f);
	sel = fz_u8(&f);
	la = fz_u16(&f);
	lu = fz_u16(&f);
	e.dir = (flags & 2) ? VHB_VRING_DEV_WRITES : VHB_VRING_DEV_READS;
	e.translate = (flags & 4) == 0;
	e.nreg = (flags & 1) ? 2 : 1;
	for (i = 0; i < 2; i++) {
		e.reg[i].gpa = (uint64_t)fz_u16(&f) << 12;
		e.reg[i].size = ((uint64_t)(fz_u8(&f) % 16) + 1) << 12;
		e.reg[i].fd = -1;
		e.reg[i].page_shift = 12;
	}
	if (e.nreg == 2 && overlap(&e.reg[0], &e.reg[1])) {
		e.reg[1].hva = (uint8_t *)(uintptr_t)4096;	/* never touched */
		e.reg[0].hva = e.reg[1].hva;
		FZ_CHECK(vhb_guest_mem_init(&e.gm, e.reg, 2) == -EINVAL, "overlap accepted");
		e.nreg = 1;
	}
	for (i = 0; i < e.nreg; i++) {
		e.reg[i].hva = malloc(e.reg[i].size);
		if (e.reg[i].hva == NULL)
			abort();
		memset(e.reg[i].hva, 0xa5, e.reg[i].size);
	}
	FZ_CHECK(vhb_guest_mem_init(&e.gm, e.reg, e.nreg) == 0, "valid regions refused");

	/* Ring size: a power of 2 up to 32768, or (top bit) any small value. */
	e.size = (sel & 0x80) ? (uint32_t)(sel & 0x7f) : 1u << (sel % 16);
	e.desc = calloc(e.size ? e.size : 1, sizeof(*e.desc));
	e.avail = calloc(1, sizeof(*e.avail) + (e.size + 1) * sizeof(uint16_t));
	e.used = calloc(1, sizeof(*e.used) + e.size * sizeof(struct vring_used_elem) + 2);
	if (e.desc == NULL || e.avail == NULL || e.used == NULL)
		abort();
	e.avail->idx = la;
	e.used->idx = lu;
	rc = vhb_vring_init(&vr, e.desc, e.avail, e.used, e.size, la, lu);
	if (e.size == 0 || (e.size & (e.size - 1)) != 0) {
		FZ_CHECK(rc == -EINVAL, "ring size %u accepted", e.size);
	} else {
		FZ_CHECK(rc == 0, "ring size %u refused", e.size);
		run(&e, &vr, &f);
	}
	free(e.desc);
	free(e.avail);
	free(e.used);
	for (i = 0; i < e.nreg; i++)
		free(e.reg[i].hva);
	return 0;
}

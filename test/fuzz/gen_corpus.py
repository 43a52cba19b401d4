#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of the fuzz harnesses (test/fuzz/corpus/<harness>/seed-*).

Run from anywhere: python3 test/fuzz/gen_corpus.py. The input formats are the
ones the harnesses read (see the header comment and the fz_* reads of each
fuzz_*.c): meaningful inputs (Linux-like inflate/deflate requests, reporting
chains, 10-entry stats buffers, QEMU-like config accesses) and hostile ones
(loops, huge index jumps, wrapping ranges). Files from libFuzzer runs
(minimised with -merge=1) sit beside the seeds under other names; this script
rewrites only seed-* files.
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def u8(v):
    return struct.pack('<B', v & 0xff)


def u16(v):
    return struct.pack('<H', v & 0xffff)


def u32(v):
    return struct.pack('<I', v & 0xffffffff)


def u64(v):
    return struct.pack('<Q', v & 0xffffffffffffffff)


def write(harness, name, data):
    d = os.path.join(HERE, 'corpus', harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'seed-' + name), 'wb') as f:
        f.write(data)


# ---------------------------------------------------------------- fuzz-vring
VR_WRITES, VR_NOXLATE, VR_TWO = 2, 4, 1
NEXT, WRITE, INDIRECT = 1, 2, 4


def vr_header(flags, size_log2=7, la=0, lu=0, r0=(0x100, 16), r1=(0x200, 16), raw_size=None):
    sel = (0x80 | raw_size) if raw_size is not None else size_log2
    return (u8(flags) + u8(sel) + u16(la) + u16(lu) + u16(r0[0]) + u8(r0[1] - 1) +
            u16(r1[0]) + u8(r1[1] - 1))


def vr_desc(idx, off, length, flags, nxt, region=0, raw_addr=None, raw_len=False):
    m = (region << 1)
    if raw_addr is not None:
        m |= 1
    if raw_len:
        m |= 4
    m |= 8 | 16    # flags and next as u16
    out = u8(0) + u8(m) + u16(idx)
    out += u64(raw_addr) if raw_addr is not None else u16(off)
    out += u32(length) if raw_len else u16(length)
    return out + u16(flags) + u16(nxt)


def vr_post(head):
    return u8(1) + u16(head)


POP, PUBLISH, COUNT = u8(4), u8(6), u8(7)


def vr_push(head, length=0):
    return u8(5) + u16(head) + u32(length)


def gen_vring():
    h = 'fuzz-vring'
    # Linux inflate/deflate: one 1024-byte read-only descriptor per request, one in flight.
    p = vr_header(0)
    for i in range(8):
        p += vr_desc(i, 0x400 * (i % 16), 1024, 0, 0) + vr_post(i) + COUNT + POP
        p += vr_push(i) + PUBLISH
    write(h, 'linux-inflate', p)
    # Same with the indexes about to wrap.
    p = vr_header(0, la=0xfff8, lu=0xfff8)
    for i in range(16):
        p += vr_desc(i % 128, 0x400 * (i % 16), 1024, 0, 0) + vr_post(i % 128) + POP
        p += vr_push(i % 128) + PUBLISH
    write(h, 'linux-inflate-wrap', p)
    # Stats: one 100-byte read-only buffer, held, then returned.
    p = vr_header(0)
    p += vr_desc(0, 0x800, 100, 0, 0) + vr_post(0) + POP + POP + vr_push(0) + PUBLISH
    write(h, 'stats', p)
    # Free page reporting: 32 device-writable 4 MiB entries, no translation (as the device).
    p = vr_header(VR_WRITES | VR_NOXLATE, size_log2=5)
    for i in range(32):
        flags = WRITE | (NEXT if i < 31 else 0)
        p += vr_desc(i, 0, 4 << 20, flags, i + 1, raw_addr=(i + 1) << 22, raw_len=True)
    p += vr_post(0) + POP + vr_push(0) + PUBLISH
    write(h, 'report-chain32', p)
    # Reporting chain with translation over two regions.
    p = vr_header(VR_WRITES | VR_TWO, size_log2=6)
    for i in range(8):
        flags = WRITE | (NEXT if i < 7 else 0)
        p += vr_desc(i, 0x1000 * i, 4096, flags, i + 1, region=i & 1)
    p += vr_post(0) + POP + vr_push(0, 0) + PUBLISH
    write(h, 'report-two-regions', p)
    # Hostile: a two-descriptor loop.
    p = vr_header(0) + vr_desc(0, 0, 16, NEXT, 1) + vr_desc(1, 16, 16, NEXT, 0) + vr_post(0) + POP
    write(h, 'loop', p)
    # Hostile: a self loop in a ring of 1.
    p = vr_header(0, size_log2=0) + vr_desc(0, 0, 16, NEXT, 0) + vr_post(0) + POP
    write(h, 'loop-self', p)
    # Hostile: a chain of 65 in a ring of 256 (over VHB_MAX_CHAIN_LEN).
    p = vr_header(0, size_log2=8)
    for i in range(65):
        p += vr_desc(i, 64 * (i % 64), 64, NEXT if i < 64 else 0, i + 1)
    p += vr_post(0) + POP
    write(h, 'chain65', p)
    # A chain of exactly 64: accepted.
    p = vr_header(0, size_log2=8)
    for i in range(64):
        p += vr_desc(i, 64 * i, 64, NEXT if i < 63 else 0, i + 1)
    p += vr_post(0) + POP + vr_push(0) + PUBLISH
    write(h, 'chain64', p)
    # Hostile: avail->idx jumps by 1000 and by 0x8000.
    p = vr_header(0) + vr_desc(0, 0, 16, 0, 0) + u8(2) + u16(1000) + COUNT + POP
    write(h, 'idx-jump', p)
    p = vr_header(0, la=0x10) + u8(2) + u16(0x8010) + POP
    write(h, 'idx-jump-half', p)
    # Hostile: head and next beyond the ring; indirect; wrong direction; zero length.
    write(h, 'head-oob', vr_header(0) + vr_post(200) + POP)
    write(h, 'next-oob', vr_header(0) + vr_desc(0, 0, 16, NEXT, 300) + vr_post(0) + POP)
    write(h, 'indirect', vr_header(0) + vr_desc(0, 0, 16, INDIRECT, 0) + vr_post(0) + POP)
    write(h, 'wrong-dir', vr_header(0) + vr_desc(0, 0, 16, WRITE, 0) + vr_post(0) + POP)
    write(h, 'zero-len', vr_header(0) + vr_desc(0, 0, 0, 0, 0) + vr_post(0) + POP)
    # Hostile: address wrap and a buffer past the region end, and across two adjacent regions.
    write(h, 'addr-wrap', vr_header(0) + vr_desc(0, 0, 0x2000, 0, 0, raw_addr=0xfffffffffffff000,
                                                  raw_len=True) + vr_post(0) + POP)
    write(h, 'past-end', vr_header(0) + vr_desc(0, 0xf000, 0x2000, 0, 0) + vr_post(0) + POP)
    p = vr_header(VR_TWO, r0=(0x100, 16), r1=(0x110, 16))
    p += vr_desc(0, 0xf800, 0x1000, 0, 0) + vr_post(0) + POP
    write(h, 'across-regions', p)
    # Overlapping regions (refused) and odd ring sizes (refused).
    write(h, 'regions-overlap', vr_header(VR_TWO, r0=(0x100, 16), r1=(0x108, 4)) +
          vr_desc(0, 0, 16, 0, 0) + vr_post(0) + POP)
    write(h, 'size-3', vr_header(0, raw_size=3))
    write(h, 'size-0', vr_header(0, raw_size=0))
    write(h, 'size-32768', vr_header(0, size_log2=15) + vr_desc(32767, 0, 8, 0, 0) +
          vr_post(32767) + POP + vr_push(32767) + PUBLISH)
    # The guest rewrites the slot between posts; flags and no-notify.
    p = vr_header(0) + vr_desc(0, 0, 16, 0, 0) + vr_post(0) + u8(3) + u16(0) + u16(90) + POP
    write(h, 'slot-rewrite', p)
    write(h, 'flags', vr_header(0) + u8(8) + u16(1) + u8(1) + u8(8) + u16(0) + u8(0))


# ---------------------------------------------------------------- fuzz-pages
def pg_header(segs, mode=0, high=False):
    """segs: (gpa_pg, file_pg, npg, shift_idx, fd_neg, absent); high: gpa pages from 2^32 - 8704"""
    out = u8((len(segs) - 1) | (mode << 2) | (0x80 if high else 0))
    for gpa_pg, file_pg, npg, sh, fdneg, absent in segs:
        sel = sh | (0x80 if fdneg else 0) | (0x40 if absent else 0)
        out += u16(gpa_pg) + u16(file_pg) + u16(npg - 1) + u8(sel)
    return out


SH4K, SH8K, SH16K, SH64K, SH2M = 0, 1, 2, 3, 4


def pg_seg_run(op, seg, off, length, desc=False, dup=False):
    sub = 3 | (4 if desc else 0) | (8 if dup else 0)
    return u8(op) + u8(sub) + u8(seg) + u16(off) + u16(length - 1)


def inflate_run(seg, off, length, desc=True, dup=False):
    return pg_seg_run(0, seg, off, length, desc, dup)


def deflate_run(seg, off, length, desc=False):
    return pg_seg_run(2, seg, off, length, desc)


def pg_list(op, pfns, raw=False):
    out = u8(op) + u8(1 if raw else 0) + u8(len(pfns) - 1)
    for p in pfns:
        out += u32(p) if raw else u16(p)
    return out


def pg_anyrun(op, start, n, desc=False):
    return u8(op) + u8(2 | (4 if desc else 0)) + u32(start) + u16(n - 1)


def report(ranges):
    """ranges: (gpa, len) in bytes; raw encodings when not page-aligned small values."""
    out = u8(3) + u8(len(ranges) - 1)
    for gpa, ln in ranges:
        m = 0
        enc = b''
        if gpa % 4096 == 0 and gpa >> 12 < 17408:
            enc += u16(gpa >> 12)
        else:
            m |= 1
            enc += u64(gpa)
        if ln % 4096 == 0 and ln >> 12 < 2048:
            enc += u16(ln >> 12)
        else:
            m |= 4
            enc += u64(ln)
        out += u8(m) + enc
    return out


def mode(m):
    return u8(5) + u8(m)


def reset():
    return u8(4)


def remap(mask, seg=None, sh=None):
    s = 0 if seg is None else (0x80 | (sh << 2) | seg)
    # seg index is sh % nseg in the harness: pick values whose low bits name the seg.
    return u8(6) + u8(mask) + u8(s)


def gen_pages():
    h = 'fuzz-pages'
    # Linux-like on 4 KiB memory: 256-PFN descending inflates, ascending deflates.
    p = pg_header([(0x100, 0, 1024, SH4K, False, False)])
    for k in range(3):
        p += inflate_run(0, 768 - 256 * k, 256)
    for k in range(2):
        p += deflate_run(0, 256 + 256 * k, 256)
    write(h, 'linux-4k', p)
    # 2 MiB host pages (the memfd as huge pages): a frame fills over two requests.
    p = pg_header([(0x200, 0, 1024, SH2M, False, False)])
    p += inflate_run(0, 768, 256) + inflate_run(0, 512, 256)
    p += deflate_run(0, 600, 1) + inflate_run(0, 600, 1)
    p += inflate_run(0, 256, 256) + inflate_run(0, 0, 256)
    p += deflate_run(0, 0, 256)
    write(h, 'linux-2m', p)
    # One piece short of a host page: nothing of it may go.
    p = pg_header([(0x200, 0, 1024, SH2M, False, False)])
    p += inflate_run(0, 0, 511) + inflate_run(0, 513, 511) + deflate_run(0, 1000, 24)
    write(h, 'huge-one-short', p)
    p = pg_header([(0x300, 8, 64, SH64K, False, False)])
    p += inflate_run(0, 0, 15) + inflate_run(0, 17, 15) + inflate_run(0, 40, 24)
    write(h, '64k-one-short', p)
    # Skewed region (file offset not host-page aligned), 64 KiB pages, then a report.
    p = pg_header([(0x400, 3, 1000, SH64K, False, False)])
    p += inflate_run(0, 0, 1000) + deflate_run(0, 13, 40)
    p += report([((0x400 + 100) << 12, 64 << 12)])
    write(h, 'skew-64k', p)
    # Free page reporting: 2 and 4 MiB aligned blocks, unaligned and wrapping ones.
    p = pg_header([(0x200, 0, 1024, SH4K, False, False)])
    p += report([(0x200000, 2 << 20), (0x400000, 4 << 20)])
    p += report([(0x200123, 0x3000)]) + report([(0x201000, 0), (0xfffffffffffff000, 0x2000)])
    p += report([(0x3ff800, 0x2000)]) + report([(0, 0x300000)])
    p += inflate_run(0, 0, 256) + report([(0x200000, 4 << 20)]) + deflate_run(0, 0, 256)
    write(h, 'report', p)
    p = pg_header([(0x200, 0, 1024, SH2M, False, False)])
    p += report([(0x200000, 2 << 20), (0x300000, 2 << 20), (0x400000, 4 << 20)])
    write(h, 'report-2m', p)
    # Two regions aliasing one file range: nothing may be released through either.
    p = pg_header([(0x100, 0, 256, SH4K, False, False), (0x1000, 0, 256, SH4K, False, False)])
    p += inflate_run(0, 0, 256) + report([(0x100000, 1 << 20)])
    p += deflate_run(0, 0, 128) + inflate_run(1, 0, 256)
    p += remap(0b01) + inflate_run(0, 0, 256) + remap(0b11)
    write(h, 'alias', p)
    # fd -1 (madvise) regions and every release mode.
    p = pg_header([(0x100, 0, 512, SH4K, True, False), (0x300, 512, 512, SH16K, True, False)])
    p += inflate_run(0, 0, 512) + inflate_run(1, 0, 512)
    p += mode(2) + deflate_run(1, 0, 4) + inflate_run(1, 0, 4)
    p += mode(1) + deflate_run(1, 0, 8) + inflate_run(1, 0, 8) + mode(0)
    write(h, 'fd-none-modes', p)
    # Reset in the middle, then more.
    p = pg_header([(0x100, 0, 1024, SH8K, False, False)])
    p += inflate_run(0, 0, 300) + reset() + inflate_run(0, 0, 300) + deflate_run(0, 0, 10)
    write(h, 'reset', p)
    # Memory map changes: a region comes and goes; a page size changes.
    p = pg_header([(0x100, 0, 512, SH4K, False, False), (0x400, 512, 512, SH2M, False, True)])
    p += inflate_run(0, 0, 256) + remap(0b11) + inflate_run(1, 0, 512)
    p += remap(0b10) + inflate_run(1, 0, 512, dup=True) + remap(0b11, seg=0, sh=SH16K)
    p += deflate_run(0, 0, 512) + remap(0b01)
    write(h, 'remap', p)
    # Hostile PFNs: out of range, duplicates, u32 extremes, a run past 2^32, more than a batch.
    p = pg_header([(0x100, 0, 1024, SH4K, False, False)])
    p += pg_list(0, [0x100, 0x100, 0x101, 0xffff, 0, 0x4fff, 0x100])
    p += pg_list(0, [0xffffffff, 0, 0x80000000, 0x1ff, 0x1ff], raw=True)
    p += pg_anyrun(0, 0xfffffc00, 2048) + pg_anyrun(0, 0x0, 8192, desc=True)
    p += pg_anyrun(2, 0x80, 8192)
    write(h, 'hostile-pfns', p)
    # Two adjacent regions (contiguous in gpa and file): runs cross the boundary.
    p = pg_header([(0x100, 0, 300, SH4K, False, False), (0x100 + 300, 300, 700, SH16K, False, False)])
    p += inflate_run(0, 200, 400) + pg_anyrun(0, 0x100 + 250, 100, desc=True)
    p += report([((0x100 + 280) << 12, 64 << 12)]) + deflate_run(0, 250, 100)
    p += pg_list(0, [0x22a, 0x22d, 0x22b, 0x22c, 0x229, 0x22e, 0x22c])
    # More than 64 runs (sorted one by one) over the boundary.
    p += pg_list(0, [0x200 + (i * 37) % 96 for i in range(96)])
    # Sparse and scattered (radix sorted) with a run over the boundary.
    sparse = []
    for i in range(90):
        sparse.append(0x100000 + 1000 * ((i * 7) % 90))
        if i < 8:
            sparse.append(0x229 + (i * 3) % 8)
    p += pg_list(0, sparse, raw=True)
    write(h, 'adjacent', p)
    # Scattered first inflate (about 30 runs), as after boot.
    p = pg_header([(0x100, 0, 1024, SH4K, False, False)])
    p += pg_list(0, [0x100 + (i * 37) % 1024 for i in range(256)])
    write(h, 'scattered', p)
    # At the end of what a 32-bit PFN names (gpa 16 TiB): segments across and above it.
    p = pg_header([(8704 - 300, 0, 512, SH4K, False, False),
                   (8704 + 400, 512, 512, SH2M, False, False)], high=True)
    p += inflate_run(0, 0, 512) + inflate_run(1, 0, 512) + pg_anyrun(0, 0xffffff00, 512)
    p += report([(((1 << 32) - 300) << 12, 512 << 12)])
    p += report([(((1 << 32) + 400) << 12, 2 << 20)]) + deflate_run(0, 0, 512)
    write(h, 'pfn-limit', p)
    # Overlapping segment (dropped by the harness) and three segments.
    p = pg_header([(0x100, 0, 100, SH4K, False, False), (0x120, 100, 100, SH4K, False, False),
                   (0x300, 200, 600, SH64K, False, False), (0x800, 0, 1024, SH2M, False, True)])
    p += inflate_run(2, 0, 600) + remap(0b1001) + inflate_run(3, 0, 1024) + remap(0b0101)
    write(h, 'segments', p)


# ---------------------------------------------------------------- fuzz-stats-config
def stats(entries, tail=b''):
    out = u8(0)
    for tag, val in entries:
        out += u16(tag) + u64(val)
    return out + tail


def cfg_op(kind, off, size, poison=False, raw_off=False, raw_size=False, data=b'', value=None):
    op = kind | (0x10 if raw_off else 0) | (0x20 if raw_size else 0) | (0x40 if poison else 0)
    out = u8(op) + (u32(off) if raw_off else u8(off)) + (u32(size) if raw_size else u8(size))
    if kind == 1:
        out += (data + bytes(16))[:16]
    if kind == 3:
        out += u32(value)
    return out


def le32s(*v):
    return b''.join(u32(x) for x in v)


def gen_stats_config():
    h = 'fuzz-stats-config'
    linux = [0, 1, 2, 3, 8, 9, 4, 5, 6, 7]
    write(h, 'stats-linux10', stats([(t, 1000 * t + 7) for t in linux]))
    write(h, 'stats-all16', stats([(t, (1 << 63) | t) for t in range(16)]))
    write(h, 'stats-unknown', stats([(16, 1), (0xffff, 2), (4, 3), (4, 5)], tail=b'\x01\x02\x03'))
    write(h, 'stats-empty', u8(0))
    write(h, 'stats-long', stats([(t % 20, t) for t in range(110)]))
    # QEMU: GET_CONFIG of all 16 bytes, SET_CONFIG writes back all 16 with a new actual.
    p = u8(1) + cfg_op(3, 0, 0, value=256) + cfg_op(0, 0, 16)
    p += cfg_op(1, 0, 16, poison=True, data=le32s(256, 256, 0, 0))
    p += cfg_op(1, 0, 16, poison=True, data=le32s(512, 512, 0, 0xaa))
    p += cfg_op(1, 12, 4, poison=False, data=le32s(0x55)) + cfg_op(0, 12, 4)
    write(h, 'config-qemu', p)
    # Linux: byte-wise and 4-byte accesses, out-of-range and wrapping ones.
    p = u8(1)
    for off in range(0, 17):
        p += cfg_op(0, off, 1) + cfg_op(2, off, 4)
    p += cfg_op(1, 5, 2, data=b'\xff\xff') + cfg_op(0, 4, 4)
    p += cfg_op(0, 0xfffffff0, 0x20, raw_off=True, raw_size=True)
    p += cfg_op(1, 8, 0xfffffff9, raw_size=True) + cfg_op(2, 16, 0) + cfg_op(0, 0, 17)
    write(h, 'config-edges', p)


# ---------------------------------------------------------------- fuzz-mem-table
FD_NONE, FD_MEMFD, FD_DUP, FD_CLOSED = 0, 1, 2, 3


def mt_region(gpa, size, fd=FD_MEMFD, map_slot=0, extra_pages=0, hva_page=0, raw=None):
    """raw: dict of raw u64 fields (gpa, size, mmap_size, hva) instead of the page forms."""
    raw = raw or {}
    m = ((1 if 'gpa' in raw else 0) | (2 if 'size' in raw else 0) | (4 if 'mmap_size' in raw else 0)
         | (8 if 'hva' in raw else 0) | (fd << 4))
    out = u8(m) + u16(map_slot)
    out += u64(raw['gpa']) if 'gpa' in raw else u16(gpa >> 20)
    out += u64(raw['size']) if 'size' in raw else u16(size >> 12)
    out += u64(raw['mmap_size']) if 'mmap_size' in raw else u8(extra_pages)
    out += u64(raw['hva']) if 'hva' in raw else u8(hva_page)
    return out


def mt_lookup_in(region, off, length):
    return u8(0) + u8(region) + u64(off + 4096) + u16(length)


def mt_lookup_raw(gpa, length):
    return u8(3) + u64(gpa) + u64(length)


def gen_mem_table():
    h = 'fuzz-mem-table'
    look = (mt_lookup_in(0, 0, 1024) + mt_lookup_in(0, (64 << 20) - 16, 16) +
            mt_lookup_in(0, (64 << 20) - 8, 16) + mt_lookup_in(0, -4096, 8) +
            mt_lookup_raw(0xfffffffffffffff0, 0x20))
    # QEMU: one region from gpa 0 (64 MiB here), memfd, mmap offset 0.
    write(h, 'qemu-one', u8(1) + mt_region(0, 64 << 20) + look)
    # Below and above 4 GiB (two regions of one RAMBlock: file offsets differ).
    write(h, 'qemu-two', u8(2) + mt_region(0, 64 << 20, hva_page=0, extra_pages=0) +
          mt_region(4 << 30, 64 << 20, map_slot=1) + look + mt_lookup_in(1, 100, 4096))
    # The same file range under two gpas (alias) through two fds; fd -1; adjacent regions.
    write(h, 'alias-dup', u8(2) + mt_region(0, 1 << 20, fd=FD_MEMFD) +
          mt_region(1 << 30, 1 << 20, fd=FD_DUP) + look)
    write(h, 'alias-hva', u8(2) + mt_region(0, 1 << 20, fd=FD_NONE, map_slot=5) +
          mt_region(1 << 30, 1 << 20, fd=FD_NONE, map_slot=5) + look)
    write(h, 'adjacent', u8(2) + mt_region(0, 1 << 20, map_slot=1) +
          mt_region(1 << 20, 1 << 20, map_slot=2) + mt_lookup_in(0, (1 << 20) - 8, 16) + look)
    # Hostile: overlap, zero size, misaligned gpa, host address past its mapping, closed fd,
    # gpa wrap, 33 regions.
    write(h, 'overlap', u8(2) + mt_region(0, 2 << 20) + mt_region(1 << 20, 2 << 20, map_slot=3))
    write(h, 'zero-size', u8(1) + mt_region(0, 0) + look)
    write(h, 'misaligned', u8(1) + mt_region(0, 0, raw={'gpa': 0x1234, 'size': 0x10000}) + look)
    write(h, 'hva-outside', u8(1) + mt_region(0, 1 << 20, hva_page=200, extra_pages=0) + look)
    write(h, 'closed-fd', u8(1) + mt_region(0, 1 << 20, fd=FD_CLOSED) + look)
    write(h, 'gpa-wrap', u8(1) + mt_region(0, 0, raw={'gpa': 0xfffffffffff00000, 'size': 0x200000})
          + look)
    write(h, 'too-many', u8(33) + b''.join(mt_region(i << 20, 4096, map_slot=i) for i in range(33)))
    write(h, 'max-regions', u8(32) + b''.join(mt_region(i << 20, 8192, map_slot=i)
                                                for i in range(32)) + look)


# ---------------------------------------------------------------- fuzz-msg
MSG_GET, MSG_SET, MSG_TARGET, MSG_GET_INPLACE = 0, 1, 2, 3


def msg_cfg(op, off, length, data=b'', flags=0, size=None, poison=False):
    """A config message: op byte, u16 payload size, payload (offset, size, flags, bytes)."""
    payload = u32(off) + u32(length) + u32(flags) + data
    if size is not None:
        payload = (payload + bytes(max(0, size - len(payload))))[:size]
    return u8(op | (0x10 if poison else 0)) + u16(len(payload)) + payload


def msg_target(pages):
    return u8(MSG_TARGET) + u16(0) + u32(pages)


MR_FD_MEMFD, MR_FD_SHARED, MR_FD_PIPE, MR_FD_CLOSED = 0, 1, 2, 3


def msg_region(gpa, size, uaddr_mib, off, fd=MR_FD_MEMFD, file_delta_pages=0, file_size=None,
               raw=None):
    """gpa in MiB steps, size and off in 64 KiB steps unless raw (dict of raw u64 fields:
    gpa, size, uaddr, off); the memfd ends at off + size + file_delta_pages or file_size."""
    raw = raw or {}
    m = ((1 if 'gpa' in raw else 0) | (2 if 'size' in raw else 0) | (4 if 'uaddr' in raw else 0)
         | (8 if 'off' in raw else 0) | (fd << 4))
    out = u8(m)
    out += u64(raw['gpa']) if 'gpa' in raw else u16(gpa >> 20)
    out += u64(raw['size']) if 'size' in raw else u16(size >> 16)
    out += u64(raw['uaddr']) if 'uaddr' in raw else u16(uaddr_mib)
    out += u64(raw['off']) if 'off' in raw else u16(off >> 16)
    if file_size is not None:
        out += u8(0x80) + u64(file_size)
    else:
        out += u8(file_delta_pages & 0x7f)
    return out


def msg_table(regions, nregions=None, nfds=None, size_delta=0):
    n = len(regions) if nregions is None else nregions
    b0 = n if n < 16 else 0x10
    out = u8(1) + u8(b0)
    out += u8(0x80 | nfds) if nfds is not None else u8(0)
    out += u8(0x80 | -size_delta) if size_delta < 0 else u8(size_delta)
    if n >= 16:
        out += u32(n)
    return out + b''.join(regions)


def gen_msg():
    h = 'fuzz-msg'
    G = 1 << 30
    # QEMU: GET_CONFIG of all 16 bytes, SET_CONFIG writes back all 16 with a new actual.
    qemu_cfg = bytes(16)
    p = u8(0) + msg_target(256) + msg_cfg(MSG_GET, 0, 16, qemu_cfg)
    p += msg_cfg(MSG_SET, 0, 16, le32s(256, 256, 0, 0))
    p += msg_cfg(MSG_SET, 0, 16, le32s(256, 512, 0, 0xaa), poison=True)
    p += msg_cfg(MSG_GET_INPLACE, 0, 16, qemu_cfg) + msg_cfg(MSG_GET, 4, 4, bytes(4))
    write(h, 'config-qemu', p)
    # Hostile config messages: short payloads, size over 256, wrapping ranges, size beyond
    # the payload, empty.
    p = u8(0) + msg_cfg(MSG_GET, 0, 16, size=11) + msg_cfg(MSG_GET, 0, 257, bytes(257))
    p += msg_cfg(MSG_GET, 0xfffffff0, 0x20, bytes(32)) + msg_cfg(MSG_GET, 8, 9, bytes(9))
    p += msg_cfg(MSG_GET, 16, 1, bytes(1)) + msg_cfg(MSG_GET, 0, 0)
    p += msg_cfg(MSG_GET_INPLACE, 12, 4) + msg_cfg(MSG_GET_INPLACE, 0, 256, bytes(256))
    p += msg_cfg(MSG_SET, 4, 4, le32s(7), size=15) + msg_cfg(MSG_SET, 0, 0xffffffff)
    p += msg_cfg(MSG_SET, 0, 16, le32s(1, 2, 3, 4), size=27)
    p += msg_cfg(MSG_SET, 5, 2, b'\xff\xff', poison=True) + msg_cfg(MSG_SET, 12, 4, le32s(0x55))
    p += msg_cfg(MSG_SET, 0, 16, le32s(9, 9, 9, 9), size=0x3ff)
    write(h, 'config-hostile', p)
    # Memory tables: QEMU one region (2 GiB from gpa 0), two (3 GiB below the PCI hole,
    # 1 GiB from 4 GiB, one RAMBlock fd of 4 GiB).
    write(h, 'table-one', msg_table([msg_region(0, 2 * G, 0x100, 0)]))
    write(h, 'table-two-pci-hole', msg_table([
        msg_region(0, 3 * G, 0x100, 0, file_size=4 * G),
        msg_region(4 * G, 1 * G, 0x100 + 3072, 3 * G, fd=MR_FD_SHARED)]))
    write(h, 'table-two-fds', msg_table([msg_region(0, 1 * G, 0x100, 0),
                                         msg_region(4 * G, 1 * G, 0x900, 0)]))
    # Hostile tables: one page past the end of the file (the old SIGBUS), offset past the
    # end, zero size, gpa wrap, offset + size wrap on a non-regular fd, gpa and uaddr
    # overlaps, counts 0 and 9, fd count off, payload one byte short, a closed fd.
    write(h, 'table-past-eof', msg_table([msg_region(0, 1 * G, 0x100, 0, file_delta_pages=-1)]))
    write(h, 'table-offset-past-eof', msg_table([
        msg_region(0, 1 << 16, 0x100, 0, file_size=1 << 20, raw={'off': 1 << 21})]))
    write(h, 'table-zero-size', msg_table([msg_region(0, 0, 0x100, 0)]))
    write(h, 'table-gpa-wrap', msg_table([
        msg_region(0, 1 << 16, 0x100, 0, raw={'gpa': 0xffffffffffff0000})]))
    write(h, 'table-off-wrap-pipe', msg_table([
        msg_region(0, 0, 0x100, 0, fd=MR_FD_PIPE,
                   raw={'size': 0x20000, 'off': 0xffffffffffff0000})]))
    write(h, 'table-pipe', msg_table([msg_region(0, 1 * G, 0x100, 0, fd=MR_FD_PIPE)]))
    write(h, 'table-gpa-overlap', msg_table([msg_region(0, 2 * G, 0x100, 0),
                                             msg_region(1 * G, 2 * G, 0x1000, 0)]))
    write(h, 'table-uaddr-overlap', msg_table([msg_region(0, 1 * G, 0x100, 0),
                                               msg_region(4 * G, 1 * G, 0x200, 0)]))
    write(h, 'table-count-0', msg_table([], nregions=0))
    write(h, 'table-count-9', msg_table([msg_region(i * G, 1 << 20, 0x100 + 1024 * i, 0)
                                         for i in range(8)], nregions=9))
    write(h, 'table-count-raw', msg_table([msg_region(0, 1 << 20, 0x100, 0)] * 8,
                                          nregions=0x80000001))
    write(h, 'table-fds-short', msg_table([msg_region(0, 1 * G, 0x100, 0),
                                           msg_region(4 * G, 1 * G, 0x900, 0)], nfds=1))
    write(h, 'table-fds-long', msg_table([msg_region(0, 1 * G, 0x100, 0),
                                          msg_region(4 * G, 1 * G, 0x900, 0)], nfds=3))
    write(h, 'table-uaddr-wrap', msg_table([
        msg_region(0, 1 << 16, 0, 0, raw={'uaddr': 0xffffffffffff8000})]))
    write(h, 'table-payload-short', msg_table([msg_region(0, 1 * G, 0x100, 0),
                                               msg_region(4 * G, 1 * G, 0x900, 0)],
                                              size_delta=-1))
    write(h, 'table-header-short', msg_table([msg_region(0, 1 * G, 0x100, 0)], size_delta=-35))
    write(h, 'table-closed-fd', msg_table([msg_region(0, 1 * G, 0x100, 0, fd=MR_FD_CLOSED)]))
    write(h, 'table-max', msg_table([msg_region(i * G, 1 << 20, 0x100 + 1024 * i, 0)
                                     for i in range(8)], size_delta=40))


if __name__ == '__main__':
    gen_vring()
    gen_pages()
    gen_stats_config()
    gen_mem_table()
    gen_msg()

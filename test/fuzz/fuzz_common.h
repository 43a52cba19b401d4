/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the fuzz harnesses: a bounds-checked reader over the fuzz input
 * (reads past the end give zeros, so every input is a valid program), a check
 * macro that aborts with the failing condition (libFuzzer and the replay main
 * both treat an abort as a crash), and a switch for the library's logs.
 */
#ifndef VHB_FUZZ_COMMON_H
#define VHB_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_log.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant broken by the library: print where and why, then crash the run. */
#define FZ_CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant broken: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} \
} while (0)

struct fz {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static inline void
fz_init(struct fz *f, const uint8_t *data, size_t size)
{
	f->p = data;
	f->len = size;
	f->off = 0;
}

static inline int
fz_done(const struct fz *f)
{
	return f->off >= f->len;
}

static inline uint8_t
fz_u8(struct fz *f)
{
	return f->off < f->len ? f->p[f->off++] : 0;
}

static inline uint16_t
fz_u16(struct fz *f)
{
	uint16_t v = fz_u8(f);

	return (uint16_t)(v | (uint16_t)fz_u8(f) << 8);
}

static inline uint32_t
fz_u32(struct fz *f)
{
	uint32_t v = fz_u16(f);

	return v | (uint32_t)fz_u16(f) << 16;
}

static inline uint64_t
fz_u64(struct fz *f)
{
	uint64_t v = fz_u32(f);

	return v | (uint64_t)fz_u32(f) << 32;
}

/*
 * The library logs every hostile input it refuses (rate-limited); at fuzzing
 * speed that is noise. VHB_FUZZ_LOG=1 keeps the logs for a replayed crash.
 */
static inline void
fz_quiet_logs(void)
{
	static int done;
	const char *v;

	if (done)
		return;
	done = 1;
	v = getenv("VHB_FUZZ_LOG");
	if (v == NULL || v[0] != '1')
		rte_log_set_level_pattern("lib.vhb.*", RTE_LOG_EMERG);
}

#endif /* VHB_FUZZ_COMMON_H */

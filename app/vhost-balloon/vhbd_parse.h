/* SPDX-License-Identifier: BSD-3-Clause */
/* Value parsers shared by the options, the config file and the commands (no EAL). */
#ifndef VHBD_PARSE_H
#define VHBD_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost_balloon.h"

/* Room for one lcore id per bit; RTE_MAX_LCORE is 128 in Debian's DPDK. */
#define VHBD_MAX_LCORES		128

/* Decimal unsigned integer <= max, no sign, no trailing junk. 0 or -EINVAL / -ERANGE. */
int vhbd_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Octal permission bits, 0..0777 ("0660", "660"). */
int vhbd_parse_mode(const char *s, uint32_t *out);

/*
 * Size in bytes: an integer with a binary unit, K/KiB, M/MiB, G/GiB, T/TiB (any case, "B" optional
 * after the letter), or "0". A unit is required so that "512" cannot mean bytes to one reader and
 * MiB to another. The result must be a multiple of 4 KiB.
 */
int vhbd_parse_size(const char *s, uint64_t *out);

/* "stats+reporting+deflate-on-oom+page-poison+must-tell-host" or "default" -> feature bits. */
int vhbd_parse_features(const char *s, uint64_t *out, char *err, size_t errlen);

/* Feature bits -> "stats+reporting" (the same names); "none" for 0. */
void vhbd_format_features(uint64_t features, char *buf, size_t len);

/* "1,2,4-6" -> lcore ids (< VHBD_MAX_LCORES, no duplicates). Returns the count or -errno. */
int vhbd_parse_lcore_list(const char *s, unsigned int *lcores, unsigned int max);

/* "adaptive", "poll" or "interrupt" (the library's names; no library link). 0 or -EINVAL. */
int vhbd_parse_poll_mode(const char *s, enum vhb_poll_mode *mode);

/* Longest poll-lcore sleep the library accepts, in ms (one hour). */
#define VHBD_MAX_SLEEP_MS_MAX	3600000u

/*
 * A TCP listen address: "PORT", ":PORT", "HOST:PORT" or "[IPV6]:PORT" (PORT 1-65535). HOST
 * left out is 127.0.0.1: nothing listens beyond the host unless the operator names an address.
 * 0, -EINVAL or -ENAMETOOLONG (host longer than hostlen - 1).
 */
int vhbd_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port);

/* Bytes -> "1.50 GiB" style for humans. */
void vhbd_format_bytes(uint64_t bytes, char *buf, size_t len);

#endif /* VHBD_PARSE_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/* Value parsers shared by the options, the config file and the commands (no EAL). */
#include <ctype.h>
#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vhost_balloon.h"
#include "vhbd_parse.h"

int
vhbd_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
vhbd_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon, *h = "127.0.0.1";
	size_t hlen = strlen(h);
	uint64_t v;

	if (s == NULL || s[0] == '\0')
		return -EINVAL;
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (colon == NULL || colon == s + 1)
			return -EINVAL;
		h = s + 1;
		hlen = colon - h;
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (colon != NULL && colon != s) {
			h = s;
			hlen = colon - s;
			if (memchr(h, ':', hlen) != NULL)
				return -EINVAL;	/* IPv6 needs brackets */
		}
	}
	if (vhbd_parse_u64(colon != NULL ? colon + 1 : s, UINT16_MAX, &v) != 0 || v == 0)
		return -EINVAL;
	if (hlen >= hostlen)
		return -ENAMETOOLONG;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)v;
	return 0;
}

int
vhbd_parse_mode(const char *s, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (s == NULL || s[0] < '0' || s[0] > '7' || strlen(s) > 4)
		return -EINVAL;
	v = strtoul(s, &end, 8);
	if (*end != '\0' || v > 0777)
		return -EINVAL;
	*out = v;
	return 0;
}

int
vhbd_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *unit;
		unsigned int shift;
	} units[] = {
		{ "k", 10 }, { "kb", 10 }, { "kib", 10 },
		{ "m", 20 }, { "mb", 20 }, { "mib", 20 },
		{ "g", 30 }, { "gb", 30 }, { "gib", 30 },
		{ "t", 40 }, { "tb", 40 }, { "tib", 40 },
	};
	unsigned long long v;
	unsigned int i;
	char *end;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end == '\0') {
		/* A bare number is ambiguous; only zero means the same in every unit. */
		if (v != 0)
			return -EINVAL;
		*out = 0;
		return 0;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].unit) != 0)
			continue;
		if (v > (UINT64_MAX >> units[i].shift))
			return -ERANGE;
		v <<= units[i].shift;
		if (v % VHB_PFN_SIZE != 0)
			return -EINVAL;
		*out = v;
		return 0;
	}
	return -EINVAL;
}

static const struct {
	const char *name;
	unsigned int bit;
} feature_names[] = {
	{ "must-tell-host", VHB_F_MUST_TELL_HOST },
	{ "stats", VHB_F_STATS_VQ },
	{ "deflate-on-oom", VHB_F_DEFLATE_ON_OOM },
	{ "page-poison", VHB_F_PAGE_POISON },
	{ "reporting", VHB_F_REPORTING },
	/* The library's vhb_feature_name() spellings, accepted too. */
	{ "stats-vq", VHB_F_STATS_VQ },
	{ "free-page-reporting", VHB_F_REPORTING },
};

#define NFEATURES (sizeof(feature_names) / sizeof(feature_names[0]))
#define NFEATURES_SHORT 5	/* the names vhbd_format_features() prints */

int
vhbd_parse_features(const char *s, uint64_t *out, char *err, size_t errlen)
{
	uint64_t features = 0;
	const char *p = s;
	unsigned int i;
	size_t n;

	if (s == NULL || s[0] == '\0') {
		snprintf(err, errlen, "empty feature list");
		return -EINVAL;
	}
	if (strcmp(s, "default") == 0) {
		*out = VHB_FEATURES_DEFAULT;
		return 0;
	}
	while (*p != '\0') {
		n = strcspn(p, "+");
		for (i = 0; i < NFEATURES; i++) {
			if (strlen(feature_names[i].name) == n &&
					strncmp(p, feature_names[i].name, n) == 0)
				break;
		}
		if (i == NFEATURES) {
			snprintf(err, errlen, "unknown feature '%.*s' (known: must-tell-host, "
				"stats, deflate-on-oom, page-poison, reporting, or 'default')",
				(int)n, p);
			return -EINVAL;
		}
		features |= 1ULL << feature_names[i].bit;
		p += n;
		if (*p == '+') {
			p++;
			if (*p == '\0') {
				snprintf(err, errlen, "feature list ends with '+'");
				return -EINVAL;
			}
		}
	}
	*out = features;
	return 0;
}

void
vhbd_format_features(uint64_t features, char *buf, size_t len)
{
	unsigned int i;
	size_t off = 0;

	buf[0] = '\0';
	for (i = 0; i < NFEATURES_SHORT && off < len; i++) {
		if ((features & (1ULL << feature_names[i].bit)) == 0)
			continue;
		off += snprintf(buf + off, len - off, "%s%s", off != 0 ? "+" : "",
			feature_names[i].name);
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "none");
}

int
vhbd_parse_poll_mode(const char *s, enum vhb_poll_mode *mode)
{
	if (strcmp(s, "auto") == 0)
		*mode = VHB_POLL_AUTO;
	else if (strcmp(s, "adaptive") == 0)
		*mode = VHB_POLL_ADAPTIVE;
	else if (strcmp(s, "poll") == 0)
		*mode = VHB_POLL_BUSY;
	else if (strcmp(s, "interrupt") == 0)
		*mode = VHB_POLL_INTERRUPT;
	else
		return -EINVAL;
	return 0;
}

int
vhbd_parse_lcore_list(const char *s, unsigned int *lcores, unsigned int max)
{
	uint8_t seen[VHBD_MAX_LCORES] = { 0 };
	unsigned int n = 0;
	unsigned long a, b, i;
	const char *p = s;
	char *end;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	for (;;) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		a = strtoul(p, &end, 10);
		b = a;
		if (*end == '-') {
			p = end + 1;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			b = strtoul(p, &end, 10);
		}
		if (a > b || b >= VHBD_MAX_LCORES)
			return -ERANGE;
		for (i = a; i <= b; i++) {
			if (seen[i])
				return -EEXIST;
			if (n == max)
				return -E2BIG;
			seen[i] = 1;
			lcores[n++] = i;
		}
		if (*end == '\0')
			return n;
		if (*end != ',')
			return -EINVAL;
		p = end + 1;
	}
}

void
vhbd_format_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;
	double v = bytes;

	while (v >= 1024.0 && u < 4) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", bytes);
	else
		snprintf(buf, len, "%.2f %s", v, units[u]);
}

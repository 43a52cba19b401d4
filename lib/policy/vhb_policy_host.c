/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Host signals: MemTotal and MemAvailable (proc(5) meminfo, kB), and the memory pressure
 * stall information of /proc/pressure/memory ("some avg10=0.12 avg60=... total=..." and a
 * "full" line; the kernel's Documentation/accounting/psi.rst). Paths are the caller's, so a
 * test plays a host with files of its own. No EAL.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhb_policy.h"

/* "Key:   123 kB" -> bytes. */
static bool
meminfo_value(const char *line, const char *key, uint64_t *bytes)
{
	size_t n = strlen(key);
	unsigned long long kb;
	char *end;

	if (strncmp(line, key, n) != 0 || line[n] != ':')
		return false;
	errno = 0;
	kb = strtoull(line + n + 1, &end, 10);
	if (errno != 0 || end == line + n + 1 || kb > UINT64_MAX / 1024)
		return false;
	*bytes = (uint64_t)kb * 1024;
	return true;
}

/* "some avg10=1.23 ..." -> 1.23. */
static bool
psi_value(const char *line, const char *kind, double *avg10)
{
	size_t n = strlen(kind);
	const char *s;
	char *end;
	double v;

	if (strncmp(line, kind, n) != 0 || line[n] != ' ')
		return false;
	s = strstr(line, "avg10=");
	if (s == NULL)
		return false;
	v = strtod(s + 6, &end);
	if (end == s + 6 || !(v >= 0.0 && v <= 100.0))
		return false;
	*avg10 = v;
	return true;
}

int
vhb_policy_read_host(const char *meminfo_path, const char *psi_path,
	struct vhb_policy_host *h)
{
	bool total = false, avail = false, some = false, full = false;
	char line[256];
	FILE *f;
	int ret;

	memset(h, 0, sizeof(*h));
	f = fopen(meminfo_path, "r");
	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		total = total || meminfo_value(line, "MemTotal", &h->mem_total);
		avail = avail || meminfo_value(line, "MemAvailable", &h->mem_available);
	}
	ret = ferror(f) ? -EIO : 0;
	fclose(f);
	if (ret != 0)
		return ret;
	if (!total || !avail)
		return -ENODATA;
	h->meminfo_ok = true;
	if (psi_path == NULL || psi_path[0] == '\0')
		return 0;
	f = fopen(psi_path, "r");
	if (f == NULL)
		return 0;	/* no PSI (CONFIG_PSI off, psi=0): watermarks only */
	while (fgets(line, sizeof(line), f) != NULL) {
		some = some || psi_value(line, "some", &h->psi_some);
		full = full || psi_value(line, "full", &h->psi_full);
	}
	fclose(f);
	h->psi_ok = some;
	if (!full)
		h->psi_full = 0.0;
	return 0;
}

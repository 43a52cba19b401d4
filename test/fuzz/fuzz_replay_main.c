/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Regression main for builds without libFuzzer (gcc, the normal CI run): runs
 * LLVMFuzzerTestOneInput once on every file named on the command line and on
 * every regular file of every directory named, in name order. An input that
 * breaks an invariant aborts, so the meson test fails. An empty corpus is an
 * error: a replay of nothing would pass without testing anything.
 */

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;

	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto fail;
	/* An exact-size copy, so ASan sees any read past the input. */
	buf = malloc(size > 0 ? (size_t)size : 1);
	if (buf == NULL || (size > 0 && fread(buf, 1, (size_t)size, f) != (size_t)size))
		goto fail;
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)size);
	free(buf);
	return 0;
fail:
	fprintf(stderr, "replay: cannot read %s\n", path);
	free(buf);
	fclose(f);
	return -1;
}

static int
only_files(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int
main(int argc, char **argv)
{
	unsigned long n = 0;
	int i, k;

	for (i = 1; i < argc; i++) {
		struct dirent **names;
		struct stat st;
		int count;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (replay_file(argv[i]) != 0)
				return 1;
			n++;
			continue;
		}
		count = scandir(argv[i], &names, only_files, alphasort);
		if (count < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		for (k = 0; k < count; k++) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s", argv[i], names[k]->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				if (replay_file(path) != 0)
					return 1;
				n++;
			}
			free(names[k]);
		}
		free(names);
	}
	if (n == 0) {
		fprintf(stderr, "replay: no inputs\n");
		return 1;
	}
	printf("replay: %lu inputs, no invariant broken\n", n);
	return 0;
}

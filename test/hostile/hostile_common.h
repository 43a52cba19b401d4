/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the hostile tests (on top of test/functional's harness): an
 * offender and a neighbour, waits, the log capture that proves "one clear line",
 * and the process's open file descriptor count.
 */
#ifndef HOSTILE_COMMON_H
#define HOSTILE_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "func_common.h"

/* Features of every hostile-test device: all queues, no page poisoning. */
#define HOSTILE_F	((1ULL << VHB_F_MUST_TELL_HOST) | (1ULL << VHB_F_STATS_VQ) | \
			 (1ULL << VHB_F_DEFLATE_ON_OOM) | (1ULL << VHB_F_REPORTING))

struct hostile_pair {
	struct vhb_device *dev;
	struct vms_vm *vm;
	struct vms_vm_params p;
	char name[32];
	char path[160];		/* p.socket_path points here (func_socket's buffer is reused) */
};

/* Send the library's log to a file we can count lines in (call after func_start()). */
void hostile_log_capture(void);
/* Lines logged so far containing both needles (b may be NULL). */
unsigned int hostile_log_count(const char *a, const char *b);

struct vhb_device_counters hostile_counters(struct vhb_device *dev);
/* Counters once they stopped changing (after an ack the guest saw). */
struct vhb_device_counters hostile_counters_quiet(struct vhb_device *dev);
struct vhb_device_info hostile_info(struct vhb_device *dev);

/* Device + started 16 MiB memfd VM on it (vq_size 0: default). */
void hostile_pair_up(struct hostile_pair *hp, const char *name, uint16_t vq_size);
void hostile_pair_down(struct hostile_pair *hp);

/* Poll vm until the device counted at least n guest errors; false on timeout. */
bool hostile_wait_errors(struct hostile_pair *hp, uint64_t n, int timeout_ms);
/* Wait until the device is back to LISTENING (its frontend went away). */
bool hostile_wait_listening(struct vhb_device *dev, int timeout_ms);

/* The neighbour still inflates and deflates correctly and its memory is intact. */
void hostile_neighbour_check(struct hostile_pair *nb, const char *when);

/* Open file descriptors of this process. */
unsigned int hostile_fd_count(void);
/* Wait until the count is want (or stable for 100 ms; want 0: just stable); returns it. */
unsigned int hostile_fd_settled(unsigned int want, int timeout_ms);

/* Fault injections assert the offender's memory holds no corruption outside the given
 * PFN ranges (the pages the offence could legitimately hit); n may be 0. */
void hostile_verify_except(struct vms_vm *vm, const struct vms_block *allowed, unsigned int n,
			   const char *when);

/* One group of fault classes in a test executable; returns 0 on success. */
struct hostile_group {
	const char *name;
	int (*run)(void);
};

/*
 * main() of a hostile test executable: start the backend, bring up the neighbour VM nb,
 * run the group named by argv[1], then check the neighbour still works and its memory
 * is intact. Returns the exit code.
 */
int hostile_main(int argc, char **argv, const struct hostile_group *groups, unsigned int ngroups,
		 struct hostile_pair *nb);

#endif /* HOSTILE_COMMON_H */

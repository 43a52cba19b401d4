/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Functional test harness: the real backend in this process (EAL, poll loop on
 * lcore 1) and the vmsim frontend driven from the main thread over a real unix
 * socket in a temporary directory.
 */
#ifndef FUNC_COMMON_H
#define FUNC_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "vhb_test_check.h"

#include "vhost_balloon.h"
#include "vmsim.h"

#define MiB		((uint64_t)1 << 20)


/* EAL with lcore 1 polling; temp dir for sockets. */
void func_start(void);
void func_stop(void);

/* A socket path in the temp dir. */
const char *func_socket(const char *name);

/* Device with these features (0: default), stats interval, on lcore 1. */
struct vhb_device *func_device(const char *name, uint64_t features, uint32_t stats_s);

/* vmsim defaults for a device: 64 MiB memfd, num_vqs matching the offered features. */
void func_vm_params(struct vms_vm_params *p, const char *sock, uint64_t features);

/* Create, connect and start a VM; NULL + reason printed if the backing is unavailable. */
struct vms_vm *func_vm(const struct vms_vm_params *p);

/* Poll the VM until cond(arg) or timeout; returns cond's last value. */
bool func_poll_until(struct vms_vm *vm, bool (*cond)(void *arg), void *arg, int timeout_ms);

/* Set the balloon target (pages), let the guest work toward it; asserts it got there. */
void func_balloon_to(struct vhb_device *dev, struct vms_vm *vm, uint32_t pages);

/* Host bytes a complete release of the VM's balloon frees (whole host pages only). */
uint64_t func_expected_release(struct vms_vm *vm);

/* Assert the guest's memory is intact. */
void func_verify(struct vms_vm *vm, const char *when);

const char *func_backing_name(struct vms_vm *vm);

#endif /* FUNC_COMMON_H */

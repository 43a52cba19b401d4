/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy loop (docs/policy.md): a control thread that runs one pass of the lib/policy
 * engine every interval under the command lock, so that no device is destroyed mid-pass.
 * It runs on the main lcore's CPUs (EAL's affinity of the main thread), never a poll lcore.
 */
#ifndef VHBD_POLICY_H
#define VHBD_POLICY_H

#include "vhbd_daemon.h"

/* Create the engine from d->params (mode, knobs, per-VM settings) and start the thread. */
int vhbd_policy_start(struct vhbd_daemon *d);

/* Stop the thread and free the engine (safe if never started). */
void vhbd_policy_stop(struct vhbd_daemon *d);

/* Run a pass now (after "set policy"), without waiting for the interval. */
void vhbd_policy_kick(void);

#endif /* VHBD_POLICY_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How much of each VM's guest RAM is allocated on the host now (host_resident_bytes):
 * the release engine refreshes a file's figure after every request that released on
 * it; this timer refreshes every file of every device once a second, so memory the
 * guest faults in is seen too. It runs on EAL's interrupt thread (an rte_alarm),
 * never on a poll lcore: one fstat per backing file per second per device.
 */

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <rte_alarm.h>

#include "vhb_device.h"

#define VHB_RESIDENT_PERIOD_US	(1000 * 1000)

static bool g_running;	/* atomic: the timer re-arms itself while set */

uint64_t
vhb_device_host_resident(const struct vhb_device *dev)
{
	return dev->bp != NULL ? vhb_balloon_pages_host_resident(dev->bp) : 0;
}

static int
refresh_one(struct vhb_device *dev, void *arg)
{
	RTE_SET_USED(arg);
	pthread_mutex_lock(&dev->lock);
	/* Between SET_MEM_TABLE's two hooks the map's fds are closed: not then. */
	if (!dev->dying && dev->mem_valid && dev->bp != NULL)
		vhb_balloon_pages_refresh_host_resident(dev->bp);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

static void
resident_tick(void *arg)
{
	int rc;

	RTE_SET_USED(arg);
	vhb_device_foreach(refresh_one, NULL);
	if (!__atomic_load_n(&g_running, __ATOMIC_RELAXED))
		return;
	rc = rte_eal_alarm_set(VHB_RESIDENT_PERIOD_US, resident_tick, NULL);
	if (rc != 0)
		VHB_LOG(WARNING, dev, "host_resident_bytes timer stopped: %s; refreshed on "
			"release only", strerror(-rc));
}

void
vhb_resident_timer_start(void)
{
	int rc;

	__atomic_store_n(&g_running, true, __ATOMIC_RELAXED);
	rc = rte_eal_alarm_set(VHB_RESIDENT_PERIOD_US, resident_tick, NULL);
	if (rc != 0)
		VHB_LOG(WARNING, dev, "no host_resident_bytes timer: %s; refreshed on release "
			"only", strerror(-rc));
}

void
vhb_resident_timer_stop(void)
{
	__atomic_store_n(&g_running, false, __ATOMIC_RELAXED);
	/* Waits for a tick in progress; a tick that re-armed meanwhile is cancelled too. */
	rte_eal_alarm_cancel(resident_tick, (void *)-1);
}

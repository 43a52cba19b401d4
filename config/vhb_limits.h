/* SPDX-License-Identifier: BSD-3-Clause */
/* Build-time limits shared by the balloon library, the frontend and the apps. */
#ifndef VHB_LIMITS_H
#define VHB_LIMITS_H

/* Guest PFNs are always in 4 KiB units (VIRTIO_BALLOON_PFN_SHIFT). */
#define VHB_PFN_SHIFT		12
#define VHB_PFN_SIZE		(1ULL << VHB_PFN_SHIFT)

/* Linux sends at most 256 PFNs per inflate/deflate request (VIRTIO_BALLOON_ARRAY_PFNS_MAX). */
#define VHB_LINUX_PFNS_PER_REQ	256

/* Memory regions one device may have (rte_vhost 22.11 accepts 8 without mem slots). */
#define VHB_MAX_MEM_REGIONS	32

/* Most PFNs the page set handles in one internal pass; larger calls are chunked. */
#define VHB_MAX_BATCH_PFNS	4096

/* Free page reporting: Linux's PAGE_REPORTING_CAPACITY. */
#define VHB_REPORT_MAX_RANGES	32

/* Most descriptors in one chain, and most heads taken per queue per poll pass. */
#define VHB_MAX_CHAIN_LEN	64
#define VHB_BURST_HEADS		8

/*
 * Devices one process serves: rte_vhost 22.11 watches at most 1024 fds in its one
 * event thread, and each device takes two (its listening socket and its frontend's
 * connection), less one for its wake-up pipe. More VMs: a second process.
 */
#define VHB_MAX_DEVICES		511

/* Balloon config space: num_pages, actual, free_page_hint_cmd_id, poison_val. */
#define VHB_CONFIG_SIZE		16

#endif /* VHB_LIMITS_H */

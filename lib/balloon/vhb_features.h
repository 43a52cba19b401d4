/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Feature bits of the balloon device: what we offer, one helper to test a bit,
 * and the queue layout the Linux driver builds from the NEGOTIATED features
 * (inflate 0, deflate 1, then stats, free page hint and reporting, compacted).
 */
#ifndef VHB_FEATURES_H
#define VHB_FEATURES_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost_balloon.h"

/* Transport bits (virtio spec, vhost-user spec). */
#define VHB_VIRTIO_F_VERSION_1		32
#define VHB_VHOST_USER_F_PROTOCOL_FEATURES	30

/* Balloon bits this backend implements and may offer (FREE_PAGE_HINT is not). */
#define VHB_FEATURES_SUPPORTED	VHB_FEATURES_DEFAULT

/* Device-specific feature bits are 0..23 (virtio spec "Feature Bits"). */
#define VHB_DEVICE_FEATURES_MASK	((1ULL << 24) - 1)

/* Most queues the driver can set up: inflate, deflate, stats, free page hint, reporting. */
#define VHB_MAX_QUEUES	5

enum vhb_vq_role {
	VHB_VQ_NONE = 0,
	VHB_VQ_INFLATE,
	VHB_VQ_DEFLATE,
	VHB_VQ_STATS,
	VHB_VQ_FREE_PAGE_HINT,
	VHB_VQ_REPORTING,
};

static inline bool
vhb_has_feature(uint64_t features, unsigned int bit)
{
	return bit < 64 && (features & (1ULL << bit)) != 0;
}

/*
 * Balloon bits to offer for a device: the requested set (0: the default) less
 * what we do not implement (see vhb_features_unsupported()).
 */
uint64_t vhb_features_offered(uint64_t requested);

/* Requested bits that will not be offered (0 when all are supported). */
uint64_t vhb_features_unsupported(uint64_t requested);

/* Full virtio feature word for rte_vhost_driver_set_features(). */
uint64_t vhb_features_virtio(uint64_t balloon_features);

/* Queues a driver creates when every offered balloon feature is accepted (QEMU num_vqs). */
unsigned int vhb_features_num_vqs(uint64_t balloon_features);

/* Role of queue index qidx under the negotiated features; VHB_VQ_NONE if none. */
enum vhb_vq_role vhb_queue_role(uint64_t negotiated, unsigned int qidx);

/* Fill roles[0..VHB_MAX_QUEUES) and return the number of queues used. */
unsigned int vhb_queue_roles(uint64_t negotiated, enum vhb_vq_role roles[VHB_MAX_QUEUES]);

const char *vhb_queue_role_name(enum vhb_vq_role role);

#endif /* VHB_FEATURES_H */

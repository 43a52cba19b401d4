/* SPDX-License-Identifier: BSD-3-Clause */
/* Offered features, queue roles from negotiated features, names. */

#include <stddef.h>
#include <stdint.h>

#include "vhb_features.h"

uint64_t
vhb_features_offered(uint64_t requested)
{
	if (requested == 0)
		requested = VHB_FEATURES_DEFAULT;
	return requested & VHB_FEATURES_SUPPORTED;
}

uint64_t
vhb_features_unsupported(uint64_t requested)
{
	return requested & ~(uint64_t)VHB_FEATURES_SUPPORTED;
}

uint64_t
vhb_features_virtio(uint64_t balloon_features)
{
	return (balloon_features & VHB_DEVICE_FEATURES_MASK) |
		(1ULL << VHB_VIRTIO_F_VERSION_1) |
		(1ULL << VHB_VHOST_USER_F_PROTOCOL_FEATURES);
}

unsigned int
vhb_queue_roles(uint64_t negotiated, enum vhb_vq_role roles[VHB_MAX_QUEUES])
{
	unsigned int n = 0;
	unsigned int i;

	/* Linux vp_find_vqs: a queue without its feature takes no index. */
	roles[n++] = VHB_VQ_INFLATE;
	roles[n++] = VHB_VQ_DEFLATE;
	if (vhb_has_feature(negotiated, VHB_F_STATS_VQ))
		roles[n++] = VHB_VQ_STATS;
	if (vhb_has_feature(negotiated, VHB_F_FREE_PAGE_HINT))
		roles[n++] = VHB_VQ_FREE_PAGE_HINT;
	if (vhb_has_feature(negotiated, VHB_F_REPORTING))
		roles[n++] = VHB_VQ_REPORTING;
	for (i = n; i < VHB_MAX_QUEUES; i++)
		roles[i] = VHB_VQ_NONE;
	return n;
}

enum vhb_vq_role
vhb_queue_role(uint64_t negotiated, unsigned int qidx)
{
	enum vhb_vq_role roles[VHB_MAX_QUEUES];

	vhb_queue_roles(negotiated, roles);
	return qidx < VHB_MAX_QUEUES ? roles[qidx] : VHB_VQ_NONE;
}

unsigned int
vhb_features_num_vqs(uint64_t balloon_features)
{
	enum vhb_vq_role roles[VHB_MAX_QUEUES];

	return vhb_queue_roles(balloon_features, roles);
}

const char *
vhb_queue_role_name(enum vhb_vq_role role)
{
	switch (role) {
	case VHB_VQ_INFLATE:
		return "inflate";
	case VHB_VQ_DEFLATE:
		return "deflate";
	case VHB_VQ_STATS:
		return "stats";
	case VHB_VQ_FREE_PAGE_HINT:
		return "free-page-hint";
	case VHB_VQ_REPORTING:
		return "reporting";
	case VHB_VQ_NONE:
	default:
		return "none";
	}
}

const char *
vhb_feature_name(unsigned int bit)
{
	static const char *const names[] = {
		[VHB_F_MUST_TELL_HOST] = "must-tell-host",
		[VHB_F_STATS_VQ] = "stats-vq",
		[VHB_F_DEFLATE_ON_OOM] = "deflate-on-oom",
		[VHB_F_FREE_PAGE_HINT] = "free-page-hint",
		[VHB_F_PAGE_POISON] = "page-poison",
		[VHB_F_REPORTING] = "free-page-reporting",
	};

	if (bit < sizeof(names) / sizeof(names[0]) && names[bit] != NULL)
		return names[bit];
	if (bit == VHB_VIRTIO_F_VERSION_1)
		return "version-1";
	if (bit == VHB_VHOST_USER_F_PROTOCOL_FEATURES)
		return "protocol-features";
	return "unknown";
}

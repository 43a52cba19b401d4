/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Device registry and the public control API: create/destroy (rte_vhost socket
 * registration), lookup, targets, info and counters.
 */

#include <errno.h>
#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_seqlock.h>
#include <rte_vhost.h>

#include "vhb_device.h"
#include "vhb_gate.h"
#include "vhb_notify.h"

#define VU_PROTOCOL_F_REPLY_ACK	3
#define VU_PROTOCOL_F_SLAVE_REQ	5
#define VU_PROTOCOL_F_CONFIG	9

static pthread_mutex_t g_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static TAILQ_HEAD(, vhb_device) g_devices = TAILQ_HEAD_INITIALIZER(g_devices);
static unsigned int g_ndevices;	/* at most VHB_MAX_DEVICES */
/*
 * vid -> the device whose socket the connection came in on, for every open connection,
 * its frontend or not: set on new_connection, cleared on destroy_connection.
 */
static struct vhb_device *g_by_vid[RTE_MAX_VHOST_DEVICE];

struct vhb_device *
vhb_device_by_vid(int vid)
{
	if (vid < 0 || vid >= RTE_MAX_VHOST_DEVICE)
		return NULL;
	return __atomic_load_n(&g_by_vid[vid], __ATOMIC_ACQUIRE);
}

void
vhb_device_conn_add(struct vhb_device *dev, int vid)
{
	if (vid >= 0 && vid < RTE_MAX_VHOST_DEVICE)
		__atomic_store_n(&g_by_vid[vid], dev, __ATOMIC_RELEASE);
}

void
vhb_device_conn_del(int vid)
{
	if (vid >= 0 && vid < RTE_MAX_VHOST_DEVICE)
		__atomic_store_n(&g_by_vid[vid], NULL, __ATOMIC_RELEASE);
}

bool
vhb_device_is_frontend(const struct vhb_device *dev, int vid)
{
	return vid >= 0 && __atomic_load_n(&dev->vid, __ATOMIC_RELAXED) == vid;
}

void
vhb_device_bind_vid(struct vhb_device *dev, int vid)
{
	int old;

	pthread_mutex_lock(&dev->lock);
	old = __atomic_load_n(&dev->vid, __ATOMIC_RELAXED);
	if (old >= 0 && old != vid) {
		/*
		 * One device serves one frontend: the newest to claim it (a frontend that
		 * reconnects at once may claim before its old connection's EOF is seen).
		 * The old connection is forgotten entirely, so its messages and rings can
		 * never mix with the new one's memory; its next message is refused.
		 */
		VHB_LOG(WARNING, dev, "%s: new frontend (vid %d) replaces vid %d", dev->name, vid,
			old);
		vhb_device_disconnected(dev);
	}
	__atomic_store_n(&dev->vid, vid, __ATOMIC_RELAXED);
	vhb_dev_set_state(dev, VHB_DEV_CONNECTED);
	pthread_mutex_unlock(&dev->lock);
}

void
vhb_device_unbind_vid(struct vhb_device *dev)
{
	pthread_mutex_lock(&dev->lock);
	vhb_device_disconnected(dev);
	__atomic_store_n(&dev->vid, -1, __ATOMIC_RELAXED);
	vhb_dev_set_state(dev, VHB_DEV_LISTENING);
	pthread_mutex_unlock(&dev->lock);
}

uint64_t
vhb_device_mem_bytes(const struct vhb_device *dev)
{
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < dev->gm.nregions; i++)
		sum += dev->gm.regions[i].size;
	return sum;
}

static void
log_qemu_options(const struct vhb_device *dev)
{
	char feat[128] = "";
	size_t n = 0;
	unsigned int b;

	for (b = 0; b < 24; b++)
		if (vhb_has_feature(dev->features_offered, b))
			n += (size_t)snprintf(feat + n, sizeof(feat) - RTE_MIN(n, sizeof(feat)),
					      "%s%s", n ? "," : "", vhb_feature_name(b));
	VHB_LOG(INFO, dev, "%s: socket %s offers %s; QEMU: -chardev socket,id=c0,path=%s "
		"-device vhost-user-test-device-pci,chardev=c0,virtio-id=5,num_vqs=%u,"
		"config_size=%u (QEMU 10.0/10.1 without it: vhost-user-device-pci, patched "
		"user-creatable); guest RAM must be shared (memory-backend-memfd,share=on or "
		"memory-backend-file,share=on)", dev->name, dev->path, feat, dev->path,
		vhb_features_num_vqs(dev->features_offered), VHB_CONFIG_SIZE);
}

/*
 * Make the path ready for rte_vhost's bind(), or refuse it. rte_vhost 22.11 cannot
 * be left to find out: after a failed bind, rte_vhost_driver_unregister() closes
 * the socket fd a second time (possibly another VM's fd by then) and unlink()s
 * the path, whatever is there. So: the directory must exist and be writable; a
 * socket file nobody listens on (left by a process that died) is removed; a live
 * socket, a symlink or anything else at the path is refused and left alone.
 */
static int
prepare_socket_path(const struct vhb_device *dev)
{
	char dir[sizeof(dev->path)];
	struct sockaddr_un sa;
	struct stat st;
	char *slash;
	int fd, rc;

	snprintf(dir, sizeof(dir), "%s", dev->path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir ? 1 : 0] = '\0';
	if (stat(dir, &st) != 0)
		rc = -errno;
	else if (!S_ISDIR(st.st_mode))
		rc = -ENOTDIR;
	else if (access(dir, W_OK | X_OK) != 0)
		rc = -errno;
	else
		rc = 0;
	if (rc != 0) {
		VHB_LOG(ERR, dev, "%s: socket directory %s is not a writable directory (%d)",
			dev->name, dir, rc);
		return rc;
	}
	if (lstat(dev->path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		VHB_LOG(ERR, dev, "%s: %s exists and is not a socket (%s); left alone", dev->name,
			dev->path, S_ISLNK(st.st_mode) ? "a symlink" : "a file or directory");
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", dev->path);
	rc = 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		VHB_LOG(ERR, dev, "%s: socket %s is served by another process; left alone",
			dev->name, dev->path);
		rc = -EADDRINUSE;
	} else if (errno == ECONNREFUSED) {
		VHB_LOG(INFO, dev, "%s: removing stale socket %s", dev->name, dev->path);
		if (unlink(dev->path) != 0)
			rc = -errno;
	} else {
		rc = -errno;
	}
	close(fd);
	return rc;
}

static int
register_socket(struct vhb_device *dev)
{
	char vpath[sizeof(dev->vhost_path)];
	uint64_t pf = 0;
	int rc;

	rc = prepare_socket_path(dev);
	if (rc != 0)
		return rc;
	/* rte_vhost serves a private socket; the gate the public one (vhb_gate.h). */
	rc = vhb_gate_path_get(vpath, sizeof(vpath));
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&g_reg_lock);	/* vhb_device_by_vhost_path() reads it */
	memcpy(dev->vhost_path, vpath, sizeof(vpath));
	pthread_mutex_unlock(&g_reg_lock);
	if (rte_vhost_driver_register(dev->vhost_path, 0) != 0)
		return -EIO;
	dev->registered = true;
	/* Setting features also tells rte_vhost this is not its built-in net device. */
	if (rte_vhost_driver_set_features(dev->vhost_path,
					   vhb_features_virtio(dev->features_offered)) != 0)
		return -EIO;
	if (rte_vhost_driver_get_protocol_features(dev->vhost_path, &pf) != 0)
		return -EIO;
	/* CONFIG is required by QEMU when config_size > 0; SLAVE_REQ for config changes. */
	pf |= (1ULL << VU_PROTOCOL_F_CONFIG) | (1ULL << VU_PROTOCOL_F_SLAVE_REQ) |
		(1ULL << VU_PROTOCOL_F_REPLY_ACK);
	if (rte_vhost_driver_set_protocol_features(dev->vhost_path, pf) != 0)
		return -EIO;
	if (rte_vhost_driver_callback_register(dev->vhost_path, &vhb_vhost_ops) != 0)
		return -EIO;
	if (rte_vhost_driver_start(dev->vhost_path) != 0)
		return -EIO;
	rc = vhb_gate_listen(dev);
	if (rc != 0)
		return rc;
	/* The socket exists now: apply the operator's ownership and mode. */
	if (chmod(dev->path, dev->socket_mode) != 0)
		return -errno;
	if (dev->socket_gid >= 0 && chown(dev->path, (uid_t)-1, (gid_t)dev->socket_gid) != 0)
		return -errno;
	return 0;
}

struct vhb_device *
vhb_device_create(const struct vhb_device_params *params)
{
	struct vhb_device *dev, *other;
	const char *name;
	int rc;

	if (params == NULL || params->socket_path == NULL ||
	    strlen(params->socket_path) >= sizeof(dev->path) || params->socket_path[0] == '\0') {
		rte_errno = EINVAL;
		return NULL;
	}
	if (vhb_features_unsupported(params->features) != 0) {
		rte_errno = ENOTSUP;
		return NULL;
	}
	if (params->lcore_id != VHB_LCORE_ANY && !vhb_lcore_valid(params->lcore_id)) {
		rte_errno = EINVAL;
		return NULL;
	}
	name = params->name != NULL ? params->name : params->socket_path;
	dev = rte_zmalloc("vhb_device", sizeof(*dev), RTE_CACHE_LINE_SIZE);
	if (dev == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	snprintf(dev->path, sizeof(dev->path), "%s", params->socket_path);
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->features_offered = vhb_features_offered(params->features);
	dev->stats_interval_s = params->stats_interval_s;
	dev->socket_gid = params->socket_gid;
	dev->socket_mode = params->socket_mode != 0 ? params->socket_mode : 0660;
	dev->lcore_req = params->lcore_id;
	dev->vid = -1;
	dev->numa_node = -1;
	dev->lcore_idx = -1;
	dev->state = VHB_DEV_LISTENING;
	pthread_mutex_init(&dev->lock, NULL);
	rte_seqlock_init(&dev->gs_lock);

	/* In the registry before the socket exists: new_connection looks devices up. */
	pthread_mutex_lock(&g_reg_lock);
	if (g_ndevices == VHB_MAX_DEVICES) {
		pthread_mutex_unlock(&g_reg_lock);
		pthread_mutex_destroy(&dev->lock);
		rte_free(dev);
		rte_errno = ENOSPC;
		return NULL;
	}
	TAILQ_FOREACH(other, &g_devices, next) {
		if (strcmp(other->path, dev->path) == 0 || strcmp(other->name, dev->name) == 0) {
			pthread_mutex_unlock(&g_reg_lock);
			pthread_mutex_destroy(&dev->lock);
			rte_free(dev);
			rte_errno = EEXIST;
			return NULL;
		}
	}
	TAILQ_INSERT_TAIL(&g_devices, dev, next);
	g_ndevices++;
	pthread_mutex_unlock(&g_reg_lock);

	rc = register_socket(dev);
	if (rc != 0) {
		VHB_LOG(ERR, dev, "%s: cannot serve vhost-user socket %s (%d)", dev->name, dev->path,
			rc);
		vhb_device_destroy(dev);
		rte_errno = -rc;
		return NULL;
	}
	log_qemu_options(dev);
	return dev;
}

int
vhb_device_destroy(struct vhb_device *dev)
{
	unsigned int i;

	if (dev == NULL)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	dev->dying = true;
	vhb_dev_quiesce(dev);
	pthread_mutex_unlock(&dev->lock);

	/*
	 * Without dev->lock: unregister waits for a running message handler of this
	 * socket, which may want the lock. After it returns no callback runs for it.
	 */
	vhb_gate_unlisten(dev);
	if (dev->registered)
		rte_vhost_driver_unregister(dev->vhost_path);
	if (dev->vhost_path[0] != '\0')
		vhb_gate_path_put();
	if (__atomic_load_n(&dev->vid, __ATOMIC_RELAXED) >= 0)
		vhb_device_unbind_vid(dev);
	/* unregister closed the socket's connections without destroy_connection calls. */
	for (i = 0; i < RTE_MAX_VHOST_DEVICE; i++) {
		struct vhb_device *self = dev;

		__atomic_compare_exchange_n(&g_by_vid[i], &self, NULL, false, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED);
	}

	pthread_mutex_lock(&dev->lock);
	vhb_lcore_unplace(dev);
	if (dev->bp != NULL)
		vhb_balloon_pages_destroy(dev->bp);
	dev->bp = NULL;
	pthread_mutex_unlock(&dev->lock);

	pthread_mutex_lock(&g_reg_lock);
	TAILQ_REMOVE(&g_devices, dev, next);
	g_ndevices--;
	pthread_mutex_unlock(&g_reg_lock);
	pthread_mutex_destroy(&dev->lock);
	rte_free(dev);
	return 0;
}

struct vhb_device *
vhb_device_by_vhost_path(const char *path)
{
	struct vhb_device *dev;

	pthread_mutex_lock(&g_reg_lock);
	TAILQ_FOREACH(dev, &g_devices, next)
		if (dev->vhost_path[0] != '\0' && strcmp(dev->vhost_path, path) == 0)
			break;
	pthread_mutex_unlock(&g_reg_lock);
	return dev;
}

struct vhb_device *
vhb_device_find(const char *name_or_path)
{
	struct vhb_device *dev;

	if (name_or_path == NULL)
		return NULL;
	pthread_mutex_lock(&g_reg_lock);
	TAILQ_FOREACH(dev, &g_devices, next)
		if (strcmp(dev->path, name_or_path) == 0 || strcmp(dev->name, name_or_path) == 0)
			break;
	pthread_mutex_unlock(&g_reg_lock);
	return dev;
}

int
vhb_device_foreach(int (*cb)(struct vhb_device *dev, void *arg), void *arg)
{
	struct vhb_device *dev;
	int rc = 0;

	if (cb == NULL)
		return -EINVAL;
	pthread_mutex_lock(&g_reg_lock);
	TAILQ_FOREACH(dev, &g_devices, next) {
		rc = cb(dev, arg);
		if (rc != 0)
			break;
	}
	pthread_mutex_unlock(&g_reg_lock);
	return rc;
}

/* dev->lock held. Never waits for a reply: QEMU may be blocked on us (protocol.md#P-qemu-sync). */
static void
notify_config_change(struct vhb_device *dev)
{
	int vid = __atomic_load_n(&dev->vid, __ATOMIC_RELAXED);

	if (vid < 0)
		return;
	if ((dev->protocol_negotiated & (1ULL << VU_PROTOCOL_F_SLAVE_REQ)) == 0) {
		VHB_LOG(WARNING, dev, "%s: frontend has no backend channel; the guest sees the "
			"new target at its next config read", dev->name);
		return;
	}
	if (rte_vhost_slave_config_change(vid, false) != 0) {
		VHB_LOG(WARNING, dev, "%s: config-change message not sent", dev->name);
		return;
	}
	__atomic_fetch_add(&dev->ctl_cnt.config_changes_sent, 1, __ATOMIC_RELAXED);
}

int
vhb_device_set_target_pages(struct vhb_device *dev, uint32_t pages)
{
	if (dev == NULL)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	vhb_config_set(&dev->cfg.num_pages, pages);
	VHB_LOG(INFO, dev, "%s: balloon target %u pages (%" PRIu64 " MiB)", dev->name, pages,
		((uint64_t)pages << VHB_PFN_SHIFT) >> 20);
	notify_config_change(dev);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

int
vhb_device_set_guest_size(struct vhb_device *dev, uint64_t guest_bytes)
{
	uint64_t mem, pages;

	if (dev == NULL)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	mem = vhb_device_mem_bytes(dev);
	pthread_mutex_unlock(&dev->lock);
	/* The guest's size is only known once its memory table arrived. */
	if (mem == 0)
		return -EAGAIN;
	if (guest_bytes == 0)
		return -EINVAL;
	pages = guest_bytes >= mem ? 0 : (mem - guest_bytes) >> VHB_PFN_SHIFT;
	if (pages > UINT32_MAX)
		return -ERANGE;
	return vhb_device_set_target_pages(dev, (uint32_t)pages);
}

int
vhb_device_set_stats_interval(struct vhb_device *dev, uint32_t seconds)
{
	if (dev == NULL)
		return -EINVAL;
	__atomic_store_n(&dev->stats_interval_s, seconds, __ATOMIC_RELAXED);
	vhb_lcore_wake_dev(dev);	/* a sleeping lcore re-times its stats timer */
	return 0;
}

int
vhb_device_get_info(const struct vhb_device *cdev, struct vhb_device_info *info)
{
	struct vhb_device *dev = (struct vhb_device *)(uintptr_t)cdev;
	uint32_t i;

	if (dev == NULL || info == NULL)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	pthread_mutex_lock(&dev->lock);
	snprintf(info->name, sizeof(info->name), "%s", dev->name);
	snprintf(info->socket_path, sizeof(info->socket_path), "%s", dev->path);
	info->state = vhb_dev_state(dev);
	info->lcore_id = vhb_lcore_id_at(dev->lcore_idx);
	info->numa_node = dev->numa_node;
	info->features_offered = dev->features_offered;
	info->features_negotiated = dev->negotiated & VHB_DEVICE_FEATURES_MASK;
	info->guest_mem_bytes = vhb_device_mem_bytes(dev);
	info->nregions = dev->gm.nregions;
	for (i = 0; i < dev->gm.nregions; i++)
		info->backing_page_size = RTE_MAX(info->backing_page_size,
						  1ULL << dev->gm.regions[i].page_shift);
	info->host_resident_bytes = vhb_device_host_resident(dev);
	pthread_mutex_unlock(&dev->lock);
	info->num_pages = vhb_config_get(&dev->cfg.num_pages);
	info->actual = vhb_config_get(&dev->cfg.actual);
	info->poison_val = vhb_config_get(&dev->cfg.poison_val);
	info->pages_in_balloon = __atomic_load_n(&dev->pages_in_balloon, __ATOMIC_RELAXED);
	info->bytes_release_asked = __atomic_load_n(&dev->cnt.bytes_release_asked,
						    __ATOMIC_RELAXED);
	info->bytes_regained = __atomic_load_n(&dev->cnt.bytes_regained, __ATOMIC_RELAXED);
	return 0;
}

int
vhb_device_get_counters(const struct vhb_device *dev, struct vhb_device_counters *c)
{
	const uint64_t *in = (const uint64_t *)&dev->cnt;
	uint64_t *out = (uint64_t *)c;
	size_t i;

	if (dev == NULL || c == NULL)
		return -EINVAL;
	for (i = 0; i < sizeof(*c) / sizeof(uint64_t); i++)
		out[i] = __atomic_load_n(&in[i], __ATOMIC_RELAXED);
	c->get_config = __atomic_load_n(&dev->ctl_cnt.get_config, __ATOMIC_RELAXED);
	c->set_config = __atomic_load_n(&dev->ctl_cnt.set_config, __ATOMIC_RELAXED);
	c->config_changes_sent = __atomic_load_n(&dev->ctl_cnt.config_changes_sent,
						 __ATOMIC_RELAXED);
	c->guest_errors += __atomic_load_n(&dev->ctl_cnt.guest_errors, __ATOMIC_RELAXED);
	pthread_mutex_lock(&((struct vhb_device *)(uintptr_t)dev)->lock);
	c->host_resident_bytes = vhb_device_host_resident(dev);
	pthread_mutex_unlock(&((struct vhb_device *)(uintptr_t)dev)->lock);
	return 0;
}

#define COUNTER(f)	{ #f, offsetof(struct vhb_device_counters, f) }
static const struct vhb_counter_name counter_names[] = {
	COUNTER(inflate_requests), COUNTER(deflate_requests), COUNTER(report_requests),
	COUNTER(stats_updates), COUNTER(pfns_inflated), COUNTER(pfns_deflated),
	COUNTER(pfns_duplicate), COUNTER(pfns_out_of_range), COUNTER(host_pages_released),
	COUNTER(bytes_release_asked), COUNTER(bytes_regained), COUNTER(release_calls),
	COUNTER(release_errors), COUNTER(inflate_bytes_release_asked),
	COUNTER(inflate_bytes_regained), COUNTER(report_bytes_release_asked),
	COUNTER(report_bytes_regained), COUNTER(report_bytes_skipped),
	COUNTER(report_skipped_poison), COUNTER(guest_errors), COUNTER(config_changes_sent),
	COUNTER(get_config), COUNTER(set_config), COUNTER(guest_notifications),
	COUNTER(stats_bad_length), COUNTER(host_resident_bytes),
};
#undef COUNTER

/* A counter appended to the struct without a name here would be invisible to operators. */
static_assert(RTE_DIM(counter_names) * sizeof(uint64_t) == sizeof(struct vhb_device_counters),
	      "every field of struct vhb_device_counters needs a name");

const struct vhb_counter_name *
vhb_device_counter_names(unsigned int *n)
{
	if (n != NULL)
		*n = RTE_DIM(counter_names);
	return counter_names;
}

int
vhb_device_get_guest_stats(const struct vhb_device *dev, struct vhb_guest_stats *gs)
{
	uint32_t sn;

	if (dev == NULL || gs == NULL)
		return -EINVAL;
	do {
		sn = rte_seqlock_read_begin(&dev->gs_lock);
		*gs = dev->gs;
	} while (rte_seqlock_read_retry(&dev->gs_lock, sn));
	return 0;
}

const char *
vhb_device_state_name(enum vhb_device_state state)
{
	switch (state) {
	case VHB_DEV_LISTENING:
		return "listening";
	case VHB_DEV_CONNECTED:
		return "connected";
	case VHB_DEV_RUNNING:
		return "running";
	case VHB_DEV_BROKEN:
		return "broken";
	default:
		return "unknown";
	}
}

int
vhb_device_set_release_mode(struct vhb_device *dev, int mode)
{
	bool run;
	int rc = 0;

	if (dev == NULL || mode < VHB_DEVICE_RELEASE_BULK || mode > VHB_DEVICE_RELEASE_UNMEASURED)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	run = (__atomic_load_n(&dev->ctl, __ATOMIC_RELAXED) & VHB_CTL_RUN) != 0;
	vhb_dev_quiesce(dev);
	if (dev->bp != NULL) {
		vhb_balloon_pages_set_release_mode(dev->bp, mode == VHB_DEVICE_RELEASE_UNMEASURED ?
			VHB_RELEASE_BULK : (enum vhb_release_mode)mode);
		vhb_balloon_pages_set_measure(dev->bp, mode != VHB_DEVICE_RELEASE_UNMEASURED);
	} else
		rc = -EAGAIN;
	if (run)
		vhb_dev_resume(dev);
	pthread_mutex_unlock(&dev->lock);
	return rc;
}

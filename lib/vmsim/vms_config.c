/* SPDX-License-Identifier: BSD-3-Clause */
/* Guest config-space accesses as QEMU's virtio-pci + vhost-user-base forward them: every
 * 32-bit read is a GET_CONFIG of the whole config into the cache (vdev->config), every write
 * patches the cache and sends all of it with SET_CONFIG. */
#include <errno.h>
#include <string.h>

#include "vms_priv.h"

int
vms_cfg_read32(struct vms_vm *vm, uint32_t off, uint32_t *val)
{
	struct vms_msg m;
	uint32_t csize = vm->p.config_size;
	int ret;

	/* virtio_config_modern_readl(): out of range reads return all ones, no message. */
	if ((uint64_t)off + 4 > csize) {
		*val = UINT32_MAX;
		return 0;
	}
	if (!vms_has_pf(vm, VMS_PF_CONFIG))
		return -EINVAL;
	ret = vms_msg_config(&m, VMS_REQ_GET_CONFIG, VMS_MSG_VERSION, 0, csize, 0, NULL);
	if (ret < 0)
		return ret;
	ret = vms_send(vm, &m, NULL, 0);
	if (ret < 0)
		return ret;
	vm->c.config_reads++;
	ret = vms_recv_reply(vm, &m, VMS_REQ_GET_CONFIG);
	if (ret < 0)
		return ret;
	/* vhost_user_get_config(): the reply must be exactly 12 + config_len. */
	if (m.size != VMS_PL_CONFIG_HDR + csize) {
		vm->c.errors++;
		return -EPROTO;
	}
	memcpy(vm->cfg, m.payload + VMS_PL_CONFIG_HDR, csize);
	vm->cfg_read_once = true;
	*val = vms_le32_get(vm->cfg + off);
	return 0;
}

int
vms_cfg_write32(struct vms_vm *vm, uint32_t off, uint32_t val)
{
	struct vms_msg m;
	uint32_t csize = vm->p.config_size;
	int ret;

	/* virtio_config_modern_writel(): out of range writes are dropped. */
	if ((uint64_t)off + 4 > csize)
		return 0;
	if (!vms_has_pf(vm, VMS_PF_CONFIG))
		return -EINVAL;
	vms_le32_put(vm->cfg + off, val);
	ret = vms_msg_config(&m, VMS_REQ_SET_CONFIG, VMS_MSG_VERSION, 0, csize,
			0 /* VHOST_SET_CONFIG_TYPE_FRONTEND */, vm->cfg);
	if (ret < 0)
		return ret;
	if (vms_has_pf(vm, VMS_PF_REPLY_ACK))
		m.flags |= VMS_MSG_NEED_REPLY;
	ret = vms_send(vm, &m, NULL, 0);
	if (ret < 0)
		return ret;
	vm->c.config_writes++;
	return vms_ack(vm, &m);
}

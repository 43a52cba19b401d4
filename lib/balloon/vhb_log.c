/* SPDX-License-Identifier: BSD-3-Clause */
/* The library's log types; rte_log works before (and without) rte_eal_init. */

#include <rte_log.h>

#include "vhb_log.h"
#include "vhost_balloon.h"

RTE_LOG_REGISTER(vhb_logtype_mem, lib.vhb.mem, NOTICE);
RTE_LOG_REGISTER(vhb_logtype_dev, lib.vhb.dev, NOTICE);
RTE_LOG_REGISTER(vhb_logtype_ring, lib.vhb.ring, NOTICE);

void
vhb_log_defaults(void)
{
	/* A pattern, so that it also holds for rte_vhost's types registered later. */
	rte_log_set_level_pattern("lib.vhost.config", RTE_LOG_NOTICE);
}

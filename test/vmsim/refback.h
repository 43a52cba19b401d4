/* SPDX-License-Identifier: BSD-3-Clause */
/* A minimal vhost-user balloon backend for vmsim's own tests. It parses messages by raw byte
 * offsets taken from vhost-user.rst (not with vmsim's encoders), serves the rings in poll
 * mode from one thread, and records what it saw. It is not lib/balloon and shares no code
 * with it. */
#ifndef VMS_TEST_REFBACK_H
#define VMS_TEST_REFBACK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define RB_MAX_VQS	8
#define RB_MAX_REGIONS	8
#define RB_MAX_MSGS	4096

struct rb_region {
	uint64_t gpa, size, uaddr, off;
	uint8_t *map;
	uint64_t maplen;
	int fd;
};

struct rb_vq {
	uint16_t num;
	uint64_t desc, used, avail;	/* frontend addresses */
	int kick, call;
	bool enabled, addr_set;
	uint16_t last_avail;
	bool holding;			/* stats: a buffer is held */
	uint16_t held_head;
};

struct rb_msg_rec {
	uint32_t request, flags, size;
	unsigned int nfds;
	uint64_t u64;			/* first 8 payload bytes */
};

struct refback {
	char path[108];
	int lfd, cfd, slave;
	pthread_t th;
	bool running;
	volatile bool stop;
	pthread_mutex_t lock;

	/* What to offer and how to behave. */
	uint64_t features, pfeatures;
	uint32_t config_size;
	bool punch;			/* fallocate(PUNCH_HOLE) inflated pages */
	bool no_signal;			/* never write the call eventfds */
	bool no_notify;			/* set VRING_USED_F_NO_NOTIFY */
	bool bad_get_config_size;	/* reply GET_CONFIG with a wrong size */
	bool close_on_inflate;		/* close the socket when an inflate arrives (once) */
	bool blocking_config_change;	/* on GET_CONFIG, first send CONFIG_CHANGE with NEED_REPLY
					 * and wait for its reply (the D.4 deadlock) */
	volatile bool stop_reading;	/* stop reading the socket (a wedged backend) */
	bool keep_first_call;		/* ignore later SET_VRING_CALL (keeps QEMU's masked fd) */
	bool no_avail_event;		/* EVENT_IDX: never write avail_event */
	uint64_t indirect_chains;	/* chains that came through an indirect table */
	uint64_t signals, signals_skipped;
	bool corrupt_on_deflate;	/* zero a page of the previous deflate request (a release
					 * racing a deflate) */
	uint32_t corrupt_pfn;
	bool punch_reports;		/* discard reported ranges before the ack (correct) */
	bool late_report_discard;	/* discard the previous report's ranges after its ack */
	uint64_t prev_rep_gpa[32], prev_rep_len[32];
	unsigned int prev_rep_n;
	unsigned int kicks_presignalled;	/* kick fds readable when received */
	uint32_t set_config_num_pages;	/* num_pages field of the last SET_CONFIG */

	/* What happened. */
	uint64_t neg_features, neg_pf;
	struct rb_region reg[RB_MAX_REGIONS];
	unsigned int nreg;
	struct rb_vq vq[RB_MAX_VQS];
	uint8_t cfg[256];
	uint32_t actual, poison_val;
	uint64_t inflate_reqs, deflate_reqs, inflate_pfns, deflate_pfns, bad_pfns;
	uint64_t stats_bufs, report_reqs, report_bytes, set_config, get_config;
	uint32_t max_pfns_per_req;
	uint32_t last_desc_flags[RB_MAX_VQS];
	uint32_t report_max_entries;
	uint64_t pfns_desc_order, pfns_asc_order;	/* neighbour pairs -1 / +1 */
	uint32_t first_pfn_last_inflate;
	uint16_t stats_tags[32];
	uint64_t stats_vals[32];
	unsigned int nstats;
	bool stats_before_enable;	/* a stats buffer was in the ring when enabled */
	uint64_t in_balloon;		/* pfns inflated minus deflated */
	struct rb_msg_rec msgs[RB_MAX_MSGS];
	unsigned int nmsgs;
	bool conn_closed;
};

/* Listen on path (server, like the daemon). Returns 0 or -errno. */
int rb_start(struct refback *rb, const char *path, uint64_t features, uint64_t pfeatures);
void rb_stop(struct refback *rb);
/* Move the target (num_pages) and send CONFIG_CHANGE_MSG when the channel exists. */
int rb_set_target(struct refback *rb, uint32_t pages);
/* Send a backend-channel message; with NEED_REPLY, wait (polling vmsim through poll_cb)
 * for the reply and return its u64 (or -errno). */
int64_t rb_backend_msg(struct refback *rb, uint32_t req, uint32_t flags,
		void (*poll_cb)(void *), void *arg, uint32_t *reply_flags);
/* Ask for stats: return the held buffer. */
int rb_request_stats(struct refback *rb);

#define RB_F(b) (1ULL << (b))

#endif /* VMS_TEST_REFBACK_H */

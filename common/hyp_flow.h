/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A stream's flow control (doc/protocol.md, "Flow control"): the window of
 * data bytes this side may still send, the window the peer has left, and the
 * bytes received and passed on whose credit is not returned yet.
 */
#ifndef HYP_FLOW_H
#define HYP_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "hyp_error.h"
#include "hyp_proto.h"

struct hyp_flow {
	uint32_t send;    /* data bytes this side may still send */
	uint32_t recv;    /* data bytes the peer may still send */
	uint32_t pending; /* received, not yet passed on */
	uint32_t unacked; /* passed on, not yet returned with CREDIT */
};

void hyp_flow_init(struct hyp_flow *f); /* both windows HYP_STREAM_WINDOW */
/* How much of n this side may send now (0 when the window is closed). */
size_t hyp_flow_can_send(const struct hyp_flow *f, size_t n);
void hyp_flow_sent(struct hyp_flow *f, size_t n);
/* The peer's CREDIT: -EPROTO if it would make the window too large. */
int hyp_flow_credit(struct hyp_flow *f, uint16_t stream, uint32_t n, hyp_error *err);
/* The peer sent n data bytes: -EPROTO past its window. */
int hyp_flow_received(struct hyp_flow *f, const struct hyp_msg *msg, hyp_error *err);
/* n bytes received were passed on to their consumer. */
void hyp_flow_consumed(struct hyp_flow *f, size_t n);
/* The CREDIT to send now, if any (0: not yet): a quarter of the window
 * passed on, or everything received. Counts it as returned. */
uint32_t hyp_flow_take_credit(struct hyp_flow *f);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-stream windows. The invariants: send <= HYP_STREAM_WINDOW and
 * recv + pending + unacked == HYP_STREAM_WINDOW, so what a receiver may have
 * to buffer for a stream is bounded by the window, whatever the peer does.
 */
#include "hyp_flow.h"

#include <errno.h>

#define CREDIT_BATCH (HYP_STREAM_WINDOW / 4)

void hyp_flow_init(struct hyp_flow *f)
{
	*f = (struct hyp_flow){.send = HYP_STREAM_WINDOW, .recv = HYP_STREAM_WINDOW};
}

size_t hyp_flow_can_send(const struct hyp_flow *f, size_t n)
{
	return n < f->send ? n : f->send;
}

void hyp_flow_sent(struct hyp_flow *f, size_t n)
{
	f->send -= n <= f->send ? (uint32_t)n : f->send;
}

int hyp_flow_credit(struct hyp_flow *f, uint16_t stream, uint32_t n, hyp_error *err)
{
	if (n > HYP_STREAM_WINDOW - f->send)
		return hyp_fail(err, EPROTO,
		                "stream %u: CREDIT of %u bytes would open the window past %d (%u "
		                "bytes are open)",
		                stream, n, HYP_STREAM_WINDOW, f->send);
	f->send += n;
	return 0;
}

int hyp_flow_received(struct hyp_flow *f, const struct hyp_msg *msg, hyp_error *err)
{
	size_t n = msg->data.len;

	if (n > f->recv)
		return hyp_fail(err, EPROTO,
		                "stream %u: %zu bytes of %s exceed the window of %u bytes left",
		                msg->stream, n, hyp_msg_type_name(msg->type), f->recv);
	f->recv -= (uint32_t)n;
	f->pending += (uint32_t)n;
	return 0;
}

void hyp_flow_consumed(struct hyp_flow *f, size_t n)
{
	uint32_t k = n <= f->pending ? (uint32_t)n : f->pending;

	f->pending -= k;
	f->unacked += k;
}

uint32_t hyp_flow_take_credit(struct hyp_flow *f)
{
	uint32_t n = f->unacked;

	if (n == 0 || (n < CREDIT_BATCH && f->pending > 0))
		return 0;
	f->unacked = 0;
	f->recv += n;
	return n;
}

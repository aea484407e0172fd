/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A stream's windows (hyp_flow.h) through their interface: what may be sent,
 * what a peer may send, and when credit goes back. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "hyp_flow.h"

static struct hyp_msg data(size_t len)
{
	static const uint8_t bytes[HYP_FRAME_MAX_PAYLOAD];
	return (struct hyp_msg){.type = HYP_MSG_STDOUT, .stream = 5, .data = {bytes, len}};
}

Test(flow, sending_closes_the_window_and_credit_opens_it)
{
	struct hyp_flow f;
	hyp_error err = {0};
	hyp_flow_init(&f);
	cr_assert_eq(hyp_flow_can_send(&f, 100), 100);
	hyp_flow_sent(&f, HYP_STREAM_WINDOW - 10);
	cr_assert_eq(hyp_flow_can_send(&f, 100), 10);
	hyp_flow_sent(&f, 10);
	cr_assert_eq(hyp_flow_can_send(&f, 100), 0);
	cr_assert_eq(hyp_flow_credit(&f, 5, 4096, &err), 0);
	cr_assert_eq(hyp_flow_can_send(&f, 100000), 4096);
	/* never past the window */
	cr_assert_eq(hyp_flow_credit(&f, 5, HYP_STREAM_WINDOW, &err), -EPROTO);
	cr_assert(strstr(err.msg, "stream 5: CREDIT of 262144 bytes would open the window"), "%s",
	          err.msg);
	cr_assert_eq(hyp_flow_can_send(&f, 100000), 4096, "a refused credit changes nothing");
}

Test(flow, a_peer_past_its_window_is_refused)
{
	struct hyp_flow f;
	hyp_error err = {0};
	hyp_flow_init(&f);
	struct hyp_msg all = data(HYP_STREAM_WINDOW), one = data(1);
	cr_assert_eq(hyp_flow_received(&f, &all, &err), 0);
	cr_assert_eq(hyp_flow_received(&f, &one, &err), -EPROTO);
	cr_assert_str_eq(err.msg, "stream 5: 1 bytes of STDOUT exceed the window of 0 bytes left");
}

Test(flow, credit_goes_back_by_the_quarter_or_when_all_is_passed_on)
{
	struct hyp_flow f;
	hyp_error err = {0};
	hyp_flow_init(&f);
	struct hyp_msg big = data(HYP_STREAM_WINDOW), small = data(100);
	cr_assert_eq(hyp_flow_received(&f, &big, &err), 0);
	hyp_flow_consumed(&f, 1000);
	cr_assert_eq(hyp_flow_take_credit(&f), 0, "less than a quarter, more to come");
	hyp_flow_consumed(&f, HYP_STREAM_WINDOW / 4);
	cr_assert_eq(hyp_flow_take_credit(&f), 1000 + HYP_STREAM_WINDOW / 4);
	cr_assert_eq(hyp_flow_take_credit(&f), 0, "returned once");
	hyp_flow_consumed(&f, HYP_STREAM_WINDOW); /* more than received: only what was */
	cr_assert_eq(hyp_flow_take_credit(&f), HYP_STREAM_WINDOW - 1000 - HYP_STREAM_WINDOW / 4);
	cr_assert_eq(f.recv, HYP_STREAM_WINDOW, "the whole window is open again");
	cr_assert_eq(hyp_flow_received(&f, &small, &err), 0);
	hyp_flow_consumed(&f, 100);
	cr_assert_eq(hyp_flow_take_credit(&f), 100, "all passed on: no need to wait for more");
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A framed channel over one non-blocking file descriptor (a unix socket on
 * the host, a virtio-serial port in the guest) for poll()-driven loops:
 * bytes read accumulate in `in` until a whole frame is there, frames to send
 * queue in `out` until the fd accepts them. Both buffers are bounded so that
 * a slow peer applies back-pressure instead of growing memory.
 */
#ifndef HYP_CHAN_H
#define HYP_CHAN_H

#include <stdbool.h>

#include "hyp_buf.h"
#include "hyp_proto.h"
#include "hyp_time.h" /* deadlines are hyp_now_ms() + timeout */

#define HYP_CHAN_OUT_HIGH (4 * HYP_DATA_CHUNK + HYP_FRAME_MAX_PAYLOAD)

struct hyp_chan {
	int fd; /* not owned */
	struct hyp_buf in;
	struct hyp_buf out;
	bool eof; /* peer closed its end */
};

void hyp_chan_init(struct hyp_chan *chan, int fd);
void hyp_chan_free(struct hyp_chan *chan); /* frees buffers, does not close fd */

/* Read what is available (stops at EAGAIN). 0 on success (eof may be set). */
int hyp_chan_fill(struct hyp_chan *chan, hyp_error *err);

/* Next whole frame from `in`: 1 and ret_msg filled, 0 if none yet, < 0 if
 * malformed. Borrowed data in ret_msg stays valid until the next fill/next. */
int hyp_chan_next(struct hyp_chan *chan, struct hyp_msg *ret_msg, hyp_error *err);

/* Queue a frame on `out` (does not write). */
int hyp_chan_queue(struct hyp_chan *chan, const struct hyp_msg *msg, hyp_error *err);

/* Write queued bytes until done or EAGAIN. */
int hyp_chan_flush(struct hyp_chan *chan, hyp_error *err);

bool hyp_chan_has_output(const struct hyp_chan *chan);
/* True while `out` is below its high-water mark: callers stop reading their
 * sources (a child's stdout, the user's stdin) when this is false. */
bool hyp_chan_can_queue(const struct hyp_chan *chan);

/* Blocking conveniences for handshakes; deadline is CLOCK_MONOTONIC ms
 * (hyp_now_ms() + timeout), < 0 for none. -ETIMEDOUT when it passes. */
int hyp_chan_send_wait(struct hyp_chan *chan, const struct hyp_msg *msg, long long deadline_ms,
                       hyp_error *err);
int hyp_chan_recv_wait(struct hyp_chan *chan, struct hyp_msg *ret_msg, long long deadline_ms,
                       hyp_error *err);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A framed channel over one non-blocking fd.
 *
 * Input: hyp_chan_fill() reads until EAGAIN, but never holds more than one
 * largest frame (IN_MAX) of unconsumed bytes, so a peer cannot make us buffer
 * without bound; since a frame is at most IN_MAX bytes, a full buffer always
 * holds a whole frame (or a malformed header) and hyp_chan_next() always makes
 * progress. hyp_chan_next() only advances the read offset: the stdio data it
 * lends out stays in place until the next fill, which may move or reuse it.
 *
 * End of input: read() returning 0 sets `eof`, and so does ECONNRESET (the
 * peer went away with data we had not read: nothing more will come either
 * way). Any other read error, EIO included, is returned as an error: on a
 * virtio-serial port it means a fault, not an orderly close.
 *
 * Output: hyp_chan_queue() refuses once OUT_MAX bytes are pending, a hard cap
 * behind the advisory HYP_CHAN_OUT_HIGH of hyp_chan_can_queue(). Writes use
 * send(MSG_NOSIGNAL) so a vanished peer is EPIPE, not SIGPIPE; on fds that
 * are not sockets (a virtio-serial port in the guest) they fall back to write().
 */
#include "hyp_chan.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hyp_time.h"

#define IN_MAX     (HYP_FRAME_HEADER_SIZE + HYP_FRAME_MAX_PAYLOAD)
#define OUT_MAX    (2 * HYP_CHAN_OUT_HIGH)
#define READ_CHUNK (2 * HYP_DATA_CHUNK) /* on the stack: two stdio frames a read */

void hyp_chan_init(struct hyp_chan *chan, int fd)
{
	*chan = (struct hyp_chan){.fd = fd};
}

void hyp_chan_free(struct hyp_chan *chan)
{
	hyp_buf_free(&chan->in);
	hyp_buf_free(&chan->out);
}

int hyp_chan_fill(struct hyp_chan *chan, hyp_error *err)
{
	uint8_t chunk[READ_CHUNK];

	while (!chan->eof && hyp_buf_pending(&chan->in) < IN_MAX) {
		size_t room = IN_MAX - hyp_buf_pending(&chan->in);
		ssize_t n = read(chan->fd, chunk, room < sizeof(chunk) ? room : sizeof(chunk));
		if (n > 0) {
			int r = hyp_buf_append(&chan->in, chunk, n, err);
			if (r < 0)
				return r;
		} else if (n == 0 || errno == ECONNRESET) {
			chan->eof = true;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			break;
		} else if (errno != EINTR) {
			return hyp_fail_errno(err, "reading from the channel");
		}
	}
	return 0;
}

int hyp_chan_next(struct hyp_chan *chan, struct hyp_msg *ret_msg, hyp_error *err)
{
	size_t pending = hyp_buf_pending(&chan->in);
	ssize_t n = 0;

	if (pending > 0)
		n = hyp_msg_decode(chan->in.data + chan->in.off, pending, ret_msg, err);
	if (n < 0)
		return (int)n; /* the bytes stay: calling again fails the same way */
	if (n == 0 && chan->eof && pending > 0)
		return hyp_fail(err, ECONNRESET,
		                "the peer closed the channel in the middle of a frame "
		                "(%zu bytes received)",
		                pending);
	if (n == 0)
		return 0;
	hyp_buf_consume(&chan->in, n);
	return 1;
}

int hyp_chan_queue(struct hyp_chan *chan, const struct hyp_msg *msg, hyp_error *err)
{
	size_t pending = hyp_buf_pending(&chan->out);

	if (pending >= OUT_MAX)
		return hyp_fail(err, ENOBUFS,
		                "cannot queue %s: %zu bytes are already waiting for the peer",
		                hyp_msg_type_name(msg->type), pending);
	return hyp_msg_encode(&chan->out, msg, err);
}

static ssize_t write_some(int fd, const void *data, size_t len)
{
	ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

	if (n < 0 && errno == ENOTSOCK)
		n = write(fd, data, len);
	return n;
}

int hyp_chan_flush(struct hyp_chan *chan, hyp_error *err)
{
	while (hyp_chan_has_output(chan)) {
		ssize_t n = write_some(chan->fd, chan->out.data + chan->out.off,
		                       hyp_buf_pending(&chan->out));
		if (n > 0)
			hyp_buf_consume(&chan->out, n);
		else if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		else if (errno == EPIPE || errno == ECONNRESET)
			return hyp_fail(err, EPIPE, "writing to the channel: the peer closed it");
		else if (errno != EINTR)
			return hyp_fail_errno(err, "writing to the channel");
	}
	return 0;
}

bool hyp_chan_has_output(const struct hyp_chan *chan)
{
	return hyp_buf_pending(&chan->out) > 0;
}

bool hyp_chan_can_queue(const struct hyp_chan *chan)
{
	return hyp_buf_pending(&chan->out) < HYP_CHAN_OUT_HIGH;
}

/* poll() timeout until deadline_ms: -1 for none, 0 once it has passed. */
static int timeout_until(long long deadline_ms)
{
	if (deadline_ms < 0)
		return -1;
	long long left = deadline_ms - hyp_now_ms();
	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Wait for `events` on the fd; returns revents (> 0), or < 0 with err set
 * ("timed out <what>") once the deadline passes. Ready beats late. */
static int wait_fd(struct hyp_chan *chan, short events, long long deadline_ms, const char *what,
                   hyp_error *err)
{
	for (;;) {
		struct pollfd pfd = {.fd = chan->fd, .events = events};
		int n = poll(&pfd, 1, timeout_until(deadline_ms));
		if (n > 0 && (pfd.revents & POLLNVAL))
			return hyp_fail(err, EBADF, "channel fd %d is not open", chan->fd);
		if (n > 0)
			return pfd.revents;
		if (n == 0)
			return hyp_fail(err, ETIMEDOUT, "timed out %s", what);
		if (errno != EINTR)
			return hyp_fail_errno(err, "waiting on the channel");
	}
}

int hyp_chan_send_wait(struct hyp_chan *chan, const struct hyp_msg *msg, long long deadline_ms,
                       hyp_error *err)
{
	int r = hyp_chan_queue(chan, msg, err);

	if (r < 0)
		return r;
	for (;;) {
		if ((r = hyp_chan_flush(chan, err)) < 0 || !hyp_chan_has_output(chan))
			return r;
		r = wait_fd(chan, POLLOUT, deadline_ms, "sending to the peer", err);
		if (r < 0)
			return r;
		if (r & POLLOUT)
			continue;
		/* hung up or in error, not writable: one last try for the real errno */
		if ((r = hyp_chan_flush(chan, err)) < 0 || !hyp_chan_has_output(chan))
			return r;
		return hyp_fail(err, EPIPE, "sending to the peer: the channel hung up");
	}
}

/* One round of recv_wait: flush, wait for input (or room for output), read. */
static int recv_round(struct hyp_chan *chan, long long deadline_ms, hyp_error *err)
{
	int r;

	if (hyp_chan_has_output(chan) && (r = hyp_chan_flush(chan, err)) < 0)
		return r;
	short events = POLLIN | (hyp_chan_has_output(chan) ? POLLOUT : 0);
	int revents = wait_fd(chan, events, deadline_ms, "waiting for a frame from the peer", err);
	if (revents < 0)
		return revents;
	size_t before = hyp_buf_pending(&chan->in);
	if ((r = hyp_chan_fill(chan, err)) < 0)
		return r;
	/* hung up or in error, yet nothing to read: do not spin until the deadline */
	if (!(revents & (POLLIN | POLLOUT)) && !chan->eof && hyp_buf_pending(&chan->in) == before)
		return hyp_fail(err, EIO, "the channel hung up without an end of file");
	return 0;
}

/* Returns 0 with ret_msg filled; flushes pending output while it waits. */
int hyp_chan_recv_wait(struct hyp_chan *chan, struct hyp_msg *ret_msg, long long deadline_ms,
                       hyp_error *err)
{
	for (;;) {
		int r = hyp_chan_next(chan, ret_msg, err);
		if (r != 0)
			return r < 0 ? r : 0;
		if (chan->eof)
			return hyp_fail(err, ECONNRESET, "the peer closed the channel");
		if ((r = recv_round(chan, deadline_ms, err)) < 0)
			return r;
	}
}

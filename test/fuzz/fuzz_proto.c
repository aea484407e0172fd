/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the bytes a peer controls.
 *
 * 1. Decode the input as a stream of frames. Every frame that decodes must
 *    re-encode to exactly its own bytes (the encoding is canonical) and
 *    decode again to the same length; every prefix of it must ask for more;
 *    every failure must carry a code and a message.
 * 2. Feed the same input through a hyp_chan over a pipe, in chunk sizes taken
 *    from the input, and check the channel yields the same frames and stops
 *    at the same place, whatever the reads look like.
 * 3. Play the frames that decode as stream traffic received by the host or
 *    the guest (the first byte picks): the sender rules of the descriptors,
 *    streams opened and ended, and each stream's windows (hyp_flow), with
 *    the data passed on in amounts taken from the input. The windows'
 *    invariants must hold after every frame, a refused frame must come
 *    with a code and a message, and no more streams than the limit open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_chan.h"
#include "hyp_flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static bool is_data(uint16_t type)
{
	return type == HYP_MSG_STDIN || type == HYP_MSG_STDOUT || type == HYP_MSG_STDERR ||
	       type == HYP_MSG_FILE;
}

static void check_reencode(const uint8_t *frame, size_t len, const struct hyp_msg *m)
{
	struct hyp_buf buf = {0};
	struct hyp_msg again;
	hyp_error err = {0};

	if (hyp_msg_encode(&buf, m, &err) < 0) {
		/* the one thing a receiver takes that a sender would not emit */
		CHECK(is_data(m->type) && m->data.len > HYP_DATA_CHUNK);
		return;
	}
	CHECK(buf.len == len && memcmp(buf.data, frame, len) == 0);
	CHECK(hyp_msg_decode(buf.data, buf.len, &again, &err) == (ssize_t)len);
	CHECK(again.type == m->type);
	hyp_msg_clear(&again);
	hyp_buf_free(&buf);
}

/* Decode the stream directly; returns where decoding stopped, *ret_code the
 * error (0: the rest is an incomplete frame). */
static size_t decode_stream(const uint8_t *data, size_t size, int *ret_code)
{
	size_t off = 0;

	for (;;) {
		struct hyp_msg m;
		hyp_error err = {0};
		ssize_t n = hyp_msg_decode(data + off, size - off, &m, &err);
		if (n <= 0) {
			CHECK(n == 0 || (n == -err.code && err.msg[0]));
			*ret_code = (int)-n;
			return off;
		}
		CHECK(hyp_msg_decode(data + off, n - 1, &m, &err) == 0);
		check_reencode(data + off, n, &m);
		hyp_msg_clear(&m);
		off += n;
	}
}

/* Take every whole frame out of the channel, checking each against the input
 * at *off; returns the channel's error code, or -1 when it needs more. */
static int drain(struct hyp_chan *c, const uint8_t *data, size_t *off)
{
	for (;;) {
		struct hyp_msg m;
		hyp_error err = {0};
		int r = hyp_chan_next(c, &m, &err);
		if (r <= 0)
			return r == 0 ? -1 : -r;
		struct hyp_buf buf = {0};
		if (hyp_msg_encode(&buf, &m, NULL) == 0) {
			CHECK(memcmp(buf.data, data + *off, buf.len) == 0);
			*off += buf.len;
		} else {
			*off += HYP_FRAME_HEADER_SIZE + m.data.len;
		}
		hyp_buf_free(&buf);
		hyp_msg_clear(&m);
	}
}

static void check_chan(const uint8_t *data, size_t size, size_t stop, int code)
{
	int fd[2];
	struct hyp_chan c;
	size_t sent = 0, off = 0;
	int r = -1;

	CHECK(pipe2(fd, O_NONBLOCK | O_CLOEXEC) == 0);
	hyp_chan_init(&c, fd[0]);
	for (size_t i = 0; sent < size && r < 0; i++) {
		size_t chunk = 1 + data[i % size] % 97; /* pipe capacity is far larger */
		if (chunk > size - sent)
			chunk = size - sent;
		CHECK(write(fd[1], data + sent, chunk) == (ssize_t)chunk);
		sent += chunk;
		CHECK(hyp_chan_fill(&c, NULL) == 0);
		r = drain(&c, data, &off);
	}
	close(fd[1]);
	if (r < 0) {
		CHECK(hyp_chan_fill(&c, NULL) == 0 && c.eof);
		r = drain(&c, data, &off);
	}
	CHECK(off == stop);
	/* same error; a cut-off frame is the channel's own ECONNRESET */
	CHECK(r == code || (code == 0 && (r == ECONNRESET || (r == -1 && off == size))));
	hyp_chan_free(&c);
	close(fd[0]);
}

/* ---- 3. stream traffic ---- */

#define MODEL_STREAMS 8

struct model {
	enum hyp_side me; /* the receiver */
	struct {
		bool open;
		uint16_t id;
		struct hyp_flow flow;
	} s[MODEL_STREAMS];
};

static void check_flow(const struct hyp_flow *f)
{
	CHECK(f->send <= HYP_STREAM_WINDOW);
	CHECK((uint64_t)f->recv + f->pending + f->unacked == HYP_STREAM_WINDOW);
}

static int find(struct model *m, uint16_t id)
{
	for (int i = 0; i < MODEL_STREAMS; i++)
		if (m->s[i].open && m->s[i].id == id)
			return i;
	return -1;
}

static int model_open(struct model *m, uint16_t id, hyp_error *err)
{
	if (find(m, id) >= 0)
		return hyp_fail(err, EPROTO, "stream %u is already open", id);
	for (int i = 0; i < MODEL_STREAMS; i++)
		if (!m->s[i].open) {
			m->s[i].open = true;
			m->s[i].id = id;
			hyp_flow_init(&m->s[i].flow);
			return 0;
		}
	return hyp_fail(err, EPROTO, "too many streams");
}

/* One frame; `take` is how much of the data the consumer passes on. */
static int model_frame(struct model *m, const struct hyp_msg *msg, uint8_t take, hyp_error *err)
{
	enum hyp_side peer = m->me == HYP_SIDE_HOST ? HYP_SIDE_GUEST : HYP_SIDE_HOST;
	const struct hyp_msg_desc *d = hyp_msg_desc(msg->type);
	int r = hyp_msg_check_sender(msg, peer, err);
	if (r < 0)
		return r;
	if (d->scope == HYP_SCOPE_OPENS)
		return model_open(m, msg->stream, err);
	if (d->scope == HYP_SCOPE_SESSION || (d->scope == HYP_SCOPE_ANY && msg->stream == 0))
		return 0;
	int i = find(m, msg->stream);
	if (i < 0)
		return hyp_fail(err, EPROTO, "stream %u is not open", msg->stream);
	struct hyp_flow *f = &m->s[i].flow;
	if (msg->type == HYP_MSG_CREDIT)
		r = hyp_flow_credit(f, msg->stream, msg->credit, err);
	else if (d->counted && (r = hyp_flow_received(f, msg, err)) == 0)
		hyp_flow_consumed(f, msg->data.len * take / 255);
	else if (msg->type == HYP_MSG_EXIT)
		m->s[i].open = false;
	uint32_t credit = hyp_flow_take_credit(f);
	CHECK(credit <= HYP_STREAM_WINDOW);
	check_flow(f);
	return r;
}

static void check_streams(const uint8_t *data, size_t size, size_t stop)
{
	struct model m = {.me = data[0] & 1 ? HYP_SIDE_HOST : HYP_SIDE_GUEST};
	size_t off = 0;

	while (off < stop) {
		struct hyp_msg msg;
		hyp_error err = {0};
		ssize_t n = hyp_msg_decode(data + off, stop - off, &msg, &err);
		CHECK(n > 0); /* decoded in phase 1 */
		int r = model_frame(&m, &msg, data[(off + 1) % size], &err);
		CHECK(r == 0 || (r == -err.code && err.msg[0]));
		hyp_msg_clear(&msg);
		if (r < 0) /* the session would end here */
			return;
		off += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int code;

	if (size == 0)
		return 0;
	size_t stop = decode_stream(data, size, &code);
	check_chan(data, size, stop, code);
	check_streams(data, size, stop);
	return 0;
}

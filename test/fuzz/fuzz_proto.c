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
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_chan.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int code;

	if (size == 0)
		return 0;
	size_t stop = decode_stream(data, size, &code);
	check_chan(data, size, stop, code);
	return 0;
}

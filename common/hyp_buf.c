/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The growable byte buffer behind frames and channels (hyp_buf.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_buf.h"

#define BUF_MIN_CAP 4096

void hyp_buf_free(struct hyp_buf *buf)
{
	free(buf->data);
	*buf = (struct hyp_buf){0};
}

size_t hyp_buf_pending(const struct hyp_buf *buf)
{
	return buf->len - buf->off;
}

/* Room for n more bytes at data + len: unconsumed bytes move to the front
 * when that makes room or once half the buffer is consumed; then it grows. */
int hyp_buf_reserve(struct hyp_buf *buf, size_t n, uint8_t **ret_tail, hyp_error *err)
{
	size_t pending = hyp_buf_pending(buf);

	if (n > SIZE_MAX / 4 - pending)
		return hyp_fail(err, ENOMEM, "buffer of %zu bytes cannot grow by %zu", pending, n);
	if (buf->off > 0 && (buf->len + n > buf->cap || buf->off >= buf->cap / 2)) {
		memmove(buf->data, buf->data + buf->off, pending);
		buf->off = 0;
		buf->len = pending;
	}
	if (buf->len + n > buf->cap) {
		size_t cap = buf->cap ? buf->cap : BUF_MIN_CAP;
		while (cap < buf->len + n)
			cap *= 2;
		uint8_t *p = realloc(buf->data, cap);
		if (!p)
			return hyp_fail(err, ENOMEM, "growing a buffer to %zu bytes", cap);
		buf->data = p;
		buf->cap = cap;
	}
	*ret_tail = buf->data + buf->len;
	return 0;
}

int hyp_buf_append(struct hyp_buf *buf, const void *data, size_t len, hyp_error *err)
{
	uint8_t *tail;

	if (len == 0)
		return 0;
	int r = hyp_buf_reserve(buf, len, &tail, err);
	if (r < 0)
		return r;
	memcpy(tail, data, len);
	buf->len += len;
	return 0;
}

/* Only moves `off`: bytes handed out (decoded stdio data) stay in place
 * until the next append. */
void hyp_buf_consume(struct hyp_buf *buf, size_t n)
{
	size_t pending = hyp_buf_pending(buf);

	buf->off += n < pending ? n : pending;
	if (buf->off == buf->len)
		buf->off = buf->len = 0;
}

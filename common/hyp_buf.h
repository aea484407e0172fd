/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A growable byte buffer: [data + off, data + len) holds the bytes not yet
 * consumed. Frames are encoded into one, channels read and write through
 * two.
 */
#ifndef HYP_BUF_H
#define HYP_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "hyp_error.h"

struct hyp_buf {
	uint8_t *data;
	size_t off, len, cap;
};

void hyp_buf_free(struct hyp_buf *buf);
size_t hyp_buf_pending(const struct hyp_buf *buf);
int hyp_buf_append(struct hyp_buf *buf, const void *data, size_t len, hyp_error *err);
/* Make room for n bytes at data + len (compacting or growing); the caller
 * writes them and adds n to len. */
int hyp_buf_reserve(struct hyp_buf *buf, size_t n, uint8_t **ret_tail, hyp_error *err);
void hyp_buf_consume(struct hyp_buf *buf, size_t n);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The generic payload codec: the fields of a message descriptor, encoded,
 * decoded, sized and freed by one walk each. The decoder never reads past
 * the bytes it is given and checks every count against its limit and
 * against the bytes left before allocating anything for it.
 */
#include "hyp_codec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_cleanup.h"

#define NO_INDEX            UINT32_MAX
#define RLIMIT_SIZE         20 /* resource, soft, hard */
#define AT(msg, off, type)  ((type *)((char *)(msg) + (off)))
#define CAT(msg, off, type) ((const type *)((const char *)(msg) + (off)))

int hyp_codec_bad(struct hyp_codec_ctx *c, const char *fmt, ...)
{
	char detail[HYP_ERROR_MSG_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return hyp_fail(c->err, c->code, "frame type %u (%s): %s", c->type,
	                hyp_msg_type_name(c->type), detail);
}

/* ---- sizes and the encoder ---- */

uint8_t *hyp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

uint8_t *hyp_put32(uint8_t *p, uint32_t v)
{
	return hyp_put16(hyp_put16(p, (uint16_t)(v >> 16)), (uint16_t)v);
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	return hyp_put32(hyp_put32(p, (uint32_t)(v >> 32)), (uint32_t)v);
}

static uint8_t *put_str(uint8_t *p, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	p = hyp_put32(p, (uint32_t)n);
	if (n)
		memcpy(p, s, n);
	return p + n;
}

static ssize_t vector_size(struct hyp_codec_ctx *c, const struct hyp_field *f,
                           const struct hyp_msg *msg)
{
	uint32_t n = *CAT(msg, f->count_off, uint32_t);
	size_t size = 4;

	if (n > f->max)
		return hyp_codec_bad(c, "%s %u exceeds the limit of %u", f->count, n, f->max);
	if (f->kind == HYP_F_RLIMV)
		return 4 + RLIMIT_SIZE * (ssize_t)n;
	const void *v = *CAT(msg, f->off, void *);
	if (n && !v)
		return hyp_codec_bad(c, "%s is missing", f->name);
	if (f->kind == HYP_F_U32V)
		return 4 + 4 * (ssize_t)n;
	for (uint32_t i = 0; i < n; i++) {
		const char *s = ((char *const *)v)[i];
		if (!s)
			return hyp_codec_bad(c, "%s[%u] is missing", f->name, i);
		size += 4 + strlen(s);
	}
	return (ssize_t)size;
}

static ssize_t field_size(struct hyp_codec_ctx *c, const struct hyp_field *f,
                          const struct hyp_msg *msg)
{
	const char *s;
	size_t n;

	switch (f->kind) {
	case HYP_F_BOOL:
		return 1;
	case HYP_F_U16:
		return 2;
	case HYP_F_U32:
		return 4;
	case HYP_F_U64:
		return 8;
	case HYP_F_STR:
		s = *CAT(msg, f->off, char *);
		n = s ? strlen(s) : 0;
		if (n > f->max)
			return hyp_codec_bad(c, "%s is %zu bytes, the limit is %u", f->name, n,
			                     f->max);
		return 4 + (ssize_t)n;
	case HYP_F_DATA:
		return (ssize_t)*CAT(msg, f->count_off, size_t);
	default:
		return vector_size(c, f, msg);
	}
}

ssize_t hyp_codec_size(struct hyp_codec_ctx *c, const struct hyp_field *f,
                       const struct hyp_msg *msg)
{
	size_t size = 0;

	for (; f && f->kind != HYP_F_END; f++) {
		ssize_t n = field_size(c, f, msg);
		if (n < 0)
			return n;
		size += (size_t)n;
	}
	return (ssize_t)size;
}

static uint8_t *put_vector(uint8_t *p, const struct hyp_field *f, const struct hyp_msg *msg)
{
	uint32_t n = *CAT(msg, f->count_off, uint32_t);
	const void *v = f->kind == HYP_F_RLIMV ? CAT(msg, f->off, void) : *CAT(msg, f->off, void *);

	p = hyp_put32(p, n);
	for (uint32_t i = 0; i < n; i++) {
		if (f->kind == HYP_F_STRV) {
			p = put_str(p, ((char *const *)v)[i]);
		} else if (f->kind == HYP_F_U32V) {
			p = hyp_put32(p, ((const uint32_t *)v)[i]);
		} else {
			const struct hyp_rlimit *l = &((const struct hyp_rlimit *)v)[i];
			p = put64(put64(hyp_put32(p, l->resource), l->soft), l->hard);
		}
	}
	return p;
}

void hyp_codec_put(uint8_t *p, const struct hyp_field *f, const struct hyp_msg *msg)
{
	for (; f && f->kind != HYP_F_END; f++) {
		switch (f->kind) {
		case HYP_F_BOOL:
			*p++ = *CAT(msg, f->off, bool) ? 1 : 0;
			break;
		case HYP_F_U16:
			p = hyp_put16(p, *CAT(msg, f->off, uint16_t));
			break;
		case HYP_F_U32:
			p = hyp_put32(p, *CAT(msg, f->off, uint32_t));
			break;
		case HYP_F_U64:
			p = put64(p, *CAT(msg, f->off, uint64_t));
			break;
		case HYP_F_STR:
			p = put_str(p, *CAT(msg, f->off, char *));
			break;
		case HYP_F_DATA: {
			size_t n = *CAT(msg, f->count_off, size_t);
			if (n)
				memcpy(p, *CAT(msg, f->off, uint8_t *), n);
			p += n;
			break;
		}
		default:
			p = put_vector(p, f, msg);
		}
	}
}

/* ---- the decoder ---- */

uint16_t hyp_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t hyp_get32(const uint8_t *p)
{
	return (uint32_t)hyp_get16(p) << 16 | hyp_get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)hyp_get32(p) << 32 | hyp_get32(p + 4);
}

/* The next n payload bytes of field what[idx], or NULL (err set). */
static const uint8_t *take(struct hyp_codec_ctx *c, size_t n, const char *what, uint32_t idx)
{
	const uint8_t *p = c->p;

	if (c->left < n) {
		if (idx == NO_INDEX)
			hyp_codec_bad(c, "%s runs past the end of the payload", what);
		else
			hyp_codec_bad(c, "%s[%u] runs past the end of the payload", what, idx);
		return NULL;
	}
	c->p += n;
	c->left -= n;
	return p;
}

/* A count of items of at least item_size bytes each, checked against its
 * limit and against the bytes left before anything is allocated for it. */
static int get_count(struct hyp_codec_ctx *c, const struct hyp_field *f, size_t item_size,
                     uint32_t *ret_n)
{
	const uint8_t *p = take(c, 4, f->count, NO_INDEX);

	if (!p)
		return -EPROTO;
	uint32_t n = hyp_get32(p);
	if (n > f->max)
		return hyp_codec_bad(c, "%s %u exceeds the limit of %u", f->count, n, f->max);
	if ((uint64_t)n * item_size > c->left)
		return hyp_codec_bad(c, "%s %u does not fit in the %zu bytes left", f->count, n,
		                     c->left);
	*ret_n = n;
	return 0;
}

static int get_str(struct hyp_codec_ctx *c, char **ret, uint32_t max, const char *what,
                   uint32_t idx)
{
	const uint8_t *p = take(c, 4, what, idx);

	if (!p)
		return -EPROTO;
	uint32_t n = hyp_get32(p);
	if (n > max)
		return hyp_codec_bad(c, "%s is %u bytes, the limit is %u", what, n, max);
	if (!(p = take(c, n, what, idx)))
		return -EPROTO;
	if (memchr(p, '\0', n))
		return idx == NO_INDEX ? hyp_codec_bad(c, "%s contains a NUL byte", what)
		                       : hyp_codec_bad(c, "%s[%u] contains a NUL byte", what, idx);
	char *s = malloc((size_t)n + 1);
	if (!s)
		return hyp_fail(c->err, ENOMEM, "out of memory decoding %s", what);
	memcpy(s, p, n);
	s[n] = '\0';
	*ret = s;
	return 0;
}

/* Entries fill in one by one into a zeroed array, so it stays
 * NULL-terminated and hyp_codec_clear() frees it whenever decoding stops. */
static int get_strv(struct hyp_codec_ctx *c, const struct hyp_field *f, struct hyp_msg *msg)
{
	uint32_t n;
	int r = get_count(c, f, 4, &n);

	if (r < 0)
		return r;
	char **v = calloc((size_t)n + 1, sizeof(char *));
	if (!v)
		return hyp_fail(c->err, ENOMEM, "out of memory decoding %s", f->name);
	*AT(msg, f->off, char **) = v;
	*AT(msg, f->count_off, uint32_t) = n;
	for (uint32_t i = 0; i < n; i++)
		if ((r = get_str(c, &v[i], UINT32_MAX, f->name, i)) < 0)
			return r;
	return 0;
}

static int get_numbers(struct hyp_codec_ctx *c, const struct hyp_field *f, struct hyp_msg *msg)
{
	bool rlim = f->kind == HYP_F_RLIMV;
	uint32_t n;
	int r = get_count(c, f, rlim ? RLIMIT_SIZE : 4, &n);

	if (r < 0)
		return r;
	*AT(msg, f->count_off, uint32_t) = n;
	if (rlim) {
		struct hyp_rlimit *l = AT(msg, f->off, struct hyp_rlimit);
		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *p = take(c, RLIMIT_SIZE, f->name, i); /* counted above */
			l[i] = (struct hyp_rlimit){hyp_get32(p), get64(p + 4), get64(p + 12)};
		}
		return 0;
	}
	uint32_t *v = n ? malloc(sizeof(uint32_t) * n) : NULL;
	if (n && !v)
		return hyp_fail(c->err, ENOMEM, "out of memory decoding %s", f->name);
	*AT(msg, f->off, uint32_t *) = v;
	for (uint32_t i = 0; i < n; i++)
		v[i] = hyp_get32(take(c, 4, f->name, i)); /* counted above */
	return 0;
}

static int get_scalar(struct hyp_codec_ctx *c, const struct hyp_field *f, struct hyp_msg *msg)
{
	static const size_t sizes[] = {
	    [HYP_F_BOOL] = 1, [HYP_F_U16] = 2, [HYP_F_U32] = 4, [HYP_F_U64] = 8};
	const uint8_t *p = take(c, sizes[f->kind], f->name, NO_INDEX);

	if (!p)
		return -EPROTO;
	switch (f->kind) {
	case HYP_F_BOOL:
		if (p[0] > 1)
			return hyp_codec_bad(c, "%s %u is not 0 or 1", f->name, p[0]);
		*AT(msg, f->off, bool) = p[0];
		break;
	case HYP_F_U16:
		*AT(msg, f->off, uint16_t) = hyp_get16(p);
		break;
	case HYP_F_U32:
		*AT(msg, f->off, uint32_t) = hyp_get32(p);
		break;
	default:
		*AT(msg, f->off, uint64_t) = get64(p);
	}
	return 0;
}

static int get_field(struct hyp_codec_ctx *c, const struct hyp_field *f, struct hyp_msg *msg)
{
	switch (f->kind) {
	case HYP_F_STR:
		return get_str(c, AT(msg, f->off, char *), f->max, f->name, NO_INDEX);
	case HYP_F_STRV:
		return get_strv(c, f, msg);
	case HYP_F_U32V:
	case HYP_F_RLIMV:
		return get_numbers(c, f, msg);
	case HYP_F_DATA:
		*AT(msg, f->off, const uint8_t *) = c->p;
		*AT(msg, f->count_off, size_t) = c->left;
		c->p += c->left;
		c->left = 0;
		return 0;
	default:
		return get_scalar(c, f, msg);
	}
}

int hyp_codec_get(struct hyp_codec_ctx *c, const struct hyp_field *f, struct hyp_msg *msg)
{
	for (; f && f->kind != HYP_F_END; f++) {
		int r = get_field(c, f, msg);
		if (r < 0)
			return r;
	}
	return 0;
}

void hyp_codec_clear(const struct hyp_field *f, struct hyp_msg *msg)
{
	for (; f && f->kind != HYP_F_END; f++) {
		if (f->kind == HYP_F_STR || f->kind == HYP_F_U32V) {
			free(*AT(msg, f->off, void *));
			*AT(msg, f->off, void *) = NULL;
		} else if (f->kind == HYP_F_STRV) {
			hyp_strv_free(*AT(msg, f->off, char **));
			*AT(msg, f->off, char **) = NULL;
		}
		if (f->kind == HYP_F_STRV || f->kind == HYP_F_U32V || f->kind == HYP_F_RLIMV)
			*AT(msg, f->count_off, uint32_t) = 0;
	}
}

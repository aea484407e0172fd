/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The payload codec behind the message descriptors (hyp_proto.h): a payload
 * is a list of typed fields, each stored at an offset in struct hyp_msg, and
 * one generic encoder, decoder, size and clean-up walk that list. A new
 * message is a descriptor with its fields; no switch to extend.
 */
#ifndef HYP_CODEC_H
#define HYP_CODEC_H

#include <stddef.h>

#include "hyp_proto.h"

enum hyp_field_kind {
	HYP_F_END,   /* ends a field list */
	HYP_F_BOOL,  /* u8 0 or 1 <-> bool */
	HYP_F_U16,   /* uint16_t */
	HYP_F_U32,   /* uint32_t */
	HYP_F_U64,   /* uint64_t */
	HYP_F_STR,   /* u32 length + bytes <-> char * (owned; NULL encodes as "") */
	HYP_F_STRV,  /* u32 count + strings <-> char ** (owned, NULL-terminated) */
	HYP_F_U32V,  /* u32 count + u32s <-> uint32_t * (owned) */
	HYP_F_RLIMV, /* u32 count + (u32, u64, u64)s <-> struct hyp_rlimit[] (inline) */
	HYP_F_DATA,  /* the rest of the payload <-> const uint8_t * (borrowed) + size_t */
};

struct hyp_field {
	enum hyp_field_kind kind;
	const char *name;  /* in errors: "cwd", "argv" */
	const char *count; /* vectors: the count's name ("argc") */
	size_t off;        /* offsetof(struct hyp_msg, ...) of the value */
	size_t count_off;  /* vectors: of the uint32_t count; DATA: of the size_t length */
	uint32_t max;      /* STR: bytes; vectors: entries */
};

#define HYP_FIELD(kind, name, member)                                                              \
	{                                                                                          \
		kind, name, NULL, offsetof(struct hyp_msg, member), 0, 0                           \
	}
#define HYP_FIELD_STR(name, member, max)                                                           \
	{                                                                                          \
		HYP_F_STR, name, NULL, offsetof(struct hyp_msg, member), 0, max                    \
	}
#define HYP_FIELD_VEC(kind, name, member, count, count_member, max)                                \
	{                                                                                          \
		kind, name, count, offsetof(struct hyp_msg, member),                               \
		    offsetof(struct hyp_msg, count_member), max                                    \
	}
#define HYP_FIELD_DATA(member, len_member)                                                         \
	{                                                                                          \
		HYP_F_DATA, "data", NULL, offsetof(struct hyp_msg, member),                        \
		    offsetof(struct hyp_msg, len_member), 0                                        \
	}
#define HYP_FIELD_END                                                                              \
	{                                                                                          \
		HYP_F_END, NULL, NULL, 0, 0, 0                                                     \
	}

/* What the codec needs to report a problem: errors read "frame type 4
 * (EXEC): argc 5000 exceeds the limit of 4096" with `code` (EPROTO decoding
 * what a peer sent, EINVAL encoding what a caller built). The decoder reads
 * from [p, p + left). */
struct hyp_codec_ctx {
	hyp_error *err;
	int code;
	uint16_t type;
	const uint8_t *p;
	size_t left;
};
int hyp_codec_bad(struct hyp_codec_ctx *c, const char *fmt, ...) HYP_PRINTF(2, 3);

/* The payload's size; < 0 (err set) if a value breaks its field's limit. */
ssize_t hyp_codec_size(struct hyp_codec_ctx *c, const struct hyp_field *f,
                       const struct hyp_msg *msg);
void hyp_codec_put(uint8_t *p, const struct hyp_field *f, const struct hyp_msg *msg);
/* Fill msg's fields from [c->p, c->p + c->left); on failure what was
 * allocated stays in msg for hyp_codec_clear(). */
int hyp_codec_get(struct hyp_codec_ctx *c, const struct hyp_field *f, struct hyp_msg *msg);
void hyp_codec_clear(const struct hyp_field *f, struct hyp_msg *msg);

uint16_t hyp_get16(const uint8_t *p);
uint32_t hyp_get32(const uint8_t *p);
uint8_t *hyp_put16(uint8_t *p, uint16_t v);
uint8_t *hyp_put32(uint8_t *p, uint32_t v);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The wire protocol through its interface: round trips of every message,
 * truncation at every offset, and each malformed input the schema names. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_proto.h"

static char *argv_full[] = {"/bin/sh", "-c", "echo 'hi there'", "", NULL};
static char *env_full[] = {"PATH=/usr/bin:/bin", "EMPTY=", "X==y", NULL};
static char *argv_min[] = {"true", NULL};
static uint32_t groups[] = {100, 27, 0};
static const uint8_t bytes[] = {0, 1, 2, 0xff, '\n', 0};
static uint8_t chunk[HYP_DATA_CHUNK];

static const struct hyp_msg samples[] = {
    {.type = HYP_MSG_HELLO, .hello = {HYP_PROTO_VERSION_MAX, HYP_FRAME_MAX_PAYLOAD}},
    {.type = HYP_MSG_PING, .nonce = 0x0123456789abcdefULL},
    {.type = HYP_MSG_PONG, .nonce = UINT64_MAX},
    {.type = HYP_MSG_EXEC,
     .stream = 1,
     .exec = {.flags = HYP_EXEC_FLAGS_ALL,
              .uid = 1000,
              .gid = 1000,
              .umask = 022,
              .rows = 50,
              .cols = 132,
              .ngroups = 3,
              .groups = groups,
              .cwd = "/home/alice/run dir",
              .argv = argv_full,
              .argc = 4,
              .envp = env_full,
              .envc = 3,
              .nlimits = 3,
              .limits = {{7, 512, 4096}, {3, 8388608, UINT64_MAX}, {4, 0, 0}},
              .file_size = HYP_EXEC_FILE_MAX}},
    {.type = HYP_MSG_EXEC, .stream = 1, .exec = {.cwd = "/", .argv = argv_min, .argc = 1}},
    {.type = HYP_MSG_STDIN, .stream = 1, .data = {bytes, sizeof(bytes)}},
    {.type = HYP_MSG_STDIN_EOF, .stream = 1},
    {.type = HYP_MSG_STDOUT, .stream = 1, .data = {bytes, 1}},
    {.type = HYP_MSG_STDERR, .stream = 1, .data = {chunk, sizeof(chunk)}},
    {.type = HYP_MSG_SIGNAL, .stream = 1, .signo = 15},
    {.type = HYP_MSG_SIGNAL, .stream = 1, .signo = 64},
    {.type = HYP_MSG_WINCH, .stream = 1, .winsize = {50, 200}},
    {.type = HYP_MSG_EXIT, .stream = 1, .exit = {.code = 0}},
    {.type = HYP_MSG_EXIT, .stream = 1, .exit = {.code = 255}},
    {.type = HYP_MSG_EXIT,
     .stream = 1,
     .exit = {.signaled = true, .core_dumped = true, .code = 11}},
    {.type = HYP_MSG_ERROR, .error = {ENOENT, "cwd '/nope' does not exist in the guest"}},
    {.type = HYP_MSG_ERROR, .error = {EIO, NULL}},
    {.type = HYP_MSG_POWEROFF},
    {.type = HYP_MSG_FILE, .stream = 1, .data = {bytes, sizeof(bytes)}},
    {.type = HYP_MSG_CREDIT, .stream = 65535, .credit = HYP_STREAM_WINDOW},
    {.type = HYP_MSG_ERROR, .stream = 3, .error = {EACCES, "on a stream"}},
    {.type = HYP_MSG_REQUEST,
     .stream = 2,
     .request = {.flags = HYP_EXEC_TTY,
                 .rows = 24,
                 .cols = 80,
                 .cwd = "/home/alice",
                 .argv = argv_full,
                 .argc = 4,
                 .envp = env_full,
                 .envc = 3}},
};
#define N_SAMPLES (sizeof(samples) / sizeof(samples[0]))

static void assert_strv_eq(char **a, char **b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		cr_assert_str_eq(a[i], b[i]);
	cr_assert_null(b[n], "decoded vectors are NULL-terminated");
}

static void assert_exec_eq(const struct hyp_exec_request *a, const struct hyp_exec_request *b)
{
	cr_assert(a->flags == b->flags && a->uid == b->uid && a->gid == b->gid);
	cr_assert(a->umask == b->umask && a->rows == b->rows && a->cols == b->cols);
	cr_assert_eq(a->ngroups, b->ngroups);
	if (a->ngroups)
		cr_assert_arr_eq(a->groups, b->groups, a->ngroups * sizeof(uint32_t));
	cr_assert_str_eq(a->cwd, b->cwd);
	cr_assert_eq(a->argc, b->argc);
	assert_strv_eq(a->argv, b->argv, a->argc);
	cr_assert_eq(a->envc, b->envc);
	assert_strv_eq(a->envp, b->envp, a->envc);
	cr_assert_eq(a->nlimits, b->nlimits);
	for (uint32_t i = 0; i < a->nlimits; i++)
		cr_assert(a->limits[i].resource == b->limits[i].resource &&
		          a->limits[i].soft == b->limits[i].soft &&
		          a->limits[i].hard == b->limits[i].hard);
	cr_assert_eq(a->file_size, b->file_size);
}

static void assert_msg_eq(const struct hyp_msg *a, const struct hyp_msg *b)
{
	cr_assert_eq(a->type, b->type);
	cr_assert_eq(a->stream, b->stream);
	switch (a->type) {
	case HYP_MSG_EXEC:
		assert_exec_eq(&a->exec, &b->exec);
		return;
	case HYP_MSG_STDIN:
	case HYP_MSG_STDOUT:
	case HYP_MSG_STDERR:
	case HYP_MSG_FILE:
		cr_assert_eq(a->data.len, b->data.len);
		cr_assert_arr_eq(a->data.data, b->data.data, a->data.len);
		return;
	case HYP_MSG_ERROR:
		cr_assert_eq(a->error.code, b->error.code);
		cr_assert_str_eq(a->error.message ? a->error.message : "", b->error.message);
		return;
	case HYP_MSG_HELLO:
		cr_assert(a->hello.version == b->hello.version);
		cr_assert(a->hello.max_payload == b->hello.max_payload);
		return;
	case HYP_MSG_PING:
	case HYP_MSG_PONG:
		cr_assert_eq(a->nonce, b->nonce);
		return;
	case HYP_MSG_SIGNAL:
		cr_assert_eq(a->signo, b->signo);
		return;
	case HYP_MSG_CREDIT:
		cr_assert_eq(a->credit, b->credit);
		return;
	case HYP_MSG_REQUEST:
		cr_assert(a->request.flags == b->request.flags &&
		          a->request.rows == b->request.rows && a->request.cols == b->request.cols);
		cr_assert_str_eq(a->request.cwd, b->request.cwd);
		cr_assert_eq(a->request.argc, b->request.argc);
		assert_strv_eq(a->request.argv, b->request.argv, a->request.argc);
		cr_assert_eq(a->request.envc, b->request.envc);
		assert_strv_eq(a->request.envp, b->request.envp, a->request.envc);
		return;
	case HYP_MSG_WINCH:
		cr_assert(a->winsize.rows == b->winsize.rows && a->winsize.cols == b->winsize.cols);
		return;
	case HYP_MSG_EXIT:
		cr_assert(a->exit.signaled == b->exit.signaled && a->exit.code == b->exit.code);
		cr_assert(a->exit.core_dumped == b->exit.core_dumped);
		return;
	}
}

static bool is_data_type(uint16_t type)
{
	return type == HYP_MSG_STDIN || type == HYP_MSG_STDOUT || type == HYP_MSG_STDERR ||
	       type == HYP_MSG_FILE;
}

static void encode_ok(struct hyp_buf *buf, const struct hyp_msg *msg)
{
	hyp_error err = {0};
	cr_assert_eq(hyp_msg_encode(buf, msg, &err), 0, "encoding %s: %s",
	             hyp_msg_type_name(msg->type), err.msg);
}

/* Decode from an exactly-sized heap copy, so reading past len is caught by
 * ASan/valgrind. */
static ssize_t decode_copy(const uint8_t *data, size_t len, struct hyp_msg *m, hyp_error *err)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, data, len);
	ssize_t n = hyp_msg_decode(copy, len, m, err);
	if (n > 0 && is_data_type(m->type))
		m->data.data = data + (m->data.data - copy);
	free(copy);
	return n;
}

Test(proto, round_trip_every_message)
{
	for (size_t i = 0; i < N_SAMPLES; i++) {
		struct hyp_buf buf = {0}, again = {0};
		struct hyp_msg m;
		hyp_error err = {0};
		encode_ok(&buf, &samples[i]);
		ssize_t n = decode_copy(buf.data, buf.len, &m, &err);
		cr_assert_eq(n, (ssize_t)buf.len, "sample %zu: %s", i, err.msg);
		assert_msg_eq(&samples[i], &m);
		encode_ok(&again, &m);
		cr_assert_eq(again.len, buf.len);
		cr_assert_arr_eq(again.data, buf.data, buf.len, "re-encoding is identical");
		hyp_msg_clear(&m);
		hyp_buf_free(&buf);
		hyp_buf_free(&again);
	}
}

Test(proto, every_type_has_a_name)
{
	for (uint16_t t = HYP_MSG_HELLO; t < HYP_MSG_TYPE_COUNT; t++)
		cr_assert_str_neq(hyp_msg_type_name(t), "unknown");
	cr_assert_str_eq(hyp_msg_type_name(HYP_MSG_EXEC), "EXEC");
	cr_assert_str_eq(hyp_msg_type_name(0), "unknown");
	cr_assert_str_eq(hyp_msg_type_name(0x100), "REQUEST");
	cr_assert_str_eq(hyp_msg_type_name(0x101), "unknown");
}

Test(proto, truncated_at_every_offset_needs_more)
{
	for (size_t i = 0; i < N_SAMPLES; i++) {
		struct hyp_buf buf = {0};
		encode_ok(&buf, &samples[i]);
		size_t step = buf.len > 4096 ? 61 : 1; /* the 32 KiB chunk: sample it */
		for (size_t cut = 0; cut < buf.len; cut += step) {
			struct hyp_msg m;
			hyp_error err = {0};
			cr_assert_eq(decode_copy(buf.data, cut, &m, &err), 0,
			             "sample %zu cut at %zu: %s", i, cut, err.msg);
		}
		hyp_buf_free(&buf);
	}
}

/* A frame whose header claims a shorter payload: a data frame just shrinks,
 * everything else is malformed; nothing crashes or leaks. */
Test(proto, payload_cut_short_in_the_header)
{
	for (size_t i = 0; i < N_SAMPLES; i++) {
		struct hyp_buf buf = {0};
		encode_ok(&buf, &samples[i]);
		for (size_t cut = 0; cut + HYP_FRAME_HEADER_SIZE < buf.len && cut < 4096; cut++) {
			struct hyp_msg m;
			hyp_error err = {0};
			uint8_t *p = buf.data;
			p[0] = cut >> 24, p[1] = cut >> 16, p[2] = cut >> 8, p[3] = cut;
			ssize_t n = decode_copy(buf.data, cut + HYP_FRAME_HEADER_SIZE, &m, &err);
			if (is_data_type(samples[i].type) && cut > 0) {
				cr_assert_eq(n, (ssize_t)cut + HYP_FRAME_HEADER_SIZE);
				continue;
			}
			cr_assert_eq(n, -EPROTO, "sample %zu cut to %zu", i, cut);
			cr_assert_eq(err.code, EPROTO);
			cr_assert(strncmp(err.msg, "frame type ", 11) == 0, "%s", err.msg);
		}
		hyp_buf_free(&buf);
	}
}

Test(proto, stream_of_frames)
{
	struct hyp_buf buf = {0};
	for (size_t i = 0; i < N_SAMPLES; i++)
		encode_ok(&buf, &samples[i]);
	size_t off = 0;
	for (size_t i = 0; i < N_SAMPLES; i++) {
		struct hyp_msg m;
		ssize_t n = hyp_msg_decode(buf.data + off, buf.len - off, &m, NULL);
		cr_assert_gt(n, 0);
		assert_msg_eq(&samples[i], &m);
		hyp_msg_clear(&m);
		off += n;
	}
	cr_assert_eq(off, buf.len);
	hyp_buf_free(&buf);
}

Test(proto, buffer_append_consume_compact)
{
	struct hyp_buf b = {0};
	static uint8_t big[10000];
	cr_assert_eq(hyp_buf_append(&b, "abc", 3, NULL), 0);
	hyp_buf_consume(&b, 1);
	cr_assert_eq(hyp_buf_pending(&b), 2);
	cr_assert_eq(memcmp(b.data + b.off, "bc", 2), 0);
	hyp_buf_consume(&b, 100);
	cr_assert(hyp_buf_pending(&b) == 0 && b.off == 0 && b.len == 0);

	memset(big, 'x', sizeof(big));
	cr_assert_eq(hyp_buf_append(&b, big, 4000, NULL), 0);
	size_t cap = b.cap;
	hyp_buf_consume(&b, 3000);
	cr_assert_eq(hyp_buf_append(&b, "yz", 2, NULL), 0);
	cr_assert(b.off == 0 && b.cap == cap, "consumed space is reused");
	cr_assert_eq(memcmp(b.data + 1000, "yz", 2), 0);
	cr_assert_eq(hyp_buf_append(&b, big, sizeof(big), NULL), 0);
	cr_assert(hyp_buf_pending(&b) == 11002 && b.cap >= 11002);
	cr_assert_eq(hyp_buf_append(&b, NULL, 0, NULL), 0);
	hyp_buf_free(&b);
	cr_assert(b.data == NULL && b.cap == 0);
}

Test(proto, hello_check)
{
	hyp_error err = {0};
	uint32_t v = 0;
	struct hyp_hello ok = {HYP_PROTO_VERSION_MAX, HYP_FRAME_MAX_PAYLOAD};
	struct hyp_hello v2 = {2, HYP_FRAME_MAX_PAYLOAD};
	struct hyp_hello tiny = {HYP_PROTO_VERSION_MAX, 4096};
	cr_assert_eq(hyp_hello_check(&ok, &v, &err), 0);
	cr_assert_eq(v, HYP_PROTO_VERSION_MAX);
	cr_assert_eq(hyp_hello_check(&v2, &v, &err), -EPROTONOSUPPORT);
	cr_assert_str_eq(err.msg, "the peer speaks protocol versions up to 2, this side 3 to 3");
	cr_assert_eq(hyp_hello_check(&tiny, &v, &err), -EPROTO);
	cr_assert(strstr(err.msg, "4096"), "%s", err.msg);
}

/* A newer peer speaks our highest version too: the lower of the two wins. */
Test(proto, hello_negotiates_the_highest_common_version)
{
	hyp_error err = {0};
	uint32_t v = 0;
	struct hyp_hello newer = {HYP_PROTO_VERSION_MAX + 5, HYP_FRAME_MAX_PAYLOAD};
	cr_assert_eq(hyp_hello_check(&newer, &v, &err), 0, "%s", err.msg);
	cr_assert_eq(v, HYP_PROTO_VERSION_MAX);
	struct hyp_msg ours = hyp_hello_ours();
	cr_assert(ours.type == HYP_MSG_HELLO && ours.stream == 0);
	cr_assert_eq(ours.hello.version, HYP_PROTO_VERSION_MAX);
}

/* The descriptors: who sends what, on which streams. */
Test(proto, senders_and_streams)
{
	hyp_error err = {0};
	struct hyp_msg out = {.type = HYP_MSG_STDOUT, .stream = 1, .data = {bytes, 1}};
	cr_assert_eq(hyp_msg_check_sender(&out, HYP_SIDE_GUEST, &err), 0);
	cr_assert_eq(hyp_msg_check_sender(&out, HYP_SIDE_HOST, &err), -EPROTO);
	cr_assert_str_eq(err.msg, "unexpected STDOUT frame from the host on stream 1");
	out.stream = 2; /* a stream the guest opened: the host is its acceptor */
	cr_assert_eq(hyp_msg_check_sender(&out, HYP_SIDE_HOST, &err), 0);
	struct hyp_msg exec = {.type = HYP_MSG_EXEC, .stream = 2};
	cr_assert_eq(hyp_msg_check_sender(&exec, HYP_SIDE_HOST, &err), -EPROTO);
	cr_assert(strstr(err.msg, "which the guest opens"), "%s", err.msg);
	struct hyp_msg pong = {.type = HYP_MSG_PONG};
	cr_assert_eq(hyp_msg_check_sender(&pong, HYP_SIDE_HOST, &err), -EPROTO);
	struct hyp_msg req = {.type = HYP_MSG_REQUEST, .stream = 2};
	cr_assert_eq(hyp_msg_check_sender(&req, HYP_SIDE_GUEST, &err), 0);
	cr_assert_eq(hyp_msg_check_sender(&req, HYP_SIDE_HOST, &err), -EPROTO);
	req.stream = 1;
	cr_assert_eq(hyp_msg_check_sender(&req, HYP_SIDE_GUEST, &err), -EPROTO);
	cr_assert(strstr(err.msg, "which the host opens"), "%s", err.msg);
	for (uint16_t t = HYP_MSG_HELLO; t < HYP_MSG_TYPE_COUNT; t++) {
		const struct hyp_msg_desc *d = hyp_msg_desc(t);
		cr_assert(d && d->name && d->min_size <= d->max_size, "type %u", t);
		cr_assert_leq(d->max_size, HYP_FRAME_MAX_PAYLOAD);
	}
	cr_assert_null(hyp_msg_desc(0));
	cr_assert_null(hyp_msg_desc(HYP_MSG_TYPE_COUNT));
	cr_assert(hyp_msg_desc(HYP_MSG_STDIN)->counted && !hyp_msg_desc(HYP_MSG_FILE)->counted);
}

Test(proto, hello_of_another_version_still_decodes)
{
	/* version 2's HELLO: the same bytes in every version */
	const uint8_t frame[] = {0, 0, 0, 8, 0, 1, 0, 0, 0, 0, 0, 2, 0, 4, 0, 0};
	struct hyp_msg m;
	hyp_error err = {0};
	uint32_t v;
	cr_assert_eq(hyp_msg_decode(frame, sizeof(frame), &m, &err), 16);
	cr_assert(m.hello.version == 2 && m.hello.max_payload == 0x40000);
	cr_assert_lt(hyp_hello_check(&m.hello, &v, &err), 0);
}

/* ---- malformed frames, built byte by byte ---- */

struct raw {
	uint8_t b[HYP_FRAME_HEADER_SIZE + HYP_FRAME_MAX_PAYLOAD + 16];
	size_t n;
};

static void raw_u8(struct raw *r, uint8_t v)
{
	r->b[r->n++] = v;
}

static void raw_u16(struct raw *r, uint16_t v)
{
	raw_u8(r, v >> 8);
	raw_u8(r, v);
}

static void raw_u32(struct raw *r, uint32_t v)
{
	raw_u16(r, v >> 16);
	raw_u16(r, v);
}

static void raw_u64(struct raw *r, uint64_t v)
{
	raw_u32(r, v >> 32);
	raw_u32(r, v);
}

static void raw_mem(struct raw *r, const void *p, size_t n)
{
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

static void raw_str(struct raw *r, const char *s)
{
	raw_u32(r, strlen(s));
	raw_mem(r, s, strlen(s));
}

static struct raw *frame_begin(void)
{
	struct raw *r = calloc(1, sizeof(*r));
	r->n = HYP_FRAME_HEADER_SIZE;
	return r;
}

/* Write the header for what was added since frame_begin(), decode. */
/* Stream 1 for a stream message, unless the test says otherwise. */
static uint16_t stream_for(uint16_t type, uint16_t stream)
{
	const struct hyp_msg_desc *d = hyp_msg_desc(type);
	if (stream || !d || d->scope == HYP_SCOPE_SESSION || d->scope == HYP_SCOPE_ANY)
		return stream;
	return 1;
}

static ssize_t frame_decode(struct raw *r, uint16_t type, uint16_t flags, hyp_error *err)
{
	size_t n = r->n;
	struct hyp_msg m;

	flags = stream_for(type, flags);
	r->n = 0;
	raw_u32(r, n - HYP_FRAME_HEADER_SIZE);
	raw_u16(r, type);
	raw_u16(r, flags);
	r->n = n;
	ssize_t got = decode_copy(r->b, n, &m, err);
	if (got > 0)
		hyp_msg_clear(&m);
	return got;
}

static void expect_bad(struct raw *r, uint16_t type, uint16_t flags, const char *needle)
{
	hyp_error err = {0};
	ssize_t got = frame_decode(r, type, flags, &err);

	cr_assert_eq(got, -EPROTO, "accepted (wanted '%s')", needle);
	cr_assert_eq(err.code, EPROTO);
	cr_assert(strstr(err.msg, needle), "'%s' does not say '%s'", err.msg, needle);
	free(r);
}

static void expect_good(struct raw *r, uint16_t type)
{
	hyp_error err = {0};
	cr_assert_gt(frame_decode(r, type, 0, &err), 0, "%s", err.msg);
	free(r);
}

/* flags 0, uid 1000, gid 1000, umask 022, 24 rows, 80 cols */
static struct raw *exec_head(void)
{
	struct raw *r = frame_begin();
	raw_u32(r, 0);
	raw_u32(r, 1000);
	raw_u32(r, 1000);
	raw_u32(r, 022);
	raw_u16(r, 24);
	raw_u16(r, 80);
	return r;
}

/* no groups, cwd, argv = {arg0}, env = {env0} or none */
static struct raw *exec_with(const char *cwd, const char *arg0, const char *env0)
{
	struct raw *r = exec_head();
	raw_u32(r, 0);
	raw_str(r, cwd);
	raw_u32(r, 1);
	raw_str(r, arg0);
	raw_u32(r, env0 ? 1 : 0);
	if (env0)
		raw_str(r, env0);
	raw_u32(r, 0); /* nlimits */
	raw_u64(r, 0); /* file_size */
	return r;
}

static void expect_header_bad(uint32_t len, uint16_t type, uint16_t flags, const char *needle)
{
	struct raw *r = calloc(1, sizeof(*r));
	hyp_error err = {0};
	struct hyp_msg m;

	raw_u32(r, len);
	raw_u16(r, type);
	raw_u16(r, stream_for(type, flags));
	cr_assert_eq(decode_copy(r->b, r->n, &m, &err), -EPROTO, "header alone is enough to fail");
	cr_assert(strstr(err.msg, needle), "'%s' does not say '%s'", err.msg, needle);
	free(r);
}

Test(proto_bad, header)
{
	expect_header_bad(HYP_FRAME_MAX_PAYLOAD + 1, HYP_MSG_STDOUT, 0,
	                  "frame type 7 (STDOUT): length 262145 exceeds the limit of 262144");
	expect_header_bad(UINT32_MAX, HYP_MSG_EXEC, 0, "exceeds the limit");
	expect_header_bad(0, 0, 0, "unknown frame type 0");
	expect_header_bad(0, 99, 0, "unknown frame type 99");
	expect_header_bad(0, 0xffff, 0, "unknown frame type 65535");
	expect_header_bad(0, 0x101, 0, "frame type 257 is reserved for guest requests");
	expect_header_bad(10, HYP_MSG_REQUEST, 2, "frame type 256 (REQUEST): payload is 10 bytes");
	expect_header_bad(8, HYP_MSG_PING, 0x8000,
	                  "frame type 2 (PING): stream 32768 (a session message is on stream 0)");
	expect_header_bad(8, HYP_MSG_HELLO, 1, "frame type 1 (HELLO): stream 1");
	expect_header_bad(3, HYP_MSG_EXEC, 0,
	                  "frame type 4 (EXEC): payload is 3 bytes, not in 48..");
	expect_header_bad(1033, HYP_MSG_ERROR, 0, "payload is 1033 bytes, not in 8..1032");
	expect_header_bad(0, HYP_MSG_STDIN, 0, "payload is 0 bytes, not in 1..262144");
}

Test(proto_bad, fixed_size_messages_have_exactly_their_size)
{
	const struct {
		uint16_t type;
		uint32_t size;
	} fixed[] = {{HYP_MSG_HELLO, 8},     {HYP_MSG_PING, 8},     {HYP_MSG_PONG, 8},
	             {HYP_MSG_SIGNAL, 4},    {HYP_MSG_WINCH, 4},    {HYP_MSG_EXIT, 6},
	             {HYP_MSG_STDIN_EOF, 0}, {HYP_MSG_POWEROFF, 0}, {HYP_MSG_CREDIT, 4}};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		expect_header_bad(fixed[i].size + 1, fixed[i].type, 0, "expected exactly");
		if (fixed[i].size > 0)
			expect_header_bad(fixed[i].size - 1, fixed[i].type, 0, "expected exactly");
	}
	struct raw *r = frame_begin();
	raw_u32(r, 15);
	raw_u8(r, 0); /* trailing garbage after a good SIGNAL */
	expect_bad(r, HYP_MSG_SIGNAL, 0, "payload is 5 bytes, expected exactly 4");
}

Test(proto_bad, exec_counts)
{
	struct raw *r = exec_head();
	raw_u32(r, 0);
	raw_str(r, "/");
	raw_u32(r, 5000);
	for (int i = 0; i < 5000; i++)
		raw_str(r, "x");
	raw_u32(r, 0);
	expect_bad(r, HYP_MSG_EXEC, 0, "frame type 4 (EXEC): argc 5000 exceeds the limit of 4096");

	r = exec_head();
	raw_u32(r, 0);
	raw_str(r, "/");
	raw_u32(r, 1000); /* within the limit, but 4000 bytes are not there */
	raw_str(r, "x");
	raw_u32(r, 0);
	raw_u64(r, 0);
	expect_bad(r, HYP_MSG_EXEC, 0, "argc 1000 does not fit in the 17 bytes left");

	r = exec_head();
	raw_u32(r, 2000);
	for (int i = 0; i < 3; i++)
		raw_u64(r, 0);
	expect_bad(r, HYP_MSG_EXEC, 0, "ngroups 2000 exceeds the limit of 1024");
	r = exec_head();
	raw_u32(r, 100);
	raw_u32(r, 5);
	for (int i = 0; i < 3; i++)
		raw_u64(r, 0); /* as long as the smallest EXEC */
	expect_bad(r, HYP_MSG_EXEC, 0, "ngroups 100 does not fit in the 28 bytes left");

	r = exec_head();
	raw_u32(r, 0);
	raw_str(r, "/");
	raw_u32(r, 1);
	raw_str(r, "x");
	raw_u32(r, UINT32_MAX);
	raw_u64(r, 0);
	expect_bad(r, HYP_MSG_EXEC, 0, "envc 4294967295 exceeds the limit of 4096");
}

Test(proto_bad, exec_strings)
{
	expect_bad(exec_with("relative", "x", NULL), HYP_MSG_EXEC, 0,
	           "cwd 'relative' is not absolute");
	expect_bad(exec_with("", "x", NULL), HYP_MSG_EXEC, 0, "cwd is empty");
	expect_bad(exec_with("/", "", NULL), HYP_MSG_EXEC, 0, "argv[0] is empty");
	expect_bad(exec_with("/", "x", "NOEQUALS"), HYP_MSG_EXEC, 0, "env[0] is not NAME=VALUE");
	expect_bad(exec_with("/", "x", "=x"), HYP_MSG_EXEC, 0, "env[0] is not NAME=VALUE");
	expect_good(exec_with("/", "x", "A="), HYP_MSG_EXEC);

	static char long_cwd[HYP_PATH_MAX + 1];
	memset(long_cwd, 'd', HYP_PATH_MAX);
	long_cwd[0] = '/';
	expect_bad(exec_with(long_cwd, "x", NULL), HYP_MSG_EXEC, 0,
	           "cwd is 4096 bytes, the limit is 4095");
	long_cwd[HYP_PATH_MAX - 1] = '\0';
	expect_good(exec_with(long_cwd, "x", NULL), HYP_MSG_EXEC);
}

Test(proto_bad, exec_embedded_nul)
{
	struct raw *r = exec_with("/", "x", "A=1");
	r->b[r->n - 12 - 2] = '\0'; /* "A\0" + "1", before nlimits and file_size */
	expect_bad(r, HYP_MSG_EXEC, 0, "env[0] contains a NUL byte");
	r = exec_with("/tmp", "x", NULL);
	r->b[HYP_FRAME_HEADER_SIZE + 20 + 4 + 4 + 2] = '\0'; /* "/t\0p" */
	expect_bad(r, HYP_MSG_EXEC, 0, "cwd contains a NUL byte");
	r = exec_head();
	raw_u32(r, 0);
	raw_str(r, "/");
	raw_u32(r, 2);
	raw_str(r, "sh");
	raw_u32(r, 3);
	raw_mem(r, "a\0b", 3);
	raw_u32(r, 0);
	expect_bad(r, HYP_MSG_EXEC, 0, "argv[1] contains a NUL byte");
}

Test(proto_bad, exec_fields)
{
	struct raw *r = exec_with("/", "x", NULL);
	r->b[HYP_FRAME_HEADER_SIZE + 3] = 0x09; /* TTY | 0x8 */
	expect_bad(r, HYP_MSG_EXEC, 0, "unknown flags 0x8");

	r = exec_with("/", "x", NULL);
	memset(r->b + HYP_FRAME_HEADER_SIZE + 4, 0xff, 4); /* uid (uid_t)-1 */
	expect_bad(r, HYP_MSG_EXEC, 0, "uid 4294967295 / gid 1000 is not valid");
	r = exec_with("/", "x", NULL);
	r->b[HYP_FRAME_HEADER_SIZE + 14] = 0x02; /* umask 01022 */
	expect_bad(r, HYP_MSG_EXEC, 0, "umask 01022 is not a permission mask");

	r = exec_head();
	raw_u32(r, 1);
	raw_u32(r, UINT32_MAX);
	raw_str(r, "/");
	raw_u32(r, 1);
	raw_str(r, "x");
	raw_u32(r, 0);
	raw_u32(r, 0);
	raw_u64(r, 0);
	expect_bad(r, HYP_MSG_EXEC, 0, "groups[0] is missing or not valid");

	r = exec_head();
	raw_u16(r, 0); /* cut inside ngroups */
	expect_bad(r, HYP_MSG_EXEC, 0, "payload is 22 bytes, not in 48..262144");
	r = frame_begin();
	raw_u32(r, 0);
	expect_bad(r, HYP_MSG_EXEC, 0, "payload is 4 bytes, not in 48..262144");

	r = exec_with("/", "x", NULL);
	r->b[HYP_FRAME_HEADER_SIZE + 20 + 4 + 4 + 1 + 4 + 3] = 21; /* argv[0] claims 21 bytes */
	expect_bad(r, HYP_MSG_EXEC, 0, "argv[0] runs past the end of the payload");

	r = exec_with("/", "x", NULL);
	raw_u8(r, 'z');
	expect_bad(r, HYP_MSG_EXEC, 0, "trailing");
}

/* no groups, cwd "/", argv {"x"}, no env; then the tail as given */
static struct raw *exec_tail(uint32_t flags, uint32_t nlimits)
{
	struct raw *r = exec_head();
	r->b[HYP_FRAME_HEADER_SIZE + 3] = (uint8_t)flags;
	raw_u32(r, 0);
	raw_str(r, "/");
	raw_u32(r, 1);
	raw_str(r, "x");
	raw_u32(r, 0);
	raw_u32(r, nlimits);
	return r;
}

static void raw_limit(struct raw *r, uint32_t resource, uint64_t soft, uint64_t hard)
{
	raw_u32(r, resource);
	raw_u64(r, soft);
	raw_u64(r, hard);
}

Test(proto_bad, exec_limits_and_file)
{
	struct raw *r = exec_tail(0, 17);
	raw_u64(r, 0);
	expect_bad(r, HYP_MSG_EXEC, 0, "nlimits 17 exceeds the limit of 16");
	r = exec_tail(0, 2);
	raw_limit(r, 7, 1, 2);
	raw_u64(r, 0);
	expect_bad(r, HYP_MSG_EXEC, 0, "nlimits 2 does not fit in the 28 bytes left");
	r = exec_tail(0, 1);
	raw_limit(r, 16, 1, 2);
	raw_u64(r, 0);
	expect_bad(r, HYP_MSG_EXEC, 0, "limits[0]: resource 16 is not in 0..15");
	r = exec_tail(0, 2);
	raw_limit(r, 7, 1, 2);
	raw_limit(r, 7, 1, 2);
	raw_u64(r, 0);
	expect_bad(r, HYP_MSG_EXEC, 0, "limits[1]: resource 7 given twice");
	r = exec_tail(0, 1);
	raw_limit(r, 3, 5, 4);
	raw_u64(r, 0);
	expect_bad(r, HYP_MSG_EXEC, 0, "limits[0]: soft limit above the hard one");
	r = exec_tail(0, 1);
	raw_limit(r, 3, 5, UINT64_MAX);
	raw_u64(r, 0);
	expect_good(r, HYP_MSG_EXEC);

	r = exec_tail(0, 0);
	raw_u64(r, 10);
	expect_bad(r, HYP_MSG_EXEC, 0, "file_size 10 without the FILE flag");
	r = exec_tail(HYP_EXEC_FILE, 0);
	raw_u64(r, HYP_EXEC_FILE_MAX + 1);
	expect_bad(r, HYP_MSG_EXEC, 0, "file_size 67108865 exceeds the limit of 67108864");
	r = exec_tail(HYP_EXEC_FILE, 0);
	raw_u32(r, 0); /* file_size cut short */
	expect_bad(r, HYP_MSG_EXEC, 0, "file_size runs past the end of the payload");
	r = exec_tail(HYP_EXEC_FILE, 0);
	raw_u64(r, 0);
	expect_good(r, HYP_MSG_EXEC);
	expect_bad(frame_begin(), HYP_MSG_FILE, 0,
	           "frame type 14 (FILE): payload is 0 bytes, not in 1..262144");
}

/* A 4 MiB file of any bytes, NUL included, survives FILE frames as a
 * sender cuts it and a receiver reassembles it. */
Test(proto, file_of_four_mib_round_trips)
{
	size_t size = 4 * 1024 * 1024, off = 0, got = 0;
	uint8_t *file = malloc(size), *back = malloc(size);
	for (size_t i = 0; i < size; i++)
		file[i] = (uint8_t)(i * 2654435761u >> 13);
	file[0] = '\0';
	file[size / 2] = '\0';
	char *argv[] = {"/var/spool/slurmd/job00042/slurm_script", NULL};
	struct hyp_msg exec = {
	    .type = HYP_MSG_EXEC,
	    .stream = 1,
	    .exec = {
	        .flags = HYP_EXEC_FILE, .cwd = "/", .argv = argv, .argc = 1, .file_size = size}};
	struct hyp_buf buf = {0};
	encode_ok(&buf, &exec);
	for (; off < size; off += HYP_DATA_CHUNK) {
		size_t n = size - off < HYP_DATA_CHUNK ? size - off : HYP_DATA_CHUNK;
		encode_ok(&buf, &(struct hyp_msg){
		                    .type = HYP_MSG_FILE, .stream = 1, .data = {file + off, n}});
	}
	struct hyp_msg m;
	hyp_error err = {0};
	ssize_t n = hyp_msg_decode(buf.data, buf.len, &m, &err);
	cr_assert_gt(n, 0, "%s", err.msg);
	cr_assert(m.type == HYP_MSG_EXEC && (m.exec.flags & HYP_EXEC_FILE));
	cr_assert_eq(m.exec.file_size, size);
	hyp_msg_clear(&m);
	for (size_t at = (size_t)n; at < buf.len; at += (size_t)n) {
		n = hyp_msg_decode(buf.data + at, buf.len - at, &m, &err);
		cr_assert_gt(n, 0, "%s", err.msg);
		cr_assert_eq(m.type, HYP_MSG_FILE);
		cr_assert_leq(got + m.data.len, size);
		memcpy(back + got, m.data.data, m.data.len);
		got += m.data.len;
	}
	cr_assert_eq(got, size);
	cr_assert_arr_eq(back, file, size);
	hyp_buf_free(&buf);
	free(file);
	free(back);
}

Test(proto_bad, values)
{
	struct raw *r = frame_begin();
	raw_u32(r, 0);
	expect_bad(r, HYP_MSG_SIGNAL, 0, "frame type 9 (SIGNAL): signal 0 is not in 1..64");
	r = frame_begin();
	raw_u32(r, 65);
	expect_bad(r, HYP_MSG_SIGNAL, 0, "signal 65 is not in 1..64");

	const uint8_t exits[][6] = {{0, 0, 0, 0, 1, 0},
	                            {1, 0, 0, 0, 0, 0},
	                            {2, 0, 0, 0, 0, 9},
	                            {0, 1, 0, 0, 0, 1},
	                            {1, 0, 0, 0, 0, 65}};
	const char *why[] = {"exit status 256 exceeds 255", "signal 0 is not in 1..64",
	                     "signaled 2 is not 0 or 1", "core_dumped set without signaled",
	                     "signal 65 is not in 1..64"};
	for (size_t i = 0; i < 5; i++) {
		r = frame_begin();
		raw_mem(r, exits[i], 6);
		expect_bad(r, HYP_MSG_EXIT, 0, why[i]);
	}
	expect_bad(frame_begin(), HYP_MSG_STDIN, 0, "payload is 0 bytes, not in 1..262144");
}

Test(proto_bad, error_frames)
{
	static char text[HYP_MESSAGE_MAX + 2];
	struct raw *r = frame_begin();
	raw_u32(r, 0);
	raw_str(r, "x");
	expect_bad(r, HYP_MSG_ERROR, 0, "error code 0 is not in 1..4095");

	memset(text, 'm', HYP_MESSAGE_MAX + 1);
	r = frame_begin();
	raw_u32(r, EIO);
	raw_str(r, text);
	expect_bad(r, HYP_MSG_ERROR, 0, "payload is 1033 bytes, not in 8..1032");
	text[HYP_MESSAGE_MAX] = '\0';
	r = frame_begin();
	raw_u32(r, EIO);
	raw_str(r, text);
	expect_good(r, HYP_MSG_ERROR);

	r = frame_begin();
	raw_u32(r, EIO);
	raw_u32(r, 3);
	raw_mem(r, "a\0b", 3);
	expect_bad(r, HYP_MSG_ERROR, 0, "message contains a NUL byte");
	r = frame_begin();
	raw_u32(r, EIO);
	raw_u32(r, 100);
	expect_bad(r, HYP_MSG_ERROR, 0, "message runs past the end");
}

Test(proto_bad, data_up_to_a_whole_frame_decodes)
{
	struct raw *r = frame_begin();
	memset(r->b + r->n, 'd', HYP_FRAME_MAX_PAYLOAD);
	r->n += HYP_FRAME_MAX_PAYLOAD;
	expect_good(r, HYP_MSG_STDOUT);
}

/* ---- the encoder refuses what the decoder would reject ---- */

static void expect_refused(const struct hyp_msg *in, int code, const char *needle)
{
	struct hyp_buf buf = {0};
	hyp_error err = {0};
	struct hyp_msg copy = *in, *msg = &copy;

	copy.stream = stream_for(in->type, in->stream);
	hyp_buf_append(&buf, "keep", 4, NULL);
	cr_assert_eq(hyp_msg_encode(&buf, msg, &err), -code, "wanted '%s', got '%s'", needle,
	             err.msg);
	cr_assert(strstr(err.msg, needle), "'%s' does not say '%s'", err.msg, needle);
	cr_assert_eq(hyp_buf_pending(&buf), 4, "nothing appended");
	hyp_buf_free(&buf);
}

Test(proto_encode, refuses_bad_exec)
{
	char **many = calloc(5001, sizeof(char *));
	for (int i = 0; i < 5000; i++)
		many[i] = "x";
	char *bad_env[] = {"PATH", NULL};
	uint32_t bad_groups[] = {UINT32_MAX};
	struct hyp_msg m = {.type = HYP_MSG_EXEC, .exec = {.cwd = "/", .argv = many, .argc = 5000}};

	expect_refused(&m, EINVAL, "frame type 4 (EXEC): argc 5000 exceeds the limit of 4096");
	m.exec.argc = 0;
	expect_refused(&m, EINVAL, "argc is 0");
	m.exec.argc = 1;
	m.exec.cwd = "tmp";
	expect_refused(&m, EINVAL, "cwd 'tmp' is not absolute");
	m.exec.cwd = NULL;
	expect_refused(&m, EINVAL, "cwd is empty");
	m.exec.cwd = "/";
	m.exec.envp = bad_env;
	m.exec.envc = 1;
	expect_refused(&m, EINVAL, "env[0] is not NAME=VALUE");
	m.exec.envc = 0;
	m.exec.ngroups = 1;
	m.exec.groups = bad_groups;
	expect_refused(&m, EINVAL, "groups[0] is missing or not valid");
	m.exec.ngroups = 0;
	m.exec.flags = 0x80;
	expect_refused(&m, EINVAL, "unknown flags 0x80");
	m.exec.flags = 0;
	m.exec.file_size = 1;
	expect_refused(&m, EINVAL, "file_size 1 without the FILE flag");
	m.exec.file_size = 0;
	m.exec.nlimits = 1;
	m.exec.limits[0] = (struct hyp_rlimit){7, 2, 1};
	expect_refused(&m, EINVAL, "soft limit above the hard one");
	free(many);
}

Test(proto_encode, refuses_a_request_larger_than_a_frame)
{
	static char arg[4001];
	char *args[101] = {0};
	memset(arg, 'a', 4000);
	for (int i = 0; i < 100; i++)
		args[i] = arg;
	struct hyp_msg m = {.type = HYP_MSG_EXEC, .exec = {.cwd = "/", .argv = args, .argc = 100}};
	expect_refused(&m, EMSGSIZE, "payload of 400");
}

Test(proto_encode, refuses_bad_values)
{
	static uint8_t data[HYP_DATA_CHUNK + 1];
	static char text[HYP_MESSAGE_MAX + 2];
	memset(text, 'm', HYP_MESSAGE_MAX + 1);
	struct hyp_msg m = {.type = HYP_MSG_STDOUT, .data = {data, sizeof(data)}};
	expect_refused(&m, EINVAL, "32769 bytes of data exceed the limit of 32768");
	m.data.len = 0;
	expect_refused(&m, EINVAL, "no data");
	m.data = (typeof(m.data)){NULL, 1};
	expect_refused(&m, EINVAL, "data is missing");
	expect_refused(&(struct hyp_msg){.type = HYP_MSG_SIGNAL, .signo = 65}, EINVAL, "signal 65");
	expect_refused(&(struct hyp_msg){.type = HYP_MSG_EXIT, .exit = {.code = 256}}, EINVAL,
	               "exit status 256");
	expect_refused(&(struct hyp_msg){.type = HYP_MSG_ERROR, .error = {0, "x"}}, EINVAL,
	               "error code 0");
	expect_refused(&(struct hyp_msg){.type = HYP_MSG_ERROR, .error = {EIO, text}}, EINVAL,
	               "message is 1025 bytes");
	expect_refused(&(struct hyp_msg){.type = 99}, EINVAL, "unknown frame type 99");
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host-guest wire protocol: one descriptor per message type (who sends
 * it, on which streams, its size limits, its fields, whether its data is
 * counted against a stream's window, and the checks beyond the fields'),
 * the frame header, and the encoder and decoder driven by the descriptors.
 * doc/protocol.md is the schema; keep the two in step.
 *
 * The encoder and the decoder share one set of checks, so what one emits the
 * other accepts. The payload codec itself is hyp_codec.c.
 */
#include "hyp_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_codec.h"

#define HELLO_MIN_PAYLOAD (64 * 1024) /* smallest max_payload a peer may announce */
#define SIGNO_MAX         64          /* Linux x86-64: 1-31 standard, 32-64 real-time */
#define EXIT_STATUS_MAX   255
#define ERRNO_MAX         4095
#define UMASK_MAX         0777
#define INVALID_ID        UINT32_MAX /* (uid_t)-1 means "leave unchanged" to setresuid() */
#define RESOURCE_MAX      15         /* Linux's RLIMIT_RTTIME, the last one */
#define EXEC_MIN_SIZE     48 /* its fields with empty strings and vectors (a valid one: 54) */
#define MAX               HYP_FRAME_MAX_PAYLOAD
#define GUEST_FIRST       0x100 /* 0x100-0x1ff: reserved for requests from the guest */
#define GUEST_LAST        0x1ff
#define REQUEST_MIN_SIZE  20 /* its fields with empty strings and vectors */

/* ---- checks shared by the encoder and the decoder ---- */

static int check_ids(struct hyp_codec_ctx *c, const struct hyp_exec_request *x)
{
	if (x->uid == INVALID_ID || x->gid == INVALID_ID)
		return hyp_codec_bad(c, "uid %u / gid %u is not valid", x->uid, x->gid);
	if (x->ngroups > HYP_EXEC_MAX_GROUPS)
		return hyp_codec_bad(c, "ngroups %u exceeds the limit of %d", x->ngroups,
		                     HYP_EXEC_MAX_GROUPS);
	for (uint32_t i = 0; i < x->ngroups; i++)
		if (!x->groups || x->groups[i] == INVALID_ID)
			return hyp_codec_bad(c, "groups[%u] is missing or not valid", i);
	return 0;
}

static int check_cwd(struct hyp_codec_ctx *c, const char *cwd)
{
	if (!cwd || !cwd[0])
		return hyp_codec_bad(c, "cwd is empty");
	if (cwd[0] != '/')
		return hyp_codec_bad(c, "cwd '%.64s' is not absolute", cwd);
	if (strlen(cwd) >= HYP_PATH_MAX)
		return hyp_codec_bad(c, "cwd is %zu bytes, the limit is %d", strlen(cwd),
		                     HYP_PATH_MAX - 1);
	return 0;
}

static int check_argv(struct hyp_codec_ctx *c, const struct hyp_exec_request *x)
{
	if (x->argc == 0)
		return hyp_codec_bad(c, "argc is 0 (a command is required)");
	if (x->argc > HYP_EXEC_MAX_ARGS)
		return hyp_codec_bad(c, "argc %u exceeds the limit of %d", x->argc,
		                     HYP_EXEC_MAX_ARGS);
	for (uint32_t i = 0; i < x->argc; i++)
		if (!x->argv || !x->argv[i])
			return hyp_codec_bad(c, "argv[%u] is missing", i);
	if (!x->argv[0][0])
		return hyp_codec_bad(c, "argv[0] is empty");
	return 0;
}

static int check_env(struct hyp_codec_ctx *c, const struct hyp_exec_request *x)
{
	if (x->envc > HYP_EXEC_MAX_ENV)
		return hyp_codec_bad(c, "envc %u exceeds the limit of %d", x->envc,
		                     HYP_EXEC_MAX_ENV);
	for (uint32_t i = 0; i < x->envc; i++) {
		const char *e = x->envp ? x->envp[i] : NULL;
		if (!e)
			return hyp_codec_bad(c, "env[%u] is missing", i);
		/* values may be secrets: name the entry, never print it */
		if (e[0] == '=' || !strchr(e, '='))
			return hyp_codec_bad(c, "env[%u] is not NAME=VALUE", i);
	}
	return 0;
}

static int check_limits(struct hyp_codec_ctx *c, const struct hyp_exec_request *x)
{
	uint32_t seen = 0;

	if (x->nlimits > HYP_EXEC_MAX_LIMITS)
		return hyp_codec_bad(c, "nlimits %u exceeds the limit of %d", x->nlimits,
		                     HYP_EXEC_MAX_LIMITS);
	for (uint32_t i = 0; i < x->nlimits; i++) {
		const struct hyp_rlimit *l = &x->limits[i];
		if (l->resource > RESOURCE_MAX)
			return hyp_codec_bad(c, "limits[%u]: resource %u is not in 0..%d", i,
			                     l->resource, RESOURCE_MAX);
		if (seen & (1u << l->resource))
			return hyp_codec_bad(c, "limits[%u]: resource %u given twice", i,
			                     l->resource);
		if (l->soft > l->hard)
			return hyp_codec_bad(c, "limits[%u]: soft limit above the hard one", i);
		seen |= 1u << l->resource;
	}
	return 0;
}

static int check_file(struct hyp_codec_ctx *c, const struct hyp_exec_request *x)
{
	if (!(x->flags & HYP_EXEC_FILE) && x->file_size)
		return hyp_codec_bad(c, "file_size %llu without the FILE flag",
		                     (unsigned long long)x->file_size);
	if (x->file_size > HYP_EXEC_FILE_MAX)
		return hyp_codec_bad(c, "file_size %llu exceeds the limit of %llu",
		                     (unsigned long long)x->file_size, HYP_EXEC_FILE_MAX);
	return 0;
}

static int check_exec(struct hyp_codec_ctx *c, const struct hyp_exec_request *x)
{
	int r;

	if (x->flags & ~HYP_EXEC_FLAGS_ALL)
		return hyp_codec_bad(c, "unknown flags 0x%x", x->flags & ~HYP_EXEC_FLAGS_ALL);
	if (x->umask > UMASK_MAX)
		return hyp_codec_bad(c, "umask 0%o is not a permission mask", x->umask);
	if ((r = check_ids(c, x)) < 0 || (r = check_cwd(c, x->cwd)) < 0 ||
	    (r = check_argv(c, x)) < 0 || (r = check_env(c, x)) < 0 || (r = check_limits(c, x)) < 0)
		return r;
	return check_file(c, x);
}

/* A REQUEST: the same rules as an EXEC's cwd, argv and env. */
static int check_request(struct hyp_codec_ctx *c, const struct hyp_msg *msg, size_t data_max)
{
	const struct hyp_request *q = &msg->request;
	struct hyp_exec_request x = {
	    .cwd = q->cwd, .argv = q->argv, .argc = q->argc, .envp = q->envp, .envc = q->envc};
	int r;

	if (q->flags & ~HYP_EXEC_TTY)
		return hyp_codec_bad(c, "unknown flags 0x%x", q->flags & ~HYP_EXEC_TTY);
	if ((r = check_cwd(c, x.cwd)) < 0 || (r = check_argv(c, &x)) < 0)
		return r;
	return check_env(c, &x);
}

static int check_exit(struct hyp_codec_ctx *c, const struct hyp_exit *e)
{
	if (e->signaled && (e->code < 1 || e->code > SIGNO_MAX))
		return hyp_codec_bad(c, "signal %u is not in 1..%d", e->code, SIGNO_MAX);
	if (!e->signaled && e->code > EXIT_STATUS_MAX)
		return hyp_codec_bad(c, "exit status %u exceeds %d", e->code, EXIT_STATUS_MAX);
	if (!e->signaled && e->core_dumped)
		return hyp_codec_bad(c, "core_dumped set without signaled");
	return 0;
}

static int check_data(struct hyp_codec_ctx *c, const struct hyp_msg *msg, size_t max)
{
	if (msg->data.len == 0)
		return hyp_codec_bad(c, "no data (end of input is STDIN_EOF)");
	if (!msg->data.data)
		return hyp_codec_bad(c, "data is missing");
	if (msg->data.len > max)
		return hyp_codec_bad(c, "%zu bytes of data exceed the limit of %zu", msg->data.len,
		                     max);
	return 0;
}

static int check_error(struct hyp_codec_ctx *c, const struct hyp_msg *msg)
{
	size_t n = msg->error.message ? strlen(msg->error.message) : 0;

	if (msg->error.code < 1 || msg->error.code > ERRNO_MAX)
		return hyp_codec_bad(c, "error code %u is not in 1..%d", msg->error.code,
		                     ERRNO_MAX);
	if (n > HYP_MESSAGE_MAX)
		return hyp_codec_bad(c, "message is %zu bytes, the limit is %d", n,
		                     HYP_MESSAGE_MAX);
	return 0;
}

static int check_signal(struct hyp_codec_ctx *c, const struct hyp_msg *msg, size_t data_max)
{
	if (msg->signo < 1 || msg->signo > SIGNO_MAX)
		return hyp_codec_bad(c, "signal %u is not in 1..%d", msg->signo, SIGNO_MAX);
	return 0;
}

static int check_credit(struct hyp_codec_ctx *c, const struct hyp_msg *msg, size_t data_max)
{
	if (msg->credit < 1 || msg->credit > HYP_STREAM_WINDOW)
		return hyp_codec_bad(c, "credit %u is not in 1..%d", msg->credit,
		                     HYP_STREAM_WINDOW);
	return 0;
}

static int check_exec_msg(struct hyp_codec_ctx *c, const struct hyp_msg *msg, size_t data_max)
{
	return check_exec(c, &msg->exec);
}

static int check_exit_msg(struct hyp_codec_ctx *c, const struct hyp_msg *msg, size_t data_max)
{
	return check_exit(c, &msg->exit);
}

static int check_error_msg(struct hyp_codec_ctx *c, const struct hyp_msg *msg, size_t data_max)
{
	return check_error(c, msg);
}

/* ---- the messages: one descriptor each ---- */

#define F(kind, name, member) HYP_FIELD(kind, name, member)

static const struct hyp_field hello_fields[] = {F(HYP_F_U32, "version", hello.version),
                                                F(HYP_F_U32, "max_payload", hello.max_payload),
                                                HYP_FIELD_END};
static const struct hyp_field nonce_fields[] = {F(HYP_F_U64, "nonce", nonce), HYP_FIELD_END};
static const struct hyp_field exec_fields[] = {
    F(HYP_F_U32, "flags", exec.flags),
    F(HYP_F_U32, "uid", exec.uid),
    F(HYP_F_U32, "gid", exec.gid),
    F(HYP_F_U32, "umask", exec.umask),
    F(HYP_F_U16, "rows", exec.rows),
    F(HYP_F_U16, "cols", exec.cols),
    HYP_FIELD_VEC(HYP_F_U32V, "groups", exec.groups, "ngroups", exec.ngroups, HYP_EXEC_MAX_GROUPS),
    HYP_FIELD_STR("cwd", exec.cwd, HYP_PATH_MAX - 1),
    HYP_FIELD_VEC(HYP_F_STRV, "argv", exec.argv, "argc", exec.argc, HYP_EXEC_MAX_ARGS),
    HYP_FIELD_VEC(HYP_F_STRV, "env", exec.envp, "envc", exec.envc, HYP_EXEC_MAX_ENV),
    HYP_FIELD_VEC(HYP_F_RLIMV, "limits", exec.limits, "nlimits", exec.nlimits, HYP_EXEC_MAX_LIMITS),
    F(HYP_F_U64, "file_size", exec.file_size),
    HYP_FIELD_END};
static const struct hyp_field data_fields[] = {HYP_FIELD_DATA(data.data, data.len), HYP_FIELD_END};
static const struct hyp_field signal_fields[] = {F(HYP_F_U32, "signo", signo), HYP_FIELD_END};
static const struct hyp_field winch_fields[] = {F(HYP_F_U16, "rows", winsize.rows),
                                                F(HYP_F_U16, "cols", winsize.cols), HYP_FIELD_END};
static const struct hyp_field exit_fields[] = {F(HYP_F_BOOL, "signaled", exit.signaled),
                                               F(HYP_F_BOOL, "core_dumped", exit.core_dumped),
                                               F(HYP_F_U32, "code", exit.code), HYP_FIELD_END};
static const struct hyp_field error_fields[] = {
    F(HYP_F_U32, "code", error.code), HYP_FIELD_STR("message", error.message, HYP_MESSAGE_MAX),
    HYP_FIELD_END};
static const struct hyp_field credit_fields[] = {F(HYP_F_U32, "bytes", credit), HYP_FIELD_END};
static const struct hyp_field request_fields[] = {
    F(HYP_F_U32, "flags", request.flags),
    F(HYP_F_U16, "rows", request.rows),
    F(HYP_F_U16, "cols", request.cols),
    HYP_FIELD_STR("cwd", request.cwd, HYP_PATH_MAX - 1),
    HYP_FIELD_VEC(HYP_F_STRV, "argv", request.argv, "argc", request.argc, HYP_EXEC_MAX_ARGS),
    HYP_FIELD_VEC(HYP_F_STRV, "env", request.envp, "envc", request.envc, HYP_EXEC_MAX_ENV),
    HYP_FIELD_END};

/* name, sender, streams, payload min..max, counted, fields, check */
static const struct hyp_msg_desc descs[HYP_MSG_TYPE_COUNT] = {
    [HYP_MSG_HELLO] = {"HELLO", HYP_FROM_EITHER, HYP_SCOPE_SESSION, 8, 8, false, hello_fields},
    [HYP_MSG_PING] = {"PING", HYP_FROM_HOST, HYP_SCOPE_SESSION, 8, 8, false, nonce_fields},
    [HYP_MSG_PONG] = {"PONG", HYP_FROM_GUEST, HYP_SCOPE_SESSION, 8, 8, false, nonce_fields},
    [HYP_MSG_EXEC] = {"EXEC", HYP_FROM_HOST, HYP_SCOPE_OPENS, EXEC_MIN_SIZE, MAX, false,
                      exec_fields, check_exec_msg},
    [HYP_MSG_STDIN] = {"STDIN", HYP_FROM_OPENER, HYP_SCOPE_STREAM, 1, MAX, true, data_fields,
                       check_data},
    [HYP_MSG_STDIN_EOF] = {"STDIN_EOF", HYP_FROM_OPENER, HYP_SCOPE_STREAM, 0, 0, false, NULL},
    [HYP_MSG_STDOUT] = {"STDOUT", HYP_FROM_ACCEPTOR, HYP_SCOPE_STREAM, 1, MAX, true, data_fields,
                        check_data},
    [HYP_MSG_STDERR] = {"STDERR", HYP_FROM_ACCEPTOR, HYP_SCOPE_STREAM, 1, MAX, true, data_fields,
                        check_data},
    [HYP_MSG_SIGNAL] = {"SIGNAL", HYP_FROM_OPENER, HYP_SCOPE_STREAM, 4, 4, false, signal_fields,
                        check_signal},
    [HYP_MSG_WINCH] = {"WINCH", HYP_FROM_OPENER, HYP_SCOPE_STREAM, 4, 4, false, winch_fields},
    [HYP_MSG_EXIT] = {"EXIT", HYP_FROM_ACCEPTOR, HYP_SCOPE_STREAM, 6, 6, false, exit_fields,
                      check_exit_msg},
    [HYP_MSG_ERROR] = {"ERROR", HYP_FROM_EITHER, HYP_SCOPE_ANY, 8, 8 + HYP_MESSAGE_MAX, false,
                       error_fields, check_error_msg},
    [HYP_MSG_POWEROFF] = {"POWEROFF", HYP_FROM_HOST, HYP_SCOPE_SESSION, 0, 0, false, NULL},
    [HYP_MSG_FILE] = {"FILE", HYP_FROM_HOST, HYP_SCOPE_STREAM, 1, MAX, false, data_fields,
                      check_data},
    [HYP_MSG_CREDIT] = {"CREDIT", HYP_FROM_EITHER, HYP_SCOPE_STREAM, 4, 4, false, credit_fields,
                        check_credit},
};

/* Requests that start in the guest, from 0x100 (GUEST_FIRST) on. */
static const struct hyp_msg_desc guest_descs[HYP_MSG_GUEST_END - GUEST_FIRST] = {
    [HYP_MSG_REQUEST - GUEST_FIRST] = {"REQUEST", HYP_FROM_GUEST, HYP_SCOPE_OPENS, REQUEST_MIN_SIZE,
                                       MAX, false, request_fields, check_request},
};

const struct hyp_msg_desc *hyp_msg_desc(uint16_t type)
{
	if (type < HYP_MSG_TYPE_COUNT)
		return descs[type].name ? &descs[type] : NULL;
	if (type >= GUEST_FIRST && type < HYP_MSG_GUEST_END)
		return guest_descs[type - GUEST_FIRST].name ? &guest_descs[type - GUEST_FIRST]
		                                            : NULL;
	return NULL;
}

const char *hyp_msg_type_name(uint16_t type)
{
	const struct hyp_msg_desc *d = hyp_msg_desc(type);

	return d ? d->name : "unknown";
}

static int check_stream(struct hyp_codec_ctx *c, const struct hyp_msg_desc *d, uint16_t stream)
{
	if (d->scope == HYP_SCOPE_SESSION && stream != 0)
		return hyp_codec_bad(c, "stream %u (a session message is on stream 0)", stream);
	if ((d->scope == HYP_SCOPE_STREAM || d->scope == HYP_SCOPE_OPENS) && stream == 0)
		return hyp_codec_bad(c, "stream 0 (a stream message needs a stream)");
	return 0;
}

int hyp_msg_check_sender(const struct hyp_msg *msg, enum hyp_side sender, hyp_error *err)
{
	const struct hyp_msg_desc *d = hyp_msg_desc(msg->type);
	const char *who = sender == HYP_SIDE_HOST ? "the host" : "the guest";
	enum hyp_side opener = hyp_stream_opener(msg->stream);
	bool ok;

	if (!d)
		return hyp_fail(err, EPROTO, "unknown frame type %u", msg->type);
	switch (d->from) {
	case HYP_FROM_HOST:
		ok = sender == HYP_SIDE_HOST;
		break;
	case HYP_FROM_GUEST:
		ok = sender == HYP_SIDE_GUEST;
		break;
	case HYP_FROM_OPENER:
		ok = sender == opener;
		break;
	case HYP_FROM_ACCEPTOR:
		ok = sender != opener;
		break;
	default:
		ok = true;
	}
	if (ok && d->scope == HYP_SCOPE_OPENS && opener != sender)
		return hyp_fail(err, EPROTO, "%s from %s on stream %u, which %s opens", d->name,
		                who, msg->stream,
		                sender == HYP_SIDE_HOST ? "the guest" : "the host");
	if (!ok)
		return hyp_fail(err, EPROTO, "unexpected %s frame from %s on stream %u", d->name,
		                who, msg->stream);
	return 0;
}

/* ---- frames ---- */

int hyp_msg_encode(struct hyp_buf *out, const struct hyp_msg *msg, hyp_error *err)
{
	struct hyp_codec_ctx c = {.err = err, .code = EINVAL, .type = msg->type};
	const struct hyp_msg_desc *d = hyp_msg_desc(msg->type);
	uint8_t *p;
	int r;

	if (!d)
		return hyp_fail(err, EINVAL, "unknown frame type %u", msg->type);
	if ((r = check_stream(&c, d, msg->stream)) < 0 ||
	    (d->check && (r = d->check(&c, msg, HYP_DATA_CHUNK)) < 0))
		return r;
	ssize_t size = hyp_codec_size(&c, d->fields, msg);
	if (size < 0)
		return (int)size;
	if (size > MAX) {
		c.code = EMSGSIZE;
		return hyp_codec_bad(&c, "payload of %zd bytes exceeds the limit of %d", size, MAX);
	}
	if ((r = hyp_buf_reserve(out, HYP_FRAME_HEADER_SIZE + size, &p, err)) < 0)
		return r;
	hyp_put16(hyp_put16(hyp_put32(p, (uint32_t)size), msg->type), msg->stream);
	hyp_codec_put(p + HYP_FRAME_HEADER_SIZE, d->fields, msg);
	out->len += HYP_FRAME_HEADER_SIZE + size;
	return 0;
}

static int check_header(struct hyp_codec_ctx *c, uint32_t length, uint16_t stream)
{
	const struct hyp_msg_desc *d = hyp_msg_desc(c->type);

	if (!d && c->type >= GUEST_FIRST && c->type <= GUEST_LAST)
		return hyp_fail(c->err, EPROTO,
		                "frame type %u is reserved for guest requests, not in protocol "
		                "version %d",
		                c->type, HYP_PROTO_VERSION_MAX);
	if (!d)
		return hyp_fail(c->err, EPROTO, "unknown frame type %u", c->type);
	if (length > MAX)
		return hyp_codec_bad(c, "length %u exceeds the limit of %d", length, MAX);
	if (d->min_size == d->max_size && length != d->min_size)
		return hyp_codec_bad(c, "payload is %u bytes, expected exactly %u", length,
		                     d->min_size);
	if (length < d->min_size || length > d->max_size)
		return hyp_codec_bad(c, "payload is %u bytes, not in %u..%u", length, d->min_size,
		                     d->max_size);
	return check_stream(c, d, stream);
}

ssize_t hyp_msg_decode(const uint8_t *data, size_t len, struct hyp_msg *ret_msg, hyp_error *err)
{
	struct hyp_codec_ctx c = {.err = err, .code = EPROTO};

	if (len < HYP_FRAME_HEADER_SIZE)
		return 0;
	uint32_t length = hyp_get32(data);
	c.type = hyp_get16(data + 4);
	uint16_t stream = hyp_get16(data + 6);
	int r = check_header(&c, length, stream);
	if (r < 0)
		return r;
	if (len - HYP_FRAME_HEADER_SIZE < length)
		return 0;

	const struct hyp_msg_desc *d = hyp_msg_desc(c.type);
	struct hyp_msg m = {.type = c.type, .stream = stream};
	c.p = data + HYP_FRAME_HEADER_SIZE;
	c.left = length;
	r = hyp_codec_get(&c, d->fields, &m);
	if (r == 0 && c.left > 0)
		r = hyp_codec_bad(&c, "%zu trailing bytes after the payload", c.left);
	if (r == 0 && d->check)
		r = d->check(&c, &m, MAX);
	if (r < 0) {
		hyp_msg_clear(&m);
		return r;
	}
	*ret_msg = m;
	return HYP_FRAME_HEADER_SIZE + (ssize_t)length;
}

void hyp_msg_clear(struct hyp_msg *msg)
{
	const struct hyp_msg_desc *d = hyp_msg_desc(msg->type);

	if (d)
		hyp_codec_clear(d->fields, msg);
}

/* ---- the handshake ---- */

struct hyp_msg hyp_hello_ours(void)
{
	return (struct hyp_msg){.type = HYP_MSG_HELLO,
	                        .hello = {HYP_PROTO_VERSION_MAX, HYP_FRAME_MAX_PAYLOAD}};
}

int hyp_hello_check(const struct hyp_hello *hello, uint32_t *ret_version, hyp_error *err)
{
	uint32_t v =
	    hello->version < HYP_PROTO_VERSION_MAX ? hello->version : HYP_PROTO_VERSION_MAX;

	if (v < HYP_PROTO_VERSION_MIN)
		return hyp_fail(err, EPROTONOSUPPORT,
		                "the peer speaks protocol versions up to %u, this side %d to %d",
		                hello->version, HYP_PROTO_VERSION_MIN, HYP_PROTO_VERSION_MAX);
	if (hello->max_payload < HELLO_MIN_PAYLOAD)
		return hyp_fail(
		    err, EPROTO,
		    "peer accepts payloads of at most %u bytes, below the minimum of %d",
		    hello->max_payload, HELLO_MIN_PAYLOAD);
	if (ret_version)
		*ret_version = v;
	return 0;
}

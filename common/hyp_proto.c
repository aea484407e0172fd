/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host-guest wire protocol: frame header, encoder, decoder and the limits
 * both sides enforce. doc/protocol.md is the schema; keep the two in step.
 *
 * The encoder and the decoder share one set of checks (check_msg), so what
 * one emits the other accepts. The decoder never reads past the bytes it is
 * given and checks every count against the bytes left before allocating.
 */
#include "hyp_proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_cleanup.h"

#define HELLO_MIN_PAYLOAD (64 * 1024) /* smallest max_payload a peer may announce */
#define SIGNO_MAX         64          /* Linux x86-64: 1-31 standard, 32-64 real-time */
#define EXIT_STATUS_MAX   255
#define ERRNO_MAX         4095
#define UMASK_MAX         0777
#define INVALID_ID        UINT32_MAX /* (uid_t)-1 means "leave unchanged" to setresuid() */
#define NO_INDEX          UINT32_MAX
#define EXEC_FIXED        20 /* flags, uid, gid, umask, rows, cols */
#define RLIMIT_SIZE       20 /* resource, soft, hard */
#define RESOURCE_MAX      15 /* Linux's RLIMIT_RTTIME, the last one */
#define VARIABLE          (-1)

static const struct {
	const char *name;
	int size; /* payload size, or VARIABLE */
} types[] = {
    [HYP_MSG_HELLO] = {"HELLO", 8},
    [HYP_MSG_PING] = {"PING", 8},
    [HYP_MSG_PONG] = {"PONG", 8},
    [HYP_MSG_EXEC] = {"EXEC", VARIABLE},
    [HYP_MSG_STDIN] = {"STDIN", VARIABLE},
    [HYP_MSG_STDIN_EOF] = {"STDIN_EOF", 0},
    [HYP_MSG_STDOUT] = {"STDOUT", VARIABLE},
    [HYP_MSG_STDERR] = {"STDERR", VARIABLE},
    [HYP_MSG_SIGNAL] = {"SIGNAL", 4},
    [HYP_MSG_WINCH] = {"WINCH", 4},
    [HYP_MSG_EXIT] = {"EXIT", 6},
    [HYP_MSG_ERROR] = {"ERROR", VARIABLE},
    [HYP_MSG_POWEROFF] = {"POWEROFF", 0},
    [HYP_MSG_FILE] = {"FILE", VARIABLE},
};

static bool type_known(uint16_t type)
{
	return type < sizeof(types) / sizeof(types[0]) && types[type].name;
}

const char *hyp_msg_type_name(uint16_t type)
{
	return type_known(type) ? types[type].name : "unknown";
}

static bool is_data(uint16_t type)
{
	return type == HYP_MSG_STDIN || type == HYP_MSG_STDOUT || type == HYP_MSG_STDERR ||
	       type == HYP_MSG_FILE;
}

/*
 * What a check or the decoder needs to report a problem: errors read
 * "frame type 4 (EXEC): argc 5000 exceeds the limit of 4096" with `code`
 * (EPROTO decoding what a peer sent, EINVAL encoding what a caller built).
 * The decoder also reads from [p, p + left).
 */
struct ctx {
	hyp_error *err;
	int code;
	uint16_t type;
	const uint8_t *p;
	size_t left;
};

static int bad(struct ctx *c, const char *fmt, ...) HYP_PRINTF(2, 3);

static int bad(struct ctx *c, const char *fmt, ...)
{
	char detail[HYP_ERROR_MSG_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return hyp_fail(c->err, c->code, "frame type %u (%s): %s", c->type,
	                hyp_msg_type_name(c->type), detail);
}

/* ---- checks shared by the encoder and the decoder ---- */

static int check_ids(struct ctx *c, const struct hyp_exec_request *x)
{
	if (x->uid == INVALID_ID || x->gid == INVALID_ID)
		return bad(c, "uid %u / gid %u is not valid", x->uid, x->gid);
	if (x->ngroups > HYP_EXEC_MAX_GROUPS)
		return bad(c, "ngroups %u exceeds the limit of %d", x->ngroups,
		           HYP_EXEC_MAX_GROUPS);
	for (uint32_t i = 0; i < x->ngroups; i++)
		if (!x->groups || x->groups[i] == INVALID_ID)
			return bad(c, "groups[%u] is missing or not valid", i);
	return 0;
}

static int check_cwd(struct ctx *c, const char *cwd)
{
	if (!cwd || !cwd[0])
		return bad(c, "cwd is empty");
	if (cwd[0] != '/')
		return bad(c, "cwd '%.64s' is not absolute", cwd);
	if (strlen(cwd) >= HYP_PATH_MAX)
		return bad(c, "cwd is %zu bytes, the limit is %d", strlen(cwd), HYP_PATH_MAX - 1);
	return 0;
}

static int check_argv(struct ctx *c, const struct hyp_exec_request *x)
{
	if (x->argc == 0)
		return bad(c, "argc is 0 (a command is required)");
	if (x->argc > HYP_EXEC_MAX_ARGS)
		return bad(c, "argc %u exceeds the limit of %d", x->argc, HYP_EXEC_MAX_ARGS);
	for (uint32_t i = 0; i < x->argc; i++)
		if (!x->argv || !x->argv[i])
			return bad(c, "argv[%u] is missing", i);
	if (!x->argv[0][0])
		return bad(c, "argv[0] is empty");
	return 0;
}

static int check_env(struct ctx *c, const struct hyp_exec_request *x)
{
	if (x->envc > HYP_EXEC_MAX_ENV)
		return bad(c, "envc %u exceeds the limit of %d", x->envc, HYP_EXEC_MAX_ENV);
	for (uint32_t i = 0; i < x->envc; i++) {
		const char *e = x->envp ? x->envp[i] : NULL;
		if (!e)
			return bad(c, "env[%u] is missing", i);
		/* values may be secrets: name the entry, never print it */
		if (e[0] == '=' || !strchr(e, '='))
			return bad(c, "env[%u] is not NAME=VALUE", i);
	}
	return 0;
}

static int check_limits(struct ctx *c, const struct hyp_exec_request *x)
{
	uint32_t seen = 0;

	if (x->nlimits > HYP_EXEC_MAX_LIMITS)
		return bad(c, "nlimits %u exceeds the limit of %d", x->nlimits,
		           HYP_EXEC_MAX_LIMITS);
	for (uint32_t i = 0; i < x->nlimits; i++) {
		const struct hyp_rlimit *l = &x->limits[i];
		if (l->resource > RESOURCE_MAX)
			return bad(c, "limits[%u]: resource %u is not in 0..%d", i, l->resource,
			           RESOURCE_MAX);
		if (seen & (1u << l->resource))
			return bad(c, "limits[%u]: resource %u given twice", i, l->resource);
		if (l->soft > l->hard)
			return bad(c, "limits[%u]: soft limit above the hard one", i);
		seen |= 1u << l->resource;
	}
	return 0;
}

static int check_file(struct ctx *c, const struct hyp_exec_request *x)
{
	if (!(x->flags & HYP_EXEC_FILE) && x->file_size)
		return bad(c, "file_size %llu without the FILE flag",
		           (unsigned long long)x->file_size);
	if (x->file_size > HYP_EXEC_FILE_MAX)
		return bad(c, "file_size %llu exceeds the limit of %llu",
		           (unsigned long long)x->file_size, HYP_EXEC_FILE_MAX);
	return 0;
}

static int check_exec(struct ctx *c, const struct hyp_exec_request *x)
{
	int r;

	if (x->flags & ~HYP_EXEC_FLAGS_ALL)
		return bad(c, "unknown flags 0x%x", x->flags & ~HYP_EXEC_FLAGS_ALL);
	if (x->umask > UMASK_MAX)
		return bad(c, "umask 0%o is not a permission mask", x->umask);
	if ((r = check_ids(c, x)) < 0 || (r = check_cwd(c, x->cwd)) < 0 ||
	    (r = check_argv(c, x)) < 0 || (r = check_env(c, x)) < 0 || (r = check_limits(c, x)) < 0)
		return r;
	return check_file(c, x);
}

static int check_exit(struct ctx *c, const struct hyp_exit *e)
{
	if (e->signaled && (e->code < 1 || e->code > SIGNO_MAX))
		return bad(c, "signal %u is not in 1..%d", e->code, SIGNO_MAX);
	if (!e->signaled && e->code > EXIT_STATUS_MAX)
		return bad(c, "exit status %u exceeds %d", e->code, EXIT_STATUS_MAX);
	if (!e->signaled && e->core_dumped)
		return bad(c, "core_dumped set without signaled");
	return 0;
}

static int check_data(struct ctx *c, const struct hyp_msg *msg, size_t max)
{
	if (msg->data.len == 0)
		return bad(c, "no data (end of input is STDIN_EOF)");
	if (!msg->data.data)
		return bad(c, "data is missing");
	if (msg->data.len > max)
		return bad(c, "%zu bytes of data exceed the limit of %zu", msg->data.len, max);
	return 0;
}

static int check_error(struct ctx *c, const struct hyp_msg *msg)
{
	size_t n = msg->error.message ? strlen(msg->error.message) : 0;

	if (msg->error.code < 1 || msg->error.code > ERRNO_MAX)
		return bad(c, "error code %u is not in 1..%d", msg->error.code, ERRNO_MAX);
	if (n > HYP_MESSAGE_MAX)
		return bad(c, "message is %zu bytes, the limit is %d", n, HYP_MESSAGE_MAX);
	return 0;
}

/* The schema's limits. A sender emits at most HYP_DATA_CHUNK bytes of stdio
 * per frame; a receiver accepts up to a whole frame (data_max). */
static int check_msg(struct ctx *c, const struct hyp_msg *msg, size_t data_max)
{
	switch (msg->type) {
	case HYP_MSG_EXEC:
		return check_exec(c, &msg->exec);
	case HYP_MSG_STDIN:
	case HYP_MSG_STDOUT:
	case HYP_MSG_STDERR:
	case HYP_MSG_FILE:
		return check_data(c, msg, data_max);
	case HYP_MSG_SIGNAL:
		if (msg->signo < 1 || msg->signo > SIGNO_MAX)
			return bad(c, "signal %u is not in 1..%d", msg->signo, SIGNO_MAX);
		return 0;
	case HYP_MSG_EXIT:
		return check_exit(c, &msg->exit);
	case HYP_MSG_ERROR:
		return check_error(c, msg);
	}
	if (!type_known(msg->type))
		return hyp_fail(c->err, c->code, "unknown frame type %u", msg->type);
	return 0;
}

/* ---- encoder ---- */

static uint8_t *put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
	return put_u16(put_u16(p, (uint16_t)(v >> 16)), (uint16_t)v);
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
	return put_u32(put_u32(p, (uint32_t)(v >> 32)), (uint32_t)v);
}

static uint8_t *put_str(uint8_t *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(put_u32(p, (uint32_t)n), s, n);
	return p + 4 + n;
}

static uint8_t *put_strv(uint8_t *p, char *const *v, uint32_t n)
{
	p = put_u32(p, n);
	for (uint32_t i = 0; i < n; i++)
		p = put_str(p, v[i]);
	return p;
}

static size_t strv_size(char *const *v, uint32_t n)
{
	size_t size = 4;

	for (uint32_t i = 0; i < n; i++)
		size += 4 + strlen(v[i]);
	return size;
}

static size_t payload_size(const struct hyp_msg *msg)
{
	const struct hyp_exec_request *x = &msg->exec;

	if (msg->type == HYP_MSG_EXEC)
		return EXEC_FIXED + 4 + 4 * (size_t)x->ngroups + 4 + strlen(x->cwd) +
		       strv_size(x->argv, x->argc) + strv_size(x->envp, x->envc) + 4 +
		       RLIMIT_SIZE * (size_t)x->nlimits + 8;
	if (is_data(msg->type))
		return msg->data.len;
	if (msg->type == HYP_MSG_ERROR)
		return 4 + 4 + (msg->error.message ? strlen(msg->error.message) : 0);
	return types[msg->type].size;
}

static void put_exec(uint8_t *p, const struct hyp_exec_request *x)
{
	p = put_u32(put_u32(p, x->flags), x->uid);
	p = put_u32(put_u32(p, x->gid), x->umask);
	p = put_u16(put_u16(p, x->rows), x->cols);
	p = put_u32(p, x->ngroups);
	for (uint32_t i = 0; i < x->ngroups; i++)
		p = put_u32(p, x->groups[i]);
	p = put_str(p, x->cwd);
	p = put_strv(p, x->argv, x->argc);
	p = put_strv(p, x->envp, x->envc);
	p = put_u32(p, x->nlimits);
	for (uint32_t i = 0; i < x->nlimits; i++)
		p = put_u64(put_u64(put_u32(p, x->limits[i].resource), x->limits[i].soft),
		            x->limits[i].hard);
	put_u64(p, x->file_size);
}

static void put_payload(uint8_t *p, const struct hyp_msg *msg)
{
	switch (msg->type) {
	case HYP_MSG_HELLO:
		put_u32(put_u32(p, msg->hello.version), msg->hello.max_payload);
		break;
	case HYP_MSG_PING:
	case HYP_MSG_PONG:
		put_u64(p, msg->nonce);
		break;
	case HYP_MSG_EXEC:
		put_exec(p, &msg->exec);
		break;
	case HYP_MSG_STDIN:
	case HYP_MSG_STDOUT:
	case HYP_MSG_STDERR:
	case HYP_MSG_FILE:
		memcpy(p, msg->data.data, msg->data.len);
		break;
	case HYP_MSG_SIGNAL:
		put_u32(p, msg->signo);
		break;
	case HYP_MSG_WINCH:
		put_u16(put_u16(p, msg->winsize.rows), msg->winsize.cols);
		break;
	case HYP_MSG_EXIT:
		p[0] = msg->exit.signaled;
		p[1] = msg->exit.core_dumped;
		put_u32(p + 2, msg->exit.code);
		break;
	case HYP_MSG_ERROR:
		put_str(put_u32(p, msg->error.code), msg->error.message ? msg->error.message : "");
		break;
	}
}

int hyp_msg_encode(struct hyp_buf *out, const struct hyp_msg *msg, hyp_error *err)
{
	struct ctx c = {.err = err, .code = EINVAL, .type = msg->type};
	uint8_t *p;

	int r = check_msg(&c, msg, HYP_DATA_CHUNK);
	if (r < 0)
		return r;
	size_t size = payload_size(msg);
	if (size > HYP_FRAME_MAX_PAYLOAD) {
		c.code = EMSGSIZE;
		return bad(&c, "payload of %zu bytes exceeds the limit of %d", size,
		           HYP_FRAME_MAX_PAYLOAD);
	}
	r = hyp_buf_reserve(out, HYP_FRAME_HEADER_SIZE + size, &p, err);
	if (r < 0)
		return r;
	put_u16(put_u16(put_u32(p, (uint32_t)size), msg->type), 0);
	put_payload(p + HYP_FRAME_HEADER_SIZE, msg);
	out->len += HYP_FRAME_HEADER_SIZE + size;
	return 0;
}

/* ---- decoder ---- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* The next n payload bytes of field what[idx], or NULL (err set). */
static const uint8_t *take(struct ctx *c, size_t n, const char *what, uint32_t idx)
{
	const uint8_t *p = c->p;

	if (c->left < n) {
		if (idx == NO_INDEX)
			bad(c, "%s runs past the end of the payload", what);
		else
			bad(c, "%s[%u] runs past the end of the payload", what, idx);
		return NULL;
	}
	c->p += n;
	c->left -= n;
	return p;
}

/* A count of items of at least item_size bytes each, checked against its
 * limit and against the bytes left before anything is allocated for it. */
static int get_count(struct ctx *c, uint32_t *n, const char *what, uint32_t max, size_t item_size)
{
	const uint8_t *p = take(c, 4, what, NO_INDEX);

	if (!p)
		return -EPROTO;
	*n = get32(p);
	if (*n > max)
		return bad(c, "%s %u exceeds the limit of %u", what, *n, max);
	if ((uint64_t)*n * item_size > c->left)
		return bad(c, "%s %u does not fit in the %zu bytes left", what, *n, c->left);
	return 0;
}

static int get_str(struct ctx *c, char **ret, uint32_t max, const char *what, uint32_t idx)
{
	const uint8_t *p = take(c, 4, what, idx);

	if (!p)
		return -EPROTO;
	uint32_t n = get32(p);
	if (n > max)
		return bad(c, "%s is %u bytes, the limit is %u", what, n, max);
	if (!(p = take(c, n, what, idx)))
		return -EPROTO;
	if (memchr(p, '\0', n))
		return idx == NO_INDEX ? bad(c, "%s contains a NUL byte", what)
		                       : bad(c, "%s[%u] contains a NUL byte", what, idx);
	char *s = malloc((size_t)n + 1);
	if (!s)
		return hyp_fail(c->err, ENOMEM, "out of memory decoding %s", what);
	memcpy(s, p, n);
	s[n] = '\0';
	*ret = s;
	return 0;
}

/* Entries fill in one by one into a zeroed array, so it stays
 * NULL-terminated and hyp_msg_clear() frees it whenever decoding stops. */
static int get_strv(struct ctx *c, char ***v, uint32_t *n, const char *count_name, const char *what,
                    uint32_t max)
{
	int r = get_count(c, n, count_name, max, 4);

	if (r < 0)
		return r;
	if (!(*v = calloc((size_t)*n + 1, sizeof(char *))))
		return hyp_fail(c->err, ENOMEM, "out of memory decoding %s", what);
	for (uint32_t i = 0; i < *n; i++)
		if ((r = get_str(c, &(*v)[i], UINT32_MAX, what, i)) < 0)
			return r;
	return 0;
}

/* Version 2's fields after env: the resource limits and the file's size. */
static int get_exec_tail(struct ctx *c, struct hyp_exec_request *x)
{
	int r = get_count(c, &x->nlimits, "nlimits", HYP_EXEC_MAX_LIMITS, RLIMIT_SIZE);
	const uint8_t *p;

	if (r < 0)
		return r;
	for (uint32_t i = 0; i < x->nlimits; i++) {
		p = take(c, RLIMIT_SIZE, "limits", i); /* counted above */
		x->limits[i] = (struct hyp_rlimit){get32(p), get64(p + 4), get64(p + 12)};
	}
	if (!(p = take(c, 8, "file_size", NO_INDEX)))
		return -EPROTO;
	x->file_size = get64(p);
	return 0;
}

static int get_exec(struct ctx *c, struct hyp_exec_request *x)
{
	const uint8_t *p = take(c, EXEC_FIXED, "the fixed fields", NO_INDEX);
	int r;

	if (!p)
		return -EPROTO;
	x->flags = get32(p);
	x->uid = get32(p + 4);
	x->gid = get32(p + 8);
	x->umask = get32(p + 12);
	x->rows = get16(p + 16);
	x->cols = get16(p + 18);
	if ((r = get_count(c, &x->ngroups, "ngroups", HYP_EXEC_MAX_GROUPS, 4)) < 0)
		return r;
	if (x->ngroups && !(x->groups = malloc(sizeof(uint32_t) * x->ngroups)))
		return hyp_fail(c->err, ENOMEM, "out of memory decoding groups");
	for (uint32_t i = 0; i < x->ngroups; i++)
		x->groups[i] = get32(take(c, 4, "groups", i)); /* counted above */
	if ((r = get_str(c, &x->cwd, HYP_PATH_MAX - 1, "cwd", NO_INDEX)) < 0 ||
	    (r = get_strv(c, &x->argv, &x->argc, "argc", "argv", HYP_EXEC_MAX_ARGS)) < 0 ||
	    (r = get_strv(c, &x->envp, &x->envc, "envc", "env", HYP_EXEC_MAX_ENV)) < 0)
		return r;
	return get_exec_tail(c, x);
}

/* Fixed-size payloads were sized by check_header() and read in place. */
static int get_payload(struct ctx *c, struct hyp_msg *m)
{
	const uint8_t *p = c->p;

	switch (m->type) {
	case HYP_MSG_EXEC:
		return get_exec(c, &m->exec);
	case HYP_MSG_ERROR:
		if (!(p = take(c, 4, "code", NO_INDEX)))
			return -EPROTO;
		m->error.code = get32(p);
		return get_str(c, &m->error.message, HYP_MESSAGE_MAX, "message", NO_INDEX);
	case HYP_MSG_STDIN:
	case HYP_MSG_STDOUT:
	case HYP_MSG_STDERR:
	case HYP_MSG_FILE:
		m->data.data = p;
		m->data.len = c->left;
		break;
	case HYP_MSG_HELLO:
		m->hello.version = get32(p);
		m->hello.max_payload = get32(p + 4);
		break;
	case HYP_MSG_PING:
	case HYP_MSG_PONG:
		m->nonce = get64(p);
		break;
	case HYP_MSG_SIGNAL:
		m->signo = get32(p);
		break;
	case HYP_MSG_WINCH:
		m->winsize.rows = get16(p);
		m->winsize.cols = get16(p + 2);
		break;
	case HYP_MSG_EXIT:
		if (p[0] > 1 || p[1] > 1)
			return bad(c, "signaled %u / core_dumped %u is not 0 or 1", p[0], p[1]);
		m->exit =
		    (struct hyp_exit){.signaled = p[0], .core_dumped = p[1], .code = get32(p + 2)};
		break;
	}
	c->left = 0; /* read in place: all of it */
	return 0;
}

static int check_header(struct ctx *c, uint32_t length, uint16_t flags)
{
	if (c->type >= 0x100 && c->type <= 0x1ff)
		return hyp_fail(c->err, EPROTO,
		                "frame type %u is reserved for guest requests, not in protocol "
		                "version %d",
		                c->type, HYP_PROTO_VERSION);
	if (!type_known(c->type))
		return hyp_fail(c->err, EPROTO, "unknown frame type %u", c->type);
	if (length > HYP_FRAME_MAX_PAYLOAD)
		return bad(c, "length %u exceeds the limit of %d", length, HYP_FRAME_MAX_PAYLOAD);
	if (flags != 0)
		return bad(c, "header flags 0x%x set (must be 0)", flags);
	int size = types[c->type].size;
	if (size != VARIABLE && length != (uint32_t)size)
		return bad(c, "payload is %u bytes, expected exactly %d", length, size);
	return 0;
}

ssize_t hyp_msg_decode(const uint8_t *data, size_t len, struct hyp_msg *ret_msg, hyp_error *err)
{
	struct ctx c = {.err = err, .code = EPROTO};

	if (len < HYP_FRAME_HEADER_SIZE)
		return 0;
	uint32_t length = get32(data);
	c.type = get16(data + 4);
	int r = check_header(&c, length, get16(data + 6));
	if (r < 0)
		return r;
	if (len - HYP_FRAME_HEADER_SIZE < length)
		return 0;

	struct hyp_msg m = {.type = c.type};
	c.p = data + HYP_FRAME_HEADER_SIZE;
	c.left = length;
	r = get_payload(&c, &m);
	if (r == 0 && c.left > 0)
		r = bad(&c, "%zu trailing bytes after the payload", c.left);
	if (r == 0)
		r = check_msg(&c, &m, HYP_FRAME_MAX_PAYLOAD);
	if (r < 0) {
		hyp_msg_clear(&m);
		return r;
	}
	*ret_msg = m;
	return HYP_FRAME_HEADER_SIZE + (ssize_t)length;
}

void hyp_msg_clear(struct hyp_msg *msg)
{
	if (msg->type == HYP_MSG_EXEC) {
		free(msg->exec.groups);
		free(msg->exec.cwd);
		hyp_strv_free(msg->exec.argv);
		hyp_strv_free(msg->exec.envp);
		msg->exec = (struct hyp_exec_request){0};
	} else if (msg->type == HYP_MSG_ERROR) {
		free(msg->error.message);
		msg->error.message = NULL;
	}
}

int hyp_hello_check(const struct hyp_hello *hello, hyp_error *err)
{
	if (hello->version != HYP_PROTO_VERSION)
		return hyp_fail(err, EPROTONOSUPPORT,
		                "protocol version %u not supported (this side speaks %d)",
		                hello->version, HYP_PROTO_VERSION);
	if (hello->max_payload < HELLO_MIN_PAYLOAD)
		return hyp_fail(
		    err, EPROTO,
		    "peer accepts payloads of at most %u bytes, below the minimum of %d",
		    hello->max_payload, HELLO_MIN_PAYLOAD);
	return 0;
}

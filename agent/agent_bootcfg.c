/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The boot configuration's decoder (agent_bootcfg.h, common/hyp_bootcfg.h). */
#include "agent_bootcfg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_cleanup.h"

#define CMDLINE_MAX 4096

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode `len` percent-encoded bytes into out; false if malformed, too
 * long or holding a NUL. */
static bool decode(const char *in, size_t len, char *out, size_t size)
{
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)in[i];
		if (c == '%') {
			if (i + 2 >= len || hexval(in[i + 1]) < 0 || hexval(in[i + 2]) < 0)
				return false;
			c = hexval(in[i + 1]) * 16 + hexval(in[i + 2]);
			i += 2;
		}
		if (c == 0 || k + 1 >= size)
			return false;
		out[k++] = (char)c;
	}
	out[k] = '\0';
	return true;
}

bool agent_bootcfg_decode(const char *in, size_t len, char *out, size_t size)
{
	return decode(in, len, out, size);
}

static bool parse_id(const char *s, size_t len, unsigned *ret)
{
	char buf[16];
	char *end;
	if (len == 0 || len >= sizeof(buf) || strspn(s, "0123456789") < len)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	unsigned long v = strtoul(buf, &end, 10);
	if (*end || v > 0xfffffffeUL)
		return false;
	*ret = (unsigned)v;
	return true;
}

/* The fields of one list item, split at ':' into n fields. */
static bool split(const char *item, size_t len, size_t n, const char **f, size_t *flen)
{
	size_t i = 0;
	for (const char *p = item, *end = item + len; i < n; i++) {
		const char *c = memchr(p, ':', (size_t)(end - p));
		f[i] = p;
		flen[i] = (size_t)((c && i + 1 < n ? c : end) - p);
		if (i + 1 < n && !c)
			return false;
		p = c ? c + 1 : end;
	}
	return memchr(f[n - 1], ':', flen[n - 1]) == NULL;
}

static bool parse_user(struct agent_bootcfg *b, const char *v, size_t len)
{
	const char *f[4];
	size_t fl[4];
	unsigned uid, gid;
	if (!split(v, len, 4, f, fl) || !decode(f[0], fl[0], b->user, sizeof(b->user)) ||
	    !parse_id(f[1], fl[1], &uid) || !parse_id(f[2], fl[2], &gid) ||
	    !decode(f[3], fl[3], b->home, sizeof(b->home)) || b->home[0] != '/')
		return false;
	b->uid = uid;
	b->gid = gid;
	b->has_user = true;
	return true;
}

static bool parse_group(struct agent_bootcfg *b, const char *v, size_t len)
{
	const char *f[2];
	size_t fl[2];
	unsigned gid;
	if (b->ngroups >= AGENT_BOOTCFG_GROUPS)
		return true; /* more than we keep: the first ones */
	struct agent_group *g = &b->groups[b->ngroups];
	if (!split(v, len, 2, f, fl) || !decode(f[0], fl[0], g->name, sizeof(g->name)) ||
	    !parse_id(f[1], fl[1], &gid))
		return false;
	g->gid = gid;
	b->ngroups++;
	return true;
}

static bool parse_share(struct agent_bootcfg *b, const char *v, size_t len)
{
	const char *f[2];
	size_t fl[2];
	if (b->nshares >= AGENT_BOOTCFG_SHARES)
		return false;
	struct agent_share *s = &b->shares[b->nshares];
	if (!split(v, len, 2, f, fl) || !decode(f[0], fl[0], s->tag, sizeof(s->tag)) ||
	    !decode(f[1], fl[1], s->path, sizeof(s->path)) || s->path[0] != '/')
		return false;
	b->nshares++;
	return true;
}

/* A comma-separated list, each item through `one`. */
static bool parse_list(struct agent_bootcfg *b, const char *v, size_t len,
                       bool (*one)(struct agent_bootcfg *, const char *, size_t))
{
	for (const char *p = v, *end = v + len; p < end;) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		size_t n = (size_t)((c ? c : end) - p);
		if (!one(b, p, n))
			return false;
		p += n + 1;
	}
	return true;
}

static bool parse_word(struct agent_bootcfg *b, const char *key, const char *v, size_t len)
{
	if (!strcmp(key, "hostname"))
		return decode(v, len, b->hostname, sizeof(b->hostname));
	if (!strcmp(key, "user"))
		return parse_user(b, v, len);
	if (!strcmp(key, "groups"))
		return parse_list(b, v, len, parse_group);
	if (!strcmp(key, "shares"))
		return (b->has_shares = true) && parse_list(b, v, len, parse_share);
	int r = agent_net_parse(&b->net, key, v, len);
	if (r)
		return r > 0;
	return true; /* hyperion.root and the like: agent_root.c's */
}

int agent_bootcfg_parse(const char *cmdline, struct agent_bootcfg *ret, hyp_error *err)
{
	static const char prefix[] = "hyperion.";
	memset(ret, 0, sizeof(*ret));
	for (const char *p = cmdline; *p;) {
		p += strspn(p, " \t\n");
		size_t word = strcspn(p, " \t\n");
		const char *eq = memchr(p, '=', word);
		if (word > sizeof(prefix) && !strncmp(p, prefix, sizeof(prefix) - 1) && eq) {
			char key[32];
			size_t klen = (size_t)(eq - p) - (sizeof(prefix) - 1);
			snprintf(key, sizeof(key), "%.*s", (int)klen, p + sizeof(prefix) - 1);
			if (!parse_word(ret, key, eq + 1, word - (size_t)(eq + 1 - p)))
				return hyp_fail(err, EINVAL, "kernel command line: bad hyperion.%s",
				                key);
		}
		p += word;
	}
	return 0;
}

int agent_bootcfg_read(struct agent_bootcfg *ret, hyp_error *err)
{
	char cmdline[CMDLINE_MAX];
	_cleanup_close_ int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, cmdline, sizeof(cmdline) - 1) : -1;
	if (n < 0)
		return hyp_fail_errno(err, "reading /proc/cmdline");
	cmdline[n] = '\0';
	return agent_bootcfg_parse(cmdline, ret, err);
}

bool agent_bootcfg_in_share(const struct agent_bootcfg *b, const char *path)
{
	for (size_t i = 0; i < b->nshares; i++) {
		size_t n = strlen(b->shares[i].path);
		if (!strncmp(path, b->shares[i].path, n) && (path[n] == '\0' || path[n] == '/'))
			return true;
	}
	return false;
}

void agent_bootcfg_describe(const struct agent_bootcfg *b, char *buf, size_t size)
{
	size_t k = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < b->nshares && k < size; i++)
		k += (size_t)snprintf(buf + k, size - k, "%s%s", i ? " " : "", b->shares[i].path);
	if (!b->nshares)
		snprintf(buf, size, "none");
}

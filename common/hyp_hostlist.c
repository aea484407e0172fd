/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Slurm host list expressions (hyp_hostlist.h). */
#include "hyp_hostlist.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RANGE_MAX 100000UL /* a bound on one range's numbers */

struct names {
	char **v;
	size_t n;
};

void hyp_hostlist_free(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}

static int push(struct names *out, const char *name, size_t len, hyp_error *err)
{
	if (out->n >= HYP_HOSTLIST_MAX)
		return hyp_fail(err, E2BIG, "host list: more than %d names", HYP_HOSTLIST_MAX);
	if (len == 0 || len > HYP_HOSTLIST_NAME_MAX)
		return hyp_fail(err, EINVAL,
		                "host list: name '%.*s' is %zu bytes (1 to %d allowed)", (int)len,
		                name, len, HYP_HOSTLIST_NAME_MAX);
	char **v = realloc(out->v, (out->n + 2) * sizeof(*v));
	if (!v)
		return hyp_fail(err, ENOMEM, "out of memory");
	out->v = v;
	if (!(v[out->n] = strndup(name, len)))
		return hyp_fail(err, ENOMEM, "out of memory");
	v[++out->n] = NULL;
	return 0;
}

static bool parse_num(const char *p, size_t len, unsigned long *ret)
{
	if (len == 0 || len > 9 || strspn(p, "0123456789") < len)
		return false;
	*ret = strtoul(p, NULL, 10);
	return true;
}

static int expand(const char *prefix, size_t plen, const char *rest, struct names *out,
                  hyp_error *err);

/* One "A" or "A-B" of a bracket, each number zero-padded to A's width,
 * followed by the rest of the word. */
static int expand_range(const char *prefix, size_t plen, const char *item, size_t ilen,
                        const char *rest, struct names *out, hyp_error *err)
{
	const char *dash = memchr(item, '-', ilen);
	size_t alen = dash ? (size_t)(dash - item) : ilen;
	unsigned long a, b = 0;
	bool ok = parse_num(item, alen, &a);
	if (ok && dash)
		ok = parse_num(dash + 1, ilen - alen - 1, &b);
	else if (ok)
		b = a;
	if (!ok || b < a || b - a > RANGE_MAX)
		return hyp_fail(err, EINVAL, "host list: bad range '%.*s'", (int)ilen, item);
	char buf[HYP_HOSTLIST_NAME_MAX + 16];
	for (unsigned long i = a; i <= b; i++) {
		int k = snprintf(buf, sizeof(buf), "%.*s%0*lu", (int)plen, prefix, (int)alen, i);
		if (k < 0 || (size_t)k > HYP_HOSTLIST_NAME_MAX)
			return hyp_fail(err, EINVAL,
			                "host list: name '%.*s%0*lu...' is longer than %d bytes",
			                (int)plen, prefix, (int)alen, i, HYP_HOSTLIST_NAME_MAX);
		int r = expand(buf, (size_t)k, rest, out, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* prefix + the word `rest` (up to its end, no top-level comma). */
static int expand(const char *prefix, size_t plen, const char *rest, struct names *out,
                  hyp_error *err)
{
	const char *open = strchr(rest, '[');
	if (!open) {
		char buf[2 * HYP_HOSTLIST_NAME_MAX + 2];
		size_t rlen = strlen(rest);
		if (plen + rlen > HYP_HOSTLIST_NAME_MAX || strchr(rest, ']'))
			return hyp_fail(err, EINVAL,
			                "host list: bad name '%.*s%s' (a ']' without '[', or "
			                "longer than %d bytes)",
			                (int)plen, prefix, rest, HYP_HOSTLIST_NAME_MAX);
		snprintf(buf, sizeof(buf), "%.*s%s", (int)plen, prefix, rest);
		return push(out, buf, plen + rlen, err);
	}
	const char *close = strchr(open, ']');
	size_t head = (size_t)(open - rest);
	if (!close || close == open + 1 || plen + head > HYP_HOSTLIST_NAME_MAX)
		return hyp_fail(err, EINVAL, "host list: bad brackets in '%s'", rest);
	char pre[HYP_HOSTLIST_NAME_MAX + 1];
	snprintf(pre, sizeof(pre), "%.*s%.*s", (int)plen, prefix, (int)head, rest);
	for (const char *p = open + 1; p < close;) {
		size_t ilen = strcspn(p, ",]");
		int r = expand_range(pre, plen + head, p, ilen, close + 1, out, err);
		if (r < 0)
			return r;
		p += ilen + 1;
	}
	return 0;
}

/* The expression's words: split at commas outside brackets. */
int hyp_hostlist_expand(const char *expr, char ***ret_names, size_t *ret_n, hyp_error *err)
{
	struct names out = {0};
	char word[1024];
	int r = 0;
	for (const char *p = expr; r >= 0 && *p;) {
		size_t len = 0;
		for (int depth = 0; p[len] && (depth || p[len] != ','); len++)
			depth += p[len] == '[' ? 1 : p[len] == ']' ? -1 : 0;
		if (len == 0 || len >= sizeof(word))
			r = hyp_fail(err, EINVAL, "host list: bad expression '%s'", expr);
		else if (snprintf(word, sizeof(word), "%.*s", (int)len, p) >= 0)
			r = expand("", 0, word, &out, err);
		p += len + (p[len] == ',');
	}
	if (r >= 0 && out.n == 0)
		r = hyp_fail(err, EINVAL, "host list: empty");
	if (r < 0) {
		hyp_hostlist_free(out.v);
		return r;
	}
	*ret_names = out.v;
	*ret_n = out.n;
	return 0;
}

long hyp_hostlist_index(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return (long)i;
	return -1;
}

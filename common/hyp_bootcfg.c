/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The boot configuration's encoder (hyp_bootcfg.h). */
#include "hyp_bootcfg.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_cleanup.h"

#define SAFE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._+@-"

void hyp_guest_user_free(struct hyp_guest_user *u)
{
	if (!u)
		return;
	free(u->name);
	free(u->home);
	for (size_t i = 0; i < u->ngroups; i++)
		free(u->groups[i].name);
	free(u->groups);
	*u = (struct hyp_guest_user){0};
}

static char *group_name(gid_t gid)
{
	char buf[16384];
	struct group gr, *res = NULL;
	if (getgrgid_r(gid, &gr, buf, sizeof(buf), &res) == 0 && res)
		return strdup(gr.gr_name);
	return NULL;
}

static int lookup_groups(struct hyp_guest_user *u, hyp_error *err)
{
	gid_t gids[HYP_BOOTCFG_GROUPS_MAX];
	int n = HYP_BOOTCFG_GROUPS_MAX;
	if (getgrouplist(u->name, u->gid, gids, &n) < 0)
		n = HYP_BOOTCFG_GROUPS_MAX; /* truncated: the first ones */
	if (!(u->groups = calloc((size_t)n + 1, sizeof(*u->groups))))
		return hyp_fail(err, ENOMEM, "out of memory");
	/* the primary group first, once */
	u->groups[u->ngroups++].gid = u->gid;
	for (int i = 0; i < n; i++)
		if (gids[i] != u->gid)
			u->groups[u->ngroups++].gid = gids[i];
	for (size_t i = 0; i < u->ngroups; i++) {
		struct hyp_guest_group *g = &u->groups[i];
		if (!(g->name = group_name(g->gid)) &&
		    asprintf(&g->name, "gid%u", (unsigned)g->gid) < 0)
			return g->name = NULL, hyp_fail(err, ENOMEM, "out of memory");
	}
	return 0;
}

int hyp_guest_user_lookup(const char *name, uid_t uid, gid_t gid, struct hyp_guest_user *ret,
                          hyp_error *err)
{
	_cleanup_(hyp_guest_user_free) struct hyp_guest_user u = {.uid = uid, .gid = gid};
	char buf[16384];
	struct passwd pw, *res = NULL;
	getpwuid_r(uid, &pw, buf, sizeof(buf), &res);
	u.name = strdup(res ? res->pw_name : name && *name ? name : "user");
	u.home = strdup(res && res->pw_dir[0] == '/' ? res->pw_dir : "/");
	if (!u.name || !u.home)
		return hyp_fail(err, ENOMEM, "out of memory");
	int r = lookup_groups(&u, err);
	if (r < 0)
		return r;
	*ret = u;
	u = (struct hyp_guest_user){0};
	return 0;
}

static int append(char **buf, const char *fmt, ...) HYP_PRINTF(2, 3);

static int append(char **buf, const char *fmt, ...)
{
	char *more = NULL, *joined = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&more, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	r = asprintf(&joined, "%s%s", *buf ? *buf : "", more);
	free(more);
	if (r < 0)
		return -ENOMEM;
	free(*buf);
	*buf = joined;
	return 0;
}

int hyp_bootcfg_append(char **buf, const char *s)
{
	return append(buf, "%s", s);
}

int hyp_bootcfg_append_encoded(char **buf, const char *s)
{
	size_t len = strlen(s);
	_cleanup_free_ char *enc = malloc(len * 3 + 1);
	if (!enc)
		return -ENOMEM;
	size_t k = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p && strchr(SAFE_CHARS, *p)) {
			enc[k++] = (char)*p;
		} else {
			snprintf(enc + k, 4, "%%%02X", *p);
			k += 3;
		}
	}
	enc[k] = '\0';
	return append(buf, "%s", enc);
}

static int encode_user(char **buf, const struct hyp_guest_user *u)
{
	int r = append(buf, " hyperion.user=");
	if (r >= 0)
		r = hyp_bootcfg_append_encoded(buf, u->name);
	if (r >= 0)
		r = append(buf, ":%u:%u:", (unsigned)u->uid, (unsigned)u->gid);
	return r < 0 ? r : hyp_bootcfg_append_encoded(buf, u->home);
}

static int encode_groups(char **buf, const struct hyp_guest_user *u, size_t n)
{
	int r = append(buf, " hyperion.groups=");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (i)
			r = append(buf, ",");
		if (r >= 0)
			r = hyp_bootcfg_append_encoded(buf, u->groups[i].name);
		if (r >= 0)
			r = append(buf, ":%u", (unsigned)u->groups[i].gid);
	}
	return r;
}

static int encode_shares(char **buf, const struct hyp_share *shares, size_t n)
{
	int r = append(buf, " hyperion.shares=");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (i)
			r = append(buf, ",");
		if (r >= 0)
			r = hyp_bootcfg_append_encoded(buf, shares[i].tag);
		if (r >= 0)
			r = append(buf, ":");
		if (r >= 0)
			r = hyp_bootcfg_append_encoded(buf, shares[i].path);
	}
	return r;
}

/* With the first `ngroups` groups; *ret NULL when out of memory. */
static char *encode(const char *hostname, const struct hyp_guest_user *user,
                    const struct hyp_share *shares, size_t nshares, size_t ngroups)
{
	_cleanup_free_ char *buf = NULL;
	int r = append(&buf, "hyperion.hostname=");
	if (r >= 0)
		r = hyp_bootcfg_append_encoded(&buf, hostname);
	if (r >= 0 && user)
		r = encode_user(&buf, user);
	if (r >= 0 && user && ngroups)
		r = encode_groups(&buf, user, ngroups);
	if (r >= 0)
		r = encode_shares(&buf, shares, nshares);
	return r < 0 ? NULL : steal_pointer(&buf);
}

int hyp_bootcfg_encode(const char *hostname, const struct hyp_guest_user *user,
                       const struct hyp_share *shares, size_t nshares, size_t max, char **ret,
                       hyp_error *err)
{
	size_t ngroups = user ? user->ngroups : 0;
	for (;;) {
		char *s = encode(hostname, user, shares, nshares, ngroups);
		if (!s)
			return hyp_fail(err, ENOMEM, "out of memory");
		if (strlen(s) <= max) {
			*ret = s;
			return 0;
		}
		free(s);
		if (ngroups == 0)
			return hyp_fail(err, EINVAL,
			                "the shares do not fit in the kernel command line (%zu "
			                "bytes left for Hyperion's parameters): share fewer or "
			                "shorter paths",
			                max);
		ngroups--;
	}
}

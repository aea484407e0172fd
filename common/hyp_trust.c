/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The walk: every prefix of the path from "/" is lstat'ed and checked; at a
 * symlink, the walk starts again on the link's target followed by the rest
 * of the path (the link itself cannot change: it sits in a directory that
 * was just checked). At most MAX_LINKS links, as the kernel allows.
 */
#include "hyp_trust.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyp_cleanup.h"

#define MAX_LINKS 40

static int untrusted(const char *path, const struct stat *st, const char *why, hyp_error *err)
{
	return hyp_fail(err, EPERM,
	                "%s '%s' is %s: users other than root could change it (it and every "
	                "directory above it must be root's and not group- or world-writable)",
	                S_ISDIR(st->st_mode) ? "directory" : "file", path, why);
}

static int check_one(const char *path, const struct stat *st, uid_t also_owner, hyp_error *err)
{
	char why[64];
	bool sticky_dir = S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX);
	if (st->st_uid != 0 && st->st_uid != also_owner) {
		snprintf(why, sizeof(why), "owned by uid %u, not root", (unsigned)st->st_uid);
		return untrusted(path, st, why, err);
	}
	if (sticky_dir)
		return 0;
	if (st->st_mode & S_IWOTH)
		return untrusted(path, st, "world-writable", err);
	if (st->st_mode & S_IWGRP) {
		snprintf(why, sizeof(why), "writable by group %u", (unsigned)st->st_gid);
		return untrusted(path, st, why, err);
	}
	return 0;
}

/* The link `link`'s target, then "/" and `rest` if any (malloc'd). */
static char *follow(const char *link, const char *rest, hyp_error *err)
{
	char target[PATH_MAX];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0) {
		hyp_fail_errno(err, "'%s'", link);
		return NULL;
	}
	target[n] = '\0';
	/* A relative target is relative to the link's directory. */
	int dirlen = target[0] == '/' ? 0 : (int)(strrchr(link, '/') - link);
	char *next = NULL;
	if (asprintf(&next, "%.*s%s%s%s%s", dirlen, link, dirlen || target[0] != '/' ? "/" : "",
	             target, *rest ? "/" : "", rest) < 0) {
		hyp_fail(err, ENOMEM, "out of memory");
		return NULL;
	}
	return next;
}

/* Check the prefixes of `path` up to its first symlink. Returns 0 when the
 * whole path was checked, 1 with *ret_next (malloc'd) the path to walk
 * instead when a symlink was met. */
static int walk_once(const char *path, uid_t also_owner, char **ret_next, hyp_error *err)
{
	_cleanup_free_ char *buf = strdup(path);
	if (!buf)
		return hyp_fail(err, ENOMEM, "out of memory");
	size_t len = strlen(buf);
	/* The prefixes "/", "/a", "/a/b"...: each ends before a '/' or at the
	 * end of the path; empty components ("//", a trailing '/') are skipped. */
	for (size_t end = 1; end <= len; end++) {
		bool boundary = end == len || buf[end] == '/';
		if (end > 1 && (!boundary || buf[end - 1] == '/'))
			continue;
		char saved = buf[end];
		buf[end] = '\0';
		struct stat st;
		if (lstat(buf, &st) < 0)
			return hyp_fail_errno(err, "'%s'", buf);
		if (S_ISLNK(st.st_mode)) {
			*ret_next = follow(buf, saved ? buf + end + 1 : "", err);
			return *ret_next ? 1 : -err->code;
		}
		int r = check_one(buf, &st, also_owner, err);
		if (r < 0)
			return r;
		buf[end] = saved;
	}
	return 0;
}

int hyp_trust_check_path(const char *path, uid_t also_owner, hyp_error *err)
{
	if (!path || path[0] != '/')
		return hyp_fail(err, EINVAL, "'%s' is not an absolute path", path ? path : "");
	_cleanup_free_ char *cur = strdup(path);
	if (!cur)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (unsigned links = 0;; links++) {
		char *next = NULL;
		int r = walk_once(cur, also_owner, &next, err);
		if (r <= 0)
			return r;
		free(cur);
		cur = next;
		if (links >= MAX_LINKS)
			return hyp_fail(err, ELOOP, "'%s': too many levels of symbolic links",
			                path);
	}
}

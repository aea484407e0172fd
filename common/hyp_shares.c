/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Share paths: normalising, the allowlist check, a job's selection. */
#include "hyp_shares.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_cleanup.h"

void hyp_share_free(struct hyp_share *s)
{
	if (!s)
		return;
	free(s->path);
	free(s->root);
	free(s->tag);
	free(s->socket);
	*s = (struct hyp_share){0};
}

int hyp_share_path_normalize(const char *what, const char *path, size_t len, char **ret,
                             hyp_error *err)
{
	if (len == 0 || path[0] != '/')
		return hyp_fail(err, EINVAL, "%s: '%.*s' is not an absolute path", what, (int)len,
		                path);
	if (len > HYP_SHARE_PATH_MAX)
		return hyp_fail(err, EINVAL, "%s: a path is longer than %d characters", what,
		                HYP_SHARE_PATH_MAX);
	_cleanup_free_ char *out = malloc(len + 1);
	if (!out)
		return hyp_fail(err, ENOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < len;) {
		while (i < len && path[i] == '/')
			i++;
		size_t n = 0;
		while (i + n < len && path[i + n] != '/')
			n++;
		if (n == 0 || (n == 1 && path[i] == '.')) {
			i += n;
			continue;
		}
		if (n == 2 && path[i] == '.' && path[i + 1] == '.')
			return hyp_fail(err, EINVAL, "%s: '%.*s' holds '..'", what, (int)len, path);
		if (memchr(path + i, '\0', n))
			return hyp_fail(err, EINVAL, "%s: a path holds a NUL byte", what);
		out[k++] = '/';
		memcpy(out + k, path + i, n);
		k += n;
		i += n;
	}
	if (k == 0)
		return hyp_fail(err, EINVAL, "%s: '/' cannot be shared", what);
	out[k] = '\0';
	*ret = steal_pointer(&out);
	return 0;
}

bool hyp_share_path_within(const char *path, const char *root)
{
	size_t n = strlen(root);
	return !strncmp(path, root, n) && (path[n] == '\0' || path[n] == '/');
}

char *hyp_shares_describe(char *const *paths)
{
	size_t len = 1;
	for (char *const *p = paths; p && *p; p++)
		len += strlen(*p) + 1;
	char *s = calloc(1, len < 5 ? 5 : len);
	if (!s)
		return NULL;
	for (char *const *p = paths; p && *p; p++) {
		if (p != paths)
			strcat(s, " ");
		strcat(s, *p);
	}
	if (!*s)
		strcpy(s, "none");
	return s;
}

static int strv_push(char ***v, size_t *n, const char *s)
{
	char **p = realloc(*v, (*n + 2) * sizeof(char *));
	if (!p)
		return -ENOMEM;
	*v = p;
	if (!(p[*n] = strdup(s)))
		return -ENOMEM;
	p[++*n] = NULL;
	return 0;
}

static int refuse(char *const *allowed, const char *path, hyp_error *err)
{
	_cleanup_free_ char *list = hyp_shares_describe(allowed);
	return hyp_fail(err, EINVAL, "share '%s' is not allowed on this site (allowed: %s)", path,
	                list ? list : "?");
}

/* Append `path` (normalised) unless it is there already. */
static int add_one(char *const *allowed, const char *path, char ***paths, char ***roots, size_t *n,
                   hyp_error *err)
{
	const char *root = NULL;
	for (char *const *a = allowed; a && *a && !root; a++)
		if (hyp_share_path_within(path, *a))
			root = *a;
	if (!root)
		return refuse(allowed, path, err);
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*paths)[i], path))
			return 0;
	if (*n >= HYP_SHARES_MAX)
		return hyp_fail(err, EINVAL, "more than %d shares", HYP_SHARES_MAX);
	size_t m = *n;
	if (strv_push(paths, &m, path) < 0 || strv_push(roots, n, root) < 0)
		return hyp_fail(err, ENOMEM, "out of memory");
	return 0;
}

static int select_list(char *const *allowed, const char *request, char ***paths, char ***roots,
                       size_t *n, hyp_error *err)
{
	for (const char *p = request;;) {
		size_t len = strcspn(p, ",");
		_cleanup_free_ char *norm = NULL;
		int r = hyp_share_path_normalize("shares", p, len, &norm, err);
		if (r >= 0)
			r = add_one(allowed, norm, paths, roots, n, err);
		if (r < 0)
			return r;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

int hyp_shares_select(char *const *allowed, const char *request, char ***ret_paths,
                      char ***ret_roots, hyp_error *err)
{
	_cleanup_strv_ char **paths = calloc(1, sizeof(char *));
	_cleanup_strv_ char **roots = calloc(1, sizeof(char *));
	size_t n = 0;
	int r = paths && roots ? 0 : hyp_fail(err, ENOMEM, "out of memory");
	if (r >= 0 && !request) {
		for (char *const *a = allowed; r >= 0 && a && *a; a++)
			r = add_one(allowed, *a, &paths, &roots, &n, err);
	} else if (r >= 0 && strcmp(request, "none") != 0) {
		r = select_list(allowed, request, &paths, &roots, &n, err);
	}
	if (r < 0)
		return r;
	*ret_paths = steal_pointer(&paths);
	*ret_roots = steal_pointer(&roots);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The allowlist of guest commands (hyp_guest_commands.h): parsed from
 * hyperion.conf, or the default Slurm commands found where Slurm installs
 * them. Paths are absolute, so the job user's PATH never picks what runs.
 */
#include "hyp_guest_commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_cleanup.h"

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static int add(char **list, size_t *n, const char *key, const char *path, size_t len,
               hyp_error *err)
{
	if (len == 0 || path[0] != '/' || path[len - 1] == '/')
		return hyp_fail(err, EINVAL, "%s: '%.*s' is not an absolute path to a command", key,
		                (int)len, path);
	if (*n == HYP_GUEST_COMMANDS_MAX)
		return hyp_fail(err, EINVAL, "%s: more than %d commands", key,
		                HYP_GUEST_COMMANDS_MAX);
	char *copy = strndup(path, len);
	if (!copy)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(base_name(list[i]), base_name(copy))) {
			hyp_fail(err, EINVAL, "%s: two commands named '%s'", key, base_name(copy));
			free(copy);
			return -EINVAL;
		}
	list[(*n)++] = copy;
	return 0;
}

int hyp_guest_commands_parse(const char *key, const char *value, char ***ret, hyp_error *err)
{
	_cleanup_strv_ char **list = calloc(HYP_GUEST_COMMANDS_MAX + 1, sizeof(char *));
	size_t n = 0;
	if (!list)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (const char *p = value + strspn(value, " \t"); *p; p += strspn(p, " \t")) {
		size_t len = strcspn(p, " \t");
		int r = add(list, &n, key, p, len, err);
		if (r < 0)
			return r;
		p += len;
	}
	*ret = steal_pointer(&list);
	return 0;
}

int hyp_guest_commands_default(const char *dirs, char ***ret, hyp_error *err)
{
	char names[] = HYP_GUEST_COMMANDS_DEFAULT, path[4096];
	_cleanup_strv_ char **list = calloc(HYP_GUEST_COMMANDS_MAX + 1, sizeof(char *));
	size_t n = 0;
	if (!list)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (char *save = NULL, *name = strtok_r(names, " ", &save); name;
	     name = strtok_r(NULL, " ", &save)) {
		for (const char *d = dirs; *d; d += strspn(d, ":")) {
			size_t len = strcspn(d, ":");
			snprintf(path, sizeof(path), "%.*s/%s", (int)len, d, name);
			d += len;
			if (access(path, X_OK) != 0)
				continue;
			int r = add(list, &n, "guest_commands", path, strlen(path), err);
			if (r < 0)
				return r;
			break;
		}
	}
	*ret = steal_pointer(&list);
	return 0;
}

const char *hyp_guest_command_find(char *const *list, const char *name)
{
	if (!name || !name[0] || strchr(name, '/'))
		return NULL;
	for (; list && *list; list++)
		if (!strcmp(base_name(*list), name))
			return *list;
	return NULL;
}

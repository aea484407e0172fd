/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The environment of the job user's side of hyperionctl exec. Root's own
 * (credentials, agent sockets, whatever the admin exported) must not reach
 * a process the job user can read, nor the guest, which receives
 * hyperion-exec's environment: only the terminal and locale settings pass,
 * and the login variables are set from the user's passwd entry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_exec.h"
#include "hyp_cleanup.h"

#define USER_PATH "/usr/local/bin:/usr/bin:/bin"

static const char *const kept[] = {"TERM", "COLORTERM", "LANG", "LANGUAGE", "TZ"};

static bool is_kept(const char *entry)
{
	size_t len = strcspn(entry, "=");
	if (!entry[len] || len == 0)
		return false; /* not NAME=VALUE */
	if (strncmp(entry, "LC_", 3) == 0)
		return true;
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (strlen(kept[i]) == len && strncmp(entry, kept[i], len) == 0)
			return true;
	return false;
}

static bool add(char **v, size_t *n, const char *name, const char *value)
{
	char *s;
	if (asprintf(&s, "%s=%s", name, value) < 0)
		return false;
	v[(*n)++] = s;
	return true;
}

int ctl_exec_env(const struct passwd *pw, char *const *env, char ***ret_env, hyp_error *err)
{
	size_t total = 5, n = 0;
	for (char *const *e = env; e && *e; e++)
		total++;
	_cleanup_strv_ char **v = calloc(total + 1, sizeof(char *));
	if (!v)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (char *const *e = env; e && *e; e++)
		if (is_kept(*e) && !(v[n++] = strdup(*e)))
			return hyp_fail(err, ENOMEM, "out of memory");
	const char *shell = pw->pw_shell && pw->pw_shell[0] ? pw->pw_shell : "/bin/sh";
	if (!add(v, &n, "USER", pw->pw_name) || !add(v, &n, "LOGNAME", pw->pw_name) ||
	    !add(v, &n, "HOME", pw->pw_dir) || !add(v, &n, "SHELL", shell) ||
	    !add(v, &n, "PATH", USER_PATH))
		return hyp_fail(err, ENOMEM, "out of memory");
	*ret_env = steal_pointer(&v);
	return 0;
}

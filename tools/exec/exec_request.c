/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The EXEC request: this process's identity (uid, gid, groups, umask), its
 * working directory and environment (that is how Slurm's task environment
 * reaches the guest: Slurm execs hyperion-exec with it), its resource limits
 * (those Slurm propagates, PropagateResourceLimits, and set on the task before
 * its execve), and the command.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec.h"
#include "hyp_cleanup.h"

extern char **environ;

static int strv_dup(char *const *v, size_t n, char ***ret, hyp_error *err)
{
	_cleanup_strv_ char **copy = calloc(n + 1, sizeof(char *));
	if (!copy)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (!(copy[i] = strdup(v[i])))
			return hyp_fail(err, ENOMEM, "out of memory");
	*ret = steal_pointer(&copy);
	return 0;
}

/* Set NAME=VALUE in env[0..*n), replacing an entry of the same name. */
static int env_set(char **env, size_t *n, const char *assignment)
{
	size_t name_len = (size_t)(strchr(assignment, '=') - assignment) + 1;
	char *copy = strdup(assignment);
	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++)
		if (strncmp(env[i], assignment, name_len) == 0) {
			free(env[i]);
			env[i] = copy;
			return 0;
		}
	env[(*n)++] = copy;
	return 0;
}

static int build_env(const struct exec_opts *o, struct hyp_exec_request *x, hyp_error *err)
{
	size_t base = 0, n = 0;
	for (char **e = environ; !o->ignore_env && e && *e; e++)
		base++;
	_cleanup_strv_ char **env = calloc(base + o->n_env_add + 1, sizeof(char *));
	if (!env)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < base; i++) {
		const char *e = environ[i];
		if (e[0] == '=' || !strchr(e, '=')) /* not NAME=VALUE: not passed on */
			continue;
		if (!(env[n++] = strdup(e)))
			return hyp_fail(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < o->n_env_add; i++)
		if (env_set(env, &n, o->env_add[i]) < 0)
			return hyp_fail(err, ENOMEM, "out of memory");
	x->envc = (uint32_t)n;
	x->envp = steal_pointer(&env);
	return 0;
}

static int build_groups(struct hyp_exec_request *x, hyp_error *err)
{
	int n = getgroups(0, NULL);
	if (n < 0)
		return hyp_fail_errno(err, "getgroups");
	_cleanup_free_ gid_t *gids = calloc((size_t)n + 1, sizeof(gid_t));
	x->groups = calloc((size_t)n + 1, sizeof(uint32_t));
	if (!gids || !x->groups)
		return hyp_fail(err, ENOMEM, "out of memory");
	if ((n = getgroups(n, gids)) < 0)
		return hyp_fail_errno(err, "getgroups");
	for (int i = 0; i < n; i++)
		x->groups[i] = gids[i];
	x->ngroups = (uint32_t)n;
	return 0;
}

/* -C DIR must exist in the guest; by default the host's cwd is tried, then "/". */
static int build_cwd(const struct exec_opts *o, struct hyp_exec_request *x, hyp_error *err)
{
	char here[PATH_MAX];
	bool have_here = getcwd(here, sizeof(here)) != NULL && here[0] == '/';
	if (!o->cwd) {
		x->flags |= HYP_EXEC_CWD_OPTIONAL;
		x->cwd = strdup(have_here ? here : "/");
	} else if (o->cwd[0] == '/') {
		x->cwd = strdup(o->cwd);
	} else if (!have_here) {
		return hyp_fail(err, EINVAL,
		                "--cwd '%s' is relative and the current directory is unknown",
		                o->cwd);
	} else if (asprintf(&x->cwd, "%s/%s", strcmp(here, "/") ? here : "", o->cwd) < 0) {
		x->cwd = NULL;
	}
	if (!x->cwd)
		return hyp_fail(err, ENOMEM, "out of memory");
	return 0;
}

/* Slurm's PropagateResourceLimits=ALL: the limits a task gets from srun or
 * sbatch, which Slurm set on this process before its execve. */
static const int propagated[] = {RLIMIT_CPU,     RLIMIT_FSIZE, RLIMIT_DATA,  RLIMIT_STACK,
                                 RLIMIT_CORE,    RLIMIT_RSS,   RLIMIT_NPROC, RLIMIT_NOFILE,
                                 RLIMIT_MEMLOCK, RLIMIT_AS};

static void build_limits(struct hyp_exec_request *x)
{
	for (size_t i = 0; i < sizeof(propagated) / sizeof(propagated[0]); i++) {
		struct rlimit rl;
		if (getrlimit(propagated[i], &rl) == 0 && rl.rlim_cur <= rl.rlim_max)
			x->limits[x->nlimits++] =
			    (struct hyp_rlimit){(uint32_t)propagated[i], rl.rlim_cur, rl.rlim_max};
	}
}

/* With --script, argv[0] names the host file that follows in FILE frames. */
static int build_argv(const struct exec_opts *o, struct hyp_exec_request *x, hyp_error *err)
{
	int r = strv_dup(o->argv, (size_t)o->argc, &x->argv, err);
	if (r >= 0)
		x->argc = (uint32_t)o->argc;
	return r;
}

int exec_request_build(const struct exec_opts *o, bool tty, uint64_t file_size, struct hyp_msg *ret,
                       hyp_error *err)
{
	struct hyp_msg msg = {.type = HYP_MSG_EXEC, .stream = HYP_STREAM_EXEC};
	struct hyp_exec_request *x = &msg.exec;
	mode_t mask = umask(0);
	umask(mask);
	x->uid = (uint32_t)getuid();
	x->gid = (uint32_t)getgid();
	x->umask = (uint32_t)mask;
	if (tty) {
		x->flags |= HYP_EXEC_TTY;
		exec_tty_winsize(&x->rows, &x->cols);
	}
	if (o->script) {
		x->flags |= HYP_EXEC_FILE;
		x->file_size = file_size;
	}
	build_limits(x);
	int r = build_groups(x, err);
	if (r >= 0)
		r = build_cwd(o, x, err);
	if (r >= 0)
		r = build_env(o, x, err);
	if (r >= 0)
		r = build_argv(o, x, err);
	if (r < 0) {
		hyp_msg_clear(&msg);
		return r;
	}
	*ret = msg;
	return 0;
}

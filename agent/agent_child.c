/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The forked child, from fork() to execve(): its own session, stdio, the
 * resource limits, the user's groups, gid and uid, umask, working directory,
 * and the program, looked up in the PATH of the environment the host sent. A failure is
 * written to the report pipe (close-on-exec: end of file means execve
 * succeeded) and the child leaves through _exit, 127 when the program was
 * not found and 126 otherwise, as a shell would.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_bootcfg.h"
#include "agent_session.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

__attribute__((noreturn)) static void fail(const struct agent_child *c, int stage, int error)
{
	struct agent_child_report rep = {.stage = stage, .error = error};
	ssize_t ignored = write(c->status_fd, &rep, sizeof(rep));

	(void)ignored;
	_exit(stage == CHILD_EXEC && error == ENOENT ? 127 : 126);
}

/* The agent's blocked signals and ignored SIGPIPE would survive execve
 * (agent_signals_setup() reset everything else). */
static void reset_signals(void)
{
	sigset_t none;

	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void setup_stdio(const struct agent_child *c)
{
	if (c->tty_fd >= 0) {
		if (ioctl(c->tty_fd, TIOCSCTTY, 0) < 0)
			fail(c, CHILD_TTY, errno);
		/* the terminal belongs to the user, as after a login */
		if (c->cfg->root && fchown(c->tty_fd, c->req->uid, (gid_t)-1) < 0)
			fail(c, CHILD_TTY, errno);
	}
	/* the agent keeps fds 0-2 open, so these are all >= 3: dup2 clears CLOEXEC */
	for (int i = 0; i < 3; i++)
		if (dup2(c->stdio[i], i) < 0)
			fail(c, CHILD_TTY, errno);
}

static const char *const limit_names[HYP_EXEC_MAX_LIMITS] = {
    "CPU",     "FSIZE", "DATA",  "STACK",      "CORE",     "RSS",  "NPROC",  "NOFILE",
    "MEMLOCK", "AS",    "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME"};

static void limit_text(char *buf, size_t size, uint64_t v)
{
	if (v == (uint64_t)RLIM_INFINITY)
		snprintf(buf, size, "unlimited");
	else
		snprintf(buf, size, "%llu", (unsigned long long)v);
}

/* The host task's limits, set while still root, so that a hard limit above
 * the guest's default can be raised to the host's. One the kernel refuses
 * is named on the command's stderr; the command runs anyway. */
static void set_limits(const struct agent_child *c)
{
	for (uint32_t i = 0; i < c->req->nlimits; i++) {
		const struct hyp_rlimit *l = &c->req->limits[i];
		struct rlimit rl = {.rlim_cur = l->soft, .rlim_max = l->hard};
		char soft[24], hard[24];
		if (setrlimit((int)l->resource, &rl) == 0)
			continue;
		int error = errno;
		limit_text(soft, sizeof(soft), l->soft);
		limit_text(hard, sizeof(hard), l->hard);
		dprintf(STDERR_FILENO, AGENT_PREFIX "RLIMIT_%s %s/%s not set: %s\n",
		        limit_names[l->resource], soft, hard, strerror(error));
	}
}

static void set_ids(const struct agent_child *c)
{
	const struct hyp_exec_request *req = c->req;

	if (!c->cfg->root) {
		/* unprivileged (--listen tests): only as ourselves */
		if (req->uid != c->cfg->uid || req->gid != c->cfg->gid)
			fail(c, CHILD_IDS, EPERM);
		return;
	}
	gid_t groups[HYP_EXEC_MAX_GROUPS];
	for (uint32_t i = 0; i < req->ngroups && i < HYP_EXEC_MAX_GROUPS; i++)
		groups[i] = req->groups[i];
	if (setgroups(req->ngroups, groups) < 0)
		fail(c, CHILD_GROUPS, errno);
	if (setresgid(req->gid, req->gid, req->gid) < 0)
		fail(c, CHILD_GID, errno);
	if (setresuid(req->uid, req->uid, req->uid) < 0)
		fail(c, CHILD_UID, errno);
}

/* One line on the task's stderr (already fd 2). */
static void warn_not_shared(const struct agent_child *c)
{
	char shares[512], line[1024 + 640];
	agent_bootcfg_describe(c->cfg->boot, shares, sizeof(shares));
	int n = snprintf(line, sizeof(line),
	                 "hyperion: the working directory '%s' is not shared with the VM "
	                 "(shares: %s); running in /\n",
	                 c->req->cwd, shares);
	ssize_t ignored = write(2, line, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
	(void)ignored;
}

/* With shares, the host's cwd (optional) is the same directory in the
 * guest only inside a share; anywhere else the task runs in "/". */
static void set_cwd(const struct agent_child *c)
{
	const struct agent_bootcfg *boot = c->cfg->boot;
	if ((c->req->flags & HYP_EXEC_CWD_OPTIONAL) && boot && boot->nshares &&
	    !agent_bootcfg_in_share(boot, c->req->cwd)) {
		if (chdir("/") < 0)
			fail(c, CHILD_CWD, errno);
		warn_not_shared(c);
		return;
	}
	if (chdir(c->req->cwd) == 0)
		return;
	int error = errno;
	/* optional: the host's own cwd, which the guest may not have */
	bool missing = error == ENOENT || error == ENOTDIR;
	if (!missing || !(c->req->flags & HYP_EXEC_CWD_OPTIONAL) || chdir("/") < 0)
		fail(c, CHILD_CWD, error);
}

/* Every fd but 0-2 closes at execve (the report pipe already does). */
static void close_fds(void)
{
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	long max = sysconf(_SC_OPEN_MAX);
	for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static const char *env_get(char *const *envp, const char *name)
{
	size_t len = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
			return *envp + len + 1;
	return NULL;
}

/* execve, and a file without a #! line runs with /bin/sh, as in a shell. */
static int try_exec(const char *path, char *const *argv, char *const *envp)
{
	execve(path, argv, envp);
	if (errno != ENOEXEC)
		return errno;
	size_t argc = 0;
	while (argv[argc])
		argc++;
	char **sh_argv = calloc(argc + 2, sizeof(char *));
	if (!sh_argv)
		return ENOEXEC;
	sh_argv[0] = (char *)"sh";
	sh_argv[1] = (char *)path;
	for (size_t i = 1; i < argc; i++)
		sh_argv[i + 1] = argv[i];
	execve("/bin/sh", sh_argv, envp);
	return ENOEXEC;
}

/* Whether the PATH search goes on after execve(full) failed with `error`. */
static bool search_on(int error, const char *full, bool *denied)
{
	struct stat st;

	if (error == EACCES) {
		/* a directory we may not search is not "permission denied" */
		if (stat(full, &st) == 0)
			*denied = true;
		return true;
	}
	return error == ENOENT || error == ENOTDIR || error == ESTALE || error == ENODEV ||
	       error == ETIMEDOUT;
}

/* execvpe() with the PATH of `envp` (not the agent's): the errno to report. */
static int exec_search(char *const *argv, char *const *envp)
{
	const char *file = argv[0];
	if (strchr(file, '/'))
		return try_exec(file, argv, envp);

	const char *path = env_get(envp, "PATH");
	bool denied = false;
	for (const char *p = path ? path : DEFAULT_PATH;; p++) {
		const char *end = strchrnul(p, ':');
		char full[PATH_MAX];
		size_t dir_len = end - p;
		if (dir_len + 1 + strlen(file) < sizeof(full)) {
			/* an empty entry is the current directory */
			memcpy(full, p, dir_len);
			full[dir_len] = dir_len ? '/' : '\0';
			strcpy(full + dir_len + (dir_len ? 1 : 0), file);
			int error = try_exec(full, argv, envp);
			if (!search_on(error, full, &denied))
				return error;
		}
		if (!*end)
			break;
		p = end;
	}
	return denied ? EACCES : ENOENT;
}

void agent_child_run(const struct agent_child *c)
{
	reset_signals();
	setsid();
	setup_stdio(c);
	set_limits(c);
	set_ids(c);
	umask(c->req->umask);
	set_cwd(c);
	close_fds();
	fail(c, CHILD_EXEC, exec_search(c->req->argv, c->req->envp));
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperionctl exec: run a command in a job's VM as the job's user (or
 * --user). Root never talks to the guest: a child drops to the user and
 * becomes hyperion-exec, which does, in a session of its own, with an
 * environment of its own and, where root's fds 0-2 are terminals, a pty of
 * its own that root relays (ctl_exec_pty.c): nothing of root's reaches a
 * process the job user can read or trace.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_exec.h"
#include "hyp_build_config.h"
#include "hyp_cleanup.h"
#include "hyp_statedir.h"

/* hyperion-exec of the build tree this binary belongs to (tools/exec/
 * beside tools/ctl/), else the installed one. */
static void find_exec_tool(char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(buf, size, "%s/../exec/hyperion-exec", dirname(self));
		if (access(buf, X_OK) == 0)
			return;
	}
	snprintf(buf, size, "%s/hyperion-exec", HYP_BINDIR);
}

/* The job's user is whoever owns its exec locks. */
static int job_owner(const struct ctl *ctl, const char *node, uint32_t job_id, uid_t *ret_uid,
                     hyp_error *err)
{
	_cleanup_free_ char *dir = hyp_job_dir(ctl->cfg.state_dir, node, job_id);
	_cleanup_free_ char *lock = dir ? hyp_exec_lock_path(dir, 0) : NULL;
	struct stat st;
	if (!lock)
		return hyp_fail(err, ENOMEM, "out of memory");
	if (stat(lock, &st) < 0)
		return errno == ENOENT
		           ? hyp_fail(err, ENOENT, "job %u has no VM on this node", job_id)
		           : hyp_fail_errno(err, "'%s'", lock);
	*ret_uid = st.st_uid;
	return 0;
}

static int parse_exec_args(int argc, char **argv, uint32_t *job_id, const char **node,
                           const char **user, hyp_error *err)
{
	static const struct option opts[] = {{"job", required_argument, NULL, 'j'},
	                                     {"node", required_argument, NULL, 'N'},
	                                     {"user", required_argument, NULL, 'u'},
	                                     {0}};
	int c, r = 0;
	optind = 0;
	opterr = 0;
	while (r >= 0 && (c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'j')
			r = ctl_parse_job_id(optarg, job_id, err);
		else if (c == 'u')
			*user = optarg;
		else if (c == 'N')
			r = ctl_parse_node(optarg, node, err);
		else
			r = hyp_fail(err, EINVAL, "unknown option '%s'", argv[optind - 1]);
	}
	if (r < 0)
		return r;
	if (!*job_id)
		return hyp_fail(err, EINVAL, "missing --job");
	if (optind >= argc)
		return hyp_fail(err, EINVAL, "missing the command: exec --job ID -- COMMAND");
	return 0;
}

/* hyperion-exec's status is ours, as when this process became it. */
__attribute__((noreturn)) static void exit_as(int wstatus)
{
	if (!WIFSIGNALED(wstatus))
		exit(WEXITSTATUS(wstatus));
	int signo = WTERMSIG(wstatus);
	sigset_t set;
	struct rlimit no_core = {0, 0};
	setrlimit(RLIMIT_CORE, &no_core);
	signal(signo, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, signo);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(signo);
	_exit(128 + signo);
}

/* A closed fd 0-2 would be reused by the next open(): the signalfd or the
 * pty's master would then be handed to the user's side. /dev/null there. */
static void std_fds_open(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = open("/dev/null", O_RDWR);
		if (n >= 0 && n != fd)
			close(n);
	}
}

/* Fork the user's side and relay its terminal; its wait status. */
static int run_user_side(const struct passwd *pw, const char *tool, char **args, char **env,
                         int *ret_wstatus, hyp_error *err)
{
	std_fds_open();
	_cleanup_close_ int sigfd = ctl_exec_signals(err);
	if (sigfd < 0)
		return sigfd;
	struct ctl_exec_term t;
	int r = ctl_exec_term_open(&t, err);
	if (r < 0) {
		ctl_exec_term_close(&t);
		return r;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		ctl_exec_child(&t, pw, tool, args, env);
	if (pid < 0)
		r = hyp_fail_errno(err, "fork");
	hyp_closep(&t.slave); /* the child's now: EIO on the master once it is gone */
	t.slave = -1;
	if (r >= 0)
		r = ctl_exec_relay(&t, pid, sigfd, ret_wstatus, err);
	ctl_exec_term_close(&t);
	return r;
}

int command_exec(struct ctl *ctl, int argc, char **argv, hyp_error *err)
{
	extern char **environ;
	uint32_t job_id = 0;
	const char *user = NULL, *node = NULL;
	char host[HYP_NODE_NAME_MAX + 1];
	int r = parse_exec_args(argc, argv, &job_id, &node, &user, err);
	if (r >= 0 && !node && (r = hyp_node_name_default(host, sizeof(host), err)) >= 0)
		node = host;
	if (r < 0)
		return r;
	uid_t uid = 0;
	struct passwd *pw = NULL;
	if (user)
		pw = getpwnam(user);
	else if ((r = job_owner(ctl, node, job_id, &uid, err)) >= 0)
		pw = getpwuid(uid);
	if (r < 0)
		return r;
	if (!pw)
		return hyp_fail(err, EINVAL, "unknown user '%s'", user ? user : "(job owner)");

	char tool[PATH_MAX];
	find_exec_tool(tool, sizeof(tool));
	struct hyp_exec_args x = {.config_path = ctl->config_path,
	                          .job_id = job_id,
	                          .node = node,
	                          .argv = argv + optind,
	                          .argc = argc - optind};
	_cleanup_strv_ char **args = NULL, **env = NULL;
	if ((r = hyp_job_exec_argv(&x, &args, err)) < 0 ||
	    (r = ctl_exec_env(pw, environ, &env, err)) < 0)
		return r;
	int wstatus;
	if ((r = run_user_side(pw, tool, args, env, &wstatus, err)) < 0)
		return r;
	exit_as(wstatus);
}

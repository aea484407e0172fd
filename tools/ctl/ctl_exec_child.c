/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The job user's side of hyperionctl exec, from fork() to execve() of
 * hyperion-exec: a session of its own (no controlling terminal of root's),
 * the pty's slave where fds 0-2 were terminals, no other fd of root's, the
 * user's groups, gid and uid, and an environment of its own. What the job
 * user can read of this process once it runs their binary (/proc/PID/fd,
 * /proc/PID/environ) holds nothing of root's.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "ctl_exec.h"

#define EXIT_SETUP 1 /* as hyperion-exec: the command was not started */

/* Relayed to the child (SIGCHLD and SIGWINCH handled): root does not die of
 * them while the user's side runs, nor stop on the terminal's ^Z. */
static const int relayed[] = {SIGCHLD, SIGWINCH, SIGINT,  SIGTERM, SIGHUP,
                              SIGQUIT, SIGUSR1,  SIGUSR2, SIGCONT, SIGTSTP};

int ctl_exec_signals(hyp_error *err)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(relayed) / sizeof(relayed[0]); i++)
		sigaddset(&set, relayed[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return hyp_fail_errno(err, "blocking signals");
	int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return hyp_fail_errno(err, "signalfd");
	return fd;
}

__attribute__((noreturn)) static void fail(const char *what)
{
	dprintf(STDERR_FILENO, "hyperionctl exec: %s: %m\n", what);
	_exit(EXIT_SETUP);
}

static void close_fds(void)
{
	if (close_range(3, ~0U, 0) == 0)
		return;
	long max = sysconf(_SC_OPEN_MAX);
	for (int fd = 3; fd < (max > 0 && max < (1 << 20) ? max : (1 << 20)); fd++)
		close(fd);
}

static void setup_stdio(const struct ctl_exec_term *t)
{
	if (t->slave < 0)
		return;
	if (ioctl(t->slave, TIOCSCTTY, 0) < 0)
		fail("making the pty the controlling terminal");
	for (int fd = 0; fd <= 2; fd++)
		if (t->tty[fd] && dup2(t->slave, fd) < 0)
			fail("dup2");
}

void ctl_exec_child(const struct ctl_exec_term *t, const struct passwd *pw, const char *tool,
                    char **argv, char **envp)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setsid() < 0)
		fail("setsid");
	setup_stdio(t);
	close_fds(); /* the master, the signalfd, and whatever root inherited */
	if (initgroups(pw->pw_name, pw->pw_gid) < 0)
		fail("initgroups");
	if (setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		fail("switching to the job's user");
	execve(tool, argv, envp);
	fail(tool);
}

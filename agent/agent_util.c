/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small things every part of the agent uses: the console log line, the
 * signal set the agent handles through signalfds, non-blocking fds.
 *
 * Every process of the agent keeps the signals below blocked and reads them
 * from a signalfd: nothing runs in a signal handler, and SIGPIPE is the only
 * signal ignored. Commands get an empty mask and SIGPIPE back before execve
 * (agent_child.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"

/* One write(2) per line, so that lines from several processes do not mix. */
void agent_log(const char *fmt, ...)
{
	char line[HYP_ERROR_MSG_SIZE + 128];
	int n = snprintf(line, sizeof(line), AGENT_PREFIX);
	va_list ap;

	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m < (int)(sizeof(line) - n - 1) ? m : (int)(sizeof(line) - n - 2);
	line[n++] = '\n';
	ssize_t ignored = write(STDERR_FILENO, line, n);
	(void)ignored;
}

static void handled_set(sigset_t *set)
{
	static const int handled[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGIO};

	sigemptyset(set);
	for (size_t i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		sigaddset(set, handled[i]);
}

int agent_signals_setup(hyp_error *err)
{
	sigset_t set;

	/* what a shell's "&" ignores (SIGINT, SIGQUIT) the commands must not */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	handled_set(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return hyp_fail_errno(err, "blocking signals");
	/* a command that closed its stdin is an EPIPE to handle, not our death */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return hyp_fail_errno(err, "ignoring SIGPIPE");
	return 0;
}

int agent_signalfd(hyp_error *err)
{
	sigset_t set;

	handled_set(&set);
	int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return hyp_fail_errno(err, "signalfd");
	return fd;
}

int agent_signal_read(int sigfd)
{
	struct signalfd_siginfo si;
	ssize_t n;

	do
		n = read(sigfd, &si, sizeof(si));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(si) ? (int)si.ssi_signo : 0;
}

int agent_fd_nonblock(int fd, bool on, hyp_error *err)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags >= 0)
		flags = fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
	if (flags < 0)
		return hyp_fail_errno(err, "fcntl(O_NONBLOCK) on fd %d", fd);
	return 0;
}

/* A closed fd 0-2 would be reused by the next open() and end up as a
 * command's stdio or receive our log lines: fill the holes. */
void agent_std_fds(const char *dev)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = open(dev, O_RDWR | O_NOCTTY);
		if (n < 0)
			n = open("/dev/null", O_RDWR);
		if (n >= 0 && n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
}

int agent_idle_signals(int sigfd)
{
	int signo, stop = 0;

	while ((signo = agent_signal_read(sigfd)) > 0)
		if (signo == SIGTERM || signo == SIGINT || signo == SIGHUP)
			stop = 1;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return stop;
}

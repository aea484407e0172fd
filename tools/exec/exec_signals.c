/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Signals during a session arrive on a signalfd and are forwarded to the
 * command's process group in the guest; none of them stops or kills this
 * process (SIGTSTP included). When the command dies of a signal, so does
 * hyperion-exec, so that Slurm records what it would without a VM.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "exec.h"

static const int forwarded[] = {SIGTERM, SIGINT,  SIGHUP,  SIGQUIT,
                                SIGUSR1, SIGUSR2, SIGCONT, SIGTSTP};

static void relayed_set(bool tty, sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(set, forwarded[i]);
	if (tty)
		sigaddset(set, SIGWINCH);
	sigaddset(set, SIGCHLD); /* a guest command ended (exec_guest.c) */
}

int exec_signals_open(bool tty, hyp_error *err)
{
	sigset_t set;
	relayed_set(tty, &set);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return hyp_fail_errno(err, "blocking signals");
	int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return hyp_fail_errno(err, "signalfd");
	/* a closed stdout or stderr is an EPIPE to handle, not a death */
	signal(SIGPIPE, SIG_IGN);
	return fd;
}

int exec_signals_read(int fd)
{
	struct signalfd_siginfo si;
	ssize_t n = read(fd, &si, sizeof(si));
	return n == (ssize_t)sizeof(si) ? (int)si.ssi_signo : 0;
}

/* The command's death is relayed, not hyperion-exec's: no host core file. */
static void no_core(void)
{
	struct rlimit rl = {0, 0};
	setrlimit(RLIMIT_CORE, &rl);
}

bool exec_signal_kills(int signo)
{
	switch (signo) {
	case SIGCHLD:
	case SIGCONT:
	case SIGURG:
	case SIGWINCH: /* ignored by default */
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU: /* stop by default */
		return false;
	default:
		return signo > 0 && signo < NSIG;
	}
}

void exec_die_of(int signo)
{
	sigset_t set;
	exec_tty_restore();
	fflush(NULL);
	/* A command cannot die of a signal that does not kill: the guest says
	 * nonsense. Dying of it would stop (or not end) this process while it
	 * holds its port: the shell's convention instead. */
	if (!exec_signal_kills(signo))
		_exit(128 + (signo & 0x7f));
	no_core();
	signal(signo, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, signo);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	kill(getpid(), signo); /* SIGKILL too */
	_exit(128 + signo);    /* not reached */
}

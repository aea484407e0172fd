/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperion-exec dying of the signal that killed the command: a signal that
 * cannot kill (the guest reports nonsense) must not stop or keep it alive. */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"

Test(exec_signals, which_signals_kill)
{
	const int kill_sigs[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGKILL,  SIGUSR1, SIGSEGV,
	                         SIGPIPE, SIGTERM, SIGXCPU, SIGRTMIN, SIGRTMAX};
	static const int not_kill[] = {SIGCHLD, SIGCONT, SIGURG,  SIGWINCH,
	                               SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU};
	for (size_t i = 0; i < sizeof(kill_sigs) / sizeof(kill_sigs[0]); i++)
		cr_expect(exec_signal_kills(kill_sigs[i]), "signal %d", kill_sigs[i]);
	for (size_t i = 0; i < sizeof(not_kill) / sizeof(not_kill[0]); i++)
		cr_expect(!exec_signal_kills(not_kill[i]), "signal %d", not_kill[i]);
	cr_expect(!exec_signal_kills(0));
	cr_expect(!exec_signal_kills(NSIG));
}

/* What a process calling exec_die_of(signo) ends as, seen by its parent
 * (WUNTRACED: a stopped child is reported, and then killed). */
static int die_of(int signo)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		exec_die_of(signo);
	int st;
	cr_assert_eq(waitpid(pid, &st, WUNTRACED), pid);
	if (WIFSTOPPED(st)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return st;
}

Test(exec_signals, dies_of_a_signal_that_kills)
{
	int st = die_of(SIGTERM);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status %#x", st);
	st = die_of(SIGKILL);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %#x", st);
	st = die_of(SIGSEGV);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV && !WCOREDUMP(st), "status %#x", st);
}

Test(exec_signals, exits_128_plus_n_for_a_signal_that_stops_or_is_ignored)
{
	static const int sigs[] = {SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU,
	                           SIGCHLD, SIGCONT, SIGURG,  SIGWINCH};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		int st = die_of(sigs[i]);
		cr_expect(!WIFSTOPPED(st), "signal %d stopped the process", sigs[i]);
		cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 128 + sigs[i],
		          "signal %d: status %#x", sigs[i], st);
	}
}

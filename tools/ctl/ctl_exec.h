/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperionctl exec's parts: the job user's environment (ctl_exec_env.c),
 * the terminal it gets instead of the admin's (ctl_exec_pty.c) and the
 * child that drops to the user and becomes hyperion-exec (ctl_exec_child.c).
 */
#ifndef CTL_EXEC_H
#define CTL_EXEC_H

#include <pwd.h>
#include <stdbool.h>
#include <sys/types.h>
#include <termios.h>

#include "hyp_error.h"

/* ctl_exec_env.c: NAME=VALUE strings (malloc'd, NULL-terminated) for the job
 * user: TERM, COLORTERM, LANG, LANGUAGE, LC_* and TZ taken from `env`, USER,
 * LOGNAME, HOME, SHELL and PATH set for `pw`; nothing else. */
int ctl_exec_env(const struct passwd *pw, char *const *env, char ***ret_env, hyp_error *err);

/* ctl_exec_pty.c. Where any of fds 0-2 is a terminal, the user side gets a
 * pty of its own in its place, and root copies bytes between the two. */
struct ctl_exec_term {
	bool tty[3]; /* which of fds 0-2 are terminals: the child gets the slave there */
	int master;  /* root's end, or -1 when none of fds 0-2 is a terminal */
	int slave;   /* the child's end, until it has it */
	int out_fd;  /* where the pty's output goes: fd 1 or 2 if a terminal, else 0 */
	bool raw;    /* fd 0, the admin's terminal, is raw until restored */
	struct termios saved;
};
int ctl_exec_term_open(struct ctl_exec_term *t, hyp_error *err);
void ctl_exec_term_close(struct ctl_exec_term *t); /* restores the admin's terminal */
/* Relay until child `pid` has exited and the pty is drained: its wait status. */
int ctl_exec_relay(struct ctl_exec_term *t, pid_t pid, int sigfd, int *ret_wstatus, hyp_error *err);

/* ctl_exec_child.c: the signals root relays to the child (blocked, on a
 * signalfd), and the child, from fork() to execve() of hyperion-exec. */
int ctl_exec_signals(hyp_error *err);
__attribute__((noreturn)) void ctl_exec_child(const struct ctl_exec_term *t,
                                              const struct passwd *pw, const char *tool,
                                              char **argv, char **envp);

#endif

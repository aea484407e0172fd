/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one way root code starts a child process (pyxis's enroot.c child,
 * crun's cleanup_pid). The child gets:
 *  - argv[0] run as given: an absolute path, never looked up in PATH;
 *  - exactly envp (default: PATH=/usr/sbin:/usr/bin:/sbin:/bin only);
 *  - stdin from /dev/null, stdout/stderr to the given fds or /dev/null,
 *    optionally one more fd as HYP_SPAWN_PASS_FD, every other fd closed;
 *    "/" as its working directory;
 *  - with drop: the given supplementary groups (none by default), then the
 *    gid, then the uid, checked (it cannot become root again);
 *  - default signal dispositions and an empty signal mask.
 * It leaves only through _exit: 127 when it cannot exec, the reason sent to
 * the parent, so that starting fails with "cannot execute PATH: ...".
 */
#ifndef HYP_SPAWN_H
#define HYP_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "hyp_error.h"

#define HYP_SPAWN_DEFAULT_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
#define HYP_SPAWN_PASS_FD      4 /* where pass_fd lands in the child */

struct hyp_spawn {
	const char *const *argv; /* argv[0]: absolute path of the program */
	const char *const *envp; /* NULL: HYP_SPAWN_DEFAULT_PATH only */
	bool drop;               /* run as uid/gid instead of the caller */
	uid_t uid;
	gid_t gid;
	const gid_t *groups; /* supplementary groups with drop (NULL: none) */
	size_t ngroups;
	/* stdout, stderr; -1 or 0 (what a zeroed struct holds): /dev/null */
	int out_fd;
	int err_fd;           /* hyp_spawn_run captures stderr whatever this says */
	bool new_session;     /* setsid(): its own session and process group */
	int pass_fd;          /* > 0: kept open in the child as HYP_SPAWN_PASS_FD */
	unsigned long nofile; /* > 0: RLIMIT_NOFILE (soft and hard; the hard limit
	                         if it cannot be raised), set before drop */
};

/* Start the child; *ret_pid is its pid, to reap with hyp_spawn_wait (or a
 * _cleanup_pid_ variable). Fails if it could not be set up or exec'd. */
int hyp_spawn_start(const struct hyp_spawn *sp, pid_t *ret_pid, hyp_error *err);

/* Reap *pid (EINTR-safe), store its wait status, set *pid to -1. */
int hyp_spawn_wait(pid_t *pid, int *ret_status, hyp_error *err);

/* Run to completion, stderr captured (sp->err_fd is ignored). Fails when it
 * exits non-zero or is killed, with the first line of what it printed. */
int hyp_spawn_run(const struct hyp_spawn *sp, hyp_error *err);

/* "exited with status 3" / "killed by signal 9 (Killed)" for an error. */
int hyp_spawn_status_fail(const char *what, int status, const char *detail, hyp_error *err);

#endif

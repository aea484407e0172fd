/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Scope-bound cleanup (systemd's _cleanup_, crun's cleanup_free). Every
 * destructor accepts NULL / -1. Hand ownership over with steal_pointer() or
 * take_fd() (take_pid()) so the cleanup does not run on what was given away.
 */
#ifndef HYP_CLEANUP_H
#define HYP_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void hyp_freep(void *p)
{
	free(*(void **)p);
}

static inline void hyp_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void hyp_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void hyp_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* Free a NULL-terminated array of strings and the array itself. */
static inline void hyp_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static inline void hyp_strv_freep(char ***v)
{
	hyp_strv_free(*v);
}

/* A child still running when its scope ends is killed and reaped. */
static inline void hyp_killp(pid_t *pid)
{
	if (*pid > 0) {
		int saved = errno;
		kill(*pid, SIGKILL);
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
		*pid = -1;
		errno = saved;
	}
}

#define _cleanup_free_     _cleanup_(hyp_freep)
#define _cleanup_close_    _cleanup_(hyp_closep)
#define _cleanup_fclose_   _cleanup_(hyp_fclosep)
#define _cleanup_closedir_ _cleanup_(hyp_closedirp)
#define _cleanup_strv_     _cleanup_(hyp_strv_freep)
#define _cleanup_pid_      _cleanup_(hyp_killp)

#define steal_pointer(pp)                                                                          \
	({                                                                                         \
		__typeof__(*(pp)) _stolen = *(pp);                                                 \
		*(pp) = NULL;                                                                      \
		_stolen;                                                                           \
	})

#define take_fd(fdp)                                                                               \
	({                                                                                         \
		int _taken = *(fdp);                                                               \
		*(fdp) = -1;                                                                       \
		_taken;                                                                            \
	})

#define take_pid(pidp)                                                                             \
	({                                                                                         \
		pid_t _taken = *(pidp);                                                            \
		*(pidp) = -1;                                                                      \
		_taken;                                                                            \
	})

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Child processes (hyp_spawn.h). The parent may have threads (slurmstepd
 * does): between fork and exec the child calls only async-signal-safe
 * functions, with every signal blocked until the dispositions are reset.
 * A failing step writes {step, errno} to a close-on-exec pipe and leaves
 * with _exit(127); a successful exec closes the pipe, which the parent
 * reads as end-of-file.
 */
#include "hyp_spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hyp_cleanup.h"

#define CAPTURE_SIZE 1024 /* bytes of stderr kept for the error message */
#define REPORT_FD    3    /* where the child keeps the report pipe */

enum step {
	STEP_FDS,
	STEP_CLOSE,
	STEP_SESSION,
	STEP_RLIMIT,
	STEP_GROUPS,
	STEP_GID,
	STEP_UID,
	STEP_VERIFY,
	STEP_CHDIR,
	STEP_SIGNALS,
	STEP_EXEC,
};

struct report {
	int step;
	int code;
};

static const char *const step_names[] = {
    [STEP_FDS] = "redirecting stdin, stdout and stderr",
    [STEP_CLOSE] = "closing inherited file descriptors",
    [STEP_SESSION] = "creating a new session",
    [STEP_RLIMIT] = "setting the open files limit",
    [STEP_GROUPS] = "setting supplementary groups",
    [STEP_GID] = "setting gid",
    [STEP_UID] = "setting uid",
    [STEP_VERIFY] = "dropping privileges (root could be regained)",
    [STEP_CHDIR] = "changing directory to /",
    [STEP_SIGNALS] = "resetting signals",
};

static const char *const default_env[] = {HYP_SPAWN_DEFAULT_PATH, NULL};

/* --- in the child: async-signal-safe only --- */

__attribute__((noreturn)) static void child_fail_to(int fd, int step, int code)
{
	struct report r = {.step = step, .code = code ? code : EIO};
	while (write(fd, &r, sizeof(r)) < 0 && errno == EINTR)
		;
	_exit(127);
}

/* Once child_fds() has put the report pipe in its place. */
__attribute__((noreturn)) static void child_fail(int step, int code)
{
	child_fail_to(REPORT_FD, step, code);
}

/* Without close_range (Linux < 5.9): every fd listed in /proc/self/fd. */
static int close_from_proc(int first)
{
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -1;
	char buf[4096] __attribute__((aligned(8)));
	ssize_t n;
	while ((n = getdents64(dir, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			int fd = 0;
			const char *p = d->d_name;
			for (; *p >= '0' && *p <= '9'; p++)
				fd = fd * 10 + (*p - '0');
			if (*p == '\0' && p != d->d_name && fd >= first && fd != dir)
				close(fd);
		}
	}
	close(dir);
	return n < 0 ? -1 : 0;
}

_Static_assert(HYP_SPAWN_PASS_FD == REPORT_FD + 1, "the passed fd follows the report pipe");

/* stdin, stdout, stderr, REPORT_FD and HYP_SPAWN_PASS_FD from the given
 * fds; all else closed. The sources are first copied above
 * HYP_SPAWN_PASS_FD so that none is overwritten before it is used. */
static void child_fds(int devnull, const struct hyp_spawn *sp, int report)
{
	int src[] = {devnull, sp->out_fd > 0 ? sp->out_fd : devnull,
	             sp->err_fd > 0 ? sp->err_fd : devnull, report,
	             sp->pass_fd > 0 ? sp->pass_fd : devnull};
	for (int i = 0; i < 5; i++)
		if ((src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, HYP_SPAWN_PASS_FD + 1)) < 0)
			child_fail_to(report, STEP_FDS, errno);
	if (dup3(src[3], REPORT_FD, O_CLOEXEC) < 0)
		child_fail_to(report, STEP_FDS, errno);
	for (int i = 0; i < 3; i++)
		if (dup2(src[i], i) < 0)
			child_fail(STEP_FDS, errno);
	int first_closed = REPORT_FD + 1;
	if (sp->pass_fd > 0) {
		if (dup2(src[4], HYP_SPAWN_PASS_FD) < 0) /* not close-on-exec */
			child_fail(STEP_FDS, errno);
		first_closed = HYP_SPAWN_PASS_FD + 1;
	}
	if (close_range((unsigned)first_closed, ~0U, 0) < 0 && close_from_proc(first_closed) < 0)
		child_fail(STEP_CLOSE, errno);
}

static void child_drop(const struct hyp_spawn *sp)
{
	if (setgroups(sp->groups ? sp->ngroups : 0, sp->groups) < 0)
		child_fail(STEP_GROUPS, errno);
	if (setresgid(sp->gid, sp->gid, sp->gid) < 0)
		child_fail(STEP_GID, errno);
	if (setresuid(sp->uid, sp->uid, sp->uid) < 0)
		child_fail(STEP_UID, errno);
	if (getuid() != sp->uid || geteuid() != sp->uid || getgid() != sp->gid ||
	    getegid() != sp->gid)
		child_fail(STEP_VERIFY, EPERM);
	if (sp->uid != 0 && (setuid(0) == 0 || setgid(0) == 0))
		child_fail(STEP_VERIFY, EPERM);
}

/* Every handled or ignored signal back to its default, then unblocked.
 * glibc's internal signals refuse sigaction: nothing to reset there. */
static void child_signals(void)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigemptyset(&dfl.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	sigset_t none;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		child_fail(STEP_SIGNALS, errno);
}

/* Up to `n`; without CAP_SYS_RESOURCE (a container), up to the hard limit. */
static void child_nofile(unsigned long n)
{
	struct rlimit lim = {n, n};
	if (setrlimit(RLIMIT_NOFILE, &lim) == 0)
		return;
	if (errno != EPERM || getrlimit(RLIMIT_NOFILE, &lim) < 0)
		child_fail(STEP_RLIMIT, errno);
	lim.rlim_cur = lim.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &lim) < 0)
		child_fail(STEP_RLIMIT, errno);
}

__attribute__((noreturn)) static void child_run(const struct hyp_spawn *sp, int devnull, int report)
{
	child_fds(devnull, sp, report);
	if (sp->new_session && setsid() < 0)
		child_fail(STEP_SESSION, errno);
	if (sp->nofile)
		child_nofile(sp->nofile);
	if (sp->drop)
		child_drop(sp);
	if (chdir("/") < 0)
		child_fail(STEP_CHDIR, errno);
	const char *const *envp = sp->envp ? sp->envp : default_env;
	child_signals();
	execve(sp->argv[0], (char *const *)sp->argv, (char *const *)envp);
	child_fail(STEP_EXEC, errno);
}

/* --- in the parent --- */

static int report_fail(const struct hyp_spawn *sp, const struct report *r, hyp_error *err)
{
	const char *path = sp->argv[0];
	if (r->step == STEP_EXEC)
		return hyp_fail(err, r->code, "cannot execute %s: %s", path, strerror(r->code));
	if (r->step == STEP_GID || r->step == STEP_UID)
		return hyp_fail(err, r->code, "starting %s: %s %u: %s", path, step_names[r->step],
		                r->step == STEP_GID ? (unsigned)sp->gid : (unsigned)sp->uid,
		                strerror(r->code));
	if (r->step < 0 || r->step >= STEP_EXEC)
		return hyp_fail(err, EIO, "starting %s: the child failed", path);
	return hyp_fail(err, r->code, "starting %s: %s: %s", path, step_names[r->step],
	                strerror(r->code));
}

/* What the child reported: 0 once it exec'd (the pipe closed empty). */
static int read_report(int fd, struct report *ret_report)
{
	ssize_t n;
	while ((n = read(fd, ret_report, sizeof(*ret_report))) < 0 && errno == EINTR)
		;
	if (n == 0)
		return 0;
	if (n != sizeof(*ret_report))
		*ret_report = (struct report){.step = -1, .code = EIO};
	return -1;
}

static int check_spawn(const struct hyp_spawn *sp, hyp_error *err)
{
	if (!sp->argv || !sp->argv[0])
		return hyp_fail(err, EINVAL, "starting a process: no program given");
	if (sp->argv[0][0] != '/')
		return hyp_fail(err, EINVAL, "starting '%s': the program must be an absolute path",
		                sp->argv[0]);
	return 0;
}

int hyp_spawn_start(const struct hyp_spawn *sp, pid_t *ret_pid, hyp_error *err)
{
	int r = check_spawn(sp, err);
	if (r < 0)
		return r;
	_cleanup_close_ int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		return hyp_fail_errno(err, "starting %s: opening /dev/null", sp->argv[0]);
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return hyp_fail_errno(err, "starting %s: pipe", sp->argv[0]);
	_cleanup_close_ int report_rd = pipefd[0], report_wr = pipefd[1];

	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0)
		child_run(sp, devnull, report_wr);
	int saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		errno = saved;
		return hyp_fail_errno(err, "starting %s: fork", sp->argv[0]);
	}

	_cleanup_pid_ pid_t child = pid;
	hyp_closep(&report_wr);
	report_wr = -1;
	struct report rep;
	if (read_report(report_rd, &rep) < 0) {
		int status;
		hyp_spawn_wait(&child, &status, NULL);
		return report_fail(sp, &rep, err);
	}
	*ret_pid = take_pid(&child);
	return 0;
}

int hyp_spawn_wait(pid_t *pid, int *ret_status, hyp_error *err)
{
	int status;
	while (waitpid(*pid, &status, 0) < 0)
		if (errno != EINTR)
			return hyp_fail_errno(err, "waiting for process %d", (int)*pid);
	*pid = -1;
	*ret_status = status;
	return 0;
}

int hyp_spawn_status_fail(const char *what, int status, const char *detail, hyp_error *err)
{
	const char *sep = detail && *detail ? ": " : "";
	detail = detail ? detail : "";
	if (WIFEXITED(status))
		return hyp_fail(err, EIO, "%s exited with status %d%s%s", what, WEXITSTATUS(status),
		                sep, detail);
	if (WIFSIGNALED(status)) {
		const char *name = sigdescr_np(WTERMSIG(status));
		return hyp_fail(err, EIO, "%s killed by signal %d (%s)%s%s", what, WTERMSIG(status),
		                name ? name : "unknown", sep, detail);
	}
	return hyp_fail(err, EIO, "%s ended with wait status 0x%x%s%s", what, (unsigned)status, sep,
	                detail);
}

/* Read fd to its end, keeping the first size - 1 bytes, NUL-terminated. */
static void read_bounded(int fd, char *buf, size_t size)
{
	size_t len = 0;
	char scratch[512];
	for (;;) {
		char *dst = len < size - 1 ? buf + len : scratch;
		size_t room = len < size - 1 ? size - 1 - len : sizeof(scratch);
		ssize_t n = read(fd, dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dst != scratch)
			len += (size_t)n;
	}
	buf[len] = '\0';
}

/* The first non-empty line of a message, in place. */
static const char *first_line(char *msg)
{
	msg += strspn(msg, "\n");
	msg[strcspn(msg, "\n")] = '\0';
	return msg;
}

int hyp_spawn_run(const struct hyp_spawn *sp, hyp_error *err)
{
	int pipefd[2];
	int r = check_spawn(sp, err);
	if (r < 0)
		return r;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return hyp_fail_errno(err, "starting %s: pipe", sp->argv[0]);
	_cleanup_close_ int rd = pipefd[0], wr = pipefd[1];
	struct hyp_spawn capture = *sp;
	capture.err_fd = wr;
	_cleanup_pid_ pid_t pid = -1;
	if ((r = hyp_spawn_start(&capture, &pid, err)) < 0)
		return r;
	hyp_closep(&wr);
	wr = -1;
	char msg[CAPTURE_SIZE];
	read_bounded(rd, msg, sizeof(msg));
	int status;
	if ((r = hyp_spawn_wait(&pid, &status, err)) < 0)
		return r;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return hyp_spawn_status_fail(sp->argv[0], status, first_line(msg), err);
}

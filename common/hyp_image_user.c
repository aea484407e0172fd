/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Checking a user's image file from root with the user's credentials: a
 * child drops to the user's groups, gid and uid (checked: it cannot become
 * root again), opens the file, checks its bytes (hyp_image_check.c) and
 * sends the verdict back over a socket pair. Root neither opens the path
 * nor reads the file: a user cannot make root read a file of someone
 * else's, what is checked is what the user can open, the parser of the
 * user's bytes runs with the user's rights, and a read that hangs (a FUSE
 * file system of the user's) hangs only the child, which root ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_image_check.h"

#define MAX_GROUPS       256
#define CHECK_TIMEOUT_MS 30000 /* an open or read that hangs (dead NFS server, FUSE) */

struct creds {
	uid_t uid;
	gid_t gid;
	gid_t groups[MAX_GROUPS];
	int ngroups;
};

/* In the parent: the user database is not safe to use in a child forked
 * from a threaded process (slurmstepd). */
static void creds_lookup(struct creds *c, uid_t uid, gid_t gid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	c->uid = uid;
	c->gid = gid;
	c->ngroups = MAX_GROUPS;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res ||
	    getgrouplist(pw.pw_name, gid, c->groups, &c->ngroups) < 0) {
		c->groups[0] = gid; /* unknown user or too many groups: the primary one */
		c->ngroups = 1;
	}
}

/* In the child: only system calls. */
static int drop_to(const struct creds *c)
{
	if (setgroups((size_t)c->ngroups, c->groups) < 0 || setresgid(c->gid, c->gid, c->gid) < 0 ||
	    setresuid(c->uid, c->uid, c->uid) < 0)
		return -1;
	if (c->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return -1;
	return 0;
}

/* The child's verdict: hyp_image_fd_check's result, info and message. */
struct answer {
	int r;
	struct hyp_image_info info;
	char msg[HYP_ERROR_MSG_SIZE];
};

/* In the child, after fork in a threaded process: no user database, and an
 * open that fails is sent as its errno, formatted by the parent (strerror
 * may take a lock another thread held at fork). */
static int check_as_user(const char *path, const struct creds *c, struct answer *a)
{
	hyp_error err = {0};
	if (drop_to(c) < 0)
		return a->r = -EPERM;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return a->r = -errno;
	a->r = hyp_image_fd_check(fd, path, &a->info, &err);
	snprintf(a->msg, sizeof(a->msg), "%s", err.msg);
	return a->r;
}

static _Noreturn void child(int sock, const char *path, const struct creds *c)
{
	struct answer a = {0};
	check_as_user(path, c, &a);
	struct iovec iov = {.iov_base = &a, .iov_len = sizeof(a)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	_exit(sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)sizeof(a) ? 0 : 1);
}

/* The child's answer. The child runs with the user's uid, so the user can
 * kill or stop it: a child gone without an answer (end of file on the
 * SOCK_SEQPACKET pair) or none within CHECK_TIMEOUT_MS is an error, never a
 * wait without end. */
static int recv_answer(int sock, const char *path, uid_t uid, struct answer *a, hyp_error *err)
{
	int k;
	struct pollfd p = {.fd = sock, .events = POLLIN};
	while ((k = poll(&p, 1, CHECK_TIMEOUT_MS)) < 0 && errno == EINTR)
		;
	if (k == 0)
		return hyp_fail(err, ETIMEDOUT,
		                "image '%s': checking it as the user took more than %d s", path,
		                CHECK_TIMEOUT_MS / 1000);
	ssize_t n = k < 0 ? -1 : recv(sock, a, sizeof(*a), 0);
	if (n != (ssize_t)sizeof(*a))
		return hyp_fail(err, EIO,
		                "image '%s': the process checking it as the user ended "
		                "without an answer",
		                path);
	a->msg[sizeof(a->msg) - 1] = '\0';
	if (a->r >= 0)
		return 0;
	int code = a->r > -4096 ? -a->r : EIO;
	if (a->msg[0])
		return hyp_fail(err, code, "%s", a->msg);
	errno = code;
	return hyp_fail_errno(err, "image '%s' (opened as uid %u)", path, (unsigned)uid);
}

static int check_as(const char *path, uid_t uid, gid_t gid, struct hyp_image_info *ret_info,
                    hyp_error *err)
{
	int sv[2], status = 0;
	struct creds c;
	struct answer a = {0};
	creds_lookup(&c, uid, gid);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return hyp_fail_errno(err, "socketpair");
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		child(sv[1], path, &c);
	}
	close(sv[1]);
	int r = pid < 0 ? hyp_fail_errno(err, "fork") : recv_answer(sv[0], path, uid, &a, err);
	close(sv[0]);
	if (pid > 0) /* done, or stopped or hanging (by the user): root ends it */
		kill(pid, SIGKILL);
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r >= 0)
		*ret_info = a.info;
	return r;
}

int hyp_image_check_file_as(const char *path, uid_t uid, gid_t gid, struct hyp_image_info *ret_info,
                            hyp_error *err)
{
	int r = hyp_image_path_check(path, err);
	if (r < 0)
		return hyp_error_prefix(err, "image refused");
	return check_as(path, uid, gid, ret_info, err);
}

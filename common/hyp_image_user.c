/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Opening a user's image file from root with the user's credentials: a
 * child drops to the user's groups, gid and uid (checked: it cannot become
 * root again), opens the file and sends the descriptor back over a socket
 * pair; the parent, still root, checks the bytes (hyp_image_check.c). No
 * path is opened by root, so a user cannot make root read a file of
 * someone else's, and what is checked is what the user can open.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_image_check.h"

#define MAX_GROUPS      256
#define OPEN_TIMEOUT_MS 30000 /* an open that hangs (a dead NFS server, FUSE) */

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

static int send_fd(int sock, int fd, int error)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = &error, .iov_len = sizeof(error)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

static _Noreturn void child(int sock, const char *path, const struct creds *c)
{
	int error = 0, fd = -1;
	if (drop_to(c) < 0)
		error = EPERM;
	else if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0)
		error = errno;
	_exit(send_fd(sock, fd, error) < 0 ? 1 : 0);
}

/* The fd, or the errno the child's open failed with (ret_fd -1). The child
 * runs with the user's uid, so the user can kill or stop it: a child gone
 * without an answer (end of file on the SOCK_SEQPACKET pair) or none within
 * OPEN_TIMEOUT_MS is an error, never a wait without end. */
static int recv_fd(int sock, const char *path, int *ret_fd, int *ret_error, hyp_error *err)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	int error = 0, fd = -1, k;
	struct iovec iov = {.iov_base = &error, .iov_len = sizeof(error)};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct pollfd p = {.fd = sock, .events = POLLIN};
	while ((k = poll(&p, 1, OPEN_TIMEOUT_MS)) < 0 && errno == EINTR)
		;
	if (k == 0)
		return hyp_fail(err, ETIMEDOUT,
		                "image '%s': opening it as the user took more than %d s", path,
		                OPEN_TIMEOUT_MS / 1000);
	ssize_t n = k < 0 ? -1 : recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (n != (ssize_t)sizeof(error))
		return hyp_fail(err, EIO,
		                "image '%s': the process opening it as the user ended "
		                "without an answer",
		                path);
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (fd < 0 && error == 0)
		return hyp_fail(err, EIO, "no file descriptor from the child opening the image");
	*ret_fd = fd;
	*ret_error = error;
	return 0;
}

static int open_as(const char *path, uid_t uid, gid_t gid, int *ret_fd, hyp_error *err)
{
	int sv[2], error = 0, fd = -1, status = 0;
	struct creds c;
	creds_lookup(&c, uid, gid);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return hyp_fail_errno(err, "socketpair");
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		child(sv[1], path, &c);
	}
	close(sv[1]);
	int r = pid < 0 ? hyp_fail_errno(err, "fork") : recv_fd(sv[0], path, &fd, &error, err);
	close(sv[0]);
	if (pid > 0) /* done, or stopped or hanging (by the user): root ends it */
		kill(pid, SIGKILL);
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return r;
	if (fd < 0) {
		errno = error;
		return hyp_fail_errno(err, "image '%s' (opened as uid %u)", path, (unsigned)uid);
	}
	*ret_fd = fd;
	return 0;
}

int hyp_image_check_file_as(const char *path, uid_t uid, gid_t gid, struct hyp_image_info *ret_info,
                            hyp_error *err)
{
	int r = hyp_image_path_check(path, err);
	if (r < 0)
		return hyp_error_prefix(err, "image refused");
	_cleanup_close_ int fd = -1;
	if ((r = open_as(path, uid, gid, &fd, err)) < 0)
		return r;
	return hyp_image_fd_check(fd, path, ret_info, err);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A command, seen from the session: fork it with its stdio on three pipes or
 * on a pty, read the report of a failure before execve, signal it, kill what
 * is left of it. What happens in the child is agent_child.c.
 *
 * The child calls setsid(): its pid is also its session and process group
 * id, which is how everything it starts is found and killed at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "agent_session.h"
#include "hyp_cleanup.h"
#include "hyp_pty.h"

/* A pipe whose parent end (index `parent`) is non-blocking. */
static int open_pipe(int fds[2], int parent, hyp_error *err)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return hyp_fail_errno(err, "pipe");
	if (agent_fd_nonblock(fds[parent], true, err) < 0) {
		close(fds[0]);
		close(fds[1]);
		fds[0] = fds[1] = -1;
		return -err->code;
	}
	return 0;
}

static void close_pair(int fds[2])
{
	hyp_closep(&fds[0]);
	hyp_closep(&fds[1]);
}

/* The fds of both ends: the child's in c->stdio, ours in cmd. */
static int open_stdio(const struct hyp_exec_request *req, struct agent_cmd *cmd,
                      struct agent_child *c, hyp_error *err)
{
	int in[2], out[2], errp[2];

	if (cmd->tty) {
		int r = hyp_pty_open(req->rows, req->cols, &cmd->master, &c->tty_fd, err);
		if (r < 0)
			return r;
		cmd->in_fd = cmd->out_fd = cmd->master;
		c->stdio[0] = c->stdio[1] = c->stdio[2] = c->tty_fd;
		return 0;
	}
	if (open_pipe(in, 1, err) < 0)
		return -err->code;
	if (open_pipe(out, 0, err) < 0) {
		close_pair(in);
		return -err->code;
	}
	if (open_pipe(errp, 0, err) < 0) {
		close_pair(in);
		close_pair(out);
		return -err->code;
	}
	cmd->in_fd = in[1], cmd->out_fd = out[0], cmd->err_fd = errp[0];
	c->stdio[0] = in[0], c->stdio[1] = out[1], c->stdio[2] = errp[1];
	return 0;
}

static void close_child_ends(struct agent_child *c)
{
	if (c->tty_fd >= 0) {
		hyp_closep(&c->tty_fd);
	} else {
		for (int i = 0; i < 3; i++)
			hyp_closep(&c->stdio[i]);
	}
	hyp_closep(&c->status_fd);
}

int agent_cmd_start(const struct hyp_exec_request *req, const struct agent_config *cfg,
                    struct agent_cmd *ret, hyp_error *err)
{
	struct agent_cmd cmd = {.tty = req->flags & HYP_EXEC_TTY,
	                        .master = -1,
	                        .in_fd = -1,
	                        .out_fd = -1,
	                        .err_fd = -1,
	                        .status_fd = -1};
	struct agent_child c = {
	    .req = req, .cfg = cfg, .stdio = {-1, -1, -1}, .tty_fd = -1, .status_fd = -1};
	int status[2];

	if (pipe2(status, O_CLOEXEC) < 0)
		return hyp_fail_errno(err, "pipe");
	cmd.status_fd = status[0];
	c.status_fd = status[1];
	if (open_stdio(req, &cmd, &c, err) < 0) {
		close_child_ends(&c);
		agent_cmd_close(&cmd);
		return -err->code;
	}
	pid_t pid = fork();
	if (pid == 0)
		agent_child_run(&c);
	int saved = errno;
	close_child_ends(&c);
	if (pid < 0) {
		agent_cmd_close(&cmd);
		errno = saved;
		return hyp_fail_errno(err, "fork");
	}
	cmd.pid = pid;
	*ret = cmd;
	return 0;
}

static void describe(const struct agent_child_report *rep, const struct hyp_exec_request *req,
                     hyp_error *report)
{
	errno = rep->error;
	switch (rep->stage) {
	case CHILD_TTY:
		hyp_fail_errno(report, "making the pty the controlling terminal");
		break;
	case CHILD_IDS:
		hyp_fail(report, rep->error,
		         "cannot run as uid %u gid %u: the agent does not run as root", req->uid,
		         req->gid);
		break;
	case CHILD_GROUPS:
		hyp_fail_errno(report, "setting %u supplementary groups", req->ngroups);
		break;
	case CHILD_GID:
		hyp_fail_errno(report, "setgid %u", req->gid);
		break;
	case CHILD_UID:
		hyp_fail_errno(report, "setuid %u", req->uid);
		break;
	case CHILD_CWD:
		hyp_fail_errno(report, "cwd '%s'", req->cwd);
		break;
	default:
		hyp_fail_errno(report, "exec '%s'", req->argv[0]);
	}
}

int agent_cmd_read_status(struct agent_cmd *cmd, const struct hyp_exec_request *req,
                          hyp_error *report)
{
	struct agent_child_report rep;
	ssize_t n = read(cmd->status_fd, &rep, sizeof(rep));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return -EAGAIN;
	hyp_closep(&cmd->status_fd);
	cmd->status_fd = -1;
	if (n != (ssize_t)sizeof(rep))
		return 0; /* end of file: execve succeeded */
	describe(&rep, req, report);
	return 1;
}

void agent_cmd_signal(const struct agent_cmd *cmd, int signo)
{
	if (cmd->pid <= 0)
		return;
	/* The command leads its own session, so its process group is orphaned:
	 * the kernel delivers SIGTSTP to processes that handle it and discards
	 * it for the others (they are not stopped). Turning it into SIGSTOP
	 * would take it from the handlers, so it is forwarded as it is. */
	/* before the child's setsid() its group does not exist yet */
	if (kill(-cmd->pid, signo) < 0 && errno == ESRCH)
		kill(cmd->pid, signo);
	/* with job control, the terminal's foreground job is a group of its own */
	pid_t fg = cmd->master >= 0 ? tcgetpgrp(cmd->master) : -1;
	if (fg > 0 && fg != cmd->pid)
		kill(-fg, signo);
}

/* The session id of /proc/PID/stat's process, or -1. */
static pid_t stat_session(int proc_fd, const char *pid)
{
	char path[64], buf[512];

	snprintf(path, sizeof(path), "%s/stat", pid);
	_cleanup_close_ int fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) state ppid pgrp session ...": comm may hold anything */
	char *p = strrchr(buf, ')');
	int sid;
	if (!p || sscanf(p + 1, " %*c %*d %*d %d", &sid) != 1)
		return -1;
	return sid;
}

/* Children left, without reaping any. The orphans of a command are ours
 * (PR_SET_CHILD_SUBREAPER): none left means nothing of it runs any more. */
static bool have_children(void)
{
	siginfo_t info = {0};

	return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

/* Processes of the session that left its process group (job control,
 * setpgid) are found through /proc, if any may be left: the scan is slow
 * under emulation. Those that called setsid() escape. */
void agent_cmd_kill_rest(pid_t sid)
{
	kill(-sid, SIGKILL);
	if (!have_children())
		return;
	_cleanup_closedir_ DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		pid_t pid = (pid_t)strtol(de->d_name, NULL, 10);
		if (pid > 1 && pid != getpid() && stat_session(dirfd(d), de->d_name) == sid)
			kill(pid, SIGKILL);
	}
}

void agent_cmd_kill(struct agent_cmd *cmd)
{
	if (cmd->pid <= 0)
		return;
	agent_cmd_kill_rest(cmd->pid);
	kill(cmd->pid, SIGKILL);
	while (waitpid(cmd->pid, NULL, 0) < 0 && errno == EINTR)
		;
	cmd->pid = 0;
}

void agent_cmd_close_in(struct agent_cmd *cmd)
{
	if (cmd->in_fd != cmd->master)
		hyp_closep(&cmd->in_fd);
	cmd->in_fd = -1;
}

void agent_cmd_close_out(struct agent_cmd *cmd, int *fdp)
{
	if (*fdp != cmd->master)
		hyp_closep(fdp);
	*fdp = -1;
}

void agent_cmd_close(struct agent_cmd *cmd)
{
	agent_cmd_close_in(cmd);
	agent_cmd_close_out(cmd, &cmd->out_fd);
	agent_cmd_close_out(cmd, &cmd->err_fd);
	hyp_closep(&cmd->status_fd);
	hyp_closep(&cmd->master);
	cmd->status_fd = cmd->master = -1;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --listen PATH: serve a unix stream socket instead of the virtio ports, to
 * exercise the agent and hyperion-exec on a host without a VM, unprivileged.
 * Each accepted connection is one exec session, served by a process of its
 * own; closing the connection is the host disconnecting.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "hyp_cleanup.h"

static int bind_socket(const char *path, hyp_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct stat st;

	if (strlen(path) >= sizeof(addr.sun_path))
		return hyp_fail(err, ENAMETOOLONG, "socket path '%s' is too long", path);
	strcpy(addr.sun_path, path);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return hyp_fail_errno(err, "socket");
	/* a socket left by an earlier run; anything else at PATH is kept */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	mode_t old = umask(0177); /* only our user runs commands through it */
	int r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old);
	if (r < 0)
		return hyp_fail_errno(err, "binding '%s'", path);
	if (listen(fd, 64) < 0)
		return hyp_fail_errno(err, "listening on '%s'", path);
	return take_fd(&fd);
}

__attribute__((noreturn)) static void serve(int conn, const struct agent_config *cfg)
{
	hyp_error err = {0};
	int sigfd = agent_signalfd(&err);

	if (sigfd < 0) {
		agent_log("%s", err.msg);
		_exit(1);
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1); /* what the command leaves behind is ours */
	int r = agent_port_session(conn, AGENT_PORT_EXEC, sigfd, cfg);
	_exit(r < 0 ? 1 : 0);
}

static void accept_one(int fd, int sigfd, pid_t parent, const struct agent_config *cfg)
{
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (conn < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			agent_log("accept: %m");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(fd);
		close(sigfd);
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(0);
		serve(conn, cfg);
	}
	if (pid < 0)
		agent_log("fork: %m");
	close(conn);
}

int agent_listen(const struct agent_config *cfg, hyp_error *err)
{
	_cleanup_close_ int fd = bind_socket(cfg->listen, err);
	if (fd < 0)
		return fd;
	_cleanup_close_ int sigfd = agent_signalfd(err);
	if (sigfd < 0)
		return sigfd;
	agent_log("ready: listening on %s", cfg->listen);
	pid_t self = getpid();
	for (;;) {
		struct pollfd p[2] = {{fd, POLLIN, 0}, {sigfd, POLLIN, 0}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return hyp_fail_errno(err, "poll");
		if (p[1].revents && agent_idle_signals(sigfd))
			break;
		if (p[0].revents)
			accept_one(fd, sigfd, self, cfg);
	}
	/* the session processes get SIGTERM (PR_SET_PDEATHSIG) when we exit */
	unlink(cfg->listen);
	return 0;
}

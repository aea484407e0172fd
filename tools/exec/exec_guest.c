/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest commands (doc/protocol.md, REQUEST): a command typed in the guest
 * (srun, squeue...) arrives on a stream the guest opens, and runs here, as
 * the job user this process already is, from the allowlist of hyperion.conf
 * (guest_commands, absolute paths), in the guest's working directory (the
 * same path through the shares), with the task's environment. Its stdio
 * travels on the stream within the stream's windows, signals reach its
 * process group, and its EXIT ends the stream.
 *
 * Bounds: EXEC_GUEST_MAX requests at a time per session (more are refused
 * on their stream), a window of input each; every command is killed when
 * the session ends (exec_guest_close) and dies with this process
 * (PR_SET_PDEATHSIG): none outlives the session that carried it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec_guest.h"
#include "hyp_cleanup.h"
#include "hyp_guest_commands.h"
#include "hyp_pty.h"

void exec_guest_init(struct exec_guest *g, struct hyp_chan *chan, char *const *allowed,
                     size_t chunk)
{
	*g = (struct exec_guest){.chan = chan, .allowed = allowed, .chunk = chunk};
	for (int i = 0; i < EXEC_GUEST_MAX; i++)
		g->cmd[i] = (struct exec_guest_cmd){.in_fd = -1, .out_fd = -1, .err_fd = -1};
}

static int queue(struct exec_guest *g, uint16_t id, struct hyp_msg *msg, hyp_error *err)
{
	msg->stream = id;
	return hyp_chan_queue(g->chan, msg, err);
}

/* ERROR then EXIT 126 on the stream: the request did not run. */
static int refuse(struct exec_guest *g, uint16_t id, int code, const char *text, hyp_error *err)
{
	struct hyp_msg error = {.type = HYP_MSG_ERROR, .error = {(uint32_t)code, (char *)text}};
	struct hyp_msg exit = {.type = HYP_MSG_EXIT, .exit = {.code = 126}};
	int r = queue(g, id, &error, err);
	return r < 0 ? r : queue(g, id, &exit, err);
}

static struct exec_guest_cmd *find(struct exec_guest *g, uint16_t id)
{
	for (int i = 0; i < EXEC_GUEST_MAX; i++)
		if (g->cmd[i].id == id)
			return &g->cmd[i];
	return NULL;
}

/* The guest's variables, but the task's own Slurm environment, the
 * dynamic loader's, PATH and Hyperion's stay the host's. */
static bool guest_may_set(const char *e)
{
	return strncmp(e, "SLURM_", 6) && strncmp(e, "LD_", 3) && strncmp(e, "PATH=", 5) &&
	       strncmp(e, "MUNGE", 5) && strncmp(e, "HYPERION_", 9);
}

/* This task's own Hyperion variables (HYPERION_TASK_*) are not the command's. */
static bool host_passes(const char *e)
{
	return strncmp(e, "LD_", 3) && strncmp(e, "HYPERION_", 9);
}

static char **child_env(const struct hyp_request *q)
{
	extern char **environ;
	size_t n = 0, k = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + q->envc + 1, sizeof(char *));
	if (!env)
		return NULL;
	for (uint32_t i = 0; i < q->envc; i++)
		if (guest_may_set(q->envp[i]))
			env[k++] = q->envp[i];
	for (size_t i = 0; i < n; i++) {
		size_t len = strcspn(environ[i], "=");
		bool overridden = false;
		for (size_t j = 0; j < k && !overridden; j++)
			overridden = !strncmp(env[j], environ[i], len + 1);
		if (!overridden && host_passes(environ[i]))
			env[k++] = environ[i];
	}
	return env;
}

/* fds: its stdin, stdout, stderr; or with tty >= 0, that pty slave for all
 * three, as its controlling terminal. */
__attribute__((noreturn)) static void child(const char *path, const struct hyp_request *q,
                                            int fds[3], int tty)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	setsid();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (tty >= 0 && hyp_pty_take(tty) < 0)
		_exit(126);
	for (int i = 0; tty < 0 && i < 3; i++)
		if (dup2(fds[i], i) < 0)
			_exit(126);
	char **env = child_env(q);
	if (chdir(q->cwd) < 0)
		dprintf(2,
		        "hyperion-exec: the working directory '%s' is not on the host (%m); "
		        "running in /\n",
		        q->cwd);
	if (env)
		execve(path, q->argv, env);
	dprintf(2, "hyperion-exec: cannot run '%s': %m\n", path);
	_exit(errno == ENOENT ? 127 : 126);
}

static int pipes(int p[3][2], hyp_error *err)
{
	for (int i = 0; i < 3; i++)
		p[i][0] = p[i][1] = -1;
	for (int i = 0; i < 3; i++) {
		if (pipe2(p[i], O_CLOEXEC) < 0)
			return hyp_fail_errno(err, "pipe");
		int ours = p[i][i == 0 ? 1 : 0];
		fcntl(ours, F_SETFL, fcntl(ours, F_GETFL) | O_NONBLOCK);
	}
	return 0;
}

static void close_pipes(int p[3][2])
{
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 2; j++)
			hyp_closep(&p[i][j]);
}

/* In TTY mode (p[0][1] the master, p[1][0] a dup of it, p[0][0] the slave). */
static int open_pty(const struct hyp_request *q, int p[3][2], hyp_error *err)
{
	for (int i = 0; i < 3; i++)
		p[i][0] = p[i][1] = -1;
	int r = hyp_pty_open(q->rows, q->cols, &p[0][1], &p[0][0], err);
	if (r == 0 && (p[1][0] = fcntl(p[0][1], F_DUPFD_CLOEXEC, 3)) < 0)
		return hyp_fail_errno(err, "dup");
	return r;
}

static int start(struct exec_guest *g, struct exec_guest_cmd *c, const char *path,
                 const struct hyp_request *q, hyp_error *err)
{
	int p[3][2];
	bool tty = q->flags & HYP_EXEC_TTY;
	int r = tty ? open_pty(q, p, err) : pipes(p, err);
	pid_t pid = r < 0 ? -1 : fork();
	if (pid == 0) {
		int fds[3] = {p[0][0], p[1][1], p[2][1]};
		child(path, q, fds, tty ? p[0][0] : -1);
	}
	if (pid < 0) {
		close_pipes(p);
		return r < 0 ? r : hyp_fail_errno(err, "fork");
	}
	*c = (struct exec_guest_cmd){
	    .pid = pid, .in_fd = p[0][1], .out_fd = p[1][0], .err_fd = p[2][0], .tty = tty};
	p[0][1] = p[1][0] = p[2][0] = -1;
	close_pipes(p);
	hyp_flow_init(&c->flow);
	g->started++;
	return 0;
}

int exec_guest_request(struct exec_guest *g, const struct hyp_msg *msg, hyp_error *err)
{
	const struct hyp_request *q = &msg->request;
	char text[HYP_MESSAGE_MAX];

	if (find(g, msg->stream))
		return hyp_fail(err, EPROTO, "REQUEST on stream %u, which is open", msg->stream);
	const char *path = hyp_guest_command_find(g->allowed, q->argv[0]);
	if (!path) {
		snprintf(text, sizeof(text),
		         "'%.200s' is not a command this host runs for its guests "
		         "(guest_commands in hyperion.conf)",
		         q->argv[0]);
		return refuse(g, msg->stream, EPERM, text, err);
	}
	struct exec_guest_cmd *c = find(g, 0);
	if (!c) {
		snprintf(text, sizeof(text), "too many guest commands at once (at most %d)",
		         EXEC_GUEST_MAX);
		return refuse(g, msg->stream, EAGAIN, text, err);
	}
	hyp_error why = {0};
	if (start(g, c, path, q, &why) < 0)
		return refuse(g, msg->stream, why.code, why.msg, err);
	c->id = msg->stream;
	return 0;
}

int exec_guest_frame(struct exec_guest *g, const struct hyp_msg *msg, hyp_error *err)
{
	struct exec_guest_cmd *c = find(g, msg->stream);
	if (!c || msg->stream == 0) /* crossed its EXIT: dropped */
		return 0;
	switch (msg->type) {
	case HYP_MSG_STDIN:
		if (c->input_eof)
			return hyp_fail(err, EPROTO, "stream %u: STDIN after STDIN_EOF", c->id);
		if (hyp_flow_received(&c->flow, msg, err) < 0)
			return -err->code;
		if (c->in_fd < 0) {
			hyp_flow_consumed(&c->flow, msg->data.len);
			return 0;
		}
		return hyp_buf_append(&c->input, msg->data.data, msg->data.len, err);
	case HYP_MSG_STDIN_EOF:
		c->input_eof = true;
		return 0;
	case HYP_MSG_SIGNAL:
		if (c->pid > 0)
			kill(-c->pid, (int)msg->signo);
		return 0;
	case HYP_MSG_CREDIT:
		return hyp_flow_credit(&c->flow, c->id, msg->credit, err);
	case HYP_MSG_WINCH: /* the kernel signals its foreground */
		if (c->tty && c->out_fd >= 0)
			hyp_pty_resize(c->out_fd, msg->winsize.rows, msg->winsize.cols);
		return 0;
	default:
		return 0;
	}
}

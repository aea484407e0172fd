/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The poll loop of a session: the port, the signalfd and, while a command
 * runs, its stdout, stderr, stdin and report pipe, all non-blocking.
 *
 * Back-pressure both ways: the command's output is read only while the
 * channel's queue is below its high-water mark (a host that does not read
 * stalls the command), and frames from the host only while less than
 * AGENT_STDIN_MAX of stdin waits for the command (a command that does not
 * read stalls the host). Output is sent as it is produced.
 *
 * When the command exits, what is left of its session is killed, its pipes
 * are read to their end (at most AGENT_DRAIN_MS more once the host keeps up:
 * something that escaped with setsid() may hold them) and EXIT is sent.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_session.h"
#include "hyp_cleanup.h"
#include "hyp_time.h"

#define READS_PER_ROUND 4

enum { P_PORT, P_SIG, P_OUT, P_ERR, P_STATUS, P_IN, P_COUNT };

void agent_relay_start(struct agent_session *s)
{
	hyp_error err = {0};
	struct hyp_msg exit = {.type = HYP_MSG_EXIT, .exit = {.code = 126}};

	if (agent_cmd_start(&s->exec.exec, s->cfg, &s->cmd, &err) < 0) {
		agent_session_fail(s, &err);
		agent_session_queue(s, &exit); /* as a shell: 126, could not run it */
		return;
	}
	s->state = SESSION_RUNNING;
}

static void on_child_exit(struct agent_session *s, int wstatus)
{
	pid_t sid = s->cmd.pid;

	s->cmd.pid = 0;
	s->exited = true;
	s->wstatus = wstatus;
	agent_cmd_kill_rest(sid);
	s->drain_until_ms = hyp_now_ms() + AGENT_DRAIN_MS;
	agent_file_remove(&s->file, &s->exec.exec, s->cfg); /* its script has ended */
	/* nobody reads its stdin any more */
	hyp_buf_consume(&s->input, hyp_buf_pending(&s->input));
	agent_cmd_close_in(&s->cmd);
}

static void on_signals(struct agent_session *s)
{
	int signo, wstatus;
	pid_t pid;

	while ((signo = agent_signal_read(s->sigfd)) > 0) {
		if (signo == SIGTERM || signo == SIGINT || signo == SIGHUP)
			s->end = SESSION_TERMINATED;
		if (signo != SIGCHLD)
			continue;
		while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0)
			if (pid == s->cmd.pid)
				on_child_exit(s, wstatus);
	}
}

static void read_status(struct agent_session *s)
{
	hyp_error report = {0};

	if (agent_cmd_read_status(&s->cmd, &s->exec.exec, &report) == 1)
		agent_session_error(s, &report); /* EXIT (126 or 127) follows */
}

static void read_output(struct agent_session *s, int *fdp, uint16_t type)
{
	uint8_t buf[HYP_DATA_CHUNK];

	for (int i = 0; i < READS_PER_ROUND && *fdp >= 0 && hyp_chan_can_queue(&s->chan); i++) {
		ssize_t n = read(*fdp, buf, s->chunk);
		if (n > 0) {
			struct hyp_msg msg = {.type = type, .data = {buf, (size_t)n}};
			agent_session_queue(s, &msg);
		} else if (n < 0 && errno == EAGAIN) {
			break;
		} else if (!(n < 0 && errno == EINTR)) {
			/* end of file; on a pty master, EIO once the terminal is closed */
			agent_cmd_close_out(&s->cmd, fdp);
		}
	}
}

static void write_input(struct agent_session *s)
{
	size_t pending = hyp_buf_pending(&s->input);
	ssize_t n = write(s->cmd.in_fd, s->input.data + s->input.off, pending);

	if (n > 0) {
		hyp_buf_consume(&s->input, n);
	} else if (!(n < 0 && (errno == EAGAIN || errno == EINTR))) {
		/* EPIPE: the command closed its stdin; what follows is dropped */
		hyp_buf_consume(&s->input, pending);
		agent_cmd_close_in(&s->cmd);
	}
}

static void queue_exit(struct agent_session *s)
{
	struct hyp_msg msg = {.type = HYP_MSG_EXIT};
	int st = s->wstatus;

	if (WIFSIGNALED(st)) {
		msg.exit.signaled = true;
		msg.exit.core_dumped = WCOREDUMP(st);
		msg.exit.code = (uint32_t)WTERMSIG(st);
	} else {
		msg.exit.code = (uint32_t)WEXITSTATUS(st);
	}
	agent_session_queue(s, &msg);
	if (s->state != SESSION_DONE)
		s->state = SESSION_DONE;
}

/* Close stdin once its end has been written; send EXIT once all is read. */
static void check_command(struct agent_session *s)
{
	struct agent_cmd *cmd = &s->cmd;

	if (s->input_eof && !cmd->tty && cmd->in_fd >= 0 && !hyp_buf_pending(&s->input))
		agent_cmd_close_in(cmd);
	if (!s->exited)
		return;
	long long now = hyp_now_ms();
	if (!hyp_chan_can_queue(&s->chan) && s->drain_until_ms < now + AGENT_DRAIN_MS)
		s->drain_until_ms = now + AGENT_DRAIN_MS; /* the host is slow, not the pipes */
	if (now >= s->drain_until_ms) {
		agent_cmd_close_out(cmd, &cmd->out_fd);
		agent_cmd_close_out(cmd, &cmd->err_fd);
		hyp_closep(&cmd->status_fd);
		cmd->status_fd = -1;
	}
	if (cmd->out_fd < 0 && cmd->err_fd < 0 && cmd->status_fd < 0)
		queue_exit(s);
}

static void set_polls(const struct agent_session *s, struct pollfd *p)
{
	bool running = s->state == SESSION_RUNNING;
	bool room = running && hyp_chan_can_queue(&s->chan);
	bool frames =
	    s->state != SESSION_DONE && (!running || hyp_buf_pending(&s->input) < AGENT_STDIN_MAX);
	bool input = running && hyp_buf_pending(&s->input) > 0;

	/* the port always: POLLHUP says the host went away */
	p[P_PORT] = (struct pollfd){
	    s->chan.fd,
	    (short)((frames ? POLLIN : 0) | (hyp_chan_has_output(&s->chan) ? POLLOUT : 0)), 0};
	p[P_SIG] = (struct pollfd){s->sigfd, POLLIN, 0};
	p[P_OUT] = (struct pollfd){room ? s->cmd.out_fd : -1, POLLIN, 0};
	p[P_ERR] = (struct pollfd){room ? s->cmd.err_fd : -1, POLLIN, 0};
	p[P_STATUS] = (struct pollfd){running ? s->cmd.status_fd : -1, POLLIN, 0};
	p[P_IN] = (struct pollfd){input ? s->cmd.in_fd : -1, POLLOUT, 0};
}

static int poll_timeout(const struct agent_session *s)
{
	if (s->state != SESSION_RUNNING || !s->exited)
		return -1;
	long long left = s->drain_until_ms - hyp_now_ms();
	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

static void poll_once(struct agent_session *s)
{
	struct pollfd p[P_COUNT];
	hyp_error err = {0};

	set_polls(s, p);
	if (poll(p, P_COUNT, poll_timeout(s)) < 0) {
		if (errno != EINTR)
			agent_log("poll: %m");
		return;
	}
	if (p[P_SIG].revents)
		on_signals(s);
	if (p[P_PORT].revents & (POLLHUP | POLLERR | POLLNVAL))
		s->end = SESSION_HOST_GONE;
	else if ((p[P_PORT].revents & POLLIN) && (hyp_chan_fill(&s->chan, &err) < 0 || s->chan.eof))
		s->end = SESSION_HOST_GONE;
	if (s->end != SESSION_ACTIVE || s->state != SESSION_RUNNING)
		return;
	if (p[P_STATUS].revents)
		read_status(s);
	if (p[P_OUT].revents)
		read_output(s, &s->cmd.out_fd, HYP_MSG_STDOUT);
	if (p[P_ERR].revents)
		read_output(s, &s->cmd.err_fd, HYP_MSG_STDERR);
	if (p[P_IN].revents && s->cmd.in_fd >= 0)
		write_input(s);
}

void agent_relay_loop(struct agent_session *s)
{
	hyp_error err = {0};

	while (s->end == SESSION_ACTIVE) {
		agent_session_frames(s);
		if (s->state == SESSION_RUNNING)
			check_command(s);
		if (hyp_chan_has_output(&s->chan) && hyp_chan_flush(&s->chan, &err) < 0)
			s->end = SESSION_HOST_GONE;
		if (s->end != SESSION_ACTIVE)
			break;
		if (s->state == SESSION_DONE && !hyp_chan_has_output(&s->chan)) {
			s->end = SESSION_ENDED;
			break;
		}
		poll_once(s);
	}
}

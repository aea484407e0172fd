/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The I/O of the EXEC stream's command: its stdout, stderr, stdin and report
 * pipe, all non-blocking, polled by the session's loop.
 *
 * Flow control is the stream's (doc/protocol.md): the command's output is
 * read only while the stream's window is open and the channel's queue is
 * below its high-water mark (a host that does not take the output stalls
 * the command, not the session), and what the host sends on stdin is held
 * up to the window the host was given; credit goes back as it is written.
 *
 * When the command exits, what is left of its session is killed, its pipes
 * are read to their end (at most AGENT_DRAIN_MS more once the host keeps up:
 * something that escaped with setsid() may hold them) and EXIT is sent.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_session.h"
#include "hyp_cleanup.h"
#include "hyp_time.h"

#define READS_PER_ROUND 4

enum { P_OUT, P_ERR, P_STATUS, P_IN };

void agent_stream_reaped(struct agent_stream *st, pid_t pid, int wstatus)
{
	if (st->state != STREAM_RUNNING || pid != st->cmd.pid)
		return;
	st->cmd.pid = 0;
	st->exited = true;
	st->wstatus = wstatus;
	agent_cmd_kill_rest(pid);
	st->drain_until_ms = hyp_now_ms() + AGENT_DRAIN_MS;
	agent_file_remove(&st->file, &st->exec.exec, st->cfg); /* its script has ended */
	/* nobody reads its stdin any more */
	hyp_flow_consumed(&st->flow, hyp_buf_pending(&st->input));
	hyp_buf_consume(&st->input, hyp_buf_pending(&st->input));
	agent_cmd_close_in(&st->cmd);
}

static bool can_send(const struct agent_stream *st)
{
	return hyp_chan_can_queue(st->chan) && st->flow.send > 0;
}

void agent_stream_polls(const struct agent_stream *st, struct pollfd p[AGENT_STREAM_POLLS])
{
	bool running = st->state == STREAM_RUNNING;
	bool room = running && can_send(st);
	bool input = running && hyp_buf_pending(&st->input) > 0;

	p[P_OUT] = (struct pollfd){room ? st->cmd.out_fd : -1, POLLIN, 0};
	p[P_ERR] = (struct pollfd){room ? st->cmd.err_fd : -1, POLLIN, 0};
	p[P_STATUS] = (struct pollfd){running ? st->cmd.status_fd : -1, POLLIN, 0};
	p[P_IN] = (struct pollfd){input ? st->cmd.in_fd : -1, POLLOUT, 0};
}

static int read_status(struct agent_stream *st, hyp_error *err)
{
	struct hyp_msg msg = {.type = HYP_MSG_ERROR};
	hyp_error report = {0};
	char text[HYP_MESSAGE_MAX + 1];

	if (agent_cmd_read_status(&st->cmd, &st->exec.exec, &report) != 1)
		return 0;
	/* it did not start: the ERROR, then its EXIT (126 or 127) */
	snprintf(text, sizeof(text), "%s", report.msg);
	msg.error.code = report.code > 0 && report.code < 4096 ? (uint32_t)report.code : EIO;
	msg.error.message = text;
	return agent_stream_queue(st, &msg, err);
}

static int read_output(struct agent_stream *st, int *fdp, uint16_t type, hyp_error *err)
{
	uint8_t buf[HYP_DATA_CHUNK];

	for (int i = 0; i < READS_PER_ROUND && *fdp >= 0 && can_send(st); i++) {
		ssize_t n = read(*fdp, buf, hyp_flow_can_send(&st->flow, st->chunk));
		if (n > 0) {
			struct hyp_msg msg = {.type = type, .data = {buf, (size_t)n}};
			int r = agent_stream_queue(st, &msg, err);
			if (r < 0)
				return r;
			hyp_flow_sent(&st->flow, (size_t)n);
		} else if (n < 0 && errno == EAGAIN) {
			break;
		} else if (!(n < 0 && errno == EINTR)) {
			/* end of file; on a pty master, EIO once the terminal is closed */
			agent_cmd_close_out(&st->cmd, fdp);
		}
	}
	return 0;
}

static void write_input(struct agent_stream *st)
{
	size_t pending = hyp_buf_pending(&st->input);
	ssize_t n = write(st->cmd.in_fd, st->input.data + st->input.off, pending);

	if (n > 0) {
		hyp_buf_consume(&st->input, n);
		hyp_flow_consumed(&st->flow, (size_t)n);
	} else if (!(n < 0 && (errno == EAGAIN || errno == EINTR))) {
		/* EPIPE: the command closed its stdin; what follows is dropped */
		hyp_buf_consume(&st->input, pending);
		hyp_flow_consumed(&st->flow, pending);
		agent_cmd_close_in(&st->cmd);
	}
}

int agent_stream_io(struct agent_stream *st, const struct pollfd p[AGENT_STREAM_POLLS],
                    hyp_error *err)
{
	int r = 0;

	if (st->state != STREAM_RUNNING)
		return 0;
	if (p[P_STATUS].revents)
		r = read_status(st, err);
	if (r >= 0 && p[P_OUT].revents)
		r = read_output(st, &st->cmd.out_fd, HYP_MSG_STDOUT, err);
	if (r >= 0 && p[P_ERR].revents)
		r = read_output(st, &st->cmd.err_fd, HYP_MSG_STDERR, err);
	if (r >= 0 && p[P_IN].revents && st->cmd.in_fd >= 0)
		write_input(st);
	return r;
}

static int queue_exit(struct agent_stream *st, hyp_error *err)
{
	struct hyp_msg msg = {.type = HYP_MSG_EXIT};
	int ws = st->wstatus;

	if (WIFSIGNALED(ws)) {
		msg.exit.signaled = true;
		msg.exit.core_dumped = WCOREDUMP(ws);
		msg.exit.code = (uint32_t)WTERMSIG(ws);
	} else {
		msg.exit.code = (uint32_t)WEXITSTATUS(ws);
	}
	st->state = STREAM_DONE;
	return agent_stream_queue(st, &msg, err);
}

static int return_credit(struct agent_stream *st, hyp_error *err)
{
	struct hyp_msg msg = {.type = HYP_MSG_CREDIT, .credit = hyp_flow_take_credit(&st->flow)};

	return msg.credit ? agent_stream_queue(st, &msg, err) : 0;
}

int agent_stream_step(struct agent_stream *st, hyp_error *err)
{
	struct agent_cmd *cmd = &st->cmd;

	if (st->state == STREAM_DONE)
		return 0;
	int r = return_credit(st, err);
	if (r < 0 || st->state != STREAM_RUNNING)
		return r;
	if (st->input_eof && !cmd->tty && cmd->in_fd >= 0 && !hyp_buf_pending(&st->input))
		agent_cmd_close_in(cmd);
	if (!st->exited)
		return 0;
	long long now = hyp_now_ms();
	if (!can_send(st) && st->drain_until_ms < now + AGENT_DRAIN_MS)
		st->drain_until_ms = now + AGENT_DRAIN_MS; /* the host is slow, not the pipes */
	if (now >= st->drain_until_ms) {
		agent_cmd_close_out(cmd, &cmd->out_fd);
		agent_cmd_close_out(cmd, &cmd->err_fd);
		hyp_closep(&cmd->status_fd);
		cmd->status_fd = -1;
	}
	if (cmd->out_fd < 0 && cmd->err_fd < 0 && cmd->status_fd < 0)
		return queue_exit(st, err);
	return 0;
}

int agent_stream_timeout(const struct agent_stream *st)
{
	if (st->state != STREAM_RUNNING || !st->exited)
		return -1;
	long long left = st->drain_until_ms - hyp_now_ms();
	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The stream of the host's EXEC (doc/protocol.md, "Streams"): the request,
 * its file, the frames the host sends on the stream, and the end of it.
 *
 *	EXEC --FILE flag--> FILE --all of it--> RUNNING --EXIT sent--> DONE
 *	  \________________________________________/
 *
 * Frames are dispatched through a table: message type -> handler, with the
 * states where it is allowed. A frame out of place is a protocol error,
 * which the session turns into its ERROR. This module queues its frames on
 * the session's channel and never calls the session: it returns errors.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "agent_session.h"

#define BIT(n)    (1u << (n))
#define STARTED   (BIT(STREAM_FILE) | BIT(STREAM_RUNNING))
#define ERRNO_MAX 4095

int agent_stream_queue(struct agent_stream *st, struct hyp_msg *msg, hyp_error *err)
{
	msg->stream = st->id;
	return hyp_chan_queue(st->chan, msg, err);
}

/* The command could not start: ERROR on the stream, then EXIT 126, as a
 * shell would. */
static int not_started(struct agent_stream *st, const hyp_error *why, hyp_error *err)
{
	struct hyp_msg error = {.type = HYP_MSG_ERROR};
	struct hyp_msg exit = {.type = HYP_MSG_EXIT, .exit = {.code = 126}};
	char text[HYP_MESSAGE_MAX + 1];

	snprintf(text, sizeof(text), "%s", why->msg);
	error.error.code = why->code > 0 && why->code <= ERRNO_MAX ? (uint32_t)why->code : EIO;
	error.error.message = text;
	st->state = STREAM_DONE;
	int r = agent_stream_queue(st, &error, err);
	return r < 0 ? r : agent_stream_queue(st, &exit, err);
}

static int start(struct agent_stream *st, hyp_error *err)
{
	hyp_error why = {0};

	if (agent_cmd_start(&st->exec.exec, st->cfg, &st->cmd, &why) < 0)
		return not_started(st, &why, err);
	st->state = STREAM_RUNNING;
	for (int signo = 1; signo <= 64; signo++)
		if (st->early_signals & (1ULL << (signo - 1)))
			agent_cmd_signal(&st->cmd, signo);
	st->early_signals = 0;
	return 0;
}

/* The file is all there: it runs, and gets the signals sent meanwhile. */
static int file_complete(struct agent_stream *st, hyp_error *err)
{
	hyp_error why = {0};

	if (agent_file_finish(&st->file, &st->exec.exec, &why) < 0)
		return not_started(st, &why, err);
	return start(st, err);
}

int agent_stream_open(struct agent_stream *st, struct hyp_msg *exec, const struct agent_config *cfg,
                      struct hyp_chan *chan, size_t chunk, hyp_error *err)
{
	hyp_error why = {0};

	*st = (struct agent_stream){.cfg = cfg, .chan = chan, .id = exec->stream, .chunk = chunk};
	st->cmd = (struct agent_cmd){
	    .master = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1, .status_fd = -1};
	st->file.fd = -1;
	hyp_flow_init(&st->flow);
	st->exec = *exec; /* the request is the stream's now */
	exec->type = 0;
	if (!(st->exec.exec.flags & HYP_EXEC_FILE))
		return start(st, err);
	st->state = STREAM_FILE;
	if (agent_file_open(&st->file, &st->exec.exec, cfg, &why) < 0)
		return not_started(st, &why, err);
	return st->file.left ? 0 : file_complete(st, err);
}

static int on_file(struct agent_stream *st, struct hyp_msg *msg, hyp_error *err)
{
	int r = agent_file_write(&st->file, msg->data.data, msg->data.len, err);
	if (r < 0)
		return r;
	return st->file.left ? 0 : file_complete(st, err);
}

static int on_stdin(struct agent_stream *st, struct hyp_msg *msg, hyp_error *err)
{
	if (st->input_eof)
		return hyp_fail(err, EPROTO, "STDIN frame after STDIN_EOF");
	int r = hyp_flow_received(&st->flow, msg, err);
	if (r < 0)
		return r;
	if (st->cmd.in_fd < 0) { /* the command closed its stdin or exited: dropped */
		hyp_flow_consumed(&st->flow, msg->data.len);
		return 0;
	}
	return hyp_buf_append(&st->input, msg->data.data, msg->data.len, err);
}

static int on_stdin_eof(struct agent_stream *st, struct hyp_msg *msg, hyp_error *err)
{
	struct termios t;

	if (st->input_eof)
		return hyp_fail(err, EPROTO, "a second STDIN_EOF frame");
	st->input_eof = true;
	/* on a terminal, end of input is the EOF character, after what is pending */
	if (st->cmd.tty && st->cmd.in_fd >= 0) {
		char eof = tcgetattr(st->cmd.master, &t) == 0 ? (char)t.c_cc[VEOF] : '\004';
		return hyp_buf_append(&st->input, &eof, 1, err);
	}
	return 0;
}

static int on_signal(struct agent_stream *st, struct hyp_msg *msg, hyp_error *err)
{
	if (st->state == STREAM_FILE)
		st->early_signals |= 1ULL << (msg->signo - 1);
	agent_cmd_signal(&st->cmd, (int)msg->signo);
	return 0;
}

static int on_winch(struct agent_stream *st, struct hyp_msg *msg, hyp_error *err)
{
	struct winsize ws = {.ws_row = msg->winsize.rows, .ws_col = msg->winsize.cols};

	st->exec.exec.rows = msg->winsize.rows; /* for a pty not open yet */
	st->exec.exec.cols = msg->winsize.cols;
	if (st->cmd.master >= 0) /* ignored outside TTY mode */
		ioctl(st->cmd.master, TIOCSWINSZ, &ws);
	return 0;
}

static int on_credit(struct agent_stream *st, struct hyp_msg *msg, hyp_error *err)
{
	return hyp_flow_credit(&st->flow, st->id, msg->credit, err);
}

typedef int (*handler_fn)(struct agent_stream *st, struct hyp_msg *msg, hyp_error *err);

static const struct {
	handler_fn fn;
	unsigned states; /* BIT(enum agent_stream_state) where it is allowed */
} handlers[HYP_MSG_TYPE_COUNT] = {
    [HYP_MSG_STDIN] = {on_stdin, BIT(STREAM_RUNNING)},
    [HYP_MSG_STDIN_EOF] = {on_stdin_eof, BIT(STREAM_RUNNING)},
    [HYP_MSG_SIGNAL] = {on_signal, STARTED},
    [HYP_MSG_WINCH] = {on_winch, STARTED},
    [HYP_MSG_FILE] = {on_file, BIT(STREAM_FILE)},
    [HYP_MSG_CREDIT] = {on_credit, STARTED},
};

int agent_stream_frame(struct agent_stream *st, struct hyp_msg *msg, hyp_error *err)
{
	const char *name = hyp_msg_type_name(msg->type);

	if (st->state == STREAM_DONE) /* crossed our EXIT: dropped */
		return 0;
	if (msg->type >= HYP_MSG_TYPE_COUNT || !handlers[msg->type].fn)
		return hyp_fail(err, EPROTO, "%s frame on stream %u, which is open", name, st->id);
	if (handlers[msg->type].states & BIT(st->state))
		return handlers[msg->type].fn(st, msg, err);
	if (msg->type == HYP_MSG_FILE)
		return hyp_fail(err, EPROTO, "%s frame without a file to receive", name);
	return hyp_fail(err, EPROTO, "%s frame before the file is complete", name);
}

void agent_stream_close(struct agent_stream *st)
{
	agent_cmd_kill(&st->cmd);
	agent_cmd_close(&st->cmd);
	agent_file_remove(&st->file, &st->exec.exec, st->cfg);
	hyp_msg_clear(&st->exec);
	st->exec.type = 0;
	hyp_buf_free(&st->input);
	st->state = STREAM_DONE;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The stream of our EXEC (doc/protocol.md, "Streams" and "Flow control"),
 * on the host's side: stdin goes out as STDIN within the stream's window,
 * STDOUT and STDERR go to fds 1 and 2 through bounded buffers, and their
 * credit goes back as they are written, so a reader of fd 1 that stalls
 * stalls the command in the guest, never the session. Signals become SIGNAL
 * (and WINCH); the agent's ERROR and EXIT end the stream.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"
#include "hyp_cleanup.h"
#include "hyp_text.h"

#define ERROR_EXIT_WAIT_MS 1000

void exec_stream_init(struct exec_stream *st, struct exec_session *s, struct exec_out out[2])
{
	*st = (struct exec_stream){
	    .s = s, .id = HYP_STREAM_EXEC, .out = out, .stdin_open = true, .chunk = HYP_DATA_CHUNK};
	hyp_flow_init(&st->flow);
	if (s->peer_max && s->peer_max < st->chunk)
		st->chunk = s->peer_max;
}

static int queue(struct exec_stream *st, struct hyp_msg *msg, hyp_error *err)
{
	if (st->send_broken)
		return 0;
	msg->stream = st->id;
	int r = hyp_chan_queue(&st->s->chan, msg, err);
	return r < 0 ? hyp_error_prefix(err, "job %u", st->s->o->job_id) : 0;
}

static int queue_stdin_eof(struct exec_stream *st, hyp_error *err)
{
	struct hyp_msg msg = {.type = HYP_MSG_STDIN_EOF};
	st->stdin_open = false;
	return queue(st, &msg, err);
}

bool exec_stream_wants_stdin(const struct exec_stream *st)
{
	/* stdin follows the whole of --script's file */
	return st->stdin_open && !st->eof_later && st->s->script.fd < 0 && !st->send_broken &&
	       st->flow.send > 0 && hyp_chan_can_queue(&st->s->chan);
}

int exec_stream_read_stdin(struct exec_stream *st, hyp_error *err)
{
	uint8_t buf[HYP_DATA_CHUNK];
	ssize_t n = read(STDIN_FILENO, buf, hyp_flow_can_send(&st->flow, st->chunk));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) /* end of input, or input that cannot be read: the same to the command */
		return queue_stdin_eof(st, err);
	struct hyp_msg msg = {.type = HYP_MSG_STDIN, .data = {buf, (size_t)n}};
	hyp_flow_sent(&st->flow, (size_t)n);
	return queue(st, &msg, err);
}

int exec_stream_signal(struct exec_stream *st, int signo, hyp_error *err)
{
	struct hyp_msg msg = {.type = HYP_MSG_SIGNAL, .signo = (uint32_t)signo};
	if (signo == SIGWINCH) {
		msg.type = HYP_MSG_WINCH;
		exec_tty_winsize(&msg.winsize.rows, &msg.winsize.cols);
	}
	return queue(st, &msg, err);
}

/* Write what fd 1 or 2 takes, and count it as passed on. Its reader gone,
 * the command gets the SIGPIPE it would get on the host (once); its further
 * output is dropped. */
int exec_stream_write_out(struct exec_stream *st, int i, hyp_error *err)
{
	struct exec_out *o = &st->out[i];
	size_t before = hyp_buf_pending(&o->buf);
	int r = exec_out_write(o, err);
	hyp_flow_consumed(&st->flow, before - hyp_buf_pending(&o->buf));
	if (r != -EPIPE)
		return r;
	if (st->sigpipe_sent)
		return 0;
	st->sigpipe_sent = true;
	return exec_stream_signal(st, SIGPIPE, err);
}

/* The agent's ERROR on the stream: it could not run the command (an
 * unknown cwd, execve failing...); its EXIT follows. */
static int on_error(struct exec_stream *st, const struct hyp_msg *msg, hyp_error *err)
{
	const char *raw = msg->error.message ? msg->error.message : "";
	/* the guest's words, on the user's terminal: no escape sequences */
	_cleanup_free_ char *text = hyp_text_sanitize(raw, strlen(raw));
	st->got_error = true;
	st->error_deadline_ms = hyp_now_ms() + ERROR_EXIT_WAIT_MS;
	if (!text)
		return hyp_fail(err, ENOMEM, "out of memory");
	/* through stderr's buffer, so that it comes after what the command wrote */
	int r = exec_out_push(&st->out[1], EXEC_PREFIX, strlen(EXEC_PREFIX), err);
	if (r >= 0)
		r = exec_out_push(&st->out[1], text, strlen(text), err);
	if (r >= 0)
		r = exec_out_push(&st->out[1], "\n", 1, err);
	return r;
}

static int on_output(struct exec_stream *st, const struct hyp_msg *msg, hyp_error *err)
{
	struct exec_out *o = &st->out[msg->type == HYP_MSG_STDERR];
	int r = hyp_flow_received(&st->flow, msg, err);
	if (r < 0)
		return r;
	st->got_output = true;
	if (o->broken) { /* nowhere to go: passed on at once */
		hyp_flow_consumed(&st->flow, msg->data.len);
		return 0;
	}
	return exec_out_push(o, msg->data.data, msg->data.len, err);
}

int exec_stream_frame(struct exec_stream *st, struct hyp_msg *msg, hyp_error *err)
{
	if (st->got_exit) /* nothing follows EXIT on a stream */
		return hyp_fail(err, EPROTO, "%s frame after EXIT", hyp_msg_type_name(msg->type));
	switch (msg->type) {
	case HYP_MSG_STDOUT:
	case HYP_MSG_STDERR:
		return on_output(st, msg, err);
	case HYP_MSG_ERROR:
		return on_error(st, msg, err);
	case HYP_MSG_CREDIT:
		return hyp_flow_credit(&st->flow, st->id, msg->credit, err);
	case HYP_MSG_EXIT:
		st->exit = msg->exit;
		st->got_exit = true;
		return 0;
	default:
		return hyp_fail(err, EPROTO, "unexpected %s frame on stream %u",
		                hyp_msg_type_name(msg->type), st->id);
	}
}

int exec_stream_step(struct exec_stream *st, hyp_error *err)
{
	struct exec_script *sc = &st->s->script;
	struct hyp_msg credit = {.type = HYP_MSG_CREDIT};
	int r = 0;

	if (sc->fd >= 0 && !st->send_broken &&
	    (r = exec_script_queue(sc, &st->s->chan, st->chunk, err)) < 0)
		return hyp_error_prefix(err, "job %u", st->s->o->job_id);
	if (st->eof_later && sc->fd < 0) {
		st->eof_later = false;
		if ((r = queue_stdin_eof(st, err)) < 0)
			return r;
	}
	if (!st->got_exit && (credit.credit = hyp_flow_take_credit(&st->flow)))
		r = queue(st, &credit, err);
	return r;
}

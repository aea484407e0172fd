/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay loop of a running command: one poll() over stdin, the socket,
 * fds 1 and 2 and a signalfd, until the agent's EXIT.
 *
 * Back-pressure both ways: stdin is read only while the channel's output
 * is below its high-water mark, and the socket only while the stdout and
 * stderr buffers are below theirs, so a slow reader on either side stalls
 * the writer on the other instead of growing memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"
#include "hyp_cleanup.h"
#include "hyp_text.h"

#define ERROR_EXIT_WAIT_MS 1000

enum { P_STDIN, P_SOCK, P_STDOUT, P_STDERR, P_SIGNAL, P_COUNT };

struct relay {
	struct exec_session *s;
	struct hyp_chan *chan;
	struct exec_out *out; /* [0] stdout, [1] stderr */
	int sfd;
	bool stdin_open;  /* STDIN_EOF not queued yet */
	bool eof_later;   /* STDIN_EOF to queue once --script's file is sent */
	bool send_broken; /* writing to the socket failed: nothing more to send */
	bool recv_broken; /* reading from the socket failed */
	bool sigpipe_sent;
	bool frames_waiting; /* whole frames left in the channel while stdout/err are full */
	bool got_output;     /* a STDOUT or STDERR frame came: the command ran */
	bool got_error;      /* the agent sent ERROR; an EXIT may follow */
	long long error_deadline_ms; /* how long to wait for that EXIT */
	bool got_exit;
	struct hyp_exit exit;
	size_t chunk; /* largest STDIN payload to send */
};

static int queue(struct relay *rl, const struct hyp_msg *msg, hyp_error *err)
{
	if (rl->send_broken)
		return 0;
	int r = hyp_chan_queue(rl->chan, msg, err);
	return r < 0 ? hyp_error_prefix(err, "job %u", rl->s->o->job_id) : 0;
}

static int queue_stdin_eof(struct relay *rl, hyp_error *err)
{
	struct hyp_msg msg = {.type = HYP_MSG_STDIN_EOF};
	rl->stdin_open = false;
	return queue(rl, &msg, err);
}

static int read_stdin(struct relay *rl, hyp_error *err)
{
	uint8_t buf[HYP_DATA_CHUNK];
	ssize_t n = read(STDIN_FILENO, buf, rl->chunk);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) /* end of input, or input that cannot be read: the same to the command */
		return queue_stdin_eof(rl, err);
	struct hyp_msg msg = {.type = HYP_MSG_STDIN, .data = {buf, (size_t)n}};
	return queue(rl, &msg, err);
}

static int on_signals(struct relay *rl, hyp_error *err)
{
	int signo, r = 0;
	while (r >= 0 && (signo = exec_signals_read(rl->sfd)) > 0) {
		struct hyp_msg msg = {.type = HYP_MSG_SIGNAL, .signo = (uint32_t)signo};
		if (signo == SIGWINCH) {
			msg.type = HYP_MSG_WINCH;
			exec_tty_winsize(&msg.winsize.rows, &msg.winsize.cols);
		}
		r = queue(rl, &msg, err);
	}
	return r;
}

/* Write what fd 1 or 2 takes. Its reader gone, the command gets the SIGPIPE
 * it would get on the host (once); its further output is dropped. */
static int write_out(struct relay *rl, struct exec_out *o, hyp_error *err)
{
	int r = exec_out_write(o, err);
	if (r != -EPIPE)
		return r;
	if (rl->sigpipe_sent)
		return 0;
	rl->sigpipe_sent = true;
	struct hyp_msg msg = {.type = HYP_MSG_SIGNAL, .signo = SIGPIPE};
	return queue(rl, &msg, err);
}

/* The agent's ERROR ends the session: it could not run the command (an
 * unknown cwd, execve failing...) or it broke off the session. */
static int on_error_frame(struct relay *rl, const struct hyp_msg *msg, hyp_error *err)
{
	const char *raw = msg->error.message ? msg->error.message : "";
	/* the guest's words, on the user's terminal: no escape sequences */
	_cleanup_free_ char *text = hyp_text_sanitize(raw, strlen(raw));
	rl->got_error = true;
	rl->error_deadline_ms = hyp_now_ms() + ERROR_EXIT_WAIT_MS;
	if (!text)
		return hyp_fail(err, ENOMEM, "out of memory");
	/* through stderr's buffer, so that it comes after what the command wrote */
	int r = exec_out_push(&rl->out[1], EXEC_PREFIX, strlen(EXEC_PREFIX), err);
	if (r >= 0)
		r = exec_out_push(&rl->out[1], text, strlen(text), err);
	if (r >= 0)
		r = exec_out_push(&rl->out[1], "\n", 1, err);
	return r;
}

static int on_frame(struct relay *rl, struct hyp_msg *msg, hyp_error *err)
{
	switch (msg->type) {
	case HYP_MSG_STDOUT:
	case HYP_MSG_STDERR:
		rl->got_output = true;
		return exec_out_push(&rl->out[msg->type == HYP_MSG_STDERR], msg->data.data,
		                     msg->data.len, err);
	case HYP_MSG_ERROR:
		return on_error_frame(rl, msg, err);
	case HYP_MSG_EXIT:
		rl->exit = msg->exit;
		rl->got_exit = true;
		return 0;
	default:
		return hyp_fail(err, EPROTO, "job %u: the guest sent an unexpected %s frame",
		                rl->s->o->job_id, hyp_msg_type_name(msg->type));
	}
}

/* Handle the whole frames received, while stdout and stderr have room. */
static int take_frames(struct relay *rl, hyp_error *err)
{
	rl->frames_waiting = false;
	while (!rl->got_exit) {
		struct hyp_msg msg;
		if (exec_out_full(&rl->out[0]) || exec_out_full(&rl->out[1])) {
			rl->frames_waiting = true; /* or not: the next round will tell */
			return 0;
		}
		int r = hyp_chan_next(rl->chan, &msg, err);
		if (r < 0)
			return hyp_error_prefix(err, "job %u: from the guest", rl->s->o->job_id);
		if (r == 0)
			return 0;
		r = on_frame(rl, &msg, err);
		hyp_msg_clear(&msg);
		if (r < 0)
			return r;
	}
	return 0;
}

static void set_polls(const struct relay *rl, struct pollfd *p)
{
	bool room = !exec_out_full(&rl->out[0]) && !exec_out_full(&rl->out[1]);
	bool can_send = !rl->send_broken && hyp_chan_can_queue(rl->chan);
	/* --script's file still to queue: woken when the socket takes more */
	bool more = hyp_chan_has_output(rl->chan) || rl->s->script.fd >= 0;
	short sock =
	    (room && !rl->recv_broken ? POLLIN : 0) | (!rl->send_broken && more ? POLLOUT : 0);
	/* stdin follows the whole of --script's file */
	bool input = rl->stdin_open && !rl->eof_later && rl->s->script.fd < 0;
	p[P_STDIN] = (struct pollfd){input && can_send ? STDIN_FILENO : -1, POLLIN, 0};
	p[P_SOCK] = (struct pollfd){sock ? rl->chan->fd : -1, sock, 0};
	for (int i = 0; i < 2; i++)
		p[P_STDOUT + i] =
		    (struct pollfd){exec_out_pending(&rl->out[i]) ? rl->out[i].fd : -1, POLLOUT, 0};
	p[P_SIGNAL] = (struct pollfd){rl->sfd, POLLIN, 0};
}

/* Socket I/O. A failure to send is not the end yet: the EXIT may be on its
 * way in. A failure to receive is, once the frames already read are handled. */
static void socket_io(struct relay *rl, short revents)
{
	hyp_error ignored = {0};
	if ((revents & (POLLOUT | POLLERR)) && !rl->send_broken &&
	    hyp_chan_flush(rl->chan, &ignored) < 0)
		rl->send_broken = true;
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && hyp_chan_fill(rl->chan, &ignored) < 0)
		rl->recv_broken = true;
}

static int poll_once(struct relay *rl, hyp_error *err)
{
	struct pollfd p[P_COUNT];
	set_polls(rl, p);
	int timeout = -1;
	if (rl->got_error) {
		long long left = rl->error_deadline_ms - hyp_now_ms();
		timeout = left > 0 ? (int)left : 0;
	}
	if (poll(p, P_COUNT, timeout) < 0)
		return errno == EINTR ? 0 : hyp_fail_errno(err, "poll");
	int r = 0;
	if (p[P_SIGNAL].revents)
		r = on_signals(rl, err);
	for (int i = 0; r >= 0 && i < 2; i++)
		if (p[P_STDOUT + i].revents)
			r = write_out(rl, &rl->out[i], err);
	if (r >= 0 && p[P_SOCK].revents)
		socket_io(rl, p[P_SOCK].revents);
	if (r >= 0 && p[P_STDIN].revents)
		r = read_stdin(rl, err);
	return r;
}

static int lost(const struct relay *rl, hyp_error *err)
{
	return hyp_fail(err, ECONNRESET, "job %u: connection to the guest lost (VM stopped?)",
	                rl->s->o->job_id);
}

static bool stdin_readable(void)
{
	int flags = fcntl(STDIN_FILENO, F_GETFL);
	return flags >= 0 && (flags & O_ACCMODE) != O_WRONLY;
}

/* The exit status the session ended with: the command's, or for an ERROR
 * before any output, "not started". */
static struct hyp_exit outcome(const struct relay *rl)
{
	if (rl->got_exit)
		return rl->exit;
	return (struct hyp_exit){.code = rl->got_output ? EXEC_EXIT_LOST : EXEC_EXIT_SETUP};
}

/* --script's file first, as the channel has room; then stdin may follow. */
static int send_script(struct relay *rl, hyp_error *err)
{
	struct exec_script *sc = &rl->s->script;
	int r = 0;
	if (sc->fd >= 0 && !rl->send_broken &&
	    (r = exec_script_queue(sc, rl->chan, rl->chunk, err)) < 0)
		return hyp_error_prefix(err, "job %u", rl->s->o->job_id);
	if (rl->eof_later && sc->fd < 0) {
		rl->eof_later = false;
		r = queue_stdin_eof(rl, err);
	}
	return r;
}

/* 1 when the session is over (*ret_exit set), 0 to go on, < 0 on failure. */
static int step(struct relay *rl, struct hyp_exit *ret_exit, hyp_error *err)
{
	int r = take_frames(rl, err);
	if (r >= 0)
		r = send_script(rl, err);
	if (r < 0)
		return r;
	/* An ERROR about a command that could not start comes before the
	 * EXIT (126/127) that ends the session; other ERRORs end it alone. */
	if (rl->got_exit || (rl->got_error && (rl->chan->eof || rl->recv_broken ||
	                                       hyp_now_ms() >= rl->error_deadline_ms))) {
		*ret_exit = outcome(rl);
		return 1;
	}
	if ((rl->chan->eof || rl->recv_broken) && !rl->frames_waiting)
		return lost(rl, err);
	socket_io(rl, POLLOUT); /* send what is queued before waiting */
	return poll_once(rl, err);
}

int exec_relay(struct exec_session *s, int sfd, struct exec_out out[2], struct hyp_exit *ret_exit,
               hyp_error *err)
{
	struct relay rl = {.s = s,
	                   .chan = &s->chan,
	                   .out = out,
	                   .sfd = sfd,
	                   .stdin_open = true,
	                   .chunk = HYP_DATA_CHUNK};
	if (s->peer_max && s->peer_max < rl.chunk)
		rl.chunk = s->peer_max;
	/* stdin closed or not readable: the command sees its end at once
	 * (after --script's file) */
	rl.eof_later = !stdin_readable();
	int r;
	while ((r = step(&rl, ret_exit, err)) == 0)
		;
	return r < 0 ? r : 0;
}

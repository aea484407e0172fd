/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The session's loop while our command runs: one poll() over stdin, the
 * socket, fds 1 and 2 and a signalfd, until the agent's EXIT. The loop
 * owns the socket and routes each frame: the stream's to exec_stream.c,
 * the session's (an ERROR on stream 0) likewise shown, anything else is a
 * protocol error.
 *
 * Flow control is per stream (doc/protocol.md): the socket is read at all
 * times, since what the agent may send us is bounded by the stream's window,
 * and stdin is read only while the window and the channel's queue have room.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include "exec.h"
#include "exec_guest.h"
#include "hyp_cleanup.h"

enum {
	P_STDIN,
	P_SOCK,
	P_STDOUT,
	P_STDERR,
	P_SIGNAL,
	P_GUEST,
	P_COUNT = P_GUEST + EXEC_GUEST_POLLS
};

struct relay {
	struct exec_session *s;
	struct hyp_chan *chan;
	struct exec_stream st;
	struct exec_guest guest; /* the commands the guest runs here */
	int sfd;
	bool recv_broken; /* reading from the socket failed */
};

static int on_signals(struct relay *rl, hyp_error *err)
{
	int signo, r = 0;
	while (r >= 0 && (signo = exec_signals_read(rl->sfd)) > 0) {
		if (signo != SIGCHLD) {
			r = exec_stream_signal(&rl->st, signo, err);
			continue;
		}
		int wstatus;
		pid_t pid;
		while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0)
			exec_guest_reaped(&rl->guest, pid, wstatus);
	}
	return r;
}

static int route(struct relay *rl, struct hyp_msg *msg, hyp_error *err)
{
	int r = hyp_msg_check_sender(msg, HYP_SIDE_GUEST, err);
	if (r < 0)
		return r;
	if (msg->type == HYP_MSG_REQUEST)
		return exec_guest_request(&rl->guest, msg, err);
	if (msg->stream && hyp_stream_opener(msg->stream) == HYP_SIDE_GUEST)
		return exec_guest_frame(&rl->guest, msg, err);
	/* an ERROR on stream 0 ends the session: shown as the stream's */
	if (msg->stream == rl->st.id || (msg->type == HYP_MSG_ERROR && msg->stream == 0))
		return exec_stream_frame(&rl->st, msg, err);
	return hyp_fail(err, EPROTO, "%s frame on stream %u, which is not open",
	                hyp_msg_type_name(msg->type), msg->stream);
}

/* Handle the whole frames received. */
static int take_frames(struct relay *rl, hyp_error *err)
{
	while (!rl->st.got_exit) {
		struct hyp_msg msg;
		int r = hyp_chan_next(rl->chan, &msg, err);
		if (r == 0)
			return 0;
		if (r > 0) {
			r = route(rl, &msg, err);
			hyp_msg_clear(&msg);
		}
		if (r < 0)
			return hyp_error_prefix(err, "job %u: from the guest", rl->s->o->job_id);
	}
	return 0;
}

static void set_polls(const struct relay *rl, struct pollfd *p)
{
	const struct exec_stream *st = &rl->st;
	/* --script's file still to queue: woken when the socket takes more */
	bool more = hyp_chan_has_output(rl->chan) || rl->s->script.fd >= 0;
	short sock = (!rl->recv_broken ? POLLIN : 0) | (!st->send_broken && more ? POLLOUT : 0);
	p[P_STDIN] = (struct pollfd){exec_stream_wants_stdin(st) ? STDIN_FILENO : -1, POLLIN, 0};
	p[P_SOCK] = (struct pollfd){sock ? rl->chan->fd : -1, sock, 0};
	for (int i = 0; i < 2; i++)
		p[P_STDOUT + i] =
		    (struct pollfd){exec_out_pending(&st->out[i]) ? st->out[i].fd : -1, POLLOUT, 0};
	p[P_SIGNAL] = (struct pollfd){rl->sfd, POLLIN, 0};
	exec_guest_polls(&rl->guest, &p[P_GUEST]);
}

/* Socket I/O. A failure to send is not the end yet: the EXIT may be on its
 * way in. A failure to receive is, once the frames already read are handled. */
static void socket_io(struct relay *rl, short revents)
{
	hyp_error ignored = {0};
	if ((revents & (POLLOUT | POLLERR)) && !rl->st.send_broken &&
	    hyp_chan_flush(rl->chan, &ignored) < 0)
		rl->st.send_broken = true;
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && hyp_chan_fill(rl->chan, &ignored) < 0)
		rl->recv_broken = true;
}

static int poll_once(struct relay *rl, hyp_error *err)
{
	struct pollfd p[P_COUNT];
	set_polls(rl, p);
	int timeout = exec_guest_timeout(&rl->guest);
	if (rl->st.got_error) {
		long long left = rl->st.error_deadline_ms - hyp_now_ms();
		if (timeout < 0 || left < timeout)
			timeout = left > 0 ? (int)left : 0;
	}
	if (poll(p, P_COUNT, timeout) < 0)
		return errno == EINTR ? 0 : hyp_fail_errno(err, "poll");
	int r = 0;
	if (p[P_SIGNAL].revents)
		r = on_signals(rl, err);
	for (int i = 0; r >= 0 && i < 2; i++)
		if (p[P_STDOUT + i].revents)
			r = exec_stream_write_out(&rl->st, i, err);
	if (r >= 0 && p[P_SOCK].revents)
		socket_io(rl, p[P_SOCK].revents);
	if (r >= 0 && p[P_STDIN].revents)
		r = exec_stream_read_stdin(&rl->st, err);
	if (r >= 0)
		r = exec_guest_io(&rl->guest, &p[P_GUEST], err);
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
	if (rl->st.got_exit)
		return rl->st.exit;
	return (struct hyp_exit){.code = rl->st.got_output ? EXEC_EXIT_LOST : EXEC_EXIT_SETUP};
}

/* 1 when the session is over (*ret_exit set), 0 to go on, < 0 on failure. */
static int step(struct relay *rl, struct hyp_exit *ret_exit, hyp_error *err)
{
	const struct exec_stream *st = &rl->st;
	int r = take_frames(rl, err);
	if (r >= 0)
		r = exec_stream_step(&rl->st, err);
	if (r >= 0)
		r = exec_guest_step(&rl->guest, err);
	if (r < 0)
		return r;
	/* An ERROR about a command that could not start comes before the
	 * EXIT (126/127) that ends the session; other ERRORs end it alone. */
	if (st->got_exit || (st->got_error && (rl->chan->eof || rl->recv_broken ||
	                                       hyp_now_ms() >= st->error_deadline_ms))) {
		*ret_exit = outcome(rl);
		return 1;
	}
	if (rl->chan->eof || rl->recv_broken)
		return lost(rl, err);
	socket_io(rl, POLLOUT); /* send what is queued before waiting */
	return poll_once(rl, err);
}

int exec_relay(struct exec_session *s, int sfd, struct exec_out out[2], struct hyp_exit *ret_exit,
               hyp_error *err)
{
	struct relay rl = {.s = s, .chan = &s->chan, .sfd = sfd};
	exec_stream_init(&rl.st, s, out);
	exec_guest_init(&rl.guest, &s->chan, s->o->guest_commands, rl.st.chunk);
	/* stdin closed or not readable: the command sees its end at once
	 * (after --script's file) */
	rl.st.eof_later = !stdin_readable();
	int r;
	while ((r = step(&rl, ret_exit, err)) == 0)
		;
	exec_guest_close(&rl.guest); /* none outlives the session */
	return r < 0 ? r : 0;
}

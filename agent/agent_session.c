/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sessions on one connection (doc/protocol.md): the session's state
 * machine and the poll loop it owns.
 *
 *	HELLO --HELLO--> READY --EXEC--> STREAM --EXIT sent--> DONE --> HELLO
 *	                   |  PING -> PONG, any time after HELLO
 *	                   +--POWEROFF (control port)
 *
 * Session frames (stream 0) are dispatched through a table: message type ->
 * handler, with the states and the ports where it is allowed. The EXEC opens
 * the session's stream (agent_stream.c), and the frames on that stream, the
 * command's fds and its SIGCHLD are routed to it. Anything else, and
 * anything malformed, is answered with ERROR and ends the session (the
 * command, if one runs, is killed).
 *
 * A receiver reads the channel at all times: what a stream may make us hold
 * is bounded by its window, so a command that does not read its stdin
 * never holds back a SIGNAL.
 *
 * A virtio-serial port does not tell its guest reliably that the host
 * disconnected: a disconnection followed at once by a new connection may
 * show no POLLHUP at all. And bytes an earlier connection sent may still be
 * waiting in the port. So the boundary between sessions is the host's
 * HELLO: before it, whatever arrives is dropped (whole frames, or bytes up to
 * the next HELLO header after a cut-off frame), and a HELLO in the middle of
 * a session starts a new one, as a new host would.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_session.h"

#define BIT(n)      (1u << (n))
#define ANY_STATE   (BIT(SESSION_HELLO) | BIT(SESSION_READY) | BIT(SESSION_STREAM))
#define AFTER_HELLO (BIT(SESSION_READY) | BIT(SESSION_STREAM))
#define ANY_PORT    (BIT(AGENT_PORT_EXEC) | BIT(AGENT_PORT_CTL))
#define EXEC_PORT   BIT(AGENT_PORT_EXEC)
#define CTL_PORT    BIT(AGENT_PORT_CTL)

enum {
	P_PORT,
	P_SIG,
	P_STREAM,
	P_GUEST = P_STREAM + AGENT_STREAM_POLLS,
	P_COUNT = P_GUEST + AGENT_GUEST_POLLS
};

typedef int (*handler_fn)(struct agent_session *s, struct hyp_msg *msg, hyp_error *err);

/* A queue that fails means the host has not read for a long time (and
 * floods PINGs): it is treated as gone, and what it sends next waits for a
 * HELLO. */
static void queue(struct agent_session *s, struct hyp_msg *msg)
{
	hyp_error err = {0};

	if (hyp_chan_queue(&s->chan, msg, &err) < 0) {
		agent_log("%s", err.msg);
		s->state = SESSION_DONE;
		s->end = SESSION_HOST_GONE;
	}
}

/* Kill the command, send ERROR (stream 0) unless the session is over, end it. */
static void session_fail(struct agent_session *s, const hyp_error *err)
{
	struct hyp_msg msg = {.type = HYP_MSG_ERROR};
	char text[HYP_MESSAGE_MAX + 1];

	if (err->code == ENOBUFS) { /* the channel's hard cap: see queue() */
		agent_log("%s", err->msg);
		s->end = SESSION_HOST_GONE;
	}
	if (s->has_stream)
		agent_stream_close(&s->stream);
	if (s->state != SESSION_DONE && s->end == SESSION_ACTIVE) {
		snprintf(text, sizeof(text), "%s", err->msg);
		msg.error.code = err->code > 0 && err->code < 4096 ? (uint32_t)err->code : EPROTO;
		msg.error.message = text;
		queue(s, &msg);
	}
	s->state = SESSION_DONE;
}

/* Back to the start: the command killed, its state and unsent output gone. */
static void session_reset(struct agent_session *s)
{
	if (s->has_stream)
		agent_stream_close(&s->stream);
	s->has_stream = false;
	agent_guest_close(&s->guest);
	hyp_buf_consume(&s->chan.out, hyp_buf_pending(&s->chan.out));
	s->chunk = HYP_DATA_CHUNK;
	s->state = SESSION_HELLO;
	s->end = SESSION_ACTIVE;
}

static int on_hello(struct agent_session *s, struct hyp_msg *msg, hyp_error *err)
{
	struct hyp_msg ours = hyp_hello_ours();

	if (s->state != SESSION_HELLO) /* a new host, whose connection we missed */
		session_reset(s);
	/* answered whatever the host's version, so it can name both in its error */
	queue(s, &ours);
	int r = hyp_hello_check(&msg->hello, &s->version, err);
	if (r < 0)
		return hyp_error_prefix(err, "the host's HELLO");
	s->chunk =
	    msg->hello.max_payload < HYP_DATA_CHUNK ? msg->hello.max_payload : HYP_DATA_CHUNK;
	s->state = SESSION_READY;
	return 0;
}

static int on_ping(struct agent_session *s, struct hyp_msg *msg, hyp_error *err)
{
	struct hyp_msg pong = {.type = HYP_MSG_PONG, .nonce = msg->nonce};

	queue(s, &pong);
	return 0;
}

static int on_exec(struct agent_session *s, struct hyp_msg *msg, hyp_error *err)
{
	hyp_error why = {0};

	/* without it, the command runs all the same: its guest commands fail */
	if (agent_guest_open(&s->guest, &msg->exec, s->cfg, &why) < 0) {
		agent_log("guest commands for this session: %s", why.msg);
		agent_guest_close(&s->guest);
	}
	s->has_stream = true;
	s->state = SESSION_STREAM;
	return agent_stream_open(&s->stream, msg, s->cfg, &s->chan, s->chunk, err);
}

/* The host gave up: nothing to answer, the session is over. */
static int on_error(struct agent_session *s, struct hyp_msg *msg, hyp_error *err)
{
	if (s->has_stream)
		agent_stream_close(&s->stream);
	s->state = SESSION_DONE;
	return 0;
}

static int on_poweroff(struct agent_session *s, struct hyp_msg *msg, hyp_error *err)
{
	if (!s->cfg->pid1 || getppid() != 1) {
		agent_log("POWEROFF from the host ignored: the agent is not the guest's init");
		return 0;
	}
	sync();
	kill(1, SIGUSR2); /* init powers off: SIGTERM to all, sync, power off */
	return 0;
}

static const struct handler {
	handler_fn fn;
	unsigned states; /* BIT(enum agent_session_state) where it is allowed */
	unsigned ports;  /* BIT(enum agent_port_kind) where it is allowed */
} handlers[HYP_MSG_TYPE_COUNT] = {
    [HYP_MSG_HELLO] = {on_hello, ANY_STATE, ANY_PORT},
    [HYP_MSG_PING] = {on_ping, AFTER_HELLO, ANY_PORT},
    [HYP_MSG_EXEC] = {on_exec, BIT(SESSION_READY), EXEC_PORT},
    [HYP_MSG_ERROR] = {on_error, ANY_STATE, ANY_PORT},
    [HYP_MSG_POWEROFF] = {on_poweroff, BIT(SESSION_READY), CTL_PORT},
};

/* Why a well-formed session frame is not allowed here. */
static int refuse(const struct agent_session *s, uint16_t type, hyp_error *err)
{
	const char *name = hyp_msg_type_name(type);
	const char *port = s->kind == AGENT_PORT_CTL ? "the control port" : "an exec port";

	if (!(handlers[type].ports & BIT(s->kind)))
		return hyp_fail(err, EPERM, "%s is not allowed on %s", name, port);
	if (s->state == SESSION_HELLO)
		return hyp_fail(err, EPROTO, "%s frame before HELLO", name);
	if (type == HYP_MSG_EXEC)
		return hyp_fail(err, EPROTO, "a second %s frame", name);
	return hyp_fail(err, EPROTO, "%s frame while a command runs", name);
}

/* A frame on a stream: the open one's, or out of place. */
static int route(struct agent_session *s, struct hyp_msg *msg, hyp_error *err)
{
	const char *name = hyp_msg_type_name(msg->type);

	if (s->kind == AGENT_PORT_CTL)
		return hyp_fail(err, EPERM, "%s is not allowed on the control port", name);
	if (hyp_stream_opener(msg->stream) == HYP_SIDE_GUEST)
		return agent_guest_frame(&s->guest, msg, err);
	if (!s->has_stream)
		return hyp_fail(err, EPROTO, "%s frame before EXEC (stream %u is not open)", name,
		                msg->stream);
	if (msg->stream != s->stream.id)
		return hyp_fail(err, EPROTO, "%s frame on stream %u, which is not open", name,
		                msg->stream);
	return agent_stream_frame(&s->stream, msg, err);
}

static int dispatch(struct agent_session *s, struct hyp_msg *msg, hyp_error *err)
{
	uint16_t type = msg->type;
	const struct hyp_msg_desc *d = hyp_msg_desc(type);
	int r = hyp_msg_check_sender(msg, HYP_SIDE_HOST, err);

	if (r < 0)
		return r;
	if (d->scope == HYP_SCOPE_STREAM || (type == HYP_MSG_ERROR && msg->stream != 0))
		return route(s, msg, err);
	if (type >= HYP_MSG_TYPE_COUNT)
		return hyp_fail(err, EPROTO, "unexpected %s frame", d->name);
	if (!handlers[type].fn || !(handlers[type].states & BIT(s->state)) ||
	    !(handlers[type].ports & BIT(s->kind)))
		return refuse(s, type, err);
	return handlers[type].fn(s, msg, err);
}

/*
 * Before HELLO: drop what an earlier connection left. True once the input
 * starts with a HELLO header (the frame may still be incomplete).
 */
static bool sync_hello(struct hyp_buf *in)
{
	static const uint8_t hello[HYP_FRAME_HEADER_SIZE] = {0, 0, 0, 8, 0, HYP_MSG_HELLO, 0, 0};

	for (;;) {
		const uint8_t *p = in->data + in->off;
		size_t pending = hyp_buf_pending(in);
		struct hyp_msg msg;
		hyp_error ignored;

		if (pending >= sizeof(hello) && memcmp(p, hello, sizeof(hello)) == 0)
			return true;
		ssize_t n = pending ? hyp_msg_decode(p, pending, &msg, &ignored) : 0;
		if (n > 0) { /* a whole frame of the earlier session */
			hyp_msg_clear(&msg);
			hyp_buf_consume(in, n);
			continue;
		}
		/* cut off or garbage: a HELLO further on is the new session */
		const uint8_t *h =
		    pending > 1 ? memmem(p + 1, pending - 1, hello, sizeof(hello)) : NULL;
		if (h) {
			hyp_buf_consume(in, h - p);
			continue;
		}
		if (n < 0) /* keep what may be the start of a HELLO header */
			hyp_buf_consume(in, pending - (sizeof(hello) - 1));
		return false;
	}
}

static void take_frames(struct agent_session *s)
{
	while (s->state != SESSION_DONE && s->end == SESSION_ACTIVE) {
		struct hyp_msg msg;
		hyp_error err = {0};
		if (s->state == SESSION_HELLO && !sync_hello(&s->chan.in))
			break;
		int r = hyp_chan_next(&s->chan, &msg, &err);
		if (r == 0)
			break;
		if (r > 0) {
			r = dispatch(s, &msg, &err);
			hyp_msg_clear(&msg);
		}
		if (r < 0)
			session_fail(s, &err);
	}
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
			if (s->has_stream)
				agent_stream_reaped(&s->stream, pid, wstatus);
	}
}

static void set_polls(const struct agent_session *s, struct pollfd *p)
{
	bool frames = s->state != SESSION_DONE;

	/* the port always: POLLHUP says the host went away */
	p[P_PORT] = (struct pollfd){
	    s->chan.fd,
	    (short)((frames ? POLLIN : 0) | (hyp_chan_has_output(&s->chan) ? POLLOUT : 0)), 0};
	p[P_SIG] = (struct pollfd){s->sigfd, POLLIN, 0};
	for (int i = 0; i < AGENT_STREAM_POLLS; i++)
		p[P_STREAM + i] = (struct pollfd){-1, 0, 0};
	if (s->has_stream)
		agent_stream_polls(&s->stream, &p[P_STREAM]);
	agent_guest_polls(&s->guest, &p[P_GUEST]);
}

static void poll_once(struct agent_session *s)
{
	struct pollfd p[P_COUNT];
	hyp_error err = {0};

	set_polls(s, p);
	int timeout = s->has_stream ? agent_stream_timeout(&s->stream) : -1;
	if (poll(p, P_COUNT, timeout) < 0) {
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
	if (s->end != SESSION_ACTIVE || s->state != SESSION_STREAM)
		return;
	if (agent_stream_io(&s->stream, &p[P_STREAM], &err) < 0 ||
	    agent_guest_io(&s->guest, &p[P_GUEST], &err) < 0)
		session_fail(s, &err);
}

/* The stream's own work; its end (EXIT queued) is the session's. */
static void stream_step(struct agent_session *s)
{
	hyp_error err = {0};

	if (s->state != SESSION_STREAM)
		return;
	agent_guest_step(&s->guest);
	if (agent_stream_step(&s->stream, &err) < 0)
		session_fail(s, &err);
	else if (s->stream.state == STREAM_DONE)
		s->state = SESSION_DONE;
}

static void serve_loop(struct agent_session *s)
{
	hyp_error err = {0};

	while (s->end == SESSION_ACTIVE) {
		take_frames(s);
		stream_step(s);
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

enum agent_session_end agent_session_serve(int fd, enum agent_port_kind kind, int sigfd,
                                           const struct agent_config *cfg)
{
	struct agent_session s = {.cfg = cfg,
	                          .kind = kind,
	                          .sigfd = sigfd,
	                          .chunk = HYP_DATA_CHUNK,
	                          .end = SESSION_ACTIVE};

	hyp_chan_init(&s.chan, fd);
	agent_guest_init(&s.guest, &s.chan);
	for (;;) {
		serve_loop(&s);
		if (s.end != SESSION_ENDED)
			break;
		session_reset(&s); /* the host may send another HELLO, or go */
	}
	if (s.has_stream)
		agent_stream_close(&s.stream);
	agent_guest_close(&s.guest);
	hyp_chan_free(&s.chan);
	return s.end;
}

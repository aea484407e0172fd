/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The protocol state machine of the sessions on one connection
 * (doc/protocol.md):
 *
 *	HELLO --HELLO--> READY --EXEC--> RUNNING --EXIT sent--> DONE --> HELLO
 *	                   |  PING -> PONG, any time after HELLO
 *	                   +--POWEROFF (control port)
 *
 * Frames are dispatched through a table: message type -> handler, with the
 * states and the ports where it is allowed. Anything else, and anything
 * malformed, is answered with ERROR and ends the session (the command, if
 * one runs, is killed).
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
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "agent_session.h"

#define BIT(n) (1u << (n))
#define ANY_STATE                                                                                  \
	(BIT(SESSION_HELLO) | BIT(SESSION_READY) | BIT(SESSION_FILE) | BIT(SESSION_RUNNING))
#define AFTER_HELLO (BIT(SESSION_READY) | BIT(SESSION_FILE) | BIT(SESSION_RUNNING))
#define AFTER_EXEC  (BIT(SESSION_FILE) | BIT(SESSION_RUNNING))
#define ANY_PORT    (BIT(AGENT_PORT_EXEC) | BIT(AGENT_PORT_CTL))
#define EXEC_PORT   BIT(AGENT_PORT_EXEC)
#define CTL_PORT    BIT(AGENT_PORT_CTL)

typedef int (*handler_fn)(struct agent_session *s, struct hyp_msg *msg, hyp_error *err);

void agent_session_queue(struct agent_session *s, const struct hyp_msg *msg)
{
	hyp_error err = {0};

	/* only a host that never reads (and floods PINGs) gets here: it is
	 * treated as gone, and what it sends next waits for a HELLO */
	if (hyp_chan_queue(&s->chan, msg, &err) < 0) {
		agent_log("%s", err.msg);
		agent_cmd_kill(&s->cmd);
		s->state = SESSION_DONE;
		s->end = SESSION_HOST_GONE;
	}
}

void agent_session_error(struct agent_session *s, const hyp_error *err)
{
	struct hyp_msg msg = {.type = HYP_MSG_ERROR};
	char text[HYP_MESSAGE_MAX + 1];

	snprintf(text, sizeof(text), "%s", err->msg);
	msg.error.code = err->code > 0 && err->code < 4096 ? (uint32_t)err->code : EPROTO;
	msg.error.message = text;
	agent_session_queue(s, &msg);
}

void agent_session_fail(struct agent_session *s, const hyp_error *err)
{
	agent_cmd_kill(&s->cmd);
	if (s->state != SESSION_DONE)
		agent_session_error(s, err);
	s->state = SESSION_DONE;
}

/* Back to the start: the command killed, its state and unsent output gone. */
static void session_reset(struct agent_session *s)
{
	agent_cmd_kill(&s->cmd);
	agent_cmd_close(&s->cmd);
	agent_file_remove(&s->file, &s->exec.exec, s->cfg);
	hyp_msg_clear(&s->exec);
	s->exec.type = 0;
	s->early_signals = 0;
	hyp_buf_free(&s->input);
	hyp_buf_consume(&s->chan.out, hyp_buf_pending(&s->chan.out));
	s->input_eof = s->exited = false;
	s->chunk = HYP_DATA_CHUNK;
	s->state = SESSION_HELLO;
	s->end = SESSION_ACTIVE;
}

static int on_hello(struct agent_session *s, struct hyp_msg *msg, hyp_error *err)
{
	struct hyp_msg ours = {.type = HYP_MSG_HELLO,
	                       .hello = {HYP_PROTO_VERSION, HYP_FRAME_MAX_PAYLOAD}};

	if (s->state != SESSION_HELLO) /* a new host, whose connection we missed */
		session_reset(s);
	/* answered whatever the host's version, so it can name both in its error */
	agent_session_queue(s, &ours);
	int r = hyp_hello_check(&msg->hello, err);
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

	agent_session_queue(s, &pong);
	return 0;
}

/* The command could not start: ERROR, then EXIT 126 as a shell would. */
static int not_started(struct agent_session *s, const hyp_error *err)
{
	struct hyp_msg exit = {.type = HYP_MSG_EXIT, .exit = {.code = 126}};

	agent_session_fail(s, err);
	agent_session_queue(s, &exit);
	return 0;
}

/* The file is all there: it runs, and gets the signals sent meanwhile. */
static int file_complete(struct agent_session *s, hyp_error *err)
{
	if (agent_file_finish(&s->file, &s->exec.exec, err) < 0)
		return not_started(s, err);
	agent_relay_start(s);
	for (int signo = 1; signo <= 64 && s->state == SESSION_RUNNING; signo++)
		if (s->early_signals & (1ULL << (signo - 1)))
			agent_cmd_signal(&s->cmd, signo);
	s->early_signals = 0;
	return 0;
}

static int on_exec(struct agent_session *s, struct hyp_msg *msg, hyp_error *err)
{
	s->exec = *msg; /* the request is the session's now */
	msg->type = 0;
	if (!(s->exec.exec.flags & HYP_EXEC_FILE)) {
		agent_relay_start(s);
		return 0;
	}
	if (agent_file_open(&s->file, &s->exec.exec, s->cfg, err) < 0)
		return not_started(s, err);
	s->state = SESSION_FILE;
	return s->file.left ? 0 : file_complete(s, err);
}

static int on_file(struct agent_session *s, struct hyp_msg *msg, hyp_error *err)
{
	int r = agent_file_write(&s->file, msg->data.data, msg->data.len, err);
	if (r < 0)
		return r;
	return s->file.left ? 0 : file_complete(s, err);
}

static int on_stdin(struct agent_session *s, struct hyp_msg *msg, hyp_error *err)
{
	if (s->input_eof)
		return hyp_fail(err, EPROTO, "STDIN frame after STDIN_EOF");
	if (s->cmd.in_fd < 0) /* the command closed its stdin or exited: dropped */
		return 0;
	return hyp_buf_append(&s->input, msg->data.data, msg->data.len, err);
}

static int on_stdin_eof(struct agent_session *s, struct hyp_msg *msg, hyp_error *err)
{
	struct termios t;

	if (s->input_eof)
		return hyp_fail(err, EPROTO, "a second STDIN_EOF frame");
	s->input_eof = true;
	/* on a terminal, end of input is the EOF character, after what is pending */
	if (s->cmd.tty && s->cmd.in_fd >= 0) {
		char eof = tcgetattr(s->cmd.master, &t) == 0 ? (char)t.c_cc[VEOF] : '\004';
		return hyp_buf_append(&s->input, &eof, 1, err);
	}
	return 0;
}

static int on_signal(struct agent_session *s, struct hyp_msg *msg, hyp_error *err)
{
	if (s->state == SESSION_FILE)
		s->early_signals |= 1ULL << (msg->signo - 1);
	agent_cmd_signal(&s->cmd, (int)msg->signo);
	return 0;
}

static int on_winch(struct agent_session *s, struct hyp_msg *msg, hyp_error *err)
{
	struct winsize ws = {.ws_row = msg->winsize.rows, .ws_col = msg->winsize.cols};

	s->exec.exec.rows = msg->winsize.rows; /* for a pty not open yet */
	s->exec.exec.cols = msg->winsize.cols;

	if (s->cmd.master >= 0) /* ignored outside TTY mode */
		ioctl(s->cmd.master, TIOCSWINSZ, &ws);
	return 0;
}

/* The host gave up: nothing to answer, the session is over. */
static int on_error(struct agent_session *s, struct hyp_msg *msg, hyp_error *err)
{
	agent_cmd_kill(&s->cmd);
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
} handlers[] = {
    [HYP_MSG_HELLO] = {on_hello, ANY_STATE, ANY_PORT},
    [HYP_MSG_PING] = {on_ping, AFTER_HELLO, ANY_PORT},
    [HYP_MSG_EXEC] = {on_exec, BIT(SESSION_READY), EXEC_PORT},
    [HYP_MSG_STDIN] = {on_stdin, BIT(SESSION_RUNNING), EXEC_PORT},
    [HYP_MSG_STDIN_EOF] = {on_stdin_eof, BIT(SESSION_RUNNING), EXEC_PORT},
    [HYP_MSG_SIGNAL] = {on_signal, AFTER_EXEC, EXEC_PORT},
    [HYP_MSG_WINCH] = {on_winch, AFTER_EXEC, EXEC_PORT},
    [HYP_MSG_FILE] = {on_file, BIT(SESSION_FILE), EXEC_PORT},
    [HYP_MSG_ERROR] = {on_error, ANY_STATE, ANY_PORT},
    [HYP_MSG_POWEROFF] = {on_poweroff, BIT(SESSION_READY), CTL_PORT},
};

/* Why a well-formed frame is not allowed here. */
static int refuse(const struct agent_session *s, uint16_t type, hyp_error *err)
{
	const char *name = hyp_msg_type_name(type);
	const char *port = s->kind == AGENT_PORT_CTL ? "the control port" : "an exec port";

	if (type >= sizeof(handlers) / sizeof(handlers[0]) || !handlers[type].fn)
		return hyp_fail(err, EPROTO, "unexpected %s frame: only the guest sends it", name);
	if (!(handlers[type].ports & BIT(s->kind)))
		return hyp_fail(err, EPERM, "%s is not allowed on %s", name, port);
	if (s->state == SESSION_HELLO)
		return hyp_fail(err, EPROTO, "%s frame before HELLO", name);
	if (type == HYP_MSG_EXEC)
		return hyp_fail(err, EPROTO, "a second %s frame", name);
	if (type == HYP_MSG_FILE)
		return hyp_fail(err, EPROTO, "%s frame without a file to receive", name);
	if (s->state == SESSION_READY)
		return hyp_fail(err, EPROTO, "%s frame before EXEC", name);
	if (s->state == SESSION_FILE)
		return hyp_fail(err, EPROTO, "%s frame before the file is complete", name);
	return hyp_fail(err, EPROTO, "%s frame while a command runs", name);
}

static int dispatch(struct agent_session *s, struct hyp_msg *msg, hyp_error *err)
{
	uint16_t type = msg->type;

	if (type >= sizeof(handlers) / sizeof(handlers[0]) || !handlers[type].fn ||
	    !(handlers[type].states & BIT(s->state)) || !(handlers[type].ports & BIT(s->kind)))
		return refuse(s, type, err);
	return handlers[type].fn(s, msg, err);
}

static bool want_frame(const struct agent_session *s)
{
	if (s->state == SESSION_DONE || s->end != SESSION_ACTIVE)
		return false;
	/* not hyp_chan_can_queue(): a SIGNAL must get through while the host
	 * is slow to read the command's output */
	return s->state != SESSION_RUNNING || hyp_buf_pending(&s->input) < AGENT_STDIN_MAX;
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

int agent_session_frames(struct agent_session *s)
{
	int handled = 0;

	while (want_frame(s)) {
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
			handled++;
		}
		if (r < 0)
			agent_session_fail(s, &err);
	}
	return handled;
}

enum agent_session_end agent_session_serve(int fd, enum agent_port_kind kind, int sigfd,
                                           const struct agent_config *cfg)
{
	struct agent_session s = {.cfg = cfg,
	                          .kind = kind,
	                          .sigfd = sigfd,
	                          .chunk = HYP_DATA_CHUNK,
	                          .end = SESSION_ACTIVE};

	s.cmd = (struct agent_cmd){
	    .master = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1, .status_fd = -1};
	s.file.fd = -1;
	hyp_chan_init(&s.chan, fd);
	for (;;) {
		agent_relay_loop(&s);
		if (s.end != SESSION_ENDED)
			break;
		session_reset(&s); /* the host may send another HELLO, or go */
	}
	agent_cmd_kill(&s.cmd);
	agent_cmd_close(&s.cmd);
	agent_file_remove(&s.file, &s.exec.exec, cfg);
	hyp_msg_clear(&s.exec);
	hyp_buf_free(&s.input);
	hyp_chan_free(&s.chan);
	return s.end;
}

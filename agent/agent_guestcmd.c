/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The thin guest commands (srun, squeue...: links to hyperion-agent in every
 * guest, dispatched on argv[0]): one REQUEST (doc/protocol.md) with this
 * process's argv, environment and working directory to the agent session it
 * runs under ($HYPERION_SESSION, a unix socket the session relays to the
 * host), then stdin to STDIN within the stream's window, STDOUT/STDERR to
 * fds 1-2 with their credit returned as written, the signals it receives as
 * SIGNAL, and at the EXIT: the host command's status, or death by its signal.
 *
 * On a terminal (stdin and stdout both are one) the REQUEST says so, with
 * the window size: the host runs the command on a pty of its own, so this
 * side's terminal is raw while the bytes go through (line editing and ^C
 * happen once, on the host's pty), its size changes (SIGWINCH) go as WINCH,
 * and its settings are restored on every way out.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "agent.h"
#include "hyp_chan.h"
#include "hyp_cleanup.h"
#include "hyp_flow.h"

#define STREAM 2 /* on the connection to the session; the agent renumbers it */

static const char *const names[] = {"srun",     "sbatch", "salloc", "scancel", "squeue",
                                    "scontrol", "sinfo",  "sacct",  "sstat",   "sattach"};
static const int forwarded[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT,
                                SIGUSR1, SIGUSR2, SIGCONT, SIGTSTP};

struct guestcmd {
	const char *name;
	struct hyp_chan chan;
	struct hyp_flow flow;
	int sfd;
	bool stdin_open;
	bool tty;
	bool send_broken; /* the session closed our connection: its EXIT may still come */
};

bool agent_guestcmd_is(const char *argv0)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
	const char *base = slash ? slash + 1 : argv0;
	for (size_t i = 0; base && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(base, names[i]))
			return true;
	return false;
}

/* What the terminal was before raw mode; restored at every exit. */
static struct {
	bool saved;
	struct termios termios;
} term;

static void term_restore(void)
{
	if (term.saved)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &term.termios);
	term.saved = false;
}

static int term_raw(hyp_error *err)
{
	struct termios raw;
	if (tcgetattr(STDIN_FILENO, &term.termios) < 0)
		return hyp_fail_errno(err, "reading the terminal's settings");
	raw = term.termios;
	cfmakeraw(&raw);
	term.saved = true;
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) < 0)
		return hyp_fail_errno(err, "switching the terminal to raw mode");
	return 0;
}

static struct hyp_msg winsize_msg(uint16_t type)
{
	struct winsize ws = {0};
	struct hyp_msg m = {.type = type};
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
		ws = (struct winsize){0};
	m.winsize.rows = ws.ws_row;
	m.winsize.cols = ws.ws_col;
	return m;
}

static int connect_session(const char *name, hyp_error *err)
{
	const char *path = getenv(AGENT_SESSION_ENV);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (!path || !path[0])
		return hyp_fail(err, ENOENT,
		                "not in a Hyperion job's VM session (%s is not set): %s runs "
		                "through the session of a job's task",
		                AGENT_SESSION_ENV, name);
	if (strlen(path) >= sizeof(addr.sun_path))
		return hyp_fail(err, ENAMETOOLONG, "%s is too long", AGENT_SESSION_ENV);
	strcpy(addr.sun_path, path);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return hyp_fail_errno(err, "socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 && errno != EINPROGRESS)
		return hyp_fail_errno(err, "connecting to the session at '%s'", path);
	return take_fd(&fd);
}

static int send_request(struct guestcmd *g, int argc, char **argv, hyp_error *err)
{
	extern char **environ;
	char cwd[HYP_PATH_MAX];
	uint32_t envc = 0;
	while (environ[envc])
		envc++;
	if (!getcwd(cwd, sizeof(cwd)) || cwd[0] != '/')
		snprintf(cwd, sizeof(cwd), "/");
	char *argv0 = argv[0];
	argv[0] = (char *)g->name;
	struct hyp_msg size = winsize_msg(HYP_MSG_WINCH);
	struct hyp_msg msg = {.type = HYP_MSG_REQUEST,
	                      .stream = STREAM,
	                      .request = {.flags = g->tty ? HYP_EXEC_TTY : 0,
	                                  .rows = g->tty ? size.winsize.rows : 0,
	                                  .cols = g->tty ? size.winsize.cols : 0,
	                                  .cwd = cwd,
	                                  .argv = argv,
	                                  .argc = (uint32_t)argc,
	                                  .envp = environ,
	                                  .envc = envc}};
	int r = hyp_chan_queue(&g->chan, &msg, err);
	argv[0] = argv0;
	return r;
}

static int queue(struct guestcmd *g, struct hyp_msg msg, hyp_error *err)
{
	msg.stream = STREAM;
	return hyp_chan_queue(&g->chan, &msg, err);
}

static int read_stdin(struct guestcmd *g, hyp_error *err)
{
	uint8_t buf[HYP_DATA_CHUNK];
	ssize_t n = read(STDIN_FILENO, buf, hyp_flow_can_send(&g->flow, sizeof(buf)));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		g->stdin_open = false;
		return queue(g, (struct hyp_msg){.type = HYP_MSG_STDIN_EOF}, err);
	}
	hyp_flow_sent(&g->flow, (size_t)n);
	return queue(g, (struct hyp_msg){.type = HYP_MSG_STDIN, .data = {buf, (size_t)n}}, err);
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* its reader is gone: the output has nowhere to go */
		p += w;
		n -= (size_t)w;
	}
}

__attribute__((noreturn)) static void finish(const struct hyp_exit *e)
{
	term_restore();
	if (!e->signaled)
		exit((int)e->code);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, (int)e->code);
	signal((int)e->code, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise((int)e->code);
	exit(128 + (int)e->code);
}

/* One frame from the session; 1 at the EXIT (*ret_exit). */
static int on_frame(struct guestcmd *g, struct hyp_msg *m, struct hyp_exit *ret_exit,
                    hyp_error *err)
{
	switch (m->type) {
	case HYP_MSG_STDOUT:
	case HYP_MSG_STDERR:
		write_all(m->type == HYP_MSG_STDOUT ? 1 : 2, m->data.data, m->data.len);
		return queue(
		    g, (struct hyp_msg){.type = HYP_MSG_CREDIT, .credit = (uint32_t)m->data.len},
		    err);
	case HYP_MSG_CREDIT:
		return hyp_flow_credit(&g->flow, STREAM, m->credit, err);
	case HYP_MSG_ERROR:
		fprintf(stderr, "%s: %s%s", g->name, m->error.message ? m->error.message : "",
		        term.saved ? "\r\n" : "\n"); /* raw: no newline translation */
		return 0;
	case HYP_MSG_EXIT:
		*ret_exit = m->exit;
		return 1;
	default:
		return hyp_fail(err, EPROTO, "unexpected %s frame from the session",
		                hyp_msg_type_name(m->type));
	}
}

static int take_frames(struct guestcmd *g, struct hyp_exit *ret_exit, hyp_error *err)
{
	struct hyp_msg m;
	int r;
	while ((r = hyp_chan_next(&g->chan, &m, err)) > 0) {
		r = on_frame(g, &m, ret_exit, err);
		hyp_msg_clear(&m);
		if (r != 0)
			return r;
	}
	if (r == 0 && g->chan.eof)
		return hyp_fail(err, ECONNRESET, "the session ended before the command did");
	return r;
}

/* The signals received: SIGNAL to the host command; a new window size
 * (SIGWINCH, on a terminal only) as WINCH. */
static int take_signals(struct guestcmd *g, hyp_error *err)
{
	struct signalfd_siginfo si;
	int r = 0;
	while (r >= 0 && read(g->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (si.ssi_signo == SIGWINCH)
			r = g->tty ? queue(g, winsize_msg(HYP_MSG_WINCH), err) : 0;
		else
			r = queue(g,
			          (struct hyp_msg){.type = HYP_MSG_SIGNAL, .signo = si.ssi_signo},
			          err);
	return r;
}

static int loop(struct guestcmd *g, struct hyp_exit *ret_exit, hyp_error *err)
{
	for (;;) {
		int r = take_frames(g, ret_exit, err);
		if (r != 0)
			return r;
		hyp_error ignored = {0};
		if (!g->send_broken && hyp_chan_flush(&g->chan, &ignored) < 0)
			g->send_broken = true;
		if (g->send_broken) /* nothing more goes out */
			hyp_buf_consume(&g->chan.out, hyp_buf_pending(&g->chan.out));
		bool in = g->stdin_open && !g->send_broken && g->flow.send > 0 &&
		          hyp_chan_can_queue(&g->chan);
		struct pollfd p[3] = {
		    {g->chan.fd, (short)(POLLIN | (hyp_chan_has_output(&g->chan) ? POLLOUT : 0)),
		     0},
		    {g->sfd, POLLIN, 0},
		    {in ? STDIN_FILENO : -1, POLLIN, 0}};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return hyp_fail_errno(err, "poll");
		}
		if (p[1].revents && (r = take_signals(g, err)) < 0)
			return r;
		if (p[0].revents && (r = hyp_chan_fill(&g->chan, err)) < 0)
			return r;
		if (p[2].revents && (r = read_stdin(g, err)) < 0)
			return r;
	}
}

int agent_guestcmd_main(int argc, char **argv)
{
	const char *slash = strrchr(argv[0], '/');
	struct guestcmd g = {.name = slash ? slash + 1 : argv[0],
	                     .stdin_open = true,
	                     .tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)};
	struct hyp_exit e = {.code = 1};
	hyp_error err = {0};
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	hyp_flow_init(&g.flow);
	int fd = connect_session(g.name, &err);
	if (fd >= 0 && (g.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		fd = hyp_fail_errno(&err, "signalfd");
	hyp_chan_init(&g.chan, fd);
	int r = fd;
	if (r >= 0)
		r = send_request(&g, argc, argv, &err);
	if (r >= 0 && g.tty)
		r = term_raw(&err);
	if (r >= 0)
		r = loop(&g, &e, &err);
	term_restore();
	if (r < 0)
		fprintf(stderr, "%s: %s\n", g.name, err.msg);
	hyp_chan_free(&g.chan);
	if (r < 0)
		return 1;
	finish(&e);
}

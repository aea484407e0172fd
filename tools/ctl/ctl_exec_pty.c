/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The job user's terminal. Handing the admin's terminal to a process of the
 * job user would let it read root's input or push keystrokes into root's
 * shell (TIOCSTI): where fds 0-2 are terminals, the child gets the slave of
 * a new pty instead, as its controlling terminal in a session of its own,
 * and root copies bytes, uninterpreted, between the admin's terminal and the
 * pty's master (as script(1) and ssh -t do). The admin's terminal is raw
 * meanwhile, so that line editing and ^C happen once, on the pty.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_exec.h"
#include "hyp_cleanup.h"
#include "hyp_pty.h"

#define CHUNK 4096

static int open_pty(struct ctl_exec_term *t, int like, hyp_error *err)
{
	struct termios tio;
	struct winsize ws = {0};
	ioctl(like, TIOCGWINSZ, &ws);
	int r = hyp_pty_open(ws.ws_row, ws.ws_col, &t->master, &t->slave, err);
	/* the admin's settings, as a login would start */
	if (r == 0 && tcgetattr(like, &tio) == 0)
		tcsetattr(t->slave, TCSANOW, &tio);
	return r;
}

int ctl_exec_term_open(struct ctl_exec_term *t, hyp_error *err)
{
	int like = -1;
	*t = (struct ctl_exec_term){.master = -1, .slave = -1, .out_fd = STDIN_FILENO};
	for (int fd = 2; fd >= 0; fd--) {
		t->tty[fd] = isatty(fd);
		like = t->tty[fd] ? fd : like;
		if (t->tty[fd] && fd > 0)
			t->out_fd = fd; /* fd 1 before fd 2 */
	}
	if (like < 0)
		return 0;
	int r = open_pty(t, like, err);
	if (r < 0 || !t->tty[0])
		return r;
	struct termios raw;
	if (tcgetattr(STDIN_FILENO, &t->saved) < 0)
		return hyp_fail_errno(err, "reading the terminal's settings");
	raw = t->saved;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) < 0)
		return hyp_fail_errno(err, "switching the terminal to raw mode");
	t->raw = true;
	return 0;
}

void ctl_exec_term_close(struct ctl_exec_term *t)
{
	if (t->raw)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &t->saved);
	t->raw = false;
	hyp_closep(&t->slave);
	hyp_closep(&t->master);
	t->slave = t->master = -1;
}

/* The relay's state: input from the admin not yet taken by the pty. */
struct relay {
	struct ctl_exec_term *t;
	pid_t pid;
	bool exited, in_open;
	int wstatus;
	char in[CHUNK];
	size_t in_len, in_off;
};

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* the admin's terminal is gone: the output has nowhere to go */
		p += w;
		n -= (size_t)w;
	}
}

/* Copy what the pty has for the admin; false once it is closed. */
static bool from_pty(struct relay *rl)
{
	char buf[CHUNK];
	for (;;) {
		ssize_t n = read(rl->t->master, buf, sizeof(buf));
		if (n > 0)
			write_all(rl->t->out_fd, buf, (size_t)n);
		else if (n < 0 && errno == EINTR)
			continue;
		else
			return n < 0 && errno == EAGAIN; /* EIO: no slave left */
	}
}

static void to_pty(struct relay *rl, bool readable)
{
	if (readable && rl->in_len == 0) {
		ssize_t n = read(STDIN_FILENO, rl->in, sizeof(rl->in));
		if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN)))
			rl->in_open = false; /* the admin's terminal hung up */
		rl->in_len = n > 0 ? (size_t)n : 0;
		rl->in_off = 0;
	}
	if (rl->in_len == 0)
		return;
	ssize_t w = write(rl->t->master, rl->in + rl->in_off, rl->in_len - rl->in_off);
	if (w > 0)
		rl->in_off += (size_t)w;
	if (w < 0 && errno != EAGAIN && errno != EINTR)
		rl->in_off = rl->in_len; /* the pty is closing: nobody reads it */
	if (rl->in_off == rl->in_len)
		rl->in_len = 0;
}

static void on_signals(struct relay *rl, int sigfd)
{
	struct signalfd_siginfo si;
	while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int signo = (int)si.ssi_signo;
		struct winsize ws;
		if (signo == SIGCHLD && !rl->exited && waitpid(rl->pid, &rl->wstatus, WNOHANG) > 0)
			rl->exited = true;
		else if (signo == SIGWINCH && rl->t->master >= 0 &&
		         ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
			ioctl(rl->t->master, TIOCSWINSZ, &ws); /* the child gets SIGWINCH */
		else if (signo != SIGCHLD && signo != SIGWINCH)
			kill(rl->pid, signo); /* hyperion-exec forwards it to the guest */
	}
}

static void poll_once(struct relay *rl, int sigfd)
{
	int master = rl->t->master;
	bool stdin_on = master >= 0 && rl->t->tty[0] && rl->in_open && rl->in_len == 0;
	struct pollfd p[3] = {
	    {stdin_on ? STDIN_FILENO : -1, POLLIN, 0},
	    {master, (short)(POLLIN | (rl->in_len ? POLLOUT : 0)), 0},
	    {sigfd, POLLIN, 0},
	};
	if (poll(p, 3, -1) < 0)
		return; /* EINTR: the signals are on sigfd */
	if (p[2].revents)
		on_signals(rl, sigfd);
	if (p[1].revents && !from_pty(rl))
		rl->t->master = -1; /* drained and closed on our side: see below */
	if (rl->t->master >= 0 && (p[0].revents || (p[1].revents & POLLOUT)))
		to_pty(rl, p[0].revents != 0);
	if (rl->t->master < 0 && master >= 0)
		close(master);
}

int ctl_exec_relay(struct ctl_exec_term *t, pid_t pid, int sigfd, int *ret_wstatus, hyp_error *err)
{
	struct relay rl = {.t = t, .pid = pid, .in_open = true};
	while (!rl.exited)
		poll_once(&rl, sigfd);
	/* what it wrote last; not waiting for EIO, which a process it left
	 * holding the slave would put off for ever */
	if (t->master >= 0)
		from_pty(&rl);
	*ret_wstatus = rl.wstatus;
	return 0;
}

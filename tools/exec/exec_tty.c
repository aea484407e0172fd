/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The local terminal in tty mode: raw (the guest's pty does the line
 * discipline, ^C included), and always restored: at exit(), before dying of a
 * relayed signal (exec_signals.c), and from the handlers of the signals that
 * would kill this process by surprise (a crash).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "exec.h"

/* The one piece of state outside the parsed options: what to restore. */
static struct {
	volatile sig_atomic_t saved;
	int fd;
	struct termios termios;
} tty_state = {.fd = -1};

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

/* Async-signal-safe. */
void exec_tty_restore(void)
{
	if (!tty_state.saved)
		return;
	tty_state.saved = 0;
	tcsetattr(tty_state.fd, TCSADRAIN, &tty_state.termios);
}

static void on_crash(int signo)
{
	exec_tty_restore();
	/* SA_RESETHAND made this the default again: die of it */
	raise(signo);
}

static void catch_crashes(void)
{
	struct sigaction sa = {.sa_handler = on_crash, .sa_flags = SA_RESETHAND | SA_NODEFER};
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		sigaction(crash_signals[i], &sa, NULL);
}

int exec_tty_raw(int fd, hyp_error *err)
{
	struct termios raw;
	if (!isatty(fd))
		return 0; /* -t with a file or pipe for stdin: nothing to switch */
	if (tcgetattr(fd, &tty_state.termios) < 0)
		return hyp_fail_errno(err, "reading the terminal's settings");
	tty_state.fd = fd;
	if (atexit(exec_tty_restore) != 0) /* called once per process */
		return hyp_fail(err, ENOMEM, "atexit");
	catch_crashes();
	raw = tty_state.termios;
	cfmakeraw(&raw);
	tty_state.saved = 1;
	if (tcsetattr(fd, TCSADRAIN, &raw) < 0) {
		tty_state.saved = 0;
		return hyp_fail_errno(err, "switching the terminal to raw mode");
	}
	return 0;
}

void exec_tty_winsize(uint16_t *rows, uint16_t *cols)
{
	struct winsize ws = {0};
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
		ws = (struct winsize){0};
	*rows = ws.ws_row;
	*cols = ws.ws_col;
}

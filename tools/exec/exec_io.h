/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperion-exec's local side of a session: fds 1-2, the terminal, signals. */
#ifndef HYP_EXEC_IO_H
#define HYP_EXEC_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hyp_proto.h"

/* exec_out.c: the command's stdout and stderr on their way to fds 1 and 2. */
enum exec_out_kind {
	EXEC_OUT_FILE,     /* regular file, /dev/null...: write() does not wait for long */
	EXEC_OUT_TTY,      /* at most PIPE_BUF bytes per wake-up */
	EXEC_OUT_PIPE,     /* pwritev2(RWF_NOWAIT) */
	EXEC_OUT_SOCKET,   /* send(MSG_DONTWAIT) */
	EXEC_OUT_NONBLOCK, /* a pipe on a kernel without RWF_NOWAIT for pipes: O_NONBLOCK */
};
struct exec_out {
	int fd;
	enum exec_out_kind kind;
	int saved_flags; /* to restore at the end; -1: untouched */
	bool broken;     /* the reader has gone: data is dropped */
	struct hyp_buf buf;
};
void exec_outs_init(struct exec_out out[2]);
void exec_outs_restore(struct exec_out out[2]);
bool exec_out_full(const struct exec_out *o);
bool exec_out_pending(const struct exec_out *o);
int exec_out_push(struct exec_out *o, const void *data, size_t len, hyp_error *err);
int exec_out_write(struct exec_out *o, hyp_error *err);
int exec_outs_drain(struct exec_out out[2], hyp_error *err);

/* exec_tty.c */
int exec_tty_raw(int fd, hyp_error *err);
void exec_tty_restore(void); /* async-signal-safe; no-op unless raw */
void exec_tty_winsize(uint16_t *rows, uint16_t *cols);

/* exec_signals.c */
int exec_signals_open(bool tty, hyp_error *err); /* blocks them; returns a signalfd */
int exec_signals_read(int fd);                   /* a signal number, or 0 */
/* Whether `signo`'s default action ends a process (not: ignore, stop). */
bool exec_signal_kills(int signo);
/* Die of `signo`, or exit with 128 + signo if it would not end the process. */
__attribute__((noreturn)) void exec_die_of(int signo);

#endif

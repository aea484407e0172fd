/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pseudo-terminals shared by every side that runs a command on one: the
 * agent (EXEC in TTY mode), hyperion-exec (a guest's REQUEST in TTY mode)
 * and hyperionctl exec.
 */
#ifndef HYP_PTY_H
#define HYP_PTY_H

#include <stdint.h>

#include "hyp_error.h"

/*
 * A new pty: its master non-blocking, its slave already open (so that the
 * master never reads EIO before the child has it), both O_CLOEXEC, the
 * window size set when rows and cols are both nonzero.
 */
int hyp_pty_open(uint16_t rows, uint16_t cols, int *ret_master, int *ret_slave, hyp_error *err);
/* Set a pty's window size (nothing when rows or cols is 0); its
 * foreground process group gets SIGWINCH from the kernel. */
void hyp_pty_resize(int fd, uint16_t rows, uint16_t cols);
/* In the child, after setsid(): the slave becomes the controlling
 * terminal and fds 0-2. Async-signal-safe. */
int hyp_pty_take(int slave);

#endif

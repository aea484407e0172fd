/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The last lines of a guest's serial console log, for error messages. The
 * bytes come from the guest: they are copied, never interpreted, and every
 * byte that is not printable ASCII (escape sequences included) is shown as
 * '?' so that a guest cannot write to the reader's terminal.
 */
#ifndef HYP_CONSOLE_H
#define HYP_CONSOLE_H

#include <stddef.h>

#include "hyp_error.h"

/* At most `max_lines` last lines of at most the last 16 KiB (malloc'd). */
int hyp_console_tail(const char *path, unsigned max_lines, char **ret_text, hyp_error *err);

#endif

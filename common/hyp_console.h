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
/* The last `max_bytes`, made printable the same way (malloc'd). */
int hyp_console_tail_bytes(const char *path, size_t max_bytes, char **ret_text, hyp_error *err);

/* Where the console logs of guests that failed to boot are kept. */
struct hyp_console_keep {
	const char *dir;       /* root 0750, created if missing */
	unsigned max_kib;      /* the last KiB of each log */
	unsigned max_age_days; /* older logs are removed */
	unsigned max_files;    /* beyond that, the oldest are removed */
};

/* Keep the console log as DIR/NAME-TIME.console.log (root 0640), pruning
 * the directory first; its path in *ret_path (malloc'd). */
int hyp_console_keep(const char *console_log, const struct hyp_console_keep *k, const char *name,
                     char **ret_path, hyp_error *err);

#endif

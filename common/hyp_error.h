/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one error convention of libhyperion and the programs built on it.
 *
 * A function that can fail returns a negative errno-style value (or NULL)
 * and fills the hyp_error passed as its last parameter. The helpers that set
 * an error return that negative value, so failing is one line:
 *
 *	if (fd < 0)
 *		return hyp_fail_errno(err, "opening '%s'", path);
 *
 * Callers add context on the way up with hyp_error_prefix(). Nothing in the
 * library prints: the program or adapter at the edge prints err->msg once.
 */
#ifndef HYP_ERROR_H
#define HYP_ERROR_H

#include <stddef.h>

#define HYP_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

#define HYP_ERROR_MSG_SIZE 1024

typedef struct hyp_error {
	int code; /* positive errno value; 0 when no error is recorded */
	char msg[HYP_ERROR_MSG_SIZE];
} hyp_error;

/* Record "MESSAGE" with errno-style code (EIO if code is 0); returns -code. */
int hyp_fail(hyp_error *err, int code, const char *fmt, ...) HYP_PRINTF(3, 4);

/* Record "MESSAGE: strerror(errno)" with the current errno; returns -errno. */
int hyp_fail_errno(hyp_error *err, const char *fmt, ...) HYP_PRINTF(2, 3);

/* Prepend "CONTEXT: " to the recorded message; returns -err->code. */
int hyp_error_prefix(hyp_error *err, const char *fmt, ...) HYP_PRINTF(2, 3);

void hyp_error_clear(hyp_error *err);

#endif

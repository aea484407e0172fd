/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hyp_error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int set_message(hyp_error *err, int code, const char *suffix, const char *fmt, va_list ap)
    HYP_PRINTF(4, 0);

static int set_message(hyp_error *err, int code, const char *suffix, const char *fmt, va_list ap)
{
	if (code <= 0)
		code = EIO;
	if (err) {
		int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		if (suffix && n >= 0 && (size_t)n < sizeof(err->msg))
			snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", suffix);
		err->code = code;
	}
	return -code;
}

int hyp_fail(hyp_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = set_message(err, code, NULL, fmt, ap);
	va_end(ap);
	return r;
}

int hyp_fail_errno(hyp_error *err, const char *fmt, ...)
{
	int code = errno;
	va_list ap;
	va_start(ap, fmt);
	int r = set_message(err, code, strerror(code ? code : EIO), fmt, ap);
	va_end(ap);
	errno = code;
	return r;
}

int hyp_error_prefix(hyp_error *err, const char *fmt, ...)
{
	if (!err)
		return -EIO;
	if (err->code <= 0)
		err->code = EIO;

	char prefix[HYP_ERROR_MSG_SIZE];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);

	char old[HYP_ERROR_MSG_SIZE];
	memcpy(old, err->msg, sizeof(old));
	if (snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old) >= (int)sizeof(err->msg))
		err->msg[sizeof(err->msg) - 1] = '\0'; /* truncated on purpose */
	return -err->code;
}

void hyp_error_clear(hyp_error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The error object: codes, messages, context prefixes and truncation. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "hyp_error.h"

Test(error, fail_records_code_and_message)
{
	hyp_error err = {0};
	cr_assert_eq(hyp_fail(&err, ENOENT, "image '%s': not in the catalog", "rocky9"), -ENOENT);
	cr_assert_eq(err.code, ENOENT);
	cr_assert_str_eq(err.msg, "image 'rocky9': not in the catalog");
}

Test(error, fail_without_a_code_is_eio)
{
	hyp_error err = {0};
	cr_assert_eq(hyp_fail(&err, 0, "something"), -EIO);
	cr_assert_eq(err.code, EIO);
	cr_assert_eq(hyp_fail(&err, -3, "negative"), -EIO);
}

Test(error, fail_accepts_no_error_object)
{
	cr_assert_eq(hyp_fail(NULL, EPERM, "nobody listens"), -EPERM);
	errno = EACCES;
	cr_assert_eq(hyp_fail_errno(NULL, "nobody listens"), -EACCES);
	cr_assert_eq(hyp_error_prefix(NULL, "context"), -EIO);
}

Test(error, fail_errno_appends_strerror_and_keeps_errno)
{
	hyp_error err = {0};
	errno = ENOENT;
	cr_assert_eq(hyp_fail_errno(&err, "opening '%s'", "/etc/x"), -ENOENT);
	cr_assert_eq(errno, ENOENT);
	cr_assert_eq(err.code, ENOENT);
	cr_assert_str_eq(err.msg, "opening '/etc/x': No such file or directory");
}

Test(error, fail_errno_without_errno_is_eio)
{
	hyp_error err = {0};
	errno = 0;
	cr_assert_eq(hyp_fail_errno(&err, "reading"), -EIO);
	cr_assert_eq(err.code, EIO);
	cr_assert_str_eq(err.msg, "reading: Input/output error");
}

Test(error, prefix_adds_context_on_the_way_up)
{
	hyp_error err = {0};
	hyp_fail(&err, EINVAL, "bad value");
	cr_assert_eq(hyp_error_prefix(&err, "config line %d", 12), -EINVAL);
	cr_assert_eq(hyp_error_prefix(&err, "starting VM for job %d", 42), -EINVAL);
	cr_assert_str_eq(err.msg, "starting VM for job 42: config line 12: bad value");
	cr_assert_eq(err.code, EINVAL);
}

Test(error, prefix_on_a_clear_error_is_eio)
{
	hyp_error err = {0};
	cr_assert_eq(hyp_error_prefix(&err, "context"), -EIO);
	cr_assert_eq(err.code, EIO);
	cr_assert_str_eq(err.msg, "context: ");
}

Test(error, clear)
{
	hyp_error err = {0};
	hyp_fail(&err, EBUSY, "busy");
	hyp_error_clear(&err);
	cr_assert_eq(err.code, 0);
	cr_assert_str_eq(err.msg, "");
	hyp_error_clear(NULL);
}

static char *long_text(size_t n, char c)
{
	static char buf[3 * HYP_ERROR_MSG_SIZE];
	cr_assert_lt(n, sizeof(buf));
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

Test(error, long_messages_are_truncated)
{
	hyp_error err = {0};
	hyp_fail(&err, E2BIG, "%s", long_text(2 * HYP_ERROR_MSG_SIZE, 'a'));
	cr_assert_eq(strlen(err.msg), HYP_ERROR_MSG_SIZE - 1);
	cr_assert_eq(err.code, E2BIG);

	errno = ENOENT; /* no room left for the strerror suffix */
	hyp_fail_errno(&err, "%s", long_text(HYP_ERROR_MSG_SIZE + 10, 'b'));
	cr_assert_eq(strlen(err.msg), HYP_ERROR_MSG_SIZE - 1);
	cr_assert_eq(err.msg[HYP_ERROR_MSG_SIZE - 2], 'b');

	errno = ENOENT; /* the suffix is cut short */
	hyp_fail_errno(&err, "%s", long_text(HYP_ERROR_MSG_SIZE - 10, 'c'));
	cr_assert_eq(strlen(err.msg), HYP_ERROR_MSG_SIZE - 1);
	cr_assert_eq(strncmp(err.msg + HYP_ERROR_MSG_SIZE - 10, ": No such", 9), 0, "%s",
	             err.msg + HYP_ERROR_MSG_SIZE - 12);
}

Test(error, long_prefixes_are_truncated)
{
	hyp_error err = {0};
	hyp_fail(&err, EIO, "%s", long_text(HYP_ERROR_MSG_SIZE - 1, 'm'));
	hyp_error_prefix(&err, "ctx");
	cr_assert_eq(strlen(err.msg), HYP_ERROR_MSG_SIZE - 1);
	cr_assert_eq(strncmp(err.msg, "ctx: mmm", 8), 0);

	hyp_error_prefix(&err, "%s", long_text(2 * HYP_ERROR_MSG_SIZE, 'p'));
	cr_assert_eq(strlen(err.msg), HYP_ERROR_MSG_SIZE - 1);
	cr_assert_eq(err.msg[HYP_ERROR_MSG_SIZE - 2], 'p', "the prefix fills it all");
	cr_assert_eq(err.code, EIO);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Share paths: normalising, the allowlist, a job's choice. */
#include <criterion/criterion.h>
#include <string.h>

#include "hyp_cleanup.h"
#include "hyp_shares.h"

static void norm_ok(const char *in, const char *want)
{
	_cleanup_free_ char *out = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_share_path_normalize("t", in, strlen(in), &out, &err), 0, "%s", err.msg);
	cr_expect_str_eq(out, want);
}

Test(shares, normalize)
{
	norm_ok("/home", "/home");
	norm_ok("//home//alice/./run 1/", "/home/alice/run 1");
	norm_ok("/a/.../b", "/a/.../b");
	_cleanup_free_ char *out = NULL;
	hyp_error err = {0};
	cr_expect_lt(hyp_share_path_normalize("t", "/a/..", 5, &out, &err), 0);
	cr_expect_lt(hyp_share_path_normalize("t", "a", 1, &out, &err), 0);
	cr_expect_lt(hyp_share_path_normalize("t", "/./", 3, &out, &err), 0);
	cr_expect_lt(hyp_share_path_normalize("t", "", 0, &out, &err), 0);
	cr_expect_null(out);
}

Test(shares, within)
{
	cr_expect(hyp_share_path_within("/home", "/home"));
	cr_expect(hyp_share_path_within("/home/a", "/home"));
	cr_expect(!hyp_share_path_within("/homework", "/home"));
	cr_expect(!hyp_share_path_within("/", "/home"));
}

Test(shares, select)
{
	char *allowed[] = {"/home", "/scratch", NULL};
	_cleanup_strv_ char **paths = NULL, **roots = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_shares_select(allowed, NULL, &paths, &roots, &err), 0);
	cr_expect(paths[0] && paths[1] && !paths[2] && !strcmp(paths[1], "/scratch"));
	hyp_strv_free(paths), hyp_strv_free(roots);
	cr_assert_eq(hyp_shares_select(allowed, "none", &paths, &roots, &err), 0);
	cr_expect_null(paths[0]);
	hyp_strv_free(paths), hyp_strv_free(roots);
	cr_assert_eq(
	    hyp_shares_select(allowed, "/scratch/x,/scratch/x/,/home", &paths, &roots, &err), 0,
	    "%s", err.msg);
	cr_expect_str_eq(paths[0], "/scratch/x");
	cr_expect_str_eq(roots[0], "/scratch");
	cr_expect_str_eq(paths[1], "/home", "a repeated path is shared once");
	cr_expect_null(paths[2]);
	hyp_strv_free(paths), hyp_strv_free(roots);
	paths = roots = NULL;
	cr_expect_lt(hyp_shares_select(allowed, "/etc", &paths, &roots, &err), 0);
	cr_expect_str_eq(err.msg,
	                 "share '/etc' is not allowed on this site (allowed: /home /scratch)");
	cr_expect_lt(hyp_shares_select(allowed, "", &paths, &roots, &err), 0);
	cr_expect_null(paths);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The path walk of hyp_trust_check_path: odd spellings, symlink chains and
 * loops, errors. Owner and mode rules are tested through the catalog. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyp_trust.h"

static char dir[64];

static void setup(void)
{
	umask(022);
	snprintf(dir, sizeof(dir), "/tmp/hyp-test-trust.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(trust, .init = setup, .fini = teardown);

/* Check dir/rel, trusting the test's own files. */
static int check(const char *rel, hyp_error *err)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return hyp_trust_check_path(path, geteuid(), err);
}

static void make(const char *rel, mode_t mode, const char *link_to)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (link_to)
		cr_assert_eq(symlink(link_to, path), 0, "%s", path);
	else if (S_ISDIR(mode))
		cr_assert_eq(mkdir(path, mode & 07777), 0, "%s", path);
	else
		cr_assert_eq(close(creat(path, mode & 07777)), 0, "%s", path);
	if (!link_to)
		cr_assert_eq(chmod(path, mode & 07777), 0);
}

Test(trust, odd_spellings_of_a_good_path)
{
	make("d", S_IFDIR | 0755, NULL);
	make("d/f", 0644, NULL);
	hyp_error err = {0};
	cr_expect_eq(check("d/f", &err), 0, "%s", err.msg);
	cr_expect_eq(check("/d///f", &err), 0, "%s", err.msg);
	cr_expect_eq(check("./d/../d/f", &err), 0, "%s", err.msg);
	cr_expect_eq(check("d/", &err), 0, "%s", err.msg);
	cr_expect_eq(hyp_trust_check_path("/", 0, &err), 0, "%s", err.msg);
}

/* A chain of links: each target's directories count, not the link's. */
Test(trust, symlink_chains)
{
	make("open", S_IFDIR | 0777, NULL);
	make("open/f", 0644, NULL);
	make("good", S_IFDIR | 0755, NULL);
	make("good/f", 0644, NULL);
	make("a", 0, "b");
	make("b", 0, "open/f");
	make("c", 0, "good/../good/f");
	hyp_error err = {0};
	cr_expect_eq(check("a", &err), -EPERM);
	char want[256];
	snprintf(want, sizeof(want), "directory '%s/open' is world-writable", dir);
	cr_expect(strstr(err.msg, want), "%s", err.msg);
	cr_expect_eq(check("c", &err), 0, "%s", err.msg);
	/* A link to a directory in the middle of the path. */
	make("dl", 0, "good");
	cr_expect_eq(check("dl/f", &err), 0, "%s", err.msg);
	make("ol", 0, "open");
	cr_expect_eq(check("ol/f", &err), -EPERM);
}

Test(trust, symlink_loop_ends)
{
	make("x", 0, "y");
	make("y", 0, "x");
	hyp_error err = {0};
	cr_expect_eq(check("x", &err), -ELOOP);
	cr_expect(strstr(err.msg, "too many levels of symbolic links"), "%s", err.msg);
}

Test(trust, errors)
{
	hyp_error err = {0};
	cr_expect_eq(hyp_trust_check_path("relative/path", 0, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "'relative/path' is not an absolute path");
	cr_expect_eq(check("missing/f", &err), -ENOENT);
	char want[256];
	snprintf(want, sizeof(want), "'%s/missing': No such file or directory", dir);
	cr_expect_str_eq(err.msg, want);
}

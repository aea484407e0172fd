/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Keeping the console of a guest that failed to boot. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_console.h"

static char dir[64], keep[128], log_path[128];

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/hyp-test-console.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(keep, sizeof(keep), "%s/kept", dir);
	snprintf(log_path, sizeof(log_path), "%s/console.log", dir);
	const char text[] = "boot\r\n\x1b[31mKernel panic\x1b[0m\r\n";
	write_file(log_path, text, sizeof(text) - 1);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(console, .init = setup, .fini = teardown);

static size_t count_kept(void)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "ls '%s' | grep -c 'console.log$'", keep);
	FILE *p = popen(cmd, "r");
	unsigned n = 0;
	cr_assert_eq(fscanf(p, "%u", &n), 1);
	pclose(p);
	return n;
}

Test(console, kept_printable_and_bounded)
{
	struct hyp_console_keep k = {.dir = keep, .max_kib = 1, .max_age_days = 7, .max_files = 10};
	hyp_error err = {0};
	_cleanup_free_ char *path = NULL;
	cr_assert_eq(hyp_console_keep(log_path, &k, "n1-42", &path, &err), 0, "%s", err.msg);
	cr_expect(strstr(path, "/kept/n1-42-") && strstr(path, ".console.log"), "%s", path);
	_cleanup_free_ char *text = NULL;
	cr_assert_eq(hyp_console_tail_bytes(path, 4096, &text, &err), 0, "%s", err.msg);
	cr_expect_str_eq(text, "boot\n?[31mKernel panic?[0m\n");
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0640);
	cr_assert_eq(stat(keep, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0750);

	/* Only the last max_kib of a large log. */
	char *big = malloc(8192);
	memset(big, 'x', 8192);
	write_file(log_path, big, 8192);
	free(big);
	_cleanup_free_ char *path2 = NULL;
	cr_assert_eq(hyp_console_keep(log_path, &k, "n1-43", &path2, &err), 0, "%s", err.msg);
	cr_assert_eq(stat(path2, &st), 0);
	cr_expect_eq(st.st_size, 1024);
}

Test(console, pruned_by_age_and_count)
{
	struct hyp_console_keep k = {.dir = keep, .max_kib = 1, .max_age_days = 7, .max_files = 3};
	hyp_error err = {0};
	for (int i = 0; i < 5; i++) {
		char name[16];
		snprintf(name, sizeof(name), "n1-%d", i);
		_cleanup_free_ char *path = NULL;
		cr_assert_eq(hyp_console_keep(log_path, &k, name, &path, &err), 0, "%s", err.msg);
		/* older first: i days ago would be pruned by age at i > 7 */
		struct timespec ts[2] = {{.tv_sec = time(NULL) - (5 - i) * 60},
		                         {.tv_sec = time(NULL) - (5 - i) * 60}};
		utimensat(AT_FDCWD, path, ts, 0);
	}
	cr_expect_eq(count_kept(), 3, "at most max_files");
	/* one a month old goes at the next keep */
	char old[256];
	snprintf(old, sizeof(old), "%s/n1-old-1.console.log", keep);
	write_file(old, "x", 1);
	struct timespec ts[2] = {{.tv_sec = time(NULL) - 30 * 86400},
	                         {.tv_sec = time(NULL) - 30 * 86400}};
	utimensat(AT_FDCWD, old, ts, 0);
	_cleanup_free_ char *path = NULL;
	cr_assert_eq(hyp_console_keep(log_path, &k, "n1-9", &path, &err), 0, "%s", err.msg);
	cr_expect_neq(access(old, F_OK), 0, "older than max_age_days: removed");
	cr_expect_eq(count_kept(), 3);
}

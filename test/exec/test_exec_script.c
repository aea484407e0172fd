/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --script: a host file becomes an argv that recreates it and runs it
 * (exec_script.c). The argv is run here, with the host's /bin/sh, as the
 * agent would run it in the guest. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"
#include "hyp_cleanup.h"

static char dir[] = "/tmp/test_exec_script.XXXXXX";

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	setenv("TMPDIR", dir, 1);
}

static void teardown(void)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(exec_script, .init = setup, .fini = teardown);

static char *write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	char *path;
	cr_assert_geq(asprintf(&path, "%s/%s", dir, name), 0);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Run argv (what the agent would execve), return its stdout and status. */
static char *run(char **argv, int *ret_status)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execv(argv[0], argv);
		_exit(99);
	}
	close(p[1]);
	size_t cap = 1 << 20, len = 0;
	char *out = malloc(cap + 1);
	ssize_t n;
	while ((n = read(p[0], out + len, cap - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	cr_assert_eq(waitpid(pid, ret_status, 0), pid);
	return out;
}

static void argv_of(const char *path, char **args, int nargs, char ***ret_argv, uint32_t *ret_argc)
{
	hyp_error err = {0};
	cr_assert_eq(exec_script_argv(path, args, nargs, ret_argv, ret_argc, &err), 0, "%s",
	             err.msg);
	cr_assert_null((*ret_argv)[*ret_argc]);
}

Test(exec_script, the_script_runs_with_its_arguments_and_interpreter)
{
	static const char text[] = "#!/bin/sh\n"
	                           "echo \"name=$0\"\n"
	                           "printf '[%s]' \"$@\"; echo\n"
	                           "exit 3\n";
	char *path = write_file("job.sh", text, sizeof(text) - 1, 0600);
	char *args[] = {"one", "two words", ""};
	char **argv;
	uint32_t argc;
	argv_of(path, args, 3, &argv, &argc);
	cr_expect_str_eq(argv[0], "/bin/sh");
	cr_expect_str_eq(argv[1], "-c");
	cr_expect_str_eq(argv[3], "job.sh", "$0 of the loader: the script's name");
	cr_expect_str_eq(argv[4], "1", "one piece");
	cr_expect_str_eq(argv[5], text);
	cr_assert_eq(argc, 9);
	int status;
	char *out = run(argv, &status);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 3, "status %#x", status);
	cr_expect(strstr(out, "name=") && strstr(out, "/hyperion-script."), "%s", out);
	cr_expect(strstr(out, "[one][two words][]\n"), "%s", out);
	free(out);
	hyp_strv_free(argv);
	free(path);
}

Test(exec_script, another_interpreter)
{
	static const char text[] = "#!/usr/bin/env -S sh -e\nfalse\necho not reached\n";
	char *path = write_file("e.sh", text, sizeof(text) - 1, 0600);
	char **argv;
	uint32_t argc;
	argv_of(path, NULL, 0, &argv, &argc);
	int status;
	char *out = run(argv, &status);
	cr_expect_str_eq(out, "", "the #! line's -e applies");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %#x", status);
	free(out);
	hyp_strv_free(argv);
	free(path);
}

Test(exec_script, large_script_in_pieces_comes_out_byte_for_byte)
{
	/* a script that prints its own body after the first line: 200 KiB of it */
	size_t body = 200 * 1024;
	static const char head[] = "#!/bin/sh\ntail -n +3 \"$0\"; exit 0\n";
	char *text = malloc(sizeof(head) - 1 + body);
	memcpy(text, head, sizeof(head) - 1);
	for (size_t i = 0; i < body; i++)
		text[sizeof(head) - 1 + i] = (i % 64 == 63) ? '\n' : (char)('!' + (i * 7) % 90);
	char *path = write_file("big.sh", text, sizeof(head) - 1 + body, 0600);
	char **argv;
	uint32_t argc;
	argv_of(path, NULL, 0, &argv, &argc);
	cr_expect_str_eq(argv[4], "4", "200 KiB in 64 KiB pieces");
	cr_expect_eq(argc, 9);
	int status;
	char *out = run(argv, &status);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	cr_assert_eq(strlen(out), body);
	cr_expect_eq(memcmp(out, text + sizeof(head) - 1, body), 0);
	free(out);
	free(text);
	hyp_strv_free(argv);
	free(path);
}

Test(exec_script, size_limit)
{
	size_t max = HYP_FRAME_MAX_PAYLOAD;
	char *text = malloc(max + 1);
	memset(text, '#', max + 1);
	text[0] = '\n';
	char *fits = write_file("fits.sh", text, max, 0600);
	char *over = write_file("over.sh", text, max + 1, 0600);
	char **argv;
	uint32_t argc;
	hyp_error err = {0};
	argv_of(fits, NULL, 0, &argv, &argc);
	hyp_strv_free(argv);
	cr_expect_eq(exec_script_argv(over, NULL, 0, &argv, &argc, &err), -EFBIG);
	char want[512];
	snprintf(want, sizeof(want),
	         "batch script '%s' is larger than the 256 KiB a request carries", over);
	cr_expect_str_eq(err.msg, want);
	free(text);
	free(fits);
	free(over);
}

Test(exec_script, nul_bytes_are_refused)
{
	static const char text[] = "#!/bin/sh\necho a\0b\n";
	char *path = write_file("nul.sh", text, sizeof(text) - 1, 0600);
	char **argv = NULL;
	uint32_t argc;
	hyp_error err = {0};
	cr_expect_eq(exec_script_argv(path, NULL, 0, &argv, &argc, &err), -EINVAL);
	char want[512];
	snprintf(want, sizeof(want), "batch script '%s' contains NUL bytes", path);
	cr_expect_str_eq(err.msg, want);
	cr_expect_null(argv);
	free(path);
}

Test(exec_script, unreadable_and_missing)
{
	char **argv;
	uint32_t argc;
	hyp_error err = {0};
	cr_expect_eq(exec_script_argv("/nonexistent/x.sh", NULL, 0, &argv, &argc, &err), -ENOENT);
	cr_expect_str_eq(err.msg, "batch script '/nonexistent/x.sh': No such file or directory");
	cr_expect_eq(exec_script_argv(dir, NULL, 0, &argv, &argc, &err), -EISDIR);
}

Test(exec_script, empty_script_runs)
{
	char *path = write_file("empty.sh", "", 0, 0600);
	char **argv;
	uint32_t argc;
	argv_of(path, NULL, 0, &argv, &argc);
	cr_expect_str_eq(argv[4], "0");
	int status;
	char *out = run(argv, &status);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	free(out);
	hyp_strv_free(argv);
	free(path);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Child processes: every test really spawns a program and looks at what it
 * got (environment, fds, identity, signals) from the child's side. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_spawn.h"

#define NOBODY 65534

/* Run argv to completion with stdout into a memory file; its output. */
static int run_output(struct hyp_spawn *sp, char *out, size_t size, hyp_error *err)
{
	_cleanup_close_ int fd = memfd_create("out", MFD_CLOEXEC);
	cr_assert_geq(fd, 0);
	sp->out_fd = fd;
	int r = hyp_spawn_run(sp, err);
	ssize_t n = pread(fd, out, size - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	return r;
}

static void expect_output(struct hyp_spawn *sp, const char *want)
{
	hyp_error err = {0};
	char out[4096];
	cr_assert_eq(run_output(sp, out, sizeof(out), &err), 0, "%s", err.msg);
	cr_assert_str_eq(out, want);
}

Test(spawn, environment_is_exactly_the_one_given)
{
	const char *argv[] = {"/usr/bin/env", NULL};
	const char *envp[] = {"A=1", "B=two words", NULL};
	struct hyp_spawn sp = {.argv = argv, .envp = envp, .err_fd = -1};
	expect_output(&sp, "A=1\nB=two words\n");
}

Test(spawn, default_environment_is_a_minimal_path)
{
	setenv("HYP_TEST_LEAK", "1", 1);
	const char *argv[] = {"/usr/bin/env", NULL};
	struct hyp_spawn sp = {.argv = argv, .err_fd = -1};
	expect_output(&sp, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n");
}

/* The fds of a running child, read from the parent's side (a shell that
 * lists its own fds opens one to do it). */
static void list_fds(pid_t pid, char *out, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	_cleanup_closedir_ DIR *d = opendir(path);
	cr_assert_not_null(d);
	size_t len = 0;
	int fds[64], n = 0;
	for (struct dirent *e; (e = readdir(d)) && n < 64;)
		if (e->d_name[0] != '.')
			fds[n++] = atoi(e->d_name);
	for (int i = 0; i < n; i++) /* readdir order is numeric on /proc, sort anyway */
		for (int j = i + 1; j < n; j++)
			if (fds[j] < fds[i]) {
				int t = fds[i];
				fds[i] = fds[j];
				fds[j] = t;
			}
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		len += snprintf(out + len, size - len, "%s%d", i ? " " : "", fds[i]);
}

Test(spawn, only_stdin_stdout_stderr_are_inherited)
{
	int leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC on purpose */
	cr_assert_geq(leak, 3);
	cr_assert_eq(dup2(leak, 200), 200);
	const char *argv[] = {"/bin/sleep", "600", NULL};
	struct hyp_spawn sp = {.argv = argv}; /* out_fd, err_fd 0: /dev/null, not our stdin */
	hyp_error err = {0};
	_cleanup_pid_ pid_t pid = -1;
	cr_assert_eq(hyp_spawn_start(&sp, &pid, &err), 0, "%s", err.msg);
	char fds[256], link[64], path[64];
	list_fds(pid, fds, sizeof(fds));
	cr_assert_str_eq(fds, "0 1 2");
	for (int fd = 0; fd < 3; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		cr_assert_gt(n, 0);
		link[n] = '\0';
		cr_assert_str_eq(link, "/dev/null", "fd %d", fd);
	}
	close(leak);
	close(200);
}

Test(spawn, stdin_is_dev_null)
{
	const char *argv[] = {"/usr/bin/readlink", "/proc/self/fd/0", NULL};
	struct hyp_spawn sp = {.argv = argv, .err_fd = -1};
	expect_output(&sp, "/dev/null\n");
}

Test(spawn, runs_in_the_root_directory)
{
	const char *argv[] = {"/bin/pwd", NULL};
	struct hyp_spawn sp = {.argv = argv, .err_fd = -1};
	expect_output(&sp, "/\n");
}

Test(spawn, stderr_goes_to_the_given_fd)
{
	_cleanup_close_ int fd = memfd_create("err", MFD_CLOEXEC);
	const char *argv[] = {"/bin/sh", "-c", "echo to-stderr >&2", NULL};
	struct hyp_spawn sp = {.argv = argv, .out_fd = -1, .err_fd = fd};
	hyp_error err = {0};
	pid_t pid;
	int status;
	cr_assert_eq(hyp_spawn_start(&sp, &pid, &err), 0, "%s", err.msg);
	cr_assert_eq(hyp_spawn_wait(&pid, &status, &err), 0, "%s", err.msg);
	cr_assert_eq(pid, -1);
	char buf[64] = {0};
	cr_assert_gt(pread(fd, buf, sizeof(buf) - 1, 0), 0);
	cr_assert_str_eq(buf, "to-stderr\n");
}

Test(spawn, relative_program_is_refused)
{
	const char *argv[] = {"qemu-img", "--version", NULL};
	struct hyp_spawn sp = {.argv = argv, .out_fd = -1, .err_fd = -1};
	hyp_error err = {0};
	pid_t pid = 12345;
	cr_assert_eq(hyp_spawn_start(&sp, &pid, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "starting 'qemu-img': the program must be an absolute path");
	cr_assert_eq(pid, 12345, "ret_pid written on failure");
	cr_assert_eq(hyp_spawn_run(&sp, &err), -EINVAL);
}

Test(spawn, missing_program_says_why)
{
	const char *argv[] = {"/nonexistent/qemu-img", NULL};
	struct hyp_spawn sp = {.argv = argv, .out_fd = -1, .err_fd = -1};
	hyp_error err = {0};
	pid_t pid = 12345;
	cr_assert_eq(hyp_spawn_start(&sp, &pid, &err), -ENOENT);
	cr_assert_str_eq(err.msg,
	                 "cannot execute /nonexistent/qemu-img: No such file or directory");
	cr_assert_eq(pid, 12345);
	cr_assert_eq(hyp_spawn_run(&sp, &err), -ENOENT);
	/* the failed child was reaped */
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1);
	cr_assert_eq(errno, ECHILD);
}

Test(spawn, exit_status_and_first_line_of_stderr)
{
	const char *argv[] = {"/bin/sh", "-c", "echo; echo first >&2; echo second >&2; exit 3",
	                      NULL};
	struct hyp_spawn sp = {.argv = argv, .out_fd = -1, .err_fd = -1};
	hyp_error err = {0};
	cr_assert_eq(hyp_spawn_run(&sp, &err), -EIO);
	cr_assert_str_eq(err.msg, "/bin/sh exited with status 3: first");

	pid_t pid;
	int status;
	cr_assert_eq(hyp_spawn_start(&sp, &pid, &err), 0, "%s", err.msg);
	cr_assert_eq(hyp_spawn_wait(&pid, &status, &err), 0, "%s", err.msg);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3);
}

Test(spawn, stderr_capture_is_bounded)
{
	const char *argv[] = {"/bin/sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' x >&2; exit 1",
	                      NULL};
	struct hyp_spawn sp = {.argv = argv, .out_fd = -1, .err_fd = -1};
	hyp_error err = {0};
	cr_assert_eq(hyp_spawn_run(&sp, &err), -EIO);
	cr_assert(strncmp(err.msg, "/bin/sh exited with status 1: xxxx", 34) == 0, "%s", err.msg);
	cr_assert_lt(strlen(err.msg), sizeof(err.msg));
}

Test(spawn, death_by_signal_is_reported)
{
	const char *argv[] = {"/bin/sh", "-c", "kill -TERM $$", NULL};
	struct hyp_spawn sp = {.argv = argv, .out_fd = -1, .err_fd = -1};
	hyp_error err = {0};
	cr_assert_eq(hyp_spawn_run(&sp, &err), -EIO);
	cr_assert_str_eq(err.msg, "/bin/sh killed by signal 15 (Terminated)");
}

Test(spawn, signal_mask_and_dispositions_are_reset)
{
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);
	const char *argv[] = {"/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status", NULL};
	struct hyp_spawn sp = {.argv = argv, .err_fd = -1};
	expect_output(&sp, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

Test(spawn, new_session)
{
	const char *argv[] = {"/bin/sh", "-c",
	                      "read -r a b c d e sid rest </proc/$$/stat; "
	                      "[ \"$sid\" = $$ ] && echo leader",
	                      NULL};
	struct hyp_spawn sp = {.argv = argv, .err_fd = -1, .new_session = true};
	expect_output(&sp, "leader\n");
}

static void skip_unless_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("dropping to another uid needs root (running as uid %u)",
		             (unsigned)geteuid());
}

Test(spawn, drop_to_user_without_groups)
{
	skip_unless_root();
	const char *argv[] = {"/bin/sh", "-c", "id -u; id -g; id -G", NULL};
	struct hyp_spawn sp = {
	    .argv = argv, .err_fd = -1, .drop = true, .uid = NOBODY, .gid = NOBODY};
	expect_output(&sp, "65534\n65534\n65534\n");
}

Test(spawn, drop_to_user_with_groups)
{
	skip_unless_root();
	const gid_t groups[] = {100, 65534};
	const char *argv[] = {"/usr/bin/id", "-G", NULL};
	struct hyp_spawn sp = {.argv = argv,
	                       .err_fd = -1,
	                       .drop = true,
	                       .uid = NOBODY,
	                       .gid = NOBODY,
	                       .groups = groups,
	                       .ngroups = 2};
	expect_output(&sp, "65534 100\n");
}

Test(spawn, dropped_child_has_no_capabilities)
{
	skip_unless_root();
	const char *argv[] = {"/bin/grep", "-E", "^Cap(Prm|Eff)", "/proc/self/status", NULL};
	struct hyp_spawn sp = {
	    .argv = argv, .err_fd = -1, .drop = true, .uid = NOBODY, .gid = NOBODY};
	expect_output(&sp, "CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n");
}

Test(spawn, cleanup_attribute_kills_and_reaps)
{
	const char *argv[] = {"/bin/sleep", "600", NULL};
	struct hyp_spawn sp = {.argv = argv, .out_fd = -1, .err_fd = -1};
	hyp_error err = {0};
	pid_t seen;
	{
		_cleanup_pid_ pid_t pid = -1;
		cr_assert_eq(hyp_spawn_start(&sp, &pid, &err), 0, "%s", err.msg);
		seen = pid;
		cr_assert_eq(kill(seen, 0), 0);
	}
	/* a zombie would still accept signal 0: ESRCH means reaped */
	cr_assert_eq(kill(seen, 0), -1);
	cr_assert_eq(errno, ESRCH);
}

Test(spawn, cleanup_attribute_leaves_a_reaped_child_alone)
{
	const char *argv[] = {"/bin/true", NULL};
	struct hyp_spawn sp = {.argv = argv, .out_fd = -1, .err_fd = -1};
	hyp_error err = {0};
	_cleanup_pid_ pid_t pid = -1;
	int status;
	cr_assert_eq(hyp_spawn_start(&sp, &pid, &err), 0, "%s", err.msg);
	cr_assert_eq(hyp_spawn_wait(&pid, &status, &err), 0, "%s", err.msg);
	cr_assert_eq(pid, -1);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

Test(spawn, one_fd_passed_as_fd_4)
{
	_cleanup_close_ int fd = memfd_create("passed", MFD_CLOEXEC);
	cr_assert_geq(fd, 0);
	const char *argv[] = {
	    "/bin/sh", "-c", "echo through-4 >&4; ls /proc/self/fd | sort -n | tr '\\n' ' '", NULL};
	struct hyp_spawn sp = {.argv = argv, .pass_fd = fd};
	char out[256];
	hyp_error err = {0};
	cr_assert_eq(run_output(&sp, out, sizeof(out), &err), 0, "%s", err.msg);
	char got[64] = "";
	ssize_t n = pread(fd, got, sizeof(got) - 1, 0);
	got[n > 0 ? n : 0] = '\0';
	cr_expect_str_eq(got, "through-4\n");
	/* 0-2, 4, and ls's own directory fd */
	cr_expect(!strncmp(out, "0 1 2 3 4 ", 10) || !strncmp(out, "0 1 2 4 ", 8), "%s", out);
	cr_expect_null(strstr(out, " 5 6"), "%s", out);
}

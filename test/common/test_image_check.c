/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The user image checker on images made by a real qemu-img (each format
 * and option QEMU would follow) and on crafted headers.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_image_check.h"
#include "hyp_overlay.h"

static char dir[64];

static void setup(void)
{
	if (access(HYP_QEMU_IMG, X_OK) < 0)
		cr_skip_test("%s not installed (qemu-utils)", HYP_QEMU_IMG);
	snprintf(dir, sizeof(dir), "/tmp/hyp-test-imgcheck.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	chmod(dir, 0755);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(image_check, .init = setup, .fini = teardown);

/* Run `qemu-img ARGS` with DIR for %s; the path of NAME in *path. */
static void qemu_img(const char *args)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cd '%s' && " HYP_QEMU_IMG " %s >/dev/null 2>&1", dir, args);
	cr_assert_eq(system(cmd), 0, "qemu-img %s failed", args);
}

static char *path_of(const char *name)
{
	static char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static int check(const char *name, struct hyp_image_info *info, hyp_error *err)
{
	return hyp_image_check_file(path_of(name), info, err);
}

static void expect_refused(const char *name, const char *reason)
{
	hyp_error err = {0};
	struct hyp_image_info info = {0};
	cr_expect_lt(check(name, &info, &err), 0, "%s accepted", name);
	cr_expect_not_null(strstr(err.msg, reason), "%s: '%s' lacks '%s'", name, err.msg, reason);
}

Test(image_check, plain_qcow2_v2_v3_and_raw)
{
	qemu_img("create -q -f qcow2 -o compat=1.1 v3.qcow2 64M");
	qemu_img("create -q -f qcow2 -o compat=0.10 v2.qcow2 32M");
	qemu_img("create -q -f raw disk.raw 16M");
	hyp_error err = {0};
	struct hyp_image_info info = {0};
	cr_assert_eq(check("v3.qcow2", &info, &err), 0, "%s", err.msg);
	cr_expect_eq(info.format, HYP_DISK_QCOW2);
	cr_expect_eq(info.virtual_size, 64ull << 20);
	cr_assert_eq(check("v2.qcow2", &info, &err), 0, "%s", err.msg);
	cr_expect_eq(info.virtual_size, 32ull << 20);
	cr_assert_eq(check("disk.raw", &info, &err), 0, "%s", err.msg);
	cr_expect_eq(info.format, HYP_DISK_RAW);
	cr_expect_eq(info.virtual_size, 16ull << 20);
}

Test(image_check, backing_files_refused)
{
	qemu_img("create -q -f qcow2 base.qcow2 16M");
	qemu_img("create -q -f qcow2 -F qcow2 -b base.qcow2 top.qcow2");
	qemu_img("create -q -f qcow2 -o compat=0.10 -u -F raw -b /etc/shadow top2.qcow2 1M");
	qemu_img("create -q -f qcow2 -u -F raw -b 'json:{\"file.driver\":\"nbd\"}' top3.qcow2 1M");
	expect_refused("top.qcow2", "backing file");
	expect_refused("top2.qcow2", "backing file");
	expect_refused("top3.qcow2", "backing file");
}

Test(image_check, external_data_file_refused)
{
	qemu_img("create -q -f qcow2 -o data_file=data.raw ext.qcow2 16M");
	qemu_img("create -q -f qcow2 -o data_file=data2.raw,data_file_raw=on ext2.qcow2 16M");
	expect_refused("ext.qcow2", "external data file");
	expect_refused("ext2.qcow2", "external data file");
}

Test(image_check, other_formats_refused)
{
	qemu_img("create -q -f vmdk d.vmdk 16M");
	qemu_img("create -q -f vdi d.vdi 16M");
	qemu_img("create -q -f vpc d.vhd 16M");
	qemu_img("create -q -f vhdx d.vhdx 16M");
	qemu_img("create -q -f qed d.qed 16M");
	expect_refused("d.vmdk", "vmdk format");
	expect_refused("d.vdi", "vdi format");
	expect_refused("d.vhd", "vpc");
	expect_refused("d.vhdx", "vhdx format");
	expect_refused("d.qed", "qed format");
}

static void write_file(const char *name, const void *data, size_t n)
{
	_cleanup_close_ int fd = open(path_of(name), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
}

/* A v3 header of 104 bytes + end marker, cluster 64 KiB. */
static void craft_v3(unsigned char *h, size_t n)
{
	memset(h, 0, n);
	memcpy(h, "QFI\xfb", 4);
	h[7] = 3;
	h[23] = 16;   /* cluster_bits */
	h[29] = 0x10; /* size 1 MiB */
	h[103] = 104; /* header_length */
}

Test(image_check, crafted_headers)
{
	unsigned char h[512];
	craft_v3(h, sizeof(h));
	write_file("ok.qcow2", h, sizeof(h));
	hyp_error err = {0};
	struct hyp_image_info info = {0};
	cr_expect_eq(check("ok.qcow2", &info, &err), 0, "%s", err.msg);

	h[79] = 0x80; /* an incompatible feature bit nobody knows */
	write_file("unknown.qcow2", h, sizeof(h));
	expect_refused("unknown.qcow2", "unknown incompatible features");

	craft_v3(h, sizeof(h));
	h[79] = 0x04; /* data file bit without the extension */
	write_file("databit.qcow2", h, sizeof(h));
	expect_refused("databit.qcow2", "external data file");

	craft_v3(h, sizeof(h));
	h[35] = 1; /* AES */
	write_file("aes.qcow2", h, sizeof(h));
	expect_refused("aes.qcow2", "encrypted");

	craft_v3(h, sizeof(h));
	memcpy(h + 104, "\x44\x41\x54\x41\x00\x00\x00\x08/etc/pas", 16); /* data file ext */
	write_file("dataext.qcow2", h, sizeof(h));
	expect_refused("dataext.qcow2", "external data file");

	craft_v3(h, sizeof(h));
	memcpy(h + 104, "\x12\x34\x56\x78\x7f\xff\xff\xff", 8); /* runs off the cluster */
	write_file("longext.qcow2", h, sizeof(h));
	expect_refused("longext.qcow2", "runs past");

	craft_v3(h, sizeof(h));
	h[7] = 1;
	write_file("v1.qcow2", h, sizeof(h));
	expect_refused("v1.qcow2", "version 1");
	write_file("short.qcow2", "QFI\xfb\0\0\0\3", 8);
	expect_refused("short.qcow2", "truncated");
	write_file("odd.raw", "hello", 5);
	expect_refused("odd.raw", "multiple of 512");
}

Test(image_check, not_files_and_bad_paths)
{
	char fifo[256];
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	cr_assert_eq(mkfifo(fifo, 0644), 0);
	expect_refused("fifo", "a FIFO");
	hyp_error err = {0};
	struct hyp_image_info info = {0};
	cr_expect_lt(hyp_image_check_file(dir, &info, &err), 0);
	cr_expect_not_null(strstr(err.msg, "a directory"), "%s", err.msg);
	cr_expect_lt(hyp_image_check_file("/dev/null", &info, &err), 0);
	cr_expect_not_null(strstr(err.msg, "character device"), "%s", err.msg);
	cr_expect_lt(hyp_image_check_file("nbd:localhost:10809", &info, &err), 0);
	cr_expect_not_null(strstr(err.msg, "not an absolute path"), "%s", err.msg);
	cr_expect_lt(hyp_image_check_file("/x/json:{}", &info, &err), 0);
	cr_expect_not_null(strstr(err.msg, "':' is not allowed"), "%s", err.msg);
	cr_expect_lt(hyp_image_check_file("/srv/../etc/shadow", &info, &err), 0);
	cr_expect_not_null(strstr(err.msg, "'..'"), "%s", err.msg);
	cr_expect_lt(hyp_image_check_file("/nonexistent/x.qcow2", &info, &err), 0);
	cr_expect_not_null(strstr(err.msg, "No such file"), "%s", err.msg);
}

/* As root: opened with the user's credentials, not root's. */
Test(image_check, opened_as_the_user)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to open files as another user");
	qemu_img("create -q -f raw mine.raw 1M");
	qemu_img("create -q -f raw private.raw 1M");
	cr_assert_eq(chown(path_of("mine.raw"), 65534, 65534), 0);
	cr_assert_eq(chmod(path_of("mine.raw"), 0600), 0);
	cr_assert_eq(chmod(path_of("private.raw"), 0600), 0);
	hyp_error err = {0};
	struct hyp_image_info info = {0};
	cr_expect_eq(hyp_image_check_file_as(path_of("mine.raw"), 65534, 65534, &info, &err), 0,
	             "%s", err.msg);
	cr_expect_lt(hyp_image_check_file_as(path_of("private.raw"), 65534, 65534, &info, &err), 0);
	cr_expect_not_null(strstr(err.msg, "Permission denied"), "%s", err.msg);
	cr_expect_eq(hyp_image_check_file_as(path_of("private.raw"), 0, 0, &info, &err), 0, "%s",
	             err.msg);
	/* the user's process checks the bytes too: its verdict, size and reasons */
	qemu_img("create -q -f qcow2 big.qcow2 3G");
	qemu_img("create -q -f qcow2 -F qcow2 -b big.qcow2 over.qcow2");
	cr_assert_eq(chmod(path_of("big.qcow2"), 0644), 0);
	cr_assert_eq(chmod(path_of("over.qcow2"), 0644), 0);
	cr_expect_eq(hyp_image_check_file_as(path_of("big.qcow2"), 65534, 65534, &info, &err), 0,
	             "%s", err.msg);
	cr_expect_eq(info.format, HYP_DISK_QCOW2);
	cr_expect_eq(info.virtual_size, 3ULL << 30);
	cr_expect_lt(hyp_image_check_file_as(path_of("over.qcow2"), 65534, 65534, &info, &err), 0);
	cr_expect_eq(err.code, EPERM, "%d", err.code);
	cr_expect_not_null(strstr(err.msg, "backing file"), "%s", err.msg);
}

/* This process, and every child it forks, is killed at its first sendmsg. */
static int die_at_sendmsg(void)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sendmsg, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/*
 * The child that opens the image as the user dies before it answers (the
 * user can kill it: it runs with their uid). Root's slurmstepd once waited
 * for its answer forever; now it reports the failure. Run in a process of
 * its own (the filter stays), given 10 s.
 */
Test(image_check, a_child_that_dies_unanswered_is_an_error)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to open files as another user");
	qemu_img("create -q -f raw mine.raw 1M");
	cr_assert_eq(chmod(path_of("mine.raw"), 0644), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		hyp_error err = {0};
		struct hyp_image_info info;
		if (die_at_sendmsg() < 0)
			_exit(3);
		int r = hyp_image_check_file_as(path_of("mine.raw"), 65534, 65534, &info, &err);
		_exit(r < 0 && strstr(err.msg, "mine.raw") ? 0 : 1);
	}
	int status = 0;
	for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++)
		nanosleep(&(struct timespec){.tv_nsec = 100000000L}, NULL);
	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		cr_assert_fail("still waiting for the dead child's answer after 10 s");
	}
	cr_assert(WIFEXITED(status), "status %d", status);
	cr_expect_neq(WEXITSTATUS(status), 3, "seccomp unavailable");
	cr_expect_eq(WEXITSTATUS(status), 0, "no error naming the image");
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The job's overlay: a real qemu-img over base images the tests make. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_overlay.h"
#include "hyp_spawn.h"

static char dir[64], base[128], overlay[128];
static uid_t uid;
static gid_t gid;

static void setup(void)
{
	if (access(HYP_QEMU_IMG, X_OK) < 0)
		cr_skip_test("%s not installed (qemu-utils)", HYP_QEMU_IMG);
	snprintf(dir, sizeof(dir), "/tmp/hyp-test-overlay.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(overlay, sizeof(overlay), "%s/overlay.qcow2", dir);
	/* as root, hand the overlay to someone else to see the chown */
	uid = geteuid() == 0 ? 65534 : geteuid();
	gid = geteuid() == 0 ? 65534 : getegid();
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(overlay, .init = setup, .fini = teardown);

static void make_raw(void)
{
	snprintf(base, sizeof(base), "%s/base.raw", dir);
	_cleanup_close_ int fd = open(base, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
}

static void make_qcow2(void)
{
	snprintf(base, sizeof(base), "%s/base.qcow2", dir);
	const char *argv[] = {HYP_QEMU_IMG, "create", "-q", "-f", "qcow2", base, "1M", NULL};
	struct hyp_spawn sp = {.argv = argv, .out_fd = -1, .err_fd = -1};
	hyp_error err = {0};
	cr_assert_eq(hyp_spawn_run(&sp, &err), 0, "%s", err.msg);
}

/* `qemu-img info` of the overlay. */
static void image_info(char *out, size_t size)
{
	_cleanup_close_ int fd = memfd_create("info", MFD_CLOEXEC);
	const char *argv[] = {HYP_QEMU_IMG, "info", "-U", overlay, NULL};
	struct hyp_spawn sp = {.argv = argv, .out_fd = fd, .err_fd = -1};
	hyp_error err = {0};
	cr_assert_eq(hyp_spawn_run(&sp, &err), 0, "%s", err.msg);
	ssize_t n = pread(fd, out, size - 1, 0);
	out[n > 0 ? n : 0] = '\0';
}

static void check_overlay(const char *format)
{
	struct stat st;
	cr_assert_eq(lstat(overlay, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
	cr_assert_eq(st.st_uid, uid);
	cr_assert_eq(st.st_gid, gid);
	char info[4096], want[256];
	image_info(info, sizeof(info));
	cr_assert(strstr(info, "file format: qcow2\n"), "%s", info);
	snprintf(want, sizeof(want), "backing file: %s\n", base);
	cr_assert(strstr(info, want), "%s", info);
	snprintf(want, sizeof(want), "backing file format: %s\n", format);
	cr_assert(strstr(info, want), "%s", info);
}

Test(overlay, over_raw_image_is_the_users_0600)
{
	make_raw();
	struct hyp_image img = {.name = "t", .disk = base, .disk_format = HYP_DISK_RAW};
	hyp_error err = {0};
	cr_assert_eq(hyp_overlay_create(&img, overlay, uid, gid, &err), 0, "%s", err.msg);
	check_overlay("raw");
}

Test(overlay, over_qcow2_image)
{
	make_qcow2();
	struct hyp_image img = {.name = "t", .disk = base, .disk_format = HYP_DISK_QCOW2};
	hyp_error err = {0};
	cr_assert_eq(hyp_overlay_create(&img, overlay, uid, gid, &err), 0, "%s", err.msg);
	check_overlay("qcow2");
}

Test(overlay, missing_base_is_a_clear_error_and_leaves_nothing)
{
	snprintf(base, sizeof(base), "%s/missing.qcow2", dir);
	struct hyp_image img = {.name = "t", .disk = base, .disk_format = HYP_DISK_QCOW2};
	hyp_error err = {0};
	cr_assert_lt(hyp_overlay_create(&img, overlay, uid, gid, &err), 0);
	char want[512];
	snprintf(
	    want, sizeof(want),
	    "image 't': creating overlay '%s': " HYP_QEMU_IMG " exited with status 1: ", overlay);
	cr_assert(strncmp(err.msg, want, strlen(want)) == 0, "%s", err.msg);
	snprintf(want, sizeof(want), "Could not open '%s': No such file or directory", base);
	cr_assert(strstr(err.msg, want), "%s", err.msg);
	cr_assert_eq(access(overlay, F_OK), -1);
}

Test(overlay, existing_file_is_refused_and_kept)
{
	make_raw();
	_cleanup_close_ int fd = open(overlay, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	struct hyp_image img = {.name = "t", .disk = base, .disk_format = HYP_DISK_RAW};
	hyp_error err = {0};
	cr_assert_eq(hyp_overlay_create(&img, overlay, uid, gid, &err), -EEXIST);
	cr_assert(strstr(err.msg, "File exists"), "%s", err.msg);
	cr_assert_eq(access(overlay, F_OK), 0);
}

Test(overlay, symlink_is_not_followed)
{
	make_raw();
	char target[160];
	snprintf(target, sizeof(target), "%s/target", dir);
	cr_assert_eq(symlink(target, overlay), 0);
	struct hyp_image img = {.name = "t", .disk = base, .disk_format = HYP_DISK_RAW};
	hyp_error err = {0};
	cr_assert_eq(hyp_overlay_create(&img, overlay, uid, gid, &err), -EEXIST);
	cr_assert_eq(access(target, F_OK), -1, "the link's target was created");
}

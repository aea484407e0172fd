/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hyp_overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_spawn.h"

static const char *format_name(enum hyp_disk_format f)
{
	return f == HYP_DISK_RAW ? "raw" : "qcow2";
}

/* The empty file, already the user's, that qemu-img will write into. */
static int create_file(const char *path, uid_t uid, gid_t gid, int *ret_fd, hyp_error *err)
{
	_cleanup_close_ int fd =
	    open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return hyp_fail_errno(err, "creating '%s'", path);
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, 0600) < 0) {
		int r =
		    hyp_fail_errno(err, "giving '%s' to %u:%u", path, (unsigned)uid, (unsigned)gid);
		unlink(path);
		return r;
	}
	*ret_fd = take_fd(&fd);
	return 0;
}

/* A user's own image is never opened by root's qemu-img (-u): its size,
 * read from its header as the user, is given instead. */
static int run_qemu_img(const struct hyp_image *img, const char *path, hyp_error *err)
{
	char size[32];
	snprintf(size, sizeof(size), "%llu", img->disk_size);
	bool user = img->user_supplied;
	const char *argv[] = {
	    HYP_QEMU_IMG,
	    "create",
	    "-q",
	    "-f",
	    "qcow2",
	    "-F",
	    format_name(img->disk_format),
	    "-b",
	    img->disk,
	    user ? "-u" : path,
	    user ? path : NULL,
	    user ? size : NULL,
	    NULL,
	};
	struct hyp_spawn sp = {.argv = argv, .out_fd = -1, .err_fd = -1};
	return hyp_spawn_run(&sp, err);
}

/* qemu-img wrote into our file, not into one it put in its place. */
static int check_same_file(int fd, const char *path, hyp_error *err)
{
	struct stat a, b;
	if (fstat(fd, &a) < 0 || lstat(path, &b) < 0)
		return hyp_fail_errno(err, "checking '%s'", path);
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return hyp_fail(err, EEXIST, "'%s' was replaced while it was created", path);
	return 0;
}

int hyp_overlay_create(const struct hyp_image *img, const char *path, uid_t uid, gid_t gid,
                       hyp_error *err)
{
	_cleanup_close_ int fd = -1;
	int r = create_file(path, uid, gid, &fd, err);
	if (r >= 0 && (r = run_qemu_img(img, path, err)) >= 0)
		r = check_same_file(fd, path, err);
	if (r < 0 && fd >= 0)
		unlink(path);
	if (r < 0)
		return hyp_error_prefix(err, "image '%s': creating overlay '%s'", img->name, path);
	return 0;
}

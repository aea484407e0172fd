/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Keeping the console log of a guest that failed to boot, after its job's
 * state is gone: the last max_kib of it, made printable as hyp_console_tail
 * does, in a root-only directory pruned by age and count.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_console.h"

#define KEEP_SUFFIX ".console.log"

static bool is_kept(const char *name)
{
	size_t n = strlen(name), s = strlen(KEEP_SUFFIX);
	return n > s && !strcmp(name + n - s, KEEP_SUFFIX);
}

struct kept {
	char name[256];
	time_t mtime;
};

static int by_age(const void *a, const void *b)
{
	const struct kept *x = a, *y = b;
	return (x->mtime > y->mtime) - (x->mtime < y->mtime);
}

/* Remove what is older than the age limit, then the oldest beyond the
 * count limit (keeping room for one more). */
static void prune(int dirfd, const struct hyp_console_keep *k)
{
	_cleanup_closedir_ DIR *d = fdopendir(dup(dirfd));
	_cleanup_free_ struct kept *files = NULL;
	size_t n = 0;
	struct dirent *de;
	time_t limit = time(NULL) - (time_t)k->max_age_days * 86400;
	while (d && (de = readdir(d))) {
		struct stat st;
		if (!is_kept(de->d_name) ||
		    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (st.st_mtime < limit) {
			unlinkat(dirfd, de->d_name, 0);
			continue;
		}
		struct kept *p = realloc(files, (n + 1) * sizeof(*p));
		if (!p)
			return;
		files = p;
		snprintf(files[n].name, sizeof(files[n].name), "%s", de->d_name);
		files[n++].mtime = st.st_mtime;
	}
	qsort(files, n, sizeof(*files), by_age);
	for (size_t i = 0; n >= k->max_files && i <= n - k->max_files; i++)
		unlinkat(dirfd, files[i].name, 0);
}

static int open_keep_dir(const char *dir, hyp_error *err)
{
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return hyp_fail_errno(err, "creating '%s'", dir);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return hyp_fail_errno(err, "opening '%s'", dir);
	struct stat st;
	if (fstat(fd, &st) < 0 || (geteuid() == 0 && (st.st_uid != 0 || (st.st_mode & 022)))) {
		close(fd);
		return hyp_fail(err, EPERM, "'%s' must be root's and not writable by others", dir);
	}
	return fd;
}

int hyp_console_keep(const char *console_log, const struct hyp_console_keep *k, const char *name,
                     char **ret_path, hyp_error *err)
{
	_cleanup_free_ char *text = NULL;
	int r = hyp_console_tail_bytes(console_log, (size_t)k->max_kib * 1024, &text, err);
	if (r < 0)
		return r;
	_cleanup_close_ int dirfd = open_keep_dir(k->dir, err);
	if (dirfd < 0)
		return dirfd;
	prune(dirfd, k);
	char file[256];
	snprintf(file, sizeof(file), "%s-%lld" KEEP_SUFFIX, name, (long long)time(NULL));
	_cleanup_close_ int fd =
	    openat(dirfd, file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return hyp_fail_errno(err, "creating '%s/%s'", k->dir, file);
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len)
		return hyp_fail_errno(err, "writing '%s/%s'", k->dir, file);
	if (asprintf(ret_path, "%s/%s", k->dir, file) < 0)
		return hyp_fail(err, ENOMEM, "out of memory");
	return 0;
}

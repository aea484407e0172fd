/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hyp_statedir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_names.h"
#include "hyp_time.h"

static int ensure_root_dir(const char *dir, hyp_error *err)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return hyp_fail_errno(err, "creating state directory '%s'", dir);
	struct stat st;
	if (lstat(dir, &st) < 0)
		return hyp_fail_errno(err, "state directory '%s'", dir);
	if (!S_ISDIR(st.st_mode))
		return hyp_fail(err, ENOTDIR, "state directory '%s' is not a directory", dir);
	if (geteuid() == 0 && (st.st_uid != 0 || (st.st_mode & 022)))
		return hyp_fail(err, EPERM,
		                "state directory '%s' must be owned by root and not writable by "
		                "others",
		                dir);
	return 0;
}

int hyp_node_dir_ensure(const char *state_dir, const char *node, hyp_error *err)
{
	_cleanup_free_ char *dir = hyp_node_dir(state_dir, node);
	if (!dir)
		return hyp_fail(err, ENOMEM, "out of memory");
	int r = ensure_root_dir(state_dir, err);
	return r < 0 ? r : ensure_root_dir(dir, err);
}

/* flock with a deadline: LOCK_NB in a loop, so a stuck holder cannot hang
 * slurmstepd forever. */
static int flock_until(int fd, long long deadline_ms)
{
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (hyp_now_ms() >= deadline_ms)
			return -ETIMEDOUT;
		nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
	}
}

/* Still the file at `path`? A holder that removed it on teardown leaves us
 * holding a lock on an unlinked inode. */
static bool lock_is_current(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int hyp_job_lock(const char *state_dir, const char *node, uint32_t job_id, unsigned timeout_s,
                 hyp_error *err)
{
	int r = hyp_node_dir_ensure(state_dir, node, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = hyp_job_lock_path(state_dir, node, job_id);
	if (!path)
		return hyp_fail(err, ENOMEM, "out of memory");

	long long deadline = hyp_now_ms() + timeout_s * 1000LL;
	for (;;) {
		_cleanup_close_ int fd =
		    open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return hyp_fail_errno(err, "opening lock '%s'", path);
		r = flock_until(fd, deadline);
		if (r == -ETIMEDOUT)
			return hyp_fail(err, ETIMEDOUT,
			                "job %u: lock '%s' still held after %u s by another "
			                "start or stop",
			                job_id, path, timeout_s);
		if (r < 0) {
			errno = -r;
			return hyp_fail_errno(err, "locking '%s'", path);
		}
		if (lock_is_current(fd, path))
			return take_fd(&fd);
	}
}

void hyp_job_unlock(const char *state_dir, const char *node, uint32_t job_id, int fd, bool remove)
{
	if (fd < 0)
		return;
	if (remove) {
		_cleanup_free_ char *path = hyp_job_lock_path(state_dir, node, job_id);
		if (path)
			unlink(path);
	}
	close(fd);
}

static int create_user_file(int dirfd, const char *dir, const char *name, uid_t uid, gid_t gid,
                            hyp_error *err)
{
	_cleanup_close_ int fd =
	    openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return hyp_fail_errno(err, "creating '%s/%s'", dir, name);
	if (fchown(fd, uid, gid) < 0)
		return hyp_fail_errno(err, "chown '%s/%s'", dir, name);
	return 0;
}

int hyp_job_dir_create(const char *job_dir, unsigned nexec_ports, uid_t uid, gid_t gid,
                       hyp_error *err)
{
	if (mkdir(job_dir, 0711) < 0)
		return hyp_fail_errno(err, "creating job directory '%s'", job_dir);
	/* mkdir honours the umask; the mode must be exactly 0711. */
	if (chmod(job_dir, 0711) < 0)
		return hyp_fail_errno(err, "chmod '%s'", job_dir);
	_cleanup_close_ int dirfd = open(job_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dirfd < 0)
		return hyp_fail_errno(err, "opening '%s'", job_dir);

	int r = create_user_file(dirfd, job_dir, HYP_CONSOLE_LOG, uid, gid, err);
	for (unsigned i = 0; r >= 0 && i < nexec_ports; i++) {
		_cleanup_free_ char *path = hyp_exec_lock_path(job_dir, i);
		r = path ? create_user_file(dirfd, job_dir, strrchr(path, '/') + 1, uid, gid, err)
		         : hyp_fail(err, ENOMEM, "out of memory");
	}
	return r;
}

static int chown_socket(int dirfd, const char *dir, const char *name, uid_t uid, gid_t gid,
                        hyp_error *err)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return hyp_fail_errno(err, "socket '%s/%s'", dir, name);
	if (!S_ISSOCK(st.st_mode))
		return hyp_fail(err, EINVAL, "'%s/%s' is not a socket", dir, name);
	if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return hyp_fail_errno(err, "chown '%s/%s'", dir, name);
	/* fchmodat cannot refuse symlinks on older kernels; the lstat above
	 * and the root-owned directory already rule them out. */
	if (fchmodat(dirfd, name, 0600, 0) < 0)
		return hyp_fail_errno(err, "chmod '%s/%s'", dir, name);
	return 0;
}

static bool is_socket_name(const char *name)
{
	size_t len = strlen(name);
	return len > 5 && strcmp(name + len - 5, ".sock") == 0;
}

/* libvirt's DAC driver may relabel the console log for QEMU: take it back. */
static int chown_console(int dirfd, const char *dir, uid_t uid, gid_t gid, hyp_error *err)
{
	if (fchownat(dirfd, HYP_CONSOLE_LOG, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
		return hyp_fail_errno(err, "chown '%s/%s'", dir, HYP_CONSOLE_LOG);
	return 0;
}

int hyp_job_dir_chown_sockets(const char *job_dir, uid_t uid, gid_t gid, hyp_error *err)
{
	_cleanup_closedir_ DIR *d = opendir(job_dir);
	if (!d)
		return hyp_fail_errno(err, "opening '%s'", job_dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!is_socket_name(de->d_name))
			continue;
		int r = chown_socket(dirfd(d), job_dir, de->d_name, uid, gid, err);
		if (r < 0)
			return r;
	}
	return chown_console(dirfd(d), job_dir, uid, gid, err);
}

int hyp_job_dir_remove(const char *job_dir, hyp_error *err)
{
	_cleanup_closedir_ DIR *d = opendir(job_dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return hyp_fail_errno(err, "opening '%s'", job_dir);
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* The directory is flat: anything that is not a plain
		 * entry (a subdirectory) is unexpected and reported. */
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			return hyp_fail_errno(err, "removing '%s/%s'", job_dir, de->d_name);
	}
	if (rmdir(job_dir) < 0 && errno != ENOENT)
		return hyp_fail_errno(err, "removing '%s'", job_dir);
	return 0;
}

static int add_unique(uint32_t **ids, size_t *n, size_t *cap, uint32_t id)
{
	for (size_t i = 0; i < *n; i++)
		if ((*ids)[i] == id)
			return 0;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		uint32_t *p = realloc(*ids, ncap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		*ids = p;
		*cap = ncap;
	}
	(*ids)[(*n)++] = id;
	return 0;
}

int hyp_state_list_jobs(const char *state_dir, const char *node, uint32_t **ret_ids, size_t *ret_n,
                        hyp_error *err)
{
	_cleanup_free_ uint32_t *ids = NULL;
	size_t n = 0, cap = 0;
	_cleanup_free_ char *dir = hyp_node_dir(state_dir, node);
	if (!dir)
		return hyp_fail(err, ENOMEM, "out of memory");
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (!d && errno != ENOENT)
		return hyp_fail_errno(err, "opening state directory '%s'", dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		uint32_t id;
		if (hyp_job_entry_parse(de->d_name, &id) && add_unique(&ids, &n, &cap, id) < 0)
			return hyp_fail(err, ENOMEM, "out of memory");
	}
	*ret_ids = steal_pointer(&ids);
	*ret_n = n;
	return 0;
}

int hyp_state_list_nodes(const char *state_dir, char ***ret_nodes, hyp_error *err)
{
	_cleanup_strv_ char **nodes = calloc(1, sizeof(char *));
	size_t n = 0;
	_cleanup_closedir_ DIR *d = opendir(state_dir);
	if (!nodes)
		return hyp_fail(err, ENOMEM, "out of memory");
	if (!d && errno != ENOENT)
		return hyp_fail_errno(err, "opening state directory '%s'", state_dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		hyp_error ignored;
		if (de->d_type != DT_DIR || hyp_node_name_check(de->d_name, &ignored) < 0)
			continue;
		char **p = realloc(nodes, (n + 2) * sizeof(*p));
		if (!p)
			return hyp_fail(err, ENOMEM, "out of memory");
		nodes = p;
		if (!(nodes[n] = strdup(de->d_name)))
			return hyp_fail(err, ENOMEM, "out of memory");
		nodes[++n] = NULL;
	}
	*ret_nodes = steal_pointer(&nodes);
	return 0;
}

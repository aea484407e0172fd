/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The job prolog's record of a job's VM request, one small text file per
 * job and node:
 *
 *   uid=1001
 *   vm=1
 *   invalid=0
 *   image=rocky9
 *   hugepages=2M
 *   shares=/home/alice,/scratch
 *   nodes=cn[01-04]
 *   gpus=0,2          (SLURM_JOB_GPUS as slurmd gave the prolog)
 *   vfs=fabric:2      (--vm-vf)
 *
 * Written by root into the root-owned state directory (a user can neither
 * create nor replace it), read by root in slurmstepd. Every key exactly
 * once: anything else is refused, so a damaged record fails the job.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "plugin_record.h"

#define RECORD_MAX 4096

enum {
	KEY_UID,
	KEY_VM,
	KEY_INVALID,
	KEY_IMAGE,
	KEY_HUGEPAGES,
	KEY_SHARES,
	KEY_NODES,
	KEY_GPUS,
	KEY_VFS,
	NKEYS
};
static const char *const keys[NKEYS] = {"uid",    "vm",    "invalid", "image", "hugepages",
                                        "shares", "nodes", "gpus",    "vfs"};

static void record_name(uint32_t job_id, const char *suffix, char buf[64])
{
	snprintf(buf, 64, "job.%" PRIu32 ".options%s", job_id, suffix);
}

/* The state directory as a directory fd, refused unless it is ours and
 * nobody else may write to it. */
static int open_state_dir(const char *state_dir, bool create, hyp_error *err)
{
	if (create && mkdir(state_dir, 0755) < 0 && errno != EEXIST)
		return hyp_fail_errno(err, "creating state directory '%s'", state_dir);
	_cleanup_close_ int fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return hyp_fail_errno(err, "opening state directory '%s'", state_dir);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return hyp_fail_errno(err, "state directory '%s'", state_dir);
	if (st.st_uid != geteuid() || (st.st_mode & 022))
		return hyp_fail(err, EPERM,
		                "state directory '%s' must be owned by root and not writable by "
		                "others",
		                state_dir);
	return take_fd(&fd);
}

static int write_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

static int format_record(const struct plugin_record *rec, char text[RECORD_MAX], hyp_error *err)
{
	if (strchr(rec->image, '\n') || strchr(rec->hugepages, '\n') || strchr(rec->shares, '\n') ||
	    strchr(rec->nodes, '\n') || strchr(rec->gpus, '\n') || strchr(rec->vfs, '\n'))
		return hyp_fail(err, EINVAL, "option values must not hold a newline");
	return snprintf(text, RECORD_MAX,
	                "uid=%u\nvm=%d\ninvalid=%d\nimage=%.*s\nhugepages=%.*s\nshares=%.*s\n"
	                "nodes=%.*s\ngpus=%.*s\nvfs=%.*s\n",
	                (unsigned)rec->uid, rec->vm, rec->invalid, PLUGIN_IMAGE_MAX - 1, rec->image,
	                PLUGIN_HUGEPAGES_MAX - 1, rec->hugepages, PLUGIN_SHARES_MAX - 1,
	                rec->shares, PLUGIN_NODES_MAX - 1, rec->nodes, PLUGIN_GPUS_MAX - 1,
	                rec->gpus, PLUGIN_VFS_MAX - 1, rec->vfs);
}

int plugin_record_write(const char *state_dir, uint32_t job_id, const struct plugin_record *rec,
                        hyp_error *err)
{
	char text[RECORD_MAX], name[64], tmp[64];
	int len = format_record(rec, text, err);
	if (len < 0)
		return len;
	_cleanup_close_ int dir = open_state_dir(state_dir, true, err);
	if (dir < 0)
		return dir;
	record_name(job_id, "", name);
	record_name(job_id, ".tmp", tmp);
	if (unlinkat(dir, tmp, 0) < 0 && errno != ENOENT)
		return hyp_fail_errno(err, "removing '%s/%s'", state_dir, tmp);
	_cleanup_close_ int fd =
	    openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return hyp_fail_errno(err, "creating '%s/%s'", state_dir, tmp);
	int r = write_all(fd, text, (size_t)len);
	if (r < 0 || close(take_fd(&fd)) < 0 || renameat(dir, tmp, dir, name) < 0) {
		errno = r < 0 ? -r : errno;
		r = hyp_fail_errno(err, "writing '%s/%s'", state_dir, name);
		unlinkat(dir, tmp, 0);
		return r;
	}
	return 0;
}

static int parse_flag(const char *v, bool *ret)
{
	if (strcmp(v, "0") && strcmp(v, "1"))
		return -EINVAL;
	*ret = v[0] == '1';
	return 0;
}

static int parse_uid(const char *v, uid_t *ret)
{
	char *end;
	errno = 0;
	unsigned long uid = strtoul(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || uid > (uid_t)-2)
		return -EINVAL;
	*ret = (uid_t)uid;
	return 0;
}

static int copy_value(char *dst, size_t size, const char *v)
{
	return snprintf(dst, size, "%s", v) < (int)size ? 0 : -EINVAL;
}

static int parse_value(struct plugin_record *rec, int key, const char *v)
{
	switch (key) {
	case KEY_UID:
		return parse_uid(v, &rec->uid);
	case KEY_VM:
		return parse_flag(v, &rec->vm);
	case KEY_INVALID:
		return parse_flag(v, &rec->invalid);
	case KEY_IMAGE:
		return copy_value(rec->image, sizeof(rec->image), v);
	case KEY_HUGEPAGES:
		return copy_value(rec->hugepages, sizeof(rec->hugepages), v);
	case KEY_SHARES:
		return copy_value(rec->shares, sizeof(rec->shares), v);
	case KEY_NODES:
		return copy_value(rec->nodes, sizeof(rec->nodes), v);
	case KEY_GPUS:
		return copy_value(rec->gpus, sizeof(rec->gpus), v);
	default:
		return copy_value(rec->vfs, sizeof(rec->vfs), v);
	}
}

static int parse_line(struct plugin_record *rec, char *line, unsigned *seen)
{
	char *eq = strchr(line, '=');
	if (!eq)
		return -EINVAL;
	*eq = '\0';
	for (int k = 0; k < NKEYS; k++) {
		if (strcmp(line, keys[k]))
			continue;
		if (*seen & (1u << k))
			return -EINVAL;
		*seen |= 1u << k;
		return parse_value(rec, k, eq + 1);
	}
	return -EINVAL;
}

static int parse_record(char *text, struct plugin_record *ret_rec)
{
	struct plugin_record rec = {0};
	unsigned seen = 0;
	char *save = NULL;
	size_t len = strlen(text);
	if (len == 0 || text[len - 1] != '\n')
		return -EINVAL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (parse_line(&rec, line, &seen) < 0)
			return -EINVAL;
	if (seen != (1u << NKEYS) - 1)
		return -EINVAL;
	*ret_rec = rec;
	return 0;
}

static int read_text(int fd, char text[RECORD_MAX])
{
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, text + len, RECORD_MAX - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == RECORD_MAX - 1)
			return -EFBIG;
	}
	text[len] = '\0';
	return 0;
}

int plugin_record_read(const char *state_dir, uint32_t job_id, struct plugin_record *ret_rec,
                       hyp_error *err)
{
	char name[64], text[RECORD_MAX];
	record_name(job_id, "", name);
	if (access(state_dir, F_OK) < 0 && errno == ENOENT)
		return hyp_fail(err, ENOENT, "no record '%s/%s'", state_dir, name);
	_cleanup_close_ int dir = open_state_dir(state_dir, false, err);
	if (dir < 0)
		return dir;
	_cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return hyp_fail(err, ENOENT, "no record '%s/%s'", state_dir, name);
	if (fd < 0)
		return hyp_fail_errno(err, "opening '%s/%s'", state_dir, name);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return hyp_fail_errno(err, "'%s/%s'", state_dir, name);
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return hyp_fail(err, EPERM, "'%s/%s' is not a file of root's", state_dir, name);
	int r = read_text(fd, text);
	if (r < 0)
		return hyp_fail(err, -r, "reading '%s/%s': %s", state_dir, name, strerror(-r));
	if (parse_record(text, ret_rec) < 0)
		return hyp_fail(err, EINVAL, "'%s/%s' is malformed", state_dir, name);
	return 0;
}

int plugin_record_remove(const char *state_dir, uint32_t job_id, hyp_error *err)
{
	char name[64], tmp[64];
	record_name(job_id, "", name);
	record_name(job_id, ".tmp", tmp);
	_cleanup_close_ int dir = open(state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0 && errno == ENOENT)
		return 0;
	if (dir < 0)
		return hyp_fail_errno(err, "opening state directory '%s'", state_dir);
	if ((unlinkat(dir, name, 0) < 0 && errno != ENOENT) ||
	    (unlinkat(dir, tmp, 0) < 0 && errno != ENOENT))
		return hyp_fail_errno(err, "removing the record of job %" PRIu32 " in '%s'", job_id,
		                      state_dir);
	return 0;
}

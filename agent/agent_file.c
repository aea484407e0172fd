/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The file of an EXEC with HYP_EXEC_FILE (doc/protocol.md): a batch script
 * spooled on the host, written as its FILE frames come to a private file in
 * the guest ($TMPDIR of the request, else /tmp), run as the command, and
 * removed when the command has ended.
 *
 * The agent runs as root; the directory may be the user's. So the file is
 * created and removed with the user's file-system ids (setfsuid/setfsgid):
 * what the user could not create or remove there, the agent does not
 * either, and the new file belongs to the user. mkostemp() creates it with
 * O_EXCL, which never follows a symbolic link.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_session.h"
#include "hyp_cleanup.h"

#define FILE_TEMPLATE "hyperion-file.XXXXXX"

/* Take on (or give back) the user's file-system ids; a no-op unless root. */
static void as_user(const struct agent_config *cfg, const struct hyp_exec_request *req, bool on)
{
	if (!cfg->root)
		return;
	setfsgid(on ? req->gid : cfg->gid);
	setfsuid(on ? req->uid : cfg->uid);
}

static const char *tmp_dir(const struct hyp_exec_request *req)
{
	struct stat st;

	for (uint32_t i = 0; i < req->envc; i++) {
		const char *v = req->envp[i];
		if (strncmp(v, "TMPDIR=/", 8) == 0 && stat(v + 7, &st) == 0 && S_ISDIR(st.st_mode))
			return v + 7;
	}
	return "/tmp";
}

static int create(const char *dir, char **ret_path, int *ret_fd)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/" FILE_TEMPLATE, strcmp(dir, "/") ? dir : "") < 0)
		return -ENOMEM;
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0700) < 0) {
		int r = -errno;
		unlink(path);
		close(fd);
		return r;
	}
	*ret_path = steal_pointer(&path);
	*ret_fd = fd;
	return 0;
}

int agent_file_open(struct agent_file *f, const struct hyp_exec_request *req,
                    const struct agent_config *cfg, hyp_error *err)
{
	const char *dir = tmp_dir(req);
	as_user(cfg, req, true);
	int r = create(dir, &f->path, &f->fd);
	if (r < 0 && strcmp(dir, "/tmp") != 0)
		r = create(dir = "/tmp", &f->path, &f->fd);
	as_user(cfg, req, false);
	if (r < 0)
		return hyp_fail(err, -r, "creating the command's file in '%s': %s", dir,
		                strerror(-r));
	f->left = req->file_size;
	return 0;
}

int agent_file_write(struct agent_file *f, const uint8_t *data, size_t len, hyp_error *err)
{
	if (len > f->left)
		return hyp_fail(err, EPROTO,
		                "FILE frame of %zu bytes past the %llu bytes announced", len,
		                (unsigned long long)f->left);
	while (len > 0) {
		ssize_t n = write(f->fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hyp_fail_errno(err, "writing the command's file '%s'", f->path);
		data += n;
		len -= (size_t)n;
		f->left -= (uint64_t)n;
	}
	return 0;
}

/* All of it is there: close it (a file open for writing cannot be
 * executed), and it becomes the command. */
int agent_file_finish(struct agent_file *f, struct hyp_exec_request *req, hyp_error *err)
{
	int r = close(f->fd);
	f->fd = -1;
	if (r < 0)
		return hyp_fail_errno(err, "writing the command's file '%s'", f->path);
	char *path = strdup(f->path);
	if (!path)
		return hyp_fail(err, ENOMEM, "out of memory");
	free(req->argv[0]);
	req->argv[0] = path;
	return 0;
}

void agent_file_remove(struct agent_file *f, const struct hyp_exec_request *req,
                       const struct agent_config *cfg)
{
	hyp_closep(&f->fd);
	f->fd = -1;
	if (f->path) {
		as_user(cfg, req, true);
		if (unlink(f->path) < 0 && errno != ENOENT)
			agent_log("removing '%s': %m", f->path);
		as_user(cfg, req, false);
	}
	free(f->path);
	f->path = NULL;
	f->left = 0;
}

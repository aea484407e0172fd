/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --script: the command is a file on the host (Slurm spools a batch script in
 * slurmd's spool directory, which the guest cannot see). It follows the EXEC
 * in FILE frames (doc/protocol.md), any bytes up to HYP_EXEC_FILE_MAX; the
 * agent writes it to a private file in the guest and runs that, so the
 * script's own "#!" line picks its interpreter as it would on the host. The
 * frames are queued as the channel has room, before any stdin.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec.h"
#include "hyp_cleanup.h"

int exec_script_open(const char *path, struct exec_script *ret, hyp_error *err)
{
	struct stat st;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0)
		return hyp_fail_errno(err, "batch script '%s'", path);
	if (!S_ISREG(st.st_mode))
		return hyp_fail(err, EINVAL, "batch script '%s' is not a regular file", path);
	if ((uint64_t)st.st_size > HYP_EXEC_FILE_MAX)
		return hyp_fail(err, EFBIG,
		                "batch script '%s' is %lld bytes, larger than the %llu MiB a VM "
		                "job's script may be",
		                path, (long long)st.st_size, HYP_EXEC_FILE_MAX >> 20);
	*ret = (struct exec_script){.fd = take_fd(&fd), .left = (uint64_t)st.st_size, .path = path};
	return 0;
}

static int read_chunk(struct exec_script *sc, uint8_t *buf, size_t n, hyp_error *err)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(sc->fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return hyp_fail_errno(err, "reading batch script '%s'", sc->path);
		if (r == 0)
			return hyp_fail(err, EIO, "batch script '%s' shrank while it was sent",
			                sc->path);
		got += (size_t)r;
	}
	return 0;
}

int exec_script_queue(struct exec_script *sc, struct hyp_chan *chan, size_t chunk, hyp_error *err)
{
	uint8_t buf[HYP_DATA_CHUNK];
	if (chunk > sizeof(buf))
		chunk = sizeof(buf);
	while (sc->fd >= 0 && sc->left > 0 && hyp_chan_can_queue(chan)) {
		size_t n = sc->left < chunk ? (size_t)sc->left : chunk;
		struct hyp_msg msg = {
		    .type = HYP_MSG_FILE, .stream = HYP_STREAM_EXEC, .data = {buf, n}};
		int r = read_chunk(sc, buf, n, err);
		if (r < 0 || (r = hyp_chan_queue(chan, &msg, err)) < 0)
			return r;
		sc->left -= n;
	}
	if (sc->left == 0)
		exec_script_close(sc);
	return 0;
}

void exec_script_close(struct exec_script *sc)
{
	hyp_closep(&sc->fd);
	sc->fd = -1;
}

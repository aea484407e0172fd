/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command's stdout and stderr on their way to fds 1 and 2: a bounded
 * buffer each, written when poll() says the fd takes more. Whatever the fds
 * are, a write must not block the relay (a stuck reader would hold back
 * signals), and the fds' file status flags are shared with other processes,
 * so they are left alone where possible: pipes are written with RWF_NOWAIT,
 * sockets with MSG_DONTWAIT, terminals PIPE_BUF bytes per wake-up. Only on a
 * kernel whose pipes lack RWF_NOWAIT is a pipe made O_NONBLOCK, for the
 * session (exec_outs_restore() puts the flags back).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "exec.h"

#define OUT_HIGH (256 * 1024)

static enum exec_out_kind out_kind(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return EXEC_OUT_TTY; /* cautious */
	if (S_ISFIFO(st.st_mode))
		return EXEC_OUT_PIPE;
	if (S_ISSOCK(st.st_mode))
		return EXEC_OUT_SOCKET;
	return S_ISCHR(st.st_mode) && isatty(fd) ? EXEC_OUT_TTY : EXEC_OUT_FILE;
}

void exec_outs_init(struct exec_out out[2])
{
	for (int i = 0; i < 2; i++)
		out[i] = (struct exec_out){.fd = i + 1, .kind = out_kind(i + 1), .saved_flags = -1};
}

/* The fallback for pipes. fds 1 and 2 may share their flags: whichever
 * switches first saves the original ones, the other finds O_NONBLOCK set. */
static void make_nonblocking(struct exec_out *o)
{
	int flags = fcntl(o->fd, F_GETFL);
	o->kind = EXEC_OUT_NONBLOCK;
	if (flags >= 0 && !(flags & O_NONBLOCK) && fcntl(o->fd, F_SETFL, flags | O_NONBLOCK) == 0)
		o->saved_flags = flags;
}

void exec_outs_restore(struct exec_out out[2])
{
	for (int i = 0; i < 2; i++) {
		if (out[i].saved_flags >= 0)
			fcntl(out[i].fd, F_SETFL, out[i].saved_flags);
		out[i].saved_flags = -1;
		hyp_buf_free(&out[i].buf);
	}
}

static ssize_t write_some(struct exec_out *o, const uint8_t *data, size_t len)
{
	struct iovec iov = {(void *)data, len};
	ssize_t n;
	switch (o->kind) {
	case EXEC_OUT_PIPE:
		n = pwritev2(o->fd, &iov, 1, -1, RWF_NOWAIT);
		if (n < 0 && (errno == EOPNOTSUPP || errno == EINVAL || errno == ENOSYS)) {
			make_nonblocking(o);
			n = write(o->fd, data, len);
		}
		return n;
	case EXEC_OUT_SOCKET:
		return send(o->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	case EXEC_OUT_TTY:
		return write(o->fd, data, len < PIPE_BUF ? len : PIPE_BUF);
	default:
		return write(o->fd, data, len);
	}
}

bool exec_out_full(const struct exec_out *o)
{
	return hyp_buf_pending(&o->buf) >= OUT_HIGH;
}

bool exec_out_pending(const struct exec_out *o)
{
	return !o->broken && hyp_buf_pending(&o->buf) > 0;
}

int exec_out_push(struct exec_out *o, const void *data, size_t len, hyp_error *err)
{
	if (o->broken || len == 0)
		return 0; /* the reader went away: the data has nowhere to go */
	return hyp_buf_append(&o->buf, data, len, err);
}

/* Write what the fd takes now. -EPIPE once when its reader has gone. */
int exec_out_write(struct exec_out *o, hyp_error *err)
{
	while (exec_out_pending(o)) {
		ssize_t w = write_some(o, o->buf.data + o->buf.off, hyp_buf_pending(&o->buf));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return 0;
		if (w < 0) {
			int e = errno;
			o->broken = true;
			hyp_buf_free(&o->buf);
			errno = e;
			return e == EPIPE ? -EPIPE : hyp_fail_errno(err, "writing to fd %d", o->fd);
		}
		hyp_buf_consume(&o->buf, (size_t)w);
		if (o->kind == EXEC_OUT_TTY)
			return 0; /* wait for poll() again */
	}
	return 0;
}

/* At the end: everything buffered goes out, waiting as long as it takes. */
int exec_outs_drain(struct exec_out out[2], hyp_error *err)
{
	for (int i = 0; i < 2; i++) {
		while (exec_out_pending(&out[i])) {
			struct pollfd p = {.fd = out[i].fd, .events = POLLOUT};
			if (poll(&p, 1, -1) < 0 && errno != EINTR)
				return hyp_fail_errno(err, "poll");
			int r = exec_out_write(&out[i], err);
			if (r < 0 && r != -EPIPE)
				return r;
		}
	}
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Claiming one of the job's exec ports: exec.<i>.lock are pre-created by root
 * for the job user; the first one this process can flock() is its port, and
 * exec.<i>.sock (QEMU's end of virtio-serial port i) is where it connects.
 * The lock is held for the whole session and released when the process ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"
#include "hyp_cleanup.h"
#include "hyp_statedir.h"

#define MAX_PORTS      65536
#define BACKOFF_MIN_MS 10
#define BACKOFF_MAX_MS 250

static int permission_denied(uint32_t job_id, hyp_error *err)
{
	return hyp_fail(err, EACCES, "permission denied: job %u's VM belongs to another user",
	                job_id);
}

static bool expired(const struct exec_session *s)
{
	return s->deadline_ms >= 0 && hyp_now_ms() >= s->deadline_ms;
}

/* Sleep `*backoff` ms (never past the deadline), then double it. */
static void backoff_sleep(const struct exec_session *s, long long *backoff)
{
	long long ms = *backoff;
	if (s->deadline_ms >= 0 && s->deadline_ms - hyp_now_ms() < ms)
		ms = s->deadline_ms - hyp_now_ms();
	if (ms > 0) {
		struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
	*backoff = *backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *backoff * 2;
}

/* One pass over the locks: 1 with *ret_fd and *ret_index when one was free, 0
 * when none was (*ret_n: how many exist), < 0 on an error. */
static int try_claim(const struct exec_session *s, int *ret_fd, unsigned *ret_index,
                     unsigned *ret_n, hyp_error *err)
{
	for (unsigned i = 0; i < MAX_PORTS; i++) {
		_cleanup_free_ char *path = hyp_exec_lock_path(s->job_dir, i);
		if (!path)
			return hyp_fail(err, ENOMEM, "out of memory");
		/* no O_CREAT: only the locks root made for the job user count */
		_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd < 0 && errno == ENOENT) {
			*ret_n = i;
			return 0;
		}
		if (fd < 0 && (errno == EACCES || errno == EPERM))
			return permission_denied(s->o->job_id, err);
		if (fd < 0)
			return hyp_fail_errno(err, "exec port lock '%s'", path);
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			*ret_fd = take_fd(&fd);
			*ret_index = i;
			return 1;
		}
		if (errno != EWOULDBLOCK)
			return hyp_fail_errno(err, "locking '%s'", path);
	}
	*ret_n = MAX_PORTS;
	return 0;
}

static int claim_timeout(const struct exec_session *s, unsigned nports, hyp_error *err)
{
	uint32_t id = s->o->job_id;
	if (nports > 0)
		return hyp_fail(err, EBUSY, "all %u exec ports of job %u are busy", nports, id);
	if (access(s->job_dir, F_OK) < 0)
		return hyp_fail(err, ENOENT, "job %u has no VM on this node (no %s)", id,
		                s->job_dir);
	_cleanup_free_ char *lock0 = hyp_exec_lock_path(s->job_dir, 0);
	return hyp_fail(err, ENOENT, "job %u has no VM on this node (no %s)", id,
	                lock0 ? lock0 : s->job_dir);
}

int exec_port_claim(struct exec_session *s, unsigned *ret_index, hyp_error *err)
{
	long long backoff = BACKOFF_MIN_MS;
	for (;;) {
		unsigned n = 0, index = 0;
		int fd = -1;
		int r = try_claim(s, &fd, &index, &n, err);
		if (r < 0)
			return r;
		if (r > 0) {
			s->lock_fd = fd;
			*ret_index = index;
			return 0;
		}
		/* all busy, or the VM is still being set up: wait and see */
		if (expired(s))
			return claim_timeout(s, n, err);
		backoff_sleep(s, &backoff);
	}
}

static int connect_once(const struct sockaddr_un *addr, int *ret_fd)
{
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0)
		return -errno;
	*ret_fd = take_fd(&fd);
	return 0;
}

static int set_nonblock(int fd, hyp_error *err)
{
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return hyp_fail_errno(err, "making the exec socket non-blocking");
	return 0;
}

int exec_port_connect(struct exec_session *s, unsigned index, hyp_error *err)
{
	_cleanup_free_ char *path = hyp_exec_socket_path(s->job_dir, index);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (!path)
		return hyp_fail(err, ENOMEM, "out of memory");
	if (strlen(path) >= sizeof(addr.sun_path))
		return hyp_fail(err, ENAMETOOLONG, "socket path '%s' is too long", path);
	strcpy(addr.sun_path, path);

	long long backoff = BACKOFF_MIN_MS;
	int r;
	/* QEMU may not listen yet (VM starting), or be between two clients; and
	 * root gives its socket to the job user only once it exists: the lock,
	 * which we could open, is what says whose port this is */
	while ((r = connect_once(&addr, &s->sock_fd)) == -ENOENT || r == -ECONNREFUSED ||
	       r == -EACCES) {
		if (expired(s))
			break;
		backoff_sleep(s, &backoff);
	}
	if (r == -EACCES || r == -EPERM)
		return permission_denied(s->o->job_id, err);
	if (r < 0) {
		errno = -r;
		return hyp_fail_errno(err, "job %u: exec port %u ('%s')", s->o->job_id, index,
		                      path);
	}
	return set_nonblock(s->sock_fd, err);
}

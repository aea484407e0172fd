/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio-serial ports: finding them in sysfs, and the process that
 * serves one of them, a session at a time, forever.
 *
 * What the guest driver (drivers/char/virtio_console.c) does: poll() on a
 * port reports POLLHUP for as long as no host client is connected, so a poll
 * loop cannot wait for a connection; the driver sends SIGIO (O_ASYNC) when
 * the host connects or disconnects, and when data arrives. Bytes the host
 * sent before it disconnected stay readable (then read() returns 0), and the
 * bytes of a new connection can arrive before its "connected" message: so
 * nothing is read while waiting, and the session skips what an earlier
 * connection left (agent_session.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_session.h"
#include "hyp_cleanup.h"
#include "hyp_proto.h"

#define HOST_WAIT_MS  1000 /* re-check the connection this often without a SIGIO */
#define OPEN_TRIES    50   /* the device node may appear just after its sysfs entry */
#define OPEN_RETRY_MS 20

static bool exec_port_name(const char *name)
{
	size_t len = strlen(HYP_PORT_EXEC_PREFIX);
	const char *n = name + len;

	if (strncmp(name, HYP_PORT_EXEC_PREFIX, len) != 0 || !*n || strlen(n) > 5)
		return false;
	return strspn(n, "0123456789") == strlen(n);
}

/* The port's name, as the host set it ("" while it has none yet). */
static void read_name(int dir_fd, const char *entry, char *name, size_t size)
{
	char path[300];

	name[0] = '\0';
	snprintf(path, sizeof(path), "%s/name", entry);
	_cleanup_close_ int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, name, size - 1) : -1;
	if (n <= 0)
		return;
	name[n] = '\0';
	name[strcspn(name, "\n")] = '\0';
}

static bool known(const struct agent_port *ports, size_t n, const char *dev)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ports[i].dev, dev) == 0)
			return true;
	return false;
}

static int add_port(struct agent_port **ports, size_t *n, const char *name, const char *entry,
                    hyp_error *err)
{
	struct agent_port *grown = realloc(*ports, (*n + 1) * sizeof(**ports));

	if (!grown)
		return hyp_fail(err, ENOMEM, "out of memory");
	*ports = grown;
	struct agent_port *p = &grown[(*n)++];
	*p = (struct agent_port){.kind = strcmp(name, HYP_PORT_CTL) == 0 ? AGENT_PORT_CTL
	                                                                 : AGENT_PORT_EXEC};
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->dev, sizeof(p->dev), "/dev/%.72s", entry);
	return 0;
}

int agent_ports_scan(const char *sysfs_dir, struct agent_port **ports, size_t *n, hyp_error *err)
{
	_cleanup_closedir_ DIR *d = opendir(sysfs_dir);
	struct dirent *de;
	int added = 0;

	if (!d)
		return errno == ENOENT ? 0 : hyp_fail_errno(err, "reading '%s'", sysfs_dir);
	while ((de = readdir(d))) {
		char name[64], dev[80];
		if (de->d_name[0] == '.' || strlen(de->d_name) > 72) /* vportNpM */
			continue;
		snprintf(dev, sizeof(dev), "/dev/%.72s", de->d_name);
		if (known(*ports, *n, dev))
			continue;
		read_name(dirfd(d), de->d_name, name, sizeof(name));
		if (strcmp(name, HYP_PORT_CTL) != 0 && !exec_port_name(name))
			continue;
		if (add_port(ports, n, name, de->d_name, err) < 0)
			return -err->code;
		added++;
	}
	return added;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int open_port(const struct agent_port *port, hyp_error *err)
{
	for (int i = 0;; i++) {
		int fd = open(port->dev, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd >= 0 && fcntl(fd, F_SETOWN, getpid()) < 0) {
			close(fd);
			return hyp_fail_errno(err, "port %s: F_SETOWN on '%s'", port->name,
			                      port->dev);
		}
		if (fd >= 0)
			return fd;
		/* ENOENT: devtmpfs is not there yet; EBUSY: our predecessor is closing */
		if ((errno != ENOENT && errno != EBUSY) || i + 1 >= OPEN_TRIES)
			return hyp_fail_errno(err, "port %s: opening '%s'", port->name, port->dev);
		sleep_ms(OPEN_RETRY_MS);
	}
}

static int set_async(int fd, bool on)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -errno;
	return fcntl(fd, F_SETFL, on ? flags | O_ASYNC : flags & ~O_ASYNC) < 0 ? -errno : 0;
}

/*
 * Until a host client is connected: 0, or 1 to stop, or < 0 on an error.
 * Nothing is read here: the bytes of a new connection may arrive before the
 * driver has processed the host's "connected" message (a separate queue).
 */
static int wait_host(int fd, int sigfd, const char *dev)
{
	int r = set_async(fd, true); /* before the check: no connection goes unnoticed */

	while (r == 0) {
		struct pollfd p = {fd, 0, 0};
		if (poll(&p, 1, 0) < 0 && errno != EINTR)
			return -errno;
		if (!(p.revents & POLLHUP))
			break;
		p = (struct pollfd){sigfd, POLLIN, 0};
		if (poll(&p, 1, HOST_WAIT_MS) < 0 && errno != EINTR)
			return -errno;
		r = agent_idle_signals(sigfd);
		if (r == 0 && access(dev, F_OK) < 0)
			return -ENODEV; /* unplugged */
	}
	/* in a session, SIGIO would only wake us up for every byte the host sends */
	int a = set_async(fd, false);
	return r != 0 ? r : a;
}

int agent_port_session(int fd, enum agent_port_kind kind, int sigfd, const struct agent_config *cfg)
{
	return agent_session_serve(fd, kind, sigfd, cfg) == SESSION_TERMINATED;
}

void agent_port_run(const struct agent_port *port, const struct agent_config *cfg)
{
	hyp_error err = {0};
	int sigfd = agent_signalfd(&err);
	int fd = sigfd < 0 ? -1 : open_port(port, &err);

	prctl(PR_SET_CHILD_SUBREAPER, 1); /* what the commands leave behind is ours */
	if (fd < 0) {
		agent_log("%s", err.msg);
		_exit(err.code == ENOENT || err.code == ENODEV ? AGENT_EXIT_PORT_GONE : 1);
	}
	for (;;) {
		int r = wait_host(fd, sigfd, port->dev);
		if (r == 0)
			r = agent_port_session(fd, port->kind, sigfd, cfg);
		if (r == 1)
			_exit(0);
		if (r < 0) {
			errno = -r;
			agent_log("port %s: %m", port->name);
			_exit(r == -ENODEV ? AGENT_EXIT_PORT_GONE : 1);
		}
	}
}

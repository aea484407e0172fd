/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest looks like the node it serves (agent_bootcfg.h): the Slurm
 * node's name as host name, resolved by /etc/hosts; the job user and its
 * groups by name in /etc/passwd and /etc/group (added when missing, so
 * `id` prints what it prints on the host); each share mounted at its host
 * path (nosuid, nodev). Nothing here is fatal: the console says what
 * failed, and commands still run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "agent_bootcfg.h"
#include "hyp_cleanup.h"

#define DEFAULT_HOSTNAME "hyperion"
#define FILE_MAX         (256 * 1024)

/* The whole of a small file ("" when missing). */
static void read_small(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : 0;
	buf[n > 0 ? n : 0] = '\0';
}

static void append_line(const char *path, const char *line)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		agent_log("writing %s: %m", path);
}

/* Is there a line starting with `field` followed by ':'? */
static bool has_entry(const char *text, const char *field)
{
	size_t n = strlen(field);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, field, n) && p[n] == ':')
			return true;
	return false;
}

/* Is `name` a whitespace-separated word of the text? */
static bool has_word(const char *text, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strstr(text, name); p; p = strstr(p + 1, name))
		if ((p == text || strchr(" \t\n", p[-1])) && strchr(" \t\n", p[n]))
			return true;
	return false;
}

/* /etc/hosts: localhost, and the node's name on 127.0.1.1 instead of any
 * name there was (the appliance's "hyperion", a disk image's own); with a
 * guest network, every node of the job on its address, this one too. */
static void write_hosts(const char *name, const struct agent_net *net)
{
	static char text[FILE_MAX], out[FILE_MAX + 256];
	size_t k = 0;
	read_small("/etc/hosts", text, sizeof(text));
	if (!has_word(text, "localhost"))
		k += (size_t)snprintf(out, sizeof(out), "127.0.0.1\tlocalhost\n");
	for (char *line = text, *next; *line; line = next) {
		next = line + strcspn(line, "\n");
		next += *next == '\n';
		if (strncmp(line, "127.0.1.1", 9) != 0 && k + (size_t)(next - line) < FILE_MAX)
			k += (size_t)snprintf(out + k, sizeof(out) - k, "%.*s", (int)(next - line),
			                      line);
	}
	if (k && out[k - 1] != '\n')
		out[k++] = '\n';
	if (!agent_net_names(net, name))
		snprintf(out + k, sizeof(out) - k, "127.0.1.1\t%s\n", name);
	_cleanup_close_ int fd =
	    open("/etc/hosts.hyperion", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, out, strlen(out)) != (ssize_t)strlen(out) ||
	    agent_net_write_hosts(net, fd) < 0 || rename("/etc/hosts.hyperion", "/etc/hosts") < 0)
		agent_log("writing /etc/hosts: %m");
}

static void set_host(const char *name, const struct agent_net *net)
{
	if (sethostname(name, strlen(name)) < 0)
		agent_log("setting the host name '%s': %m", name);
	write_hosts(name, net);
}

static void add_user(const struct agent_bootcfg *b)
{
	static char text[FILE_MAX];
	char line[AGENT_NAME_MAX + AGENT_PATH_MAX + 64];
	read_small("/etc/passwd", text, sizeof(text));
	if (has_entry(text, b->user))
		return;
	snprintf(line, sizeof(line), "%s:x:%u:%u::%s:/bin/sh\n", b->user, (unsigned)b->uid,
	         (unsigned)b->gid, b->home);
	append_line("/etc/passwd", line);
}

static void add_groups(const struct agent_bootcfg *b)
{
	static char text[FILE_MAX];
	char line[2 * AGENT_NAME_MAX + 32];
	read_small("/etc/group", text, sizeof(text));
	for (size_t i = 0; i < b->ngroups; i++) {
		if (has_entry(text, b->groups[i].name))
			continue;
		snprintf(line, sizeof(line), "%s:x:%u:%s\n", b->groups[i].name,
		         (unsigned)b->groups[i].gid, b->has_user ? b->user : "");
		append_line("/etc/group", line);
	}
}

/* mkdir -p, root 0755 */
static int make_path(const char *path)
{
	char buf[AGENT_PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		if (!(*p = c))
			return 0;
	}
}

static void mount_shares(const struct agent_bootcfg *b)
{
	for (size_t i = 0; i < b->nshares; i++) {
		const struct agent_share *s = &b->shares[i];
		if (make_path(s->path) < 0)
			agent_log("share %s: creating the mount point: %m", s->path);
		else if (mount(s->tag, s->path, "virtiofs", MS_NOSUID | MS_NODEV, NULL) < 0)
			agent_log("share %s: mounting virtio-fs '%s': %m", s->path, s->tag);
	}
}

void agent_identity_apply(const struct agent_bootcfg *b)
{
	set_host(b && b->hostname[0] ? b->hostname : DEFAULT_HOSTNAME, b ? &b->net : NULL);
	if (!b)
		return;
	if (b->has_user)
		add_user(b);
	add_groups(b);
	mount_shares(b);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hyp_names.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_cleanup.h"

#define JOB_ENTRY_PREFIX "job."
#define EXEC_SOCKET_FMT  "exec.%u.sock"
#define EXEC_LOCK_FMT    "exec.%u.lock"
#define FS_SOCKET_FMT    "fs.%u.sock"
#define FS_TAG_FMT       "hypfs%u"

static char *xasprintf(const char *fmt, ...) HYP_PRINTF(1, 2);

static char *xasprintf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int hyp_node_name_check(const char *node, hyp_error *err)
{
	size_t len = node ? strlen(node) : 0;
	if (len == 0)
		return hyp_fail(err, EINVAL, "empty node name");
	if (len > HYP_NODE_NAME_MAX)
		return hyp_fail(err, EINVAL, "node name '%.20s...' is longer than %d characters",
		                node, HYP_NODE_NAME_MAX);
	if (!is_alnum(node[0]))
		return hyp_fail(err, EINVAL, "node name '%s' must start with a letter or digit",
		                node);
	for (const char *p = node; *p; p++)
		if (!is_alnum(*p) && !strchr("._-", *p))
			return hyp_fail(err, EINVAL,
			                "node name '%s': character '%c' not allowed (letters, "
			                "digits, '.', '_', '-')",
			                node, *p);
	return 0;
}

int hyp_node_name_default(char *buf, size_t size, hyp_error *err)
{
	char host[256];
	if (gethostname(host, sizeof(host)) < 0)
		return hyp_fail_errno(err, "gethostname");
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	if ((size_t)snprintf(buf, size, "%s", host) >= size)
		return hyp_fail(err, ENAMETOOLONG, "host name '%s' too long", host);
	return hyp_node_name_check(buf, err);
}

char *hyp_domain_name(const char *node, uint32_t job_id)
{
	return xasprintf(HYP_DOMAIN_PREFIX "%s-%u", node, job_id);
}

char *hyp_node_dir(const char *state_dir, const char *node)
{
	return xasprintf("%s/%s", state_dir, node);
}

char *hyp_job_dir(const char *state_dir, const char *node, uint32_t job_id)
{
	return xasprintf("%s/%s/" JOB_ENTRY_PREFIX "%u", state_dir, node, job_id);
}

char *hyp_job_lock_path(const char *state_dir, const char *node, uint32_t job_id)
{
	return xasprintf("%s/%s/" JOB_ENTRY_PREFIX "%u.lock", state_dir, node, job_id);
}

char *hyp_job_resources_path(const char *state_dir, const char *node, uint32_t job_id)
{
	return xasprintf("%s/%s/" JOB_ENTRY_PREFIX "%u.res", state_dir, node, job_id);
}

char *hyp_job_file(const char *job_dir, const char *name)
{
	return xasprintf("%s/%s", job_dir, name);
}

char *hyp_exec_socket_path(const char *job_dir, unsigned i)
{
	return xasprintf("%s/" EXEC_SOCKET_FMT, job_dir, i);
}

char *hyp_exec_lock_path(const char *job_dir, unsigned i)
{
	return xasprintf("%s/" EXEC_LOCK_FMT, job_dir, i);
}

char *hyp_fs_socket_path(const char *job_dir, unsigned i)
{
	return xasprintf("%s/" FS_SOCKET_FMT, job_dir, i);
}

char *hyp_fs_tag(unsigned i)
{
	return xasprintf(FS_TAG_FMT, i);
}

int hyp_names_check_length(const char *state_dir, const char *node, uint32_t job_id, unsigned nexec,
                           hyp_error *err)
{
	_cleanup_free_ char *dir = hyp_job_dir(state_dir, node, job_id);
	_cleanup_free_ char *sock = dir ? hyp_exec_socket_path(dir, nexec ? nexec - 1 : 0) : NULL;
	if (!sock)
		return hyp_fail(err, ENOMEM, "out of memory");
	if (strlen(sock) >= HYP_SOCKET_PATH_MAX)
		return hyp_fail(err, ENAMETOOLONG,
		                "socket path '%s' is %zu characters, more than a unix socket's "
		                "%d: shorten state_dir or the node name",
		                sock, strlen(sock), HYP_SOCKET_PATH_MAX - 1);
	return 0;
}

static bool parse_id(const char *s, const char **ret_end, uint32_t *ret_id)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || v > UINT32_MAX || v == 0)
		return false;
	*ret_end = end;
	*ret_id = (uint32_t)v;
	return true;
}

bool hyp_domain_name_parse(const char *name, char *node_buf, size_t node_size, uint32_t *ret_job_id)
{
	size_t plen = strlen(HYP_DOMAIN_PREFIX);
	if (!name || strncmp(name, HYP_DOMAIN_PREFIX, plen) != 0)
		return false;
	const char *node = name + plen, *dash = strrchr(node, '-'), *end;
	uint32_t id;
	if (!dash || dash == node || !parse_id(dash + 1, &end, &id) || *end)
		return false;
	size_t len = (size_t)(dash - node);
	if (len >= node_size)
		return false;
	memcpy(node_buf, node, len);
	node_buf[len] = '\0';
	if (hyp_node_name_check(node_buf, &(hyp_error){0}) < 0)
		return false;
	*ret_job_id = id;
	return true;
}

bool hyp_job_entry_parse(const char *entry, uint32_t *ret_job_id)
{
	const char *end;
	uint32_t id;
	if (strncmp(entry, JOB_ENTRY_PREFIX, strlen(JOB_ENTRY_PREFIX)) != 0 ||
	    !parse_id(entry + strlen(JOB_ENTRY_PREFIX), &end, &id))
		return false;
	if (*end && strcmp(end, ".lock") && strcmp(end, ".res"))
		return false;
	*ret_job_id = id;
	return true;
}

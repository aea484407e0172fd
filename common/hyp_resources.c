/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hyp_resources.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_net.h"
#include "hyp_statedir.h"
#include "hyp_vf.h"
#include "hyp_vm.h"

#define LINE_MAX_LEN 4096
#define KILL_WAIT_MS 2000
#define KILL_POLL_MS 10

/* Each returns 1 when it released something, 0 when it was already gone,
 * or a negative error. */
typedef int (*release_fn)(const struct hyp_release_ctx *ctx, const char *value, hyp_error *err);

static int release_dir(const struct hyp_release_ctx *ctx, const char *value, hyp_error *err)
{
	if (access(value, F_OK) < 0 && errno == ENOENT)
		return 0;
	int r = hyp_job_dir_remove(value, err);
	return r < 0 ? r : 1;
}

static int release_file(const struct hyp_release_ctx *ctx, const char *value, hyp_error *err)
{
	if (unlink(value) == 0)
		return 1;
	return errno == ENOENT ? 0 : hyp_fail_errno(err, "removing '%s'", value);
}

static int release_domain(const struct hyp_release_ctx *ctx, const char *value, hyp_error *err)
{
	if (!ctx->conn)
		return hyp_fail(err, ENOTCONN, "domain '%s': no libvirt connection", value);
	return hyp_vm_domain_destroy(ctx->conn, value, err);
}

/* Field 22 of /proc/PID/stat: the start time, in clock ticks since boot. */
static int process_start_time(pid_t pid, unsigned long long *ret_start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!p)
		return -EIO;
	unsigned long long start;
	/* after ") ": state is field 3; start time field 22 */
	if (sscanf(p + 2,
	           "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
	           "%*d %*d %llu",
	           &start) != 1)
		return -EIO;
	*ret_start = start;
	return 0;
}

static bool same_process(pid_t pid, unsigned long long start)
{
	unsigned long long now;
	return process_start_time(pid, &now) == 0 && now == start;
}

/* A process's state letter and process group, from /proc/PID/stat. */
static bool proc_state(const char *pid, char *ret_state, pid_t *ret_pgrp)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n <= 0)
		return false;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')'); /* the command name may hold anything */
	int pgrp;
	if (!p || sscanf(p + 1, " %c %*d %d", ret_state, &pgrp) != 2)
		return false;
	*ret_pgrp = pgrp;
	return true;
}

/* A live (not zombie) member of process group `pgid`, found through /proc. */
static bool group_alive(pid_t pgid)
{
	_cleanup_closedir_ DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char state;
		pid_t pgrp;
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9' &&
		    proc_state(de->d_name, &state, &pgrp) && pgrp == pgid && state != 'Z')
			return true;
	}
	return false;
}

/* Anything left of the process, and of its group if it leads one (a helper
 * started with hyp_spawn's new_session takes what it forked with it). */
static bool process_left(pid_t pid, unsigned long long start, bool group)
{
	if (group)
		return group_alive(pid);
	char state = 0, id[16];
	pid_t pgrp;
	snprintf(id, sizeof(id), "%d", (int)pid);
	return proc_state(id, &state, &pgrp) && state != 'Z' && same_process(pid, start);
}

static int release_process(const struct hyp_release_ctx *ctx, const char *value, hyp_error *err)
{
	int pid;
	unsigned long long start;
	if (sscanf(value, "%d %llu", &pid, &start) != 2 || pid <= 1)
		return hyp_fail(err, EINVAL, "bad process entry '%s'", value);
	if (!same_process(pid, start))
		return 0;
	bool group = getpgid(pid) == pid;
	if (group && kill(-pid, SIGKILL) < 0 && errno != ESRCH)
		return hyp_fail_errno(err, "killing process group %d", pid);
	if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
		return hyp_fail_errno(err, "killing process %d", pid);
	/* Not our child: wait for it to leave (or become a zombie). */
	for (int waited = 0; waited < KILL_WAIT_MS; waited += KILL_POLL_MS) {
		if (!process_left(pid, start, group))
			return 1;
		nanosleep(&(struct timespec){.tv_nsec = KILL_POLL_MS * 1000000L}, NULL);
	}
	return hyp_fail(err, EBUSY, "process %d still alive after SIGKILL", pid);
}

/* A VF lease (hyp_vf.h), after its domain is gone: libvirt has reset the
 * VF and given it back to its host driver. */
static int release_vf(const struct hyp_release_ctx *ctx, const char *value, hyp_error *err)
{
	return hyp_vf_release(value, err);
}

static int release_marker(const struct hyp_release_ctx *ctx, const char *value, hyp_error *err)
{
	return 0;
}

static const struct {
	const char *kind;
	release_fn release;
} kinds[] = {
    {HYP_RES_DIR, release_dir},         {HYP_RES_FILE, release_file},
    {HYP_RES_DOMAIN, release_domain},   {HYP_RES_PROCESS, release_process},
    {HYP_RES_READY, release_marker},    {HYP_RES_BOOTED, release_marker},
    {HYP_RES_MANAGER, release_marker},  {HYP_RES_NETDEV, hyp_net_release_netdev},
    {HYP_RES_FDB, hyp_net_release_fdb}, {HYP_RES_VF, release_vf},
};

static release_fn find_kind(const char *kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].kind, kind))
			return kinds[i].release;
	return NULL;
}

int hyp_resources_add(const char *list, const char *kind, const char *value, hyp_error *err)
{
	if (!find_kind(kind) || strchr(value, '\n') || strlen(value) > LINE_MAX_LEN / 2)
		return hyp_fail(err, EINVAL, "resource list: bad entry '%s %s'", kind, value);
	_cleanup_close_ int fd =
	    open(list, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return hyp_fail_errno(err, "opening resource list '%s'", list);
	_cleanup_free_ char *line = NULL;
	int len = asprintf(&line, "%s %s\n", kind, value);
	if (len < 0) {
		line = NULL;
		return hyp_fail(err, ENOMEM, "out of memory");
	}
	if (write(fd, line, (size_t)len) != len || fsync(fd) < 0)
		return hyp_fail_errno(err, "writing resource list '%s'", list);
	return 0;
}

int hyp_resources_add_process(const char *list, pid_t pid, hyp_error *err)
{
	unsigned long long start;
	int r = process_start_time(pid, &start);
	if (r < 0) {
		errno = -r;
		return hyp_fail_errno(err, "process %d", (int)pid);
	}
	char value[64];
	snprintf(value, sizeof(value), "%d %llu", (int)pid, start);
	return hyp_resources_add(list, HYP_RES_PROCESS, value, err);
}

/* The list's lines (NULL-terminated); a missing list has none. */
static int read_lines(const char *list, char ***ret_lines, size_t *ret_n, hyp_error *err)
{
	_cleanup_strv_ char **lines = calloc(1, sizeof(char *));
	size_t n = 0;
	_cleanup_fclose_ FILE *f = fopen(list, "re");
	if (!lines)
		return hyp_fail(err, ENOMEM, "out of memory");
	if (!f && errno != ENOENT)
		return hyp_fail_errno(err, "opening resource list '%s'", list);
	char buf[LINE_MAX_LEN];
	while (f && fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (!buf[0])
			continue;
		char **p = realloc(lines, (n + 2) * sizeof(*p));
		if (!p)
			return hyp_fail(err, ENOMEM, "out of memory");
		lines = p;
		if (!(lines[n] = strdup(buf)))
			return hyp_fail(err, ENOMEM, "out of memory");
		lines[++n] = NULL;
	}
	*ret_lines = steal_pointer(&lines);
	*ret_n = n;
	return 0;
}

/* The last line of that kind, or NULL. */
static const char *last_of_kind(char **lines, size_t n, const char *kind)
{
	size_t klen = strlen(kind);
	for (size_t i = n; i-- > 0;)
		if (!strncmp(lines[i], kind, klen) && (lines[i][klen] == ' ' || !lines[i][klen]))
			return lines[i];
	return NULL;
}

int hyp_resources_has(const char *list, const char *kind, bool *ret_has, hyp_error *err)
{
	_cleanup_strv_ char **lines = NULL;
	size_t n;
	int r = read_lines(list, &lines, &n, err);
	if (r < 0)
		return r;
	*ret_has = last_of_kind(lines, n, kind) != NULL;
	return 0;
}

int hyp_resources_get(const char *list, const char *kind, char **ret_value, hyp_error *err)
{
	_cleanup_strv_ char **lines = NULL;
	size_t n;
	int r = read_lines(list, &lines, &n, err);
	if (r < 0)
		return r;
	const char *line = last_of_kind(lines, n, kind);
	char *value = NULL;
	if (line && !(value = strdup(line[strlen(kind)] ? line + strlen(kind) + 1 : "")))
		return hyp_fail(err, ENOMEM, "out of memory");
	*ret_value = value;
	return 0;
}

static int release_line(const struct hyp_release_ctx *ctx, char *line, hyp_error *err)
{
	char *value = strchr(line, ' ');
	if (value)
		*value++ = '\0';
	release_fn release = find_kind(line);
	if (!release)
		return hyp_fail(err, EINVAL, "unknown resource kind '%s'", line);
	int r = release(ctx, value ? value : "", err);
	if (r > 0 && ctx->log)
		ctx->log(ctx->log_data, line, value ? value : "");
	return r;
}

int hyp_resources_release(const char *list, const struct hyp_release_ctx *ctx, hyp_error *err)
{
	_cleanup_strv_ char **lines = NULL;
	size_t n;
	int r = read_lines(list, &lines, &n, err);
	if (r < 0)
		return r;
	int first = 0;
	for (size_t i = n; i-- > 0;) {
		hyp_error e = {0};
		if ((r = release_line(ctx, lines[i], &e)) < 0 && first == 0) {
			first = r;
			*err = e;
		}
	}
	if (first < 0)
		return hyp_error_prefix(err, "releasing '%s'", list);
	if (unlink(list) < 0 && errno != ENOENT)
		return hyp_fail_errno(err, "removing resource list '%s'", list);
	return 0;
}

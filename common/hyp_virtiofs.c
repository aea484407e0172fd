/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtiofsd per share (hyp_virtiofs.h). Its options (doc/admin-guide.md,
 * "Shares"): sandbox=namespace (its default: a mount namespace with
 * pivot_root into the shared directory, so no path from the guest, ".."
 * or an absolute symbolic link, resolves outside it), cache=auto,
 * no_posix_lock and no_flock (locks are local to the guest), no_xattr
 * (no security.*, trusted.* or ACL games), no announce_submounts.
 */
#include "hyp_virtiofs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_resources.h"
#include "hyp_shares.h"
#include "hyp_spawn.h"

#define START_WAIT_MS 300 /* a virtiofsd that fails, fails within this */
#define POLL_MS       10
#define LOG_LINE      256
/* virtiofsd holds an fd per inode the guest caches, and raises its own
 * limit to 1,000,000 when it can: a hard limit that lets it (the job
 * user's shell limit, often a few thousand, would fail a job creating many
 * files). Capped by fs.nr_open. */
#define NOFILE_WANTED 1048576UL

/* The share's real path, which must still lie in its allowlist entry's
 * (a symbolic link in the path must not lead out of it). */
static int resolve_share(const struct hyp_vm_spec *spec, const struct hyp_share *s,
                         char real[PATH_MAX], hyp_error *err)
{
	char root[PATH_MAX];
	struct stat st;
	if (!realpath(s->path, real) || stat(real, &st) < 0)
		return hyp_fail(err, errno == ENOTDIR ? ENOENT : errno,
		                "share '%s': not found on node %s: %s", s->path, spec->node,
		                strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return hyp_fail(err, ENOTDIR, "share '%s' on node %s is not a directory", s->path,
		                spec->node);
	if (!realpath(s->root, root) || !hyp_share_path_within(real, root))
		return hyp_fail(err, EINVAL, "share '%s' on node %s leads to '%s', outside '%s'",
		                s->path, spec->node, real, s->root);
	return 0;
}

/* The listening socket, the job user's and 0600 (recorded first). */
static int listen_socket(const struct hyp_vm_spec *spec, const struct hyp_share *s,
                         const char *resources, int *ret_fd, hyp_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(s->socket) >= sizeof(addr.sun_path))
		return hyp_fail(err, ENAMETOOLONG, "socket path '%s' too long", s->socket);
	strcpy(addr.sun_path, s->socket);
	int r = hyp_resources_add(resources, HYP_RES_FILE, s->socket, err);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    fchownat(AT_FDCWD, s->socket, spec->uid, spec->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    chmod(s->socket, 0600) < 0 || listen(fd, 1) < 0)
		return hyp_fail_errno(err, "share '%s': socket '%s'", s->path, s->socket);
	*ret_fd = take_fd(&fd);
	return 0;
}

/* virtiofsd's stderr: <socket without .sock>.log, root's (recorded first). */
static int open_log(const struct hyp_share *s, const char *resources, char **ret_path, int *ret_fd,
                    hyp_error *err)
{
	_cleanup_free_ char *path = NULL;
	size_t len = strlen(s->socket) - strlen(".sock");
	if (asprintf(&path, "%.*s.log", (int)len, s->socket) < 0)
		return path = NULL, hyp_fail(err, ENOMEM, "out of memory");
	int r = hyp_resources_add(resources, HYP_RES_FILE, path, err);
	if (r < 0)
		return r;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return hyp_fail_errno(err, "creating '%s'", path);
	*ret_path = steal_pointer(&path);
	*ret_fd = fd;
	return 0;
}

/* "source=PATH" with fuse's option separators escaped. */
static char *source_option(const char *path)
{
	char *out = malloc(strlen("source=") + 2 * strlen(path) + 1);
	if (!out)
		return NULL;
	char *k = stpcpy(out, "source=");
	for (const char *p = path; *p; p++) {
		if (*p == ',' || *p == '\\')
			*k++ = '\\';
		*k++ = *p;
	}
	*k = '\0';
	return out;
}

static unsigned long nofile_limit(void)
{
	unsigned long max = 0;
	_cleanup_fclose_ FILE *f = fopen("/proc/sys/fs/nr_open", "re");
	if (!f || fscanf(f, "%lu", &max) != 1 || max > NOFILE_WANTED)
		max = NOFILE_WANTED;
	return max;
}

static int spawn(const struct hyp_vm_spec *spec, const char *real, int sock, int log,
                 pid_t *ret_pid, hyp_error *err)
{
	_cleanup_free_ char *source = source_option(real);
	if (!source)
		return hyp_fail(err, ENOMEM, "out of memory");
	const char *argv[] = {HYP_UNSHARE_PATH,
	                      "--user",
	                      "--map-current-user",
	                      "--keep-caps",
	                      "--",
	                      spec->virtiofsd,
	                      "--fd=4",
	                      "-o",
	                      source,
	                      "-o",
	                      "sandbox=namespace,cache=auto,no_posix_lock,no_flock,no_xattr",
	                      "-o",
	                      "log_level=warn",
	                      NULL};
	_Static_assert(HYP_SPAWN_PASS_FD == 4, "--fd=4");
	struct hyp_spawn sp = {.argv = argv,
	                       .drop = true,
	                       .uid = spec->uid,
	                       .gid = spec->gid,
	                       .out_fd = log,
	                       .err_fd = log,
	                       .new_session = true,
	                       .pass_fd = sock,
	                       .nofile = nofile_limit()};
	return hyp_spawn_start(&sp, ret_pid, err);
}

static void first_line(const char *path, char line[LOG_LINE])
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	line[0] = '\0';
	if (f && fgets(line, LOG_LINE, f))
		line[strcspn(line, "\n")] = '\0';
}

/* Still running after START_WAIT_MS, or the reason it is not. */
static int check_started(const struct hyp_share *s, pid_t *pid, const char *log, hyp_error *err)
{
	for (int waited = 0; waited < START_WAIT_MS; waited += POLL_MS) {
		int status;
		pid_t r = waitpid(*pid, &status, WNOHANG);
		if (r == *pid) {
			*pid = -1;
			char line[LOG_LINE];
			first_line(log, line);
			hyp_spawn_status_fail("virtiofsd", status, line, err);
			return hyp_error_prefix(err, "share '%s'", s->path);
		}
		nanosleep(&(struct timespec){.tv_nsec = POLL_MS * 1000000L}, NULL);
	}
	return 0;
}

static int start_one(const struct hyp_vm_spec *spec, const struct hyp_share *s,
                     const char *resources, hyp_error *err)
{
	char real[PATH_MAX];
	_cleanup_close_ int sock = -1, log = -1;
	_cleanup_free_ char *log_path = NULL;
	_cleanup_pid_ pid_t pid = -1;
	int r = resolve_share(spec, s, real, err);
	if (r >= 0)
		r = listen_socket(spec, s, resources, &sock, err);
	if (r >= 0)
		r = open_log(s, resources, &log_path, &log, err);
	if (r >= 0 && (r = spawn(spec, real, sock, log, &pid, err)) < 0)
		hyp_error_prefix(err, "share '%s'", s->path);
	if (r >= 0)
		r = check_started(s, &pid, log_path, err);
	if (r >= 0)
		r = hyp_resources_add_process(resources, pid, err);
	if (r >= 0)
		take_pid(&pid); /* runs on; the resource list ends it */
	return r;
}

static int check_programs(const struct hyp_vm_spec *spec, hyp_error *err)
{
	const char *progs[] = {spec->virtiofsd, HYP_UNSHARE_PATH};
	for (size_t i = 0; i < 2; i++)
		if (progs[i][0] != '/' || access(progs[i], X_OK) < 0)
			return hyp_fail(
			    err, errno == EACCES ? EACCES : ENOENT, "shares need %s (%s): %s",
			    progs[i], i ? "util-linux" : "hyperion.conf: virtiofsd",
			    progs[i][0] != '/' ? "not an absolute path" : strerror(errno));
	return 0;
}

int hyp_virtiofs_start(const struct hyp_vm_spec *spec, const char *resources, hyp_error *err)
{
	int r = spec->nshares ? check_programs(spec, err) : 0;
	for (size_t i = 0; r >= 0 && i < spec->nshares; i++)
		r = start_one(spec, &spec->shares[i], resources, err);
	return r;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The per-job state directory, its locks, and the console tail. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_console.h"
#include "hyp_statedir.h"

#define NODE "n1"

static char state[64];

static void setup(void)
{
	snprintf(state, sizeof(state), "/tmp/hyp-test-state.XXXXXX");
	cr_assert_not_null(mkdtemp(state));
	chmod(state, 0755);
	hyp_error err = {0};
	cr_assert_eq(hyp_node_dir_ensure(state, NODE, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(statedir, .init = setup, .fini = teardown);

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

Test(statedir, paths)
{
	_cleanup_free_ char *dir = hyp_job_dir("/run/hyperion", "node-1", 42);
	cr_assert_str_eq(dir, "/run/hyperion/node-1/job.42");
	_cleanup_free_ char *sock = hyp_exec_socket_path(dir, 3);
	cr_assert_str_eq(sock, "/run/hyperion/node-1/job.42/exec.3.sock");
	_cleanup_free_ char *lock = hyp_exec_lock_path(dir, 0);
	cr_assert_str_eq(lock, "/run/hyperion/node-1/job.42/exec.0.lock");
	_cleanup_free_ char *ctl = hyp_job_file(dir, HYP_CTL_SOCKET);
	cr_assert_str_eq(ctl, "/run/hyperion/node-1/job.42/ctl.sock");
	_cleanup_free_ char *res = hyp_job_resources_path("/run/hyperion", "node-1", 42);
	cr_assert_str_eq(res, "/run/hyperion/node-1/job.42.res");
	_cleanup_free_ char *dom = hyp_domain_name("node-1", 42);
	cr_assert_str_eq(dom, "hyperion-node-1-42");
}

Test(statedir, create_gives_user_files_to_the_user)
{
	hyp_error err = {0};
	_cleanup_free_ char *dir = hyp_job_dir(state, NODE, 7);
	uid_t uid = geteuid() == 0 ? 4242 : getuid();
	gid_t gid = geteuid() == 0 ? 4343 : getgid();
	cr_assert_eq(hyp_job_dir_create(dir, 3, uid, gid, &err), 0, "%s", err.msg);

	struct stat st;
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0711);
	cr_assert_eq(st.st_uid, geteuid());
	const char *names[] = {"exec.0.lock", "exec.1.lock", "exec.2.lock", HYP_CONSOLE_LOG};
	for (size_t i = 0; i < 4; i++) {
		_cleanup_free_ char *p = hyp_job_file(dir, names[i]);
		cr_assert_eq(stat(p, &st), 0, "%s", p);
		cr_assert_eq(st.st_mode & 07777, 0600, "%s", p);
		cr_assert_eq(st.st_uid, uid, "%s", p);
		cr_assert_eq(st.st_gid, gid, "%s", p);
	}
	_cleanup_free_ char *extra = hyp_job_file(dir, "exec.3.lock");
	cr_assert_neq(access(extra, F_OK), 0);

	/* A second create must not reuse what is there. */
	cr_assert_eq(hyp_job_dir_create(dir, 3, uid, gid, &err), -EEXIST);
	cr_assert(strstr(err.msg, dir));
}

Test(statedir, chown_sockets)
{
	hyp_error err = {0};
	_cleanup_free_ char *dir = hyp_job_dir(state, NODE, 8);
	uid_t uid = geteuid() == 0 ? 4242 : getuid();
	cr_assert_eq(hyp_job_dir_create(dir, 1, uid, uid, &err), 0, "%s", err.msg);
	_cleanup_free_ char *sock = hyp_exec_socket_path(dir, 0);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	chmod(sock, 0777);

	cr_assert_eq(hyp_job_dir_chown_sockets(dir, uid, uid, &err), 0, "%s", err.msg);
	struct stat st;
	cr_assert_eq(stat(sock, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(st.st_uid, uid);
}

Test(statedir, chown_refuses_a_non_socket)
{
	hyp_error err = {0};
	_cleanup_free_ char *dir = hyp_job_dir(state, NODE, 9);
	cr_assert_eq(hyp_job_dir_create(dir, 1, getuid(), getgid(), &err), 0, "%s", err.msg);
	_cleanup_free_ char *fake = hyp_job_file(dir, "ctl.sock");
	cr_assert_eq(symlink("/etc/passwd", fake), 0);
	cr_assert_lt(hyp_job_dir_chown_sockets(dir, getuid(), getgid(), &err), 0);
	cr_assert(strstr(err.msg, "not a socket"), "%s", err.msg);
}

Test(statedir, remove_is_idempotent)
{
	hyp_error err = {0};
	_cleanup_free_ char *dir = hyp_job_dir(state, NODE, 10);
	cr_assert_eq(hyp_job_dir_create(dir, 2, getuid(), getgid(), &err), 0, "%s", err.msg);
	cr_assert_eq(hyp_job_dir_remove(dir, &err), 0, "%s", err.msg);
	cr_assert_neq(access(dir, F_OK), 0);
	cr_assert_eq(hyp_job_dir_remove(dir, &err), 0, "%s", err.msg);
}

Test(statedir, lock_excludes_and_times_out)
{
	hyp_error err = {0};
	int fd = hyp_job_lock(state, NODE, 5, 1, &err);
	cr_assert_geq(fd, 0, "%s", err.msg);
	cr_assert_eq(hyp_job_lock(state, NODE, 5, 1, &err), -ETIMEDOUT);
	cr_assert(strstr(err.msg, "job 5"), "%s", err.msg);
	int other = hyp_job_lock(state, NODE, 6, 1, &err);
	cr_assert_geq(other, 0, "a different job is not blocked: %s", err.msg);
	hyp_job_unlock(state, NODE, 6, other, true);

	hyp_job_unlock(state, NODE, 5, fd, false);
	fd = hyp_job_lock(state, NODE, 5, 1, &err);
	cr_assert_geq(fd, 0, "%s", err.msg);
	hyp_job_unlock(state, NODE, 5, fd, true);
	char path[128];
	snprintf(path, sizeof(path), "%s/" NODE "/job.5.lock", state);
	cr_assert_neq(access(path, F_OK), 0, "teardown removes the lock file");
}

Test(statedir, lock_survives_removal_by_the_holder)
{
	hyp_error err = {0};
	char path[128];
	snprintf(path, sizeof(path), "%s/" NODE "/job.11.lock", state);
	int fd = hyp_job_lock(state, NODE, 11, 1, &err);
	cr_assert_geq(fd, 0, "%s", err.msg);
	/* A waiter that opened the old file before it was removed must not
	 * end up holding a lock on an unlinked inode. */
	int stale = open(path, O_RDWR | O_CLOEXEC);
	hyp_job_unlock(state, NODE, 11, fd, true);
	cr_assert_eq(flock(stale, LOCK_EX | LOCK_NB), 0);
	int again = hyp_job_lock(state, NODE, 11, 1, &err);
	cr_assert_geq(again, 0, "%s", err.msg);
	struct stat a, b;
	fstat(again, &a);
	cr_assert_eq(stat(path, &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino);
	close(stale);
	hyp_job_unlock(state, NODE, 11, again, true);
}

Test(statedir, list_jobs)
{
	hyp_error err = {0};
	_cleanup_free_ char *d1 = hyp_job_dir(state, NODE, 12);
	cr_assert_eq(hyp_job_dir_create(d1, 1, getuid(), getgid(), &err), 0);
	int fd = hyp_job_lock(state, NODE, 13, 1, &err);
	cr_assert_geq(fd, 0);
	char junk[128];
	snprintf(junk, sizeof(junk), "%s/" NODE "/job.x", state);
	mkdir(junk, 0700);
	snprintf(junk, sizeof(junk), "%s/" NODE "/job.12.lock", state);
	close(open(junk, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));

	_cleanup_free_ uint32_t *ids = NULL;
	size_t n = 0;
	cr_assert_eq(hyp_state_list_jobs(state, NODE, &ids, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 2);
	cr_assert((ids[0] == 12 && ids[1] == 13) || (ids[0] == 13 && ids[1] == 12));
	hyp_job_unlock(state, NODE, 13, fd, true);

	/* Another node's jobs are its own. */
	_cleanup_free_ uint32_t *other = NULL;
	cr_assert_eq(hyp_state_list_jobs(state, "n2", &other, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 0);
	int fd2 = hyp_job_lock(state, "n2", 12, 1, &err);
	cr_assert_geq(fd2, 0, "the same job on another node is not blocked: %s", err.msg);
	_cleanup_strv_ char **nodes = NULL;
	cr_assert_eq(hyp_state_list_nodes(state, &nodes, &err), 0, "%s", err.msg);
	cr_assert(nodes[0] && nodes[1] && !nodes[2]);
	hyp_job_unlock(state, "n2", 12, fd2, true);
}

Test(statedir, console_tail_sanitizes_and_keeps_last_lines)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/console.log", state);
	const char log[] = "one\r\ntwo\r\n\x1b[31mred\x1b[0m\r\nfour\x07\nfive\n";
	write_file(path, log, sizeof(log) - 1);
	hyp_error err = {0};
	_cleanup_free_ char *tail = NULL;
	cr_assert_eq(hyp_console_tail(path, 3, &tail, &err), 0, "%s", err.msg);
	cr_assert_str_eq(tail, "?[31mred?[0m\nfour?\nfive\n");
}

Test(statedir, console_tail_bounds_what_it_reads)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/console.log", state);
	size_t big = 1 << 20;
	char *data = malloc(big);
	memset(data, 'x', big);
	write_file(path, data, big);
	free(data);
	hyp_error err = {0};
	_cleanup_free_ char *tail = NULL;
	cr_assert_eq(hyp_console_tail(path, 5, &tail, &err), 0, "%s", err.msg);
	cr_assert_eq(strlen(tail), 16 * 1024);
	cr_assert_lt(hyp_console_tail("/nonexistent/console.log", 5, &tail, &err), 0);
	cr_assert(strstr(err.msg, "/nonexistent/console.log"), "%s", err.msg);
}

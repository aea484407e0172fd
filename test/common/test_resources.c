/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The resource list: recorded in order, released last first, idempotently. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_resources.h"
#include "hyp_statedir.h"

static char dir[64], list[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/hyp-test-res.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(list, sizeof(list), "%s/job.1.res", dir);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(resources, .init = setup, .fini = teardown);

static char released[8][256];
static size_t nreleased;

static void record(void *data, const char *kind, const char *value)
{
	snprintf(released[nreleased++], sizeof(released[0]), "%s %s", kind, value);
}

static char *path_in(const char *name)
{
	char *p = NULL;
	cr_assert_geq(asprintf(&p, "%s/%s", dir, name), 0);
	return p;
}

Test(resources, released_last_first_then_the_list_goes)
{
	hyp_error err = {0};
	_cleanup_free_ char *job = path_in("job.1");
	_cleanup_free_ char *file = path_in("job.1/overlay.qcow2");
	cr_assert_eq(hyp_resources_add(list, HYP_RES_DIR, job, &err), 0, "%s", err.msg);
	cr_assert_eq(hyp_job_dir_create(job, 1, getuid(), getgid(), &err), 0, "%s", err.msg);
	cr_assert_eq(hyp_resources_add(list, HYP_RES_FILE, file, &err), 0, "%s", err.msg);
	close(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	cr_assert_eq(hyp_resources_add(list, HYP_RES_READY, "-", &err), 0, "%s", err.msg);
	bool ready = false;
	cr_assert_eq(hyp_resources_has(list, HYP_RES_READY, &ready, &err), 0);
	cr_expect(ready);
	struct stat st;
	cr_assert_eq(stat(list, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600, "only root reads the list");

	nreleased = 0;
	struct hyp_release_ctx ctx = {.log = record};
	cr_assert_eq(hyp_resources_release(list, &ctx, &err), 0, "%s", err.msg);
	cr_assert_eq(nreleased, 2, "the ready marker holds nothing");
	char want[256];
	snprintf(want, sizeof(want), "file %s", file);
	cr_expect_str_eq(released[0], want, "the overlay goes before its directory");
	snprintf(want, sizeof(want), "dir %s", job);
	cr_expect_str_eq(released[1], want);
	cr_expect_neq(access(job, F_OK), 0);
	cr_expect_neq(access(list, F_OK), 0, "a list fully released is removed");

	/* Again: nothing to do, nothing logged, success. */
	nreleased = 0;
	cr_assert_eq(hyp_resources_release(list, &ctx, &err), 0, "%s", err.msg);
	cr_expect_eq(nreleased, 0);
}

Test(resources, what_is_already_gone_is_skipped)
{
	hyp_error err = {0};
	_cleanup_free_ char *job = path_in("job.2");
	_cleanup_free_ char *file = path_in("never-created");
	/* Recorded before acquiring: a crash in between leaves an entry for
	 * something that never existed. */
	cr_assert_eq(hyp_resources_add(list, HYP_RES_DIR, job, &err), 0);
	cr_assert_eq(hyp_resources_add(list, HYP_RES_FILE, file, &err), 0);
	nreleased = 0;
	struct hyp_release_ctx ctx = {.log = record};
	cr_assert_eq(hyp_resources_release(list, &ctx, &err), 0, "%s", err.msg);
	cr_expect_eq(nreleased, 0);
	cr_expect_neq(access(list, F_OK), 0);
}

Test(resources, a_failure_keeps_the_list_and_the_rest_is_released)
{
	hyp_error err = {0};
	_cleanup_free_ char *file = path_in("overlay");
	close(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	cr_assert_eq(hyp_resources_add(list, HYP_RES_FILE, file, &err), 0);
	/* No libvirt connection: the domain cannot be released. */
	cr_assert_eq(hyp_resources_add(list, HYP_RES_DOMAIN, "hyperion-n1-1", &err), 0);
	nreleased = 0;
	struct hyp_release_ctx ctx = {.log = record};
	cr_assert_lt(hyp_resources_release(list, &ctx, &err), 0);
	cr_expect(strstr(err.msg, "hyperion-n1-1"), "%s", err.msg);
	cr_expect(strstr(err.msg, list), "the error names the list: %s", err.msg);
	cr_expect_eq(nreleased, 1, "the file is released past the failure");
	cr_expect_neq(access(file, F_OK), 0);
	cr_expect_eq(access(list, F_OK), 0, "the list stays for a retry");
}

Test(resources, bad_entries_are_refused)
{
	hyp_error err = {0};
	cr_expect_eq(hyp_resources_add(list, "bogus", "x", &err), -EINVAL);
	cr_expect_eq(hyp_resources_add(list, HYP_RES_FILE, "a\nb", &err), -EINVAL);
	FILE *f = fopen(list, "w");
	fputs("bogus x\n", f);
	fclose(f);
	struct hyp_release_ctx ctx = {0};
	cr_expect_lt(hyp_resources_release(list, &ctx, &err), 0);
	cr_expect(strstr(err.msg, "unknown resource kind 'bogus'"), "%s", err.msg);
}

Test(resources, a_helper_process_is_killed_and_a_recycled_pid_is_not)
{
	hyp_error err = {0};
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execl("/bin/sleep", "sleep", "600", (char *)NULL);
		_exit(127);
	}
	usleep(100 * 1000); /* let it exec: the start time is the process's */
	cr_assert_eq(hyp_resources_add_process(list, pid, &err), 0, "%s", err.msg);
	/* A pid with another start time is some other process: kept. */
	pid_t self = getpid();
	char stale[64];
	snprintf(stale, sizeof(stale), "%d 1", (int)self);
	cr_assert_eq(hyp_resources_add(list, HYP_RES_PROCESS, stale, &err), 0);
	nreleased = 0;
	struct hyp_release_ctx ctx = {.log = record};
	cr_assert_eq(hyp_resources_release(list, &ctx, &err), 0, "%s", err.msg);
	cr_expect_eq(nreleased, 1);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The job prolog's record of a job's VM request (plugin_record.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin_record.h"

static char state[64];
static char path[128];

static void setup(void)
{
	snprintf(state, sizeof(state), "/tmp/hyp-test-record.XXXXXX");
	cr_assert_not_null(mkdtemp(state));
	chmod(state, 0755);
	snprintf(path, sizeof(path), "%s/job.7.options", state);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(record, .init = setup, .fini = teardown);

static void write_text(const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0600);
}

static int read7(struct plugin_record *rec)
{
	hyp_error err = {0};
	return plugin_record_read(state, 7, rec, &err);
}

static const struct plugin_record vm_job = {
    .uid = 1001, .vm = true, .image = "rocky9", .hugepages = "2M"};

Test(record, round_trip)
{
	hyp_error err = {0};
	struct plugin_record rec;
	cr_assert_eq(plugin_record_write(state, 7, &vm_job, &err), 0, "%s", err.msg);
	cr_assert_eq(plugin_record_read(state, 7, &rec, &err), 0, "%s", err.msg);
	cr_assert_eq(rec.uid, 1001);
	cr_assert(rec.vm && !rec.invalid);
	cr_assert_str_eq(rec.image, "rocky9");
	cr_assert_str_eq(rec.hugepages, "2M");
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
}

Test(record, a_later_write_replaces_the_record)
{
	hyp_error err = {0};
	struct plugin_record none = {.uid = 1002}, rec;
	cr_assert_eq(plugin_record_write(state, 7, &vm_job, &err), 0, "%s", err.msg);
	cr_assert_eq(plugin_record_write(state, 7, &none, &err), 0, "%s", err.msg);
	cr_assert_eq(read7(&rec), 0);
	cr_assert(!rec.vm);
	cr_assert_eq(rec.uid, 1002);
	cr_assert_str_eq(rec.image, "");
}

Test(record, write_creates_the_state_directory)
{
	hyp_error err = {0};
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/sub", state);
	cr_assert_eq(plugin_record_write(sub, 7, &vm_job, &err), 0, "%s", err.msg);
	struct stat st;
	cr_assert_eq(stat(sub, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0755);
}

Test(record, absent_is_enoent)
{
	hyp_error err = {0};
	struct plugin_record rec;
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/none", state);
	cr_assert_eq(read7(&rec), -ENOENT);
	cr_assert_eq(plugin_record_read(sub, 7, &rec, &err), -ENOENT);
	cr_assert(strstr(err.msg, "job.7.options"), "%s", err.msg);
}

Test(record, remove)
{
	hyp_error err = {0};
	struct plugin_record rec;
	cr_assert_eq(plugin_record_write(state, 7, &vm_job, &err), 0, "%s", err.msg);
	cr_assert_eq(plugin_record_remove(state, 7, &err), 0, "%s", err.msg);
	cr_assert_eq(read7(&rec), -ENOENT);
	cr_assert_eq(plugin_record_remove(state, 7, &err), 0, "absent is success");
	cr_assert_eq(plugin_record_remove("/nonexistent/hyp", 7, &err), 0);
}

Test(record, malformed_records_are_refused)
{
	static const char *const bad[] = {
	    "",
	    "uid=1\nvm=1\ninvalid=0\nimage=a\n",                      /* key missing */
	    "uid=1\nvm=1\ninvalid=0\nimage=a\nhugepages=\nvm=0\n",    /* key twice */
	    "uid=1\nvm=1\ninvalid=0\nimage=a\nhugepages=\nextra=1\n", /* unknown key */
	    "uid=1\nvm=yes\ninvalid=0\nimage=a\nhugepages=\n",        /* not 0/1 */
	    "uid=-1\nvm=1\ninvalid=0\nimage=a\nhugepages=\n",         /* bad uid */
	    "uid=1\nvm=1\ninvalid=0\nimage=a\nhugepages=",            /* cut short */
	    "uid=1\nvm=1\ninvalid=0\nimage=a\nhugepages=123456789\n", /* too long */
	    "uid=1\nvm=1\ninvalid=0\nimage=a\nhugepages\n",           /* no '=' */
	    "uid=1\nvm=1\ninvalid=0\nimage=a\nhugepages=\n",          /* no shares */
	    "uid=1\nvm=1\ninvalid=0\nimage=a\nhugepages=\nshares=\n", /* no nodes */
	    "uid=1\nvm=1\ninvalid=0\nimage=a\nhugepages=\nshares=\nnodes=\nvfs=\n", /* no gpus */
	};
	struct plugin_record rec;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(bad[i]);
		cr_assert_eq(read7(&rec), -EINVAL, "record %zu", i);
	}
	write_text("uid=1\nvm=1\ninvalid=1\nimage=\nhugepages=\nshares=\nnodes=\ngpus=\nvfs=\n");
	cr_assert_eq(read7(&rec), 0);
	cr_assert(rec.vm && rec.invalid);
}

Test(record, shares_round_trip)
{
	hyp_error err = {0};
	struct plugin_record rec, w = {.uid = 1, .vm = true, .shares = "/home/a b,/scratch"};
	cr_assert_eq(plugin_record_write(state, 7, &w, &err), 0, "%s", err.msg);
	cr_assert_eq(read7(&rec), 0);
	cr_assert_str_eq(rec.shares, "/home/a b,/scratch");
}

Test(record, nodes_round_trip)
{
	hyp_error err = {0};
	struct plugin_record rec, w = {.uid = 1, .vm = true, .nodes = "cn[01-04],gpu7"};
	cr_assert_eq(plugin_record_write(state, 7, &w, &err), 0, "%s", err.msg);
	cr_assert_eq(read7(&rec), 0);
	cr_assert_str_eq(rec.nodes, "cn[01-04],gpu7");
}

Test(record, only_a_file_of_ours_that_nobody_else_may_write)
{
	struct plugin_record rec;
	write_text("uid=1\nvm=0\ninvalid=0\nimage=\nhugepages=\nshares=\nnodes=\n");
	chmod(path, 0620);
	cr_assert_eq(read7(&rec), -EPERM);
	unlink(path);
	cr_assert_eq(symlink("/etc/hostname", path), 0);
	cr_assert_lt(read7(&rec), 0);
	cr_assert_neq(read7(&rec), -ENOENT, "a symlink is not 'no record'");
	unlink(path);
	write_text("uid=1\nvm=0\ninvalid=0\nimage=\nhugepages=\nshares=\nnodes=\n");
	chmod(state, 0777);
	cr_assert_eq(read7(&rec), -EPERM, "state directory writable by others");
	chmod(state, 0755);
	if (geteuid() == 0) {
		cr_assert_eq(chown(path, 65534, 65534), 0);
		cr_assert_eq(read7(&rec), -EPERM, "a file of another user");
	}
}

Test(record, values_with_a_newline_are_not_written)
{
	hyp_error err = {0};
	struct plugin_record rec = {.uid = 1, .vm = true, .image = "a\nvm=0"};
	cr_assert_eq(plugin_record_write(state, 7, &rec, &err), -EINVAL);
	cr_assert_eq(access(path, F_OK), -1);
}

Test(record, gpus_and_vfs_round_trip)
{
	hyp_error err = {0};
	struct plugin_record rec, w = {.uid = 1, .vm = true, .gpus = "0,2", .vfs = "fabric:2,mgmt"};
	cr_assert_eq(plugin_record_write(state, 7, &w, &err), 0, "%s", err.msg);
	cr_assert_eq(read7(&rec), 0);
	cr_expect_str_eq(rec.gpus, "0,2");
	cr_expect_str_eq(rec.vfs, "fabric:2,mgmt");
}

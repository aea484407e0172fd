/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one entry point: a request of plain values resolved into the VM it
 * describes (config, catalog, topology, spec), and the hyperion-exec argv
 * of a task. Nothing here touches libvirt.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hyp_cleanup.h"
#include "hyp_job.h"

static char dir[64], conf[128], topology[256];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/hyp-test-job.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char images[128], text[512];
	snprintf(images, sizeof(images), "%s/images.d", dir);
	cr_assert_eq(mkdir(images, 0755), 0);
	snprintf(text, sizeof(text), "%s/test.conf", images);
	write_file(text, "[image default]\nkind = appliance\nkernel = /k/vmlinuz\n"
	                 "initrd = /k/initrd.img\n");
	snprintf(conf, sizeof(conf), "%s/hyperion.conf", dir);
	snprintf(text, sizeof(text), "state_dir = /run/hyp-test\nimages = %s\n", images);
	write_file(conf, text);
	const char *data = getenv("HYP_TOPOLOGIES");
	cr_assert_not_null(data, "HYP_TOPOLOGIES is set by meson");
	snprintf(topology, sizeof(topology), "%s/24em64t-2n6c2t-pci.xml", data);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(job, .init = setup, .fini = teardown);

static struct hyp_job_request request(void)
{
	return (struct hyp_job_request){.config_path = conf,
	                                .job_id = 42,
	                                .node = "n7",
	                                .uid = 1000,
	                                .gid = 1000,
	                                .user = "alice",
	                                .slurm_cores = "0-1",
	                                .threads_per_core = 2,
	                                .memory_mb = 1024,
	                                .image = "default",
	                                .topology = topology};
}

Test(job, slurm_cores_become_the_vm_of_the_node)
{
	struct hyp_job_request req = request();
	hyp_error err = {0};
	_cleanup_(hyp_job_free) struct hyp_job job = {0};
	cr_assert_eq(hyp_job_prepare(&req, &job, &err), 0, "%s", err.msg);
	cr_expect_str_eq(job.spec.name, "hyperion-n7-42");
	cr_expect_str_eq(job.spec.job_dir, "/run/hyp-test/n7/job.42");
	/* Slurm's cores 0 and 1: both threads of each (cpus 0,12 and 2,14 on
	 * this machine's socket 0) */
	cr_expect_eq(job.spec.placement.nvcpus, 4);
	cr_expect_str_eq(job.spec.image.name, "default");
}

Test(job, os_cpus_or_slurm_cores_not_both)
{
	struct hyp_job_request req = request();
	req.cpus = "0-3";
	hyp_error err = {0};
	_cleanup_(hyp_job_free) struct hyp_job job = {0};
	cr_expect_eq(hyp_job_prepare(&req, &job, &err), -EINVAL);
	cr_expect(strstr(err.msg, "either Slurm cores or OS cpus"), "%s", err.msg);
	req.slurm_cores = NULL;
	cr_expect_eq(hyp_job_prepare(&req, &job, &err), 0, "%s", err.msg);
	cr_expect_eq(job.spec.placement.nvcpus, 4);
}

Test(job, bad_requests_name_what_is_wrong)
{
	hyp_error err = {0};
	_cleanup_(hyp_job_free) struct hyp_job job = {0};
	struct hyp_job_request req = request();
	req.memory_mb = 0;
	cr_expect_eq(hyp_job_prepare(&req, &job, &err), -EINVAL);
	cr_expect(strstr(err.msg, "--mem"), "%s", err.msg);
	req = request();
	req.node = "../etc";
	cr_expect_eq(hyp_job_prepare(&req, &job, &err), -EINVAL);
	cr_expect(strstr(err.msg, "node name"), "%s", err.msg);
	req = request();
	req.image = "nope";
	cr_expect_lt(hyp_job_prepare(&req, &job, &err), 0);
	cr_expect(strstr(err.msg, "'nope'") && strstr(err.msg, "default"), "%s", err.msg);
}

Test(job, no_node_means_this_host)
{
	struct hyp_job_request req = request();
	req.node = NULL;
	hyp_error err = {0};
	_cleanup_(hyp_job_free) struct hyp_job job = {0};
	cr_assert_eq(hyp_job_prepare(&req, &job, &err), 0, "%s", err.msg);
	cr_expect_gt(strlen(job.spec.node), 0);
}

Test(job, exec_argv_of_a_batch_step)
{
	char *const argv[] = {"/var/spool/slurmd/job00042/slurm_script", "arg one", NULL};
	struct hyp_exec_args x = {.config_path = "/etc/h.conf",
	                          .job_id = 42,
	                          .node = "n7",
	                          .script = true,
	                          .argv = argv,
	                          .argc = 2};
	hyp_error err = {0};
	_cleanup_strv_ char **args = NULL;
	cr_assert_eq(hyp_job_exec_argv(&x, &args, &err), 0, "%s", err.msg);
	const char *want[] = {"hyperion-exec", "--job",    "42", "--node", "n7",      "--config",
	                      "/etc/h.conf",   "--script", "--", argv[0],  "arg one", NULL};
	for (size_t i = 0; want[i]; i++)
		cr_expect_str_eq(args[i], want[i], "argv[%zu]", i);
	cr_expect_null(args[11]);

	x.argc = 0;
	cr_expect_eq(hyp_job_exec_argv(&x, &args, &err), -EINVAL);
}

/* A Slurm task becomes hyperion-exec through Slurm's own execve: argv[0]
 * replaced, the rest of hyperion-exec's command line in the environment. */
Test(job, task_env_stands_for_the_exec_argv)
{
	char *const argv[] = {"/var/spool/slurmd/job00042/slurm_script", "arg one", NULL};
	struct hyp_exec_args x = {.config_path = "/etc/h.conf",
	                          .job_id = 42,
	                          .node = "n7",
	                          .script = true,
	                          .argv = argv,
	                          .argc = 2};
	hyp_error err = {0};
	_cleanup_strv_ char **env = NULL, **want = NULL, **got = NULL;
	cr_assert_eq(hyp_job_task_env(&x, &env, &err), 0, "%s", err.msg);
	cr_assert_eq(hyp_job_exec_argv(&x, &want, &err), 0, "%s", err.msg);
	for (size_t i = 0; env[i]; i++)
		cr_assert_eq(putenv(env[i]), 0);
	setenv("HYPERION_TASK_OTHER", "x", 1);
	setenv("KEPT", "1", 1);
	char *task_argv[] = {"/usr/libexec/hyperion-exec", "arg one", NULL};
	cr_assert_eq(hyp_job_task_argv(2, task_argv, &got, &err), 1, "%s", err.msg);
	for (size_t i = 0; want[i] || got[i]; i++)
		cr_expect_str_eq(got[i], want[i], "argv[%zu]", i);
	extern char **environ;
	for (char **e = environ; *e; e++)
		cr_expect_neq(strncmp(*e, HYP_TASK_ENV_PREFIX, strlen(HYP_TASK_ENV_PREFIX)), 0,
		              "'%s' is not the command's", *e);
	cr_expect_str_eq(getenv("KEPT"), "1");
	/* putenv'd strings belong to env: the environment no longer points there */
	_cleanup_strv_ char **none = NULL;
	cr_expect_eq(hyp_job_task_argv(2, task_argv, &none, &err), 0, "not a task any more");
}

Test(job, task_env_incomplete_is_refused)
{
	char *task_argv[] = {"/usr/libexec/hyperion-exec", NULL};
	_cleanup_strv_ char **got = NULL;
	hyp_error err = {0};
	setenv("HYPERION_TASK_ARGV0", "hostname", 1);
	setenv("HYPERION_TASK_JOB", "12x", 1);
	setenv("HYPERION_TASK_NODE", "n1", 1);
	cr_expect_eq(hyp_job_task_argv(1, task_argv, &got, &err), -EINVAL);
	cr_expect(strstr(err.msg, "incomplete or not valid"), "%s", err.msg);
	setenv("HYPERION_TASK_JOB", "12", 1);
	cr_expect_eq(hyp_job_task_argv(1, task_argv, &got, &err), 1, "%s", err.msg);
	cr_expect_str_eq(got[2], "12");
	cr_expect_str_eq(got[5], "--");
	cr_expect_str_eq(got[6], "hostname");
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperion-pbs: PBS's strings and the command line. */
#include <criterion/criterion.h>
#include <errno.h>

#include "pbs.h"

Test(pbs_job_id, sequence_plus_one)
{
	hyp_error err = {0};
	uint32_t id = 0;
	cr_assert_eq(pbs_job_id("12.hyppbs", &id, &err), 0);
	cr_assert_eq(id, 13);
	cr_assert_eq(pbs_job_id("0.server.example.org", &id, &err), 0);
	cr_assert_eq(id, 1);
	cr_assert_eq(pbs_job_id("7", &id, &err), 0);
	cr_assert_eq(id, 8);
}

Test(pbs_job_id, refuses_arrays_and_junk)
{
	hyp_error err = {0};
	uint32_t id = 0;
	const char *bad[] = {"12[3].s", "12[].s", "", ".s", "x12", "99999999999.s", "4294967295"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_lt(pbs_job_id(bad[i], &id, &err), 0, "%s", bad[i]);
	cr_assert(strstr(err.msg, "too large"));
}

Test(pbs_size, units)
{
	hyp_error err = {0};
	unsigned long long mib = 0;
	cr_assert_eq(pbs_size_mib("512mb", &mib, &err), 0);
	cr_assert_eq(mib, 512);
	cr_assert_eq(pbs_size_mib("524288kb", &mib, &err), 0);
	cr_assert_eq(mib, 512);
	cr_assert_eq(pbs_size_mib("2GB", &mib, &err), 0);
	cr_assert_eq(mib, 2048);
	cr_assert_eq(pbs_size_mib("1", &mib, &err), 0); /* bytes, rounded up */
	cr_assert_eq(mib, 1);
	cr_assert_eq(pbs_size_mib("131072w", &mib, &err), 0);
	cr_assert_eq(mib, 1);
	cr_assert_lt(pbs_size_mib("12xb", &mib, &err), 0);
	cr_assert_lt(pbs_size_mib("mb", &mib, &err), 0);
	cr_assert_lt(pbs_size_mib("99999999999999pb", &mib, &err), 0);
}

Test(pbs_exec_vnode, sums_this_nodes_chunks)
{
	hyp_error err = {0};
	struct pbs_share s;
	cr_assert_eq(pbs_exec_vnode_share("(hyppbs:ncpus=1:mem=524288kb)", "hyppbs", &s, &err), 0,
	             "%s", err.msg);
	cr_assert_eq(s.ncpus, 1);
	cr_assert_eq(s.mem_mib, 512);
	cr_assert_eq(s.chunks, 1);
	cr_assert_eq(pbs_exec_vnode_share("(a:ncpus=2:mem=1gb)+(b[0]:ncpus=4:ngpus=1)+(b[1]:ncpus="
	                                  "2:mem=2gb)+(bb:ncpus=8)",
	                                  "b", &s, &err),
	             0, "%s", err.msg);
	cr_assert_eq(s.ncpus, 6);
	cr_assert_eq(s.ngpus, 1);
	cr_assert_eq(s.mem_mib, 2048);
	cr_assert_eq(s.chunks, 2);
	cr_assert_eq(pbs_exec_vnode_share("(a:ncpus=2)", "b", &s, &err), 0);
	cr_assert_eq(s.chunks, 0);
}

Test(pbs_exec_vnode, malformed)
{
	hyp_error err = {0};
	struct pbs_share s;
	cr_assert_lt(pbs_exec_vnode_share("a:ncpus=2", "a", &s, &err), 0);
	cr_assert(strstr(err.msg, "exec_vnode 'a:ncpus=2'"), "%s", err.msg);
	cr_assert_lt(pbs_exec_vnode_share("(a:ncpus=x)", "a", &s, &err), 0);
	cr_assert_lt(pbs_exec_vnode_share("(a:mem=1zb)", "a", &s, &err), 0);
	cr_assert_lt(pbs_exec_vnode_share("(a:ncpus)", "a", &s, &err), 0);
}

Test(pbs_select, finds_the_image)
{
	hyp_error err = {0};
	char buf[64];
	cr_assert_eq(pbs_select_value("1:ncpus=1:mem=512mb:vm_image=default", "vm_image", buf,
	                              sizeof(buf), &err),
	             0);
	cr_assert_str_eq(buf, "default");
	cr_assert_eq(pbs_select_value("2:ncpus=4+1:ncpus=1:vm_image=big", "vm_image", buf,
	                              sizeof(buf), &err),
	             0);
	cr_assert_str_eq(buf, "big");
	cr_assert_eq(pbs_select_value("1:ncpus=1", "vm_image", buf, sizeof(buf), &err), -ENOENT);
	cr_assert_eq(pbs_select_value("1:my_vm_image=x", "vm_image", buf, sizeof(buf), &err),
	             -ENOENT);
	cr_assert_lt(pbs_select_value("1:vm_image=0123456789", "vm_image", buf, 4, &err), 0);
}

Test(torque_resources, fields)
{
	hyp_error err = {0};
	struct torque_resources t;
	cr_assert_eq(torque_resources_parse("neednodes=1:ppn=2,nodes=1:ppn=2,mem=512mb,"
	                                    "vm_image=default,walltime=00:10:00",
	                                    &t, &err),
	             0, "%s", err.msg);
	cr_assert_eq(t.ncpus, 2);
	cr_assert_eq(t.mem_mib, 512);
	cr_assert_str_eq(t.image, "default");
	cr_assert_eq(torque_resources_parse("ncpus=3", &t, &err), 0);
	cr_assert_eq(t.ncpus, 3);
	cr_assert_eq(t.image[0], '\0');
	cr_assert_lt(torque_resources_parse("mem=lots", &t, &err), 0);
	cr_assert(strstr(err.msg, "resource list 'mem=lots'"), "%s", err.msg);
}

static int parse(struct pbs_args *a, hyp_error *err, char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	return pbs_args_parse(argc, argv, a, err);
}

Test(pbs_args, start)
{
	hyp_error err = {0};
	struct pbs_args a;
	char *v[] = {"hyperion-pbs", "--config", "/c",      "start", "--job",   "4.s",
	             "--node",       "n1",       "--user",  "u",     "--ncpus", "2",
	             "--mem",        "1gb",      "--image", "i",     NULL};
	cr_assert_eq(parse(&a, &err, v), 0, "%s", err.msg);
	cr_assert_str_eq(a.config_path, "/c");
	cr_assert_str_eq(a.command, "start");
	cr_assert_eq(a.job_id, 5);
	cr_assert_str_eq(a.job, "4.s");
	cr_assert_str_eq(a.node, "n1");
	cr_assert_eq(a.ncpus, 2);
	cr_assert_eq(a.mem_mib, 1024);
	cr_assert_str_eq(a.image, "i");
}

Test(pbs_args, exec_keeps_the_commands_options)
{
	hyp_error err = {0};
	struct pbs_args a;
	char *v[] = {"hyperion-pbs", "--exec=/he", "exec",  "--job", "1", "--node", "n",
	             "--",           "ls",         "--job", NULL};
	cr_assert_eq(parse(&a, &err, v), 0, "%s", err.msg);
	cr_assert_str_eq(a.exec_path, "/he");
	cr_assert_eq(a.argc, 2);
	cr_assert_str_eq(a.argv[0], "ls");
	cr_assert_str_eq(a.argv[1], "--job");
}

Test(pbs_args, errors)
{
	hyp_error err = {0};
	struct pbs_args a;
	char *nocmd[] = {"hyperion-pbs", NULL};
	char *unknown[] = {"hyperion-pbs", "frob", NULL};
	char *nojob[] = {"hyperion-pbs", "stop", "--node", "n", NULL};
	char *nouser[] = {"hyperion-pbs", "start", "--job", "1", "--node", "n", NULL};
	char *badopt[] = {"hyperion-pbs", "stop", "--jobs", "1", NULL};
	char *badnode[] = {"hyperion-pbs", "stop", "--job", "1", "--node", "a/b", NULL};
	char *noexec[] = {"hyperion-pbs", "exec", "--job", "1", "--node", "n", NULL};
	char *extra[] = {"hyperion-pbs", "stop", "--job", "1", "--node", "n", "x", NULL};
	char *badmem[] = {"hyperion-pbs", "start", "--mem", "1q", NULL};
	cr_assert_lt(parse(&a, &err, nocmd), 0);
	cr_assert_lt(parse(&a, &err, unknown), 0);
	cr_assert(strstr(err.msg, "unknown command 'frob'"), "%s", err.msg);
	cr_assert_lt(parse(&a, &err, nojob), 0);
	cr_assert(strstr(err.msg, "needs --job and --node"), "%s", err.msg);
	cr_assert_lt(parse(&a, &err, nouser), 0);
	cr_assert_lt(parse(&a, &err, badopt), 0);
	cr_assert(strstr(err.msg, "--jobs"), "%s", err.msg);
	cr_assert_lt(parse(&a, &err, badnode), 0);
	cr_assert_lt(parse(&a, &err, noexec), 0);
	cr_assert_lt(parse(&a, &err, extra), 0);
	cr_assert_lt(parse(&a, &err, badmem), 0);
}

Test(pbs_cpus, given_or_first_online)
{
	hyp_error err = {0};
	char *list = NULL;
	cr_assert_eq(pbs_choose_cpus("3-4", "1.s", 2, &list, &err), 0);
	cr_assert_str_eq(list, "3-4");
	free(list);
	cr_assert_eq(pbs_choose_cpus(NULL, "no-such-job.s", 1, &list, &err), 0, "%s", err.msg);
	cr_assert_str_eq(list, "0");
	free(list);
	cr_assert_lt(pbs_choose_cpus(NULL, "no-such-job.s", 8192, &list, &err), 0);
	cr_assert(strstr(err.msg, "asks for 8192 cpus"), "%s", err.msg);
}

Test(pbs_select, with_the_image_in_every_chunk)
{
	hyp_error err = {0};
	char *s = NULL;
	cr_assert_eq(pbs_select_with("1:ncpus=1:mem=512mb", "hyperion_image", "default", &s, &err),
	             0);
	cr_assert_str_eq(s, "1:ncpus=1:mem=512mb:hyperion_image=default");
	free(s);
	cr_assert_eq(pbs_select_with("2:ncpus=4:hyperion_image=old+1:ncpus=1", "hyperion_image",
	                             "x", &s, &err),
	             0);
	cr_assert_str_eq(s, "2:ncpus=4:hyperion_image=x+1:ncpus=1:hyperion_image=x");
	free(s);
	cr_assert_eq(pbs_select_with("", "hyperion_image", "x", &s, &err), 0);
	cr_assert_str_eq(s, "1:hyperion_image=x");
	free(s);
	cr_assert_lt(pbs_select_with("1:ncpus=1", "hyperion_image", "a:b", &s, &err), 0);
	cr_assert_lt(pbs_select_with("1:ncpus=1", "hyperion_image", "a+b", &s, &err), 0);
}

Test(pbs_select, every_chunk_has)
{
	cr_assert(pbs_select_every_chunk_has("1:ncpus=1:mem=1gb+2:mem=2gb", "mem"));
	cr_assert_not(pbs_select_every_chunk_has("1:ncpus=1:mem=1gb+2:ncpus=2", "mem"));
	cr_assert_not(pbs_select_every_chunk_has("1:ncpus=1:memx=1", "mem"));
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Every name of a job's VM on a host, and their limits. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "hyp_cleanup.h"
#include "hyp_names.h"

Test(names, node_names_allowed_and_refused)
{
	hyp_error err = {0};
	const char *good[] = {"n1", "node-001", "gpu.rack3_a", "A"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_expect_eq(hyp_node_name_check(good[i], &err), 0, "%s: %s", good[i], err.msg);
	cr_expect_eq(hyp_node_name_check("", &err), -EINVAL);
	cr_expect_eq(hyp_node_name_check("-n", &err), -EINVAL);
	cr_expect(strstr(err.msg, "start with a letter or digit"), "%s", err.msg);
	cr_expect_eq(hyp_node_name_check("a/b", &err), -EINVAL);
	cr_expect(strstr(err.msg, "'/' not allowed (letters, digits"), "%s", err.msg);
	cr_expect_eq(hyp_node_name_check("../x", &err), -EINVAL);
	char long_name[HYP_NODE_NAME_MAX + 2];
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	cr_expect_eq(hyp_node_name_check(long_name, &err), -EINVAL);
	cr_expect(strstr(err.msg, "longer than 64"), "%s", err.msg);
}

Test(names, default_node_is_the_short_host_name)
{
	char node[HYP_NODE_NAME_MAX + 1];
	hyp_error err = {0};
	cr_assert_eq(hyp_node_name_default(node, sizeof(node), &err), 0, "%s", err.msg);
	cr_expect_null(strchr(node, '.'));
}

Test(names, domain_names_round_trip)
{
	const char *nodes[] = {"n1", "node-7", "a-b-c", "x.y"};
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		_cleanup_free_ char *name = hyp_domain_name(nodes[i], 4242);
		char node[HYP_NODE_NAME_MAX + 1];
		uint32_t id = 0;
		cr_assert(hyp_domain_name_parse(name, node, sizeof(node), &id), "%s", name);
		cr_expect_str_eq(node, nodes[i]);
		cr_expect_eq(id, 4242);
	}
	char node[HYP_NODE_NAME_MAX + 1];
	uint32_t id;
	const char *foreign[] = {
	    "debian12",      "hyperion-",     "hyperion-n1",    "hyperion--5",
	    "hyperion-n1-x", "hyperion-n1-0", "hyperion-n/1-5", "hyperion-n1-99999999999"};
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
		cr_expect_not(hyp_domain_name_parse(foreign[i], node, sizeof(node), &id), "%s",
		              foreign[i]);
}

Test(names, job_entries)
{
	uint32_t id = 0;
	cr_expect(hyp_job_entry_parse("job.12", &id) && id == 12);
	cr_expect(hyp_job_entry_parse("job.13.lock", &id) && id == 13);
	cr_expect(hyp_job_entry_parse("job.14.res", &id) && id == 14);
	cr_expect_not(hyp_job_entry_parse("job.x", &id));
	cr_expect_not(hyp_job_entry_parse("job.15.tmp", &id));
	cr_expect_not(hyp_job_entry_parse("job.0", &id));
	cr_expect_not(hyp_job_entry_parse("n1", &id));
}

Test(names, socket_paths_must_fit_a_sockaddr_un)
{
	hyp_error err = {0};
	cr_expect_eq(hyp_names_check_length("/run/hyperion", "node-001", 4294967295u, 260, &err), 0,
	             "%s", err.msg);
	char node[HYP_NODE_NAME_MAX + 1];
	memset(node, 'n', HYP_NODE_NAME_MAX);
	node[HYP_NODE_NAME_MAX] = '\0';
	cr_expect_eq(
	    hyp_names_check_length("/var/lib/hyperion/state", node, 4294967295u, 260, &err),
	    -ENAMETOOLONG);
	cr_expect(strstr(err.msg, "shorten state_dir or the node name"), "%s", err.msg);
}

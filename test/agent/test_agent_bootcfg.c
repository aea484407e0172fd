/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The boot configuration, both ends: the core's encoder (hyp_bootcfg.c)
 * writes the kernel parameters, the agent's decoder (agent_bootcfg.c)
 * reads them back, through a command line as the kernel would pass it.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "agent_bootcfg.h"
#include "hyp_bootcfg.h"
#include "hyp_cleanup.h"

static struct hyp_guest_group groups[] = {
    {.name = "alice", .gid = 1001},
    {.name = "proj a,b:c%", .gid = 2000},
    {.name = "ünïcode", .gid = 2001},
};

static const struct hyp_guest_user user = {.name = "alice",
                                           .uid = 1000,
                                           .gid = 1001,
                                           .home = "/home/alice smith",
                                           .groups = groups,
                                           .ngroups = 3};

static struct hyp_share shares[] = {
    {.path = "/home", .tag = "hypfs0"},
    {.path = "/scratch/with space,comma:colon%percent=eq\"quote", .tag = "hypfs1"},
    {.path = "/data/\t tab", .tag = "hypfs2"},
};

static void decode(const char *params, struct agent_bootcfg *b)
{
	char cmdline[4096];
	hyp_error err = {0};
	snprintf(cmdline, sizeof(cmdline), "console=ttyS0 panic=-1 quiet %s rw\n", params);
	cr_assert_eq(agent_bootcfg_parse(cmdline, b, &err), 0, "%s", err.msg);
}

Test(bootcfg, round_trip)
{
	_cleanup_free_ char *params = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_bootcfg_encode("cn042", &user, shares, 3, 2000, &params, &err), 0, "%s",
	             err.msg);
	cr_expect_null(strpbrk(params, "\t\n\""), "no kernel word breaks or quotes: %s", params);
	static struct agent_bootcfg b;
	decode(params, &b);
	cr_expect_str_eq(b.hostname, "cn042");
	cr_assert(b.has_user);
	cr_expect_str_eq(b.user, "alice");
	cr_expect_eq(b.uid, 1000);
	cr_expect_eq(b.gid, 1001);
	cr_expect_str_eq(b.home, "/home/alice smith");
	cr_assert_eq(b.ngroups, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_expect_str_eq(b.groups[i].name, groups[i].name);
		cr_expect_eq(b.groups[i].gid, groups[i].gid);
	}
	cr_assert(b.has_shares);
	cr_assert_eq(b.nshares, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_expect_str_eq(b.shares[i].path, shares[i].path);
		cr_expect_str_eq(b.shares[i].tag, shares[i].tag);
	}
	cr_expect(agent_bootcfg_in_share(&b, "/home/alice"));
	cr_expect(agent_bootcfg_in_share(&b, "/home"));
	cr_expect(!agent_bootcfg_in_share(&b, "/homework"));
	cr_expect(!agent_bootcfg_in_share(&b, "/scratch"));
}

Test(bootcfg, no_shares_is_said_too)
{
	_cleanup_free_ char *params = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_bootcfg_encode("n1", NULL, NULL, 0, 2000, &params, &err), 0, "%s",
	             err.msg);
	static struct agent_bootcfg b;
	decode(params, &b);
	cr_expect(b.has_shares);
	cr_expect_eq(b.nshares, 0);
	cr_expect(!b.has_user);
	char desc[64];
	agent_bootcfg_describe(&b, desc, sizeof(desc));
	cr_expect_str_eq(desc, "none");
}

Test(bootcfg, groups_give_way_to_the_limit_and_shares_do_not)
{
	_cleanup_free_ char *params = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_bootcfg_encode("cn042", &user, shares, 1, 120, &params, &err), 0, "%s",
	             err.msg);
	cr_expect_leq(strlen(params), 120);
	static struct agent_bootcfg b;
	decode(params, &b);
	cr_expect_lt(b.ngroups, 3);
	cr_expect_eq(b.nshares, 1);
	cr_expect_lt(hyp_bootcfg_encode("cn042", &user, shares, 3, 60, &params, &err), 0);
	cr_expect(strstr(err.msg, "do not fit in the kernel command line"), "%s", err.msg);
}

Test(bootcfg, malformed_values_are_refused)
{
	static const char *const bad[] = {
	    "hyperion.shares=hypfs0",   "hyperion.shares=hypfs0:relative", "hyperion.shares=t:/a%2",
	    "hyperion.shares=t:/a%00b", "hyperion.user=a:b:1:/home",       "hyperion.user=a:1:1",
	    "hyperion.groups=g:1:2",    "hyperion.hostname=%zz",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		static struct agent_bootcfg b;
		hyp_error err = {0};
		cr_expect_lt(agent_bootcfg_parse(bad[i], &b, &err), 0, "%s", bad[i]);
	}
	static struct agent_bootcfg b;
	hyp_error err = {0};
	cr_expect_eq(agent_bootcfg_parse("hyperion.root=/dev/vda hyperion.init=/x", &b, &err), 0);
	cr_expect(!b.has_shares, "no hyperion.shares: an older core");
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest network's boot words and the job's /etc/hosts lines (agent_net.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_bootcfg.h"
#include "agent_net.h"

static struct agent_bootcfg parse_ok(const char *cmdline)
{
	struct agent_bootcfg b;
	hyp_error err = {0};
	cr_assert_eq(agent_bootcfg_parse(cmdline, &b, &err), 0, "%s: %s", cmdline, err.msg);
	return b;
}

Test(agent_net, parses_what_the_host_writes)
{
	struct agent_bootcfg b = parse_ok(
	    "console=ttyS0 hyperion.hostname=cn2 hyperion.net=02:00:1c:84:00:01,10.132.0.2/16,1400 "
	    "hyperion.hosts=10.132.0.1,cn%5B1-3%5D");
	const struct agent_net *n = &b.net;
	cr_assert(n->has_net && n->has_hosts);
	static const unsigned char mac[6] = {0x02, 0x00, 0x1c, 0x84, 0x00, 0x01};
	cr_expect_eq(memcmp(n->mac, mac, 6), 0);
	cr_expect_eq(n->addr, (10U << 24) | (132U << 16) | 2);
	cr_expect_eq(n->prefix, 16);
	cr_expect_eq(n->mtu, 1400);
	cr_expect_eq(n->first, (10U << 24) | (132U << 16) | 1);
	cr_expect_str_eq(n->hosts, "cn[1-3]");
	cr_expect(agent_net_names(n, "cn2"));
	cr_expect(!agent_net_names(n, "cn4"));
}

Test(agent_net, without_network_words_there_is_no_network)
{
	struct agent_bootcfg b = parse_ok("hyperion.hostname=cn2");
	cr_expect(!b.net.has_net && !b.net.has_hosts);
	cr_expect(!agent_net_names(&b.net, "cn2"));
	cr_expect(!agent_net_names(NULL, "cn2"));
}

Test(agent_net, malformed_words_are_refused)
{
	static const char *const bad[] = {
	    "hyperion.net=02:00:1c:84:00:01",                    /* no address */
	    "hyperion.net=02:00:1c:84:00,10.0.0.1/16,1450",      /* short MAC */
	    "hyperion.net=02:00:1c:84:00:01,10.0.0.300/16,1450", /* bad address */
	    "hyperion.net=02:00:1c:84:00:01,10.0.0.1/40,1450",   /* bad prefix */
	    "hyperion.net=02:00:1c:84:00:01,10.0.0.1/16,100",    /* MTU too small */
	    "hyperion.net=02:00:1c:84:00:01,10.0.0.1/16,1450x",  /* trailing junk */
	    "hyperion.hosts=cn1",                                /* no first address */
	    "hyperion.hosts=10.0.0.1,cn%ZZ",                     /* bad encoding */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct agent_bootcfg b;
		hyp_error err = {0};
		cr_expect_lt(agent_bootcfg_parse(bad[i], &b, &err), 0, "%s", bad[i]);
	}
}

Test(agent_net, hosts_lines_name_every_node_of_the_job)
{
	struct agent_bootcfg b = parse_ok("hyperion.net=02:00:1c:84:00:01,10.132.0.2/16,1450 "
	                                  "hyperion.hosts=10.132.0.254,cn%5B1-3%5D%2Cgpu7");
	char path[] = "/tmp/hyp-test-agent-net.XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(agent_net_write_hosts(&b.net, fd), 0);
	char text[512] = "";
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	unlink(path);
	cr_assert_gt(n, 0);
	cr_expect_str_eq(text, "10.132.0.254\tcn1\n10.132.0.255\tcn2\n10.132.1.0\tcn3\n"
	                       "10.132.1.1\tgpu7\n");
}

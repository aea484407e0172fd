/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest network (hyp_net.h): the configuration keys, the MAC, VNI and
 * address derivations, the node list, the boot words; and, as root in a
 * network namespace of the test's own, the host devices a job acquires and
 * that releasing its resource list removes.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_config.h"
#include "hyp_hostlist.h"
#include "hyp_net.h"
#include "hyp_resources.h"

static struct hyp_net_config defaults(void)
{
	struct hyp_net_config c;
	hyp_error err = {0};
	cr_assert_eq(hyp_net_config_defaults(&c, &err), 0);
	return c;
}

static int load(const char *text, struct hyp_config *cfg, hyp_error *err)
{
	char path[] = "/tmp/hyp-test-net.XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	int r = hyp_config_load(path, cfg, err);
	unlink(path);
	return r;
}

Test(net, config_defaults_and_keys)
{
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	hyp_error err = {0};
	cr_assert_eq(load("", &cfg, &err), 0, "%s", err.msg);
	cr_expect_eq(cfg.net.mode, HYP_NET_BRIDGE);
	cr_expect_str_eq(cfg.net.bridge, "hyperionbr");
	cr_expect_str_eq(cfg.net.libvirt_network, "default");
	cr_expect_eq(cfg.net.vxlan_port, 4789);
	cr_expect_eq(cfg.net.mtu, 0);
	cr_expect_eq(cfg.net.subnet, 10U << 24);
	cr_expect_eq(cfg.net.subnet_prefix, 8);
	cr_expect_eq(cfg.net.job_prefix, 16);
	cr_expect(!cfg.net.host_access);
	hyp_config_free(&cfg);
	cr_assert_eq(load("network = libvirt\nnetwork_libvirt = jobs\nnetwork_mtu = 8950\n"
	                  "network_subnet = 172.16.0.0/12\nnetwork_job_prefix = 24\n"
	                  "network_cluster_id = 5\nnetwork_bridge = fab0\n"
	                  "network_vxlan_port = 8472\nnetwork_host_access = yes\n",
	                  &cfg, &err),
	             0, "%s", err.msg);
	cr_expect_eq(cfg.net.mode, HYP_NET_LIBVIRT);
	cr_expect_str_eq(cfg.net.libvirt_network, "jobs");
	cr_expect_eq(cfg.net.mtu, 8950);
	cr_expect_eq(cfg.net.subnet, (172U << 24) | (16U << 16));
	cr_expect_eq(cfg.net.subnet_prefix, 12);
	cr_expect_eq(cfg.net.job_prefix, 24);
	cr_expect_eq(cfg.net.cluster_id, 5);
	cr_expect_str_eq(cfg.net.bridge, "fab0");
	cr_expect_eq(cfg.net.vxlan_port, 8472);
	cr_expect(cfg.net.host_access);
}

Test(net, config_errors_name_the_key)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"network = vxlan\n", "allowed: bridge, libvirt, none"},
	    {"network_bridge = a-name-far-too-long\n", "network_bridge"},
	    {"network_bridge = br 0\n", "network_bridge"},
	    {"network_mtu = 100\n", "network_mtu"},
	    {"network_subnet = 10.0.0.1/8\n", "host bits"},
	    {"network_subnet = 10.0.0.0\n", "network_subnet"},
	    {"network_subnet = 10.0.0.0/16\n", "network_job_prefix (16) must be longer"},
	    {"network_cluster_id = 64\n", "network_cluster_id"},
	    {"network = none\nnetwork = bridge\n", "set twice"},
	    {"networks = none\n", "network_host_access"}, /* the known keys are listed */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
		hyp_error err = {0};
		cr_expect_lt(load(bad[i].text, &cfg, &err), 0, "%s", bad[i].text);
		cr_expect(strstr(err.msg, bad[i].want), "'%s': %s", bad[i].text, err.msg);
	}
}

Test(net, mac_is_local_unicast_stable_and_unique)
{
	uint8_t a[6], b[6];
	char s[18];
	hyp_net_mac(0, 7300, 0, a);
	hyp_net_mac_format(a, s);
	cr_expect_str_eq(s, "02:00:1c:84:00:00");
	cr_expect_eq(a[0] & 0x01, 0, "unicast");
	cr_expect_eq(a[0] & 0x02, 0x02, "locally administered");
	hyp_net_mac(0, 7300, 0, b);
	cr_expect_eq(memcmp(a, b, 6), 0, "stable");
	hyp_net_mac(0, 7300, 1, b);
	cr_expect_neq(memcmp(a, b, 6), 0, "another node");
	hyp_net_mac(0, 7301, 0, b);
	cr_expect_neq(memcmp(a, b, 6), 0, "another job");
	hyp_net_mac(63, 7300, 0, b);
	cr_expect_neq(memcmp(a, b, 6), 0, "another cluster");
	cr_expect_eq(b[0] & 0x03, 0x02, "still local unicast");
	hyp_net_mac(1, 0xabcdef, 0x1234, b);
	hyp_net_mac_format(b, s);
	cr_expect_str_eq(s, "06:ab:cd:ef:12:34");
}

Test(net, vni)
{
	cr_expect_eq(hyp_net_vni(7300), 7300);
	cr_expect_eq(hyp_net_vni((1U << 24) + 5), 5);
	cr_expect_eq(hyp_net_vni(1U << 24), 0xffffff, "VNI 0 is not used");
}

static void expect_addr(const struct hyp_net_config *c, uint32_t job, size_t i, const char *want)
{
	uint32_t a;
	char s[16];
	hyp_error err = {0};
	cr_assert_eq(hyp_net_addr(c, job, i, &a, &err), 0, "%s", err.msg);
	hyp_net_addr_format(a, s);
	cr_expect_str_eq(s, want, "job %u node %zu", job, i);
}

Test(net, address_scheme)
{
	_cleanup_(hyp_net_config_free) struct hyp_net_config c = defaults();
	expect_addr(&c, 7300, 0, "10.132.0.1"); /* 7300 % 256 = 132 */
	expect_addr(&c, 7300, 1, "10.132.0.2");
	expect_addr(&c, 7300, 300, "10.132.1.45");
	expect_addr(&c, 7301, 0, "10.133.0.1");
	uint32_t a;
	hyp_error err = {0};
	cr_expect_eq(hyp_net_addr(&c, 7300, 65534, &a, &err), -E2BIG, "no broadcast address");
	cr_expect_eq(hyp_net_addr(&c, 7300, 65533, &a, &err), 0);
	c.subnet = (172U << 24) | (16U << 16);
	c.subnet_prefix = 12;
	c.job_prefix = 24;
	expect_addr(&c, 7300, 2, "172.28.132.3"); /* 7300 % 4096 = 0xc84 */
	cr_expect_eq(hyp_net_addr(&c, 7300, 254, &a, &err), -E2BIG);
}

Test(net, hostlist)
{
	static const struct {
		const char *expr, *want;
	} ok[] = {
	    {"cn1", "cn1"},
	    {"cn[01-03,7],gpu4", "cn01 cn02 cn03 cn7 gpu4"},
	    {"r[1-2]n[1-2]", "r1n1 r1n2 r2n1 r2n2"},
	    {"n[8-10]x", "n8x n9x n10x"},
	    {"a,b", "a b"},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char **names, got[256] = "";
		size_t n;
		hyp_error err = {0};
		cr_assert_eq(hyp_hostlist_expand(ok[i].expr, &names, &n, &err), 0, "%s", err.msg);
		for (size_t k = 0; k < n; k++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", k ? " " : "",
			         names[k]);
		cr_expect_str_eq(got, ok[i].want, "%s", ok[i].expr);
		cr_expect_eq(hyp_hostlist_index(names, n, "no-such-node"), -1);
		hyp_hostlist_free(names);
	}
	static const char *const bad[] = {"",     "cn[",     "cn[3-1]", "a,,b",
	                                  "cn[]", "cn[1-x]", "cn]1",    "n[0-999999]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char **names = NULL;
		size_t n;
		hyp_error err = {0};
		cr_expect_lt(hyp_hostlist_expand(bad[i], &names, &n, &err), 0, "'%s'", bad[i]);
	}
	/* a name too long says which and the limit */
	char **names = NULL;
	size_t n;
	hyp_error err = {0};
	const char *lng = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa[1-2]";
	cr_expect_lt(hyp_hostlist_expand(lng, &names, &n, &err), 0);
	cr_expect(strstr(err.msg, "aaaa1") && strstr(err.msg, "64 bytes"), "%s", err.msg);
}

Test(net, vm_net_of_a_node_in_its_job)
{
	_cleanup_(hyp_net_config_free) struct hyp_net_config c = defaults();
	_cleanup_(hyp_vm_net_free) struct hyp_vm_net net = {0};
	hyp_error err = {0};
	c.mtu = 1400;
	cr_assert_eq(hyp_vm_net_build(&c, 7300, "cn2", "cn[1-3]", NULL, &net, &err), 0, "%s",
	             err.msg);
	cr_expect_eq(net.mode, HYP_NET_BRIDGE);
	cr_expect_eq(net.index, 1);
	cr_expect_eq(net.npeers, 2);
	cr_expect_str_eq(net.peers[0], "cn1");
	cr_expect_str_eq(net.peers[1], "cn3");
	cr_expect_null(net.peers[2]);
	char name[IFNAMSIZ];
	hyp_net_dev_name('t', 7300, "cn2", name);
	cr_expect_str_eq(net.tap, name);
	cr_expect(!strncmp(name, "hypt1c84", 8) && strlen(name) == 11, "%s", name);
	hyp_net_dev_name('j', 7300, "cn2", name);
	cr_expect_str_eq(net.bridge, name);
	hyp_net_dev_name('x', 7300, "cn2", name);
	cr_expect_str_eq(net.vxlan, name);
	char other[IFNAMSIZ];
	hyp_net_dev_name('x', 7300, "cn3", other);
	cr_expect_str_neq(name, other, "two nodes of one job in one namespace");
	hyp_net_dev_name('x', UINT32_MAX, "cn3", other);
	cr_expect_eq(strlen(other), 15, "the longest name fits IFNAMSIZ");
	cr_expect_eq(net.vni, 7300);
	cr_expect_eq(net.mtu, 1400);
	cr_expect_str_eq(net.boot_words, " hyperion.net=02:00:1c:84:00:01,10.132.0.2/16,1400 "
	                                 "hyperion.hosts=10.132.0.1,cn%5B1-3%5D");
}

Test(net, vm_net_with_the_schedulers_addresses)
{
	_cleanup_(hyp_net_config_free) struct hyp_net_config c = defaults();
	_cleanup_(hyp_vm_net_free) struct hyp_vm_net net = {0};
	hyp_error err = {0};
	cr_assert_eq(hyp_vm_net_build(&c, 7300, "cn2", "cn[1-3]",
	                              "10.250.0.11,10.250.0.12,10.250.0.13", &net, &err),
	             0, "%s", err.msg);
	cr_assert_not_null(net.peer_addrs);
	cr_expect_str_eq(net.peer_addrs[0], "10.250.0.11");
	cr_expect_str_eq(net.peer_addrs[1], "10.250.0.13");
	cr_expect_null(net.peer_addrs[2]);
	static const char *const bad[] = {"10.250.0.11,10.250.0.12", "10.250.0.11,x,10.250.0.13",
	                                  "1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hyp_vm_net n = {0};
		cr_expect_lt(hyp_vm_net_build(&c, 7300, "cn2", "cn[1-3]", bad[i], &n, &err), 0,
		             "%s", bad[i]);
	}
}

Test(net, vm_net_alone_none_and_errors)
{
	_cleanup_(hyp_net_config_free) struct hyp_net_config c = defaults();
	hyp_error err = {0};
	struct hyp_vm_net net = {0};
	c.bridge[0] = 'X'; /* "Xyperionbr": no such device, so the default MTU */
	cr_assert_eq(hyp_vm_net_build(&c, 7300, "cn2", NULL, NULL, &net, &err), 0, "%s", err.msg);
	cr_expect_eq(net.npeers, 0, "a job without a node list is this node alone");
	cr_expect_eq(net.mtu, HYP_NET_DEFAULT_MTU);
	hyp_vm_net_free(&net);
	cr_expect_lt(hyp_vm_net_build(&c, 7300, "cn9", "cn[1-3]", NULL, &net, &err), 0);
	cr_expect(strstr(err.msg, "not in the job's nodes"), "%s", err.msg);
	c.mode = HYP_NET_NONE;
	cr_assert_eq(hyp_vm_net_build(&c, 7300, "cn2", "cn[1-3]", NULL, &net, &err), 0);
	cr_expect_eq(net.mode, HYP_NET_NONE);
	cr_expect_null(net.boot_words);
	hyp_vm_net_free(&net);
}

/* --- host devices: root only, in a network namespace of our own --- */

static bool own_netns(void)
{
	return geteuid() == 0 && unshare(CLONE_NEWNET) == 0;
}

static void read_sysctl(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "%s", path);
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

static int count_kind(const char *list, const char *kind)
{
	char line[256];
	int n = 0;
	FILE *f = fopen(list, "re");
	while (f && fgets(line, sizeof(line), f))
		n += !strncmp(line, kind, strlen(kind)) && line[strlen(kind)] == ' ';
	if (f)
		fclose(f);
	return n;
}

Test(net, acquire_then_release_leaves_nothing)
{
	if (!own_netns())
		cr_skip_test("needs root (a network namespace of its own)");
	cr_assert_eq(system("/sbin/ip link set lo up"), 0);
	_cleanup_(hyp_net_config_free) struct hyp_net_config c = defaults();
	_cleanup_(hyp_vm_net_free) struct hyp_vm_net net = {0};
	hyp_error err = {0};
	free(c.bridge);
	c.bridge = strdup("lo"); /* the tunnel's underlay */
	cr_assert_eq(
	    hyp_vm_net_build(&c, 7300, "127.0.0.1", "127.0.0.1,127.0.0.2", NULL, &net, &err), 0,
	    "%s", err.msg);
	char list[] = "/tmp/hyp-test-net-res.XXXXXX";
	close(mkstemp(list));
	cr_assert_eq(hyp_net_acquire(&net, list, &err), 0, "%s", err.msg);
	cr_expect_neq(if_nametoindex(net.bridge), 0);
	cr_expect_neq(if_nametoindex(net.vxlan), 0);
	cr_expect_neq(if_nametoindex(net.tap), 0);
	cr_expect_eq(count_kind(list, HYP_RES_NETDEV), 3);
	cr_expect_eq(count_kind(list, HYP_RES_FDB), 2, "flooding and the peer VM's MAC");
	char v[16], path[128], cmd[256];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", net.bridge);
	read_sysctl(path, v, sizeof(v));
	cr_expect_str_eq(v, "1");
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/arp_ignore", net.bridge);
	read_sysctl(path, v, sizeof(v));
	cr_expect_str_eq(v, "8");
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", net.bridge);
	read_sysctl(path, v, sizeof(v));
	cr_expect_str_eq(v, "1");
	snprintf(cmd, sizeof(cmd), "/sbin/ip -o link show dev %s | grep -q 'master %s'", net.tap,
	         net.bridge);
	cr_expect_eq(system(cmd), 0, "the tap is a port of the job's bridge");
	snprintf(cmd, sizeof(cmd),
	         "/sbin/bridge fdb show dev %s | grep -q '02:00:1c:84:00:01 dst 127.0.0.2'",
	         net.vxlan);
	cr_expect_eq(system(cmd), 0, "the peer VM's MAC goes to its node");
	struct hyp_release_ctx ctx = {0};
	cr_assert_eq(hyp_resources_release(list, &ctx, &err), 0, "%s", err.msg);
	cr_expect_eq(if_nametoindex(net.bridge), 0);
	cr_expect_eq(if_nametoindex(net.vxlan), 0);
	cr_expect_eq(if_nametoindex(net.tap), 0);
	cr_expect_eq(access(list, F_OK), -1, "the list is gone");
}

Test(net, release_only_what_is_ours)
{
	hyp_error err = {0};
	struct hyp_release_ctx ctx = {0};
	cr_expect_lt(hyp_net_release_netdev(&ctx, "eth0", &err), 0, "not a hyp- device");
	cr_expect_lt(hyp_net_release_netdev(&ctx, "hypt1;reboot", &err), 0);
	cr_expect_lt(hyp_net_release_netdev(&ctx, "hypervisor0", &err), 0, "not one of ours");
	cr_expect_eq(hyp_net_release_netdev(&ctx, "hypt424242abc", &err), 0, "gone: nothing to do");
	cr_expect_eq(hyp_net_release_fdb(&ctx, "hypx424242abc 00:00:00:00:00:00 10.0.0.1", &err),
	             0);
	cr_expect_lt(hyp_net_release_fdb(&ctx, "garbage", &err), 0);
	/* "hyp" alone: strchr("jxt", '\0') matched the terminator, and the
	 * byte after it was read as the name's fifth */
	const char bare[] = "hyp\0tail";
	cr_expect_lt(hyp_net_release_netdev(&ctx, bare, &err), 0, "a bare 'hyp' is not ours");
	cr_expect_lt(hyp_net_release_netdev(&ctx, "hyptgz", &err), 0, "hex digits only");
}

Test(net, a_loose_rp_filter_refuses_the_start)
{
	if (!own_netns())
		cr_skip_test("needs root (a network namespace of its own)");
	int fd = open("/proc/sys/net/ipv4/conf/all/rp_filter", O_WRONLY | O_CLOEXEC);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "2", 1), 1);
	close(fd);
	_cleanup_(hyp_net_config_free) struct hyp_net_config c = defaults();
	_cleanup_(hyp_vm_net_free) struct hyp_vm_net net = {0};
	hyp_error err = {0};
	cr_assert_eq(hyp_vm_net_build(&c, 7301, "n1", NULL, NULL, &net, &err), 0, "%s", err.msg);
	char list[] = "/tmp/hyp-test-net-res.XXXXXX";
	close(mkstemp(list));
	cr_expect_lt(hyp_net_acquire(&net, list, &err), 0);
	cr_expect(strstr(err.msg, "rp_filter"), "%s", err.msg);
	struct hyp_release_ctx ctx = {0};
	cr_assert_eq(hyp_resources_release(list, &ctx, &err), 0, "%s", err.msg);
	cr_expect_eq(if_nametoindex(net.bridge), 0, "the half-made bridge is released");
}

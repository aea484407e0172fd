/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host side of a job's segment (doc/network.md), as root, through
 * iproute2 run by hyp_spawn with argv arrays:
 *
 * (names: "hyp" KIND JOB NODE, hyp_net_dev_name)
 *
 *   hypj...     the job's bridge, with no address, no IPv6, no ARP replies
 *               and strict reverse-path filtering (its own routes: none), so
 *               that nothing from the segment reaches the node's own
 *               services (unless network_host_access = yes);
 *   hypx...     a VXLAN port on it (VNI from the job id, no learning) with
 *               one FDB entry per other node of the job, over network_bridge;
 *   hypt...     the VM's tap, a port of the bridge.
 *
 * Each is recorded in the job's resource list before it is created; the
 * release functions delete what is left, so stop, rollback and
 * reconciliation remove the segment on every node.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_net.h"
#include "hyp_resources.h"
#include "hyp_spawn.h"

#define IP     "/sbin/ip"
#define BRIDGE "/sbin/bridge"
#define PREFIX "hyp"

static int run(const char *const *argv, hyp_error *err)
{
	struct hyp_spawn sp = {.argv = argv};
	return hyp_spawn_run(&sp, err);
}

/* /proc/sys/net/<family>/conf/<dev>/<key> of this network namespace. */
static int sysctl_read(const char *family, const char *dev, const char *key, char *buf, size_t size)
{
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", family, dev, key);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int sysctl_write(const char *family, const char *dev, const char *key, const char *value,
                        hyp_error *err)
{
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", family, dev, key);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		return hyp_fail_errno(err, "setting %s", path);
	return 0;
}

/*
 * The host's IP stack ignores the bridge: no IPv6 on it, no ARP reply, and
 * strict reverse-path filtering, which drops every IPv4 packet since no
 * route leads to the bridge. The filter in force is the larger of "all" and
 * the device's: loose filtering (2) for all would let packets through.
 */
static int seal_bridge(const struct hyp_vm_net *net, hyp_error *err)
{
	char all[16] = "";
	if (sysctl_read("ipv4", "all", "rp_filter", all, sizeof(all)) < 0 || atoi(all) == 2)
		return hyp_fail(err, EPERM,
		                "net.ipv4.conf.all.rp_filter is 2 (loose): a VM could reach "
		                "the node's own services; set it to 0 or 1, or allow it "
		                "(network_host_access = yes)");
	int r = sysctl_write("ipv6", net->bridge, "disable_ipv6", "1", err);
	if (r >= 0)
		r = sysctl_write("ipv4", net->bridge, "arp_ignore", "8", err);
	if (r >= 0)
		r = sysctl_write("ipv4", net->bridge, "rp_filter", "1", err);
	return r;
}

static int add_bridge(const struct hyp_vm_net *net, const char *mtu, const char *res,
                      hyp_error *err)
{
	int r = hyp_resources_add(res, HYP_RES_NETDEV, net->bridge, err);
	if (r >= 0)
		r = run((const char *const[]){IP, "link", "add", "name", net->bridge, "mtu", mtu,
		                              "type", "bridge", NULL},
		        err);
	if (r >= 0)
		r = run((const char *const[]){IP, "link", "set", "dev", net->bridge, "addrgenmode",
		                              "none", NULL},
		        err);
	if (r >= 0 && !net->host_access)
		r = seal_bridge(net, err);
	if (r >= 0)
		r = run((const char *const[]){IP, "link", "set", "dev", net->bridge, "up", NULL},
		        err);
	return r;
}

static int add_tap(const struct hyp_vm_net *net, const char *mtu, const char *res, hyp_error *err)
{
	int r = hyp_resources_add(res, HYP_RES_NETDEV, net->tap, err);
	if (r >= 0)
		r = run((const char *const[]){IP, "tuntap", "add", "dev", net->tap, "mode", "tap",
		                              NULL},
		        err);
	if (r >= 0)
		r = run((const char *const[]){IP, "link", "set", "dev", net->tap, "mtu", mtu,
		                              "addrgenmode", "none", "master", net->bridge, "up",
		                              NULL},
		        err);
	return r;
}

/* A node name's IPv4 address, as the fabric knows it. */
static int resolve(const char *node, char addr[INET_ADDRSTRLEN], hyp_error *err)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM}, *ai = NULL;
	int r = getaddrinfo(node, NULL, &hints, &ai);
	if (r != 0 || !ai)
		return hyp_fail(err, EHOSTUNREACH, "node '%s': no address (%s)", node,
		                gai_strerror(r));
	inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, addr, INET_ADDRSTRLEN);
	freeaddrinfo(ai);
	return 0;
}

/* Flooding to the peer, and its VM's MAC straight to it. */
static int add_peer(const struct hyp_vm_net *net, size_t i, const char *res, hyp_error *err)
{
	char addr[INET_ADDRSTRLEN], mac[18], entry[128];
	size_t index = i < net->index ? i : i + 1; /* peers skip this node */
	uint8_t m[6];
	hyp_net_mac(net->cluster_id, net->job_id, index, m);
	hyp_net_mac_format(m, mac);
	int r = 0;
	if (net->peer_addrs)
		snprintf(addr, sizeof(addr), "%s", net->peer_addrs[i]);
	else
		r = resolve(net->peers[i], addr, err);
	const char *macs[] = {"00:00:00:00:00:00", mac};
	for (size_t k = 0; r >= 0 && k < 2; k++) {
		snprintf(entry, sizeof(entry), "%s %s %s", net->vxlan, macs[k], addr);
		r = hyp_resources_add(res, HYP_RES_FDB, entry, err);
		if (r >= 0)
			r = run((const char *const[]){BRIDGE, "fdb", "append", macs[k], "dev",
			                              net->vxlan, "dst", addr, "self", "permanent",
			                              NULL},
			        err);
	}
	return r;
}

static int add_vxlan(const struct hyp_vm_net *net, const char *mtu, const char *res, hyp_error *err)
{
	char vni[16], port[8];
	snprintf(vni, sizeof(vni), "%u", net->vni);
	snprintf(port, sizeof(port), "%u", net->vxlan_port);
	if (if_nametoindex(net->fabric) == 0)
		return hyp_fail(err, ENODEV,
		                "network_bridge '%s', the interface that carries multi-node jobs' "
		                "VXLAN, does not exist on this node: set network_bridge in "
		                "hyperion.conf to the node's cluster fabric interface (or network = "
		                "none for no guest network)",
		                net->fabric);
	int r = hyp_resources_add(res, HYP_RES_NETDEV, net->vxlan, err);
	if (r >= 0)
		r = run((const char *const[]){IP, "link", "add", "name", net->vxlan, "mtu", mtu,
		                              "type", "vxlan", "id", vni, "dstport", port, "dev",
		                              net->fabric, "nolearning", NULL},
		        err);
	if (r >= 0)
		r = run((const char *const[]){IP, "link", "set", "dev", net->vxlan, "addrgenmode",
		                              "none", "master", net->bridge, "up", NULL},
		        err);
	for (size_t i = 0; r >= 0 && i < net->npeers; i++)
		r = add_peer(net, i, res, err);
	return r;
}

int hyp_net_acquire(const struct hyp_vm_net *net, const char *resources, hyp_error *err)
{
	if (net->mode != HYP_NET_BRIDGE)
		return 0; /* libvirt's network, or none: nothing of the job's on the host */
	char mtu[16];
	snprintf(mtu, sizeof(mtu), "%u", net->mtu);
	int r = add_bridge(net, mtu, resources, err);
	if (r >= 0 && net->npeers)
		r = add_vxlan(net, mtu, resources, err);
	if (r >= 0)
		r = add_tap(net, mtu, resources, err);
	return r < 0 ? hyp_error_prefix(err, "job %u network", net->job_id) : 0;
}

/* Only Hyperion's own devices, whatever a damaged list says. */
static int check_name(const char *name, hyp_error *err)
{
	/* hyp_net_dev_name: "hyp", the kind, the job and the node hash in hex */
	size_t len = strlen(name);
	if (len < 5 || len >= IFNAMSIZ || strncmp(name, PREFIX, strlen(PREFIX)) ||
	    !strchr("jxt", name[3]) || name[4 + strspn(name + 4, "0123456789abcdef")])
		return hyp_fail(err, EINVAL, "network device '%s' is not Hyperion's", name);
	return 0;
}

int hyp_net_release_netdev(const struct hyp_release_ctx *ctx, const char *value, hyp_error *err)
{
	(void)ctx;
	int r = check_name(value, err);
	if (r < 0 || if_nametoindex(value) == 0)
		return r;
	r = run((const char *const[]){IP, "link", "del", "dev", value, NULL}, err);
	if (r < 0 && if_nametoindex(value) == 0) /* gone meanwhile */
		return 0;
	return r < 0 ? r : 1;
}

int hyp_net_release_fdb(const struct hyp_release_ctx *ctx, const char *value, hyp_error *err)
{
	(void)ctx;
	char dev[IFNAMSIZ + 1], mac[18], dst[INET_ADDRSTRLEN];
	if (sscanf(value, "%16s %17s %15s", dev, mac, dst) != 3)
		return hyp_fail(err, EINVAL, "bad fdb entry '%s'", value);
	int r = check_name(dev, err);
	if (r < 0 || if_nametoindex(dev) == 0) /* its device took it along */
		return r;
	r = run(
	    (const char *const[]){BRIDGE, "fdb", "del", mac, "dev", dev, "dst", dst, "self", NULL},
	    err);
	return r < 0 ? 0 : 1; /* an entry already gone is no failure */
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a job's VM gets on the guest network (hyp_net.h): derived, never
 * allocated, so every node of the job computes the same MACs and addresses
 * from the job id and the job's node list, and there is no lease to lose.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hyp_bootcfg.h"
#include "hyp_cleanup.h"
#include "hyp_hostlist.h"
#include "hyp_net.h"

void hyp_net_mac(unsigned cluster_id, uint32_t job_id, size_t index, uint8_t ret_mac[6])
{
	ret_mac[0] = (uint8_t)(((cluster_id & 0x3f) << 2) | 0x02); /* local, unicast */
	ret_mac[1] = (uint8_t)(job_id >> 16);
	ret_mac[2] = (uint8_t)(job_id >> 8);
	ret_mac[3] = (uint8_t)job_id;
	ret_mac[4] = (uint8_t)(index >> 8);
	ret_mac[5] = (uint8_t)index;
}

void hyp_net_mac_format(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
	         mac[5]);
}

uint32_t hyp_net_vni(uint32_t job_id)
{
	uint32_t vni = job_id & 0xffffff;
	return vni ? vni : 0xffffff;
}

int hyp_net_addr(const struct hyp_net_config *cfg, uint32_t job_id, size_t index,
                 uint32_t *ret_addr, hyp_error *err)
{
	unsigned slice_bits = cfg->job_prefix - cfg->subnet_prefix;
	unsigned host_bits = 32 - cfg->job_prefix;
	uint32_t slices = 1U << slice_bits;
	uint64_t hosts = (1ULL << host_bits) - 2; /* no network, no broadcast address */
	if (index >= hosts)
		return hyp_fail(err, E2BIG,
		                "job %u: node %zu has no address in a /%u (network_job_prefix)",
		                job_id, index + 1, cfg->job_prefix);
	*ret_addr = cfg->subnet | ((job_id % slices) << host_bits) | (uint32_t)(index + 1);
	return 0;
}

void hyp_net_addr_format(uint32_t addr, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255,
	         addr & 255);
}

void hyp_vm_net_free(struct hyp_vm_net *net)
{
	if (!net)
		return;
	free(net->fabric);
	free(net->libvirt_network);
	free(net->nodes);
	hyp_hostlist_free(net->peers);
	hyp_hostlist_free(net->peer_addrs);
	free(net->boot_words);
	*net = (struct hyp_vm_net){0};
}

/* The fabric's MTU less the tunnel's overhead; the default without one. */
static unsigned auto_mtu(const char *fabric)
{
	struct ifreq ifr = {0};
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", fabric);
	if (fd < 0 || ioctl(fd, SIOCGIFMTU, &ifr) < 0 || ifr.ifr_mtu < 576 + HYP_NET_VXLAN_OVERHEAD)
		return HYP_NET_DEFAULT_MTU;
	return (unsigned)ifr.ifr_mtu - HYP_NET_VXLAN_OVERHEAD;
}

/* This node's position and the other nodes, from the job's list. */
static int place_node(struct hyp_vm_net *net, const char *node, hyp_error *err)
{
	char **names;
	size_t n;
	int r = hyp_hostlist_expand(net->nodes, &names, &n, err);
	if (r < 0)
		return r;
	long index = hyp_hostlist_index(names, n, node);
	if (index < 0) {
		hyp_hostlist_free(names);
		return hyp_fail(err, EINVAL, "node '%s' is not in the job's nodes '%s'", node,
		                net->nodes);
	}
	net->index = (size_t)index;
	free(names[index]);
	memmove(&names[index], &names[index + 1], (n - (size_t)index) * sizeof(*names));
	net->peers = names;
	net->npeers = n - 1;
	return 0;
}

/* The other nodes' addresses from "A,B,..." (every node's, in order). */
static int peer_addresses(struct hyp_vm_net *net, const char *addrs, hyp_error *err)
{
	char **v = calloc(net->npeers + 2, sizeof(char *));
	size_t n = 0, k = 0;
	if (!v)
		return hyp_fail(err, ENOMEM, "out of memory");
	net->peer_addrs = v;
	for (const char *p = addrs; *p; n++) {
		size_t len = strcspn(p, ",");
		char buf[INET_ADDRSTRLEN];
		struct in_addr in;
		snprintf(buf, sizeof(buf), "%.*s", (int)len, p);
		if (len >= sizeof(buf) || inet_pton(AF_INET, buf, &in) != 1 || n > net->npeers)
			return hyp_fail(err, EINVAL, "bad node addresses '%s'", addrs);
		if (n != net->index && !(v[k++] = strdup(buf)))
			return hyp_fail(err, ENOMEM, "out of memory");
		p += len + (p[len] == ',');
	}
	if (n != net->npeers + 1)
		return hyp_fail(err, EINVAL, "%zu node addresses for %zu nodes", n,
		                net->npeers + 1);
	return 0;
}

/* hyperion.net=MAC,ADDR/PREFIX,MTU hyperion.hosts=FIRST,EXPR (encoded) */
static int boot_words(struct hyp_vm_net *net, hyp_error *err)
{
	char mac[18], addr[16], first[16];
	hyp_net_mac_format(net->mac, mac);
	hyp_net_addr_format(net->addr, addr);
	hyp_net_addr_format(net->first_addr, first);
	_cleanup_free_ char *words = NULL;
	if (asprintf(&words, " hyperion.net=%s,%s/%u,%u hyperion.hosts=%s,", mac, addr, net->prefix,
	             net->mtu, first) < 0) {
		words = NULL;
		return hyp_fail(err, ENOMEM, "out of memory");
	}
	if (hyp_bootcfg_append_encoded(&words, net->nodes) < 0)
		return hyp_fail(err, ENOMEM, "out of memory");
	net->boot_words = steal_pointer(&words);
	return 0;
}

/* 12 bits of the node name's FNV-1a hash. */
static unsigned node_hash(const char *node)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)node; *p; p++)
		h = (h ^ *p) * 16777619u;
	return (h ^ (h >> 12) ^ (h >> 24)) & 0xfff;
}

void hyp_net_dev_name(char kind, uint32_t job_id, const char *node, char ret[IFNAMSIZ])
{
	snprintf(ret, IFNAMSIZ, "hyp%c%x%03x", kind, job_id, node_hash(node));
}

static int names_and_addresses(struct hyp_vm_net *net, const struct hyp_net_config *cfg,
                               const char *node, hyp_error *err)
{
	uint32_t j = net->job_id;
	hyp_net_dev_name('t', j, node, net->tap);
	hyp_net_dev_name('j', j, node, net->bridge);
	hyp_net_dev_name('x', j, node, net->vxlan);
	hyp_net_mac(cfg->cluster_id, j, net->index, net->mac);
	net->vni = hyp_net_vni(j);
	net->prefix = cfg->job_prefix;
	int r = hyp_net_addr(cfg, j, net->index, &net->addr, err);
	if (r >= 0)
		r = hyp_net_addr(cfg, j, 0, &net->first_addr, err);
	/* the last node's address must exist too */
	uint32_t last;
	if (r >= 0)
		r = hyp_net_addr(cfg, j, net->npeers, &last, err);
	return r;
}

int hyp_vm_net_build(const struct hyp_net_config *cfg, uint32_t job_id, const char *node,
                     const char *nodes, const char *addrs, struct hyp_vm_net *ret, hyp_error *err)
{
	_cleanup_(hyp_vm_net_free) struct hyp_vm_net net = {.mode = cfg->mode, .job_id = job_id};
	if (cfg->mode == HYP_NET_NONE) {
		*ret = net;
		return 0;
	}
	net.fabric = strdup(cfg->bridge);
	net.libvirt_network = strdup(cfg->libvirt_network);
	net.nodes = strdup(nodes && *nodes ? nodes : node);
	if (!net.fabric || !net.libvirt_network || !net.nodes)
		return hyp_fail(err, ENOMEM, "out of memory");
	net.vxlan_port = cfg->vxlan_port;
	net.cluster_id = cfg->cluster_id;
	net.host_access = cfg->host_access;
	net.mtu = cfg->mtu ? cfg->mtu : auto_mtu(cfg->bridge);
	int r = place_node(&net, node, err);
	if (r >= 0 && addrs && *addrs && nodes && *nodes)
		r = peer_addresses(&net, addrs, err);
	if (r >= 0)
		r = names_and_addresses(&net, cfg, node, err);
	if (r >= 0)
		r = boot_words(&net, err);
	if (r < 0)
		return hyp_error_prefix(err, "guest network");
	*ret = net;
	net = (struct hyp_vm_net){0};
	return 0;
}

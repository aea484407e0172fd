/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest network (doc/network.md): the hyperion.conf keys, what a job's
 * VM gets on a node (MAC, per-job segment names, address, MTU) and the host
 * side that builds the segment (hyp_net_host.c). Derivations are pure
 * functions of (cluster id, job, position of the node in the job's list).
 */
#ifndef HYP_NET_H
#define HYP_NET_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "hyp_error.h"

enum hyp_net_mode {
	HYP_NET_NONE,    /* no NIC (what a zeroed spec says) */
	HYP_NET_BRIDGE,  /* the job's own bridge per node, VXLAN between its nodes */
	HYP_NET_LIBVIRT, /* a libvirt network the admin defined: no isolation */
};

struct hyp_net_config {
	enum hyp_net_mode mode; /* network = bridge | libvirt | none */
	char *bridge;           /* network_bridge = hyperionbr: the fabric under the VXLANs */
	char *libvirt_network;  /* network_libvirt = default */
	unsigned vxlan_port;    /* network_vxlan_port = 4789 */
	unsigned mtu;           /* network_mtu = 0: network_bridge's MTU - 50, else 1450 */
	uint32_t subnet;        /* network_subnet = 10.0.0.0/8 (host byte order) */
	unsigned subnet_prefix;
	unsigned job_prefix; /* network_job_prefix = 16: each job's slice of the subnet */
	unsigned cluster_id; /* network_cluster_id = 0 (0-63): part of every MAC */
	bool host_access;    /* network_host_access = no: VMs may reach the node's stack */
	uint32_t seen;       /* keys given, to refuse one given twice */
};

int hyp_net_config_defaults(struct hyp_net_config *c, hyp_error *err);
void hyp_net_config_free(struct hyp_net_config *c);
/* 1 when `key` is a network key (then set), 0 when it is not one. */
int hyp_net_config_set(struct hyp_net_config *c, const char *key, const char *value,
                       hyp_error *err);
/* Once all keys are read: the job slice lies inside the subnet. */
int hyp_net_config_check(const struct hyp_net_config *c, hyp_error *err);
/* The network keys, ", "-separated, for an unknown-key message. */
const char *hyp_net_config_keys(void);
const char *hyp_net_mode_name(enum hyp_net_mode mode);

#define HYP_NET_VXLAN_OVERHEAD 50 /* outer IPv4 + UDP + VXLAN + inner Ethernet */
#define HYP_NET_DEFAULT_MTU    1450

/* What the job's VM on this node gets. */
struct hyp_vm_net {
	enum hyp_net_mode mode; /* HYP_NET_NONE: no NIC, the rest is unset */
	uint8_t mac[6];
	char tap[IFNAMSIZ];    /* hypt<JOB><NODE>: the VM's tap (bridge mode) */
	char bridge[IFNAMSIZ]; /* hypj<JOB><NODE>: the job's bridge on this node */
	char vxlan[IFNAMSIZ];  /* hypx<JOB><NODE>: its tunnel to the job's other nodes */
	char *fabric;          /* network_bridge: the tunnel's underlay device */
	char *libvirt_network;
	unsigned vxlan_port;
	uint32_t vni;
	unsigned mtu;
	unsigned cluster_id;
	bool host_access;
	uint32_t job_id;
	uint32_t addr;       /* the guest's address (host byte order) */
	uint32_t first_addr; /* the first node's; node i has first_addr + i */
	unsigned prefix;
	char *nodes;       /* the job's host list expression (hyp_hostlist.h) */
	char **peers;      /* the job's other nodes (NULL-terminated) */
	char **peer_addrs; /* their fabric addresses; NULL: resolve the names */
	size_t npeers;
	size_t index;     /* this node's position in the list */
	char *boot_words; /* " hyperion.net=... hyperion.hosts=..." for the kernel */
};

/* From the configuration, the job, this node and the job's node list
 * (NULL: this node alone) with, optionally, each node's fabric address in
 * the list's order ("A,B,...", as the scheduler knows them; NULL: the names
 * are resolved at start). Touches nothing but reads the fabric's MTU. */
int hyp_vm_net_build(const struct hyp_net_config *cfg, uint32_t job_id, const char *node,
                     const char *nodes, const char *addrs, struct hyp_vm_net *ret, hyp_error *err);
void hyp_vm_net_free(struct hyp_vm_net *net);

/* "hyp" KIND JOB NODE: the job id in hex and 12 bits of a hash of the node
 * name, so that several Slurm nodes sharing one network namespace (tests)
 * do not collide; at most 15 characters. */
void hyp_net_dev_name(char kind, uint32_t job_id, const char *node, char ret[IFNAMSIZ]);
/* Locally administered, unicast: 02|cluster<<2, job (24 bits), node (16). */
void hyp_net_mac(unsigned cluster_id, uint32_t job_id, size_t index, uint8_t ret_mac[6]);
void hyp_net_mac_format(const uint8_t mac[6], char buf[18]);
/* The job's VXLAN network identifier: its id modulo 2^24, never 0. */
uint32_t hyp_net_vni(uint32_t job_id);
/* Node `index`'s address in the job's slice of the subnet. */
int hyp_net_addr(const struct hyp_net_config *cfg, uint32_t job_id, size_t index,
                 uint32_t *ret_addr, hyp_error *err);
void hyp_net_addr_format(uint32_t addr, char buf[16]);

/* hyp_net_host.c, as root: record and create the job's bridge, its tunnel
 * and FDB entries to the other nodes, and the VM's tap (hyp_resources.h). */
int hyp_net_acquire(const struct hyp_vm_net *net, const char *resources, hyp_error *err);
/* Release functions of the resource kinds "netdev" and "fdb". */
struct hyp_release_ctx;
int hyp_net_release_netdev(const struct hyp_release_ctx *ctx, const char *value, hyp_error *err);
int hyp_net_release_fdb(const struct hyp_release_ctx *ctx, const char *value, hyp_error *err);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest network from the boot configuration (common/hyp_net.h writes
 * it, doc/network.md):
 *
 *   hyperion.net=MAC,ADDR/PREFIX,MTU      this VM's NIC, found by its MAC
 *   hyperion.hosts=FIRST,NODES            the job's nodes (a percent-encoded
 *                                         Slurm host list); node i has FIRST+i
 */
#ifndef AGENT_NET_H
#define AGENT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_NET_HOSTS_MAX 2048

struct agent_net {
	bool has_net;
	uint8_t mac[6];
	uint32_t addr; /* host byte order */
	unsigned prefix;
	unsigned mtu;
	bool has_hosts;
	uint32_t first;
	char hosts[AGENT_NET_HOSTS_MAX]; /* the host list expression, decoded */
};

/* hyperion.KEY=V (len bytes): 1 parsed, 0 not a network key, -1 malformed. */
int agent_net_parse(struct agent_net *n, const char *key, const char *v, size_t len);

/* As PID 1: configure the NIC (address, prefix, MTU, up); failures are
 * logged on the console. */
void agent_net_apply(const struct agent_net *n);
/* The same for an agent started as a service, while udev may still be
 * adding the NIC: waits for it at most wait_ms. */
void agent_net_apply_when_present(const struct agent_net *n, unsigned wait_ms);

/* Whether the job's host list names `self` (it then gets its address, not
 * 127.0.1.1, in /etc/hosts). */
bool agent_net_names(const struct agent_net *n, const char *self);
/* "ADDR\tNAME\n" for each of the job's nodes, written to fd: 0 or -1. */
int agent_net_write_hosts(const struct agent_net *n, int fd);

#endif

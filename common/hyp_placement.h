/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where a guest's vCPUs and memory go on the host, and the shape the guest
 * sees: derived from the allocated OS cpus and the machine's topology
 * (DESIGN.md section 6). Pure data; the domain XML writer renders it.
 */
#ifndef HYP_PLACEMENT_H
#define HYP_PLACEMENT_H

#include <stddef.h>

#include "hyp_error.h"
#include "hyp_topology.h"

struct hyp_vcpu {
	unsigned host_cpu; /* OS cpu this vCPU is pinned to */
	unsigned cell;     /* index into hyp_placement.cells */
};

struct hyp_cell {
	unsigned host_node;            /* host NUMA node (OS index) */
	unsigned long long memory_kib; /* guest memory in this cell */
	char *vcpus;                   /* guest cpu list, e.g. "0-3" */
};

struct hyp_placement {
	size_t nvcpus;
	struct hyp_vcpu *vcpus;           /* vCPU i; hyperthread siblings are adjacent */
	unsigned sockets, cores, threads; /* sockets * cores * threads == nvcpus */
	size_t ncells;
	struct hyp_cell *cells; /* one per host NUMA node touched */
	char *emulator_cpus;    /* host cpu list for emulator and I/O threads */
	char *host_nodes;       /* host node list for <numatune><memory> */
};

/*
 * cpus: the allocated OS cpus (sorted, distinct). memory_mib: guest memory.
 * housekeeping: host cpu list for emulator threads, NULL/"" for the
 * allocation itself. Fails if a cpu is not on the machine.
 */
int hyp_placement_compute(const struct hyp_topology *topo, const unsigned *cpus, size_t ncpus,
                          unsigned long long memory_mib, const char *housekeeping,
                          struct hyp_placement *ret_pl, hyp_error *err);
void hyp_placement_free(struct hyp_placement *pl);

#endif

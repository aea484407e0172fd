/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine, as hwloc sees it: this node, or any machine described by an
 * hwloc XML export (for `hyperionctl xml --topology` and the tests).
 */
#ifndef HYP_TOPOLOGY_H
#define HYP_TOPOLOGY_H

#include <stddef.h>

#include "hyp_error.h"

struct hyp_topology; /* wraps hwloc_topology_t */

/* xml_path NULL: this machine. */
int hyp_topology_load(const char *xml_path, struct hyp_topology **ret_topo, hyp_error *err);
void hyp_topology_free(struct hyp_topology *topo);

/*
 * Map Slurm's abstract core ids (S_JOB_ALLOC_CORES, e.g. "0-3,8") to OS cpu
 * numbers: every hardware thread of each core, unless threads_per_core > 0
 * limits how many of each core's threads are used. Sorted ascending.
 */
int hyp_topology_cores_to_cpus(const struct hyp_topology *topo, const char *core_list,
                               unsigned threads_per_core, unsigned **ret_cpus, size_t *ret_ncpus,
                               hyp_error *err);

/* Where an OS cpu sits. Indexes are hwloc logical ones (tree order). */
struct hyp_cpu_place {
	unsigned node;    /* NUMA node holding the cpu (first by logical index) */
	unsigned node_os; /* its OS index, as numactl and libvirt number it */
	unsigned package; /* 0 when the machine shows no packages */
	unsigned core;    /* the PU's own index when it shows no cores */
	unsigned thread;  /* the PU itself */
};

/* Fails if cpu is not on the machine, naming it and the machine's cpus. */
int hyp_topology_locate_cpu(const struct hyp_topology *topo, unsigned cpu,
                            struct hyp_cpu_place *ret_place, hyp_error *err);

/* The OS index of the NUMA node a PCI function ("0000:03:00.0") hangs
 * off, -1 when the machine does not show it. topo may be NULL (-1). */
int hyp_topology_pci_node(const struct hyp_topology *topo, const char *pci);

/* The PCI functions the machine shows in pci's slot ("DDDD:BB:SS.F" each,
 * sorted, NULL-terminated; empty when it shows none): for dry runs of
 * another machine without its sysfs. */
int hyp_topology_pci_slot(const struct hyp_topology *topo, const char *pci, char ***ret_fns,
                          hyp_error *err);

#endif

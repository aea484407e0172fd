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

#endif

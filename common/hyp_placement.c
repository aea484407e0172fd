/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * From the allocated OS cpus to vCPU pins, the guest's shape and its NUMA
 * cells (DESIGN.md section 6; the rules for admins are in doc/placement.md).
 *
 * vCPUs are numbered host NUMA node by node, then package, core and thread
 * (hwloc logical order), so each guest cell is a contiguous vCPU range and a
 * host core's threads are adjacent vCPUs in one guest core.
 */
#include "hyp_placement.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_cleanup.h"
#include "hyp_cpulist.h"

/* Largest guest memory accepted: keeps the proportional split in 64 bits. */
#define MEMORY_MIB_MAX (1ULL << 40)

struct slot {
	unsigned cpu;
	struct hyp_cpu_place at;
};

void hyp_placement_free(struct hyp_placement *pl)
{
	if (!pl)
		return;
	for (size_t c = 0; pl->cells && c < pl->ncells; c++)
		free(pl->cells[c].vcpus);
	free(pl->cells);
	free(pl->vcpus);
	free(pl->emulator_cpus);
	free(pl->host_nodes);
	memset(pl, 0, sizeof(*pl));
}

static int compare_slots(const void *a, const void *b)
{
	const struct hyp_cpu_place *x = &((const struct slot *)a)->at;
	const struct hyp_cpu_place *y = &((const struct slot *)b)->at;
	const unsigned kx[] = {x->node, x->package, x->core, x->thread};
	const unsigned ky[] = {y->node, y->package, y->core, y->thread};
	for (size_t i = 0; i < sizeof(kx) / sizeof(kx[0]); i++)
		if (kx[i] != ky[i])
			return kx[i] < ky[i] ? -1 : 1;
	return 0;
}

static int check_request(const unsigned *cpus, size_t ncpus, unsigned long long memory_mib,
                         hyp_error *err)
{
	if (!cpus || ncpus == 0)
		return hyp_fail(err, EINVAL, "placement: no cpus allocated");
	for (size_t i = 1; i < ncpus; i++)
		if (cpus[i] <= cpus[i - 1])
			return hyp_fail(err, EINVAL,
			                "placement: cpu list not sorted and distinct at cpu %u",
			                cpus[i]);
	if (memory_mib == 0 || memory_mib > MEMORY_MIB_MAX)
		return hyp_fail(err, EINVAL,
		                "placement: guest memory %llu MiB out of range (1-%llu)",
		                memory_mib, MEMORY_MIB_MAX);
	return 0;
}

/* The allocated cpus, located on the machine and in vCPU order. */
static int order_cpus(const struct hyp_topology *topo, const unsigned *cpus, size_t ncpus,
                      struct slot **ret_slots, hyp_error *err)
{
	_cleanup_free_ struct slot *slots = calloc(ncpus, sizeof(*slots));
	if (!slots)
		return hyp_fail_errno(err, "placement: allocating");
	for (size_t i = 0; i < ncpus; i++) {
		slots[i].cpu = cpus[i];
		if (hyp_topology_locate_cpu(topo, cpus[i], &slots[i].at, err) < 0)
			return hyp_error_prefix(err, "placement");
	}
	qsort(slots, ncpus, sizeof(*slots), compare_slots);
	*ret_slots = steal_pointer(&slots);
	return 0;
}

/* End of the run of slots from i that agree with slots[i] on the key(s). */
static size_t run_end(const struct slot *s, size_t n, size_t i, int by_core)
{
	size_t j = i;
	while (j < n && s[j].at.node == s[i].at.node && s[j].at.package == s[i].at.package &&
	       (!by_core || s[j].at.core == s[i].at.core))
		j++;
	return j;
}

/* Threads per guest core: the allocated threads of each host core when that
 * number is the same for every allocated core, else 1. */
static unsigned shape_threads(const struct slot *s, size_t n)
{
	unsigned threads = 0;
	for (size_t i = 0, j; i < n; i = j) {
		j = run_end(s, n, i, 1);
		if (threads && j - i != threads)
			return 1;
		threads = j - i;
	}
	return threads;
}

static unsigned gcd(unsigned a, unsigned b)
{
	while (b) {
		unsigned t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* Cores per guest socket: the largest count dividing the allocated cores of
 * every (host node, package) group, so no guest socket straddles a host
 * package or a NUMA cell. Equal groups mirror the host's sockets. */
static unsigned shape_cores(const struct slot *s, size_t n, unsigned threads)
{
	unsigned cores = 0;
	for (size_t i = 0, j; i < n; i = j) {
		j = run_end(s, n, i, 0);
		cores = gcd(cores, (unsigned)(j - i) / threads);
	}
	return cores;
}

static char *range_string(size_t first, size_t last)
{
	char *s = NULL;
	int r = first == last ? asprintf(&s, "%zu", first) : asprintf(&s, "%zu-%zu", first, last);
	return r < 0 ? NULL : s;
}

/* vCPU i pinned to slot i; a new cell wherever the host node changes. */
static int assign_vcpus(struct hyp_placement *pl, const struct slot *s, hyp_error *err)
{
	pl->vcpus = calloc(pl->nvcpus, sizeof(*pl->vcpus));
	if (!pl->vcpus)
		return hyp_fail_errno(err, "placement: allocating");
	for (size_t i = 0; i < pl->nvcpus; i++) {
		if (i > 0 && s[i].at.node != s[i - 1].at.node)
			pl->ncells++;
		pl->vcpus[i] = (struct hyp_vcpu){.host_cpu = s[i].cpu, .cell = pl->ncells};
	}
	pl->ncells++;
	pl->cells = calloc(pl->ncells, sizeof(*pl->cells));
	if (!pl->cells) {
		pl->ncells = 0;
		return hyp_fail_errno(err, "placement: allocating");
	}
	return 0;
}

/* Each cell's host node and vCPU range. */
static int fill_cells(struct hyp_placement *pl, const struct slot *s, hyp_error *err)
{
	for (size_t i = 0, first = 0; i < pl->nvcpus; i++) {
		unsigned c = pl->vcpus[i].cell;
		if (i + 1 < pl->nvcpus && pl->vcpus[i + 1].cell == c)
			continue;
		pl->cells[c].host_node = s[i].at.node_os;
		pl->cells[c].vcpus = range_string(first, i);
		if (!pl->cells[c].vcpus)
			return hyp_fail_errno(err, "placement: allocating");
		first = i + 1;
	}
	return 0;
}

/* Memory in proportion to each cell's vCPUs, in whole MiB (libvirt rounds
 * every cell up to 1 MiB); the last cell takes the rounding remainder. */
static int split_memory(struct hyp_placement *pl, unsigned long long memory_mib, hyp_error *err)
{
	_cleanup_free_ size_t *count = calloc(pl->ncells, sizeof(*count));
	if (!count)
		return hyp_fail_errno(err, "placement: allocating");
	for (size_t i = 0; i < pl->nvcpus; i++)
		count[pl->vcpus[i].cell]++;

	unsigned long long left = memory_mib;
	for (size_t c = 0; c < pl->ncells; c++) {
		unsigned long long mib =
		    c + 1 < pl->ncells ? memory_mib * count[c] / pl->nvcpus : left;
		if (mib == 0)
			return hyp_fail(
			    err, EINVAL,
			    "placement: %llu MiB cannot give each of %zu NUMA cells 1 MiB",
			    memory_mib, pl->ncells);
		pl->cells[c].memory_kib = mib * 1024;
		left -= mib;
	}
	return 0;
}

static int set_host_nodes(struct hyp_placement *pl, hyp_error *err)
{
	_cleanup_free_ unsigned *nodes = calloc(pl->ncells, sizeof(*nodes));
	if (!nodes)
		return hyp_fail_errno(err, "placement: allocating");
	for (size_t c = 0; c < pl->ncells; c++) {
		size_t k = c;
		for (; k > 0 && nodes[k - 1] > pl->cells[c].host_node; k--)
			nodes[k] = nodes[k - 1];
		nodes[k] = pl->cells[c].host_node;
	}
	pl->host_nodes = hyp_cpulist_format(nodes, pl->ncells);
	if (!pl->host_nodes)
		return hyp_fail_errno(err, "placement: formatting host nodes");
	return 0;
}

/* The housekeeping cpus when configured (each must be on the machine), else
 * the allocation itself: emulator and I/O threads never float. */
static int set_emulator_cpus(struct hyp_placement *pl, const struct hyp_topology *topo,
                             const unsigned *cpus, size_t ncpus, const char *housekeeping,
                             hyp_error *err)
{
	_cleanup_free_ unsigned *ids = NULL;
	size_t n = ncpus;
	if (housekeeping && *housekeeping) {
		if (hyp_cpulist_parse(housekeeping, &ids, &n, err) < 0)
			return hyp_error_prefix(err, "housekeeping cpus '%s'", housekeeping);
		for (size_t i = 0; i < n; i++) {
			struct hyp_cpu_place at;
			if (hyp_topology_locate_cpu(topo, ids[i], &at, err) < 0)
				return hyp_error_prefix(err, "housekeeping cpus '%s'",
				                        housekeeping);
		}
	}
	pl->emulator_cpus = hyp_cpulist_format(ids ? ids : cpus, n);
	if (!pl->emulator_cpus)
		return hyp_fail_errno(err, "placement: formatting emulator cpus");
	return 0;
}

int hyp_placement_compute(const struct hyp_topology *topo, const unsigned *cpus, size_t ncpus,
                          unsigned long long memory_mib, const char *housekeeping,
                          struct hyp_placement *ret_pl, hyp_error *err)
{
	_cleanup_(hyp_placement_free) struct hyp_placement pl = {0};
	_cleanup_free_ struct slot *slots = NULL;
	int r = check_request(cpus, ncpus, memory_mib, err);
	if (r < 0)
		return r;
	r = order_cpus(topo, cpus, ncpus, &slots, err);
	if (r < 0)
		return r;

	pl.nvcpus = ncpus;
	pl.threads = shape_threads(slots, ncpus);
	pl.cores = shape_cores(slots, ncpus, pl.threads);
	pl.sockets = ncpus / ((size_t)pl.cores * pl.threads);

	if ((r = assign_vcpus(&pl, slots, err)) < 0 || (r = fill_cells(&pl, slots, err)) < 0 ||
	    (r = split_memory(&pl, memory_mib, err)) < 0 || (r = set_host_nodes(&pl, err)) < 0 ||
	    (r = set_emulator_cpus(&pl, topo, cpus, ncpus, housekeeping, err)) < 0)
		return r;

	*ret_pl = pl;
	memset(&pl, 0, sizeof(pl));
	return 0;
}

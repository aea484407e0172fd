/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine as hwloc sees it, and Slurm's abstract core ids mapped onto it.
 *
 * Slurm numbers a node's cores socket by socket in hwloc's order: slurmd's
 * xcpuinfo_hwloc_topo_get() walks the sockets by logical index and the cores
 * inside each, so abstract core k is the core of hwloc logical index k, and
 * its thread t is the t-th PU of that core (xcpuinfo_abs_to_mac(), which
 * task/cgroup applies to the same job_alloc_cores string that SPANK hands out
 * as S_JOB_ALLOC_CORES). doc/placement.md has the rules for admins.
 */
#include "hyp_topology.h"

#include <errno.h>
#include <stdio.h>
#include <hwloc.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_cleanup.h"
#include "hyp_cpulist.h"

struct hyp_topology {
	hwloc_topology_t hw;
};

void hyp_topology_free(struct hyp_topology *topo)
{
	if (!topo)
		return;
	if (topo->hw)
		hwloc_topology_destroy(topo->hw);
	free(topo);
}

static void topology_freep(struct hyp_topology **topo)
{
	hyp_topology_free(*topo);
}

/*
 * The whole machine, even the cpus a cgroup (slurmd's own, say) hides from
 * us, since Slurm's ids count them all; I/O objects kept for PCI locality.
 * Returns a negative errno value.
 */
static int topology_configure_and_load(hwloc_topology_t hw, const char *xml_path)
{
	errno = 0;
	if (hwloc_topology_set_flags(hw, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED) < 0 ||
	    hwloc_topology_set_io_types_filter(hw, HWLOC_TYPE_FILTER_KEEP_ALL) < 0)
		return errno ? -errno : -EINVAL;
	if (xml_path && hwloc_topology_set_xml(hw, xml_path) < 0)
		return errno ? -errno : -EINVAL;
	if (hwloc_topology_load(hw) < 0)
		return errno ? -errno : -EINVAL;
	if (hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_PU) <= 0)
		return -ENODATA;
	return 0;
}

int hyp_topology_load(const char *xml_path, struct hyp_topology **ret_topo, hyp_error *err)
{
	_cleanup_(topology_freep) struct hyp_topology *topo = calloc(1, sizeof(*topo));
	if (!topo)
		return hyp_fail_errno(err, "topology: allocating");
	if (hwloc_topology_init(&topo->hw) < 0) {
		topo->hw = NULL;
		return hyp_fail_errno(err, "topology: initialising hwloc");
	}

	int r = topology_configure_and_load(topo->hw, xml_path);
	if (r < 0 && xml_path)
		return hyp_fail(err, -r, "topology '%s': cannot load: %s", xml_path, strerror(-r));
	if (r < 0)
		return hyp_fail(err, -r, "topology of this machine: cannot load: %s", strerror(-r));

	*ret_topo = steal_pointer(&topo);
	return 0;
}

static int compare_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

/* Cores as Slurm counts them; a machine that shows no cores has one per PU. */
static hwloc_obj_type_t core_type(hwloc_topology_t hw)
{
	return hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
}

/* Append the OS numbers of core id's first `limit` threads (all if 0). */
static int core_cpus(hwloc_topology_t hw, unsigned id, unsigned limit, unsigned *cpus, size_t *n,
                     hyp_error *err)
{
	hwloc_obj_type_t type = core_type(hw);
	hwloc_obj_t core = hwloc_get_obj_by_type(hw, type, id);
	if (!core) {
		int ncores = hwloc_get_nbobjs_by_type(hw, type);
		return hyp_fail(err, EINVAL, "core id %u is beyond this machine's %d cores (0-%d)",
		                id, ncores, ncores - 1);
	}

	int nthreads = hwloc_get_nbobjs_inside_cpuset_by_type(hw, core->cpuset, HWLOC_OBJ_PU);
	for (int t = 0; t < nthreads && (limit == 0 || (unsigned)t < limit); t++) {
		hwloc_obj_t pu =
		    hwloc_get_obj_inside_cpuset_by_type(hw, core->cpuset, HWLOC_OBJ_PU, t);
		cpus[(*n)++] = pu->os_index;
	}
	return 0;
}

int hyp_topology_cores_to_cpus(const struct hyp_topology *topo, const char *core_list,
                               unsigned threads_per_core, unsigned **ret_cpus, size_t *ret_ncpus,
                               hyp_error *err)
{
	if (!core_list || !*core_list)
		return hyp_fail(err, EINVAL, "allocated cores: empty core list");

	_cleanup_free_ unsigned *ids = NULL;
	size_t nids = 0;
	if (hyp_cpulist_parse(core_list, &ids, &nids, err) < 0)
		return hyp_error_prefix(err, "allocated cores '%s'", core_list);

	/* Distinct cores have distinct PUs: the machine's PU count bounds the result. */
	int npus = hwloc_get_nbobjs_by_type(topo->hw, HWLOC_OBJ_PU);
	_cleanup_free_ unsigned *cpus = calloc(npus > 0 ? (size_t)npus : 1, sizeof(*cpus));
	if (!cpus)
		return hyp_fail_errno(err, "allocated cores '%s'", core_list);

	size_t n = 0;
	for (size_t i = 0; i < nids; i++)
		if (core_cpus(topo->hw, ids[i], threads_per_core, cpus, &n, err) < 0)
			return hyp_error_prefix(err, "allocated cores '%s'", core_list);

	qsort(cpus, n, sizeof(*cpus), compare_unsigned);
	*ret_cpus = steal_pointer(&cpus);
	*ret_ncpus = n;
	return 0;
}

/* A cpu's node: the first NUMA node (logical order) whose cpuset holds it, so
 * memory-only nodes (HBM, CXL) listed after a DRAM node are never chosen. */
static hwloc_obj_t cpu_node(hwloc_topology_t hw, unsigned cpu)
{
	hwloc_obj_t node = NULL;
	while ((node = hwloc_get_next_obj_by_type(hw, HWLOC_OBJ_NUMANODE, node)))
		if (hwloc_bitmap_isset(node->cpuset, cpu))
			return node;
	return NULL;
}

static int fail_no_cpu(hwloc_topology_t hw, unsigned cpu, hyp_error *err)
{
	_cleanup_free_ char *valid = NULL;
	if (hwloc_bitmap_list_asprintf(&valid, hwloc_topology_get_complete_cpuset(hw)) < 0)
		valid = NULL;
	return hyp_fail(err, EINVAL, "cpu %u is not on this machine (cpus %s)", cpu,
	                valid ? valid : "unknown");
}

int hyp_topology_locate_cpu(const struct hyp_topology *topo, unsigned cpu,
                            struct hyp_cpu_place *ret_place, hyp_error *err)
{
	hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(topo->hw, cpu);
	if (!pu)
		return fail_no_cpu(topo->hw, cpu, err);

	hwloc_obj_t node = cpu_node(topo->hw, cpu);
	hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(topo->hw, HWLOC_OBJ_PACKAGE, pu);
	hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topo->hw, HWLOC_OBJ_CORE, pu);
	*ret_place = (struct hyp_cpu_place){
	    .node = node ? node->logical_index : 0,
	    .node_os = node && node->os_index != HWLOC_UNKNOWN_INDEX ? node->os_index : 0,
	    .package = pkg ? pkg->logical_index : 0,
	    .core = core ? core->logical_index : pu->logical_index,
	    .thread = pu->logical_index,
	};
	return 0;
}

int hyp_topology_pci_node(const struct hyp_topology *topo, const char *pci)
{
	if (!topo)
		return -1;
	hwloc_obj_t dev = hwloc_get_pcidev_by_busidstring(topo->hw, pci);
	hwloc_obj_t parent = dev ? hwloc_get_non_io_ancestor_obj(topo->hw, dev) : NULL;
	if (!parent || !parent->nodeset)
		return -1;
	hwloc_obj_t node = NULL;
	while ((node = hwloc_get_next_obj_by_type(topo->hw, HWLOC_OBJ_NUMANODE, node)))
		if (hwloc_bitmap_isincluded(node->nodeset, parent->nodeset))
			return (int)node->os_index;
	return -1;
}

int hyp_topology_pci_slot(const struct hyp_topology *topo, const char *pci, char ***ret_fns,
                          hyp_error *err)
{
	unsigned dom, bus, dev, fn;
	if (sscanf(pci, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return hyp_fail(err, EINVAL, "'%s' is not a PCI address", pci);
	_cleanup_strv_ char **fns = calloc(9, sizeof(char *));
	size_t n = 0;
	if (!fns)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (hwloc_obj_t o = NULL; topo && (o = hwloc_get_next_pcidev(topo->hw, o)) && n < 8;) {
		if (o->attr->pcidev.domain != dom || o->attr->pcidev.bus != bus ||
		    o->attr->pcidev.dev != dev)
			continue;
		if (asprintf(&fns[n], "%04x:%02x:%02x.%x", o->attr->pcidev.domain,
		             o->attr->pcidev.bus, o->attr->pcidev.dev, o->attr->pcidev.func) < 0) {
			fns[n] = NULL;
			return hyp_fail(err, ENOMEM, "out of memory");
		}
		n++;
	}
	*ret_fns = steal_pointer(&fns);
	return 0;
}

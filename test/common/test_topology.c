/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Slurm's abstract core ids -> OS cpus on real machines (test/data/topologies).
 * Every expected cpu was read off the XML with hwloc's own tools, e.g.
 *   hwloc-calc -i 24em64t-2n6c2t-pci.xml --physical-output --intersect pu core:5
 * and is written here as a literal.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <hwloc.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_topology.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void topo_freep(struct hyp_topology **t)
{
	hyp_topology_free(*t);
}
#define _cleanup_topo_ _cleanup_(topo_freep)

static struct hyp_topology *load(const char *file)
{
	const char *dir = getenv("HYP_TOPOLOGIES");
	cr_assert(dir, "HYP_TOPOLOGIES is not set (run through meson test)");
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	struct hyp_topology *topo = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_topology_load(path, &topo, &err), 0, "%s: %s", file, err.msg);
	cr_assert_not_null(topo);
	return topo;
}

static void expect_cpus(const char *file, const char *cores, unsigned tpc, const unsigned *want,
                        size_t nwant)
{
	_cleanup_topo_ struct hyp_topology *topo = load(file);
	_cleanup_free_ unsigned *cpus = NULL;
	size_t n = 0;
	hyp_error err = {0};
	cr_assert_eq(hyp_topology_cores_to_cpus(topo, cores, tpc, &cpus, &n, &err), 0,
	             "%s '%s': %s", file, cores, err.msg);
	cr_assert_eq(n, nwant, "%s '%s' tpc=%u: %zu cpus, want %zu", file, cores, tpc, n, nwant);
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(cpus[i], want[i], "%s '%s' tpc=%u: cpu[%zu] = %u, want %u", file,
		             cores, tpc, i, cpus[i], want[i]);
}

static void expect_core_error(const char *file, const char *cores, const char *msg_part)
{
	_cleanup_topo_ struct hyp_topology *topo = load(file);
	unsigned *cpus = (unsigned *)&cpus; /* sentinel: must stay untouched */
	size_t n = 12345;
	hyp_error err = {0};
	cr_assert_lt(hyp_topology_cores_to_cpus(topo, cores, 0, &cpus, &n, &err), 0, "'%s'",
	             cores ? cores : "(null)");
	cr_expect_eq(err.code, EINVAL);
	cr_expect(strstr(err.msg, msg_part), "message '%s' lacks '%s'", err.msg, msg_part);
	cr_expect_eq(cpus, (unsigned *)&cpus);
	cr_expect_eq(n, 12345);
}

static void seq(unsigned *a, unsigned from, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		a[i] = from + i;
}

/* ---- loading ---- */

Test(topology, loads_every_shared_file)
{
	const char *files[] = {"24em64t-2n6c2t-pci.xml", "32em64t-2n8c2t-pci-normalio.xml",
	                       "96em64t-4n4d3ca2co-pci.xml", "16intel64-manyVFs.xml"};
	for (size_t i = 0; i < N(files); i++)
		hyp_topology_free(load(files[i]));
}

Test(topology, loads_this_machine)
{
	struct hyp_topology *topo = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_topology_load(NULL, &topo, &err), 0, "%s", err.msg);
	_cleanup_free_ unsigned *cpus = NULL;
	size_t n = 0;
	cr_expect_eq(hyp_topology_cores_to_cpus(topo, "0", 0, &cpus, &n, &err), 0, "%s", err.msg);
	cr_expect_geq(n, 1);
	hyp_topology_free(topo);
	hyp_topology_free(NULL);
}

Test(topology, missing_file_is_named)
{
	struct hyp_topology *topo = (struct hyp_topology *)&topo;
	hyp_error err = {0};
	cr_assert_lt(hyp_topology_load("/nonexistent/machine.xml", &topo, &err), 0);
	cr_expect(strstr(err.msg, "topology '/nonexistent/machine.xml': "), "%s", err.msg);
	cr_expect_eq(topo, (struct hyp_topology *)&topo);
}

Test(topology, malformed_file_is_named)
{
	char path[] = "/tmp/hyp-test-topoXXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "<topology><object", 17), 17);
	close(fd);
	struct hyp_topology *topo = NULL;
	hyp_error err = {0};
	int r = hyp_topology_load(path, &topo, &err);
	unlink(path);
	cr_assert_lt(r, 0);
	cr_expect(strstr(err.msg, path) && strstr(err.msg, "topology '"), "%s", err.msg);
}

/*
 * A node where a cgroup (slurmd's, say) hides cpus 0-3: Slurm's ids count the
 * whole machine, so core 0 must still be PUs 0-1, not the first allowed core.
 * Synthetic machine pack:2 core:2 pu:2 (PU P#0-7), allowed cpuset 4-7.
 */
Test(topology, disallowed_cpus_are_kept)
{
	char path[] = "/tmp/hyp-test-disallowedXXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	hwloc_topology_t hw;
	cr_assert_eq(hwloc_topology_init(&hw), 0);
	hwloc_topology_set_synthetic(hw, "pack:2 core:2 pu:2");
	hwloc_topology_set_flags(hw, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
	cr_assert_eq(hwloc_topology_load(hw), 0);
	hwloc_bitmap_t allowed = hwloc_bitmap_alloc();
	hwloc_bitmap_set_range(allowed, 4, 7);
	cr_assert_eq(hwloc_topology_allow(hw, allowed, NULL, HWLOC_ALLOW_FLAG_CUSTOM), 0);
	cr_assert_eq(hwloc_topology_export_xml(hw, path, 0), 0);
	hwloc_bitmap_free(allowed);
	hwloc_topology_destroy(hw);

	struct hyp_topology *topo = NULL;
	hyp_error err = {0};
	int r = hyp_topology_load(path, &topo, &err);
	unlink(path);
	cr_assert_eq(r, 0, "%s", err.msg);
	_cleanup_free_ unsigned *cpus = NULL;
	size_t n = 0;
	cr_assert_eq(hyp_topology_cores_to_cpus(topo, "0,3", 0, &cpus, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 4);
	cr_expect(cpus[0] == 0 && cpus[1] == 1 && cpus[2] == 6 && cpus[3] == 7);
	hyp_topology_free(topo);
}

/* ---- 24em64t-2n6c2t-pci.xml: 2 x 6 cores x 2 threads, siblings P#n and P#n+12,
 * socket 0 holds the even cpus, socket 1 the odd ones. ---- */

#define F24 "24em64t-2n6c2t-pci.xml"

Test(cores_24em64t, one_core)
{
	expect_cpus(F24, "0", 0, (unsigned[]){0, 12}, 2);
	expect_cpus(F24, "11", 0, (unsigned[]){11, 23}, 2);
}

Test(cores_24em64t, full_socket)
{
	expect_cpus(F24, "0-5", 0, (unsigned[]){0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22}, 12);
	expect_cpus(F24, "6-11", 0, (unsigned[]){1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23}, 12);
}

Test(cores_24em64t, across_sockets)
{
	expect_cpus(F24, "5-6", 0, (unsigned[]){1, 10, 13, 22}, 4);
}

Test(cores_24em64t, non_contiguous)
{
	expect_cpus(F24, "1,3,7,11", 0, (unsigned[]){2, 3, 6, 11, 14, 15, 18, 23}, 8);
}

Test(cores_24em64t, every_core)
{
	unsigned all[24];
	seq(all, 0, 24);
	expect_cpus(F24, "0-11", 0, all, 24);
}

Test(cores_24em64t, threads_per_core_1_takes_first_thread)
{
	unsigned first[12];
	seq(first, 0, 12);
	expect_cpus(F24, "0-11", 1, first, 12);
	expect_cpus(F24, "5-6", 1, (unsigned[]){1, 10}, 2);
}

Test(cores_24em64t, threads_per_core_at_or_above_hardware_takes_all)
{
	expect_cpus(F24, "5-6", 2, (unsigned[]){1, 10, 13, 22}, 4);
	expect_cpus(F24, "5-6", 4, (unsigned[]){1, 10, 13, 22}, 4);
}

Test(cores_24em64t, errors)
{
	expect_core_error(F24, "12", "core id 12 is beyond this machine's 12 cores (0-11)");
	expect_core_error(F24, "0-12", "core id 12 is beyond this machine's 12 cores");
	expect_core_error(F24, "", "empty core list");
	expect_core_error(F24, NULL, "empty core list");
	expect_core_error(F24, "a-b", "allocated cores 'a-b'");
}

/* ---- 32em64t-2n8c2t-pci-normalio.xml: 2 x 8 x 2, core L#k = P#k and P#k+16 ---- */

#define F32 "32em64t-2n8c2t-pci-normalio.xml"

Test(cores_32em64t, mapping)
{
	expect_cpus(F32, "0", 0, (unsigned[]){0, 16}, 2);
	expect_cpus(F32, "8-15", 0,
	            (unsigned[]){8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31}, 16);
	expect_cpus(F32, "7-8", 0, (unsigned[]){7, 8, 23, 24}, 4);
	expect_cpus(F32, "0,2,9", 1, (unsigned[]){0, 2, 9}, 3);
	unsigned all[32], first[16];
	seq(all, 0, 32);
	seq(first, 0, 16);
	expect_cpus(F32, "0-15", 0, all, 32);
	expect_cpus(F32, "0-15", 1, first, 16);
	expect_core_error(F32, "16", "core id 16 is beyond this machine's 16 cores (0-15)");
}

/* ---- 96em64t-4n4d3ca2co-pci.xml: 16 packages x 6 cores, no SMT, 4 NUMA nodes;
 * package L#0 is P#1 with PUs 0,4,..,20, package L#1 is P#0 with PUs 1,5,..,21 ---- */

#define F96 "96em64t-4n4d3ca2co-pci.xml"

Test(cores_96em64t, mapping)
{
	expect_cpus(F96, "0", 0, (unsigned[]){0}, 1);
	expect_cpus(F96, "0-5", 0, (unsigned[]){0, 4, 8, 12, 16, 20}, 6);
	expect_cpus(F96, "6", 0, (unsigned[]){1}, 1);
	expect_cpus(F96, "20-27", 0, (unsigned[]){11, 15, 19, 23, 24, 28, 32, 36}, 8);
	expect_cpus(F96, "5-8", 1, (unsigned[]){1, 5, 9, 20}, 4);
	unsigned all[96];
	seq(all, 0, 96);
	expect_cpus(F96, "0-95", 0, all, 96);
	expect_cpus(F96, "0-95", 1, all, 96);
	expect_core_error(F96, "96", "core id 96 is beyond this machine's 96 cores (0-95)");
}

/* ---- 16intel64-manyVFs.xml: 2 x 8 cores, no SMT, core L#k = P#k ---- */

#define F16 "16intel64-manyVFs.xml"

Test(cores_16intel64, mapping)
{
	expect_cpus(F16, "7-8", 0, (unsigned[]){7, 8}, 2);
	expect_cpus(F16, "3,12", 0, (unsigned[]){3, 12}, 2);
	unsigned all[16];
	seq(all, 0, 16);
	expect_cpus(F16, "0-15", 0, all, 16);
	expect_core_error(F16, "16", "core id 16 is beyond this machine's 16 cores (0-15)");
}

/* ---- where a cpu sits ---- */

static void expect_place(const char *file, unsigned cpu, struct hyp_cpu_place want)
{
	_cleanup_topo_ struct hyp_topology *topo = load(file);
	struct hyp_cpu_place at;
	hyp_error err = {0};
	cr_assert_eq(hyp_topology_locate_cpu(topo, cpu, &at, &err), 0, "%s", err.msg);
	cr_expect_eq(at.node, want.node, "%s cpu %u node", file, cpu);
	cr_expect_eq(at.node_os, want.node_os, "%s cpu %u node_os", file, cpu);
	cr_expect_eq(at.package, want.package, "%s cpu %u package", file, cpu);
	cr_expect_eq(at.core, want.core, "%s cpu %u core", file, cpu);
	cr_expect_eq(at.thread, want.thread, "%s cpu %u thread", file, cpu);
}

Test(locate, real_machines)
{
	/* PU P#13 is core L#6's second thread: PU L#13, package L#1, node 1. */
	expect_place(F24, 13, (struct hyp_cpu_place){1, 1, 1, 6, 13});
	/* PU P#12 is core L#0's second thread: PU L#1. */
	expect_place(F24, 12, (struct hyp_cpu_place){0, 0, 0, 0, 1});
	/* PU P#1 is core L#6 in package L#1 (P#0), PU L#6. */
	expect_place(F96, 1, (struct hyp_cpu_place){0, 0, 1, 6, 6});
	expect_place(F96, 95, (struct hyp_cpu_place){3, 3, 15, 95, 95});
}

Test(locate, cpu_not_on_machine)
{
	_cleanup_topo_ struct hyp_topology *topo = load(F24);
	struct hyp_cpu_place at = {.node = 77};
	hyp_error err = {0};
	cr_assert_lt(hyp_topology_locate_cpu(topo, 24, &at, &err), 0);
	cr_expect_str_eq(err.msg, "cpu 24 is not on this machine (cpus 0-23)");
	cr_expect_eq(at.node, 77);
}

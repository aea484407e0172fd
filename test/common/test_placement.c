/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Placement on real machines (test/data/topologies). Expected pins, shapes,
 * cells and lists are literals read off the XML with hwloc's tools, e.g.
 *   lstopo-no-graphics -i 24em64t-2n6c2t-pci.xml --no-io -p
 * (core L#5 = PU P#10,22 on node 0; core L#6 = PU P#1,13 on node 1).
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
#include "hyp_placement.h"
#include "hyp_topology.h"

#define F24 "24em64t-2n6c2t-pci.xml"
#define F32 "32em64t-2n8c2t-pci-normalio.xml"
#define F96 "96em64t-4n4d3ca2co-pci.xml"
#define F16 "16intel64-manyVFs.xml"

#define PINS(...) (unsigned[]){__VA_ARGS__}, sizeof((unsigned[]){__VA_ARGS__}) / sizeof(unsigned)

struct want_cell {
	unsigned node;
	const char *vcpus;
	unsigned long long kib;
};

static void topo_freep(struct hyp_topology **t)
{
	hyp_topology_free(*t);
}

static struct hyp_topology *load_path(const char *path)
{
	struct hyp_topology *topo = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_topology_load(path, &topo, &err), 0, "%s", err.msg);
	return topo;
}

static struct hyp_topology *load(const char *file)
{
	const char *dir = getenv("HYP_TOPOLOGIES");
	cr_assert(dir, "HYP_TOPOLOGIES is not set (run through meson test)");
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return load_path(path);
}

/* Slurm's cores -> cpus -> placement, as the plugin will chain them. */
static void place_on(struct hyp_topology *topo, const char *cores, unsigned tpc,
                     unsigned long long mib, const char *hk, struct hyp_placement *pl)
{
	_cleanup_free_ unsigned *cpus = NULL;
	size_t n = 0;
	hyp_error err = {0};
	cr_assert_eq(hyp_topology_cores_to_cpus(topo, cores, tpc, &cpus, &n, &err), 0, "%s",
	             err.msg);
	cr_assert_eq(hyp_placement_compute(topo, cpus, n, mib, hk, pl, &err), 0, "'%s': %s", cores,
	             err.msg);
}

static void place(const char *file, const char *cores, unsigned tpc, unsigned long long mib,
                  const char *hk, struct hyp_placement *pl)
{
	_cleanup_(topo_freep) struct hyp_topology *topo = load(file);
	place_on(topo, cores, tpc, mib, hk, pl);
}

static void expect_pins(const struct hyp_placement *pl, const unsigned *pins, size_t n)
{
	cr_assert_eq(pl->nvcpus, n, "%zu vCPUs, want %zu", pl->nvcpus, n);
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(pl->vcpus[i].host_cpu, pins[i], "vCPU %zu pinned to %u, want %u", i,
		             pl->vcpus[i].host_cpu, pins[i]);
}

static void expect_shape(const struct hyp_placement *pl, unsigned s, unsigned c, unsigned t)
{
	cr_expect(pl->sockets == s && pl->cores == c && pl->threads == t,
	          "shape %u/%u/%u, want %u/%u/%u", pl->sockets, pl->cores, pl->threads, s, c, t);
}

static void expect_cells(const struct hyp_placement *pl, const struct want_cell *want, size_t n)
{
	cr_assert_eq(pl->ncells, n, "%zu cells, want %zu", pl->ncells, n);
	for (size_t c = 0; c < n; c++) {
		cr_expect_eq(pl->cells[c].host_node, want[c].node, "cell %zu node", c);
		cr_expect_str_eq(pl->cells[c].vcpus, want[c].vcpus, "cell %zu vcpus", c);
		cr_expect_eq(pl->cells[c].memory_kib, want[c].kib, "cell %zu: %llu KiB, want %llu",
		             c, pl->cells[c].memory_kib, want[c].kib);
	}
	for (size_t i = 0; i < pl->nvcpus; i++) {
		unsigned c = pl->vcpus[i].cell;
		cr_assert_lt(c, n);
		/* vCPU i lies in its cell's range */
		unsigned lo, hi;
		int k = sscanf(want[c].vcpus, "%u-%u", &lo, &hi);
		if (k == 1)
			hi = lo;
		cr_expect(i >= lo && i <= hi, "vCPU %zu in cell %u (%s)", i, c, want[c].vcpus);
	}
}

static void expect_lists(const struct hyp_placement *pl, const char *emulator, const char *nodes)
{
	cr_expect_str_eq(pl->emulator_cpus, emulator);
	cr_expect_str_eq(pl->host_nodes, nodes);
}

#define CELLS(...)                                                                                 \
	(struct want_cell[]){__VA_ARGS__},                                                         \
	    sizeof((struct want_cell[]){__VA_ARGS__}) / sizeof(struct want_cell)

/* ---- 24em64t: 2 sockets x 6 cores x 2 threads, node 0 = even cpus ---- */

Test(place_24em64t, one_core)
{
	struct hyp_placement pl;
	place(F24, "0", 0, 4096, NULL, &pl);
	expect_pins(&pl, PINS(0, 12));
	expect_shape(&pl, 1, 1, 2);
	expect_cells(&pl, CELLS({0, "0-1", 4194304}));
	expect_lists(&pl, "0,12", "0");
	hyp_placement_free(&pl);
}

Test(place_24em64t, full_socket)
{
	struct hyp_placement pl;
	place(F24, "6-11", 0, 4096, NULL, &pl);
	expect_pins(&pl, PINS(1, 13, 3, 15, 5, 17, 7, 19, 9, 21, 11, 23));
	expect_shape(&pl, 1, 6, 2);
	expect_cells(&pl, CELLS({1, "0-11", 4194304}));
	expect_lists(&pl, "1,3,5,7,9,11,13,15,17,19,21,23", "1");
	hyp_placement_free(&pl);
}

Test(place_24em64t, across_sockets)
{
	struct hyp_placement pl;
	place(F24, "5-6", 0, 4096, NULL, &pl);
	expect_pins(&pl, PINS(10, 22, 1, 13));
	expect_shape(&pl, 2, 1, 2);
	expect_cells(&pl, CELLS({0, "0-1", 2097152}, {1, "2-3", 2097152}));
	expect_lists(&pl, "1,10,13,22", "0-1");
	cr_expect(pl.vcpus[0].cell == 0 && pl.vcpus[1].cell == 0 && pl.vcpus[2].cell == 1 &&
	          pl.vcpus[3].cell == 1);
	hyp_placement_free(&pl);
}

Test(place_24em64t, non_contiguous)
{
	struct hyp_placement pl;
	place(F24, "1,3,7,11", 0, 4096, NULL, &pl);
	expect_pins(&pl, PINS(2, 14, 6, 18, 3, 15, 11, 23));
	expect_shape(&pl, 2, 2, 2);
	expect_cells(&pl, CELLS({0, "0-3", 2097152}, {1, "4-7", 2097152}));
	expect_lists(&pl, "2-3,6,11,14-15,18,23", "0-1");
	hyp_placement_free(&pl);
}

/* 3 cores on socket 0, 1 on socket 1: no equal split, one core per guest
 * socket; memory 6:2, whole MiB, remainder to the last cell. */
Test(place_24em64t, uneven_sockets)
{
	struct hyp_placement pl;
	place(F24, "0-2,6", 0, 1001, NULL, &pl);
	expect_pins(&pl, PINS(0, 12, 2, 14, 4, 16, 1, 13));
	expect_shape(&pl, 4, 1, 2);
	expect_cells(&pl, CELLS({0, "0-5", 768000}, {1, "6-7", 257024}));
	expect_lists(&pl, "0-2,4,12-14,16", "0-1");
	hyp_placement_free(&pl);
}

Test(place_24em64t, every_core)
{
	struct hyp_placement pl;
	place(F24, "0-11", 0, 36864, NULL, &pl);
	expect_pins(&pl, PINS(0, 12, 2, 14, 4, 16, 6, 18, 8, 20, 10, 22, 1, 13, 3, 15, 5, 17, 7, 19,
	                      9, 21, 11, 23));
	expect_shape(&pl, 2, 6, 2);
	expect_cells(&pl, CELLS({0, "0-11", 18874368}, {1, "12-23", 18874368}));
	expect_lists(&pl, "0-23", "0-1");
	hyp_placement_free(&pl);
}

Test(place_24em64t, threads_per_core_1)
{
	struct hyp_placement pl;
	place(F24, "0-11", 1, 4096, NULL, &pl);
	expect_pins(&pl, PINS(0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11));
	expect_shape(&pl, 2, 6, 1);
	expect_cells(&pl, CELLS({0, "0-5", 2097152}, {1, "6-11", 2097152}));
	expect_lists(&pl, "0-11", "0-1");
	hyp_placement_free(&pl);

	place(F24, "5-6", 1, 4096, NULL, &pl);
	expect_pins(&pl, PINS(10, 1));
	expect_shape(&pl, 2, 1, 1);
	expect_cells(&pl, CELLS({0, "0", 2097152}, {1, "1", 2097152}));
	expect_lists(&pl, "1,10", "0-1");
	hyp_placement_free(&pl);
}

/* Core L#0 with both threads (0,12), core L#1 with one (2): threads fall
 * back to 1, siblings still adjacent. */
Test(place_24em64t, non_uniform_threads)
{
	_cleanup_(topo_freep) struct hyp_topology *topo = load(F24);
	struct hyp_placement pl;
	hyp_error err = {0};
	cr_assert_eq(hyp_placement_compute(topo, (unsigned[]){0, 2, 12}, 3, 3, NULL, &pl, &err), 0,
	             "%s", err.msg);
	expect_pins(&pl, PINS(0, 12, 2));
	expect_shape(&pl, 1, 3, 1);
	expect_cells(&pl, CELLS({0, "0-2", 3072}));
	expect_lists(&pl, "0,2,12", "0");
	hyp_placement_free(&pl);

	/* the other way round: core L#0 with one thread (0), core L#1 with two */
	cr_assert_eq(hyp_placement_compute(topo, (unsigned[]){0, 2, 14}, 3, 3, NULL, &pl, &err), 0,
	             "%s", err.msg);
	expect_pins(&pl, PINS(0, 2, 14));
	expect_shape(&pl, 1, 3, 1);
	hyp_placement_free(&pl);
}

Test(place_24em64t, housekeeping)
{
	struct hyp_placement pl;
	place(F24, "5-6", 0, 4096, "0-1", &pl);
	expect_lists(&pl, "0-1", "0-1");
	hyp_placement_free(&pl);
	place(F24, "5-6", 0, 4096, "", &pl);
	expect_lists(&pl, "1,10,13,22", "0-1");
	hyp_placement_free(&pl);
}

static void expect_fail(const unsigned *cpus, size_t n, unsigned long long mib, const char *hk,
                        const char *msg_part)
{
	_cleanup_(topo_freep) struct hyp_topology *topo = load(F24);
	struct hyp_placement pl = {.nvcpus = 4242};
	hyp_error err = {0};
	cr_assert_lt(hyp_placement_compute(topo, cpus, n, mib, hk, &pl, &err), 0);
	cr_expect_eq(err.code, EINVAL);
	cr_expect(strstr(err.msg, msg_part), "message '%s' lacks '%s'", err.msg, msg_part);
	cr_expect(pl.nvcpus == 4242 && !pl.vcpus && !pl.cells, "output written on failure");
}

Test(place_errors, bad_requests)
{
	expect_fail((unsigned[]){0, 24}, 2, 1024, NULL,
	            "cpu 24 is not on this machine (cpus 0-23)");
	expect_fail((unsigned[]){0}, 0, 1024, NULL, "no cpus allocated");
	expect_fail(NULL, 0, 1024, NULL, "no cpus allocated");
	expect_fail((unsigned[]){12, 0}, 2, 1024, NULL, "not sorted and distinct at cpu 0");
	expect_fail((unsigned[]){0, 0}, 2, 1024, NULL, "not sorted and distinct");
	expect_fail((unsigned[]){0}, 1, 0, NULL, "guest memory 0 MiB");
	expect_fail((unsigned[]){0, 1}, 2, 1, NULL, "1 MiB cannot give each of 2 NUMA cells");
	expect_fail((unsigned[]){0, 12}, 2, 1024, "24",
	            "housekeeping cpus '24': cpu 24 is not on this machine (cpus 0-23)");
	expect_fail((unsigned[]){0, 12}, 2, 1024, "1,x", "housekeeping cpus '1,x'");
}

/* ---- 32em64t: 2 x 8 x 2, core L#k = P#k,k+16 ---- */

Test(place_32em64t, across_and_within_sockets)
{
	struct hyp_placement pl;
	place(F32, "7-8", 0, 2048, NULL, &pl);
	expect_pins(&pl, PINS(7, 23, 8, 24));
	expect_shape(&pl, 2, 1, 2);
	expect_cells(&pl, CELLS({0, "0-1", 1048576}, {1, "2-3", 1048576}));
	expect_lists(&pl, "7-8,23-24", "0-1");
	hyp_placement_free(&pl);

	place(F32, "8-15", 0, 2048, NULL, &pl);
	expect_pins(&pl, PINS(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
	expect_shape(&pl, 1, 8, 2);
	expect_cells(&pl, CELLS({1, "0-15", 2097152}));
	expect_lists(&pl, "8-15,24-31", "1");
	hyp_placement_free(&pl);
}

/* 4 cores on socket 0, 6 on socket 1, with SMT: 5 sockets x 2 cores x 2. */
Test(place_32em64t, gcd_of_socket_counts)
{
	struct hyp_placement pl;
	place(F32, "4-13", 0, 10000, NULL, &pl);
	expect_pins(&pl,
	            PINS(4, 20, 5, 21, 6, 22, 7, 23, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29));
	expect_shape(&pl, 5, 2, 2);
	expect_cells(&pl, CELLS({0, "0-7", 4096000}, {1, "8-19", 6144000}));
	expect_lists(&pl, "4-13,20-29", "0-1");
	hyp_placement_free(&pl);
}

/* ---- 96em64t: 4 nodes x 4 packages x 6 cores, no SMT ---- */

Test(place_96em64t, across_nodes)
{
	struct hyp_placement pl;
	place(F96, "20-27", 0, 8192, NULL, &pl);
	expect_pins(&pl, PINS(11, 15, 19, 23, 24, 28, 32, 36));
	expect_shape(&pl, 2, 4, 1);
	expect_cells(&pl, CELLS({0, "0-3", 4194304}, {1, "4-7", 4194304}));
	expect_lists(&pl, "11,15,19,23-24,28,32,36", "0-1");
	hyp_placement_free(&pl);
}

Test(place_96em64t, one_node_two_packages)
{
	struct hyp_placement pl;
	place(F96, "0-11", 0, 8192, NULL, &pl);
	expect_pins(&pl, PINS(0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21));
	expect_shape(&pl, 2, 6, 1);
	expect_cells(&pl, CELLS({0, "0-11", 8388608}));
	expect_lists(&pl, "0-1,4-5,8-9,12-13,16-17,20-21", "0");
	hyp_placement_free(&pl);

	/* 1 core of package L#0, 3 of package L#1: one core per guest socket */
	place(F96, "5-8", 0, 8192, NULL, &pl);
	expect_pins(&pl, PINS(20, 1, 5, 9));
	expect_shape(&pl, 4, 1, 1);
	expect_cells(&pl, CELLS({0, "0-3", 8388608}));
	hyp_placement_free(&pl);
}

/* 4 cores of package L#0, 6 of package L#1: gcd 2 cores per guest socket
 * (a minimum, 4, would not divide 10). */
Test(place_96em64t, gcd_of_package_counts)
{
	struct hyp_placement pl;
	place(F96, "2-11", 0, 8192, NULL, &pl);
	expect_pins(&pl, PINS(8, 12, 16, 20, 1, 5, 9, 13, 17, 21));
	expect_shape(&pl, 5, 2, 1);
	expect_cells(&pl, CELLS({0, "0-9", 8388608}));
	expect_lists(&pl, "1,5,8-9,12-13,16-17,20-21", "0");
	hyp_placement_free(&pl);
}

Test(place_96em64t, three_uneven_cells)
{
	struct hyp_placement pl;
	place(F96, "20-27,48", 0, 3000, NULL, &pl);
	expect_pins(&pl, PINS(11, 15, 19, 23, 24, 28, 32, 36, 48));
	expect_shape(&pl, 9, 1, 1);
	expect_cells(&pl, CELLS({0, "0-3", 1364992}, {1, "4-7", 1364992}, {2, "8", 342016}));
	expect_lists(&pl, "11,15,19,23-24,28,32,36,48", "0-2");
	hyp_placement_free(&pl);
}

Test(place_96em64t, every_core)
{
	struct hyp_placement pl;
	place(F96, "0-95", 0, 98304, NULL, &pl);
	cr_assert_eq(pl.nvcpus, 96);
	const unsigned head[] = {0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6};
	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		cr_expect_eq(pl.vcpus[i].host_cpu, head[i], "vCPU %zu", i);
	cr_expect_eq(pl.vcpus[23].host_cpu, 23);
	cr_expect_eq(pl.vcpus[24].host_cpu, 24);
	cr_expect_eq(pl.vcpus[95].host_cpu, 95);
	expect_shape(&pl, 16, 6, 1);
	expect_cells(&pl, CELLS({0, "0-23", 25165824}, {1, "24-47", 25165824},
	                        {2, "48-71", 25165824}, {3, "72-95", 25165824}));
	expect_lists(&pl, "0-95", "0-3");
	hyp_placement_free(&pl);
}

/* ---- 16intel64: 2 x 8, no SMT ---- */

Test(place_16intel64, mapping)
{
	struct hyp_placement pl;
	place(F16, "0-15", 0, 4096, NULL, &pl);
	expect_pins(&pl, PINS(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
	expect_shape(&pl, 2, 8, 1);
	expect_cells(&pl, CELLS({0, "0-7", 2097152}, {1, "8-15", 2097152}));
	expect_lists(&pl, "0-15", "0-1");
	hyp_placement_free(&pl);

	place(F16, "7-8", 0, 4096, NULL, &pl);
	expect_pins(&pl, PINS(7, 8));
	expect_shape(&pl, 2, 1, 1);
	expect_cells(&pl, CELLS({0, "0", 2097152}, {1, "1", 2097152}));
	hyp_placement_free(&pl);
}

/* ---- every shared machine, every core: invariants plus the literal shape ---- */

Test(place_all, every_file_every_core)
{
	const struct {
		const char *file, *cores;
		size_t nvcpus;
		unsigned sockets, cores_per, threads;
		size_t ncells;
	} m[] = {
	    {F24, "0-11", 24, 2, 6, 2, 2},
	    {F32, "0-15", 32, 2, 8, 2, 2},
	    {F96, "0-95", 96, 16, 6, 1, 4},
	    {F16, "0-15", 16, 2, 8, 1, 2},
	};
	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		struct hyp_placement pl;
		place(m[k].file, m[k].cores, 0, 65536, NULL, &pl);
		cr_expect_eq(pl.nvcpus, m[k].nvcpus, "%s", m[k].file);
		expect_shape(&pl, m[k].sockets, m[k].cores_per, m[k].threads);
		cr_expect_eq((size_t)pl.sockets * pl.cores * pl.threads, pl.nvcpus, "%s",
		             m[k].file);
		cr_expect_eq(pl.ncells, m[k].ncells, "%s", m[k].file);
		unsigned long long kib = 0;
		for (size_t c = 0; c < pl.ncells; c++)
			kib += pl.cells[c].memory_kib;
		cr_expect_eq(kib, 65536ULL * 1024, "%s", m[k].file);
		for (size_t i = 1; i < pl.nvcpus; i++)
			cr_expect_geq(pl.vcpus[i].cell, pl.vcpus[i - 1].cell, "%s", m[k].file);
		size_t per_socket = (size_t)pl.cores * pl.threads;
		for (size_t i = 0; i < pl.nvcpus; i++) /* no guest socket straddles a cell */
			cr_expect_eq(pl.vcpus[i].cell, pl.vcpus[i - i % per_socket].cell,
			             "%s vCPU %zu", m[k].file, i);
		hyp_placement_free(&pl);
	}
	hyp_placement_free(NULL);
}

/* ---- synthetic machines, exported to XML and loaded like the real ones ---- */

static struct hyp_topology *load_synthetic(const char *description)
{
	char path[] = "/tmp/hyp-test-synthXXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	hwloc_topology_t hw;
	cr_assert_eq(hwloc_topology_init(&hw), 0);
	cr_assert_eq(hwloc_topology_set_synthetic(hw, description), 0, "%s", description);
	cr_assert_eq(hwloc_topology_load(hw), 0);
	cr_assert_eq(hwloc_topology_export_xml(hw, path, 0), 0);
	hwloc_topology_destroy(hw);
	struct hyp_topology *topo = load_path(path);
	unlink(path);
	return topo;
}

/* No NUMA information: hwloc shows one node, P#0. PU P#0-7 in order. */
Test(place_synthetic, no_numa_single_cell)
{
	_cleanup_(topo_freep) struct hyp_topology *topo = load_synthetic("pack:2 core:2 pu:2");
	struct hyp_placement pl;
	place_on(topo, "1-2", 0, 1000, NULL, &pl);
	expect_pins(&pl, PINS(2, 3, 4, 5));
	expect_shape(&pl, 2, 1, 2);
	expect_cells(&pl, CELLS({0, "0-3", 1024000}));
	expect_lists(&pl, "2-5", "0");
	hyp_placement_free(&pl);
}

/* Node OS numbers out of order: package L#0 holds node P#3, package L#1
 * node P#1. Cells carry OS numbers; host_nodes is sorted. */
Test(place_synthetic, node_os_numbers)
{
	_cleanup_(topo_freep) struct hyp_topology *topo =
	    load_synthetic("pack:2 [numa(indexes=3,1)] core:2 pu:2");
	struct hyp_placement pl;
	place_on(topo, "1-2", 0, 1000, NULL, &pl);
	expect_pins(&pl, PINS(2, 3, 4, 5));
	expect_shape(&pl, 2, 1, 2);
	expect_cells(&pl, CELLS({3, "0-1", 512000}, {1, "2-3", 512000}));
	expect_lists(&pl, "2-5", "1,3");
	hyp_placement_free(&pl);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The free-hugepage check, against fake sysfs trees built in a temp dir. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hyp_cleanup.h"
#include "hyp_hugepages.h"

#define PAGE_2M 2048UL
#define PAGE_1G (1024UL * 1024)

static char root[64];

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/hyp-test-sysfs.XXXXXX");
	cr_assert_not_null(mkdtemp(root));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(hugepages, .init = setup, .fini = teardown);

/* mkdir -p for the parents of root/rel, then write value into it. */
static void put(const char *rel, const char *value)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s", path);
		*p = '/';
	}
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fprintf(f, "%s\n", value);
	fclose(f);
}

/* free pages of size kib on host node `node`, or on the whole machine. */
static void node_free(unsigned node, unsigned long kib, unsigned long long free)
{
	char rel[256], val[32];
	snprintf(val, sizeof(val), "%llu", free);
	snprintf(rel, sizeof(rel),
	         "devices/system/node/node%u/hugepages/hugepages-%lukB/free_hugepages", node, kib);
	put(rel, val);
}

static void machine_free(unsigned long kib, unsigned long long free)
{
	char rel[256], val[32];
	snprintf(val, sizeof(val), "%llu", free);
	snprintf(rel, sizeof(rel), "kernel/mm/hugepages/hugepages-%lukB/free_hugepages", kib);
	put(rel, val);
}

/* A spec with cells on the given host nodes, each of cell_mib MiB. */
struct fake {
	struct hyp_vm_spec spec;
	struct hyp_cell cells[4];
};

static void fake_spec(struct fake *f, unsigned long kib, bool bind, size_t ncells,
                      const unsigned *nodes, unsigned long long cell_mib)
{
	memset(f, 0, sizeof(*f));
	f->spec.job_id = 42;
	f->spec.hugepage_kib = kib;
	f->spec.numa_bind = bind;
	f->spec.memory_mib = cell_mib * ncells;
	f->spec.placement.ncells = ncells;
	f->spec.placement.cells = f->cells;
	for (size_t c = 0; c < ncells; c++) {
		f->cells[c].host_node = nodes[c];
		f->cells[c].memory_kib = cell_mib * 1024;
	}
}

Test(hugepages, no_hugepages_needs_nothing)
{
	struct fake f;
	fake_spec(&f, 0, true, 1, (unsigned[]){0}, 512);
	hyp_error err = {0};
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), 0, "%s", err.msg);
}

Test(hugepages, enough_on_one_node)
{
	node_free(0, PAGE_2M, 128);
	struct fake f;
	fake_spec(&f, PAGE_2M, true, 1, (unsigned[]){0}, 256);
	hyp_error err = {0};
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), 0, "%s", err.msg);
	node_free(0, PAGE_2M, 127);
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), -ENOMEM);
}

Test(hugepages, not_enough_lists_every_node)
{
	node_free(0, PAGE_2M, 100);
	node_free(1, PAGE_2M, 300);
	struct fake f;
	fake_spec(&f, PAGE_2M, true, 2, (unsigned[]){0, 1}, 448);
	hyp_error err = {0};
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), -ENOMEM);
	cr_assert_eq(err.code, ENOMEM);
	cr_assert(strstr(err.msg, "not enough 2M hugepages: need 224 on node 0 (free 100); "
	                          "need 224 on node 1 (free 300)"),
	          "%s", err.msg);
	cr_assert(strstr(err.msg, "/devices/system/node/node<N>/hugepages/hugepages-2048kB/"
	                          "nr_hugepages"),
	          "%s", err.msg);
}

Test(hugepages, two_cells_on_two_nodes)
{
	node_free(0, PAGE_2M, 224);
	node_free(2, PAGE_2M, 224);
	struct fake f;
	fake_spec(&f, PAGE_2M, true, 2, (unsigned[]){2, 0}, 448);
	hyp_error err = {0};
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), 0, "%s", err.msg);
	node_free(2, PAGE_2M, 10);
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), -ENOMEM);
	cr_assert(strstr(err.msg, "need 224 on node 0 (free 224); need 224 on node 2 (free 10)"),
	          "%s", err.msg);
}

Test(hugepages, cells_on_one_node_are_summed)
{
	node_free(1, PAGE_2M, 100);
	struct fake f;
	fake_spec(&f, PAGE_2M, true, 2, (unsigned[]){1, 1}, 128);
	hyp_error err = {0};
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), -ENOMEM);
	cr_assert(strstr(err.msg, "need 128 on node 1 (free 100)"), "%s", err.msg);
	cr_assert_null(strstr(err.msg, "need 64"), "%s", err.msg);
	node_free(1, PAGE_2M, 128);
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), 0, "%s", err.msg);
}

Test(hugepages, gigabyte_pages)
{
	node_free(0, PAGE_2M, 4096);
	node_free(0, PAGE_1G, 3);
	struct fake f;
	fake_spec(&f, PAGE_1G, true, 1, (unsigned[]){0}, 4096);
	hyp_error err = {0};
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), -ENOMEM);
	cr_assert(strstr(err.msg, "not enough 1G hugepages: need 4 on node 0 (free 3)"), "%s",
	          err.msg);
	cr_assert(strstr(err.msg, "hugepages-1048576kB/nr_hugepages"), "%s", err.msg);
	node_free(0, PAGE_1G, 4);
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), 0, "%s", err.msg);
}

Test(hugepages, no_numa_directory_uses_the_machine_count)
{
	machine_free(PAGE_2M, 300);
	struct fake f;
	fake_spec(&f, PAGE_2M, true, 2, (unsigned[]){0, 1}, 448);
	hyp_error err = {0};
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), -ENOMEM);
	cr_assert(strstr(err.msg, "not enough 2M hugepages: need 448 (free 300); reserve more in "),
	          "%s", err.msg);
	cr_assert(strstr(err.msg, "/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"), "%s",
	          err.msg);
	cr_assert(strstr(err.msg, "vm.nr_hugepages"), "%s", err.msg);
	machine_free(PAGE_2M, 448);
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), 0, "%s", err.msg);
}

/* Unbound memory may come from any node: only the machine's count counts,
 * so cells on nodes this machine lacks (a reviewed topology) are fine. */
Test(hugepages, unbound_memory_uses_the_machine_count)
{
	node_free(0, PAGE_2M, 0);
	machine_free(PAGE_2M, 448);
	struct fake f;
	fake_spec(&f, PAGE_2M, false, 2, (unsigned[]){0, 1}, 448);
	hyp_error err = {0};
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), 0, "%s", err.msg);
}

Test(hugepages, unsupported_size_is_a_clear_error)
{
	node_free(0, PAGE_2M, 512);
	struct fake f;
	fake_spec(&f, PAGE_1G, true, 1, (unsigned[]){0}, 1024);
	hyp_error err = {0};
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), -EINVAL);
	cr_assert(strstr(err.msg, "1G hugepages are not supported on this machine (no "), "%s",
	          err.msg);
	cr_assert(strstr(err.msg, "node0/hugepages/hugepages-1048576kB)"), "%s", err.msg);

	teardown();
	setup();
	machine_free(PAGE_2M, 512);
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), -EINVAL);
	cr_assert(strstr(err.msg, "1G hugepages are not supported on this machine (no "), "%s",
	          err.msg);
}

Test(hugepages, node_not_on_machine)
{
	node_free(0, PAGE_2M, 512);
	struct fake f;
	fake_spec(&f, PAGE_2M, true, 1, (unsigned[]){3}, 256);
	hyp_error err = {0};
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), -EINVAL);
	cr_assert(strstr(err.msg, "host NUMA node 3 is not on this machine"), "%s", err.msg);
}

Test(hugepages, unreadable_count)
{
	put("devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages", "lots");
	struct fake f;
	fake_spec(&f, PAGE_2M, true, 1, (unsigned[]){0}, 256);
	hyp_error err = {0};
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), -EIO);
	cr_assert(strstr(err.msg, "free_hugepages': not a number"), "%s", err.msg);
}

Test(hugepages, many_nodes_fit_the_message)
{
	unsigned nodes[4] = {0, 1, 2, 3};
	for (unsigned n = 0; n < 4; n++)
		node_free(n, PAGE_2M, 1);
	struct fake f;
	fake_spec(&f, PAGE_2M, true, 4, nodes, 1024);
	hyp_error err = {0};
	cr_assert_eq(hyp_hugepages_check(root, &f.spec, &err), -ENOMEM);
	cr_assert(strstr(err.msg, "need 512 on node 3 (free 1); reserve more per node in "), "%s",
	          err.msg);
}

Test(hugepages, size_names_parse_in_any_case)
{
	hyp_error err = {0};
	unsigned long kib = 1;
	cr_assert_eq(hyp_hugepage_size_parse("none", &kib, &err), 0, "%s", err.msg);
	cr_expect_eq(kib, 0);
	cr_assert_eq(hyp_hugepage_size_parse("2m", &kib, &err), 0, "%s", err.msg);
	cr_expect_eq(kib, PAGE_2M);
	cr_assert_eq(hyp_hugepage_size_parse("1G", &kib, &err), 0, "%s", err.msg);
	cr_expect_eq(kib, PAGE_1G);
	cr_expect_str_eq(hyp_hugepage_size_name(PAGE_2M), "2M");
	cr_expect_str_eq(hyp_hugepage_size_name(0), "none");
	cr_expect_null(hyp_hugepage_size_name(4096));
}

Test(hugepages, unknown_size_names_the_allowed_ones)
{
	hyp_error err = {0};
	unsigned long kib = 7;
	cr_assert_eq(hyp_hugepage_size_parse("4M", &kib, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "hugepages: bad size '4M' (allowed: none, 2M, 1G)");
	cr_expect_eq(kib, 7, "ret_kib written on failure");
	cr_assert_eq(hyp_hugepage_size_parse("", &kib, &err), -EINVAL);
	cr_assert_eq(hyp_hugepage_size_parse("2M ", &kib, &err), -EINVAL);
}

/* HYP_HUGEPAGE_NAMES and the table behind the functions say the same. */
Test(hugepages, names_for_messages_match_the_table)
{
	char names[] = HYP_HUGEPAGE_NAMES;
	size_t listed = 0;
	for (char *save, *n = strtok_r(names, ", ", &save); n; n = strtok_r(NULL, ", ", &save)) {
		unsigned long kib;
		hyp_error err = {0};
		cr_assert_eq(hyp_hugepage_size_parse(n, &kib, &err), 0, "%s", err.msg);
		cr_expect_str_eq(hyp_hugepage_size_name(kib), n, "canonical spelling");
		listed++;
	}
	size_t known = hyp_hugepage_size_name(0) ? 1 : 0;
	for (unsigned long kib = 4; kib <= 16UL * 1024 * 1024; kib *= 2)
		known += hyp_hugepage_size_name(kib) != NULL;
	cr_expect_eq(known, listed, "a size in the table is missing from HYP_HUGEPAGE_NAMES");
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The free-hugepage check before a start (hyp_hugepages.h). The kernel's
 * counts are read from sysfs: per NUMA node when the guest's memory is bound
 * to its cells' nodes (QEMU binds each cell's memory object, and a page
 * missing on that node would fail the start), machine-wide otherwise.
 */
#include "hyp_hugepages.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "hyp_cleanup.h"

#define MACHINE UINT_MAX /* a need not tied to one node */

/* Every page size by name; HYP_HUGEPAGE_NAMES lists the same names. */
static const struct {
	const char *name;
	unsigned long kib;
} page_sizes[] = {
    {"none", 0},
    {"2M", 2048},
    {"1G", 1024 * 1024},
};
#define NPAGE_SIZES (sizeof(page_sizes) / sizeof(page_sizes[0]))

int hyp_hugepage_size_parse(const char *name, unsigned long *ret_kib, hyp_error *err)
{
	for (size_t i = 0; i < NPAGE_SIZES; i++)
		if (!strcasecmp(name, page_sizes[i].name)) {
			*ret_kib = page_sizes[i].kib;
			return 0;
		}
	return hyp_fail(err, EINVAL, "hugepages: bad size '%s' (allowed: %s)", name,
	                HYP_HUGEPAGE_NAMES);
}

const char *hyp_hugepage_size_name(unsigned long kib)
{
	for (size_t i = 0; i < NPAGE_SIZES; i++)
		if (page_sizes[i].kib == kib)
			return page_sizes[i].name;
	return NULL;
}

struct need {
	unsigned node; /* host node (OS index), or MACHINE */
	unsigned long long pages, free;
};

/* "2M", "1G", or "<n>kB" for sizes without a short name. */
static void size_name(unsigned long kib, char *buf, size_t size)
{
	if (kib % (1024 * 1024) == 0)
		snprintf(buf, size, "%luG", kib / (1024 * 1024));
	else if (kib % 1024 == 0)
		snprintf(buf, size, "%luM", kib / 1024);
	else
		snprintf(buf, size, "%lukB", kib);
}

/* Add pages to node's need, keeping the list sorted by node. */
static void add_need(struct need *needs, size_t *n, unsigned node, unsigned long long pages)
{
	size_t i = 0;
	while (i < *n && needs[i].node < node)
		i++;
	if (i < *n && needs[i].node == node) {
		needs[i].pages += pages;
		return;
	}
	memmove(&needs[i + 1], &needs[i], (*n - i) * sizeof(*needs));
	needs[i] = (struct need){.node = node, .pages = pages};
	(*n)++;
}

/* Pages per node (or for the machine), a partial page counting as one. */
static int collect_needs(const struct hyp_vm_spec *spec, bool per_node, struct need **ret_needs,
                         size_t *ret_n, hyp_error *err)
{
	const struct hyp_placement *pl = &spec->placement;
	unsigned long long page = spec->hugepage_kib;
	struct need *needs = calloc(pl->ncells ? pl->ncells : 1, sizeof(*needs));
	if (!needs)
		return hyp_fail(err, ENOMEM, "out of memory");
	size_t n = 0;
	for (size_t c = 0; c < pl->ncells; c++)
		add_need(needs, &n, per_node ? pl->cells[c].host_node : MACHINE,
		         (pl->cells[c].memory_kib + page - 1) / page);
	if (pl->ncells == 0)
		add_need(needs, &n, MACHINE, (spec->memory_mib * 1024 + page - 1) / page);
	*ret_needs = needs;
	*ret_n = n;
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The directory holding a node's (or the machine's) counts for one size. */
static char *pages_dir(const char *root, unsigned node, unsigned long kib)
{
	char *path = NULL;
	int n = node == MACHINE
	            ? asprintf(&path, "%s/kernel/mm/hugepages/hugepages-%lukB", root, kib)
	            : asprintf(&path, "%s/devices/system/node/node%u/hugepages/hugepages-%lukB",
	                       root, node, kib);
	return n < 0 ? NULL : path;
}

static int read_count(const char *path, unsigned long long *ret_count, hyp_error *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return hyp_fail_errno(err, "reading '%s'", path);
	unsigned long long v;
	if (fscanf(f, "%llu", &v) != 1)
		return hyp_fail(err, EIO, "reading '%s': not a number", path);
	*ret_count = v;
	return 0;
}

/* A missing directory: the node is not on this machine, or the size is not
 * supported here (the kernel makes a directory for every size it has). */
static int fail_missing(const char *root, unsigned node, const char *size, const char *dir,
                        hyp_error *err)
{
	_cleanup_free_ char *node_dir = NULL;
	if (node != MACHINE && asprintf(&node_dir, "%s/devices/system/node/node%u", root, node) < 0)
		return hyp_fail(err, ENOMEM, "out of memory");
	if (node_dir && !is_dir(node_dir))
		return hyp_fail(err, EINVAL,
		                "%s hugepages: host NUMA node %u is not on this machine", size,
		                node);
	return hyp_fail(err, EINVAL, "%s hugepages are not supported on this machine (no %s)", size,
	                dir);
}

static int read_free(const char *root, struct need *need, unsigned long kib, const char *size,
                     hyp_error *err)
{
	_cleanup_free_ char *dir = pages_dir(root, need->node, kib);
	_cleanup_free_ char *path = NULL;
	if (!dir || asprintf(&path, "%s/free_hugepages", dir) < 0)
		return hyp_fail(err, ENOMEM, "out of memory");
	if (!is_dir(dir))
		return fail_missing(root, need->node, size, dir, err);
	return read_count(path, &need->free, err);
}

/* Append to a message buffer; output past its end is cut off. */
static void append(char *buf, size_t size, size_t *len, const char *fmt, ...) HYP_PRINTF(4, 5);

static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	if (*len >= size - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
}

/* "not enough 2M hugepages: need 224 on node 0 (free 100); need 224 on
 * node 1 (free 300); reserve them in ...": every node, then how to. */
static int fail_short(const char *root, const struct need *needs, size_t n, unsigned long kib,
                      const char *size, hyp_error *err)
{
	char msg[HYP_ERROR_MSG_SIZE];
	size_t len = 0;
	append(msg, sizeof(msg), &len, "not enough %s hugepages: ", size);
	for (size_t i = 0; i < n; i++) {
		append(msg, sizeof(msg), &len, "%sneed %llu", i ? "; " : "", needs[i].pages);
		if (needs[i].node != MACHINE)
			append(msg, sizeof(msg), &len, " on node %u", needs[i].node);
		append(msg, sizeof(msg), &len, " (free %llu)", needs[i].free);
	}
	if (needs[0].node == MACHINE)
		append(msg, sizeof(msg), &len,
		       "; reserve more in %s/kernel/mm/hugepages/hugepages-%lukB/nr_hugepages "
		       "(sysctl vm.nr_hugepages for the default size)",
		       root, kib);
	else
		append(msg, sizeof(msg), &len,
		       "; reserve more per node in "
		       "%s/devices/system/node/node<N>/hugepages/hugepages-%lukB/nr_hugepages",
		       root, kib);
	return hyp_fail(err, ENOMEM, "%s", msg);
}

int hyp_hugepages_check(const char *sysfs_root, const struct hyp_vm_spec *spec, hyp_error *err)
{
	unsigned long kib = spec->hugepage_kib;
	if (!kib)
		return 0;
	const char *root = sysfs_root ? sysfs_root : "/sys";
	_cleanup_free_ char *nodes = NULL;
	if (asprintf(&nodes, "%s/devices/system/node", root) < 0)
		return hyp_fail(err, ENOMEM, "out of memory");
	char size[32];
	size_name(kib, size, sizeof(size));
	_cleanup_free_ struct need *needs = NULL;
	size_t n = 0;
	int r = collect_needs(spec, spec->numa_bind && is_dir(nodes), &needs, &n, err);
	if (r < 0)
		return r;
	bool enough = true;
	for (size_t i = 0; i < n; i++) {
		if ((r = read_free(root, &needs[i], kib, size, err)) < 0)
			return r;
		enough = enough && needs[i].pages <= needs[i].free;
	}
	return enough ? 0 : fail_short(root, needs, n, kib, size, err);
}

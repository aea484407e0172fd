/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Are there enough free hugepages for a spec's guest, on the host nodes its
 * memory is bound to? Checked before the domain starts, so that a job short
 * of pages fails with the numbers instead of QEMU's "Cannot allocate
 * memory". Hyperion reserves nothing itself: QEMU takes the pages when it
 * starts (libvirt preallocates hugepage-backed memory) and gives them back
 * when it exits.
 */
#ifndef HYP_HUGEPAGES_H
#define HYP_HUGEPAGES_H

#include "hyp_error.h"
#include "hyp_spec.h"

/* The page sizes Hyperion knows, for messages and help texts; "none" is
 * normal pages. The sizes themselves are in hyp_hugepages.c's table (the
 * tests check that the two agree). */
#define HYP_HUGEPAGE_NAMES "none, 2M, 1G"

/* The size of page size `name` (any case) in KiB, 0 for "none"; -EINVAL
 * with "hugepages: bad size 'NAME' (allowed: none, 2M, 1G)" otherwise. */
int hyp_hugepage_size_parse(const char *name, unsigned long *ret_kib, hyp_error *err);

/* The canonical name of a size hyp_hugepage_size_parse returned ("2M"),
 * NULL for a size it does not know. */
const char *hyp_hugepage_size_name(unsigned long kib);

/*
 * With spec->numa_bind, each cell's pages must be free on the cell's host
 * node (needs of cells on the same node are added up), read from
 * <sysfs_root>/devices/system/node/node<N>/hugepages/hugepages-<size>kB/
 * free_hugepages; without it, or on a machine without that directory, all
 * of them in <sysfs_root>/kernel/mm/hugepages/hugepages-<size>kB/. Fails
 * with ENOMEM and a message giving what is needed and free per node, or
 * EINVAL when the machine does not have that page size. sysfs_root NULL is
 * "/sys". A spec without hugepages always passes.
 */
int hyp_hugepages_check(const char *sysfs_root, const struct hyp_vm_spec *spec, hyp_error *err);

#endif

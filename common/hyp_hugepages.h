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

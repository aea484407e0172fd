/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI functions as sysfs shows them: addresses, NUMA node, IOMMU group,
 * driver, the other functions of a slot, SR-IOV virtual functions. Every
 * reader takes the sysfs root ("/sys", or a fake tree in tests).
 */
#ifndef HYP_PCI_H
#define HYP_PCI_H

#include <stdbool.h>
#include <stddef.h>

#include "hyp_error.h"

#define HYP_PCI_NAME_MAX 16 /* "0000:03:00.0" and its NUL */

struct hyp_pci_addr {
	unsigned domain, bus, slot, function;
};

/* "0000:03:00.0" or "03:00.0" (domain 0); anything else is refused. */
int hyp_pci_addr_parse(const char *s, struct hyp_pci_addr *ret_addr, hyp_error *err);
/* The canonical "DDDD:BB:SS.F" form. */
void hyp_pci_addr_format(const struct hyp_pci_addr *a, char buf[HYP_PCI_NAME_MAX]);

struct hyp_pci_dev {
	char name[HYP_PCI_NAME_MAX]; /* canonical address */
	struct hyp_pci_addr addr;
	int numa_node;                 /* -1: the machine does not say */
	int iommu_group;               /* -1: no IOMMU (no iommu_group link) */
	char driver[64];               /* "" when unbound */
	unsigned class_code;           /* e.g. 0x030200 (3D controller) */
	char physfn[HYP_PCI_NAME_MAX]; /* the PF of a VF, "" otherwise */
};

/* Read one function; -ENOENT (with a message) when sysfs has no such device. */
int hyp_pci_read(const char *sysfs, const char *addr, struct hyp_pci_dev *ret_dev, hyp_error *err);

/* PCI-to-PCI bridges (class 0x0604) and host bridges (0x0600): kept out of
 * the IOMMU group check, as vfio allows. */
bool hyp_pci_is_bridge(const struct hyp_pci_dev *dev);

/* The members of IOMMU group `group`, sorted (NULL-terminated). */
int hyp_pci_group_members(const char *sysfs, int group, char ***ret_names, hyp_error *err);

/* The functions present in dev's slot, dev's own included, sorted. */
int hyp_pci_slot_functions(const char *sysfs, const struct hyp_pci_addr *a, char ***ret_names,
                           hyp_error *err);

/* The virtual functions of physical function `pf` (virtfn0, virtfn1...),
 * in that order; sriov_numvfs of them when the PF says. */
int hyp_pci_vfs(const char *sysfs, const char *pf, char ***ret_names, hyp_error *err);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A job's passed-through devices: the GPUs of its allocation (with the other
 * functions of their slots) and its SR-IOV VFs, each in one guest PCIe slot
 * on the guest NUMA cell of its host NUMA node (doc/devices.md).
 */
#ifndef HYP_DEVICES_H
#define HYP_DEVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "hyp_config.h"
#include "hyp_error.h"
#include "hyp_gpu.h"
#include "hyp_pci.h"
#include "hyp_vf.h"

struct hyp_topology;
struct hyp_vm_spec;

#define HYP_SLOT_FNS_MAX 8
#define HYP_VF_ASKS_MAX  8

struct hyp_dev_slot {
	bool vf;
	int host_node; /* -1: unknown */
	int cell;      /* guest NUMA cell, -1: none of the guest's (on the root bus) */
	size_t nfns;
	char fns[HYP_SLOT_FNS_MAX][HYP_PCI_NAME_MAX]; /* fns[0]: the GPU or VF itself */
	/* VFs: */
	char pool[HYP_VF_POOL_NAME_MAX + 1];
	char mac[18];
	unsigned vlan;
};

struct hyp_vf_ask {
	char pool[HYP_VF_POOL_NAME_MAX + 1];
	unsigned count;
};

struct hyp_devices {
	struct hyp_dev_slot *slots;
	size_t nslots;
	struct hyp_vf_ask asks[HYP_VF_ASKS_MAX];
	size_t nasks;
	char *sysfs;          /* NULL: /sys */
	char *state_dir;      /* for VF leases */
	unsigned *host_nodes; /* the guest cells' host nodes: VFs there first */
	size_t nhost_nodes;
};

struct hyp_devices_request {
	const char *gpus;      /* "PCI,PCI" (hyperionctl) */
	const char *gres_gpus; /* SLURM_JOB_GPUS from slurmd (the plugin) */
	const char *vfs;       /* "POOL[:N],...", "none", or NULL: the site's vf_default */
	struct hyp_hostfs fs;
};

/*
 * Resolve the request into spec->devices (NULL when the job has none):
 * GPUs to PCI functions with their slot's companions, the IOMMU group check,
 * NUMA cells; VFs chosen as they would be leased now (the start leases).
 */
int hyp_devices_prepare(const struct hyp_config *cfg, const struct hyp_topology *topo,
                        const struct hyp_devices_request *req, struct hyp_vm_spec *spec,
                        hyp_error *err);
void hyp_devices_free(struct hyp_devices *devs);

/*
 * Before boot: IOMMU on, vfio-pci there, each function in a group and
 * bindable, memory VFIO can pin. A node without VFIO fails with "VFIO not
 * available on this node" naming the devices. fs NULL: the real host.
 */
/* Whether the IOMMU is on: SYS/kernel/iommu_groups has groups (SYS: /sys or
 * a test's tree). */
bool hyp_iommu_groups_present(const char *sys);
int hyp_devices_ready(const struct hyp_vm_spec *spec, const struct hyp_hostfs *fs, hyp_error *err);

/* Lease the VFs (listed in `resources` first) and fill their slots. */
int hyp_devices_acquire(const struct hyp_config *cfg, const struct hyp_vm_spec *spec,
                        const char *resources, hyp_error *err);

#endif

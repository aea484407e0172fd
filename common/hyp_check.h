/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Node readiness: can this node run Hyperion VMs, and what can they have?
 * Each check reports one line; the capabilities become the node features
 * Slurm steers VM jobs with (doc/admin-guide.md, "Node features").
 */
#ifndef HYP_CHECK_H
#define HYP_CHECK_H

#include <stdbool.h>

#include "hyp_config.h"

/* WARN: something jobs may need is broken (one catalog image), while the
 * node still runs VM jobs; FAIL: it cannot. */
enum hyp_check_status { HYP_CHECK_OK, HYP_CHECK_SKIP, HYP_CHECK_WARN, HYP_CHECK_FAIL };

typedef void (*hyp_check_report_fn)(void *data, enum hyp_check_status status, const char *name,
                                    const char *detail);

struct hyp_capabilities {
	bool kvm;  /* domain_type = kvm and /dev/kvm answers */
	bool tcg;  /* domain_type = qemu: emulation */
	bool vfio; /* IOMMU groups and /dev/vfio/vfio: passthrough possible */
};

/*
 * Run every check for `cfg`, reporting each; returns the number that
 * failed. `root` ("/" normally) prefixes /dev, /sys and /var/lib/libvirt,
 * so tests can build a fake node; the KVM API is only asked on "/".
 */
int hyp_check_node(const struct hyp_config *cfg, const char *root, hyp_check_report_fn report,
                   void *data, struct hyp_capabilities *ret_caps);

/* "hyperion,hyperion_kvm,hyperion_vfio" for what works; "" if nothing
 * does (the node must not get VM jobs). */
void hyp_check_features(const struct hyp_capabilities *caps, int failures, char *buf, size_t size);

const char *hyp_check_status_name(enum hyp_check_status s);

/* hyp_check_devices.c: gres.conf's GPUs and the VF pools (skip when none);
 * vfio: whether the node has it. Returns the failures (none: a device
 * problem fails GPU and VF jobs, never the node). */
int hyp_check_devices(const struct hyp_config *cfg, const char *root, bool vfio,
                      hyp_check_report_fn report, void *data);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperion.conf's device settings (doc/devices.md):
 *
 *   gres_conf = /etc/slurm/gres.conf     where slurmd's GPUs are listed
 *   gpu_devices = /dev/nvidia0=0000:3b:00.0 ...  device file -> PCI address,
 *                                        for files sysfs cannot link
 *   vf_default = POOL[:COUNT]            VFs every VM gets unless it asks
 *
 *   [vf_pool NAME]
 *   pf = 0000:3b:00.0 [0000:af:00.0]     the physical functions lent out
 *   vlan = 42                            optional, set on each VF
 *   mac_prefix = 52:54:01                1-5 octets; the rest is per VF
 */
#ifndef HYP_DEVICES_CONFIG_H
#define HYP_DEVICES_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "hyp_error.h"

#define HYP_VF_POOL_NAME_MAX 32
#define HYP_VF_POOLS_MAX     32

struct hyp_vf_pool {
	char name[HYP_VF_POOL_NAME_MAX + 1];
	char **pfs;    /* canonical PCI addresses, NULL-terminated */
	unsigned vlan; /* 0: none */
	unsigned char mac_prefix[6];
	unsigned mac_prefix_len;
};

struct hyp_devices_config {
	char *gres_conf;
	char **gpu_map;   /* "FILE=PCI" (canonical PCI), NULL-terminated */
	char *vf_default; /* "" or "POOL[:COUNT]" */
	struct hyp_vf_pool *pools;
	size_t npools;
	unsigned seen; /* top-level keys given, to refuse one given twice */
	bool in_pool;  /* inside a [vf_pool] section */
};

int hyp_devices_config_init(struct hyp_devices_config *dc, hyp_error *err);
void hyp_devices_config_free(struct hyp_devices_config *dc);

/*
 * One key of hyperion.conf (hyp_ini_fn's arguments): 1 when it is a device
 * setting (applied), 0 when it is not ours, < 0 on a bad one. Key and
 * value NULL end a section.
 */
int hyp_devices_config_key(struct hyp_devices_config *dc, const char *section, const char *key,
                           const char *value, hyp_error *err);

const struct hyp_vf_pool *hyp_vf_pool_find(const struct hyp_devices_config *dc, const char *name);

/* "POOL[:COUNT]" (COUNT 1-64, default 1), the pool known. */
int hyp_vf_request_parse(const struct hyp_devices_config *dc, const char *s,
                         const struct hyp_vf_pool **ret_pool, unsigned *ret_count, hyp_error *err);

#endif

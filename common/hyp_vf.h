/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SR-IOV virtual functions lent from the admin's pools (hyp_devices_config.h).
 *
 * A VF is leased to one job at a time: <state_dir>/.vf/<pool>/<vf> holds
 * "JOB NODE MAC", created under the pool's lock (<state_dir>/.vf/<pool>/
 * .lock, flock) with O_EXCL. The caller's resource list gets a "vf" line
 * before the lease exists, so every way out (stop, rollback, reconciliation
 * of a dead job) releases it; a lease whose job is gone is thereby reclaimed.
 */
#ifndef HYP_VF_H
#define HYP_VF_H

#include <stddef.h>
#include <stdint.h>

#include "hyp_devices_config.h"
#include "hyp_error.h"
#include "hyp_pci.h"

#define HYP_RES_VF "vf" /* "LEASE-PATH NODE JOB": a VF lease, removed if still ours */

struct hyp_vf_lease {
	char vf[HYP_PCI_NAME_MAX]; /* the VF's PCI address */
	char pf[HYP_PCI_NAME_MAX];
	int numa_node; /* -1: unknown */
	char mac[18];
	unsigned vlan; /* 0: none */
};

struct hyp_vf_want {
	const struct hyp_vf_pool *pool;
	unsigned count;
	const char *sysfs; /* NULL: /sys */
	const char *state_dir;
	const char *node;
	uint32_t job_id;
	const unsigned *prefer_nodes; /* host NUMA nodes of the job: their VFs first */
	size_t nprefer;
	const char *resources; /* the job's resource list; NULL: choose only (dry run) */
};

/*
 * Choose w->count VFs of the pool, free or already this job's, NUMA-local
 * first; with w->resources, lease them. An empty pool fails with EBUSY,
 * the pool's size and how many VFs are in use. ret_leases: w->count entries.
 */
int hyp_vf_acquire(const struct hyp_vf_want *w, struct hyp_vf_lease *ret_leases, hyp_error *err);

/* The release of a "vf" resource line: removes the lease if it is still
 * the job's (1), 0 if already gone. */
int hyp_vf_release(const char *value, hyp_error *err);

/* How many VFs the pool has and how many are leased. */
int hyp_vf_pool_usage(const struct hyp_vf_pool *pool, const char *sysfs, const char *state_dir,
                      unsigned *ret_size, unsigned *ret_used, hyp_error *err);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What to boot for one job on this node: built from the allocation, the
 * configuration and the image, before anything touches libvirt.
 */
#ifndef HYP_SPEC_H
#define HYP_SPEC_H

#include <stdint.h>
#include <sys/types.h>

#include "hyp_bootcfg.h"
#include "hyp_catalog.h"
#include "hyp_config.h"
#include "hyp_error.h"
#include "hyp_net.h"
#include "hyp_placement.h"

struct hyp_devices;

#define HYP_XML_NS        "http://hyperion.invalid/xmlns/domain/1"
#define HYP_MIN_GUEST_MIB 64

/* What the scheduler allocated on this node. */
struct hyp_alloc {
	uint32_t job_id;
	const char *node;    /* the Slurm node this VM serves (several may share a host) */
	const char *manager; /* the scheduler whose job it is; NULL: Slurm */
	uid_t uid;
	gid_t gid;
	const char *user;     /* name, recorded for `hyperionctl list` */
	const unsigned *cpus; /* OS cpus, sorted, distinct */
	size_t ncpus;
	unsigned long long memory_mb; /* memory allocated to the job on this node */
	const char *hugepages;        /* user's choice, NULL for the configured default */
	const char *shares;           /* user's choice (hyp_shares_select), NULL: all allowed */
	const struct hyp_guest_user *guest; /* the user as the guest shows it; NULL: no entry */
	const char *nodes;      /* the job's nodes, a host list expression; NULL: this one alone */
	const char *node_addrs; /* their addresses "A,B,..." in order; NULL: by name */
};

struct hyp_vm_spec {
	uint32_t job_id;
	char *node;    /* Slurm node name: part of the domain name and every path */
	char *manager; /* "slurm" or "pbs": whose reconciliation may release it */
	uid_t uid;
	gid_t gid;
	char *user;
	char *name;        /* hyp_domain_name() */
	char *job_dir;     /* hyp_job_dir() */
	char *console_log; /* <job_dir>/console.log */
	char *ctl_socket;  /* <job_dir>/ctl.sock */
	char *overlay;     /* <job_dir>/overlay.qcow2 for disk images, else NULL */
	unsigned nexec_ports;
	enum hyp_domain_type domain_type;
	char *cpu_model;
	unsigned long long memory_mib; /* guest memory: allocation minus the VMM reserve */
	unsigned long hugepage_kib;    /* 0: normal pages */
	bool numa_bind;                /* <numatune> binds cells to their host nodes */
	struct hyp_image image;
	struct hyp_placement placement;
	struct hyp_share *shares; /* virtio-fs shares, each served by its own virtiofsd */
	size_t nshares;
	char *virtiofsd;             /* cfg->virtiofsd */
	char *boot_params;           /* hyp_bootcfg_encode(): the agent's kernel parameters */
	struct hyp_vm_net net;       /* the guest network (hyp_net.h) */
	struct hyp_devices *devices; /* passed-through GPUs and VFs (hyp_devices.h), NULL: none */
};

int hyp_spec_build(const struct hyp_config *cfg, const struct hyp_image *img,
                   const struct hyp_topology *topo, const struct hyp_alloc *alloc,
                   struct hyp_vm_spec *ret_spec, hyp_error *err);
void hyp_spec_free(struct hyp_vm_spec *spec);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Devices of a job: GPUs from its allocation, VFs from the pools, each a
 * guest PCIe slot placed on the guest cell of its host NUMA node (as
 * OpenStack Nova does with a PCIe expander bus per cell). Readiness checks
 * are in hyp_devices_ready.c.
 */
#include "hyp_devices.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_cleanup.h"
#include "hyp_spec.h"
#include "hyp_topology.h"

#define SLOTS_MAX 64

void hyp_devices_free(struct hyp_devices *d)
{
	if (!d)
		return;
	free(d->slots);
	free(d->sysfs);
	free(d->state_dir);
	free(d->host_nodes);
	free(d);
}

static void devices_freep(struct hyp_devices **d)
{
	hyp_devices_free(*d);
}

static const char *sysfs_of(const struct hyp_devices *d)
{
	return d->sysfs ? d->sysfs : "/sys";
}

static struct hyp_dev_slot *new_slot(struct hyp_devices *d, hyp_error *err)
{
	if (d->nslots == SLOTS_MAX) {
		hyp_fail(err, E2BIG, "more than %d passed-through devices", SLOTS_MAX);
		return NULL;
	}
	struct hyp_dev_slot *s = &d->slots[d->nslots++];
	*s = (struct hyp_dev_slot){.host_node = -1, .cell = -1};
	return s;
}

/* Whether a function is already one of the job's. */
static bool held(const struct hyp_devices *d, const char *fn)
{
	for (size_t i = 0; i < d->nslots; i++)
		for (size_t f = 0; f < d->slots[i].nfns; f++)
			if (!strcmp(d->slots[i].fns[f], fn))
				return true;
	return false;
}

/* Another machine's GPU that its topology shows but the sysfs at hand does
 * not (hyperionctl xml --topology without --sysfs): the functions and the
 * node hwloc recorded; no IOMMU group to check. */
static int add_gpu_from_topology(struct hyp_devices *d, const struct hyp_topology *topo,
                                 const char *name, hyp_error *err)
{
	_cleanup_strv_ char **fns = NULL;
	int r = hyp_topology_pci_slot(topo, name, &fns, err);
	if (r < 0 || !fns[0])
		return r < 0 ? r : -ENOENT;
	struct hyp_dev_slot *s = new_slot(d, err);
	if (!s)
		return -err->code;
	s->host_node = hyp_topology_pci_node(topo, name);
	snprintf(s->fns[s->nfns++], HYP_PCI_NAME_MAX, "%s", name);
	for (size_t i = 0; fns[i] && s->nfns < HYP_SLOT_FNS_MAX; i++)
		if (strcmp(fns[i], name) != 0)
			snprintf(s->fns[s->nfns++], HYP_PCI_NAME_MAX, "%s", fns[i]);
	return 0;
}

/* The other functions of the GPU's slot (audio, USB-C...), bridges aside:
 * a multi-function device goes to the guest whole. */
static int add_companions(struct hyp_devices *d, struct hyp_dev_slot *s,
                          const struct hyp_pci_dev *dev, hyp_error *err)
{
	_cleanup_strv_ char **fns = NULL;
	struct hyp_pci_dev other;
	if (hyp_pci_slot_functions(sysfs_of(d), &dev->addr, &fns, err) < 0)
		return -err->code;
	for (size_t i = 0; fns[i]; i++) {
		if (!strcmp(fns[i], dev->name) ||
		    hyp_pci_read(sysfs_of(d), fns[i], &other, err) < 0 || hyp_pci_is_bridge(&other))
			continue;
		if (s->nfns == HYP_SLOT_FNS_MAX)
			return hyp_fail(err, E2BIG, "GPU %s: more than %d functions", dev->name,
			                HYP_SLOT_FNS_MAX);
		snprintf(s->fns[s->nfns++], HYP_PCI_NAME_MAX, "%s", other.name);
	}
	return 0;
}

static int add_gpu(struct hyp_devices *d, const struct hyp_topology *topo, const char *addr,
                   hyp_error *err)
{
	struct hyp_pci_dev dev;
	struct hyp_pci_addr a;
	char name[HYP_PCI_NAME_MAX];
	int r = hyp_pci_addr_parse(addr, &a, err);
	if (r < 0)
		return hyp_error_prefix(err, "GPU");
	hyp_pci_addr_format(&a, name);
	if (held(d, name))
		return 0;
	r = hyp_pci_read(sysfs_of(d), name, &dev, err);
	if (r == -ENOENT && add_gpu_from_topology(d, topo, name, &(hyp_error){0}) == 0)
		return 0;
	if (r < 0)
		return hyp_error_prefix(err, "GPU");
	struct hyp_dev_slot *s = new_slot(d, err);
	if (!s)
		return -err->code;
	s->host_node = dev.numa_node >= 0 ? dev.numa_node : hyp_topology_pci_node(topo, dev.name);
	snprintf(s->fns[s->nfns++], HYP_PCI_NAME_MAX, "%s", dev.name);
	return add_companions(d, s, &dev, err);
}

/* vfio hands a whole IOMMU group to one guest: every member the job was
 * not given, bridges aside, would go with it. */
static int check_group(const struct hyp_devices *d, const char *fn, uint32_t job_id, hyp_error *err)
{
	struct hyp_pci_dev dev, member;
	_cleanup_strv_ char **members = NULL;
	int r = hyp_pci_read(sysfs_of(d), fn, &dev, err);
	if (r == -ENOENT) /* known from another machine's topology only */
		return 0;
	if (r < 0 || dev.iommu_group < 0) /* no IOMMU: hyp_devices_ready says so */
		return r;
	if ((r = hyp_pci_group_members(sysfs_of(d), dev.iommu_group, &members, err)) < 0)
		return r;
	for (size_t i = 0; members[i]; i++) {
		if (held(d, members[i]) ||
		    (hyp_pci_read(sysfs_of(d), members[i], &member, err) == 0 &&
		     hyp_pci_is_bridge(&member)))
			continue;
		return hyp_fail(err, EPERM,
		                "device %s: IOMMU group %d also holds %s, which job %" PRIu32
		                " was not given; passing the group through would hand it over "
		                "too (put the device in a slot with its own group, or allocate "
		                "both)",
		                fn, dev.iommu_group, members[i], job_id);
	}
	return 0;
}

static int add_gpus(struct hyp_devices *d, const struct hyp_config *cfg,
                    const struct hyp_topology *topo, const struct hyp_devices_request *req,
                    const struct hyp_vm_spec *spec, hyp_error *err)
{
	_cleanup_strv_ char **pcis = NULL;
	int r = 0;
	if (req->gres_gpus && *req->gres_gpus)
		r = hyp_gpu_from_gres(&cfg->devices, &req->fs, spec->node, req->gres_gpus, &pcis,
		                      err);
	for (size_t i = 0; r >= 0 && pcis && pcis[i]; i++)
		r = add_gpu(d, topo, pcis[i], err);
	_cleanup_free_ char *list = req->gpus ? strdup(req->gpus) : NULL;
	if (req->gpus && !list)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (char *save, *p = list ? strtok_r(list, ",", &save) : NULL; r >= 0 && p;
	     p = strtok_r(NULL, ",", &save))
		r = add_gpu(d, topo, p, err);
	for (size_t i = 0; r >= 0 && i < d->nslots; i++)
		for (size_t f = 0; r >= 0 && f < d->slots[i].nfns; f++)
			r = check_group(d, d->slots[i].fns[f], spec->job_id, err);
	return r;
}

/* A pool named twice is asked once, for the sum. */
static int add_ask(struct hyp_devices *d, const char *pool, unsigned count, hyp_error *err)
{
	for (size_t i = 0; i < d->nasks; i++)
		if (!strcmp(d->asks[i].pool, pool)) {
			d->asks[i].count += count;
			return d->asks[i].count > 64 ? hyp_fail(err, E2BIG,
			                                        "more than 64 VFs of "
			                                        "pool '%s'",
			                                        pool)
			                             : 0;
		}
	if (d->nasks == HYP_VF_ASKS_MAX)
		return hyp_fail(err, E2BIG, "VFs: more than %d pools asked", HYP_VF_ASKS_MAX);
	snprintf(d->asks[d->nasks].pool, sizeof(d->asks[0].pool), "%s", pool);
	d->asks[d->nasks++].count = count;
	return 0;
}

static int parse_asks(struct hyp_devices *d, const struct hyp_config *cfg, const char *vfs,
                      hyp_error *err)
{
	if (!vfs)
		vfs = cfg->devices.vf_default;
	if (!strcmp(vfs, "none"))
		return 0;
	_cleanup_free_ char *list = strdup(vfs);
	if (!list)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (char *save, *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		const struct hyp_vf_pool *pool;
		unsigned count;
		int r = hyp_vf_request_parse(&cfg->devices, p, &pool, &count, err);
		if (r < 0)
			return r;
		r = add_ask(d, pool->name, count, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_vf(struct hyp_devices *d, const struct hyp_vf_pool *pool,
                  const struct hyp_vf_lease *l, hyp_error *err)
{
	struct hyp_dev_slot *s = new_slot(d, err);
	if (!s)
		return -err->code;
	s->vf = true;
	s->host_node = l->numa_node;
	s->nfns = 1;
	s->vlan = l->vlan;
	memcpy(s->fns[0], l->vf, HYP_PCI_NAME_MAX);
	snprintf(s->pool, sizeof(s->pool), "%s", pool->name);
	snprintf(s->mac, sizeof(s->mac), "%s", l->mac);
	return 0;
}

/* Choose (resources NULL) or lease the asked VFs, into VF slots. */
static int vf_slots(struct hyp_devices *d, const struct hyp_config *cfg,
                    const struct hyp_vm_spec *spec, const char *resources, hyp_error *err);

static void set_cells(struct hyp_devices *d, const struct hyp_placement *pl)
{
	for (size_t i = 0; i < d->nslots; i++)
		for (size_t c = 0; c < pl->ncells; c++)
			if (d->slots[i].host_node >= 0 &&
			    pl->cells[c].host_node == (unsigned)d->slots[i].host_node)
				d->slots[i].cell = (int)c;
}

static int init_devices(struct hyp_devices *d, const struct hyp_config *cfg,
                        const struct hyp_devices_request *req, const struct hyp_vm_spec *spec,
                        hyp_error *err)
{
	const struct hyp_placement *pl = &spec->placement;
	d->slots = calloc(SLOTS_MAX, sizeof(*d->slots));
	d->host_nodes = calloc(pl->ncells + 1, sizeof(*d->host_nodes));
	d->state_dir = strdup(cfg->state_dir);
	d->sysfs = req->fs.sys ? strdup(req->fs.sys) : NULL;
	if (!d->slots || !d->host_nodes || !d->state_dir || (req->fs.sys && !d->sysfs))
		return hyp_fail(err, ENOMEM, "out of memory");
	for (size_t c = 0; c < pl->ncells; c++)
		d->host_nodes[d->nhost_nodes++] = pl->cells[c].host_node;
	return 0;
}

int hyp_devices_prepare(const struct hyp_config *cfg, const struct hyp_topology *topo,
                        const struct hyp_devices_request *req, struct hyp_vm_spec *spec,
                        hyp_error *err)
{
	_cleanup_(devices_freep) struct hyp_devices *d = calloc(1, sizeof(*d));
	if (!d)
		return hyp_fail(err, ENOMEM, "out of memory");
	int r = init_devices(d, cfg, req, spec, err);
	if (r >= 0)
		r = add_gpus(d, cfg, topo, req, spec, err);
	if (r >= 0)
		r = parse_asks(d, cfg, req->vfs, err);
	if (r >= 0)
		r = vf_slots(d, cfg, spec, NULL, err);
	if (r < 0)
		return hyp_error_prefix(err, "job %" PRIu32 " devices", spec->job_id);
	set_cells(d, &spec->placement);
	if (d->nslots || d->nasks)
		spec->devices = steal_pointer(&d);
	return 0;
}

static int vf_slots(struct hyp_devices *d, const struct hyp_config *cfg,
                    const struct hyp_vm_spec *spec, const char *resources, hyp_error *err)
{
	/* drop the VF slots of an earlier choice: GPUs come first */
	while (d->nslots && d->slots[d->nslots - 1].vf)
		d->nslots--;
	for (size_t a = 0; a < d->nasks; a++) {
		const struct hyp_vf_pool *pool = hyp_vf_pool_find(&cfg->devices, d->asks[a].pool);
		struct hyp_vf_lease leases[64];
		if (!pool)
			return hyp_fail(err, EINVAL, "no VF pool '%s'", d->asks[a].pool);
		struct hyp_vf_want w = {.pool = pool,
		                        .count = d->asks[a].count,
		                        .sysfs = d->sysfs,
		                        .state_dir = d->state_dir,
		                        .node = spec->node,
		                        .job_id = spec->job_id,
		                        .prefer_nodes = d->host_nodes,
		                        .nprefer = d->nhost_nodes,
		                        .resources = resources};
		int r = hyp_vf_acquire(&w, leases, err);
		for (unsigned i = 0; r >= 0 && i < w.count; i++)
			r = add_vf(d, pool, &leases[i], err);
		for (unsigned i = 0; r >= 0 && i < w.count; i++)
			r = check_group(d, leases[i].vf, spec->job_id, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int hyp_devices_acquire(const struct hyp_config *cfg, const struct hyp_vm_spec *spec,
                        const char *resources, hyp_error *err)
{
	struct hyp_devices *d = spec->devices;
	if (!d || !d->nasks)
		return 0;
	int r = vf_slots(d, cfg, spec, resources, err);
	if (r < 0)
		return r;
	set_cells(d, &spec->placement);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * From an allocation, the configuration and an image to what to boot.
 *
 * Memory: the guest gets the allocation minus vmm_reserve_mb. With
 * hugepages that is rounded *down* to whole pages (never above what the job
 * was given), and each NUMA cell but the last is rounded down to whole pages
 * too, the last one taking the rest: QEMU backs each cell with its own
 * memory object, which must be a whole number of pages.
 */
#include "hyp_spec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hyp_cleanup.h"
#include "hyp_devices.h"
#include "hyp_hugepages.h"
#include "hyp_names.h"
#include "hyp_resources.h"

void hyp_spec_free(struct hyp_vm_spec *spec)
{
	if (!spec)
		return;
	free(spec->user);
	free(spec->node);
	free(spec->manager);
	free(spec->name);
	free(spec->job_dir);
	free(spec->console_log);
	free(spec->ctl_socket);
	free(spec->overlay);
	free(spec->cpu_model);
	hyp_image_free(&spec->image);
	hyp_placement_free(&spec->placement);
	for (size_t i = 0; i < spec->nshares; i++)
		hyp_share_free(&spec->shares[i]);
	free(spec->shares);
	free(spec->virtiofsd);
	free(spec->boot_params);
	hyp_vm_net_free(&spec->net);
	hyp_devices_free(spec->devices);
	memset(spec, 0, sizeof(*spec));
}

static int set_paths(struct hyp_vm_spec *spec, const struct hyp_config *cfg,
                     const struct hyp_image *img, hyp_error *err)
{
	int r = hyp_node_name_check(spec->node, err);
	if (r >= 0)
		r = hyp_names_check_length(cfg->state_dir, spec->node, spec->job_id,
		                           spec->nexec_ports, err);
	if (r < 0)
		return r;
	spec->name = hyp_domain_name(spec->node, spec->job_id);
	spec->job_dir = hyp_job_dir(cfg->state_dir, spec->node, spec->job_id);
	if (!spec->name || !spec->job_dir)
		return hyp_fail(err, ENOMEM, "out of memory");
	spec->console_log = hyp_job_file(spec->job_dir, HYP_CONSOLE_LOG);
	spec->ctl_socket = hyp_job_file(spec->job_dir, HYP_CTL_SOCKET);
	if (img->kind == HYP_IMAGE_DISK)
		spec->overlay = hyp_job_file(spec->job_dir, HYP_OVERLAY);
	if (!spec->console_log || !spec->ctl_socket ||
	    (img->kind == HYP_IMAGE_DISK && !spec->overlay))
		return hyp_fail(err, ENOMEM, "out of memory");
	return 0;
}

/* Is `name` (canonical) in the comma-separated `allowed`, in any case? */
static bool size_allowed(const char *allowed, const char *name)
{
	size_t len = strlen(name);
	for (const char *p = allowed; *p;) {
		p += strspn(p, " ");
		size_t n = strcspn(p, ",");
		if (n == len && !strncasecmp(p, name, len))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

static int choose_page_size(const struct hyp_config *cfg, const struct hyp_alloc *alloc,
                            unsigned long *ret_kib, hyp_error *err)
{
	const char *allowed = cfg->hugepages_allowed ? cfg->hugepages_allowed : "none";
	const char *want = alloc->hugepages         ? alloc->hugepages
	                   : cfg->hugepages_default ? cfg->hugepages_default
	                                            : "none";
	unsigned long kib;
	if (hyp_hugepage_size_parse(want, &kib, NULL) == 0 &&
	    size_allowed(allowed, hyp_hugepage_size_name(kib))) {
		*ret_kib = kib;
		return 0;
	}
	char list[64]; /* "none,2M" -> "none, 2M" */
	size_t k = 0;
	for (const char *p = allowed; *p && k + 3 < sizeof(list); p++) {
		list[k++] = *p;
		if (*p == ',')
			list[k++] = ' ';
	}
	list[k] = '\0';
	return hyp_fail(err, EINVAL, "job %u: hugepages '%s' not allowed (allowed: %s)",
	                alloc->job_id, want, list);
}

static const char *page_name(unsigned long kib)
{
	const char *name = hyp_hugepage_size_name(kib);
	return name ? name : "?";
}

static int set_memory(struct hyp_vm_spec *spec, const struct hyp_config *cfg,
                      const struct hyp_alloc *alloc, hyp_error *err)
{
	int r = choose_page_size(cfg, alloc, &spec->hugepage_kib, err);
	if (r < 0)
		return r;
	unsigned long long mb = alloc->memory_mb, reserve = cfg->vmm_reserve_mb;
	unsigned long long left = mb > reserve ? mb - reserve : 0;
	if (left < HYP_MIN_GUEST_MIB)
		return hyp_fail(err, EINVAL,
		                "job %u: %llu MB allocated, %llu MB reserved for the VMM leaves "
		                "%llu MB, at least %u MB needed: ask for more memory",
		                alloc->job_id, mb, reserve, left, HYP_MIN_GUEST_MIB);
	unsigned long long page_mib = spec->hugepage_kib / 1024;
	spec->memory_mib = page_mib ? left / page_mib * page_mib : left;
	if (spec->memory_mib < HYP_MIN_GUEST_MIB)
		return hyp_fail(err, EINVAL,
		                "job %u: %llu MB allocated, %llu MB reserved for the VMM leaves "
		                "%llu MB, less than %u MB in whole %s hugepages: ask for more "
		                "memory or smaller hugepages",
		                alloc->job_id, mb, reserve, left, HYP_MIN_GUEST_MIB,
		                page_name(spec->hugepage_kib));
	return 0;
}

/* Every cell a whole number of hugepages; the last takes what is left. */
static int align_cells(struct hyp_vm_spec *spec, hyp_error *err)
{
	struct hyp_placement *pl = &spec->placement;
	unsigned long long page = spec->hugepage_kib, left = spec->memory_mib * 1024;
	if (!page || pl->ncells == 0)
		return 0;
	for (size_t c = 0; c < pl->ncells; c++) {
		unsigned long long kib =
		    c + 1 < pl->ncells ? pl->cells[c].memory_kib / page * page : left;
		if (kib == 0)
			return hyp_fail(err, EINVAL,
			                "job %u: %llu MB in %s hugepages cannot give each of the "
			                "%zu NUMA nodes of the allocation a page: ask for more "
			                "memory or smaller hugepages",
			                spec->job_id, spec->memory_mib, page_name(page),
			                pl->ncells);
		pl->cells[c].memory_kib = kib;
		left -= kib;
	}
	return 0;
}

static int copy_identity(struct hyp_vm_spec *spec, const struct hyp_config *cfg,
                         const struct hyp_alloc *alloc, hyp_error *err)
{
	spec->job_id = alloc->job_id;
	spec->uid = alloc->uid;
	spec->gid = alloc->gid;
	spec->nexec_ports = (unsigned)alloc->ncpus + cfg->spare_exec_ports;
	spec->domain_type = cfg->domain_type;
	spec->numa_bind = cfg->numa_bind;
	spec->user = strdup(alloc->user ? alloc->user : "");
	spec->node = strdup(alloc->node ? alloc->node : "");
	spec->manager = strdup(alloc->manager ? alloc->manager : HYP_MANAGER_SLURM);
	spec->cpu_model = strdup(cfg->cpu_model ? cfg->cpu_model : "host-passthrough");
	if (!spec->user || !spec->node || !spec->manager || !spec->cpu_model)
		return hyp_fail(err, ENOMEM, "out of memory");
	return 0;
}

static int fill_share(struct hyp_share *s, const char *job_dir, unsigned i, const char *path,
                      const char *root)
{
	s->path = strdup(path);
	s->root = strdup(root);
	s->tag = hyp_fs_tag(i);
	s->socket = hyp_fs_socket_path(job_dir, i);
	return s->path && s->root && s->tag && s->socket ? 0 : -ENOMEM;
}

static int set_shares(struct hyp_vm_spec *spec, const struct hyp_config *cfg,
                      const struct hyp_alloc *alloc, hyp_error *err)
{
	_cleanup_strv_ char **paths = NULL, **roots = NULL;
	int r = hyp_shares_select(cfg->shares, alloc->shares, &paths, &roots, err);
	if (r < 0)
		return hyp_error_prefix(err, "job %u", alloc->job_id);
	size_t n = 0;
	while (paths[n])
		n++;
	spec->virtiofsd = strdup(cfg->virtiofsd ? cfg->virtiofsd : "");
	spec->shares = calloc(n + 1, sizeof(*spec->shares));
	if (!spec->virtiofsd || !spec->shares)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (; spec->nshares < n; spec->nshares++)
		if (fill_share(&spec->shares[spec->nshares], spec->job_dir, (unsigned)spec->nshares,
		               paths[spec->nshares], roots[spec->nshares]) < 0)
			return spec->nshares++, hyp_fail(err, ENOMEM, "out of memory");
	return 0;
}

/* What the kernel command line has left after ours and the image's. */
static int set_boot_params(struct hyp_vm_spec *spec, const struct hyp_alloc *alloc, hyp_error *err)
{
	size_t used =
	    HYP_BOOT_BASE_RESERVE + (spec->image.cmdline ? strlen(spec->image.cmdline) : 0);
	const char *net = spec->net.boot_words ? spec->net.boot_words : "";
	used += strlen(net);
	size_t max = used < HYP_CMDLINE_MAX - 1 ? HYP_CMDLINE_MAX - 1 - used : 0;
	int r = hyp_bootcfg_encode(spec->node, alloc->guest, spec->shares, spec->nshares, max,
	                           &spec->boot_params, err);
	if (r >= 0 && *net && hyp_bootcfg_append(&spec->boot_params, net) < 0)
		r = hyp_fail(err, ENOMEM, "out of memory");
	return r < 0 ? hyp_error_prefix(err, "job %u", alloc->job_id) : 0;
}

int hyp_spec_build(const struct hyp_config *cfg, const struct hyp_image *img,
                   const struct hyp_topology *topo, const struct hyp_alloc *alloc,
                   struct hyp_vm_spec *ret_spec, hyp_error *err)
{
	_cleanup_(hyp_spec_free) struct hyp_vm_spec spec = {0};
	int r = copy_identity(&spec, cfg, alloc, err);
	if (r >= 0)
		r = set_paths(&spec, cfg, img, err);
	if (r >= 0)
		r = set_memory(&spec, cfg, alloc, err);
	if (r >= 0)
		r = hyp_image_copy(img, &spec.image, err);
	if (r >= 0)
		r = set_shares(&spec, cfg, alloc, err);
	if (r >= 0 && (r = hyp_vm_net_build(&cfg->net, alloc->job_id, spec.node, alloc->nodes,
	                                     alloc->node_addrs, &spec.net, err)) < 0)
		r = hyp_error_prefix(err, "job %u", alloc->job_id);
	if (r >= 0)
		r = set_boot_params(&spec, alloc, err);
	if (r >= 0 && hyp_placement_compute(topo, alloc->cpus, alloc->ncpus, spec.memory_mib,
	                                    cfg->housekeeping_cpus, &spec.placement, err) < 0)
		r = hyp_error_prefix(err, "job %u", alloc->job_id);
	if (r >= 0)
		r = align_cells(&spec, err);
	if (r < 0)
		return r;
	*ret_spec = spec;
	memset(&spec, 0, sizeof(spec));
	return 0;
}

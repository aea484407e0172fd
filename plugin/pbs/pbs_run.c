/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The commands: each maps its arguments onto the core's entry point (hyp_job.h). */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_build_config.h"
#include "hyp_catalog.h"
#include "hyp_check.h"
#include "hyp_cleanup.h"
#include "hyp_config.h"
#include "hyp_image_check.h"
#include "hyp_job.h"
#include "hyp_names.h"
#include "pbs.h"

static int print_select(const struct pbs_args *a, const char *image, hyp_error *err)
{
	_cleanup_free_ char *sel = NULL;
	int r = pbs_select_with(a->select, PBS_IMAGE_KEY, image, &sel, err);
	if (r >= 0)
		printf("%s\n", sel);
	return r;
}

int pbs_check_image(const struct pbs_args *a, hyp_error *err)
{
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	_cleanup_(hyp_catalog_free) struct hyp_catalog cat = {0};
	const struct hyp_image *img;
	char name[PBS_IMAGE_MAX];
	struct pbs_args x = *a;
	x.image = a->argc == 1 && a->argv[0][0] ? a->argv[0] : NULL;
	int r = pbs_job_image(&x, &(struct torque_resources){0}, name, sizeof(name), err);
	if (r != 0)
		return r < 0 ? r : 0;
	r = hyp_config_load(a->config_path, &cfg, err);
	if (r >= 0 && name[0] == '/')
		r = pbs_check_image_path(&cfg, name, err);
	else if (r >= 0 && (r = hyp_catalog_load(cfg.image_catalog, &cat, err)) >= 0)
		r = hyp_catalog_lookup(&cat, name, &img, err);
	if (r < 0 || !x.image)
		return r;
	/* Caught at qsub rather than when the job starts. The image goes into
	 * the chunks, and PBS takes no job-wide ncpus or mem next to a select:
	 * the size must be in a select already. */
	if (!a->select || !pbs_select_every_chunk_has(a->select, "mem"))
		return hyp_fail(
		    err, EINVAL,
		    "a VM job gives the size of its VM in -l select, with mem= in every "
		    "chunk (for example -l select=1:ncpus=1:mem=512mb)");
	return print_select(a, name, err);
}

int pbs_check_image_path(const struct hyp_config *cfg, const char *path, hyp_error *err)
{
	if (!cfg->user_images)
		return hyp_fail(err, EPERM,
		                "'%s': this site does not allow user-supplied images "
		                "(user_images = no): give an image name",
		                path);
	return hyp_image_path_check(path, err);
}

static void quiet(void *data, enum hyp_check_status st, const char *name, const char *detail)
{
	if (st == HYP_CHECK_FAIL)
		fprintf(stderr, "hyperion-pbs: check %s: %s\n", name, detail);
}

int pbs_check(const struct pbs_args *a, hyp_error *err)
{
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	int r = hyp_config_load(a->config_path, &cfg, err);
	if (r < 0)
		return r;
	struct hyp_capabilities caps;
	int failures = hyp_check_node(&cfg, "/", quiet, NULL, &caps);
	char list[128];
	hyp_check_features(&caps, failures, list, sizeof(list));
	printf("%s\n", list);
	return 0;
}

/* The image the job asked for: --image, hyperion_image in --select, or in
 * Torque's --resources. 1: none (not a VM job). */
int pbs_job_image(const struct pbs_args *a, const struct torque_resources *t, char *buf,
                  size_t size, hyp_error *err)
{
	if (a->image) {
		if ((size_t)snprintf(buf, size, "%s", a->image) >= size)
			return hyp_fail(err, ENAMETOOLONG,
			                "image '%.64s...' is too long (at most %zu)", a->image,
			                size - 1);
		return 0;
	}
	if (a->select) {
		int r = pbs_select_value(a->select, PBS_IMAGE_KEY, buf, size, err);
		return r == -ENOENT ? 1 : r;
	}
	snprintf(buf, size, "%s", t->image);
	return buf[0] ? 0 : 1;
}

/* ncpus and memory on this node: given, from exec_vnode, or from Torque's list. */
static int job_share(const struct pbs_args *a, const struct torque_resources *t,
                     struct pbs_share *s, hyp_error *err)
{
	*s = (struct pbs_share){.ncpus = a->ncpus, .mem_mib = a->mem_mib};
	if (a->exec_vnode) {
		int r = pbs_exec_vnode_share(a->exec_vnode, a->node, s, err);
		if (r < 0)
			return r;
		if (!s->chunks)
			return hyp_fail(err, ENOENT, "exec_vnode '%s' has no chunk on node %s",
			                a->exec_vnode, a->node);
	} else if (a->resources) {
		s->ncpus = s->ncpus ? s->ncpus : t->ncpus;
		s->mem_mib = s->mem_mib ? s->mem_mib : t->mem_mib;
	}
	if (!s->mem_mib)
		return hyp_fail(err, EINVAL,
		                "job %s has no memory on node %s: submit with mem= (for example "
		                "-l select=1:ncpus=1:mem=512mb)",
		                a->job, a->node);
	s->ncpus = s->ncpus ? s->ncpus : 1;
	return 0;
}

int pbs_start(const struct pbs_args *a, hyp_error *err)
{
	struct torque_resources t = {0};
	struct pbs_share s;
	char image[PBS_IMAGE_MAX];
	_cleanup_free_ char *cpus = NULL;
	int r = a->resources ? torque_resources_parse(a->resources, &t, err) : 0;
	if (r >= 0)
		r = pbs_job_image(a, &t, image, sizeof(image), err);
	if (r != 0)
		return r;
	errno = 0;
	struct passwd *pw = getpwnam(a->user);
	if (!pw)
		return hyp_fail(err, errno ? errno : EINVAL, "unknown user '%s'", a->user);
	if ((r = job_share(a, &t, &s, err)) < 0 ||
	    (r = pbs_choose_cpus(a->cpus, a->job, s.ncpus, &cpus, err)) < 0)
		return r;
	struct hyp_job_request req = {.config_path = a->config_path,
	                              .job_id = a->job_id,
	                              .node = a->node,
	                              .manager = HYP_MANAGER_PBS,
	                              .uid = pw->pw_uid,
	                              .gid = pw->pw_gid,
	                              .user = a->user,
	                              .cpus = cpus,
	                              .memory_mb = s.mem_mib,
	                              .image = image};
	_cleanup_(hyp_job_free) struct hyp_job job = {0};
	r = hyp_job_start(&req, HYP_JOB_WAIT_READY, &job, err);
	if (r < 0)
		return hyp_error_prefix(err, "PBS job %s", a->job);
	printf("job %s: VM %s %s (%zu vCPUs on %s, %llu MiB, image %s)\n", a->job, job.spec.name,
	       job.reused ? "already running" : "ready", job.spec.placement.nvcpus, cpus,
	       job.spec.memory_mib, image);
	return 0;
}

static void print_released(void *data, const char *kind, const char *value)
{
	printf("job %s: released %s %s\n", (const char *)data, kind, value);
}

int pbs_stop(const struct pbs_args *a, hyp_error *err)
{
	struct hyp_release_ctx log = {.log = print_released, .log_data = (void *)a->job};
	int r = hyp_job_stop(a->config_path, a->node, a->job_id, &log, err);
	return r < 0 ? hyp_error_prefix(err, "PBS job %s", a->job) : 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * slurmstepd: the first step of a job on a node starts the node's VM (as
 * root, in init_post_opt); later steps find it running. Every task then
 * becomes hyperion-exec (as the user, in task_init), which runs the task's
 * command in the VM.
 */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hyp_catalog.h"
#include "hyp_cleanup.h"
#include "hyp_cpulist.h"
#include "hyp_spec.h"
#include "hyp_topology.h"
#include "hyp_vm.h"
#include "plugin.h"

#define SLURM_BATCH_STEP 0xfffffffbU /* SLURM_BATCH_SCRIPT in slurm.h */

/* What Slurm allocated to the job on this node, as plain values. */
struct job_items {
	uint32_t job_id;
	uid_t uid;
	gid_t gid;
	char *cores; /* abstract core ids, owned by Slurm */
	uint64_t mem_mb;
	unsigned threads_per_core; /* 0: every hardware thread of each core */
	char user[64];
};

/*
 * Slurm counts a core's threads as cpus only up to the node's configured
 * ThreadsPerCore: the job's cpus on this node (SLURM_CPUS_ON_NODE) divided
 * by its cores says how many threads of each core are the job's.
 */
static unsigned threads_per_core(spank_t sp, const char *cores)
{
	char value[32];
	unsigned long cpus;
	_cleanup_free_ unsigned *ids = NULL;
	size_t ncores = 0;
	hyp_error ignored;
	if (spank_getenv(sp, "SLURM_CPUS_ON_NODE", value, sizeof(value)) != ESPANK_SUCCESS ||
	    hyp_cpulist_parse(cores, &ids, &ncores, &ignored) < 0 || ncores == 0)
		return 0;
	cpus = strtoul(value, NULL, 10);
	return cpus && cpus % ncores == 0 ? (unsigned)(cpus / ncores) : 0;
}

static int get_job_items(spank_t sp, struct job_items *j, hyp_error *err)
{
	if (spank_get_item(sp, S_JOB_ID, &j->job_id) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_UID, &j->uid) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_GID, &j->gid) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_ALLOC_CORES, &j->cores) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_ALLOC_MEM, &j->mem_mb) != ESPANK_SUCCESS)
		return hyp_fail(err, EIO, "Slurm did not provide the job's allocation");
	if (j->mem_mb == 0)
		return hyp_fail(err, EINVAL,
		                "job %u has no memory allocation on this node: submit with --mem "
		                "or --mem-per-cpu",
		                j->job_id);
	j->threads_per_core = threads_per_core(sp, j->cores);
	struct passwd pw, *res = NULL;
	char buf[4096];
	getpwuid_r(j->uid, &pw, buf, sizeof(buf), &res);
	snprintf(j->user, sizeof(j->user), "%s", res ? res->pw_name : "unknown");
	return 0;
}

struct start_inputs {
	struct hyp_config cfg;
	struct hyp_catalog catalog;
	struct hyp_topology *topo;
	unsigned *cpus;
	size_t ncpus;
	struct hyp_vm_spec spec;
	struct hyp_vm_conn *conn;
};

static void start_inputs_free(struct start_inputs *in)
{
	hyp_vm_disconnect(in->conn);
	hyp_spec_free(&in->spec);
	free(in->cpus);
	hyp_topology_free(in->topo);
	hyp_catalog_free(&in->catalog);
	hyp_config_free(&in->cfg);
}

static int build_spec(struct start_inputs *in, const struct job_items *j, const char *image,
                      hyp_error *err)
{
	const struct hyp_image *img;
	int r = hyp_config_load(plugin.config_path, &in->cfg, err);
	if (r >= 0)
		r = hyp_catalog_load(in->cfg.image_catalog, &in->catalog, err);
	if (r >= 0)
		r = hyp_catalog_lookup(&in->catalog, image, &img, err);
	if (r >= 0)
		r = hyp_topology_load(NULL, &in->topo, err);
	if (r >= 0)
		r = hyp_topology_cores_to_cpus(in->topo, j->cores, j->threads_per_core, &in->cpus,
		                               &in->ncpus, err);
	if (r < 0)
		return r;
	struct hyp_alloc alloc = {
	    .job_id = j->job_id,
	    .uid = j->uid,
	    .gid = j->gid,
	    .user = j->user,
	    .cpus = in->cpus,
	    .ncpus = in->ncpus,
	    .memory_mb = j->mem_mb,
	    .hugepages = plugin.hugepages[0] ? plugin.hugepages : NULL,
	};
	return hyp_spec_build(&in->cfg, img, in->topo, &alloc, &in->spec, err);
}

static int start_or_reuse(spank_t sp, const char *image, hyp_error *err)
{
	struct job_items j = {0};
	_cleanup_(start_inputs_free) struct start_inputs in = {0};
	int r = get_job_items(sp, &j, err);
	if (r >= 0)
		r = build_spec(&in, &j, image, err);
	if (r >= 0)
		r = hyp_vm_connect(&in.cfg, &in.conn, err);
	if (r >= 0)
		r = hyp_vm_start(in.conn, &in.cfg, &in.spec, err);
	if (r == -EEXIST) /* an earlier step of this job started it */
		return 0;
	return r < 0 ? r : 0;
}

int plugin_stepd_post_opt(spank_t sp)
{
	const char *image = plugin_image();
	if (!image)
		return 0;
	int r = start_or_reuse(sp, image, &plugin.setup_err);
	if (r < 0) {
		plugin.setup_failed = true;
		slurm_error(PLUGIN_LOG_PREFIX "%s", plugin.setup_err.msg);
		if (r == -ECONNREFUSED)
			plugin_drain_node(NULL, "libvirtd unreachable");
	}
	/* Never fail here: it would drain the node for a user's mistake.
	 * task_init reports the error and fails the job. */
	return 0;
}

static bool is_batch_step(spank_t sp)
{
	uint32_t step = 0;
	return spank_get_item(sp, S_JOB_STEPID, &step) == ESPANK_SUCCESS &&
	       step == SLURM_BATCH_STEP;
}

int plugin_stepd_task_init(spank_t sp)
{
	if (!plugin_image())
		return 0;
	if (plugin.setup_failed) {
		fprintf(stderr, PLUGIN_LOG_PREFIX "%s\n", plugin.setup_err.msg);
		return -1;
	}
	uint32_t job_id;
	int argc = 0;
	char **argv = NULL, **env = NULL;
	if (spank_get_item(sp, S_JOB_ID, &job_id) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_ARGV, &argc, &argv) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_ENV, &env) != ESPANK_SUCCESS || argc < 1) {
		fprintf(stderr, PLUGIN_LOG_PREFIX "Slurm did not provide the task's command\n");
		return -1;
	}
	char job[16];
	snprintf(job, sizeof(job), "%" PRIu32, job_id);
	char **args = calloc((size_t)argc + 10, sizeof(char *));
	if (!args)
		return -1;
	int k = 0;
	args[k++] = "hyperion-exec";
	args[k++] = "--job";
	args[k++] = job;
	if (plugin.config_path) {
		args[k++] = "--config";
		args[k++] = (char *)plugin.config_path;
	}
	/* The batch script is spooled on the host: hyperion-exec sends it. */
	if (is_batch_step(sp))
		args[k++] = "--script";
	args[k++] = "--";
	memcpy(args + k, argv, (size_t)argc * sizeof(char *));
	execve(plugin.exec_path, args, env);
	fprintf(stderr, PLUGIN_LOG_PREFIX "executing '%s': %s\n", plugin.exec_path,
	        strerror(errno));
	free(args);
	return -1;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * slurmstepd: the first step of a job on a node starts the node's VM (as
 * root, in init_post_opt); later steps find it running. Every task then
 * becomes hyperion-exec (as the user, in task_init), which runs the task's
 * command in the VM. This file only maps SPANK items onto the core's job
 * request (hyp_job.h).
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_cpulist.h"
#include "hyp_job.h"
#include "plugin.h"

#define SLURM_BATCH_STEP 0xfffffffbU /* SLURM_BATCH_SCRIPT in slurm.h */

/*
 * Slurm counts a core's threads as cpus only up to the node's configured
 * ThreadsPerCore: the step's cpus on this node (S_JOB_NCPUS, which is
 * slurmstepd's own count, not the user's environment) over the job's cores
 * says how many threads of each core are the job's. 0: all of them.
 */
static unsigned threads_per_core(spank_t sp, const char *cores)
{
	uint16_t cpus = 0;
	_cleanup_free_ unsigned *ids = NULL;
	size_t ncores = 0;
	hyp_error ignored;
	if (spank_get_item(sp, S_JOB_NCPUS, &cpus) != ESPANK_SUCCESS ||
	    hyp_cpulist_parse(cores, &ids, &ncores, &ignored) < 0 || ncores == 0)
		return 0;
	return cpus && cpus % ncores == 0 ? (unsigned)(cpus / ncores) : 0;
}

/* What Slurm allocated to the job on this node, as a core request. The
 * strings point into Slurm's items, the user name into `user`. */
static int job_request(spank_t sp, const char *image, char *user, size_t user_size,
                       struct hyp_job_request *req, hyp_error *err)
{
	char *cores = NULL;
	*req = (struct hyp_job_request){.config_path = plugin.config_path,
	                                .node = plugin_node_name(),
	                                .image = image,
	                                .hugepages = plugin.hugepages[0] ? plugin.hugepages : NULL};
	if (spank_get_item(sp, S_JOB_ID, &req->job_id) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_UID, &req->uid) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_GID, &req->gid) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_ALLOC_CORES, &cores) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_ALLOC_MEM, &req->memory_mb) != ESPANK_SUCCESS)
		return hyp_fail(err, EIO, "Slurm did not provide the job's allocation");
	req->slurm_cores = cores;
	req->threads_per_core = threads_per_core(sp, cores);
	struct passwd pw, *res = NULL;
	char buf[4096];
	getpwuid_r(req->uid, &pw, buf, sizeof(buf), &res);
	snprintf(user, user_size, "%s", res ? res->pw_name : "unknown");
	req->user = user;
	return 0;
}

static void log_released(void *data, const char *kind, const char *value)
{
	slurm_info(PLUGIN_LOG_PREFIX "job %u start: released %s %s of a job that is gone",
	           *(const uint32_t *)data, kind, value);
}

int plugin_stepd_post_opt(spank_t sp)
{
	const char *image = plugin_image();
	if (!image)
		return 0;
	struct hyp_job_request req;
	char user[64];
	_cleanup_(hyp_job_free) struct hyp_job job = {0};
	int r = job_request(sp, image, user, sizeof(user), &req, &plugin.setup_err);
	struct hyp_release_ctx log = {.log = log_released, .log_data = &req.job_id};
	req.reconcile_log = &log;
	if (r >= 0)
		r = hyp_job_start(&req, HYP_JOB_RECONCILE, &job, &plugin.setup_err);
	if (r < 0) {
		plugin.setup_failed = true;
		slurm_error(PLUGIN_LOG_PREFIX "%s", plugin.setup_err.msg);
		if (r == -ECONNREFUSED)
			plugin_drain_node(req.node, "libvirtd unreachable");
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
	struct hyp_exec_request x = {.exec_path = plugin.exec_path,
	                             .config_path = plugin.config_path,
	                             .node = plugin_node_name(),
	                             /* the batch script is spooled on the host */
	                             .script = is_batch_step(sp)};
	char **argv = NULL, **env = NULL;
	if (spank_get_item(sp, S_JOB_ID, &x.job_id) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_ARGV, &x.argc, &argv) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_ENV, &env) != ESPANK_SUCCESS || x.argc < 1) {
		fprintf(stderr, PLUGIN_LOG_PREFIX "Slurm did not provide the task's command\n");
		return -1;
	}
	x.argv = argv;
	hyp_error err = {0};
	_cleanup_strv_ char **args = NULL;
	if (hyp_job_exec_argv(&x, &args, &err) < 0) {
		fprintf(stderr, PLUGIN_LOG_PREFIX "%s\n", err.msg);
		return -1;
	}
	execve(plugin.exec_path, args, env);
	fprintf(stderr, PLUGIN_LOG_PREFIX "executing '%s': %s\n", plugin.exec_path,
	        strerror(errno));
	return -1;
}

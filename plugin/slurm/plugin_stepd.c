/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * slurmstepd: the first step of a job on a node starts the node's VM (as
 * root, in init_post_opt); later steps find it running. Every task then
 * becomes hyperion-exec (as the user, through Slurm's own execve of the
 * task, set up in task_init), which runs the task's command in the VM. This file only maps SPANK
 * items onto the core's job request (hyp_job.h).
 */
#include <ctype.h>
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
	                                .shares = plugin_shares(),
	                                .hugepages = plugin.hugepages[0] ? plugin.hugepages : NULL,
	                                .nodes = plugin.nodes[0] ? plugin.nodes : NULL,
	                                .gres_gpus = plugin.gpus[0] ? plugin.gpus : NULL,
	                                .vfs = plugin_vfs()};
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
	_cleanup_free_ char *addrs = plugin_node_addrs(plugin.nodes);
	_cleanup_(hyp_job_free) struct hyp_job job = {0};
	int r = job_request(sp, image, user, sizeof(user), &req, &plugin.setup_err);
	req.node_addrs = addrs;
	struct hyp_release_ctx log = {.log = log_released, .log_data = &req.job_id};
	req.reconcile_log = &log;
	/* Root waits for QEMU's view of the guest's control port (no guest
	 * byte is read): a guest that cannot boot is released here, its
	 * console kept, and the boot time is known apart from the run time. */
	if (r >= 0)
		r = hyp_job_start(&req, HYP_JOB_RECONCILE | HYP_JOB_WAIT_READY, &job,
		                  &plugin.setup_err);
	if (r >= 0) {
		plugin.boot_ms = job.boot_ms;
		plugin.vm_reused = job.reused;
	}
	if (r >= 0 && !job.reused) {
		slurm_info(PLUGIN_LOG_PREFIX "job %u: VM %s ready in %u ms", req.job_id,
		           job.spec.name, job.boot_ms);
	}
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

/*
 * srun --multi-prog: Slurm builds each task's argv from the configuration
 * in an array of its own (job->argv is only {config path, config text}),
 * which SPANK does not expose, so such a task cannot be made hyperion-exec.
 * No SPANK item says "multi-prog"; the configuration text gives it away: a
 * second and last argument with lines, the first that counts being a task
 * rank list ("0-3,5" or "*") followed by blanks and a program.
 */
static bool is_multi_prog(int argc, char **argv)
{
	if (argc != 2 || !strchr(argv[1], '\n'))
		return false;
	const char *p = argv[1];
	while (isspace((unsigned char)*p) || *p == '#') /* blank lines and comments */
		p = *p == '#' ? strchrnul(p, '\n') : p + 1;
	size_t ranks = strspn(p, "0123456789,-*");
	return ranks > 0 && (p[ranks] == ' ' || p[ranks] == '\t') &&
	       p[ranks + strspn(p + ranks, " \t")] > ' ';
}

static int set_task_env(spank_t sp, char **env)
{
	for (size_t i = 0; env[i]; i++) {
		char *eq = strchr(env[i], '=');
		*eq = '\0';
		spank_err_t r = spank_setenv(sp, env[i], eq + 1, 1);
		*eq = '=';
		if (r != ESPANK_SUCCESS) {
			fprintf(stderr, PLUGIN_LOG_PREFIX "setting %.*s: %s\n", (int)(eq - env[i]),
			        env[i], spank_strerror(r));
			return -1;
		}
	}
	return 0;
}

/*
 * The task becomes hyperion-exec through Slurm's own final
 * execve(task->argv[0], task->argv, job->env) in exec_task(), which comes
 * after TaskProlog, --task-prolog, the TMPDIR set-up and set_user_limits():
 * exec'ing here would skip them all. For a step without --multi-prog,
 * task->argv is the very array S_JOB_ARGV returns; it cannot grow, so
 * argv[0] is replaced by hyperion-exec's path and the rest of its command
 * line travels in the task's environment (hyp_job_task_env). Slurm's
 * xmalloc'd argv[0] is not freed: this task process only execs or exits.
 */
/* --vm-verbose: once per step, by its first task. */
static void say_boot_time(spank_t sp)
{
	uint32_t task = 0;
	if (!plugin.verbose || spank_get_item(sp, S_TASK_ID, &task) != ESPANK_SUCCESS || task)
		return;
	if (plugin.boot_ms)
		fprintf(stderr, PLUGIN_LOG_PREFIX "VM of node %s ready in %.2f s%s\n",
		        plugin_node_name(), plugin.boot_ms / 1000.0,
		        plugin.vm_reused ? " (booted for an earlier step or at the job's start)"
		                         : "");
	else
		fprintf(stderr, PLUGIN_LOG_PREFIX "VM of node %s already running\n",
		        plugin_node_name());
}

int plugin_stepd_task_init(spank_t sp)
{
	if (!plugin_image())
		return 0;
	say_boot_time(sp);
	struct hyp_exec_args x = {.exec_path = plugin.exec_path,
	                          .config_path = plugin.config_path,
	                          .node = plugin_node_name(),
	                          /* the batch script is spooled on the host */
	                          .script = is_batch_step(sp)};
	char **argv = NULL;
	if (spank_get_item(sp, S_JOB_ID, &x.job_id) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_ARGV, &x.argc, &argv) != ESPANK_SUCCESS || x.argc < 1 ||
	    !argv || !argv[0]) {
		fprintf(stderr, PLUGIN_LOG_PREFIX "Slurm did not provide the task's command\n");
		return -1;
	}
	if (is_multi_prog(x.argc, argv)) {
		fprintf(stderr, PLUGIN_LOG_PREFIX "srun --multi-prog is not supported in a VM "
		                                  "(--vm-image): run one srun per program\n");
		return -1;
	}
	x.argv = argv;
	hyp_error err = {0};
	_cleanup_strv_ char **env = NULL;
	char *exec_path = strdup(plugin.exec_path);
	if (!exec_path || hyp_job_task_env(&x, &env, &err) < 0) {
		fprintf(stderr, PLUGIN_LOG_PREFIX "%s\n", exec_path ? err.msg : "out of memory");
		free(exec_path);
		return -1;
	}
	if (set_task_env(sp, env) < 0) {
		free(exec_path);
		return -1;
	}
	argv[0] = exec_path;
	return 0;
}

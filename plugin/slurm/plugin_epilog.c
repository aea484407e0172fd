/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The job epilog (root, every node of the allocation, however the job
 * ended): release the job's VM and everything it held. And slurmd's start:
 * release what jobs that are gone left behind.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_job.h"
#include "hyp_reconcile.h"
#include "hyp_vm.h"
#include "plugin.h"

static void log_released(void *data, const char *kind, const char *value)
{
	slurm_info(PLUGIN_LOG_PREFIX "%s: released %s %s", (const char *)data, kind, value);
}

/* State left on this node for the job, whatever its options said. */
static bool job_has_state(const struct hyp_config *cfg, const char *node, uint32_t job_id)
{
	_cleanup_free_ char *res = hyp_job_resources_path(cfg->state_dir, node, job_id);
	_cleanup_free_ char *dir = hyp_job_dir(cfg->state_dir, node, job_id);
	return (res && access(res, F_OK) == 0) || (dir && access(dir, F_OK) == 0);
}

int plugin_job_epilog(spank_t sp)
{
	uint32_t job_id;
	if (spank_get_item(sp, S_JOB_ID, &job_id) != ESPANK_SUCCESS)
		return 0;
	plugin_getopt(sp);

	hyp_error err = {0};
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	if (hyp_config_load(plugin.config_path, &cfg, &err) < 0) {
		slurm_error(PLUGIN_LOG_PREFIX "job %u epilog: %s", job_id, err.msg);
		return plugin.vm_requested ? -1 : 0;
	}
	const char *node = plugin_node_name();
	_cleanup_free_ char *node_dir = hyp_node_dir(cfg.state_dir, node);
	if (node_dir && plugin_record_remove(node_dir, job_id, &err) < 0)
		slurm_error(PLUGIN_LOG_PREFIX "job %u epilog: %s", job_id, err.msg);
	if (!plugin.vm_requested && !job_has_state(&cfg, node, job_id))
		return 0;
	struct hyp_release_ctx log = {.log = log_released, .log_data = "epilog"};
	if (hyp_job_stop(plugin.config_path, node, job_id, &log, &err) < 0) {
		/* Failing the epilog drains the node: a VM may be left. */
		slurm_error(PLUGIN_LOG_PREFIX "job %u epilog: %s", job_id, err.msg);
		return -1;
	}
	return 0;
}

/* At slurmd's start: jobs whose slurmstepd is gone (killed, crashed, the
 * node restarted) release what they held. Never fails slurmd. */
int plugin_slurmd_reconcile(void)
{
	hyp_error err = {0};
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	_cleanup_(hyp_vm_disconnectp) struct hyp_vm_conn *conn = NULL;
	struct hyp_release_ctx log = {.log = log_released, .log_data = "slurmd start"};
	struct hyp_reconcile_opts o = {.node = plugin_node_name(),
	                               .alive = hyp_job_alive_locally,
	                               .log = &log,
	                               .manager = HYP_MANAGER_SLURM,
	                               .listed_only = true};
	unsigned released = 0;
	int r = hyp_config_load(plugin.config_path, &cfg, &err);
	if (r >= 0)
		r = hyp_vm_connect(&cfg, &conn, &err);
	if (r >= 0)
		r = hyp_reconcile_jobs(conn, &cfg, &o, &released, &err);
	if (r < 0)
		slurm_info(PLUGIN_LOG_PREFIX "reconciliation at slurmd start skipped: %s", err.msg);
	else if (released)
		slurm_info(PLUGIN_LOG_PREFIX
		           "released what %u job(s) no longer running left behind",
		           released);
	return 0;
}

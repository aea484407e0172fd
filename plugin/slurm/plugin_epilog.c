/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The job epilog (root, every node of the allocation, however the job
 * ended): destroy the job's VM and everything it held.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_statedir.h"
#include "hyp_vm.h"
#include "plugin.h"

/* State left on this node for the job, whatever its options said. */
static bool job_has_state(const struct hyp_config *cfg, uint32_t job_id)
{
	_cleanup_free_ char *dir = hyp_job_dir(cfg->state_dir, job_id);
	return dir && access(dir, F_OK) == 0;
}

static int destroy(const struct hyp_config *cfg, uint32_t job_id, hyp_error *err)
{
	struct hyp_vm_conn *conn = NULL;
	int r = hyp_vm_connect(cfg, &conn, err);
	if (r >= 0)
		r = hyp_vm_destroy(conn, cfg, job_id, err);
	hyp_vm_disconnect(conn);
	return r;
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
	if (plugin_record_remove(cfg.state_dir, job_id, &err) < 0)
		slurm_error(PLUGIN_LOG_PREFIX "job %u epilog: %s", job_id, err.msg);
	if (!plugin.vm_requested && !job_has_state(&cfg, job_id))
		return 0;
	if (destroy(&cfg, job_id, &err) < 0) {
		/* Failing the epilog drains the node: a VM may be left. */
		slurm_error(PLUGIN_LOG_PREFIX "job %u epilog: %s", job_id, err.msg);
		return -1;
	}
	return 0;
}

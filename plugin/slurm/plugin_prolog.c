/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The job prolog (root, every node of the allocation, before any step of
 * the job runs there): record the job's VM request where slurmstepd can
 * trust it. The options come from the job's SPANK environment, which
 * slurmctld keeps apart from the environment --export hands to the job's
 * commands; the steps read this record instead of their environment.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <slurm/slurm.h>

#include "hyp_cleanup.h"
#include "hyp_statedir.h"
#include "plugin.h"

/* The job's nodes: slurmd's prolog environment where it has them, else
 * slurmctld's answer (an RPC as root). */
static void record_nodes(uint32_t job_id, struct plugin_record *rec)
{
	const char *nodes = getenv("SLURM_JOB_NODELIST");
	job_info_msg_t *info = NULL;
	if (!nodes || !*nodes)
		nodes = getenv("SLURM_NODELIST");
	if ((!nodes || !*nodes) && slurm_load_job(&info, job_id, SHOW_DETAIL) == 0 && info &&
	    info->record_count > 0)
		nodes = info->job_array[0].nodes;
	if (nodes && strlen(nodes) < sizeof(rec->nodes))
		snprintf(rec->nodes, sizeof(rec->nodes), "%s", nodes);
	else if (nodes)
		slurm_error(PLUGIN_LOG_PREFIX "job %" PRIu32 ": its node list is longer than %d "
		                              "bytes: its VMs get no network between them",
		            job_id, PLUGIN_NODES_MAX - 1);
	else
		slurm_error(PLUGIN_LOG_PREFIX "job %" PRIu32 ": its node list is unknown: its "
		                              "VMs get no network between them",
		            job_id);
	if (info)
		slurm_free_job_info_msg(info);
}

static void record_from_options(uid_t uid, struct plugin_record *rec)
{
	*rec = (struct plugin_record){
	    .uid = uid,
	    .vm = plugin.vm_requested,
	    .invalid = plugin.options_invalid,
	};
	snprintf(rec->image, sizeof(rec->image), "%s", plugin.image);
	snprintf(rec->hugepages, sizeof(rec->hugepages), "%s", plugin.hugepages);
	snprintf(rec->shares, sizeof(rec->shares), "%s", plugin.shares);
	snprintf(rec->vfs, sizeof(rec->vfs), "%s", plugin.vfs);
	/* slurmd's own: the prolog's environment is slurmd's GRES variables
	 * over the job's SPANK environment, whose names Slurm prefixes with
	 * SPANK_ (valid_spank_job_env()), so the user cannot set this one. */
	const char *gpus = getenv("SLURM_JOB_GPUS");
	snprintf(rec->gpus, sizeof(rec->gpus), "%s", gpus && !strchr(gpus, '\n') ? gpus : "");
}

int plugin_job_prolog(spank_t sp)
{
	uint32_t job_id;
	uid_t uid;
	if (spank_get_item(sp, S_JOB_ID, &job_id) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS) {
		slurm_error(PLUGIN_LOG_PREFIX "job prolog: Slurm did not provide the job's id");
		return -1;
	}
	plugin_getopt(sp);
	struct plugin_record rec;
	record_from_options(uid, &rec);
	if (rec.vm)
		record_nodes(job_id, &rec);

	hyp_error err = {0};
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	_cleanup_free_ char *dir = NULL;
	int r = hyp_config_load(plugin.config_path, &cfg, &err);
	if (r >= 0)
		r = hyp_node_dir_ensure(cfg.state_dir, plugin_node_name(), &err);
	if (r >= 0 && !(dir = hyp_node_dir(cfg.state_dir, plugin_node_name())))
		r = hyp_fail(&err, ENOMEM, "out of memory");
	if (r >= 0)
		r = plugin_record_write(dir, job_id, &rec, &err);
	if (r < 0) {
		/* Failing the prolog drains the node and requeues the job: a
		 * node fault, and a VM job must not start without its record.
		 * Other jobs run on: their steps find no record and keep to
		 * what they asked for. */
		slurm_error(PLUGIN_LOG_PREFIX "job %" PRIu32 " prolog: %s", job_id, err.msg);
		return rec.vm ? -1 : 0;
	}
	return 0;
}

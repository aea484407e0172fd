/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reconciliation: release what jobs that are gone left on this host (a
 * crashed slurmstepd, a node that rebooted mid-job, an epilog that never
 * ran). Judged locally, never by asking the controller.
 */
#ifndef HYP_RECONCILE_H
#define HYP_RECONCILE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "hyp_config.h"
#include "hyp_error.h"
#include "hyp_resources.h"

struct hyp_vm_conn;

/* Whether a job still runs on the node; false releases it. */
typedef bool (*hyp_job_alive_fn)(void *data, const char *node, uint32_t job_id);

/*
 * A job is alive on this host while one of its slurmstepd processes runs
 * ("slurmstepd: [<job>.<step>]"). With several nodes on one host the
 * process does not say which, so a job alive on any counts for all: a
 * mistake can only keep, never release. PrologFlags=Contain keeps one
 * running for the whole allocation. data: the /proc to read (NULL: /proc).
 */
bool hyp_job_alive_locally(void *data, const char *node, uint32_t job_id);

/*
 * Release every job of `node` (NULL: every node on this host) that is not
 * alive, skipping `skip_job` (0: none) and jobs whose VM started at or
 * after `started_before` (0: no limit), and jobs whose lock another start
 * or stop holds. Each released item goes to log (may be NULL). Continues
 * past failures; returns the first.
 */
struct hyp_reconcile_opts {
	const char *node;
	hyp_job_alive_fn alive;
	void *alive_data;
	uint32_t skip_job;
	time_t started_before;
	const struct hyp_release_ctx *log;
	/* only jobs of this scheduler (HYP_MANAGER_*; a job that recorded
	 * none is Slurm's); NULL: every job */
	const char *manager;
	/* only jobs with a resource list in cfg's state directory: what the
	 * automatic reconciliations judge. A domain without one belongs to
	 * another state directory or tool (a second cluster's slurmd on the
	 * host, a PBS mom, hyperionctl with a config of its own), or is an
	 * orphan only an admin's `hyperionctl reap` may release. */
	bool listed_only;
};
int hyp_reconcile_jobs(struct hyp_vm_conn *conn, const struct hyp_config *cfg,
                       const struct hyp_reconcile_opts *opts, unsigned *ret_released,
                       hyp_error *err);

/* The common case: this node's dead jobs, by hyp_job_alive_locally. */
static inline int hyp_reconcile(struct hyp_vm_conn *conn, const struct hyp_config *cfg,
                                const char *node, hyp_job_alive_fn alive, void *data,
                                uint32_t skip_job, const struct hyp_release_ctx *log,
                                hyp_error *err)
{
	struct hyp_reconcile_opts o = {.node = node,
	                               .alive = alive,
	                               .alive_data = data,
	                               .skip_job = skip_job,
	                               .log = log,
	                               .manager = HYP_MANAGER_SLURM,
	                               .listed_only = true};
	return hyp_reconcile_jobs(conn, cfg, &o, NULL, err);
}

#endif

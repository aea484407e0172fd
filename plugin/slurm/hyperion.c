/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperion.so: Slurm calls these in several contexts; each is sent to the
 * file for its context. Return values follow SPANK's rule: -1 fails, and
 * a positive ESPANK code would be ignored, so none is returned.
 */
#include <slurm/spank.h>
#include <stdio.h>

#include "plugin.h"

SPANK_PLUGIN(hyperion, 1)

struct plugin_state plugin;

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	if (plugin_parse_args(ac, av) < 0)
		return -1;
	switch (spank_context()) {
	case S_CTX_LOCAL:
	case S_CTX_ALLOCATOR:
	case S_CTX_REMOTE:
		return plugin_register_options(sp);
	case S_CTX_SLURMD: /* slurmd starts (spank.h: only init runs there) */
		return plugin_slurmd_reconcile();
	default:
		return 0;
	}
}

int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	switch (spank_context()) {
	case S_CTX_LOCAL:
	case S_CTX_ALLOCATOR:
		return plugin_submit_check(sp);
	case S_CTX_REMOTE:
		/* A step that must fail reports it from task_init. */
		if (plugin_stepd_options(sp) < 0)
			return 0;
		return plugin_stepd_post_opt(sp);
	default:
		return 0;
	}
}

/* Slurm does not show errors of init_post_opt to the user: this does, and
 * fails the task. */
int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
	if (spank_context() != S_CTX_REMOTE)
		return 0;
	if (plugin.setup_failed) {
		fprintf(stderr, PLUGIN_LOG_PREFIX "%s\n", plugin.setup_err.msg);
		return -1;
	}
	return plugin_stepd_task_init(sp);
}

int slurm_spank_job_prolog(spank_t sp, int ac, char **av)
{
	if (plugin_parse_args(ac, av) < 0)
		return -1;
	return plugin_job_prolog(sp);
}

int slurm_spank_job_epilog(spank_t sp, int ac, char **av)
{
	if (plugin_parse_args(ac, av) < 0)
		return -1;
	return plugin_job_epilog(sp);
}

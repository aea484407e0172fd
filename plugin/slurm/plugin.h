/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The SPANK adapter's per-context state and the functions each context
 * file provides. spank_t stays in plugin/: the core sees plain values.
 */
#ifndef PLUGIN_H
#define PLUGIN_H

#include <slurm/spank.h>
#include <stdbool.h>

#include "hyp_config.h"
#include "hyp_error.h"

#define PLUGIN_LOG_PREFIX "hyperion: "
#define PLUGIN_IMAGE_MAX  128

/* One per process: Slurm loads the plugin anew in each context. */
struct plugin_state {
	/* plugstack.conf arguments */
	const char *config_path;   /* config=PATH */
	const char *default_image; /* default_image=NAME, for a bare --vm-image */
	const char *exec_path;     /* exec=PATH of hyperion-exec */
	const char *scontrol_path; /* scontrol=PATH, to drain the node */
	/* options, as given (callbacks may run several times) */
	bool vm_requested;
	char image[PLUGIN_IMAGE_MAX];
	char hugepages[8];
	/* slurmstepd: a setup error remembered for task_init (Slurm does not
	 * report errors from init_post_opt to the user) */
	bool setup_failed;
	hyp_error setup_err;
};

extern struct plugin_state plugin;

/* plugin_options.c */
int plugin_parse_args(int ac, char **av);
int plugin_register_options(spank_t sp);
/* Re-read the options where callbacks do not run (job_epilog). */
void plugin_getopt(spank_t sp);
/* The image the user asked for, after the default; NULL if none. */
const char *plugin_image(void);

/* The Slurm node this process serves: slurmd/slurmstepd's own
 * SLURMD_NODENAME (set from its configuration, not the job's environment),
 * else this host's short name. */
const char *plugin_node_name(void);

/* plugin_submit.c: sbatch/srun/salloc, as the user */
int plugin_submit_check(spank_t sp);

/* plugin_stepd.c: slurmstepd */
int plugin_stepd_post_opt(spank_t sp);
int plugin_stepd_task_init(spank_t sp);

/* plugin_drain.c: drain `node` (NULL: this host's short name) with reason
 * "hyperion: REASON" on a node fault; failures are logged. */
void plugin_drain_node(const char *node, const char *reason);

/* plugin_epilog.c: job epilog and slurmd start, as root */
int plugin_job_epilog(spank_t sp);
int plugin_slurmd_reconcile(void);



#endif

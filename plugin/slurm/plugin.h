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
#include "plugin_record.h"

#define PLUGIN_LOG_PREFIX "hyperion: "

/* One per process: Slurm loads the plugin anew in each context. */
struct plugin_state {
	/* plugstack.conf arguments */
	const char *config_path;   /* config=PATH */
	const char *default_image; /* default_image=NAME, for a bare --vm-image */
	const char *exec_path;     /* exec=PATH of hyperion-exec */
	const char *scontrol_path; /* scontrol=PATH, to drain the node */
	/* options, as given (callbacks may run several times) */
	bool vm_requested;
	bool options_invalid; /* a value was refused (the prolog records it) */
	char image[PLUGIN_IMAGE_MAX];
	char hugepages[PLUGIN_HUGEPAGES_MAX];
	bool verbose; /* --vm-verbose */
	/* slurmstepd: how long the VM took to boot (for this step, or as
	 * recorded when an earlier step or the extern step booted it); 0:
	 * unknown */
	unsigned boot_ms;
	bool vm_reused;                 /* the step found its VM running */
	char shares[PLUGIN_SHARES_MAX]; /* --vm-shares as given, "" if not */
	char nodes[PLUGIN_NODES_MAX];   /* slurmstepd: the job's nodes, as recorded */
	char vfs[PLUGIN_VFS_MAX];       /* --vm-vf as given, "" if not */
	char gpus[PLUGIN_GPUS_MAX];     /* the job's SLURM_JOB_GPUS, from its record */
	/* slurmstepd: a setup error remembered for task_init (Slurm does not
	 * report errors from init_post_opt to the user) */
	bool setup_failed;
	hyp_error setup_err;
};

extern struct plugin_state plugin;

/* plugin_options.c */
int plugin_parse_args(int ac, char **av);
int plugin_register_options(spank_t sp);
/* Re-read the options where callbacks do not run (job_prolog, job_epilog):
 * there they come from the job's SPANK environment. */
void plugin_getopt(spank_t sp);
/* The image the user asked for, after the default; NULL if none. */
const char *plugin_image(void);
/* --vm-shares for hyp_job_request.shares: NULL (every allowed share) if
 * not given. */
const char *plugin_shares(void);
/* --vm-vf for hyp_job_request.vfs: NULL (the site's vf_default) if not given. */
const char *plugin_vfs(void);
/*
 * slurmstepd, as root, before plugin_stepd_post_opt: replace the step's own
 * options by the job's, as its prolog recorded them on this node, so that
 * neither --export nor the user's environment can take a VM job out of its
 * VM. -1 (message in plugin.setup_err, plugin.setup_failed set) when the
 * step must fail: the job asked for a VM that cannot be recovered.
 */
int plugin_stepd_options(spank_t sp);

/* The Slurm node this process serves: slurmd/slurmstepd's own
 * SLURMD_NODENAME (set from its configuration, not the job's environment),
 * else this host's short name. */
const char *plugin_node_name(void);

/* plugin_submit.c: sbatch/srun/salloc, as the user */
int plugin_submit_check(spank_t sp);

/* plugin_stepd.c: slurmstepd */
int plugin_stepd_post_opt(spank_t sp);
int plugin_stepd_task_init(spank_t sp);

/* plugin_nodeaddr.c: "A,B,..." the NodeAddr of each node of a host list, in
 * its order (malloc'd); NULL when one is unknown or not an IPv4 address. */
char *plugin_node_addrs(const char *nodes);

/* plugin_drain.c: drain `node` (NULL: this host's short name) with reason
 * "hyperion: REASON" on a node fault; failures are logged. */
void plugin_drain_node(const char *node, const char *reason);

/* plugin_prolog.c: job prolog, as root: records the job's VM request */
int plugin_job_prolog(spank_t sp);

/* plugin_epilog.c: job epilog and slurmd start, as root */
int plugin_job_epilog(spank_t sp);
int plugin_slurmd_reconcile(void);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one entry point for a job's VM on a node. Every adapter (the SPANK
 * plugin, hyperionctl, a PBS hook) maps its own arguments onto a request of
 * plain values and calls these; none assembles config, catalog, topology,
 * spec and libvirt connection itself.
 */
#ifndef HYP_JOB_H
#define HYP_JOB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hyp_config.h"
#include "hyp_error.h"
#include "hyp_resources.h"
#include "hyp_spec.h"

struct hyp_job_request {
	const char *config_path; /* NULL: the default hyperion.conf */
	uint32_t job_id;
	const char *node;    /* NULL: this host's short name */
	const char *manager; /* the scheduler whose job it is: "slurm" (NULL), "pbs" */
	uid_t uid;
	gid_t gid;
	const char *user;
	/* The allocation on this node: Slurm's abstract core ids with the
	 * threads of each core the job holds (0: all), or OS cpus. */
	const char *slurm_cores;
	unsigned threads_per_core;
	const char *cpus;
	unsigned long long memory_mb;
	const char *image;     /* catalog name */
	const char *hugepages; /* user's choice, NULL for the site default */
	const char *shares;    /* "PATH,PATH" within hyperion.conf's shares, "none", or
	                          NULL: every allowed share */
	const char *topology;  /* another machine's hwloc XML (dry runs), NULL: this one */
	const char *nodes;     /* the job's nodes (host list expression), NULL: this one */
	const char *node_addrs; /* their fabric addresses "A,B,..." in order, NULL: by name */
	/* Passed-through devices (hyp_devices.h, doc/devices.md) */
	const char *gpus;      /* PCI addresses "0000:3b:00.0,..." (hyperionctl), or NULL */
	const char *gres_gpus; /* SLURM_JOB_GPUS as slurmd gave the prolog, or NULL */
	const char *vfs;       /* "POOL[:N],...", "none"; NULL: the site's vf_default */
	const char *sysfs;     /* another machine's sysfs tree (dry runs), NULL: /sys */
	/* HYP_JOB_RECONCILE: where each released item of dead jobs is logged */
	const struct hyp_release_ctx *reconcile_log;
};

/* What a request resolved to. */
struct hyp_job {
	struct hyp_config cfg;
	struct hyp_vm_spec spec;
	bool reused;      /* hyp_job_start found the VM already running */
	unsigned boot_ms; /* domain start to the guest's agent up (HYP_JOB_WAIT_READY, or as
	                     recorded when a reused VM booted; 0: unknown) */
};
void hyp_job_free(struct hyp_job *job);

/* Resolve a request into the VM it describes; touches nothing (dry runs). */
int hyp_job_prepare(const struct hyp_job_request *req, struct hyp_job *ret_job, hyp_error *err);

enum {
	HYP_JOB_WAIT_READY = 1 << 0, /* wait for the guest's control port */
	HYP_JOB_RECONCILE = 1 << 1,  /* first release what dead jobs left */
};

/*
 * Start the job's VM on its node, or find it already running for this
 * job and user. With HYP_JOB_WAIT_READY, a guest that never comes up is
 * torn down and the error carries its console's last lines.
 */
int hyp_job_start(const struct hyp_job_request *req, unsigned flags, struct hyp_job *ret_job,
                  hyp_error *err);

/* Release everything the job holds on the node; absent is success. */
int hyp_job_stop(const char *config_path, const char *node, uint32_t job_id,
                 const struct hyp_release_ctx *log, hyp_error *err);

/* The argv that runs a task's command in the job's VM through hyperion-exec
 * (NULL-terminated, every string malloc'd: free with hyp_strv_free). This is
 * the one place that knows hyperion-exec's command line. */
struct hyp_exec_args {
	const char *exec_path; /* hyperion-exec */
	const char *config_path;
	uint32_t job_id;
	const char *node;
	bool script; /* argv[0] is a batch script on the host: send it */
	char *const *argv;
	int argc;
};
int hyp_job_exec_argv(const struct hyp_exec_args *req, char ***ret_argv, hyp_error *err);

/*
 * A Slurm task becomes hyperion-exec through Slurm's own final execve, after
 * TaskProlog, --task-prolog, TMPDIR and the user's limits: the plugin puts
 * exec_path in place of the task's argv[0] (the array cannot grow) and the
 * rest of the command line in the task's environment, as these variables.
 */
#define HYP_TASK_ENV_PREFIX "HYPERION_TASK_"
/* NAME=VALUE entries for req (NULL-terminated; free with hyp_strv_free). */
int hyp_job_task_env(const struct hyp_exec_args *req, char ***ret_env, hyp_error *err);
/*
 * In hyperion-exec: 1 when it was started that way, with *ret_argv the
 * command line it stands for (argv[1..] are the task's own arguments), and
 * the HYPERION_TASK_* variables removed from the environment; 0 when not.
 */
int hyp_job_task_argv(int argc, char **argv, char ***ret_argv, hyp_error *err);

#endif

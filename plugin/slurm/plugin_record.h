/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A job's VM request on one node, as the job prolog (root) read it from the
 * job's SPANK environment: <state_dir>/job.<id>.options, root 0600. The
 * steps of the job (slurmstepd, root) trust this record, never the user's
 * environment, which --export and the user control. SPANK-free.
 */
#ifndef PLUGIN_RECORD_H
#define PLUGIN_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hyp_error.h"

#define PLUGIN_IMAGE_MAX     1024 /* a name, or the path of a user's image */
#define PLUGIN_HUGEPAGES_MAX 8
#define PLUGIN_SHARES_MAX    2048
#define PLUGIN_NODES_MAX     1024
#define PLUGIN_GPUS_MAX      512
#define PLUGIN_VFS_MAX       256

struct plugin_record {
	uid_t uid;                    /* the job's user: a record left by another job is refused */
	bool vm;                      /* the job asked for a VM (--vm-image) */
	bool invalid;                 /* ... with an option value that was refused */
	char image[PLUGIN_IMAGE_MAX]; /* "": the site's default image */
	char hugepages[PLUGIN_HUGEPAGES_MAX]; /* "": the configured default */
	char shares[PLUGIN_SHARES_MAX];       /* --vm-shares as given; "": every allowed share */
	char nodes[PLUGIN_NODES_MAX];         /* the job's SLURM_JOB_NODELIST; "": unknown */
	char gpus[PLUGIN_GPUS_MAX]; /* SLURM_JOB_GPUS of slurmd's prolog environment; "": none */
	char vfs[PLUGIN_VFS_MAX];   /* --vm-vf as given; "": the site's vf_default */
};

/* Write (replace) the record of job_id, creating state_dir (root 0755) if
 * needed. Values must not hold a newline. */
int plugin_record_write(const char *state_dir, uint32_t job_id, const struct plugin_record *rec,
                        hyp_error *err);

/* Read the record of job_id: -ENOENT if there is none; any other failure
 * (not ours, unreadable, malformed) is an error too. */
int plugin_record_read(const char *state_dir, uint32_t job_id, struct plugin_record *ret_rec,
                       hyp_error *err);

/* Remove the record of job_id; absent is success. */
int plugin_record_remove(const char *state_dir, uint32_t job_id, hyp_error *err);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperionctl: one command_<name>() per subcommand, dispatched by ctl_main.c. */
#ifndef CTL_H
#define CTL_H

#include <stdbool.h>
#include <stdint.h>

#include "hyp_config.h"
#include "hyp_error.h"
#include "hyp_job.h"

struct ctl {
	const char *config_path; /* --config, NULL for the default */
	struct hyp_config cfg;
};

/* The allocation flags shared by start and xml. */
struct ctl_alloc_args {
	uint32_t job_id;
	bool have_job;
	const char *user;
	const char *cpus;
	unsigned long long memory_mb;
	const char *image;
	const char *hugepages;
	const char *shares;    /* --shares PATH,PATH | none (NULL: every allowed share) */
	const char *topology;  /* another machine's hwloc XML */
	const char *node;      /* NULL: this host's short name */
	const char *job_nodes; /* --job-nodes: the job's nodes (host list), NULL: node alone */
	const char *gpus;      /* --gpus PCI,PCI */
	const char *vfs;       /* --vfs POOL[:N],... | none */
	const char *sysfs;     /* --sysfs DIR: another machine's sysfs */
	bool no_wait;          /* start only */
};

int command_start(struct ctl *ctl, int argc, char **argv, hyp_error *err);
int command_exec(struct ctl *ctl, int argc, char **argv, hyp_error *err);
int command_stop(struct ctl *ctl, int argc, char **argv, hyp_error *err);
int command_list(struct ctl *ctl, int argc, char **argv, hyp_error *err);
int command_reap(struct ctl *ctl, int argc, char **argv, hyp_error *err);
int command_xml(struct ctl *ctl, int argc, char **argv, hyp_error *err);
int command_check(struct ctl *ctl, int argc, char **argv, hyp_error *err);

/* Shared helpers (ctl_common.c). */
int ctl_parse_job_id(const char *s, uint32_t *ret_id, hyp_error *err);
/* start and xml: parse the allocation flags (for_xml: --no-wait refused)
 * into the core's job request (strings borrowed from argv). */
int ctl_request_from_args(struct ctl *ctl, int argc, char **argv, bool for_xml,
                          struct ctl_alloc_args *ret_args, struct hyp_job_request *ret_req,
                          hyp_error *err);
/* --node NAME or --job ID of stop and exec; NULL node: this host's. */
int ctl_parse_node(const char *s, const char **ret_node, hyp_error *err);

#endif

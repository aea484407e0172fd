/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperionctl: one command_<name>() per subcommand, dispatched by ctl_main.c. */
#ifndef CTL_H
#define CTL_H

#include <stdbool.h>
#include <stdint.h>

#include "hyp_config.h"
#include "hyp_error.h"
#include "hyp_spec.h"

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
	const char *topology; /* another machine's hwloc XML */
	bool no_wait;         /* start only */
};

int command_start(struct ctl *ctl, int argc, char **argv, hyp_error *err);
int command_exec(struct ctl *ctl, int argc, char **argv, hyp_error *err);
int command_stop(struct ctl *ctl, int argc, char **argv, hyp_error *err);
int command_list(struct ctl *ctl, int argc, char **argv, hyp_error *err);
int command_reap(struct ctl *ctl, int argc, char **argv, hyp_error *err);
int command_xml(struct ctl *ctl, int argc, char **argv, hyp_error *err);

/* Shared helpers (ctl_common.c). */
int ctl_parse_job_id(const char *s, uint32_t *ret_id, hyp_error *err);
/* start and xml: parse the allocation flags (for_xml: --topology allowed,
 * --no-wait not) and build the VM spec they describe. */
int ctl_spec_from_args(struct ctl *ctl, int argc, char **argv, bool for_xml,
                       struct ctl_alloc_args *ret_args, struct hyp_vm_spec *ret_spec,
                       hyp_error *err);

#endif

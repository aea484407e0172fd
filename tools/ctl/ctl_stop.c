/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperionctl stop: release everything a job holds on a node. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "ctl.h"
#include "hyp_job.h"

#define STOP_USAGE "usage: hyperionctl stop --job ID [--node NAME]"

static void print_released(void *data, const char *kind, const char *value)
{
	printf("released %s %s\n", kind, value);
}

int command_stop(struct ctl *ctl, int argc, char **argv, hyp_error *err)
{
	static const struct option opts[] = {
	    {"job", required_argument, NULL, 'j'}, {"node", required_argument, NULL, 'N'}, {0}};
	uint32_t job_id = 0;
	const char *node = NULL;
	int c, r = 0;
	optind = 0;
	opterr = 0;
	while (r >= 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		r = c == 'j'   ? ctl_parse_job_id(optarg, &job_id, err)
		    : c == 'N' ? ctl_parse_node(optarg, &node, err)
		               : hyp_fail(err, EINVAL, STOP_USAGE);
	if (r < 0)
		return r;
	if (!job_id || optind < argc)
		return hyp_fail(err, EINVAL, STOP_USAGE);
	struct hyp_release_ctx log = {.log = print_released};
	return hyp_job_stop(ctl->config_path, node, job_id, &log, err);
}

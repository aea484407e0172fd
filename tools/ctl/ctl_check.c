/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperionctl check: one line per readiness check, exit 0 when the node can
 * run VM jobs, 1 when it cannot (for HealthCheckProgram, see
 * etc/hyperion-healthcheck); --features prints the node features to
 * advertise instead.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "ctl.h"
#include "hyp_check.h"

static void print_check(void *data, enum hyp_check_status st, const char *name, const char *detail)
{
	if (*(bool *)data) /* --features: only the result */
		return;
	printf("%-4s %s: %s\n", hyp_check_status_name(st), name, detail);
}

int command_check(struct ctl *ctl, int argc, char **argv, hyp_error *err)
{
	static const struct option opts[] = {
	    {"features", no_argument, NULL, 'f'}, {"root", required_argument, NULL, 'r'}, {0}};
	bool features = false;
	const char *root = "/";
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'f')
			features = true;
		else if (c == 'r')
			root = optarg;
		else
			return hyp_fail(err, EINVAL, "usage: hyperionctl check [--features]");
	}
	if (optind < argc)
		return hyp_fail(err, EINVAL, "usage: hyperionctl check [--features]");
	struct hyp_capabilities caps;
	int failures = hyp_check_node(&ctl->cfg, root, print_check, &features, &caps);
	if (features) {
		char list[128];
		hyp_check_features(&caps, failures, list, sizeof(list));
		printf("%s\n", list);
		return 0;
	}
	if (failures)
		return hyp_fail(err, EIO, "%d check(s) failed: this node cannot run VM jobs",
		                failures);
	return 0;
}

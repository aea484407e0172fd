/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperion-pbs: the command OpenPBS's hook and Torque's scripts call. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pbs.h"

static int dispatch(const struct pbs_args *a, hyp_error *err)
{
	const char *c = a->command;
	if (strcmp(c, "check-image") == 0)
		return pbs_check_image(a, err);
	if (strcmp(c, "start") == 0)
		return pbs_start(a, err);
	if (strcmp(c, "check") == 0)
		return pbs_check(a, err);
	if (strcmp(c, "stop") == 0)
		return pbs_stop(a, err);
	if (strcmp(c, "job-id") == 0) {
		uint32_t id;
		int r = pbs_job_id(a->argv[0], &id, err);
		if (r >= 0)
			printf("%" PRIu32 "\n", id);
		return r;
	}
	return pbs_exec(a, strcmp(c, "exec-argv") == 0, err);
}

int main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(PBS_USAGE, stdout);
		return 0;
	}
	hyp_error err = {0};
	struct pbs_args a;
	int r = pbs_args_parse(argc, argv, &a, &err);
	if (r >= 0)
		r = dispatch(&a, &err);
	if (r == PBS_NOT_A_VM_JOB)
		return PBS_NOT_A_VM_JOB;
	if (r < 0) {
		fprintf(stderr, "hyperion-pbs: %s\n", err.msg);
		return 1;
	}
	return 0;
}

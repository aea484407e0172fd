/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperionctl start: boot a job's VM and wait for its agent. */
#include <stdio.h>

#include "ctl.h"
#include "hyp_cleanup.h"

int command_start(struct ctl *ctl, int argc, char **argv, hyp_error *err)
{
	struct ctl_alloc_args args;
	struct hyp_job_request req;
	_cleanup_(hyp_job_free) struct hyp_job job = {0};
	int r = ctl_request_from_args(ctl, argc, argv, false, &args, &req, err);
	if (r >= 0)
		r = hyp_job_start(&req, args.no_wait ? 0 : HYP_JOB_WAIT_READY, &job, err);
	if (r < 0)
		return r;
	const struct hyp_vm_spec *spec = &job.spec;
	char state[48];
	if (job.reused || args.no_wait)
		snprintf(state, sizeof(state), "%s", job.reused ? "already running" : "started");
	else
		snprintf(state, sizeof(state), "ready in %.2f s", job.boot_ms / 1000.0);
	printf("job %u: VM %s %s (%zu vCPUs, %llu MiB, image %s)\n", spec->job_id, spec->name,
	       state, spec->placement.nvcpus, spec->memory_mib, spec->image.name);
	return 0;
}

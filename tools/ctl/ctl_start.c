/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperionctl start: boot a job's VM and wait for its agent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "hyp_cleanup.h"
#include "hyp_console.h"
#include "hyp_vm.h"

#define CONSOLE_LINES 20

/* The agent never came up: keep the console's last lines for the error,
 * then remove everything the job held. */
static int fail_boot(struct ctl *ctl, struct hyp_vm_conn *conn, const struct hyp_vm_spec *spec,
                     hyp_error *err)
{
	_cleanup_free_ char *tail = NULL;
	hyp_error ignored = {0};
	hyp_console_tail(spec->console_log, CONSOLE_LINES, &tail, &ignored);
	hyp_vm_destroy(conn, &ctl->cfg, spec->job_id, &ignored);
	if (tail && *tail)
		fprintf(stderr, "hyperionctl start: last console lines of job %u:\n%s\n",
		        spec->job_id, tail);
	return -err->code;
}

int command_start(struct ctl *ctl, int argc, char **argv, hyp_error *err)
{
	struct ctl_alloc_args args;
	_cleanup_(hyp_spec_free) struct hyp_vm_spec spec = {0};
	int r = ctl_spec_from_args(ctl, argc, argv, false, &args, &spec, err);
	if (r < 0)
		return r;
	_cleanup_(hyp_vm_disconnectp) struct hyp_vm_conn *conn = NULL;
	r = hyp_vm_connect(&ctl->cfg, &conn, err);
	if (r < 0)
		return r;
	r = hyp_vm_start(conn, &ctl->cfg, &spec, err);
	if (r < 0)
		return r;
	if (!args.no_wait) {
		r = hyp_vm_wait_ready(conn, spec.job_id, ctl->cfg.boot_timeout_s, err);
		if (r < 0)
			return fail_boot(ctl, conn, &spec, err);
	}
	printf("job %u: VM %s %s (%zu vCPUs, %llu MiB, image %s)\n", spec.job_id, spec.name,
	       args.no_wait ? "started" : "ready", spec.placement.nvcpus, spec.memory_mib,
	       spec.image.name);
	return 0;
}

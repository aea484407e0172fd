/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperionctl xml: the domain XML an allocation would get; starts nothing. */
#include <stdio.h>

#include "ctl.h"
#include "hyp_cleanup.h"
#include "hyp_domain_xml.h"

int command_xml(struct ctl *ctl, int argc, char **argv, hyp_error *err)
{
	struct ctl_alloc_args args;
	struct hyp_job_request req;
	_cleanup_(hyp_job_free) struct hyp_job job = {0};
	_cleanup_free_ char *xml = NULL;
	int r = ctl_request_from_args(ctl, argc, argv, true, &args, &req, err);
	if (r >= 0)
		r = hyp_job_prepare(&req, &job, err);
	if (r >= 0)
		r = hyp_domain_xml(&job.spec, &xml, err);
	if (r < 0)
		return r;
	fputs(xml, stdout);
	return 0;
}

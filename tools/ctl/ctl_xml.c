/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperionctl xml: the domain XML an allocation would get; starts nothing. */
#include <stdio.h>

#include "ctl.h"
#include "hyp_cleanup.h"
#include "hyp_domain_xml.h"

int command_xml(struct ctl *ctl, int argc, char **argv, hyp_error *err)
{
	struct ctl_alloc_args args;
	_cleanup_(hyp_spec_free) struct hyp_vm_spec spec = {0};
	int r = ctl_spec_from_args(ctl, argc, argv, true, &args, &spec, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *xml = NULL;
	r = hyp_domain_xml(&spec, &xml, err);
	if (r < 0)
		return r;
	fputs(xml, stdout);
	return 0;
}

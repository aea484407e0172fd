/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperionctl xml: the domain XML an allocation would get; starts nothing. */
#include <stdio.h>

#include "ctl.h"
#include "hyp_cleanup.h"
#include "hyp_domain_xml.h"

int command_xml(struct ctl *ctl, int argc, char **argv, hyp_error *err)
{
	struct ctl_alloc_args args;
	int r = ctl_parse_alloc(argc, argv, true, &args, err);
	if (r < 0)
		return r;
	_cleanup_(hyp_spec_free) struct hyp_vm_spec spec = {0};
	r = ctl_build_spec(ctl, &args, &spec, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *xml = NULL;
	r = hyp_domain_xml(&spec, &xml, err);
	if (r < 0)
		return r;
	fputs(xml, stdout);
	return 0;
}

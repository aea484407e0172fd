/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest memory: its size, and its backing: shared memfd (virtio-fs needs the
 * guest's memory shareable), optionally on hugepages of the guest cells'
 * host nodes. memfd needs no hugetlbfs directory, so libvirt creates no
 * path that QEMU (running as the job user) would have to reach.
 */
#include "hyp_domain_xml_parts.h"

int hyp_dxml_memory(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	(void)err;
	const struct hyp_placement *pl = &spec->placement;
	for (int i = 0; i < 2; i++) {
		hyp_xw_open(x, i ? "currentMemory" : "memory", "unit", "KiB", NULL);
		hyp_xw_textf(x, "%llu", spec->memory_mib * 1024);
		hyp_xw_end(x);
	}

	hyp_xw_start(x, "memoryBacking");
	if (spec->hugepage_kib) {
		hyp_xw_start(x, "hugepages");
		hyp_xw_start(x, "page");
		hyp_xw_attrf(x, "size", "%lu", spec->hugepage_kib);
		hyp_xw_attr(x, "unit", "KiB");
		if (pl->ncells == 1)
			hyp_xw_attr(x, "nodeset", "0");
		else if (pl->ncells > 1)
			hyp_xw_attrf(x, "nodeset", "0-%zu", pl->ncells - 1);
		hyp_xw_end(x);
		hyp_xw_end(x);
	}
	hyp_xw_empty(x, "source", "type", "memfd", NULL);
	hyp_xw_empty(x, "access", "mode", "shared", NULL);
	hyp_xw_end(x);
	return 0;
}

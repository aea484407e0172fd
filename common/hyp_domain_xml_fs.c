/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shares: one virtio-fs device per share, served by the virtiofsd that the
 * core started as the job user (hyp_virtiofs.c) on the socket named here;
 * libvirt only connects QEMU to it (libvirt's own virtiofsd would run as
 * root). The guest mounts it by tag (agent_bootcfg.c). virtio-fs needs
 * shared guest memory: hyp_domain_xml_memory.c backs it with memfd.
 */
#include "hyp_domain_xml_parts.h"

int hyp_dxml_filesystems(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	(void)err;
	for (size_t i = 0; i < spec->nshares; i++) {
		const struct hyp_share *s = &spec->shares[i];
		hyp_xw_open(x, "filesystem", "type", "mount", NULL);
		hyp_xw_empty(x, "driver", "type", "virtiofs", "queue", "1024", NULL);
		hyp_xw_empty(x, "source", "socket", s->socket, NULL);
		hyp_xw_empty(x, "target", "dir", s->tag, NULL);
		hyp_xw_end(x);
	}
	return 0;
}

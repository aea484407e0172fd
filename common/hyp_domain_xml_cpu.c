/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vCPUs and where they run: every vCPU pinned to its own host cpu, the
 * emulator and I/O thread on the allocation; guest memory strictly on the
 * allocation's host nodes, a guest cell per host node; the guest's CPU
 * model and its sockets/cores/threads mirroring the allocation.
 */
#include <string.h>

#include "hyp_domain_xml_parts.h"

/* Every vCPU on its own host cpu; emulator and I/O thread on the
 * housekeeping cpus or the allocation, never floating over the node. */
int hyp_dxml_cputune(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	(void)err;
	const struct hyp_placement *pl = &spec->placement;
	hyp_xw_open(x, "vcpu", "placement", "static", NULL);
	hyp_xw_textf(x, "%zu", pl->nvcpus);
	hyp_xw_end(x);
	if (spec->overlay)
		hyp_xw_elem(x, "iothreads", "1");

	hyp_xw_start(x, "cputune");
	for (size_t i = 0; i < pl->nvcpus; i++) {
		hyp_xw_start(x, "vcpupin");
		hyp_xw_attrf(x, "vcpu", "%zu", i);
		hyp_xw_attrf(x, "cpuset", "%u", pl->vcpus[i].host_cpu);
		hyp_xw_end(x);
	}
	hyp_xw_empty(x, "emulatorpin", "cpuset", pl->emulator_cpus, NULL);
	if (spec->overlay)
		hyp_xw_empty(x, "iothreadpin", "iothread", "1", "cpuset", pl->emulator_cpus, NULL);
	hyp_xw_end(x);
	return 0;
}

/* Memory strictly on the host nodes of the allocation, each guest cell on
 * its own host node (when the configuration binds them). */
int hyp_dxml_numatune(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	(void)err;
	const struct hyp_placement *pl = &spec->placement;
	if (!spec->numa_bind || !pl->host_nodes)
		return 0;
	hyp_xw_start(x, "numatune");
	hyp_xw_empty(x, "memory", "mode", "strict", "nodeset", pl->host_nodes, NULL);
	for (size_t c = 0; c < pl->ncells; c++) {
		hyp_xw_start(x, "memnode");
		hyp_xw_attrf(x, "cellid", "%zu", c);
		hyp_xw_attr(x, "mode", "strict");
		hyp_xw_attrf(x, "nodeset", "%u", pl->cells[c].host_node);
		hyp_xw_end(x);
	}
	hyp_xw_end(x);
	return 0;
}

/* The CPU model under KVM: host-passthrough (all host features, needed to
 * come near bare metal), host-model or a named model. Under TCG a named
 * model as configured; otherwise QEMU's "max" CPU (libvirt's mode
 * 'maximum'): every feature TCG emulates, x86-64-v2 and more, where QEMU's
 * default qemu64 lacks what RHEL 9-family kernels and userlands need. */
static void write_cpu_mode(struct hyp_xw *x, const struct hyp_vm_spec *spec)
{
	const char *model = spec->cpu_model;
	bool host = !strcmp(model, "host-passthrough") || !strcmp(model, "host-model");
	if (spec->domain_type != HYP_DOMAIN_KVM && host) {
		hyp_xw_attr(x, "mode", "maximum");
		hyp_xw_attr(x, "check", "none");
		return;
	}
	if (host) {
		hyp_xw_attr(x, "mode", model);
		hyp_xw_attr(x, "check", "none");
		return;
	}
	hyp_xw_attr(x, "mode", "custom");
	hyp_xw_attr(x, "match", "exact");
	hyp_xw_attr(x, "check", "none");
	hyp_xw_open(x, "model", "fallback", "forbid", NULL);
	hyp_xw_text(x, model);
	hyp_xw_end(x);
}

static void write_cells(struct hyp_xw *x, const struct hyp_placement *pl)
{
	if (pl->ncells == 0)
		return;
	hyp_xw_start(x, "numa");
	for (size_t c = 0; c < pl->ncells; c++) {
		hyp_xw_start(x, "cell");
		hyp_xw_attrf(x, "id", "%zu", c);
		hyp_xw_attr(x, "cpus", pl->cells[c].vcpus);
		hyp_xw_attrf(x, "memory", "%llu", pl->cells[c].memory_kib);
		hyp_xw_attr(x, "unit", "KiB");
		hyp_xw_end(x);
	}
	hyp_xw_end(x);
}

/* The guest's shape and cells mirror the allocation; a shape that does not
 * multiply out to the vCPUs becomes one socket per vCPU. */
int hyp_dxml_cpu(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	(void)err;
	const struct hyp_placement *pl = &spec->placement;
	bool shaped = pl->sockets && pl->cores && pl->threads &&
	              (size_t)pl->sockets * pl->cores * pl->threads == pl->nvcpus;
	hyp_xw_start(x, "cpu");
	write_cpu_mode(x, spec);
	hyp_xw_start(x, "topology");
	hyp_xw_attrf(x, "sockets", "%u", shaped ? pl->sockets : (unsigned)pl->nvcpus);
	hyp_xw_attrf(x, "cores", "%u", shaped ? pl->cores : 1);
	hyp_xw_attrf(x, "threads", "%u", shaped ? pl->threads : 1);
	hyp_xw_end(x);
	write_cells(x, pl);
	hyp_xw_end(x);
	return 0;
}

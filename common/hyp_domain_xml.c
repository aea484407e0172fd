/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The libvirt domain XML for a spec: checks what goes into it, then writes
 * the domain part by part (hyp_domain_xml_parts.h: a function and a file per
 * part) with the hyp_xw helpers over libxml2's xmlTextWriter. Here: the
 * domain's identity (name, Hyperion's metadata), its lifecycle (destroyed on
 * poweroff, reboot or crash) and who QEMU runs as.
 */
#include "hyp_domain_xml.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/xmlstring.h>

#include "hyp_cleanup.h"
#include "hyp_domain_xml_parts.h"

#define N_PARTS(a) (sizeof(a) / sizeof((a)[0]))

/* Who the domain belongs to, read back by `hyperionctl list` and reap. */
static int write_metadata(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	(void)err;
	hyp_xw_start(x, "metadata");
	hyp_xw_start_ns(x, "hyperion", "job", HYP_XML_NS);
	hyp_xw_attrf(x, "id", "%u", spec->job_id);
	hyp_xw_attrf(x, "uid", "%u", (unsigned)spec->uid);
	hyp_xw_attrf(x, "gid", "%u", (unsigned)spec->gid);
	hyp_xw_attr(x, "user", spec->user);
	if (spec->node && *spec->node)
		hyp_xw_attr(x, "node", spec->node);
	hyp_xw_attrf(x, "started", "%lld", (long long)time(NULL));
	hyp_xw_end(x);
	hyp_xw_end(x);
	return 0;
}

/* A guest that powers off, reboots or crashes is gone: the job's VM is
 * never restarted behind its back. */
static int write_lifecycle(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	(void)spec;
	(void)err;
	hyp_xw_empty(x, "clock", "offset", "utc", NULL);
	hyp_xw_elem(x, "on_poweroff", "destroy");
	hyp_xw_elem(x, "on_reboot", "destroy");
	hyp_xw_elem(x, "on_crash", "destroy");
	return 0;
}

/* QEMU runs as the job's user, not as the libvirt-qemu user all domains
 * share: one job's QEMU cannot reach another's overlay, sockets or memory.
 * relabel='no': libvirt chowns none of the domain's files (the catalog's
 * base images, kernels and initrds keep their owner); what QEMU opens itself
 * must be the job user's or readable by all. libvirt still gives its own
 * per-domain directories (under /var/lib/libvirt/qemu) to that user. */
static int write_seclabel(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	(void)err;
	hyp_xw_open(x, "seclabel", "type", "static", "model", "dac", "relabel", "no", NULL);
	hyp_xw_start(x, "label");
	hyp_xw_textf(x, "+%u:+%u", (unsigned)spec->uid, (unsigned)spec->gid);
	hyp_xw_end(x);
	hyp_xw_end(x);
	return 0;
}

/* The parts inside <devices>, in the order they are written. */
// clang-format off
static const hyp_dxml_part device_parts[] = {
	hyp_dxml_disks,
	hyp_dxml_filesystems,
	hyp_dxml_interfaces,
	hyp_dxml_hostdevs,
	hyp_dxml_serial_controllers,
	hyp_dxml_channels,
	hyp_dxml_console,
	hyp_dxml_rng,
};
// clang-format on

static int write_parts(struct hyp_xw *x, const struct hyp_vm_spec *spec, const hyp_dxml_part *parts,
                       size_t n, hyp_error *err)
{
	for (size_t i = 0; i < n; i++) {
		int r = parts[i](x, spec, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int write_devices(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	hyp_xw_start(x, "devices");
	int r = write_parts(x, spec, device_parts, N_PARTS(device_parts), err);
	hyp_xw_end(x);
	return r;
}

/* The parts of <domain>, in the order they are written. */
// clang-format off
static const hyp_dxml_part domain_parts[] = {
	write_metadata,
	hyp_dxml_memory,
	hyp_dxml_cputune,
	hyp_dxml_numatune,
	hyp_dxml_boot,
	hyp_dxml_cpu,
	write_lifecycle,
	write_devices,
	write_seclabel,
};
// clang-format on

static int write_domain(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	hyp_xw_start(x, "domain");
	hyp_xw_attr(x, "type", hyp_domain_type_name(spec->domain_type));
	hyp_xw_elem(x, "name", spec->name);
	int r = write_parts(x, spec, domain_parts, N_PARTS(domain_parts), err);
	hyp_xw_end(x);
	return r;
}

/* XML 1.0 cannot carry control characters, and libvirt wants UTF-8. */
static int check_text(const char *what, const char *s, hyp_error *err)
{
	if (!s)
		return hyp_fail(err, EINVAL, "domain XML: no %s", what);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return hyp_fail(err, EINVAL, "domain XML: %s holds a control character",
			                what);
	if (!xmlCheckUTF8((const unsigned char *)s))
		return hyp_fail(err, EINVAL, "domain XML: %s is not valid UTF-8", what);
	return 0;
}

static int check_texts(const struct hyp_vm_spec *spec, hyp_error *err)
{
	const struct hyp_image *img = &spec->image;
	const struct {
		const char *what, *value;
		bool needed;
	} texts[] = {
	    {"domain name", spec->name, true},
	    {"user name", spec->user, true},
	    {"node name", spec->node, false},
	    {"job directory", spec->job_dir, true},
	    {"console log path", spec->console_log, true},
	    {"control socket path", spec->ctl_socket, true},
	    {"overlay path", spec->overlay, false},
	    {"cpu model", spec->cpu_model, true},
	    {"kernel path", img->kernel, true},
	    {"initrd path", img->initrd, false},
	    {"kernel command line", img->cmdline, false},
	    {"emulator cpus", spec->placement.emulator_cpus, true},
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (!texts[i].needed && !texts[i].value)
			continue;
		int r = check_text(texts[i].what, texts[i].value, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_spec(const struct hyp_vm_spec *spec, hyp_error *err)
{
	const struct hyp_placement *pl = &spec->placement;
	if (pl->nvcpus == 0 || !pl->vcpus)
		return hyp_fail(err, EINVAL, "domain XML: no vCPUs placed");
	for (size_t c = 0; c < pl->ncells; c++)
		if (!pl->cells || !pl->cells[c].vcpus)
			return hyp_fail(err, EINVAL, "domain XML: NUMA cell %zu has no vCPUs", c);
	if (spec->uid == 0)
		return hyp_fail(err, EPERM,
		                "domain XML: job user '%s' is root: QEMU would run as root",
		                spec->user ? spec->user : "");
	if (spec->memory_mib == 0)
		return hyp_fail(err, EINVAL, "domain XML: no guest memory");
	if (spec->image.kind == HYP_IMAGE_DISK && !spec->overlay)
		return hyp_fail(err, EINVAL, "domain XML: disk image '%s' without an overlay",
		                spec->image.name ? spec->image.name : "");
	return check_texts(spec, err);
}

int hyp_domain_xml(const struct hyp_vm_spec *spec, char **ret_xml, hyp_error *err)
{
	int r = check_spec(spec, err);
	if (r < 0)
		return r;
	_cleanup_(hyp_xw_free) struct hyp_xw x = {0};
	if (hyp_xw_new(&x) < 0)
		return hyp_fail(err, ENOMEM, "domain XML: out of memory");
	r = write_domain(&x, spec, err);
	if (r < 0)
		return r;
	char *xml = hyp_xw_steal(&x);
	if (!xml)
		return hyp_fail(err, ENOMEM, "domain XML for job %u: writing failed", spec->job_id);
	*ret_xml = xml;
	return 0;
}

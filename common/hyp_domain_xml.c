/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The libvirt domain XML for a spec, one function per part of the domain,
 * written with libxml2's xmlTextWriter (which does all the escaping). The
 * choices, each explained where it is made: machine q35 (PCIe, for GPU
 * passthrough); direct kernel boot with the console in console.log and
 * destroy on reboot (panic=-1): a dying guest stops at once; shared memfd
 * memory (for virtio-fs), optional hugepages; every vCPU, the emulator and
 * the I/O thread pinned, memory strictly on the allocation's host nodes;
 * the overlay with cache='writeback' (tmpfs has no O_DIRECT for 'none');
 * virtio-serial ports as unix sockets in the job directory.
 */
#include "hyp_domain_xml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/xmlstring.h>
#include <libxml/xmlwriter.h>

#include "hyp_cleanup.h"
#include "hyp_proto.h"
#include "hyp_statedir.h"

#define BASE_CMDLINE  "console=ttyS0 panic=-1 quiet"
#define DISK_ROOT_ARG "hyperion.root=/dev/vda"
/* QEMU takes at most 511 ports per virtio-serial controller; port 0 is kept
 * for a virtio console, so channels use 1..510. */
#define SERIAL_PORTS_MAX 511

/* A writer whose first failure sticks: parts are written without checking
 * each call, and the result is checked once at the end. */
struct xw {
	xmlTextWriterPtr w;
	bool failed;
};

static void xw_check(struct xw *x, int rc)
{
	if (rc < 0)
		x->failed = true;
}

static void xw_start(struct xw *x, const char *name)
{
	if (!x->failed)
		xw_check(x, xmlTextWriterStartElement(x->w, BAD_CAST name));
}

static void xw_end(struct xw *x)
{
	if (!x->failed)
		xw_check(x, xmlTextWriterEndElement(x->w));
}

static void xw_attr(struct xw *x, const char *name, const char *value)
{
	if (!x->failed)
		xw_check(x, xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value));
}

static void xw_attrf(struct xw *x, const char *name, const char *fmt, ...) HYP_PRINTF(3, 4);

static void xw_attrf(struct xw *x, const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!x->failed)
		xw_check(x, xmlTextWriterWriteVFormatAttribute(x->w, BAD_CAST name, fmt, ap));
	va_end(ap);
}

/* <name>text</name> */
static void xw_elem(struct xw *x, const char *name, const char *text)
{
	if (!x->failed)
		xw_check(x, xmlTextWriterWriteElement(x->w, BAD_CAST name, BAD_CAST text));
}

static void xw_text(struct xw *x, const char *text)
{
	if (!x->failed)
		xw_check(x, xmlTextWriterWriteString(x->w, BAD_CAST text));
}

static void xw_textf(struct xw *x, const char *fmt, ...) HYP_PRINTF(2, 3);

static void xw_textf(struct xw *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!x->failed)
		xw_check(x, xmlTextWriterWriteVFormatString(x->w, fmt, ap));
	va_end(ap);
}

static void xw_vattrs(struct xw *x, va_list ap)
{
	for (const char *a; (a = va_arg(ap, const char *));) {
		const char *v = va_arg(ap, const char *);
		xw_attr(x, a, v);
	}
}

/* Start <name a1="v1" ...>: attribute name/value pairs, then NULL. */
static void xw_open(struct xw *x, const char *name, ...) __attribute__((sentinel));

static void xw_open(struct xw *x, const char *name, ...)
{
	va_list ap;
	va_start(ap, name);
	xw_start(x, name);
	xw_vattrs(x, ap);
	va_end(ap);
}

/* <name a1="v1" .../>: attribute name/value pairs, then NULL. */
static void xw_empty(struct xw *x, const char *name, ...) __attribute__((sentinel));

static void xw_empty(struct xw *x, const char *name, ...)
{
	va_list ap;
	va_start(ap, name);
	xw_start(x, name);
	xw_vattrs(x, ap);
	xw_end(x);
	va_end(ap);
}

static void write_metadata(struct xw *x, const struct hyp_vm_spec *spec)
{
	xw_start(x, "metadata");
	if (!x->failed)
		xw_check(x, xmlTextWriterStartElementNS(x->w, BAD_CAST "hyperion", BAD_CAST "job",
		                                        BAD_CAST HYP_XML_NS));
	xw_attrf(x, "id", "%u", spec->job_id);
	xw_attrf(x, "uid", "%u", (unsigned)spec->uid);
	xw_attrf(x, "gid", "%u", (unsigned)spec->gid);
	xw_attr(x, "user", spec->user);
	xw_attrf(x, "started", "%lld", (long long)time(NULL));
	xw_end(x);
	xw_end(x);
}

/* memfd, shared: virtio-fs needs the guest's memory shareable. */
static void write_memory(struct xw *x, const struct hyp_vm_spec *spec)
{
	const struct hyp_placement *pl = &spec->placement;
	for (int i = 0; i < 2; i++) {
		xw_open(x, i ? "currentMemory" : "memory", "unit", "KiB", NULL);
		xw_textf(x, "%llu", spec->memory_mib * 1024);
		xw_end(x);
	}

	xw_start(x, "memoryBacking");
	if (spec->hugepage_kib) {
		xw_start(x, "hugepages");
		xw_start(x, "page");
		xw_attrf(x, "size", "%lu", spec->hugepage_kib);
		xw_attr(x, "unit", "KiB");
		if (pl->ncells == 1)
			xw_attr(x, "nodeset", "0");
		else if (pl->ncells > 1)
			xw_attrf(x, "nodeset", "0-%zu", pl->ncells - 1);
		xw_end(x);
		xw_end(x);
	}
	xw_empty(x, "source", "type", "memfd", NULL);
	xw_empty(x, "access", "mode", "shared", NULL);
	xw_end(x);
}

/* Every vCPU on its own host cpu; emulator and I/O thread on the
 * housekeeping cpus or the allocation, never floating over the node. */
static void write_cputune(struct xw *x, const struct hyp_vm_spec *spec)
{
	const struct hyp_placement *pl = &spec->placement;
	xw_open(x, "vcpu", "placement", "static", NULL);
	xw_textf(x, "%zu", pl->nvcpus);
	xw_end(x);
	if (spec->overlay)
		xw_elem(x, "iothreads", "1");

	xw_start(x, "cputune");
	for (size_t i = 0; i < pl->nvcpus; i++) {
		xw_start(x, "vcpupin");
		xw_attrf(x, "vcpu", "%zu", i);
		xw_attrf(x, "cpuset", "%u", pl->vcpus[i].host_cpu);
		xw_end(x);
	}
	xw_empty(x, "emulatorpin", "cpuset", pl->emulator_cpus, NULL);
	if (spec->overlay)
		xw_empty(x, "iothreadpin", "iothread", "1", "cpuset", pl->emulator_cpus, NULL);
	xw_end(x);
}

/* Memory strictly on the host nodes of the allocation, each guest cell on
 * its own host node. */
static void write_numatune(struct xw *x, const struct hyp_placement *pl)
{
	if (!pl->host_nodes)
		return;
	xw_start(x, "numatune");
	xw_empty(x, "memory", "mode", "strict", "nodeset", pl->host_nodes, NULL);
	for (size_t c = 0; c < pl->ncells; c++) {
		xw_start(x, "memnode");
		xw_attrf(x, "cellid", "%zu", c);
		xw_attr(x, "mode", "strict");
		xw_attrf(x, "nodeset", "%u", pl->cells[c].host_node);
		xw_end(x);
	}
	xw_end(x);
}

/* Direct kernel boot. The appliance's initramfs mounts a disk image's root
 * when it sees hyperion.root; the image's own arguments come last so they
 * can override ours. */
static void write_os(struct xw *x, const struct hyp_vm_spec *spec)
{
	const struct hyp_image *img = &spec->image;
	bool disk = img->kind == HYP_IMAGE_DISK;
	xw_start(x, "os");
	xw_open(x, "type", "arch", "x86_64", "machine", "q35", NULL);
	xw_text(x, "hvm");
	xw_end(x);
	xw_elem(x, "kernel", img->kernel);
	if (img->initrd)
		xw_elem(x, "initrd", img->initrd);
	xw_start(x, "cmdline");
	xw_text(x, disk ? BASE_CMDLINE " " DISK_ROOT_ARG : BASE_CMDLINE);
	if (img->cmdline && *img->cmdline) {
		xw_text(x, " ");
		xw_text(x, img->cmdline);
	}
	xw_end(x);
	xw_end(x);
	xw_start(x, "features");
	xw_empty(x, "acpi", NULL);
	xw_end(x);
}

/* The CPU model under KVM: host-passthrough (all host features, needed to
 * come near bare metal), host-model or a named model. Under TCG, QEMU's
 * default model. The guest's shape and cells mirror the allocation. */
static void write_cpu_mode(struct xw *x, const struct hyp_vm_spec *spec)
{
	const char *model = spec->cpu_model;
	if (spec->domain_type != HYP_DOMAIN_KVM)
		return;
	if (!strcmp(model, "host-passthrough") || !strcmp(model, "host-model")) {
		xw_attr(x, "mode", model);
		xw_attr(x, "check", "none");
		return;
	}
	xw_attr(x, "mode", "custom");
	xw_attr(x, "match", "exact");
	xw_attr(x, "check", "none");
	xw_open(x, "model", "fallback", "forbid", NULL);
	xw_text(x, model);
	xw_end(x);
}

static void write_cpu(struct xw *x, const struct hyp_vm_spec *spec)
{
	const struct hyp_placement *pl = &spec->placement;
	bool shaped = pl->sockets && pl->cores && pl->threads &&
	              (size_t)pl->sockets * pl->cores * pl->threads == pl->nvcpus;
	xw_start(x, "cpu");
	write_cpu_mode(x, spec);
	xw_start(x, "topology");
	xw_attrf(x, "sockets", "%u", shaped ? pl->sockets : (unsigned)pl->nvcpus);
	xw_attrf(x, "cores", "%u", shaped ? pl->cores : 1);
	xw_attrf(x, "threads", "%u", shaped ? pl->threads : 1);
	xw_end(x);
	if (pl->ncells > 0) {
		xw_start(x, "numa");
		for (size_t c = 0; c < pl->ncells; c++) {
			xw_start(x, "cell");
			xw_attrf(x, "id", "%zu", c);
			xw_attr(x, "cpus", pl->cells[c].vcpus);
			xw_attrf(x, "memory", "%llu", pl->cells[c].memory_kib);
			xw_attr(x, "unit", "KiB");
			xw_end(x);
		}
		xw_end(x);
	}
	xw_end(x);
}

/* A guest that powers off, reboots or crashes is gone: the job's VM is
 * never restarted behind its back. */
static void write_lifecycle(struct xw *x)
{
	xw_empty(x, "clock", "offset", "utc", NULL);
	xw_elem(x, "on_poweroff", "destroy");
	xw_elem(x, "on_reboot", "destroy");
	xw_elem(x, "on_crash", "destroy");
}

/* The per-job overlay, never the base image; its own I/O thread. */
static void write_disk(struct xw *x, const struct hyp_vm_spec *spec)
{
	if (!spec->overlay)
		return;
	xw_open(x, "disk", "type", "file", "device", "disk", NULL);
	xw_empty(x, "driver", "name", "qemu", "type", "qcow2", "cache", "writeback", "discard",
	         "unmap", "iothread", "1", NULL);
	xw_empty(x, "source", "file", spec->overlay, NULL);
	xw_empty(x, "target", "dev", "vda", "bus", "virtio", NULL);
	xw_end(x);
}

/* Enough virtio-serial controllers for the control port and every exec
 * port; libvirt gives each channel a free port. */
static void write_serial_controllers(struct xw *x, const struct hyp_vm_spec *spec)
{
	const unsigned per = SERIAL_PORTS_MAX - 1;
	unsigned channels = spec->nexec_ports + 1;
	for (unsigned i = 0; i * per < channels; i++) {
		unsigned here = channels - i * per < per ? channels - i * per : per;
		xw_open(x, "controller", "type", "virtio-serial", NULL);
		xw_attrf(x, "index", "%u", i);
		xw_attrf(x, "ports", "%u", here + 1);
		xw_end(x);
	}
	xw_empty(x, "controller", "type", "usb", "model", "none", NULL);
}

static void write_channel(struct xw *x, const char *path, const char *name)
{
	xw_open(x, "channel", "type", "unix", NULL);
	xw_empty(x, "source", "mode", "bind", "path", path, NULL);
	xw_empty(x, "target", "type", "virtio", "name", name, NULL);
	xw_end(x);
}

static int write_channels(struct xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	write_channel(x, spec->ctl_socket, HYP_PORT_CTL);
	for (unsigned i = 0; i < spec->nexec_ports; i++) {
		_cleanup_free_ char *path = hyp_exec_socket_path(spec->job_dir, i);
		char name[sizeof(HYP_PORT_EXEC_PREFIX) + 16];
		if (!path)
			return hyp_fail(err, ENOMEM, "out of memory");
		snprintf(name, sizeof(name), HYP_PORT_EXEC_PREFIX "%u", i);
		write_channel(x, path, name);
	}
	return 0;
}

/* The serial console into console.log (what the job sees when its guest
 * does not boot); no balloon, no graphics; virtio-rng for boot entropy. */
static void write_console_and_rng(struct xw *x, const struct hyp_vm_spec *spec)
{
	static const char *const kinds[] = {"serial", "console"};
	for (size_t i = 0; i < 2; i++) {
		xw_open(x, kinds[i], "type", "file", NULL);
		xw_empty(x, "source", "path", spec->console_log, NULL);
		if (i == 0)
			xw_empty(x, "target", "port", "0", NULL);
		else
			xw_empty(x, "target", "type", "serial", "port", "0", NULL);
		xw_end(x);
	}
	xw_empty(x, "memballoon", "model", "none", NULL);
	xw_open(x, "rng", "model", "virtio", NULL);
	xw_open(x, "backend", "model", "random", NULL);
	xw_text(x, "/dev/urandom");
	xw_end(x);
	xw_end(x);
}

static int write_devices(struct xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	xw_start(x, "devices");
	write_disk(x, spec);
	write_serial_controllers(x, spec);
	int r = write_channels(x, spec, err);
	if (r < 0)
		return r;
	write_console_and_rng(x, spec);
	xw_end(x);
	return 0;
}

static int write_domain(struct xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	xw_start(x, "domain");
	xw_attr(x, "type", hyp_domain_type_name(spec->domain_type));
	xw_elem(x, "name", spec->name);
	write_metadata(x, spec);
	write_memory(x, spec);
	write_cputune(x, spec);
	if (spec->numa_bind)
		write_numatune(x, &spec->placement);
	write_os(x, spec);
	write_cpu(x, spec);
	write_lifecycle(x);
	int r = write_devices(x, spec, err);
	if (r < 0)
		return r;
	xw_end(x);
	return 0;
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
	xmlBufferPtr buf = xmlBufferCreate();
	struct xw x = {.w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL};
	if (!x.w) {
		xmlBufferFree(buf);
		return hyp_fail(err, ENOMEM, "domain XML: out of memory");
	}
	xmlTextWriterSetIndent(x.w, 1);
	xmlTextWriterSetIndentString(x.w, BAD_CAST "  ");
	r = write_domain(&x, spec, err);
	if (r >= 0 && !x.failed && xmlTextWriterEndDocument(x.w) < 0)
		x.failed = true;
	xmlFreeTextWriter(x.w); /* flushes into buf */
	char *xml = NULL;
	if (r >= 0 && !x.failed && asprintf(&xml, "%s\n", (const char *)xmlBufferContent(buf)) < 0)
		xml = NULL;
	xmlBufferFree(buf);
	if (r < 0)
		return r;
	if (!xml)
		return hyp_fail(err, ENOMEM, "domain XML for job %u: writing failed", spec->job_id);
	*ret_xml = xml;
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Devices: the job's disk overlay, the virtio-serial ports (unix sockets in
 * the job directory, which libvirt creates and hands to QEMU as file
 * descriptors), the serial console into console.log (opened by libvirt,
 * also handed over), no balloon, no graphics, virtio-rng.
 */
#include <errno.h>
#include <stdio.h>

#include "hyp_cleanup.h"
#include "hyp_domain_xml_parts.h"
#include "hyp_proto.h"
#include "hyp_statedir.h"

/* QEMU takes at most 511 ports per virtio-serial controller; port 0 is kept
 * for a virtio console, so channels use 1..510. */
#define SERIAL_PORTS_MAX 511

/* The per-job overlay, never the base image; its own I/O thread;
 * cache='writeback' as tmpfs has no O_DIRECT for 'none'. QEMU opens the
 * overlay and, read-only, its backing base image, as the job user. */
int hyp_dxml_disks(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	(void)err;
	if (!spec->overlay)
		return 0;
	hyp_xw_open(x, "disk", "type", "file", "device", "disk", NULL);
	hyp_xw_empty(x, "driver", "name", "qemu", "type", "qcow2", "cache", "writeback", "discard",
	             "unmap", "iothread", "1", NULL);
	hyp_xw_empty(x, "source", "file", spec->overlay, NULL);
	hyp_xw_empty(x, "target", "dev", "vda", "bus", "virtio", NULL);
	hyp_xw_end(x);
	return 0;
}

/* Enough virtio-serial controllers for the control port and every exec
 * port; libvirt gives each channel a free port. No USB. */
int hyp_dxml_serial_controllers(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	(void)err;
	const unsigned per = SERIAL_PORTS_MAX - 1;
	unsigned channels = spec->nexec_ports + 1;
	for (unsigned i = 0; i * per < channels; i++) {
		unsigned here = channels - i * per < per ? channels - i * per : per;
		hyp_xw_open(x, "controller", "type", "virtio-serial", NULL);
		hyp_xw_attrf(x, "index", "%u", i);
		hyp_xw_attrf(x, "ports", "%u", here + 1);
		hyp_xw_end(x);
	}
	hyp_xw_empty(x, "controller", "type", "usb", "model", "none", NULL);
	return 0;
}

static void write_channel(struct hyp_xw *x, const char *path, const char *name)
{
	hyp_xw_open(x, "channel", "type", "unix", NULL);
	hyp_xw_empty(x, "source", "mode", "bind", "path", path, NULL);
	hyp_xw_empty(x, "target", "type", "virtio", "name", name, NULL);
	hyp_xw_end(x);
}

/* The control port and one port per exec session. */
int hyp_dxml_channels(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
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

/* The serial console into console.log: what the job sees when its guest
 * does not boot. */
int hyp_dxml_console(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	(void)err;
	static const char *const kinds[] = {"serial", "console"};
	for (size_t i = 0; i < 2; i++) {
		hyp_xw_open(x, kinds[i], "type", "file", NULL);
		hyp_xw_empty(x, "source", "path", spec->console_log, NULL);
		if (i == 0)
			hyp_xw_empty(x, "target", "port", "0", NULL);
		else
			hyp_xw_empty(x, "target", "type", "serial", "port", "0", NULL);
		hyp_xw_end(x);
	}
	return 0;
}

/* No balloon (the guest's memory is pinned to the allocation); virtio-rng
 * for boot entropy. */
int hyp_dxml_rng(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	(void)spec;
	(void)err;
	hyp_xw_empty(x, "memballoon", "model", "none", NULL);
	hyp_xw_open(x, "rng", "model", "virtio", NULL);
	hyp_xw_open(x, "backend", "model", "random", NULL);
	hyp_xw_text(x, "/dev/urandom");
	hyp_xw_end(x);
	hyp_xw_end(x);
	return 0;
}

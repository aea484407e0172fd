/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Boot: direct kernel boot of the image's kernel and initramfs on a q35
 * machine (PCIe, for GPU passthrough), the console on ttyS0 and panic=-1 so
 * that a dying guest stops at once. QEMU opens the kernel and initrd itself,
 * as the job user: they must be readable by every job user.
 */
#include "hyp_domain_xml_parts.h"

#define BASE_CMDLINE  "console=ttyS0 panic=-1 quiet"
#define DISK_ROOT_ARG "hyperion.root=/dev/vda"

_Static_assert(sizeof(BASE_CMDLINE " " DISK_ROOT_ARG " ") <= HYP_BOOT_BASE_RESERVE,
               "HYP_BOOT_BASE_RESERVE");

/* The appliance's initramfs mounts a disk image's root when it sees
 * hyperion.root; then the agent's boot configuration (hyp_bootcfg.h); the
 * image's own arguments come last so they can override ours. */
static void write_cmdline(struct hyp_xw *x, const struct hyp_vm_spec *spec)
{
	const struct hyp_image *img = &spec->image;
	bool disk = img->kind == HYP_IMAGE_DISK;
	hyp_xw_start(x, "cmdline");
	hyp_xw_text(x, disk ? BASE_CMDLINE " " DISK_ROOT_ARG : BASE_CMDLINE);
	if (spec->boot_params && *spec->boot_params) {
		hyp_xw_text(x, " ");
		hyp_xw_text(x, spec->boot_params);
	}
	if (img->cmdline && *img->cmdline) {
		hyp_xw_text(x, " ");
		hyp_xw_text(x, img->cmdline);
	}
	hyp_xw_end(x);
}

int hyp_dxml_boot(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	(void)err;
	const struct hyp_image *img = &spec->image;
	hyp_xw_start(x, "os");
	hyp_xw_open(x, "type", "arch", "x86_64", "machine", "q35", NULL);
	hyp_xw_text(x, "hvm");
	hyp_xw_end(x);
	hyp_xw_elem(x, "kernel", img->kernel);
	if (img->initrd)
		hyp_xw_elem(x, "initrd", img->initrd);
	write_cmdline(x, spec);
	hyp_xw_end(x);
	hyp_xw_start(x, "features");
	hyp_xw_empty(x, "acpi", NULL);
	hyp_xw_end(x);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to the domain XML: one function per part of the domain, each in
 * its own file hyp_domain_xml_<part>.c. A part writes its elements with the
 * hyp_xw_* helpers (the writer's first failure sticks and is checked once at
 * the end) and returns 0, or a negative errno with `err` filled.
 *
 * To add a part (filesystems, interfaces, hostdevs...): write
 * `int hyp_dxml_<part>(struct hyp_xw *x, const struct hyp_vm_spec *spec,
 * hyp_error *err)` in hyp_domain_xml_<part>.c, declare it here, list it in
 * domain_parts[] or device_parts[] of hyp_domain_xml.c (the order there is
 * the order in the XML) and add the file to common/meson.build.
 */
#ifndef HYP_DOMAIN_XML_PARTS_H
#define HYP_DOMAIN_XML_PARTS_H

#include "hyp_error.h"
#include "hyp_spec.h"
#include "hyp_xml_writer.h"

typedef int (*hyp_dxml_part)(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err);

/* hyp_domain_xml_memory.c: <memory>, <currentMemory>, <memoryBacking> */
int hyp_dxml_memory(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err);

/* hyp_domain_xml_cpu.c: <vcpu>, <iothreads>, <cputune>; <numatune>; <cpu>
 * with its topology and NUMA cells */
int hyp_dxml_cputune(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err);
int hyp_dxml_numatune(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err);
int hyp_dxml_cpu(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err);

/* hyp_domain_xml_boot.c: <os> (direct kernel boot), <features> */
int hyp_dxml_boot(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err);

/* hyp_domain_xml_devices.c: inside <devices> */
int hyp_dxml_disks(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err);
int hyp_dxml_serial_controllers(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err);
int hyp_dxml_channels(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err);
int hyp_dxml_console(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err);
int hyp_dxml_rng(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err);

/* hyp_domain_xml_fs.c: <filesystem> per share (virtio-fs, external virtiofsd) */
int hyp_dxml_filesystems(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err);

/* hyp_domain_xml_net.c: <interface> of the guest network (hyp_net.h) */
int hyp_dxml_interfaces(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err);
/* hyp_domain_xml_hostdev.c: PCIe expander buses per guest cell, root ports,
 * <hostdev> for GPUs, <interface type='hostdev'> for VFs */
int hyp_dxml_hostdevs(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err);

#endif

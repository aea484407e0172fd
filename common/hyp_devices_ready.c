/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Before a VM with passed-through devices boots: the IOMMU is on, vfio-pci
 * is there (libvirt binds managed devices to it), each function is in an
 * IOMMU group and can be bound, and the memory VFIO pins is there. A node
 * without all that fails the job at once ("VFIO not available on this
 * node"), never a hang in QEMU; it is a job error, not a node fault.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_devices.h"
#include "hyp_spec.h"

/* "GPU 0000:03:00.0, VF 0000:0b:00.1 (pool p)" */
static void device_names(const struct hyp_devices *d, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < d->nslots; i++) {
		const struct hyp_dev_slot *s = &d->slots[i];
		size_t len = strlen(buf);
		if (s->vf)
			snprintf(buf + len, size - len, "%sVF %s (pool %s)", i ? ", " : "",
			         s->fns[0], s->pool);
		else
			snprintf(buf + len, size - len, "%sGPU %s", i ? ", " : "", s->fns[0]);
	}
}

bool hyp_iommu_groups_present(const char *sys)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups", sys);
	_cleanup_closedir_ DIR *d = opendir(path);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			return true;
	return false;
}

static bool file_mentions(const char *path, const char *word)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[1024];
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, word))
			return true;
	return false;
}

/* Loaded, built in, or installed for the running kernel. */
static bool vfio_pci_available(const char *sys, const char *modules)
{
	char path[PATH_MAX];
	struct utsname u;
	snprintf(path, sizeof(path), "%s/module/vfio_pci", sys);
	if (access(path, F_OK) == 0 || uname(&u) < 0)
		return access(path, F_OK) == 0;
	snprintf(path, sizeof(path), "%s/%s/modules.builtin", modules, u.release);
	if (file_mentions(path, "/vfio-pci.ko"))
		return true;
	snprintf(path, sizeof(path), "%s/%s/modules.dep", modules, u.release);
	return file_mentions(path, "/vfio-pci.ko");
}

static unsigned long long mem_available_mib(const char *proc)
{
	char path[PATH_MAX], line[256];
	unsigned long long kib = 0;
	snprintf(path, sizeof(path), "%s/meminfo", proc);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
			return kib / 1024;
	return 0;
}

static int check_function(const char *sys, const char *fn, const char *names, hyp_error *err)
{
	struct hyp_pci_dev dev;
	char path[PATH_MAX];
	int r = hyp_pci_read(sys, fn, &dev, err);
	if (r < 0)
		return hyp_error_prefix(err, "%s", names);
	if (dev.iommu_group < 0)
		return hyp_fail(err, ENODEV,
		                "%s: VFIO not available for %s: it is in no IOMMU group (is the "
		                "IOMMU enabled for its PCIe root?)",
		                names, fn);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver_override", sys, dev.name);
	if (strcmp(dev.driver, "vfio-pci") != 0 && access(path, F_OK) < 0)
		return hyp_fail(err, ENODEV,
		                "%s: %s is bound to '%s' and cannot be rebound to vfio-pci (no "
		                "driver_override)",
		                names, fn, dev.driver[0] ? dev.driver : "nothing");
	return 0;
}

static int check_memory(const struct hyp_vm_spec *spec, const char *proc, const char *names,
                        hyp_error *err)
{
	if (spec->hugepage_kib) /* hyp_hugepages_check counts the pages */
		return 0;
	unsigned long long avail = mem_available_mib(proc);
	if (avail && avail < spec->memory_mib)
		return hyp_fail(err, ENOMEM,
		                "%s: VFIO pins all of the guest's %llu MiB, but the node has %llu "
		                "MiB available",
		                names, spec->memory_mib, avail);
	return 0;
}

int hyp_devices_ready(const struct hyp_vm_spec *spec, const struct hyp_hostfs *fs, hyp_error *err)
{
	const struct hyp_devices *d = spec->devices;
	if (!d || !d->nslots)
		return 0;
	const char *sys = fs && fs->sys ? fs->sys : d->sysfs ? d->sysfs : "/sys";
	const char *proc = fs && fs->proc ? fs->proc : "/proc";
	const char *modules = fs && fs->modules ? fs->modules : "/lib/modules";
	char names[768], path[PATH_MAX];
	device_names(d, names, sizeof(names));
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups", sys);
	if (!hyp_iommu_groups_present(sys))
		return hyp_fail(err, ENODEV,
		                "cannot pass through %s: VFIO not available on this node: %s is "
		                "empty, the IOMMU is off (enable VT-d/AMD-Vi in the firmware and "
		                "boot with intel_iommu=on or amd_iommu=on)",
		                names, path);
	if (!vfio_pci_available(sys, modules))
		return hyp_fail(err, ENODEV,
		                "cannot pass through %s: VFIO not available on this node: the "
		                "vfio-pci module is neither loaded nor installed",
		                names);
	for (size_t i = 0; i < d->nslots; i++)
		for (size_t f = 0; f < d->slots[i].nfns; f++) {
			int r = check_function(sys, d->slots[i].fns[f], names, err);
			if (r < 0)
				return r;
		}
	return check_memory(spec, proc, names, err);
}

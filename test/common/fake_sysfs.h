/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * For tests: a fake host under a temporary directory, laid out as the kernel
 * lays out sysfs: sys/devices/pci0000:00/<addr>/ with numa_node, class,
 * vendor, driver_override and the links driver, iommu_group, physfn,
 * virtfn<i>; sys/bus/pci/devices/<addr> links to it; sys/kernel/
 * iommu_groups/<N>/devices/<addr>; sys/module/vfio_pci; proc/meminfo and
 * proc/driver/nvidia/gpus/<addr>/information.
 */
#ifndef TEST_FAKE_SYSFS_H
#define TEST_FAKE_SYSFS_H

#include <criterion/criterion.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fake_host {
	char root[64];
	char sys[96], proc[96], modules[96];
};

static inline void fake_mkdirs(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void fake_mkdirs(const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	mkdir(path, 0755);
}

static inline void fake_write(const char *text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void fake_write(const char *text, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

static inline void fake_link(const char *target, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void fake_link(const char *target, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	unlink(path);
	cr_assert_eq(symlink(target, path), 0, "%s -> %s", path, target);
}

static inline void fake_host_init(struct fake_host *h)
{
	snprintf(h->root, sizeof(h->root), "/tmp/hyp-test-host.XXXXXX");
	cr_assert_not_null(mkdtemp(h->root));
	snprintf(h->sys, sizeof(h->sys), "%s/sys", h->root);
	snprintf(h->proc, sizeof(h->proc), "%s/proc", h->root);
	snprintf(h->modules, sizeof(h->modules), "%s/lib/modules", h->root);
	fake_mkdirs("%s/bus/pci/devices", h->sys);
	fake_mkdirs("%s/bus/pci/drivers", h->sys);
	fake_mkdirs("%s/devices/pci0000:00", h->sys);
	fake_mkdirs("%s/kernel/iommu_groups", h->sys);
	fake_mkdirs("%s/class/drm", h->sys);
	fake_mkdirs("%s", h->proc);
	fake_mkdirs("%s", h->modules);
	fake_write("MemTotal: 134217728 kB\nMemAvailable: 100663296 kB\n", "%s/meminfo", h->proc);
}

static inline void fake_host_free(struct fake_host *h)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->root);
	if (h->root[0])
		cr_assert_eq(system(cmd), 0);
}

/* One PCI function; group < 0: no IOMMU group; numa < 0 writes -1. */
static inline void fake_dev(struct fake_host *h, const char *addr, int numa, int group,
                            unsigned cls, unsigned vendor, const char *driver)
{
	char text[32];
	fake_mkdirs("%s/devices/pci0000:00/%s", h->sys, addr);
	char target[128];
	snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", addr);
	fake_link(target, "%s/bus/pci/devices/%s", h->sys, addr);
	snprintf(text, sizeof(text), "%d\n", numa);
	fake_write(text, "%s/devices/pci0000:00/%s/numa_node", h->sys, addr);
	snprintf(text, sizeof(text), "0x%06x\n", cls);
	fake_write(text, "%s/devices/pci0000:00/%s/class", h->sys, addr);
	snprintf(text, sizeof(text), "0x%04x\n", vendor);
	fake_write(text, "%s/devices/pci0000:00/%s/vendor", h->sys, addr);
	fake_write("(null)\n", "%s/devices/pci0000:00/%s/driver_override", h->sys, addr);
	if (driver) {
		fake_mkdirs("%s/bus/pci/drivers/%s", h->sys, driver);
		snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
		fake_link(target, "%s/devices/pci0000:00/%s/driver", h->sys, addr);
	}
	if (group >= 0) {
		fake_mkdirs("%s/kernel/iommu_groups/%d/devices", h->sys, group);
		snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%d", group);
		fake_link(target, "%s/devices/pci0000:00/%s/iommu_group", h->sys, addr);
		snprintf(target, sizeof(target), "../../../../devices/pci0000:00/%s", addr);
		fake_link(target, "%s/kernel/iommu_groups/%d/devices/%s", h->sys, group, addr);
	}
}

/* n VFs of PF "DDDD:BB:SS.0" as functions 1..n of its slot (as the usNIC of
 * 16intel64-manyVFs.xml shows them), each in its own IOMMU group. */
static inline void fake_vfs(struct fake_host *h, const char *pf, unsigned n, int numa,
                            int first_group)
{
	char text[16], vf[16], target[64];
	fake_dev(h, pf, numa, first_group, 0x020000, 0x1137, "enic");
	for (unsigned i = 0; i < n; i++) {
		snprintf(vf, sizeof(vf), "%.11s%u", pf, i + 1);
		fake_dev(h, vf, numa, first_group + 1 + (int)i, 0x020000, 0x1137, NULL);
		snprintf(target, sizeof(target), "../%s", pf);
		fake_link(target, "%s/devices/pci0000:00/%s/physfn", h->sys, vf);
		snprintf(target, sizeof(target), "../%s", vf);
		fake_link(target, "%s/devices/pci0000:00/%s/virtfn%u", h->sys, pf, i);
	}
	snprintf(text, sizeof(text), "%u\n", n);
	fake_write(text, "%s/devices/pci0000:00/%s/sriov_numvfs", h->sys, pf);
	fake_write(text, "%s/devices/pci0000:00/%s/sriov_totalvfs", h->sys, pf);
}

/* What a node with VFIO has: the vfio_pci module loaded. */
static inline void fake_vfio_loaded(struct fake_host *h)
{
	fake_mkdirs("%s/module/vfio_pci", h->sys);
}

/* The NVIDIA driver's /proc entry for a GPU: its device minor. */
static inline void fake_nvidia(struct fake_host *h, const char *addr, unsigned minor)
{
	char text[128];
	fake_mkdirs("%s/driver/nvidia/gpus/%s", h->proc, addr);
	snprintf(text, sizeof(text),
	         "Model: \t\t Tesla V100\nIRQ:   \t\t 42\nDevice Minor: \t %u\n", minor);
	fake_write(text, "%s/driver/nvidia/gpus/%s/information", h->proc, addr);
}

#endif

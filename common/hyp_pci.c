/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI functions from sysfs: SYSFS/bus/pci/devices/<addr>/ with numa_node,
 * class, driver -> .../drivers/<name>, iommu_group -> .../iommu_groups/<N>,
 * physfn and virtfn<i> links; SYSFS/kernel/iommu_groups/<N>/devices/.
 */
#include "hyp_pci.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_cleanup.h"

#define MAX_NAMES 4096

int hyp_pci_addr_parse(const char *s, struct hyp_pci_addr *ret_addr, hyp_error *err)
{
	struct hyp_pci_addr a = {0};
	int n = -1;
	if (!s)
		s = "";
	if (sscanf(s, "%4x:%2x:%2x.%1x%n", &a.domain, &a.bus, &a.slot, &a.function, &n) != 4 ||
	    s[n]) {
		a.domain = 0;
		n = -1;
		if (sscanf(s, "%2x:%2x.%1x%n", &a.bus, &a.slot, &a.function, &n) != 3 || s[n])
			n = -1;
	}
	if (n < 0 || a.slot > 0x1f || a.function > 7 ||
	    strspn(s, "0123456789abcdefABCDEF:.") != strlen(s))
		return hyp_fail(err, EINVAL,
		                "'%s' is not a PCI address (expected DDDD:BB:SS.F, e.g. "
		                "0000:3b:00.0)",
		                s);
	*ret_addr = a;
	return 0;
}

void hyp_pci_addr_format(const struct hyp_pci_addr *a, char buf[HYP_PCI_NAME_MAX])
{
	snprintf(buf, HYP_PCI_NAME_MAX, "%04x:%02x:%02x.%x", a->domain & 0xffff, a->bus & 0xff,
	         a->slot & 0x1f, a->function & 7);
}

/* The first line of a small sysfs file, without its newline. */
static int read_attr(const char *dir, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The last component of a symlink's target, "" when there is no link. */
static int link_base(const char *dir, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX], target[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	buf[0] = '\0';
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	target[n] = '\0';
	const char *slash = strrchr(target, '/');
	const char *base = slash ? slash + 1 : target;
	size_t len = strlen(base);
	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(buf, base, len + 1);
	return 0;
}

static int parse_int_attr(const char *dir, const char *name, long *ret)
{
	char buf[64], *end;
	int r = read_attr(dir, name, buf, sizeof(buf));
	if (r < 0)
		return r;
	long v = strtol(buf, &end, 0);
	if (end == buf)
		return -EINVAL;
	*ret = v;
	return 0;
}

int hyp_pci_read(const char *sysfs, const char *addr, struct hyp_pci_dev *ret_dev, hyp_error *err)
{
	struct hyp_pci_dev d = {.numa_node = -1, .iommu_group = -1};
	int r = hyp_pci_addr_parse(addr, &d.addr, err);
	if (r < 0)
		return r;
	hyp_pci_addr_format(&d.addr, d.name);
	char dir[PATH_MAX], group[32];
	snprintf(dir, sizeof(dir), "%s/bus/pci/devices/%s", sysfs, d.name);
	if (access(dir, F_OK) < 0)
		return hyp_fail(err, ENOENT, "PCI device %s: not in %s/bus/pci/devices", d.name,
		                sysfs);
	long v;
	if (parse_int_attr(dir, "numa_node", &v) == 0 && v >= 0)
		d.numa_node = (int)v;
	if (parse_int_attr(dir, "class", &v) == 0)
		d.class_code = (unsigned)v;
	if ((r = link_base(dir, "iommu_group", group, sizeof(group))) < 0 ||
	    (r = link_base(dir, "driver", d.driver, sizeof(d.driver))) < 0 ||
	    (r = link_base(dir, "physfn", d.physfn, sizeof(d.physfn))) < 0)
		return hyp_fail(err, -r, "PCI device %s: reading %s: %s", d.name, dir,
		                strerror(-r));
	if (group[0])
		d.iommu_group = atoi(group);
	*ret_dev = d;
	return 0;
}

bool hyp_pci_is_bridge(const struct hyp_pci_dev *dev)
{
	unsigned cls = dev->class_code >> 8;
	return cls == 0x0604 || cls == 0x0600;
}

static int compare_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entries of dir accepted by keep (NULL: every PCI address), sorted. */
static int list_dir(const char *dir, bool (*keep)(const char *name, const void *data),
                    const void *data, char ***ret_names, hyp_error *err)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (!d)
		return hyp_fail_errno(err, "reading '%s'", dir);
	_cleanup_strv_ char **names = calloc(1, sizeof(char *));
	size_t n = 0;
	struct dirent *de;
	while (names && (de = readdir(d))) {
		struct hyp_pci_addr a;
		hyp_error ignored;
		if (de->d_name[0] == '.' || hyp_pci_addr_parse(de->d_name, &a, &ignored) < 0 ||
		    (keep && !keep(de->d_name, data)))
			continue;
		char **p = n < MAX_NAMES ? realloc(names, (n + 2) * sizeof(*p)) : NULL;
		if (!p || !(p[n] = strdup(de->d_name)))
			return p ? (names = p, hyp_fail(err, ENOMEM, "out of memory"))
			         : hyp_fail(err, ENOMEM, "'%s': too many entries", dir);
		names = p;
		names[++n] = NULL;
	}
	if (!names)
		return hyp_fail(err, ENOMEM, "out of memory");
	qsort(names, n, sizeof(*names), compare_str);
	*ret_names = steal_pointer(&names);
	return 0;
}

int hyp_pci_group_members(const char *sysfs, int group, char ***ret_names, hyp_error *err)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/kernel/iommu_groups/%d/devices", sysfs, group);
	return list_dir(dir, NULL, NULL, ret_names, err);
}

static bool in_slot(const char *name, const void *data)
{
	const struct hyp_pci_addr *want = data;
	struct hyp_pci_addr a;
	hyp_error ignored;
	return hyp_pci_addr_parse(name, &a, &ignored) == 0 && a.domain == want->domain &&
	       a.bus == want->bus && a.slot == want->slot;
}

int hyp_pci_slot_functions(const char *sysfs, const struct hyp_pci_addr *a, char ***ret_names,
                           hyp_error *err)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/bus/pci/devices", sysfs);
	return list_dir(dir, in_slot, a, ret_names, err);
}

int hyp_pci_vfs(const char *sysfs, const char *pf, char ***ret_names, hyp_error *err)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/bus/pci/devices/%s", sysfs, pf);
	if (access(dir, F_OK) < 0)
		return hyp_fail(err, ENOENT, "physical function %s: not in %s/bus/pci/devices", pf,
		                sysfs);
	long numvfs = -1;
	parse_int_attr(dir, "sriov_numvfs", &numvfs);
	_cleanup_strv_ char **names = calloc(MAX_NAMES + 1, sizeof(char *));
	if (!names)
		return hyp_fail(err, ENOMEM, "out of memory");
	size_t n = 0;
	for (; n < MAX_NAMES && (numvfs < 0 || (long)n < numvfs); n++) {
		char link[32], vf[HYP_PCI_NAME_MAX + 8];
		snprintf(link, sizeof(link), "virtfn%zu", n);
		int r = link_base(dir, link, vf, sizeof(vf));
		if (r < 0)
			return hyp_fail(err, -r, "physical function %s: %s: %s", pf, link,
			                strerror(-r));
		if (!vf[0])
			break;
		if (!(names[n] = strdup(vf)))
			return hyp_fail(err, ENOMEM, "out of memory");
	}
	if (n == 0)
		return hyp_fail(err, ENODEV,
		                "physical function %s has no virtual functions (sriov_numvfs is "
		                "%ld: create them with 'echo N > %s/sriov_numvfs')",
		                pf, numvfs < 0 ? 0 : numvfs, dir);
	*ret_names = steal_pointer(&names);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gres.conf's GPUs for this node, and the PCI function behind each. */
#include "hyp_gpu.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_cpulist.h"
#include "hyp_pci.h"

#define MAX_GPUS     256
#define NVIDIA_MAJOR "nvidia"

struct strv {
	char **v;
	size_t n;
};

static int strv_push(struct strv *s, char *owned)
{
	if (!owned || s->n >= MAX_GPUS)
		return free(owned), -ENOMEM;
	char **p = realloc(s->v, (s->n + 2) * sizeof(*p));
	if (!p)
		return free(owned), -ENOMEM;
	s->v = p;
	s->v[s->n++] = owned;
	s->v[s->n] = NULL;
	return 0;
}

/* A bracket's number: 1 to 9 decimal digits. */
static bool bracket_number(const char *p, unsigned long *ret, char **ret_end)
{
	size_t n = strspn(p, "0123456789");
	if (n == 0 || n > 9)
		return false;
	*ret = strtoul(p, ret_end, 10);
	return true;
}

/*
 * Slurm's host list form, one bracket: "node[1-4,7]", "/dev/nvidia[0-3]",
 * items separated by commas outside brackets. Calls fn for each name.
 */
static int expand_item(const char *item, int (*fn)(void *, const char *), void *data)
{
	const char *open = strchr(item, '['), *close = open ? strchr(open, ']') : NULL;
	if (!open)
		return fn(data, item);
	if (!close)
		return -EINVAL;
	for (const char *p = open + 1; p < close;) {
		char *end;
		unsigned long lo, hi;
		int width = (int)strspn(p, "0123456789");
		/* digits only (strtoul takes "-1", "+1", " 1"), and few enough
		 * that v++ below cannot wrap */
		if (!bracket_number(p, &lo, &end))
			return -EINVAL;
		hi = lo;
		if (*end == '-' && !bracket_number(end + 1, &hi, &end))
			return -EINVAL;
		if (hi < lo || hi - lo > MAX_GPUS * 64 || (*end != ',' && end != close))
			return -EINVAL;
		for (unsigned long v = lo; v <= hi; v++) {
			char name[PATH_MAX];
			snprintf(name, sizeof(name), "%.*s%0*lu%s", (int)(open - item), item, width,
			         v, close + 1);
			int r = fn(data, name);
			if (r != 0)
				return r;
		}
		p = end + (end != close);
	}
	return 0;
}

static int expand_list(const char *list, int (*fn)(void *, const char *), void *data)
{
	_cleanup_free_ char *copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	char *item = copy;
	bool depth = false;
	for (char *p = copy;; p++) {
		if (*p == '[')
			depth = true;
		else if (*p == ']')
			depth = false;
		if ((*p == ',' && !depth) || !*p) {
			bool last = !*p;
			*p = '\0';
			int r = *item ? expand_item(item, fn, data) : 0;
			if (r != 0 || last)
				return r;
			item = p + 1;
		}
	}
}

static int match_one(void *data, const char *name)
{
	return !strcmp(name, (const char *)data); /* 1 stops the walk: a match */
}

static int push_name(void *data, const char *name)
{
	return strv_push(data, strdup(name));
}

/* One gres.conf line, its keys case-insensitive as Slurm reads them. */
struct gres_line {
	const char *nodes, *name, *file, *autodetect;
};

static void parse_line(char *line, struct gres_line *ret)
{
	*ret = (struct gres_line){0};
	for (char *save, *tok = strtok_r(line, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq)
			continue;
		*eq++ = '\0';
		if (!strcasecmp(tok, "NodeName"))
			ret->nodes = eq;
		else if (!strcasecmp(tok, "Name"))
			ret->name = eq;
		else if (!strcasecmp(tok, "File"))
			ret->file = eq;
		else if (!strcasecmp(tok, "AutoDetect"))
			ret->autodetect = eq;
	}
}

static int gres_line(const struct gres_line *l, const char *node, struct strv *files, bool *nvml)
{
	if (l->nodes) {
		int m = expand_list(l->nodes, match_one, (void *)node);
		if (m < 0)
			return m;
		if (m == 0)
			return 0;
	}
	if (l->autodetect)
		*nvml = !strcasecmp(l->autodetect, "nvml");
	if (!l->name || strcasecmp(l->name, "gpu") || !l->file)
		return 0;
	return expand_list(l->file, push_name, files);
}

int hyp_gres_gpu_files(const char *gres_conf, const char *node, char ***ret_files, bool *ret_nvml,
                       hyp_error *err)
{
	_cleanup_fclose_ FILE *f = fopen(gres_conf, "re");
	if (!f)
		return hyp_fail_errno(err, "reading gres.conf '%s'", gres_conf);
	struct strv files = {.v = calloc(1, sizeof(char *))};
	_cleanup_strv_ char **owner = files.v;
	bool nvml = false;
	char buf[4096];
	for (unsigned lineno = 1; files.v && fgets(buf, sizeof(buf), f); lineno++) {
		buf[strcspn(buf, "#\n")] = '\0';
		struct gres_line l;
		parse_line(buf, &l);
		int r = gres_line(&l, node, &files, &nvml);
		owner = files.v;
		if (r < 0)
			return hyp_fail(
			    err, -r, "%s:%u: cannot read this line's NodeName= or File=", gres_conf,
			    lineno);
	}
	if (!files.v)
		return hyp_fail(err, ENOMEM, "out of memory");
	*ret_nvml = nvml && files.n == 0;
	*ret_files = steal_pointer(&owner);
	return 0;
}

/* /proc/driver/nvidia/gpus/<pci>/information: "Device Minor: N". */
static int nvidia_minor_pci(const char *proc, unsigned minor, char ret_pci[16])
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/driver/nvidia/gpus", proc);
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char path[PATH_MAX + 300], line[256];
		unsigned m;
		struct hyp_pci_addr a;
		hyp_error ignored;
		if (de->d_name[0] == '.' || hyp_pci_addr_parse(de->d_name, &a, &ignored) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/information", dir, de->d_name);
		_cleanup_fclose_ FILE *f = fopen(path, "re");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "Device Minor: %u", &m) == 1 && m == minor) {
				hyp_pci_addr_format(&a, ret_pci);
				return 0;
			}
	}
	return -ENOENT;
}

/* /sys/class/drm/<name>/device -> ../../../0000:03:00.0 */
static int drm_pci(const char *sys, const char *name, char ret_pci[16])
{
	char path[PATH_MAX], target[PATH_MAX];
	snprintf(path, sizeof(path), "%s/class/drm/%s/device", sys, name);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -ENOENT;
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	struct hyp_pci_addr a;
	hyp_error ignored;
	if (hyp_pci_addr_parse(base ? base + 1 : target, &a, &ignored) < 0)
		return -ENOENT;
	hyp_pci_addr_format(&a, ret_pci);
	return 0;
}

static const char *map_lookup(char **map, const char *file)
{
	size_t len = strlen(file);
	for (size_t i = 0; map && map[i]; i++)
		if (!strncmp(map[i], file, len) && map[i][len] == '=')
			return map[i] + len + 1;
	return NULL;
}

int hyp_gpu_file_pci(const struct hyp_devices_config *dc, const struct hyp_hostfs *fs,
                     const char *file, char ret_pci[16], hyp_error *err)
{
	const char *mapped = map_lookup(dc->gpu_map, file);
	if (mapped) {
		snprintf(ret_pci, 16, "%s", mapped);
		return 0;
	}
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	const char *digits = base + strlen(NVIDIA_MAJOR);
	if (!strncmp(base, NVIDIA_MAJOR, strlen(NVIDIA_MAJOR)) && *digits &&
	    strspn(digits, "0123456789") == strlen(digits) &&
	    nvidia_minor_pci(fs->proc ? fs->proc : "/proc", (unsigned)atoi(digits), ret_pci) == 0)
		return 0;
	if ((!strncmp(base, "card", 4) || !strncmp(base, "renderD", 7)) &&
	    drm_pci(fs->sys ? fs->sys : "/sys", base, ret_pci) == 0)
		return 0;
	return hyp_fail(err, ENOENT,
	                "GPU device file %s: cannot tell its PCI device (no NVIDIA driver entry, "
	                "no /sys/class/drm link): map it with gpu_devices = %s=PCI-ADDRESS in "
	                "hyperion.conf",
	                file, file);
}

static int compare_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* AutoDetect=nvml without File=: NVML's order, which is PCI bus order of
 * the NVIDIA display controllers. */
static int nvml_order(const struct hyp_hostfs *fs, char ***ret, hyp_error *err)
{
	char dir[PATH_MAX];
	const char *sys = fs->sys ? fs->sys : "/sys";
	snprintf(dir, sizeof(dir), "%s/bus/pci/devices", sys);
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (!d)
		return hyp_fail_errno(err, "reading '%s'", dir);
	struct strv v = {.v = calloc(1, sizeof(char *))};
	_cleanup_strv_ char **owner = v.v;
	struct dirent *de;
	while (v.v && (de = readdir(d))) {
		struct hyp_pci_dev dev;
		char vendor[16] = "", path[PATH_MAX + 300];
		hyp_error ignored;
		if (de->d_name[0] == '.' || hyp_pci_read(sys, de->d_name, &dev, &ignored) < 0 ||
		    (dev.class_code >> 16) != 0x03)
			continue;
		snprintf(path, sizeof(path), "%s/%s/vendor", dir, de->d_name);
		_cleanup_fclose_ FILE *f = fopen(path, "re");
		if (!f || !fgets(vendor, sizeof(vendor), f) || strtoul(vendor, NULL, 16) != 0x10de)
			continue;
		if (strv_push(&v, strdup(dev.name)) < 0)
			return hyp_fail(err, ENOMEM, "out of memory");
		owner = v.v;
	}
	if (!v.v)
		return hyp_fail(err, ENOMEM, "out of memory");
	qsort(v.v, v.n, sizeof(char *), compare_str);
	*ret = steal_pointer(&owner);
	return 0;
}

/* The device list slurmd numbers: File= entries, or NVML's PCI order. */
static int gpu_list(const struct hyp_devices_config *dc, const struct hyp_hostfs *fs,
                    const char *node, char ***ret_list, bool *ret_files, hyp_error *err)
{
	bool nvml = false;
	int r = hyp_gres_gpu_files(dc->gres_conf, node, ret_list, &nvml, err);
	if (r < 0 || !nvml) {
		*ret_files = true;
		return r;
	}
	hyp_strv_free(*ret_list);
	*ret_list = NULL;
	*ret_files = false;
	return nvml_order(fs, ret_list, err);
}

int hyp_gpu_from_gres(const struct hyp_devices_config *dc, const struct hyp_hostfs *fs,
                      const char *node, const char *indexes, char ***ret_pcis, hyp_error *err)
{
	_cleanup_free_ unsigned *idx = NULL;
	size_t nidx = 0, nlist = 0;
	_cleanup_strv_ char **list = NULL;
	bool files;
	if (hyp_cpulist_parse(indexes, &idx, &nidx, err) < 0)
		return hyp_error_prefix(err, "SLURM_JOB_GPUS '%s'", indexes);
	int r = gpu_list(dc, fs, node, &list, &files, err);
	if (r < 0)
		return r;
	while (list[nlist])
		nlist++;
	_cleanup_strv_ char **pcis = calloc(nidx + 1, sizeof(char *));
	if (!pcis)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < nidx; i++) {
		char pci[16];
		if (idx[i] >= nlist)
			return hyp_fail(
			    err, EINVAL,
			    "Slurm allocated GPU %u, but %s lists %zu GPU%s for node %s%s", idx[i],
			    dc->gres_conf, nlist, nlist == 1 ? "" : "s", node,
			    files ? "" : " (AutoDetect=nvml: NVIDIA GPUs in sysfs)");
		if (!files)
			snprintf(pci, sizeof(pci), "%s", list[idx[i]]);
		else if (hyp_gpu_file_pci(dc, fs, list[idx[i]], pci, err) < 0)
			return hyp_error_prefix(err, "GPU %u of %s", idx[i], dc->gres_conf);
		if (!(pcis[i] = strdup(pci)))
			return hyp_fail(err, ENOMEM, "out of memory");
	}
	*ret_pcis = steal_pointer(&pcis);
	return 0;
}

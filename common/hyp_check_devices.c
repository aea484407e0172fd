/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperionctl check: the GPUs of gres.conf and the VF pools of hyperion.conf
 * as this node sees them. Skipped when none is configured; a device jobs
 * would ask for but cannot get is a warning (those jobs fail, others run).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hyp_check.h"
#include "hyp_cleanup.h"
#include "hyp_gpu.h"
#include "hyp_names.h"
#include "hyp_vf.h"

struct dev_checker {
	const struct hyp_config *cfg;
	char sys[PATH_MAX], proc[PATH_MAX];
	hyp_check_report_fn report;
	void *data;
	bool vfio;
};

static void say(struct dev_checker *c, enum hyp_check_status st, const char *name, const char *fmt,
                ...) HYP_PRINTF(4, 5);
static void say(struct dev_checker *c, enum hyp_check_status st, const char *name, const char *fmt,
                ...)
{
	char detail[HYP_ERROR_MSG_SIZE];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	c->report(c->data, st, name, detail);
}

/* "/dev/nvidia0=0000:3b:00.0, ..." for each GPU gres.conf gives this host. */
static void check_gpus(struct dev_checker *c)
{
	const struct hyp_devices_config *dc = &c->cfg->devices;
	struct hyp_hostfs fs = {.sys = c->sys, .proc = c->proc};
	char node[HYP_NODE_NAME_MAX + 1], list[768] = "";
	_cleanup_strv_ char **files = NULL;
	bool nvml = false;
	hyp_error err = {0};
	if (!dc->gres_conf || access(dc->gres_conf, F_OK) < 0)
		return say(c, HYP_CHECK_SKIP, "gpus", "no %s: no GPUs to pass through",
		           dc->gres_conf ? dc->gres_conf : "gres.conf");
	if (hyp_node_name_default(node, sizeof(node), &err) < 0 ||
	    hyp_gres_gpu_files(dc->gres_conf, node, &files, &nvml, &err) < 0)
		return say(c, HYP_CHECK_WARN, "gpus", "%s", err.msg);
	if (!files[0])
		return say(c, HYP_CHECK_SKIP, "gpus", "%s lists no GPU files for %s%s",
		           dc->gres_conf, node, nvml ? " (AutoDetect=nvml: PCI bus order)" : "");
	for (size_t i = 0; files[i]; i++) {
		char pci[16];
		if (hyp_gpu_file_pci(dc, &fs, files[i], pci, &err) < 0)
			return say(c, HYP_CHECK_WARN, "gpus", "%s", err.msg);
		size_t len = strlen(list);
		snprintf(list + len, sizeof(list) - len, "%s%s=%s", i ? ", " : "", files[i], pci);
	}
	say(c, c->vfio ? HYP_CHECK_OK : HYP_CHECK_WARN, "gpus", "%s%s", list,
	    c->vfio ? "" : "; but VFIO is not available on this node: GPU jobs will fail");
}

static void check_pool(struct dev_checker *c, const struct hyp_vf_pool *p)
{
	char name[64], pfs[256] = "";
	unsigned size, used;
	hyp_error err = {0};
	snprintf(name, sizeof(name), "vf_pool %s", p->name);
	for (size_t i = 0; p->pfs[i]; i++)
		snprintf(pfs + strlen(pfs), sizeof(pfs) - strlen(pfs), "%s%s", i ? " " : "",
		         p->pfs[i]);
	if (hyp_vf_pool_usage(p, c->sys, c->cfg->state_dir, &size, &used, &err) < 0)
		return say(c, HYP_CHECK_WARN, name, "%s", err.msg);
	say(c, c->vfio ? HYP_CHECK_OK : HYP_CHECK_WARN, name, "%u VFs of %s, %u leased%s", size,
	    pfs, used, c->vfio ? "" : "; but VFIO is not available on this node");
}

int hyp_check_devices(const struct hyp_config *cfg, const char *root, bool vfio,
                      hyp_check_report_fn report, void *data)
{
	struct dev_checker c = {.cfg = cfg, .report = report, .data = data, .vfio = vfio};
	bool real = !root || !strcmp(root, "/");
	snprintf(c.sys, sizeof(c.sys), "%s/sys", real ? "" : root);
	snprintf(c.proc, sizeof(c.proc), "%s/proc", real ? "" : root);
	check_gpus(&c);
	if (!cfg->devices.npools)
		say(&c, HYP_CHECK_SKIP, "vf_pools", "no [vf_pool] configured");
	for (size_t i = 0; i < cfg->devices.npools; i++)
		check_pool(&c, &cfg->devices.pools[i]);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sbatch, srun, salloc (as the user): reject a bad --vm-image or a
 * --vm-shares path outside the site's shares before anything is queued,
 * naming the images or shares that exist; an image the user may not use,
 * a user's own image file that is not plain qcow2/raw (opened with the
 * user's own permissions: this runs as the user), and a --mem too small
 * for the image, with the numbers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_catalog.h"
#include "hyp_cleanup.h"
#include "hyp_image_policy.h"
#include "hyp_memreq.h"
#include "hyp_shares.h"
#include "plugin.h"

extern char **environ;

#define CMDLINE_MAX (256 * 1024)

/* This process's argv, from /proc/self/cmdline (SPANK does not give it to
 * the local/allocator context); NULL when it cannot be read. */
static char **own_argv(char **ret_buf)
{
	_cleanup_free_ char *buf = malloc(CMDLINE_MAX + 1);
	FILE *f = buf ? fopen("/proc/self/cmdline", "re") : NULL;
	size_t n = f ? fread(buf, 1, CMDLINE_MAX, f) : 0, argc = 0;
	if (f)
		fclose(f);
	if (!n)
		return NULL;
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)
		argc += buf[i] == '\0';
	char **argv = calloc(argc + 2, sizeof(*argv));
	if (!argv)
		return NULL;
	for (size_t i = 0, k = 0; i < n && k <= argc; i += strlen(buf + i) + 1)
		argv[k++] = buf + i;
	*ret_buf = steal_pointer(&buf);
	return argv;
}

static int check_memory(const struct hyp_config *cfg, const struct hyp_image *img, hyp_error *err)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ char **argv = own_argv(&buf);
	unsigned long long mb = 0;
	if (!argv || hyp_memreq_find(argv, environ, &mb) != 1)
		return 0; /* not given here: the node checks the allocation */
	return hyp_image_memory_check(img, mb, cfg->vmm_reserve_mb, err);
}

/* The image exists and is the user's to use, with enough memory, and each
 * --vm-shares path lies in an allowed share. */
static int check_request(const char *name, hyp_error *err)
{
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	_cleanup_(hyp_catalog_free) struct hyp_catalog cat = {0};
	_cleanup_(hyp_image_free) struct hyp_image img = {0};
	_cleanup_strv_ char **paths = NULL, **roots = NULL;
	int r = hyp_config_load(plugin.config_path, &cfg, err);
	if (r >= 0)
		r = hyp_catalog_load(cfg.image_catalog, &cat, err);
	if (r >= 0)
		r = hyp_image_resolve(&cfg, &cat, name, getuid(), getgid(), false, &img, err);
	if (r >= 0)
		r = check_memory(&cfg, &img, err);
	if (r < 0)
		return hyp_error_prefix(err, "--vm-image=%s", name);
	r = hyp_shares_select(cfg.shares, plugin_shares(), &paths, &roots, err);
	return r < 0 ? hyp_error_prefix(err, "--vm-shares") : 0;
}

int plugin_submit_check(spank_t sp)
{
	if (!plugin.vm_requested)
		return 0;
	const char *name = plugin_image();
	if (!name) {
		slurm_error(PLUGIN_LOG_PREFIX "--vm-image needs an image name: this site has no "
		                              "default image");
		return -1;
	}
	hyp_error err = {0};
	if (check_request(name, &err) < 0) {
		slurm_error(PLUGIN_LOG_PREFIX "%s", err.msg);
		return -1;
	}
	return 0;
}

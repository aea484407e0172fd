/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sbatch, srun, salloc (as the user): reject a bad --vm-image or a
 * --vm-shares path outside the site's shares before anything is queued,
 * naming the images or shares that exist.
 */
#include <errno.h>

#include "hyp_catalog.h"
#include "hyp_cleanup.h"
#include "hyp_shares.h"
#include "plugin.h"

/* The image exists, and each --vm-shares path lies in an allowed share. */
static int check_request(const char *name, hyp_error *err)
{
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	_cleanup_(hyp_catalog_free) struct hyp_catalog cat = {0};
	_cleanup_strv_ char **paths = NULL, **roots = NULL;
	const struct hyp_image *img;
	int r = hyp_config_load(plugin.config_path, &cfg, err);
	if (r >= 0)
		r = hyp_catalog_load(cfg.image_catalog, &cat, err);
	if (r >= 0)
		r = hyp_catalog_lookup(&cat, name, &img, err);
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

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sbatch, srun, salloc (as the user): reject a bad --vm-image before
 * anything is queued, naming the images that exist.
 */
#include <errno.h>

#include "hyp_catalog.h"
#include "hyp_cleanup.h"
#include "plugin.h"

static int check_image(const char *name, hyp_error *err)
{
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	_cleanup_(hyp_catalog_free) struct hyp_catalog cat = {0};
	const struct hyp_image *img;
	int r = hyp_config_load(plugin.config_path, &cfg, err);
	if (r >= 0)
		r = hyp_catalog_load(cfg.image_catalog, &cat, err);
	if (r >= 0)
		r = hyp_catalog_lookup(&cat, name, &img, err);
	return r;
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
	if (check_image(name, &err) < 0) {
		slurm_error(PLUGIN_LOG_PREFIX "--vm-image=%s: %s", name, err.msg);
		return -1;
	}
	return 0;
}

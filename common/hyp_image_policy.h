/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who may boot which image, with how much memory, and what a --vm-image
 * value resolves to: a catalog name, or (when hyperion.conf allows it) the
 * absolute path of the user's own disk image. The same checks run at
 * submission (as the user) and on the node before boot (as root, the file
 * opened with the user's credentials).
 */
#ifndef HYP_IMAGE_POLICY_H
#define HYP_IMAGE_POLICY_H

#include <stdbool.h>
#include <sys/types.h>

#include "hyp_catalog.h"
#include "hyp_config.h"
#include "hyp_error.h"

/* The image's users/groups allow uid (primary group gid, and every group
 * the user database gives it): "image 'x' is restricted to users a, b and
 * groups g (you are u)". */
int hyp_image_access_check(const struct hyp_image *img, uid_t uid, gid_t gid, hyp_error *err);

/* mem_mb (the job's memory on a node) minus the VMM reserve covers the
 * image's min_memory and Hyperion's own minimum, with the numbers. */
int hyp_image_memory_check(const struct hyp_image *img, unsigned long long mem_mb,
                           unsigned reserve_mb, hyp_error *err);

/*
 * --vm-image=VALUE for uid/gid: a catalog name (looked up, access checked),
 * or an absolute path, allowed by user_images, checked as the user
 * (as_root: opened in a child with the user's credentials) and booted with
 * the kernel, initrd and cmdline of cfg->user_image_boot. *ret_img is a
 * copy, to free with hyp_image_free.
 */
int hyp_image_resolve(const struct hyp_config *cfg, const struct hyp_catalog *cat,
                      const char *value, uid_t uid, gid_t gid, bool as_root,
                      struct hyp_image *ret_img, hyp_error *err);

#endif

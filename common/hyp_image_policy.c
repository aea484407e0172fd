/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hyp_image_policy.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_cleanup.h"
#include "hyp_image_check.h"
#include "hyp_spec.h"

#define MAX_GROUPS 1024

/* Is `name` one of the comma-separated `list`? */
static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p; p += strcspn(p, ","), p += *p == ',') {
		if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
	}
	return false;
}

static bool in_groups(const char *groups, const char *user, gid_t gid)
{
	gid_t list[MAX_GROUPS];
	int n = MAX_GROUPS;
	if (!groups)
		return false;
	if (!user || getgrouplist(user, gid, list, &n) < 0) {
		list[0] = gid;
		n = 1;
	}
	for (int i = 0; i < n; i++) {
		struct group gr, *g = NULL;
		char buf[16384];
		if (getgrgid_r(list[i], &gr, buf, sizeof(buf), &g) == 0 && g &&
		    in_list(groups, g->gr_name))
			return true;
	}
	return false;
}

int hyp_image_access_check(const struct hyp_image *img, uid_t uid, gid_t gid, hyp_error *err)
{
	if (!img->users && !img->groups)
		return 0;
	struct passwd pwd, *pw = NULL;
	char buf[4096];
	getpwuid_r(uid, &pwd, buf, sizeof(buf), &pw);
	const char *user = pw ? pw->pw_name : NULL;
	if ((user && in_list(img->users, user)) || in_groups(img->groups, user, gid))
		return 0;
	char you[64];
	snprintf(you, sizeof(you), "%s", user ? user : "?");
	if (!user)
		snprintf(you, sizeof(you), "uid %u", (unsigned)uid);
	return hyp_fail(err, EACCES, "image '%s' is restricted to %s%s%s%s%s (you are %s)",
	                img->name, img->users ? "users " : "", img->users ? img->users : "",
	                img->users && img->groups ? " and " : "", img->groups ? "groups " : "",
	                img->groups ? img->groups : "", you);
}

int hyp_image_memory_check(const struct hyp_image *img, unsigned long long mem_mb,
                           unsigned reserve_mb, hyp_error *err)
{
	unsigned long long need =
	    img->min_memory_mb > HYP_MIN_GUEST_MIB ? img->min_memory_mb : HYP_MIN_GUEST_MIB;
	unsigned long long left = mem_mb > reserve_mb ? mem_mb - reserve_mb : 0;
	if (left >= need)
		return 0;
	return hyp_fail(err, EINVAL,
	                "image '%s' needs at least %llu MB of guest memory: %llu MB asked, "
	                "minus %u MB for the VMM, leaves %llu MB: ask for at least --mem=%lluM",
	                img->name, need, mem_mb, reserve_mb, left, need + reserve_mb);
}

/* The user's own image: allowed, checked as the user, booted like the
 * site's user_image_boot image. */
static int resolve_path(const struct hyp_config *cfg, const struct hyp_catalog *cat,
                        const char *path, uid_t uid, gid_t gid, bool as_root,
                        struct hyp_image *ret_img, hyp_error *err)
{
	const struct hyp_image *boot;
	struct hyp_image_info info;
	if (!cfg->user_images)
		return hyp_fail(err, EPERM,
		                "'%s': this site does not allow user-supplied images "
		                "(user_images = no): give an image name",
		                path);
	int r = as_root ? hyp_image_check_file_as(path, uid, gid, &info, err)
	                : hyp_image_check_file(path, &info, err);
	if (r < 0)
		return r;
	if ((r = hyp_catalog_lookup(cat, cfg->user_image_boot, &boot, err)) < 0)
		return hyp_error_prefix(err, "user_image_boot");
	_cleanup_(hyp_image_free) struct hyp_image img = {0};
	if ((r = hyp_image_copy(boot, &img, err)) < 0)
		return r;
	free(img.name);
	free(img.disk);
	img.name = strdup(path);
	img.disk = strdup(path);
	if (!img.name || !img.disk)
		return hyp_fail(err, ENOMEM, "out of memory");
	img.kind = HYP_IMAGE_DISK;
	img.disk_format = info.format;
	img.user_supplied = true;
	img.disk_size = info.virtual_size;
	*ret_img = img;
	memset(&img, 0, sizeof(img));
	return 0;
}

int hyp_image_resolve(const struct hyp_config *cfg, const struct hyp_catalog *cat,
                      const char *value, uid_t uid, gid_t gid, bool as_root,
                      struct hyp_image *ret_img, hyp_error *err)
{
	const struct hyp_image *img;
	if (value && (value[0] == '/' || strchr(value, ':')))
		return resolve_path(cfg, cat, value, uid, gid, as_root, ret_img, err);
	int r = hyp_catalog_lookup(cat, value, &img, err);
	if (r >= 0)
		r = hyp_image_access_check(img, uid, gid, err);
	if (r >= 0)
		r = hyp_image_copy(img, ret_img, err);
	return r;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The image catalog: admin-defined bootable images, one "[image NAME]"
 * section each, in *.conf files of the catalog directory.
 */
#ifndef HYP_CATALOG_H
#define HYP_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "hyp_error.h"

enum hyp_image_kind {
	HYP_IMAGE_APPLIANCE, /* kernel + initramfs, the agent is PID 1 */
	HYP_IMAGE_DISK,      /* qcow2/raw disk, direct kernel boot, per-job overlay */
};

enum hyp_disk_format { HYP_DISK_QCOW2, HYP_DISK_RAW };

struct hyp_image {
	char *name;
	enum hyp_image_kind kind;
	char *kernel;                     /* kernel = PATH (required) */
	char *initrd;                     /* initrd = PATH (required for appliance) */
	char *cmdline;                    /* cmdline = extra kernel arguments (optional) */
	char *disk;                       /* disk = PATH (disk kind) */
	enum hyp_disk_format disk_format; /* format = qcow2 | raw */
	char *description;                /* description = one line shown to users */
	unsigned min_memory_mb;           /* min_memory = MB the guest needs (0: no minimum) */
	char *users;                      /* users = NAME[,NAME]: who may use it (NULL: all) */
	char *groups;                     /* groups = NAME[,NAME]: members may use it */
	/* A user-supplied image (hyp_image_user.h), never in the catalog:
	 * its virtual size, so that its overlay is made without opening it. */
	bool user_supplied;
	unsigned long long disk_size;
};

struct hyp_catalog {
	struct hyp_image *images;
	size_t n;
	char *dir; /* where it was loaded from, for messages */
};

/* Load every *.conf in `dir` in name order (hidden files skipped). A
 * duplicate name, unknown key or missing required key is an error naming the
 * file and line. A missing `dir` is an empty catalog, not an error: lookups
 * then say where images were looked for. Files are not checked for
 * existence here (see hyp_image_check). */
int hyp_catalog_load(const char *dir, struct hyp_catalog *ret_cat, hyp_error *err);
void hyp_catalog_free(struct hyp_catalog *cat);

/* Find `name`; unknown names fail with "unknown image 'x' (available: a, b)". */
int hyp_catalog_lookup(const struct hyp_catalog *cat, const char *name,
                       const struct hyp_image **ret_img, hyp_error *err);

/* Check that the image's files exist, are regular files and can be opened
 * for reading: "image 'x': kernel '/path': No such file or directory"; and
 * that no user but root can change them or a directory above them (see
 * hyp_trust.h): "image 'x': kernel '/path' refused: directory '/srv' is
 * world-writable: ...". */
int hyp_image_check(const struct hyp_image *img, hyp_error *err);
/* The same, with `also_owner` trusted as well as root (tests as a user). */
int hyp_image_check_owner(const struct hyp_image *img, uid_t also_owner, hyp_error *err);

int hyp_image_copy(const struct hyp_image *src, struct hyp_image *ret_dst, hyp_error *err);
void hyp_image_free(struct hyp_image *img);

#endif

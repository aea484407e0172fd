/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The per-job copy-on-write overlay over a catalog disk image. */
#ifndef HYP_OVERLAY_H
#define HYP_OVERLAY_H

#include <sys/types.h>

#include "hyp_catalog.h"
#include "hyp_error.h"

/* The one qemu-img Hyperion runs. */
#define HYP_QEMU_IMG "/usr/bin/qemu-img"

/*
 * Create a qcow2 overlay at `path` whose backing file is the image's disk
 * (never written), mode 0600 owned by uid:gid. The file is created here
 * (O_EXCL|O_NOFOLLOW: an existing file or link is an error) before qemu-img
 * (run as root, through hyp_spawn) fills it; `path` must be in a directory
 * only root can write to (the job directory), or the job user could swap it
 * between the two. On failure nothing is left at `path`.
 */
int hyp_overlay_create(const struct hyp_image *img, const char *path, uid_t uid, gid_t gid,
                       hyp_error *err);

#endif

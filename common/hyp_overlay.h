/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The per-job copy-on-write overlay over a catalog disk image. */
#ifndef HYP_OVERLAY_H
#define HYP_OVERLAY_H

#include "hyp_catalog.h"
#include "hyp_error.h"

/* Create a qcow2 overlay at `path` whose backing file is the image's disk
 * (never written). Runs qemu-img with an argv array. */
int hyp_overlay_create(const struct hyp_image *img, const char *path, hyp_error *err);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * User-supplied disk images (--vm-image=/path): what the file is, read from
 * its own bytes, never from QEMU's probing. Only a plain qcow2 (version 2
 * or 3) or a raw file is accepted; a qcow2 that references any other file
 * (backing file, external data file) or is encrypted, and other image
 * formats (vmdk, vdi, vhdx, qed, luks...) are refused with the reason.
 */
#ifndef HYP_IMAGE_CHECK_H
#define HYP_IMAGE_CHECK_H

#include <stdint.h>
#include <sys/types.h>

#include "hyp_catalog.h"
#include "hyp_error.h"

struct hyp_image_info {
	enum hyp_disk_format format;
	uint64_t virtual_size; /* bytes the guest sees */
};

/* The path's form: absolute, no ':' (json:, nbd:, http: names), no "..",
 * at most PATH_MAX. */
int hyp_image_path_check(const char *path, hyp_error *err);

/* The open file `fd` (named `path` in messages): a regular file holding a
 * plain qcow2 or raw image. */
int hyp_image_fd_check(int fd, const char *path, struct hyp_image_info *ret_info, hyp_error *err);

/* Open `path` as the calling user (O_NONBLOCK, so a FIFO cannot hang us)
 * and check it: for sbatch/srun/salloc, which run as the user. */
int hyp_image_check_file(const char *path, struct hyp_image_info *ret_info, hyp_error *err);

/* The same, from root, with the user's credentials: a child takes the
 * user's groups, gid and uid, opens the file and passes the fd back. */
int hyp_image_check_file_as(const char *path, uid_t uid, gid_t gid, struct hyp_image_info *ret_info,
                            hyp_error *err);

#endif

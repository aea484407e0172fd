/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether users other than root could change a file that root hands to
 * QEMU (a catalog image, kernel or initrd): the file and every directory on
 * its path, symlinks followed, must belong to root and be writable by no
 * group or other user. A world- or group-writable directory with the sticky
 * bit is accepted: only an entry's owner (root here) may rename or remove it.
 */
#ifndef HYP_TRUST_H
#define HYP_TRUST_H

#include <sys/types.h>

#include "hyp_error.h"

/* 0 if only root can change `path` (absolute); -EPERM with the component
 * and the reason ("directory '/srv/img' is world-writable: ...") if not; a
 * negative errno if a component cannot be read. `also_owner` is a second
 * trusted owner (0: root only), for tests that run as a plain user. */
int hyp_trust_check_path(const char *path, uid_t also_owner, hyp_error *err);

#endif

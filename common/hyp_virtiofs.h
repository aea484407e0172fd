/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One virtiofsd per share of a job, run as the job user (never root): root
 * creates the listening socket in the job directory (the job user's, 0600,
 * for QEMU, which runs as that user too) and starts virtiofsd on it with
 * --fd, inside a user namespace that maps only that user (util-linux
 * unshare --map-current-user --keep-caps: the capabilities virtiofsd's
 * sandbox needs, valid only in that namespace). Supplementary groups are
 * dropped. Each socket, log and process is a resource of the job.
 */
#ifndef HYP_VIRTIOFS_H
#define HYP_VIRTIOFS_H

#include "hyp_error.h"
#include "hyp_spec.h"

#define HYP_UNSHARE_PATH "/usr/bin/unshare"

/* Start the spec's virtiofsds, recording each in the resource list
 * `resources`. A share missing on this node or a virtiofsd that does not
 * start fails naming the share (-ENOENT, -EINVAL or -EIO: a job's
 * problem, not the node's). */
int hyp_virtiofs_start(const struct hyp_vm_spec *spec, const char *resources, hyp_error *err);

#endif

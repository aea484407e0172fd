/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host directories shared with a job's VM through virtio-fs: the admin's
 * allowlist (hyperion.conf `shares`), a job's choice within it
 * (--vm-shares, hyperionctl --shares) and what each share is in the spec.
 * Paths are absolute and normalised: no empty, "." or ".." component, no
 * trailing slash, never "/" itself.
 */
#ifndef HYP_SHARES_H
#define HYP_SHARES_H

#include <stdbool.h>
#include <stddef.h>

#include "hyp_error.h"

#define HYP_SHARES_MAX     16 /* shares of one job */
#define HYP_SHARE_PATH_MAX 1024

struct hyp_share {
	char *path;   /* the host directory, mounted at the same path in the guest */
	char *root;   /* the allowlist entry it lies in */
	char *tag;    /* virtio-fs tag: hypfs<i> */
	char *socket; /* <job_dir>/fs.<i>.sock (hyp_names.h) */
};
void hyp_share_free(struct hyp_share *s);

/* `len` bytes of `path`, normalised into *ret (malloc'd); `what` names it
 * in errors ("shares", "--vm-shares"). */
int hyp_share_path_normalize(const char *what, const char *path, size_t len, char **ret,
                             hyp_error *err);

/* Whether `path` is `root` or lies under it (both normalised). */
bool hyp_share_path_within(const char *path, const char *root);

/*
 * The shares a job gets: `request` NULL is every allowed one, "none" none,
 * else a comma-separated list of paths each equal to or under an allowed
 * one. *ret_roots[i] is the allowlist entry of (*ret_paths)[i]. Both
 * NULL-terminated, malloc'd. A path outside the list fails naming the
 * allowed ones.
 */
int hyp_shares_select(char *const *allowed, const char *request, char ***ret_paths,
                      char ***ret_roots, hyp_error *err);

/* "/home /scratch" (malloc'd), "none" when empty: for messages. */
char *hyp_shares_describe(char *const *paths);

#endif

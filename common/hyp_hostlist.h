/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Slurm's host list expressions ("node[01-03,7],gpu4", "r[1-2]n[1-2]"),
 * expanded in order: host and guest expand the same expression the same
 * way, so a node's position in it is the same on both sides (the guest
 * network's address scheme, hyp_net.h). No dependencies: the agent links it.
 */
#ifndef HYP_HOSTLIST_H
#define HYP_HOSTLIST_H

#include <stddef.h>

#include "hyp_error.h"

#define HYP_HOSTLIST_MAX      4096 /* names in one expression */
#define HYP_HOSTLIST_NAME_MAX 64   /* bytes of one name */

/* The names (NULL-terminated, each malloc'd: free with hyp_hostlist_free). */
int hyp_hostlist_expand(const char *expr, char ***ret_names, size_t *ret_n, hyp_error *err);
void hyp_hostlist_free(char **names);

/* The position of `name` in the expansion, or -1. */
long hyp_hostlist_index(char *const *names, size_t n, const char *name);

#endif

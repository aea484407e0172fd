/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Range lists as Slurm and Linux write them: "0-3,8,10-11". */
#ifndef HYP_CPULIST_H
#define HYP_CPULIST_H

#include <stddef.h>

#include "hyp_error.h"

#define HYP_CPULIST_MAX 8192 /* largest id accepted */

/* Parse into a sorted array without duplicates. Empty or malformed lists and
 * ids above HYP_CPULIST_MAX are errors naming the offending part. */
int hyp_cpulist_parse(const char *list, unsigned **ret_ids, size_t *ret_n, hyp_error *err);

/* Format sorted ids back as a compact range list (malloc'd). */
char *hyp_cpulist_format(const unsigned *ids, size_t n);

#endif

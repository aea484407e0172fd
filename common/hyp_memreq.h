/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The memory a job asks for per node, as sbatch/srun/salloc were given it,
 * so that submission can refuse too little for the image before anything
 * is queued (SPANK gives no allocation in the local/allocator context).
 * Slurm's precedence: the command line (--mem), then the environment
 * (SBATCH_MEM_PER_NODE, SALLOC_MEM_PER_NODE, SLURM_MEM_PER_NODE), then for
 * sbatch the script's #SBATCH lines. --mem=0 (all of the node) and
 * --mem-per-cpu are not judged here: the node checks them.
 */
#ifndef HYP_MEMREQ_H
#define HYP_MEMREQ_H

#include "hyp_error.h"

/* "512", "512M", "2G", "1T", "1024K" -> MB; -EINVAL for anything else. */
int hyp_memreq_parse_size(const char *s, unsigned long long *ret_mb);

/* From argv (argv[0]'s base name says which command) and envp: 1 with
 * *ret_mb when the job gives a per-node size, 0 when it does not. */
int hyp_memreq_find(char *const argv[], char *const envp[], unsigned long long *ret_mb);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The per-job state directory and its locks (hyp_names.h lists the paths).
 * The directories are root's so a job user cannot swap a file libvirt or
 * root will open for a symlink; the files the user needs are their own:
 * sockets, exec locks, console log and overlay, job user 0600.
 */
#ifndef HYP_STATEDIR_H
#define HYP_STATEDIR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hyp_error.h"

#include "hyp_names.h"

/* Create <state_dir> and <state_dir>/<node> (root 0755) or check them. */
int hyp_node_dir_ensure(const char *state_dir, const char *node, hyp_error *err);

/*
 * Take the per-job lock (blocking, bounded by timeout_s). Returns the lock fd
 * (>= 0), to be released with hyp_job_unlock(). Safe against the lock file
 * being removed by the holder: the lock is retaken if its inode changed.
 */
int hyp_job_lock(const char *state_dir, const char *node, uint32_t job_id, unsigned timeout_s,
                 hyp_error *err);
/* Release; with `remove`, unlink the lock file first (teardown). */
void hyp_job_unlock(const char *state_dir, const char *node, uint32_t job_id, int fd, bool remove);

/* Create the job directory (root 0711) and pre-create the job user's files
 * (exec locks, console log) owned by uid:gid, mode 0600. Fails with EEXIST
 * if the directory exists. */
int hyp_job_dir_create(const char *job_dir, unsigned nexec_ports, uid_t uid, gid_t gid,
                       hyp_error *err);

/* Give the job's sockets and console log to the job user (0600) once QEMU
 * created or opened them. */
int hyp_job_dir_chown_sockets(const char *job_dir, uid_t uid, gid_t gid, hyp_error *err);

/* Remove the job directory and everything in it; absent is success. */
int hyp_job_dir_remove(const char *job_dir, hyp_error *err);

/* Job ids with a directory, lock or resource list of the node (malloc'd). */
int hyp_state_list_jobs(const char *state_dir, const char *node, uint32_t **ret_ids, size_t *ret_n,
                        hyp_error *err);
/* The node directories under state_dir (NULL-terminated, malloc'd). */
int hyp_state_list_nodes(const char *state_dir, char ***ret_nodes, hyp_error *err);

#endif

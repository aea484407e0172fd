/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The per-job state directory and its locks.
 *
 *   <state_dir>/                 root 0755
 *   <state_dir>/job.<id>.lock    root 0600, the per-job lock (start/destroy)
 *   <state_dir>/job.<id>/        root 0711: the job user may reach, not list
 *       ctl.sock, exec.<i>.sock  job user 0600 (chowned once QEMU listens)
 *       exec.<i>.lock            job user 0600, claimed by hyperion-exec
 *       console.log              job user 0600, the guest's serial console
 *       overlay.qcow2            root, disk images only
 *
 * The directory is root's so a job user cannot swap a file libvirt or root
 * will open for a symlink; the files it needs are its own.
 */
#ifndef HYP_STATEDIR_H
#define HYP_STATEDIR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hyp_error.h"

#define HYP_CTL_SOCKET  "ctl.sock"
#define HYP_CONSOLE_LOG "console.log"
#define HYP_OVERLAY     "overlay.qcow2"

/* "<state_dir>/job.<id>" (malloc'd). */
char *hyp_job_dir(const char *state_dir, uint32_t job_id);
/* "<job_dir>/<name>" (malloc'd). */
char *hyp_job_file(const char *job_dir, const char *name);
/* "<job_dir>/exec.<i>.sock" and "<job_dir>/exec.<i>.lock" (malloc'd). */
char *hyp_exec_socket_path(const char *job_dir, unsigned i);
char *hyp_exec_lock_path(const char *job_dir, unsigned i);

/*
 * Take the per-job lock (blocking, bounded by timeout_s). Returns the lock fd
 * (>= 0), to be released with hyp_job_unlock(). Safe against the lock file
 * being removed by the holder: the lock is retaken if its inode changed.
 */
int hyp_job_lock(const char *state_dir, uint32_t job_id, unsigned timeout_s, hyp_error *err);
/* Release; with `remove`, unlink the lock file first (teardown). */
void hyp_job_unlock(const char *state_dir, uint32_t job_id, int fd, bool remove);

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

/* Job ids that have a directory or lock under state_dir (malloc'd array). */
int hyp_state_list_jobs(const char *state_dir, uint32_t **ret_ids, size_t *ret_n, hyp_error *err);

#endif

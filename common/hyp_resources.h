/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Everything a job holds on a node, in one list: start records each
 * resource in the job's resource list (hyp_names.h) *before* acquiring it,
 * so a crash at any point leaves nothing unlisted; every way out (rollback
 * of a failed start, stop, the epilog, reconciliation) releases the list in
 * reverse order. Releasing is idempotent: what is already gone is skipped.
 *
 * One line per resource, "KIND VALUE". A new kind of resource is one entry
 * in hyp_resources.c's table: its release function.
 */
#ifndef HYP_RESOURCES_H
#define HYP_RESOURCES_H

#include <stdbool.h>
#include <sys/types.h>

#include "hyp_error.h"

struct hyp_vm_conn;

#define HYP_RES_DIR     "dir"     /* the job directory, removed flat */
#define HYP_RES_FILE    "file"    /* a file, unlinked */
#define HYP_RES_DOMAIN  "domain"  /* a libvirt domain, destroyed */
#define HYP_RES_PROCESS "process" /* "PID STARTTIME": a helper process, killed */
#define HYP_RES_READY   "ready"   /* marker: the start completed; nothing to release */
#define HYP_RES_BOOTED  "booted"  /* marker: "MS", start to the guest's agent up */
#define HYP_RES_MANAGER "manager" /* marker: the scheduler whose job it is */
#define HYP_RES_NETDEV  "netdev"  /* a network device of the job (hyp-*), deleted */
#define HYP_RES_FDB     "fdb"     /* "DEV MAC DST": a VXLAN FDB entry, deleted */

#define HYP_MANAGER_SLURM "slurm"
#define HYP_MANAGER_PBS   "pbs"

/* Called once per resource actually released (not for what was gone). */
typedef void (*hyp_release_log_fn)(void *data, const char *kind, const char *value);

struct hyp_release_ctx {
	struct hyp_vm_conn *conn; /* for domains; NULL fails them */
	hyp_release_log_fn log;   /* may be NULL */
	void *log_data;
};

/* Append "KIND VALUE" (no newline in either) and sync it to disk. */
int hyp_resources_add(const char *list, const char *kind, const char *value, hyp_error *err);
/* Record a running process by pid and start time, so that a recycled pid
 * is never killed. */
int hyp_resources_add_process(const char *list, pid_t pid, hyp_error *err);
/* Whether the list holds a line of this kind; a missing list holds none. */
int hyp_resources_has(const char *list, const char *kind, bool *ret_has, hyp_error *err);
/* The value of the last line of this kind (malloc'd), NULL when none. */
int hyp_resources_get(const char *list, const char *kind, char **ret_value, hyp_error *err);
/*
 * Release every resource of the list, last first, and remove the list once
 * all are gone. Continues past a failure (the first one is returned) and
 * then keeps the list, so a later release retries what remains. A missing
 * list is success.
 */
int hyp_resources_release(const char *list, const struct hyp_release_ctx *ctx, hyp_error *err);

#endif

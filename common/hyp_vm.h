/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A job's VM through the libvirt C API: start (transient domain), destroy,
 * list, reap. Root code: it waits for QEMU, never for bytes from the guest.
 */
#ifndef HYP_VM_H
#define HYP_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "hyp_config.h"
#include "hyp_error.h"
#include "hyp_names.h"
#include "hyp_spec.h"

struct hyp_vm_conn; /* a libvirt connection */

int hyp_vm_connect(const struct hyp_config *cfg, struct hyp_vm_conn **ret_conn, hyp_error *err);
void hyp_vm_disconnect(struct hyp_vm_conn *conn);
static inline void hyp_vm_disconnectp(struct hyp_vm_conn **conn)
{
	hyp_vm_disconnect(*conn);
}

#define HYP_VM_REUSED 1

/*
 * Under the per-job lock: record and acquire everything the job's VM needs
 * (state directory, overlay, transient domain; hyp_resources.h), and hand
 * the sockets to the job user. Returns 0 once QEMU runs, or HYP_VM_REUSED
 * when the job's VM already runs for this user (a later step). A domain
 * under the job's name that is not that (another owner, not running, a
 * start that never completed) is released first. On failure nothing is
 * left behind.
 */
int hyp_vm_start(struct hyp_vm_conn *conn, const struct hyp_config *cfg,
                 const struct hyp_vm_spec *spec, hyp_error *err);

/*
 * Wait until the guest has opened its control port (QEMU's virtio-serial
 * state, reported by libvirt; no guest bytes are read). -ETIMEDOUT after
 * timeout_s, -ESRCH if the domain went away (crashed guest).
 */
int hyp_vm_wait_ready(struct hyp_vm_conn *conn, const char *domain, unsigned timeout_s,
                      hyp_error *err);

/* Release everything the job holds on the node, under its lock; ctx (may
 * be NULL) logs each released item. Absent is success. */
struct hyp_release_ctx;
int hyp_vm_destroy(struct hyp_vm_conn *conn, const struct hyp_config *cfg, const char *node,
                   uint32_t job_id, const struct hyp_release_ctx *ctx, hyp_error *err);

/* Reconciliation's destroy: skips (returns 0) when the job's lock is held
 * by a start or stop, 1 once released. */
int hyp_vm_release_dead(struct hyp_vm_conn *conn, const struct hyp_config *cfg, const char *node,
                        uint32_t job_id, const struct hyp_release_ctx *ctx, hyp_error *err);

/* Destroy one domain by name: 1 if it ran, 0 if there was none. */
int hyp_vm_domain_destroy(struct hyp_vm_conn *conn, const char *name, hyp_error *err);

struct hyp_vm_info {
	uint32_t job_id;
	char node[HYP_NODE_NAME_MAX + 1];
	uid_t uid;
	char user[64];
	char state[16]; /* running, paused, shutoff, ... , "leftover" for state without domain */
	time_t started;
	unsigned vcpus;
	unsigned long long memory_mib;
	unsigned boot_ms; /* start to the guest's agent up; 0: not known (see below) */
};

/* Hyperion VMs of every node on this host, plus job state left without a
 * domain ("leftover"). */
int hyp_vm_list(struct hyp_vm_conn *conn, const struct hyp_config *cfg,
                struct hyp_vm_info **ret_vms, size_t *ret_n, hyp_error *err);
/* Fill boot_ms from what each start recorded in its job's resource list
 * (a file read per VM: for display, not for reconciliation). */
void hyp_vm_list_boot_times(const struct hyp_config *cfg, struct hyp_vm_info *vms, size_t n);

#endif

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
#include "hyp_spec.h"

struct hyp_vm_conn; /* a libvirt connection */

int hyp_vm_connect(const struct hyp_config *cfg, struct hyp_vm_conn **ret_conn, hyp_error *err);
void hyp_vm_disconnect(struct hyp_vm_conn *conn);
static inline void hyp_vm_disconnectp(struct hyp_vm_conn **conn)
{
	hyp_vm_disconnect(*conn);
}

/*
 * Create the job's state directory and overlay, start the transient domain,
 * hand the sockets to the job user, all under the per-job lock. Returns once
 * QEMU runs. On any failure nothing is left behind. A job that already has
 * a VM fails with EEXIST.
 */
int hyp_vm_start(struct hyp_vm_conn *conn, const struct hyp_config *cfg,
                 const struct hyp_vm_spec *spec, hyp_error *err);

/*
 * Wait until the guest has opened its control port (QEMU's virtio-serial
 * state, reported by libvirt; no guest bytes are read). -ETIMEDOUT after
 * timeout_s, -ESRCH if the domain went away (crashed guest).
 */
int hyp_vm_wait_ready(struct hyp_vm_conn *conn, uint32_t job_id, unsigned timeout_s,
                      hyp_error *err);

/* Destroy the domain and remove everything the job held. Absent is success. */
int hyp_vm_destroy(struct hyp_vm_conn *conn, const struct hyp_config *cfg, uint32_t job_id,
                   hyp_error *err);

struct hyp_vm_info {
	uint32_t job_id;
	uid_t uid;
	char user[64];
	char state[16]; /* running, paused, shutoff, ... , "leftover" for state without domain */
	time_t started;
	unsigned vcpus;
	unsigned long long memory_mib;
};

/* Hyperion VMs on this node, plus job state left without a domain. */
int hyp_vm_list(struct hyp_vm_conn *conn, const struct hyp_config *cfg,
                struct hyp_vm_info **ret_vms, size_t *ret_n, hyp_error *err);

#endif

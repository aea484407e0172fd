/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to hyp_vm*.c: libvirt handles and error conversion. */
#ifndef HYP_VIRT_H
#define HYP_VIRT_H

#include <signal.h>
#include <stdbool.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "hyp_cleanup.h"
#include "hyp_error.h"
#include "hyp_vm.h"

struct hyp_vm_conn {
	virConnectPtr conn;
	sigset_t saved_mask;  /* the thread's, before SIGPIPE was blocked */
	bool sigpipe_pending; /* one was pending before: not ours to discard */
};

static inline void hyp_virdomainp(virDomainPtr *d)
{
	if (*d)
		virDomainFree(*d);
}
#define _cleanup_virdomain_ _cleanup_(hyp_virdomainp)

/* Record "CONTEXT: <libvirt's last error>"; returns the negative code:
 * -ECONNREFUSED when the connection (may be NULL) is lost, a node fault;
 * -EIO for anything libvirtd reported over a working one. */
int hyp_fail_virt(virConnectPtr conn, hyp_error *err, const char *fmt, ...) HYP_PRINTF(3, 4);

/* True if libvirt's last error says the domain does not exist (any more). */
bool hyp_virt_no_domain(void);

#endif

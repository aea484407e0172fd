/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperionctl list: the Hyperion VMs of this node. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ctl.h"
#include "hyp_cleanup.h"
#include "hyp_vm.h"

static void format_uptime(time_t started, char *buf, size_t size)
{
	if (!started) {
		snprintf(buf, size, "-");
		return;
	}
	long s = (long)(time(NULL) - started);
	if (s < 0)
		s = 0;
	snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
}

int command_list(struct ctl *ctl, int argc, char **argv, hyp_error *err)
{
	if (argc > 1)
		return hyp_fail(err, EINVAL, "list takes no arguments");
	struct hyp_vm_conn *conn = NULL;
	_cleanup_free_ struct hyp_vm_info *vms = NULL;
	size_t n = 0;
	int r = hyp_vm_connect(&ctl->cfg, &conn, err);
	if (r >= 0)
		r = hyp_vm_list(conn, &ctl->cfg, &vms, &n, err);
	if (r >= 0)
		hyp_vm_list_boot_times(&ctl->cfg, vms, n);
	hyp_vm_disconnect(conn);
	if (r < 0)
		return r;
	printf("%-10s %-16s %-12s %-9s %5s %9s %7s %10s\n", "JOB", "NODE", "USER", "STATE", "VCPUS",
	       "MEMORY", "BOOT", "UPTIME");
	for (size_t i = 0; i < n; i++) {
		char uptime[32];
		format_uptime(vms[i].started, uptime, sizeof(uptime));
		char boot[16] = "-";
		if (vms[i].boot_ms)
			snprintf(boot, sizeof(boot), "%.2fs", vms[i].boot_ms / 1000.0);
		printf("%-10u %-16s %-12s %-9s %5u %6lluMiB %7s %10s\n", vms[i].job_id, vms[i].node,
		       vms[i].user[0] ? vms[i].user : "-", vms[i].state, vms[i].vcpus,
		       vms[i].memory_mib, boot, uptime);
	}
	return 0;
}

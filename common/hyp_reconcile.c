/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hyp_reconcile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_vm.h"

#define STEPD_COMM "slurmstepd"

/* "slurmstepd: [<job>.<step>]" (its process title) names job_id? */
static bool stepd_of_job(int procfd, const char *pid, uint32_t job_id)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "%s/comm", pid);
	_cleanup_close_ int cfd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n = cfd >= 0 ? read(cfd, buf, sizeof(buf) - 1) : -1;
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (strcmp(strtok(buf, "\n") ? buf : "", STEPD_COMM) != 0)
		return false;
	snprintf(path, sizeof(path), "%s/cmdline", pid);
	_cleanup_close_ int lfd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	n = lfd >= 0 ? read(lfd, buf, sizeof(buf) - 1) : -1;
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char want[32];
	snprintf(want, sizeof(want), "[%" PRIu32 ".", job_id);
	return strstr(buf, want) != NULL;
}

bool hyp_job_alive_locally(void *data, const char *node, uint32_t job_id)
{
	const char *proc = data ? data : "/proc";
	_cleanup_closedir_ DIR *d = opendir(proc);
	if (!d)
		return true; /* cannot tell: keep */
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9' &&
		    stepd_of_job(dirfd(d), de->d_name, job_id))
			return true;
	return false;
}

/* Whether the job's resource list names another scheduler. */
static bool managed_by_other(const struct hyp_config *cfg, const struct hyp_vm_info *vm,
                             const char *manager)
{
	_cleanup_free_ char *list = hyp_job_resources_path(cfg->state_dir, vm->node, vm->job_id);
	_cleanup_free_ char *value = NULL;
	hyp_error ignored;
	if (!manager || !list || hyp_resources_get(list, HYP_RES_MANAGER, &value, &ignored) < 0)
		return false;
	return strcmp(value ? value : HYP_MANAGER_SLURM, manager) != 0;
}

static bool unlisted(const struct hyp_config *cfg, const struct hyp_vm_info *vm)
{
	_cleanup_free_ char *list = hyp_job_resources_path(cfg->state_dir, vm->node, vm->job_id);
	return !list || access(list, F_OK) < 0;
}

static bool too_young(const struct hyp_vm_info *vm, time_t started_before)
{
	return started_before && vm->started > started_before;
}

int hyp_reconcile_jobs(struct hyp_vm_conn *conn, const struct hyp_config *cfg,
                       const struct hyp_reconcile_opts *o, unsigned *ret_released, hyp_error *err)
{
	_cleanup_free_ struct hyp_vm_info *vms = NULL;
	size_t n = 0;
	int r = hyp_vm_list(conn, cfg, &vms, &n, err);
	if (r < 0)
		return r;
	unsigned released = 0;
	int first = 0;
	for (size_t i = 0; i < n; i++) {
		const struct hyp_vm_info *vm = &vms[i];
		if ((o->node && strcmp(vm->node, o->node)) || vm->job_id == o->skip_job ||
		    too_young(vm, o->started_before) || (o->listed_only && unlisted(cfg, vm)) ||
		    managed_by_other(cfg, vm, o->manager) ||
		    o->alive(o->alive_data, vm->node, vm->job_id))
			continue;
		hyp_error e = {0};
		r = hyp_vm_release_dead(conn, cfg, vm->node, vm->job_id, o->log, &e);
		if (r < 0 && first == 0) {
			first = r;
			*err = e;
		}
		if (r > 0)
			released++;
	}
	if (ret_released)
		*ret_released = released;
	return first;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which host cpus a PBS job's VM is pinned to. PBS allocates a count
 * (ncpus), not cpu ids: the ids come from the job's cpuset when PBS's
 * cgroups hook made one, else they are the first ncpus online cpus (jobs
 * sharing a node then share those cpus; see doc/pbs.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_cleanup.h"
#include "hyp_cpulist.h"
#include "pbs.h"

/* Where OpenPBS's cgroups hook puts a job's cpuset (cgroup v1, then v2):
 * DIR/JOBID/FILE. */
static const struct {
	const char *dir, *file;
} cgroup_cpusets[] = {
    {"/sys/fs/cgroup/cpuset/pbs_jobs.service/jobid", "cpuset.cpus"},
    {"/sys/fs/cgroup/pbs_jobs.service/jobid", "cpuset.cpus.effective"},
    {"/sys/fs/cgroup/pbs_jobs.service/jobid", "cpuset.cpus"},
};

static char *read_line(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t size = 0;
	if (!f || getline(&line, &size, f) < 0) {
		free(line);
		return NULL;
	}
	line[strcspn(line, "\n")] = '\0';
	if (!line[0]) {
		free(line);
		return NULL;
	}
	return line;
}

static char *job_cpuset(const char *pbs_job)
{
	char path[512];
	for (size_t i = 0; pbs_job && i < sizeof(cgroup_cpusets) / sizeof(cgroup_cpusets[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", cgroup_cpusets[i].dir, pbs_job,
		         cgroup_cpusets[i].file);
		char *line = read_line(path);
		if (line)
			return line;
	}
	return NULL;
}

static int first_online(unsigned ncpus, char **ret_list, hyp_error *err)
{
	_cleanup_free_ char *online = read_line("/sys/devices/system/cpu/online");
	_cleanup_free_ unsigned *ids = NULL;
	size_t n = 0;
	if (!online)
		return hyp_fail(err, EIO, "cannot read the host's online cpus");
	int r = hyp_cpulist_parse(online, &ids, &n, err);
	if (r < 0)
		return hyp_error_prefix(err, "online cpus");
	if (ncpus > n)
		return hyp_fail(err, EINVAL, "the job asks for %u cpus; this host has %zu", ncpus,
		                n);
	if (!(*ret_list = hyp_cpulist_format(ids, ncpus ? ncpus : 1)))
		return hyp_fail(err, ENOMEM, "out of memory");
	return 0;
}

int pbs_choose_cpus(const char *cpus, const char *pbs_job, unsigned ncpus, char **ret_list,
                    hyp_error *err)
{
	char *list = cpus ? strdup(cpus) : job_cpuset(pbs_job);
	if (cpus && !list)
		return hyp_fail(err, ENOMEM, "out of memory");
	if (list) {
		*ret_list = list;
		return 0;
	}
	return first_online(ncpus, ret_list, err);
}

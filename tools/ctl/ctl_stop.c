/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperionctl stop and reap: destroy VMs and everything their jobs held. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "hyp_cleanup.h"
#include "hyp_vm.h"

int command_stop(struct ctl *ctl, int argc, char **argv, hyp_error *err)
{
	static const struct option opts[] = {{"job", required_argument, NULL, 'j'}, {0}};
	uint32_t job_id = 0;
	int c, r = 0;
	optind = 0;
	opterr = 0;
	while (r >= 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		r = c == 'j' ? ctl_parse_job_id(optarg, &job_id, err)
		             : hyp_fail(err, EINVAL, "usage: hyperionctl stop --job ID");
	if (r < 0)
		return r;
	if (!job_id || optind < argc)
		return hyp_fail(err, EINVAL, "usage: hyperionctl stop --job ID");

	_cleanup_(hyp_vm_disconnectp) struct hyp_vm_conn *conn = NULL;
	r = hyp_vm_connect(&ctl->cfg, &conn, err);
	if (r < 0)
		return r;
	return hyp_vm_destroy(conn, &ctl->cfg, job_id, err);
}

static bool in_list(const uint32_t *ids, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Append the job ids of "12,345 678" (commas or blanks) to *ids. */
static int add_ids(const char *list, uint32_t **ids, size_t *n, hyp_error *err)
{
	_cleanup_free_ char *copy = strdup(list);
	if (!copy)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (char *save, *t = strtok_r(copy, ", \t\n", &save); t;
	     t = strtok_r(NULL, ", \t\n", &save)) {
		uint32_t *p = realloc(*ids, (*n + 1) * sizeof(*p));
		if (!p)
			return hyp_fail(err, ENOMEM, "out of memory");
		*ids = p;
		int r = ctl_parse_job_id(t, &p[*n], err);
		if (r < 0)
			return r;
		(*n)++;
	}
	return 0;
}

static int reap_jobs(struct ctl *ctl, const uint32_t *dead, size_t ndead, const uint32_t *keep,
                     size_t nkeep, bool have_keep, hyp_error *err)
{
	_cleanup_(hyp_vm_disconnectp) struct hyp_vm_conn *conn = NULL;
	_cleanup_free_ struct hyp_vm_info *vms = NULL;
	size_t nvms = 0;
	int r;
	if ((r = hyp_vm_connect(&ctl->cfg, &conn, err)) < 0 ||
	    (r = hyp_vm_list(conn, &ctl->cfg, &vms, &nvms, err)) < 0)
		return r;
	int failed = 0;
	for (size_t i = 0; i < nvms; i++) {
		uint32_t id = vms[i].job_id;
		if (!in_list(dead, ndead, id) && !(have_keep && !in_list(keep, nkeep, id)))
			continue;
		hyp_error e = {0};
		if (hyp_vm_destroy(conn, &ctl->cfg, id, &e) < 0) {
			fprintf(stderr, "hyperionctl reap: %s\n", e.msg);
			failed++;
		} else {
			printf("reaped job %u (%s)\n", id, vms[i].state);
		}
	}
	if (failed)
		return hyp_fail(err, EIO, "%d job(s) could not be reaped", failed);
	return 0;
}

/* reap ID...: these jobs are gone. reap --keep LIST: every job not in LIST
 * (the jobs alive on this node, possibly none) is. */
int command_reap(struct ctl *ctl, int argc, char **argv, hyp_error *err)
{
	static const struct option opts[] = {{"keep", required_argument, NULL, 'k'}, {0}};
	_cleanup_free_ uint32_t *keep = NULL, *dead = NULL;
	size_t nkeep = 0, ndead = 0;
	bool have_keep = false;
	int c, r = 0;
	optind = 0;
	opterr = 0;
	while (r >= 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		have_keep = c == 'k';
		r = c == 'k'
		        ? add_ids(optarg, &keep, &nkeep, err)
		        : hyp_fail(err, EINVAL, "usage: hyperionctl reap [--keep LIST] [ID]...");
	}
	for (int i = optind; r >= 0 && i < argc; i++)
		r = add_ids(argv[i], &dead, &ndead, err);
	if (r < 0)
		return r;
	if (!have_keep && !ndead)
		return hyp_fail(err, EINVAL, "reap needs job ids or --keep LIST of live jobs");
	return reap_jobs(ctl, dead, ndead, keep, nkeep, have_keep, err);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperionctl reap: release what jobs that are gone left on this host.
 *   reap --local        jobs without a slurmstepd on this host (what the
 *                       plugin does by itself at slurmd start and VM start)
 *   reap --keep LIST    every job not in LIST (a snapshot of the live ones)
 *   reap --all          every job
 *   reap ID...          these jobs
 * VMs started after the snapshot are never reaped: after reap started, or,
 * with --keep (whose list was taken before reap ran), in the last
 * KEEP_GRACE_S seconds before.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "hyp_cleanup.h"
#include "hyp_reconcile.h"
#include "hyp_vm.h"

#define KEEP_GRACE_S 60
#define REAP_USAGE   "usage: hyperionctl reap [--node NAME] (--local | --keep LIST | --all | ID...)"

struct id_list {
	uint32_t *ids;
	size_t n;
};

static bool in_list(const struct id_list *l, uint32_t id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->ids[i] == id)
			return true;
	return false;
}

/* Append the job ids of "12,345 678" (commas or blanks) to the list. */
static int add_ids(const char *list, struct id_list *l, hyp_error *err)
{
	_cleanup_free_ char *copy = strdup(list);
	if (!copy)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (char *save, *t = strtok_r(copy, ", \t\n", &save); t;
	     t = strtok_r(NULL, ", \t\n", &save)) {
		uint32_t *p = realloc(l->ids, (l->n + 1) * sizeof(*p));
		if (!p)
			return hyp_fail(err, ENOMEM, "out of memory");
		l->ids = p;
		int r = ctl_parse_job_id(t, &p[l->n], err);
		if (r < 0)
			return r;
		l->n++;
	}
	return 0;
}

enum reap_mode { REAP_NONE, REAP_LOCAL, REAP_KEEP, REAP_ALL, REAP_IDS };

struct reap_args {
	enum reap_mode mode;
	const char *node;
	struct id_list keep, dead;
};

static bool alive_by_keep(void *data, const char *node, uint32_t id)
{
	return in_list(data, id);
}

static bool alive_unless_listed(void *data, const char *node, uint32_t id)
{
	return !in_list(data, id);
}

static bool never_alive(void *data, const char *node, uint32_t id)
{
	return false;
}

static void print_released(void *data, const char *kind, const char *value)
{
	printf("released %s %s\n", kind, value);
}

static int set_mode(struct reap_args *a, enum reap_mode mode, hyp_error *err)
{
	if (a->mode != REAP_NONE && a->mode != mode)
		return hyp_fail(err, EINVAL,
		                "--local, --keep, --all and job ids exclude each other");
	a->mode = mode;
	return 0;
}

static int parse_reap(int argc, char **argv, struct reap_args *a, hyp_error *err)
{
	static const struct option opts[] = {{"keep", required_argument, NULL, 'k'},
	                                     {"all", no_argument, NULL, 'a'},
	                                     {"local", no_argument, NULL, 'l'},
	                                     {"node", required_argument, NULL, 'N'},
	                                     {0}};
	int c, r = 0;
	optind = 0;
	opterr = 0;
	while (r >= 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'k' && (r = set_mode(a, REAP_KEEP, err)) >= 0)
			r = add_ids(optarg, &a->keep, err);
		else if (c == 'a' || c == 'l')
			r = set_mode(a, c == 'a' ? REAP_ALL : REAP_LOCAL, err);
		else if (c == 'N')
			r = ctl_parse_node(optarg, &a->node, err);
		else if (c != 'k')
			r = hyp_fail(err, EINVAL, REAP_USAGE);
	}
	for (int i = optind; r >= 0 && i < argc; i++)
		if ((r = set_mode(a, REAP_IDS, err)) >= 0)
			r = add_ids(argv[i], &a->dead, err);
	if (r < 0)
		return r;
	if (a->mode == REAP_NONE)
		return hyp_fail(err, EINVAL, REAP_USAGE);
	/* An empty keep list is what a failing `squeue` gives: never read it
	 * as "no job is alive". */
	if (a->mode == REAP_KEEP && a->keep.n == 0)
		return hyp_fail(
		    err, EINVAL,
		    "--keep list is empty: refusing to reap every VM (use --all for that)");
	return 0;
}

int command_reap(struct ctl *ctl, int argc, char **argv, hyp_error *err)
{
	struct reap_args a = {0};
	int r = parse_reap(argc, argv, &a, err);
	if (r < 0) {
		free(a.keep.ids);
		free(a.dead.ids);
		return r;
	}
	struct hyp_release_ctx log = {.log = print_released};
	struct hyp_reconcile_opts o = {.node = a.node, .log = &log, .started_before = time(NULL)};
	switch (a.mode) {
	case REAP_LOCAL: /* judged by slurmstepd: Slurm's jobs only */
		o.manager = HYP_MANAGER_SLURM;
		o.alive = hyp_job_alive_locally;
		break;
	case REAP_KEEP:
		o.alive = alive_by_keep;
		o.alive_data = &a.keep;
		o.started_before -= KEEP_GRACE_S;
		break;
	case REAP_IDS:
		o.alive = alive_unless_listed;
		o.alive_data = &a.dead;
		break;
	default:
		o.alive = never_alive;
	}
	_cleanup_(hyp_vm_disconnectp) struct hyp_vm_conn *conn = NULL;
	unsigned released = 0;
	r = hyp_vm_connect(&ctl->cfg, &conn, err);
	if (r >= 0)
		r = hyp_reconcile_jobs(conn, &ctl->cfg, &o, &released, err);
	if (r >= 0)
		printf("reaped %u job(s)\n", released);
	free(a.keep.ids);
	free(a.dead.ids);
	return r;
}

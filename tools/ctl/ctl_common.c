/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What start and xml share: the allocation flags, mapped onto a job request. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "hyp_cleanup.h"
#include "hyp_ini.h"
#include "hyp_names.h"

int ctl_parse_job_id(const char *s, uint32_t *ret_id, hyp_error *err)
{
	unsigned long long v;
	int r = hyp_parse_uint("--job", s, 1, UINT32_MAX, &v, err);
	if (r < 0)
		return r;
	*ret_id = (uint32_t)v;
	return 0;
}

static int require(const char *value, const char *flag, hyp_error *err)
{
	return value ? 0 : hyp_fail(err, EINVAL, "missing %s", flag);
}

static int parse_alloc_option(int c, struct ctl_alloc_args *a, hyp_error *err)
{
	switch (c) {
	case 'j':
		a->have_job = true;
		return ctl_parse_job_id(optarg, &a->job_id, err);
	case 'u':
		a->user = optarg;
		return 0;
	case 'c':
		a->cpus = optarg;
		return 0;
	case 'm':
		return hyp_parse_uint("--memory", optarg, 1, 1ULL << 32, &a->memory_mb, err);
	case 'i':
		a->image = optarg;
		return 0;
	case 'H':
		a->hugepages = optarg;
		return 0;
	case 't':
		a->topology = optarg;
		return 0;
	case 'n':
		a->no_wait = true;
		return 0;
	case 'N':
		a->node = optarg;
		return 0;
	case 'S':
		a->shares = optarg;
		return 0;
	case 'J':
		a->job_nodes = optarg;
		return 0;
	case 'G':
		a->gpus = optarg;
		return 0;
	case 'V':
		a->vfs = optarg;
		return 0;
	case 'Y':
		a->sysfs = optarg;
		return 0;
	default:
		return hyp_fail(err, EINVAL, "unknown option (see hyperionctl --help)");
	}
}

static int parse_alloc(int argc, char **argv, bool for_xml, struct ctl_alloc_args *ret_args,
                       hyp_error *err)
{
	static const struct option opts[] = {
	    {"job", required_argument, NULL, 'j'},
	    {"user", required_argument, NULL, 'u'},
	    {"cpus", required_argument, NULL, 'c'},
	    {"memory", required_argument, NULL, 'm'},
	    {"image", required_argument, NULL, 'i'},
	    {"hugepages", required_argument, NULL, 'H'},
	    {"topology", required_argument, NULL, 't'},
	    {"no-wait", no_argument, NULL, 'n'},
	    {"node", required_argument, NULL, 'N'},
	    {"shares", required_argument, NULL, 'S'},
	    {"job-nodes", required_argument, NULL, 'J'},
	    {"gpus", required_argument, NULL, 'G'},
	    {"vfs", required_argument, NULL, 'V'},
	    {"sysfs", required_argument, NULL, 'Y'},
	    {0},
	};
	struct ctl_alloc_args a = {0};
	int c, r = 0;
	optind = 0;
	opterr = 0;
	while (r >= 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'Y' && !for_xml)
			r = hyp_fail(err, EINVAL,
			             "--sysfs is for xml only: start reads this machine's /sys");
		else if (c == '?' || (c == 'n' && for_xml))
			r = hyp_fail(err, EINVAL, "unknown option '%s' (see hyperionctl --help)",
			             argv[optind - 1]);
		else
			r = parse_alloc_option(c, &a, err);
	}
	if (r < 0)
		return r;
	if (optind < argc)
		return hyp_fail(err, EINVAL, "unexpected argument '%s'", argv[optind]);
	if (!a.have_job)
		return hyp_fail(err, EINVAL, "missing --job");
	if ((r = require(a.user, "--user", err)) < 0 || (r = require(a.cpus, "--cpus", err)) < 0 ||
	    (r = require(a.image, "--image", err)) < 0)
		return r;
	if (!a.memory_mb)
		return hyp_fail(err, EINVAL, "missing --memory");
	*ret_args = a;
	return 0;
}

static int lookup_user(const char *name, uid_t *ret_uid, gid_t *ret_gid, hyp_error *err)
{
	errno = 0;
	struct passwd *pw = getpwnam(name);
	if (!pw)
		return errno ? hyp_fail_errno(err, "looking up user '%s'", name)
		             : hyp_fail(err, EINVAL, "unknown user '%s'", name);
	*ret_uid = pw->pw_uid;
	*ret_gid = pw->pw_gid;
	return 0;
}

int ctl_request_from_args(struct ctl *ctl, int argc, char **argv, bool for_xml,
                          struct ctl_alloc_args *ret_args, struct hyp_job_request *ret_req,
                          hyp_error *err)
{
	int r = parse_alloc(argc, argv, for_xml, ret_args, err);
	if (r < 0)
		return r;
	const struct ctl_alloc_args *a = ret_args;
	struct hyp_job_request req = {
	    .config_path = ctl->config_path,
	    .job_id = a->job_id,
	    .node = a->node,
	    .user = a->user,
	    .cpus = a->cpus,
	    .memory_mb = a->memory_mb,
	    .image = a->image,
	    .hugepages = a->hugepages,
	    .shares = a->shares,
	    .topology = a->topology,
	    .nodes = a->job_nodes,
	    .gpus = a->gpus,
	    .vfs = a->vfs,
	    .sysfs = a->sysfs,
	};
	r = lookup_user(a->user, &req.uid, &req.gid, err);
	if (r < 0)
		return r;
	*ret_req = req;
	return 0;
}

int ctl_parse_node(const char *s, const char **ret_node, hyp_error *err)
{
	int r = hyp_node_name_check(s, err);
	if (r < 0)
		return hyp_error_prefix(err, "--node");
	*ret_node = s;
	return 0;
}

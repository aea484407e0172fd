/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What start and xml share: allocation flags, user, image and spec. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "hyp_catalog.h"
#include "hyp_cleanup.h"
#include "hyp_cpulist.h"
#include "hyp_ini.h"
#include "hyp_topology.h"

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
	    {0},
	};
	struct ctl_alloc_args a = {0};
	int c, r = 0;
	optind = 0;
	opterr = 0;
	while (r >= 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == '?' || (c == 'n' && for_xml))
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

struct spec_inputs {
	struct hyp_catalog catalog;
	struct hyp_topology *topo;
	unsigned *cpus;
	size_t ncpus;
};

static void spec_inputs_free(struct spec_inputs *in)
{
	hyp_catalog_free(&in->catalog);
	hyp_topology_free(in->topo);
	free(in->cpus);
}

static int build_spec(struct ctl *ctl, const struct ctl_alloc_args *args,
                      struct hyp_vm_spec *ret_spec, hyp_error *err)
{
	_cleanup_(spec_inputs_free) struct spec_inputs in = {0};
	struct hyp_alloc alloc = {
	    .job_id = args->job_id,
	    .user = args->user,
	    .memory_mb = args->memory_mb,
	    .hugepages = args->hugepages,
	};
	const struct hyp_image *img;
	int r = lookup_user(args->user, &alloc.uid, &alloc.gid, err);
	if (r >= 0 && (r = hyp_cpulist_parse(args->cpus, &in.cpus, &in.ncpus, err)) < 0)
		hyp_error_prefix(err, "--cpus");
	if (r >= 0)
		r = hyp_catalog_load(ctl->cfg.image_catalog, &in.catalog, err);
	if (r >= 0)
		r = hyp_catalog_lookup(&in.catalog, args->image, &img, err);
	if (r >= 0)
		r = hyp_topology_load(args->topology, &in.topo, err);
	if (r < 0)
		return r;
	alloc.cpus = in.cpus;
	alloc.ncpus = in.ncpus;
	return hyp_spec_build(&ctl->cfg, img, in.topo, &alloc, ret_spec, err);
}

int ctl_spec_from_args(struct ctl *ctl, int argc, char **argv, bool for_xml,
                       struct ctl_alloc_args *ret_args, struct hyp_vm_spec *ret_spec,
                       hyp_error *err)
{
	int r = parse_alloc(argc, argv, for_xml, ret_args, err);
	if (r < 0)
		return r;
	return build_spec(ctl, ret_args, ret_spec, err);
}

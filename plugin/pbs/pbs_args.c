/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperion-pbs's command line. */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "hyp_build_config.h"
#include "hyp_ini.h"
#include "hyp_names.h"
#include "pbs.h"

enum {
	OPT_JOB = 0x100,
	OPT_NODE,
	OPT_USER,
	OPT_IMAGE,
	OPT_SELECT,
	OPT_EXEC_VNODE,
	OPT_RESOURCES,
	OPT_CPUS,
	OPT_NCPUS,
	OPT_MEM,
	OPT_STDIN_SCRIPT,
	OPT_INTERACTIVE,
	OPT_IF_STARTED,
};

static const struct option opts[] = {
    {"job", required_argument, NULL, OPT_JOB},
    {"node", required_argument, NULL, OPT_NODE},
    {"user", required_argument, NULL, OPT_USER},
    {"image", required_argument, NULL, OPT_IMAGE},
    {"select", required_argument, NULL, OPT_SELECT},
    {"exec-vnode", required_argument, NULL, OPT_EXEC_VNODE},
    {"resources", required_argument, NULL, OPT_RESOURCES},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"ncpus", required_argument, NULL, OPT_NCPUS},
    {"mem", required_argument, NULL, OPT_MEM},
    {"stdin-script", no_argument, NULL, OPT_STDIN_SCRIPT},
    {"interactive", no_argument, NULL, OPT_INTERACTIVE},
    {"if-started", no_argument, NULL, OPT_IF_STARTED},
    {0},
};

static const char *nonempty(const char *s)
{
	return s[0] ? s : NULL;
}

static int parse_option(int c, struct pbs_args *a, hyp_error *err)
{
	unsigned long long v;
	int r;
	switch (c) {
	case OPT_JOB:
		a->job = optarg;
		return pbs_job_id(optarg, &a->job_id, err);
	case OPT_NODE:
		a->node = optarg;
		return hyp_node_name_check(optarg, err) < 0 ? hyp_error_prefix(err, "--node") : 0;
	case OPT_USER:
		a->user = optarg;
		return 0;
	/* the hook passes fields PBS left unset as "" */
	case OPT_IMAGE:
		a->image = nonempty(optarg);
		return 0;
	case OPT_SELECT:
		a->select = nonempty(optarg);
		return 0;
	case OPT_EXEC_VNODE:
		a->exec_vnode = nonempty(optarg);
		return 0;
	case OPT_RESOURCES:
		a->resources = nonempty(optarg);
		return 0;
	case OPT_CPUS:
		a->cpus = nonempty(optarg);
		return 0;
	case OPT_STDIN_SCRIPT:
		a->stdin_script = true;
		return 0;
	case OPT_INTERACTIVE:
		a->interactive = true;
		return 0;
	case OPT_IF_STARTED:
		a->if_started = true;
		return 0;
	case OPT_NCPUS:
		if (!optarg[0])
			return 0;
		r = hyp_parse_uint("--ncpus", optarg, 1, 65536, &v, err);
		a->ncpus = (unsigned)v;
		return r;
	case OPT_MEM:
		return !optarg[0] ? 0 : pbs_size_mib(optarg, &a->mem_mib, err);
	default:
		return hyp_fail(err, EINVAL, "unknown option '%s'\n%s", optarg ? optarg : "?",
		                PBS_USAGE);
	}
}

/* Which options each command needs. */
static int check_command(const struct pbs_args *a, hyp_error *err)
{
	const char *c = a->command;
	bool is_exec = strcmp(c, "exec") == 0 || strcmp(c, "exec-argv") == 0;
	if (strcmp(c, "check-image") == 0)
		return a->argc <= 1 ? 0 : hyp_fail(err, EINVAL, "check-image takes one image name");
	if (strcmp(c, "check") == 0)
		return a->argc == 0 ? 0 : hyp_fail(err, EINVAL, "check takes no argument");
	if (strcmp(c, "job-id") == 0)
		return a->argc == 1 ? 0 : hyp_fail(err, EINVAL, "job-id takes one PBS job id");
	if (!is_exec && strcmp(c, "start") != 0 && strcmp(c, "stop") != 0)
		return hyp_fail(err, EINVAL, "unknown command '%s'\n%s", c, PBS_USAGE);
	if (!a->job || !a->node)
		return hyp_fail(err, EINVAL, "%s needs --job and --node", c);
	if (is_exec)
		return a->argc >= 1 ? 0 : hyp_fail(err, EINVAL, "%s needs a command", c);
	if (a->argc)
		return hyp_fail(err, EINVAL, "unexpected argument '%s'", a->argv[0]);
	if (strcmp(c, "start") == 0 && !a->user)
		return hyp_fail(err, EINVAL, "start needs --user");
	return 0;
}

/* --config FILE and --exec PATH come before the command. */
static int global_option(int argc, char **argv, int *i, const char *name, const char **ret)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*ret = argv[(*i)++] + n + 1;
		return 1;
	}
	if (argv[*i][n] != '\0' || *i + 1 >= argc)
		return 0;
	*ret = argv[*i + 1];
	*i += 2;
	return 1;
}

static int global_options(int argc, char **argv, struct pbs_args *a, int *ret_i, hyp_error *err)
{
	int i = 1;
	while (i < argc && (global_option(argc, argv, &i, "--config", &a->config_path) ||
	                    global_option(argc, argv, &i, "--exec", &a->exec_path)))
		;
	if (i >= argc || argv[i][0] == '-')
		return hyp_fail(err, EINVAL, "no command\n%s", PBS_USAGE);
	*ret_i = i;
	return 0;
}

int pbs_args_parse(int argc, char **argv, struct pbs_args *ret, hyp_error *err)
{
	struct pbs_args a = {.exec_path = HYP_BINDIR "/hyperion-exec"};
	int i = 0, c, r = global_options(argc, argv, &a, &i, err);
	if (r < 0)
		return r;
	a.command = argv[i];
	int n = argc - i;
	char **v = argv + i;
	optind = 0;
	opterr = 0;
	/* "+": options end at the first non-option (exec's command). */
	while (r >= 0 && (c = getopt_long(n, v, "+", opts, NULL)) != -1)
		r = c == '?'
		        ? hyp_fail(err, EINVAL, "unknown option '%s'\n%s", v[optind - 1], PBS_USAGE)
		        : parse_option(c, &a, err);
	if (r < 0)
		return r;
	a.argv = v + optind;
	a.argc = n - optind;
	if ((r = check_command(&a, err)) < 0)
		return r;
	*ret = a;
	return 0;
}

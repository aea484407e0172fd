/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperion-exec's command line, and what it falls back to (environment, config). */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "hyp_cleanup.h"
#include "hyp_config.h"
#include "hyp_guest_commands.h"
#include "hyp_ini.h"
#include "hyp_names.h"

enum { OPT_JOB = 0x100, OPT_NODE, OPT_STATE_DIR, OPT_TIMEOUT, OPT_PING, OPT_SCRIPT, OPT_VERSION };

static const struct option long_opts[] = {
    {"job", required_argument, NULL, OPT_JOB},
    {"node", required_argument, NULL, OPT_NODE},
    {"config", required_argument, NULL, 'c'},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"tty", no_argument, NULL, 't'},
    {"no-tty", no_argument, NULL, 'T'},
    {"cwd", required_argument, NULL, 'C'},
    {"env", required_argument, NULL, 'e'},
    {"ignore-environment", no_argument, NULL, 'i'},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"ping", required_argument, NULL, OPT_PING},
    {"script", no_argument, NULL, OPT_SCRIPT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {0},
};

void exec_usage(FILE *f)
{
	fputs(
	    "usage: hyperion-exec [OPTION]... [--] COMMAND [ARG]...\n"
	    "       hyperion-exec [OPTION]... --ping COUNT\n"
	    "Run COMMAND in the job's VM on this node, relaying stdio, signals and exit status.\n"
	    "\n"
	    "      --job ID              the job (default: $SLURM_JOB_ID)\n"
	    "      --node NAME           the Slurm node whose VM to use (default:\n"
	    "                            $SLURMD_NODENAME, else this host's short name)\n"
	    "  -c, --config FILE         hyperion.conf to read (default: " HYP_DEFAULT_CONFIG ")\n"
	    "      --state-dir DIR       Hyperion's state directory (default: from the config)\n"
	    "  -t, --tty                 run on a terminal in the guest\n"
	    "  -T, --no-tty              do not (default: a terminal if stdin and stdout are)\n"
	    "  -C, --cwd DIR             working directory in the guest; must exist there\n"
	    "                            (default: the current one, else /)\n"
	    "  -e, --env NAME=VALUE      set a variable in the command's environment\n"
	    "  -i, --ignore-environment  start from an empty environment\n"
	    "      --timeout SECONDS     how long to wait for a port and the guest's answer\n"
	    "                            (default: boot_timeout of the config; 0: no limit)\n"
	    "      --ping COUNT          measure COUNT protocol round trips instead of running\n"
	    "      --script              COMMAND is a host file (a batch script) to run in the "
	    "guest\n"
	    "  -h, --help                show this help\n"
	    "      --version             show the version\n"
	    "\n"
	    "Exit status: the command's; dies of the signal that killed the command;\n"
	    "1 if the command could not be started; 255 if the connection to the guest was lost.\n",
	    f);
}

static int parse_job_id(const char *what, const char *s, uint32_t *ret, hyp_error *err)
{
	unsigned long long v;
	int r = hyp_parse_uint(what, s, 1, UINT32_MAX, &v, err);
	if (r < 0)
		return r;
	*ret = (uint32_t)v;
	return 0;
}

static int add_env(struct exec_opts *o, char *assignment, hyp_error *err)
{
	if (assignment[0] == '=' || !strchr(assignment, '='))
		return hyp_fail(err, EINVAL, "--env '%s' is not NAME=VALUE", assignment);
	char **v = realloc(o->env_add, (o->n_env_add + 1) * sizeof(char *));
	if (!v)
		return hyp_fail(err, ENOMEM, "out of memory");
	v[o->n_env_add++] = assignment;
	o->env_add = v;
	return 0;
}

static int parse_long_option(int c, struct exec_opts *o, hyp_error *err)
{
	unsigned long long v;
	int r = 0;
	switch (c) {
	case OPT_JOB:
		return parse_job_id("--job", optarg, &o->job_id, err);
	case 'c':
		o->config_path = optarg;
		return 0;
	case OPT_NODE:
		snprintf(o->node, sizeof(o->node), "%s", optarg);
		return hyp_node_name_check(optarg, err) < 0 ? hyp_error_prefix(err, "--node") : 0;
	case OPT_STATE_DIR:
		free(o->state_dir);
		o->state_dir = strdup(optarg);
		return o->state_dir ? 0 : hyp_fail(err, ENOMEM, "out of memory");
	case OPT_TIMEOUT:
		r = hyp_parse_uint("--timeout", optarg, 0, 24 * 3600, &v, err);
		o->timeout_s = (unsigned)v;
		o->timeout_set = true;
		return r;
	case OPT_PING:
		r = hyp_parse_uint("--ping", optarg, 1, 10000000, &v, err);
		o->ping = (unsigned)v;
		return r;
	default:
		return hyp_fail(err, EINVAL, "unknown option (see hyperion-exec --help)");
	}
}

static int parse_option(int c, struct exec_opts *o, hyp_error *err)
{
	switch (c) {
	case 't':
		o->tty = EXEC_TTY_ON;
		return 0;
	case 'T':
		o->tty = EXEC_TTY_OFF;
		return 0;
	case 'C':
		o->cwd = optarg;
		return 0;
	case 'e':
		return add_env(o, optarg, err);
	case 'i':
		o->ignore_env = true;
		return 0;
	case 'h':
		o->help = true;
		return 0;
	case OPT_SCRIPT:
		o->script = true;
		return 0;
	case OPT_VERSION:
		o->version = true;
		return 0;
	case ':':
		if (optopt > 0 && optopt < OPT_JOB)
			return hyp_fail(err, EINVAL, "option '-%c' needs a value", optopt);
		return hyp_fail(err, EINVAL, "option '%s' needs a value", o->argv[optind - 1]);
	case '?':
		if (optopt > 0 && optopt < OPT_JOB)
			return hyp_fail(err, EINVAL, "unknown option '-%c' (see --help)", optopt);
		return hyp_fail(err, EINVAL, "unknown option '%s' (see --help)",
		                o->argv[optind - 1]);
	default:
		return parse_long_option(c, o, err);
	}
}

static int check_command(const struct exec_opts *o, hyp_error *err)
{
	if (o->ping && o->argc > 0)
		return hyp_fail(err, EINVAL, "--ping takes no command");
	if (!o->ping && o->argc == 0)
		return hyp_fail(err, EINVAL,
		                "missing the command: hyperion-exec [OPTION]... -- "
		                "COMMAND [ARG]...");
	if (o->argc > 0 && !o->argv[0][0])
		return hyp_fail(err, EINVAL, "the command is empty");
	if (o->cwd && !o->cwd[0])
		return hyp_fail(err, EINVAL, "--cwd is empty");
	return 0;
}

int exec_opts_parse(int argc, char **argv, struct exec_opts *ret, hyp_error *err)
{
	struct exec_opts o = {.argv = argv};
	int c, r = 0;
	optind = 0;
	opterr = 0;
	/* '+': the command's own options are not ours */
	while (r >= 0 && (c = getopt_long(argc, argv, "+:c:tTC:e:ih", long_opts, NULL)) != -1)
		r = parse_option(c, &o, err);
	if (r >= 0 && !o.help && !o.version) {
		o.argv = argv + optind;
		o.argc = argc - optind;
		r = check_command(&o, err);
	}
	if (r < 0) {
		exec_opts_free(&o);
		return r;
	}
	*ret = o;
	return 0;
}

static int load_config(struct exec_opts *o, hyp_error *err)
{
	struct hyp_config cfg;
	int r = hyp_config_load(o->config_path, &cfg, err);
	if (r < 0)
		return r;
	if (!o->state_dir && !(o->state_dir = strdup(cfg.state_dir)))
		r = hyp_fail(err, ENOMEM, "out of memory");
	if (!o->timeout_set)
		o->timeout_s = cfg.boot_timeout_s;
	o->guest_commands = steal_pointer(&cfg.guest_commands);
	hyp_config_free(&cfg);
	return r;
}

int exec_opts_resolve(struct exec_opts *o, hyp_error *err)
{
	const char *id = getenv("SLURM_JOB_ID");
	int r;
	if (!o->job_id && (!id || !id[0]))
		return hyp_fail(err, EINVAL, "no job: give --job or set SLURM_JOB_ID");
	if (!o->job_id && (r = parse_job_id("SLURM_JOB_ID", id, &o->job_id, err)) < 0)
		return r;
	const char *node = getenv("SLURMD_NODENAME");
	if (!o->node[0] && node && node[0]) {
		snprintf(o->node, sizeof(o->node), "%s", node);
		if ((r = hyp_node_name_check(o->node, err)) < 0)
			return hyp_error_prefix(err, "SLURMD_NODENAME");
	}
	if (!o->node[0] && (r = hyp_node_name_default(o->node, sizeof(o->node), err)) < 0)
		return r;
	/* the config is only needed for what the command line left open */
	if (o->config_path || !o->state_dir || !o->timeout_set)
		return load_config(o, err);
	return hyp_guest_commands_default(HYP_GUEST_COMMANDS_DIRS, &o->guest_commands, err);
}

void exec_opts_free(struct exec_opts *o)
{
	free(o->state_dir);
	free(o->env_add);
	hyp_strv_free(o->guest_commands);
	o->guest_commands = NULL;
	o->state_dir = NULL;
	o->env_add = NULL;
}

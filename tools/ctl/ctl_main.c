/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperionctl: manage Hyperion VMs on this node without Slurm. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "hyp_build_config.h"

struct command {
	const char *name;
	int (*run)(struct ctl *ctl, int argc, char **argv, hyp_error *err);
	const char *usage;
};

static const struct command commands[] = {
    {"start", command_start,
     "--job ID --user NAME --cpus LIST --memory MB --image NAME [--node NAME]\n"
     "        [--hugepages SIZE] [--shares LIST|none] [--topology FILE] [--no-wait]\n"
     "        [--job-nodes HOSTLIST] [--gpus PCI,...] [--vfs POOL[:N],...|none]"},
    {"exec", command_exec, "--job ID [--node NAME] [--user NAME] -- COMMAND [ARG]..."},
    {"stop", command_stop, "--job ID [--node NAME]"},
    {"list", command_list, ""},
    {"reap", command_reap, "[--node NAME] (--local | --keep LIST | --all | ID...)"},
    {"check", command_check, "[--features]"},
    {"xml", command_xml,
     "--job ID --user NAME --cpus LIST --memory MB --image NAME [--node NAME]\n"
     "        [--hugepages SIZE] [--shares LIST|none] [--topology FILE]\n"
     "        [--job-nodes HOSTLIST] [--gpus PCI,...] [--vfs POOL[:N],...|none]\n"
     "        [--sysfs DIR]"},
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: hyperionctl [--config FILE] COMMAND [OPTIONS]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-5s %s\n", commands[i].name, commands[i].usage);
	fprintf(out, "\nSee hyperionctl(8).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	struct ctl ctl = {0};
	int c;
	while ((c = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctl.config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("hyperionctl %s\n", HYP_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[optind];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) != 0)
			continue;
		hyp_error err = {0};
		int r = hyp_config_load(ctl.config_path, &ctl.cfg, &err);
		if (r >= 0) {
			optind++;
			r = commands[i].run(&ctl, argc - optind + 1, argv + optind - 1, &err);
		}
		hyp_config_free(&ctl.cfg);
		if (r < 0) {
			fprintf(stderr, "hyperionctl %s: %s\n", name, err.msg);
			return r == -EINVAL ? 2 : 1;
		}
		return 0;
	}
	fprintf(stderr, "hyperionctl: unknown command '%s'\n", name);
	usage(stderr);
	return 2;
}

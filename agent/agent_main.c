/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperion-agent: options and mode. As PID 1 (the appliance's /init, or a
 * disk image's /sbin/init) it first sets the system up (agent_init.c), then
 * serves the ports, and never exits: a fatal error powers the VM off. As a
 * service in a full distribution it only serves the ports. With --listen it
 * serves a unix socket instead, for tests on the host.
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "agent.h"
#include "agent_bootcfg.h"
#include "agent_net.h"
#include "hyp_build_config.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: hyperion-agent [--listen PATH]\n"
	           "\n"
	           "The guest side of Hyperion: runs the commands that hyperion-exec sends\n"
	           "over the virtio-serial ports named org.hyperion.*.\n"
	           "\n"
	           "      --listen PATH  serve a unix socket at PATH instead of the ports\n"
	           "                     (testing without a VM; commands run as this user)\n"
	           "  -h, --help         show this help\n"
	           "  -V, --version      show the version\n");
}

/* -1 to exit with status *ret_status, 0 to run. */
static int parse_options(int argc, char **argv, struct agent_config *cfg, int *ret_status)
{
	static const struct option options[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "hV", options, NULL)) != -1) {
		switch (c) {
		case 'l':
			cfg->listen = optarg;
			break;
		case 'h':
			usage(stdout);
			*ret_status = 0;
			return -1;
		case 'V':
			printf("hyperion-agent %s\n", HYP_VERSION);
			*ret_status = 0;
			return -1;
		default:
			usage(stderr);
			*ret_status = 2;
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, AGENT_PREFIX "unexpected argument '%s'\n", argv[optind]);
		*ret_status = 2;
		return -1;
	}
	return 0;
}

#define SERVICE_NIC_WAIT_MS 10000

int main(int argc, char **argv)
{
	struct agent_config cfg = {
	    .pid1 = getpid() == 1, .root = geteuid() == 0, .uid = getuid(), .gid = getgid()};
	hyp_error err = {0};
	int status = 0;

	if (getpid() != 1 && argc > 0 && agent_guestcmd_is(argv[0]))
		return agent_guestcmd_main(argc, argv);

	/* as init, the arguments are whatever the kernel did not recognise */
	if (!cfg.pid1 && parse_options(argc, argv, &cfg, &status) < 0)
		return status;
	if (!cfg.pid1)
		agent_std_fds("/dev/null");
	/* a service in a full distribution: its cwd rule (agent_child.c) */
	static struct agent_bootcfg boot;
	if (!cfg.pid1 && !cfg.listen && agent_bootcfg_read(&boot, &err) == 0)
		cfg.boot = &boot;
	/* a root service: the node's name, the job user, the shares and the
	 * guest network, as PID 1 sets them up (a systemd image, doc/images.md) */
	if (!cfg.pid1 && !cfg.listen && cfg.root && cfg.boot) {
		agent_identity_apply(cfg.boot);
		agent_net_apply_when_present(&cfg.boot->net, SERVICE_NIC_WAIT_MS);
	}
	int r = agent_signals_setup(&err);
	if (r >= 0 && cfg.pid1)
		agent_init_system(&cfg);
	if (r >= 0)
		r = cfg.listen ? agent_listen(&cfg, &err) : agent_supervise(&cfg, &err);
	if (r < 0)
		agent_log("%s", err.msg);
	if (cfg.pid1)
		agent_power_off(r < 0 ? "fatal error" : "the agent stopped");
	return r < 0 ? 1 : 0;
}

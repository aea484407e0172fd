/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Draining the node on a node fault (libvirtd unreachable), so that no more
 * jobs are sent here; the reason is what admins read in `sinfo -R`. Runs
 * scontrol by its absolute path (scontrol=PATH in plugstack.conf), with a
 * clean environment that keeps only SLURM_CONF, and no fd of slurmstepd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_spawn.h"
#include "plugin.h"

/* This host's short name, which is the node name unless slurm.conf says
 * otherwise (NodeHostname, several slurmd per host). */
static int short_hostname(char *buf, size_t size)
{
	if (gethostname(buf, size) < 0)
		return -1;
	buf[size - 1] = '\0';
	buf[strcspn(buf, ".")] = '\0';
	return buf[0] ? 0 : -1;
}

void plugin_drain_node(const char *node, const char *reason)
{
	char host[256], nodearg[300], reasonarg[300], confenv[4096];
	if (!node) {
		if (short_hostname(host, sizeof(host)) < 0) {
			slurm_error(PLUGIN_LOG_PREFIX "cannot drain this node (%s): no host name",
			            reason);
			return;
		}
		node = host;
	}
	snprintf(nodearg, sizeof(nodearg), "nodename=%s", node);
	snprintf(reasonarg, sizeof(reasonarg), "reason=hyperion: %s", reason);
	const char *argv[] = {plugin.scontrol_path, "update",  nodearg,
	                      "state=drain",        reasonarg, NULL};
	const char *envp[] = {HYP_SPAWN_DEFAULT_PATH, NULL, NULL};
	const char *conf = getenv("SLURM_CONF");
	if (conf &&
	    (size_t)snprintf(confenv, sizeof(confenv), "SLURM_CONF=%s", conf) < sizeof(confenv))
		envp[1] = confenv;
	struct hyp_spawn sp = {.argv = argv, .envp = envp, .out_fd = -1, .err_fd = -1};
	hyp_error err = {0};
	if (hyp_spawn_run(&sp, &err) < 0)
		slurm_error(PLUGIN_LOG_PREFIX "draining node %s (%s): %s", node, reason, err.msg);
	else
		slurm_info(PLUGIN_LOG_PREFIX "drained node %s: %s", node, reason);
}

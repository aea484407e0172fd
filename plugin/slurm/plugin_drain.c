/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A node fault (libvirtd unreachable): drain with a reason admins can read
 * in `sinfo -R`, so that no more jobs are sent here. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plugin.h"

void plugin_drain_node(const char *node, const char *reason)
{
	char nodename[300], reasonarg[300];
	snprintf(nodename, sizeof(nodename), "nodename=%s", node);
	snprintf(reasonarg, sizeof(reasonarg), "reason=hyperion: %s", reason);
	pid_t pid = fork();
	if (pid == 0) {
		char *const argv[] = {"scontrol",    "update",  nodename,
		                      "state=drain", reasonarg, NULL};
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

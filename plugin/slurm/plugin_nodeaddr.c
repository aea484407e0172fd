/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The job's nodes' addresses as Slurm knows them (slurm.conf's NodeAddr),
 * for the guest network's tunnels: node names need not resolve.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_cleanup.h"
#include "hyp_hostlist.h"
#include "plugin.h"

/* libslurm's, outside slurm.h (src/common/read_config.h, xmalloc.h): the
 * NodeAddr of a NodeHostname, xmalloc'd. Extra arguments to an xfree that
 * takes one are harmless in the x86-64 and aarch64 calling conventions. */
extern char *slurm_conf_get_nodeaddr(const char *node_hostname);
extern void slurm_xfree(void **p, const char *file, int line, const char *func);

static int append_addr(char **list, const char *name)
{
	char *addr = slurm_conf_get_nodeaddr(name);
	struct in_addr in;
	int r = addr && inet_pton(AF_INET, addr, &in) == 1 ? 0 : -1;
	char *joined = NULL;
	if (r == 0 && asprintf(&joined, "%s%s%s", *list ? *list : "", *list ? "," : "", addr) < 0)
		r = -1, joined = NULL;
	if (addr)
		slurm_xfree((void **)&addr, __FILE__, __LINE__, __func__);
	if (r == 0) {
		free(*list);
		*list = joined;
	}
	return r;
}

char *plugin_node_addrs(const char *nodes)
{
	char **names;
	size_t n;
	hyp_error ignored;
	if (!nodes || !*nodes || hyp_hostlist_expand(nodes, &names, &n, &ignored) < 0)
		return NULL;
	char *list = NULL;
	for (size_t i = 0; i < n && (i == 0 || list); i++)
		if (append_addr(&list, names[i]) < 0) {
			free(list);
			list = NULL;
			break;
		}
	hyp_hostlist_free(names);
	return list;
}

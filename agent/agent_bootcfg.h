/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The boot configuration the core writes on the kernel command line
 * (common/hyp_bootcfg.h has the format): the node's name, the job user and
 * its groups, the shares. Read once at boot; applied by agent_identity.c.
 */
#ifndef AGENT_BOOTCFG_H
#define AGENT_BOOTCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "agent_net.h"
#include "hyp_error.h"

#define AGENT_BOOTCFG_SHARES 16
#define AGENT_BOOTCFG_GROUPS 64
#define AGENT_NAME_MAX       64
#define AGENT_PATH_MAX       1024

struct agent_share {
	char tag[AGENT_NAME_MAX];
	char path[AGENT_PATH_MAX];
};

struct agent_group {
	char name[AGENT_NAME_MAX];
	gid_t gid;
};

struct agent_bootcfg {
	bool has_shares; /* hyperion.shares= was given (maybe empty) */
	bool has_user;
	char hostname[AGENT_NAME_MAX + 1];
	char user[AGENT_NAME_MAX];
	uid_t uid;
	gid_t gid;
	char home[AGENT_PATH_MAX];
	struct agent_group groups[AGENT_BOOTCFG_GROUPS];
	size_t ngroups;
	struct agent_share shares[AGENT_BOOTCFG_SHARES];
	size_t nshares;
	struct agent_net net; /* hyperion.net, hyperion.hosts (agent_net.h) */
};

/* Parse a kernel command line; unknown words are skipped, a malformed
 * hyperion.* value fails naming it. */
int agent_bootcfg_parse(const char *cmdline, struct agent_bootcfg *ret, hyp_error *err);
/* The same from /proc/cmdline. */
int agent_bootcfg_read(struct agent_bootcfg *ret, hyp_error *err);
/* Decode `len` percent-encoded bytes into out (NUL-terminated); false if
 * malformed, too long or holding a NUL. */
bool agent_bootcfg_decode(const char *in, size_t len, char *out, size_t size);
/* Whether `path` (absolute) is a share or lies in one. */
bool agent_bootcfg_in_share(const struct agent_bootcfg *b, const char *path);
/* "/home /scratch" into buf, "none" without shares. */
void agent_bootcfg_describe(const struct agent_bootcfg *b, char *buf, size_t size);

/* agent_identity.c, as PID 1: host name and /etc/hosts, the user and its
 * groups in /etc/passwd and /etc/group, the shares mounted. Failures are
 * logged on the console. */
void agent_identity_apply(const struct agent_bootcfg *b);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The boot configuration: what the guest's agent learns from the kernel
 * command line that the core writes (agent/agent_bootcfg.c reads it):
 *
 *   hyperion.hostname=NODE
 *   hyperion.user=NAME:UID:GID:HOME
 *   hyperion.groups=NAME:GID,NAME:GID,...
 *   hyperion.shares=TAG:PATH,TAG:PATH,...   (present, maybe empty)
 *   hyperion.net=MAC,ADDR/PREFIX,MTU        (the guest network, hyp_net.c;
 *   hyperion.hosts=FIRST,NODELIST            doc/network.md)
 *
 * Every NAME, HOME and PATH is percent-encoded (each byte outside
 * [A-Za-z0-9/._+@-] as %XX), so spaces, commas, colons and '%' survive the
 * kernel's word splitting and our separators. The kernel keeps at most
 * HYP_CMDLINE_MAX - 1 bytes of the command line (x86's COMMAND_LINE_SIZE):
 * groups that do not fit are left out, last first; shares that do not fit
 * fail the start.
 */
#ifndef HYP_BOOTCFG_H
#define HYP_BOOTCFG_H

#include <stddef.h>
#include <sys/types.h>

#include "hyp_error.h"
#include "hyp_shares.h"

#define HYP_CMDLINE_MAX 2048
/* What the domain XML's own parameters (console, panic, root) may take,
 * separators included (hyp_domain_xml_boot.c). */
#define HYP_BOOT_BASE_RESERVE  128
#define HYP_BOOTCFG_GROUPS_MAX 64 /* groups looked up for the guest */

struct hyp_guest_group {
	char *name;
	gid_t gid;
};

/* The job user as the guest shows it, resolved on the host. */
struct hyp_guest_user {
	char *name;
	uid_t uid;
	gid_t gid;
	char *home;                     /* "/" when the host has no entry */
	struct hyp_guest_group *groups; /* primary first, then the others */
	size_t ngroups;
};
void hyp_guest_user_free(struct hyp_guest_user *u);

/* From the host's passwd and group databases (getpwuid, getgrouplist,
 * getgrgid). A user or group the host cannot name is still given by id. */
int hyp_guest_user_lookup(const char *name, uid_t uid, gid_t gid, struct hyp_guest_user *ret,
                          hyp_error *err);

/* Append `s` as it is, or percent-encoded, onto the end of *buf (a malloc'd
 * string). */
int hyp_bootcfg_append(char **buf, const char *s);
int hyp_bootcfg_append_encoded(char **buf, const char *s);

/* The kernel parameters above, space-separated, in at most `max` bytes. */
int hyp_bootcfg_encode(const char *hostname, const struct hyp_guest_user *user,
                       const struct hyp_share *shares, size_t nshares, size_t max, char **ret,
                       hyp_error *err);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every name a job's VM has on a host, computed here and nowhere else.
 * Several Slurm nodes may share one host (multiple-slurmd mode, test
 * clusters), so the node name is part of each of them:
 *
 *   domain          hyperion-<node>-<job>
 *   node directory  <state_dir>/<node>/                 root 0755
 *   job lock        <state_dir>/<node>/job.<job>.lock    root 0600
 *   resource list   <state_dir>/<node>/job.<job>.res     root 0600
 *   job directory   <state_dir>/<node>/job.<job>/        root 0711
 *   sockets, locks  <job directory>/ctl.sock, exec.<i>.sock, exec.<i>.lock
 *   virtio-fs       <job directory>/fs.<i>.sock (job user 0600), tag hypfs<i>
 */
#ifndef HYP_NAMES_H
#define HYP_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hyp_error.h"

#define HYP_DOMAIN_PREFIX "hyperion-"
#define HYP_NODE_NAME_MAX 64
/* sizeof(sockaddr_un.sun_path), with its terminating NUL */
#define HYP_SOCKET_PATH_MAX 108

#define HYP_CTL_SOCKET  "ctl.sock"
#define HYP_CONSOLE_LOG "console.log"
#define HYP_OVERLAY     "overlay.qcow2"

/* A node name Hyperion accepts: 1-64 of [A-Za-z0-9._-], starting with a
 * letter or digit (Slurm's NodeName, as a path and domain name part). */
int hyp_node_name_check(const char *node, hyp_error *err);
/* This host's short name (up to the first dot), as slurmd's default. */
int hyp_node_name_default(char *buf, size_t size, hyp_error *err);

/* The names above, malloc'd (NULL when out of memory). */
char *hyp_domain_name(const char *node, uint32_t job_id);
char *hyp_node_dir(const char *state_dir, const char *node);
char *hyp_job_dir(const char *state_dir, const char *node, uint32_t job_id);
char *hyp_job_lock_path(const char *state_dir, const char *node, uint32_t job_id);
char *hyp_job_resources_path(const char *state_dir, const char *node, uint32_t job_id);
char *hyp_job_file(const char *job_dir, const char *name);
char *hyp_exec_socket_path(const char *job_dir, unsigned i);
char *hyp_exec_lock_path(const char *job_dir, unsigned i);
char *hyp_fs_socket_path(const char *job_dir, unsigned i);
char *hyp_fs_tag(unsigned i);

/* The longest socket path of a job with nexec ports must fit in a
 * sockaddr_un: fails naming the path and the limit otherwise. */
int hyp_names_check_length(const char *state_dir, const char *node, uint32_t job_id, unsigned nexec,
                           hyp_error *err);

/* "hyperion-<node>-<job>" -> node (into buf) and job id; false if the name
 * is not a Hyperion domain's. */
bool hyp_domain_name_parse(const char *name, char *node_buf, size_t node_size,
                           uint32_t *ret_job_id);
/* "job.<id>" -> id; with a suffix (".lock", ".res") accepted too. */
bool hyp_job_entry_parse(const char *entry, uint32_t *ret_job_id);

#endif

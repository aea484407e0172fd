/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperionctl exec: run a command in a job's VM as the job's user (or
 * --user). Root never talks to the guest: this drops to the user and
 * becomes hyperion-exec, which does.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "hyp_build_config.h"
#include "hyp_cleanup.h"
#include "hyp_statedir.h"

/* hyperion-exec beside this binary (build tree), else the installed one. */
static void find_exec_tool(char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(buf, size, "%s/hyperion-exec", dirname(self));
		if (access(buf, X_OK) == 0)
			return;
	}
	snprintf(buf, size, "%s/hyperion-exec", HYP_BINDIR);
}

/* The job's user is whoever owns its exec locks. */
static int job_owner(const struct ctl *ctl, const char *node, uint32_t job_id, uid_t *ret_uid,
                     hyp_error *err)
{
	_cleanup_free_ char *dir = hyp_job_dir(ctl->cfg.state_dir, node, job_id);
	_cleanup_free_ char *lock = dir ? hyp_exec_lock_path(dir, 0) : NULL;
	struct stat st;
	if (!lock)
		return hyp_fail(err, ENOMEM, "out of memory");
	if (stat(lock, &st) < 0)
		return errno == ENOENT
		           ? hyp_fail(err, ENOENT, "job %u has no VM on this node", job_id)
		           : hyp_fail_errno(err, "'%s'", lock);
	*ret_uid = st.st_uid;
	return 0;
}

static int become_user(const struct passwd *pw, hyp_error *err)
{
	if (initgroups(pw->pw_name, pw->pw_gid) < 0)
		return hyp_fail_errno(err, "initgroups for '%s'", pw->pw_name);
	if (setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		return hyp_fail_errno(err, "switching to user '%s'", pw->pw_name);
	if (setenv("USER", pw->pw_name, 1) < 0 || setenv("LOGNAME", pw->pw_name, 1) < 0 ||
	    setenv("HOME", pw->pw_dir, 1) < 0)
		return hyp_fail_errno(err, "setting the environment");
	return 0;
}

static int parse_exec_args(int argc, char **argv, uint32_t *job_id, const char **node,
                           const char **user, hyp_error *err)
{
	static const struct option opts[] = {{"job", required_argument, NULL, 'j'},
	                                     {"node", required_argument, NULL, 'N'},
	                                     {"user", required_argument, NULL, 'u'},
	                                     {0}};
	int c, r = 0;
	optind = 0;
	opterr = 0;
	while (r >= 0 && (c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'j')
			r = ctl_parse_job_id(optarg, job_id, err);
		else if (c == 'u')
			*user = optarg;
		else if (c == 'N')
			r = ctl_parse_node(optarg, node, err);
		else
			r = hyp_fail(err, EINVAL, "unknown option '%s'", argv[optind - 1]);
	}
	if (r < 0)
		return r;
	if (!*job_id)
		return hyp_fail(err, EINVAL, "missing --job");
	if (optind >= argc)
		return hyp_fail(err, EINVAL, "missing the command: exec --job ID -- COMMAND");
	return 0;
}

int command_exec(struct ctl *ctl, int argc, char **argv, hyp_error *err)
{
	uint32_t job_id = 0;
	const char *user = NULL, *node = NULL;
	char host[HYP_NODE_NAME_MAX + 1];
	int r = parse_exec_args(argc, argv, &job_id, &node, &user, err);
	if (r >= 0 && !node && (r = hyp_node_name_default(host, sizeof(host), err)) >= 0)
		node = host;
	if (r < 0)
		return r;
	uid_t uid = 0;
	struct passwd *pw = NULL;
	if (user)
		pw = getpwnam(user);
	else if ((r = job_owner(ctl, node, job_id, &uid, err)) >= 0)
		pw = getpwuid(uid);
	if (r < 0)
		return r;
	if (!pw)
		return hyp_fail(err, EINVAL, "unknown user '%s'", user ? user : "(job owner)");
	if ((r = become_user(pw, err)) < 0)
		return r;

	char tool[PATH_MAX], job[16];
	find_exec_tool(tool, sizeof(tool));
	snprintf(job, sizeof(job), "%u", job_id);
	int n = argc - optind;
	char **args = calloc((size_t)n + 10, sizeof(char *));
	if (!args)
		return hyp_fail(err, ENOMEM, "out of memory");
	int k = 0;
	args[k++] = "hyperion-exec";
	args[k++] = "--job";
	args[k++] = job;
	args[k++] = "--node";
	args[k++] = (char *)node;
	if (ctl->config_path) {
		args[k++] = "--config";
		args[k++] = (char *)ctl->config_path;
	}
	args[k++] = "--state-dir";
	args[k++] = ctl->cfg.state_dir;
	args[k++] = "--";
	memcpy(args + k, argv + optind, (size_t)n * sizeof(char *));
	execv(tool, args);
	r = hyp_fail_errno(err, "executing '%s'", tool);
	free(args);
	return r;
}

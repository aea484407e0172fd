/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperion-exec: run one command in the job's VM on this node, as the job
 * user, with stdio, signals and the exit status relayed (doc/hyperion-exec.1).
 * Each Slurm task of a VM job becomes it through Slurm's own execve (the
 * plugin puts it in place of the task's argv[0]); hyperionctl exec execs it
 * after dropping to the job user.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "exec.h"
#include "hyp_build_config.h"
#include "hyp_cleanup.h"
#include "hyp_job.h"

/* A closed stdin, stdout or stderr would be reused by the next open(): put
 * /dev/null there first, so that the socket never lands on fd 0-2. */
static void open_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (n >= 0 && n != fd)
			close(n);
	}
}

static int fail(const hyp_error *err)
{
	fprintf(stderr, EXEC_PREFIX "%s\n", err->msg);
	return EXEC_EXIT_SETUP;
}

static int run(const struct exec_opts *o)
{
	struct exec_session s;
	hyp_error err = {0};
	int r = exec_session_open(&s, o, &err);
	if (r >= 0 && o->ping)
		r = exec_session_ping(&s, o->ping, &err);
	else if (r >= 0)
		r = exec_run(&s, &err); /* the command's status, or < 0 */
	if (r < 0) {
		fail(&err);
		if (s.console_hint)
			exec_print_console(&s);
		r = s.fail_status;
	}
	exec_session_close(&s);
	return r;
}

int main(int argc, char **argv)
{
	struct exec_opts o;
	hyp_error err = {0};
	_cleanup_strv_ char **task_argv = NULL;
	open_std_fds();
	/* a Slurm task (plugin_stepd.c): the options are in the environment */
	int t = hyp_job_task_argv(argc, argv, &task_argv, &err);
	if (t < 0)
		return fail(&err);
	if (t > 0) {
		argv = task_argv;
		for (argc = 0; argv[argc]; argc++)
			;
	}
	if (exec_opts_parse(argc, argv, &o, &err) < 0)
		return fail(&err);
	int r = 0;
	if (o.help)
		exec_usage(stdout);
	else if (o.version)
		printf("hyperion-exec %s\n", HYP_VERSION);
	else if (exec_opts_resolve(&o, &err) < 0)
		r = fail(&err);
	else
		r = run(&o);
	exec_opts_free(&o);
	return r;
}

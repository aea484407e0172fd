/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The EXEC request hyperion-exec builds from its options, its environment,
 * its identity and its working directory (exec_request.c); every request
 * built is also checked to be one the protocol accepts. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec.h"

extern char **environ;

static char *cmd_true[] = {"true", NULL};

static struct exec_opts opts(void)
{
	return (struct exec_opts){.argv = cmd_true, .argc = 1};
}

/* Build, then check that it encodes and decodes back to the same request. */
static void build(const struct exec_opts *o, bool tty, struct hyp_msg *ret)
{
	hyp_error err = {0};
	struct hyp_buf buf = {0};
	struct hyp_msg back;
	cr_assert_eq(exec_request_build(o, tty, 0, ret, &err), 0, "%s", err.msg);
	cr_assert_eq(ret->type, HYP_MSG_EXEC);
	cr_assert_eq(hyp_msg_encode(&buf, ret, &err), 0, "%s", err.msg);
	cr_assert_eq(hyp_msg_decode(buf.data, buf.len, &back, &err), (ssize_t)buf.len, "%s",
	             err.msg);
	cr_expect_eq(back.exec.envc, ret->exec.envc);
	cr_expect_eq(back.exec.argc, ret->exec.argc);
	hyp_msg_clear(&back);
	hyp_buf_free(&buf);
}

static const char *env_of(const struct hyp_exec_request *x, size_t i)
{
	cr_assert_lt(i, x->envc);
	return x->envp[i];
}

Test(exec_request, identity_of_this_process)
{
	struct exec_opts o = opts();
	struct hyp_msg m;
	mode_t old = umask(027);
	build(&o, false, &m);
	cr_expect_eq(umask(old), 027, "the umask is left as it was");
	cr_expect_eq(m.exec.uid, getuid());
	cr_expect_eq(m.exec.gid, getgid());
	cr_expect_eq(m.exec.umask, 027);
	gid_t groups[HYP_EXEC_MAX_GROUPS];
	int n = getgroups(HYP_EXEC_MAX_GROUPS, groups);
	cr_assert_eq(m.exec.ngroups, (uint32_t)n);
	for (int i = 0; i < n; i++)
		cr_expect_eq(m.exec.groups[i], groups[i]);
	cr_expect_eq(m.exec.flags & HYP_EXEC_TTY, 0);
	cr_assert_eq(m.exec.argc, 1);
	cr_expect_str_eq(m.exec.argv[0], "true");
	cr_expect_null(m.exec.argv[1]);
	hyp_msg_clear(&m);
}

Test(exec_request, tty_flag)
{
	struct exec_opts o = opts();
	struct hyp_msg m;
	build(&o, true, &m);
	cr_expect(m.exec.flags & HYP_EXEC_TTY);
	hyp_msg_clear(&m);
}

Test(exec_request, environment_is_passed_on_in_order)
{
	static char *env[] = {"A=1", "PATH=/bin", "NOEQUALS", "=anon", "EMPTY=", NULL};
	struct exec_opts o = opts();
	struct hyp_msg m;
	environ = env;
	build(&o, false, &m);
	cr_assert_eq(m.exec.envc, 3, "not NAME=VALUE: not passed on");
	cr_expect_str_eq(env_of(&m.exec, 0), "A=1");
	cr_expect_str_eq(env_of(&m.exec, 1), "PATH=/bin");
	cr_expect_str_eq(env_of(&m.exec, 2), "EMPTY=");
	cr_expect_null(m.exec.envp[3]);
	hyp_msg_clear(&m);
}

Test(exec_request, env_options_replace_or_add)
{
	static char *env[] = {"A=1", "AB=2", "B=3", NULL};
	char *add[] = {"B=new", "C=4", "A=x=y"};
	struct exec_opts o = opts();
	struct hyp_msg m;
	environ = env;
	o.env_add = add;
	o.n_env_add = 3;
	build(&o, false, &m);
	cr_assert_eq(m.exec.envc, 4);
	cr_expect_str_eq(env_of(&m.exec, 0), "A=x=y");
	cr_expect_str_eq(env_of(&m.exec, 1), "AB=2", "A= does not replace AB=");
	cr_expect_str_eq(env_of(&m.exec, 2), "B=new");
	cr_expect_str_eq(env_of(&m.exec, 3), "C=4");
	hyp_msg_clear(&m);
}

Test(exec_request, ignore_environment)
{
	static char *env[] = {"SECRET=1", NULL};
	char *add[] = {"ONLY=this", "ONLY=that"};
	struct exec_opts o = opts();
	struct hyp_msg m;
	environ = env;
	o.ignore_env = true;
	build(&o, false, &m);
	cr_expect_eq(m.exec.envc, 0);
	hyp_msg_clear(&m);
	o.env_add = add;
	o.n_env_add = 2;
	build(&o, false, &m);
	cr_assert_eq(m.exec.envc, 1);
	cr_expect_str_eq(env_of(&m.exec, 0), "ONLY=that");
	hyp_msg_clear(&m);
}

Test(exec_request, cwd_default_is_here_and_optional)
{
	struct exec_opts o = opts();
	struct hyp_msg m;
	cr_assert_eq(chdir("/tmp"), 0);
	build(&o, false, &m);
	cr_expect_str_eq(m.exec.cwd, "/tmp");
	cr_expect(m.exec.flags & HYP_EXEC_CWD_OPTIONAL);
	hyp_msg_clear(&m);
}

Test(exec_request, cwd_given_must_exist)
{
	struct exec_opts o = opts();
	struct hyp_msg m;
	cr_assert_eq(chdir("/tmp"), 0);
	o.cwd = "/srv/data";
	build(&o, false, &m);
	cr_expect_str_eq(m.exec.cwd, "/srv/data");
	cr_expect_eq(m.exec.flags & HYP_EXEC_CWD_OPTIONAL, 0);
	hyp_msg_clear(&m);
	o.cwd = "sub/dir";
	build(&o, false, &m);
	cr_expect_str_eq(m.exec.cwd, "/tmp/sub/dir", "relative to the host's cwd");
	hyp_msg_clear(&m);
	cr_assert_eq(chdir("/"), 0);
	build(&o, false, &m);
	cr_expect_str_eq(m.exec.cwd, "/sub/dir");
	hyp_msg_clear(&m);
}

Test(exec_request, cwd_relative_with_the_current_directory_gone)
{
	char dir[] = "/tmp/test_exec_request.XXXXXX";
	struct exec_opts o = opts();
	struct hyp_msg m;
	hyp_error err = {0};
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chdir(dir), 0);
	cr_assert_eq(rmdir(dir), 0);
	build(&o, false, &m);
	cr_expect_str_eq(m.exec.cwd, "/", "no cwd: / instead");
	cr_expect(m.exec.flags & HYP_EXEC_CWD_OPTIONAL);
	hyp_msg_clear(&m);
	o.cwd = "rel";
	cr_expect_eq(exec_request_build(&o, false, 0, &m, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "--cwd 'rel' is relative and the current directory is unknown");
}

Test(exec_request, argv_is_copied)
{
	char *argv[] = {"sh", "-c", "echo \"$0\"", "", NULL};
	struct exec_opts o = opts();
	struct hyp_msg m;
	o.argv = argv;
	o.argc = 4;
	build(&o, false, &m);
	cr_assert_eq(m.exec.argc, 4);
	for (int i = 0; i < 4; i++) {
		cr_expect_str_eq(m.exec.argv[i], argv[i]);
		cr_expect_neq(m.exec.argv[i], argv[i], "a copy");
	}
	cr_expect_null(m.exec.argv[4]);
	hyp_msg_clear(&m);
}

Test(exec_request, script_is_a_file_that_follows)
{
	char *argv[] = {"/var/spool/slurmd/job00042/slurm_script", "a1", NULL};
	struct exec_opts o = opts();
	struct hyp_msg m;
	hyp_error err = {0};
	o.argv = argv;
	o.argc = 2;
	o.script = true;
	cr_assert_eq(exec_request_build(&o, false, 4194304, &m, &err), 0, "%s", err.msg);
	cr_expect(m.exec.flags & HYP_EXEC_FILE);
	cr_expect_eq(m.exec.file_size, 4194304);
	cr_assert_eq(m.exec.argc, 2);
	cr_expect_str_eq(m.exec.argv[0], argv[0]);
	cr_expect_str_eq(m.exec.argv[1], "a1");
	hyp_msg_clear(&m);
}

Test(exec_request, limits_and_umask_are_this_process_s)
{
	struct rlimit nofile, stack;
	getrlimit(RLIMIT_NOFILE, &nofile);
	getrlimit(RLIMIT_STACK, &stack);
	struct rlimit lower = {.rlim_cur = nofile.rlim_cur > 512 ? 512 : nofile.rlim_cur,
	                       .rlim_max = nofile.rlim_max};
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &lower), 0);
	mode_t old = umask(027);
	struct exec_opts o = opts();
	struct hyp_msg m;
	build(&o, false, &m);
	umask(old);
	setrlimit(RLIMIT_NOFILE, &nofile);
	cr_expect_eq(m.exec.umask, 027);
	cr_assert_eq(m.exec.nlimits, 10, "the limits Slurm propagates");
	bool seen_nofile = false, seen_stack = false;
	for (uint32_t i = 0; i < m.exec.nlimits; i++) {
		const struct hyp_rlimit *l = &m.exec.limits[i];
		if (l->resource == RLIMIT_NOFILE) {
			seen_nofile = true;
			cr_expect_eq(l->soft, lower.rlim_cur);
			cr_expect_eq(l->hard, lower.rlim_max);
		} else if (l->resource == RLIMIT_STACK) {
			seen_stack = true;
			cr_expect_eq(l->soft, stack.rlim_cur);
		}
	}
	cr_expect(seen_nofile && seen_stack);
	cr_expect_eq(m.exec.file_size, 0);
	cr_expect_not(m.exec.flags & HYP_EXEC_FILE);
	hyp_msg_clear(&m);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperion-exec's command line: what each option sets, which combinations
 * are refused and with what message, and what the environment and the
 * configuration file fill in (exec_opts.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof(v[0])) - 1)

static int parse(char **argv, int argc, struct exec_opts *o, hyp_error *err)
{
	memset(err, 0, sizeof(*err));
	return exec_opts_parse(argc, argv, o, err);
}

/* Parsing argv must fail with EINVAL and exactly `msg`. */
static void refused(char **argv, int argc, const char *msg)
{
	struct exec_opts o;
	hyp_error err;
	cr_assert_eq(parse(argv, argc, &o, &err), -EINVAL, "accepted: expected '%s'", msg);
	cr_expect_str_eq(err.msg, msg);
}

Test(exec_opts, everything_set)
{
	char *argv[] = {"hyperion-exec",
	                "--job",
	                "42",
	                "-c",
	                "/x.conf",
	                "--state-dir",
	                "/st",
	                "-t",
	                "-C",
	                "/tmp",
	                "-e",
	                "A=1",
	                "--env",
	                "B=2",
	                "-i",
	                "--timeout",
	                "7",
	                "--",
	                "ls",
	                "-l",
	                NULL};
	struct exec_opts o;
	hyp_error err;
	cr_assert_eq(parse(argv, ARGC(argv), &o, &err), 0, "%s", err.msg);
	cr_expect_eq(o.job_id, 42);
	cr_expect_str_eq(o.config_path, "/x.conf");
	cr_expect_str_eq(o.state_dir, "/st");
	cr_expect_eq(o.tty, EXEC_TTY_ON);
	cr_expect_str_eq(o.cwd, "/tmp");
	cr_assert_eq(o.n_env_add, 2);
	cr_expect_str_eq(o.env_add[0], "A=1");
	cr_expect_str_eq(o.env_add[1], "B=2");
	cr_expect(o.ignore_env);
	cr_expect(o.timeout_set);
	cr_expect_eq(o.timeout_s, 7);
	cr_assert_eq(o.argc, 2);
	cr_expect_str_eq(o.argv[0], "ls");
	cr_expect_str_eq(o.argv[1], "-l");
	exec_opts_free(&o);
}

Test(exec_opts, defaults)
{
	char *argv[] = {"hyperion-exec", "true", NULL};
	struct exec_opts o;
	hyp_error err;
	cr_assert_eq(parse(argv, ARGC(argv), &o, &err), 0, "%s", err.msg);
	cr_expect_eq(o.job_id, 0);
	cr_expect_null(o.state_dir);
	cr_expect_eq(o.tty, EXEC_TTY_AUTO);
	cr_expect_null(o.cwd);
	cr_expect_eq(o.n_env_add, 0);
	cr_expect(!o.ignore_env && !o.timeout_set && !o.script && !o.ping);
	cr_expect_eq(o.argc, 1);
	exec_opts_free(&o);
}

Test(exec_opts, the_commands_own_options_are_not_ours)
{
	char *argv[] = {"hyperion-exec", "-T", "ls", "-t", "--job", "5", NULL};
	struct exec_opts o;
	hyp_error err;
	cr_assert_eq(parse(argv, ARGC(argv), &o, &err), 0, "%s", err.msg);
	cr_expect_eq(o.tty, EXEC_TTY_OFF);
	cr_expect_eq(o.job_id, 0);
	cr_assert_eq(o.argc, 4);
	cr_expect_str_eq(o.argv[1], "-t");
	exec_opts_free(&o);
}

Test(exec_opts, last_tty_option_wins_and_state_dir_is_replaced)
{
	char *argv[] = {"hyperion-exec", "-t", "-T", "--state-dir", "/a",
	                "--state-dir",   "/b", "--", "x",           NULL};
	struct exec_opts o;
	hyp_error err;
	cr_assert_eq(parse(argv, ARGC(argv), &o, &err), 0, "%s", err.msg);
	cr_expect_eq(o.tty, EXEC_TTY_OFF);
	cr_expect_str_eq(o.state_dir, "/b");
	exec_opts_free(&o);
}

Test(exec_opts, ping_and_script)
{
	char *ping[] = {"hyperion-exec", "--ping", "10", NULL};
	char *script[] = {"hyperion-exec", "--script", "/spool/job.sh", "arg", NULL};
	struct exec_opts o;
	hyp_error err;
	cr_assert_eq(parse(ping, ARGC(ping), &o, &err), 0, "%s", err.msg);
	cr_expect_eq(o.ping, 10);
	cr_expect_eq(o.argc, 0);
	exec_opts_free(&o);
	cr_assert_eq(parse(script, ARGC(script), &o, &err), 0, "%s", err.msg);
	cr_expect(o.script);
	cr_expect_eq(o.argc, 2);
	exec_opts_free(&o);
}

Test(exec_opts, help_and_version_need_no_command)
{
	char *help[] = {"hyperion-exec", "--help", NULL};
	char *version[] = {"hyperion-exec", "--version", NULL};
	struct exec_opts o;
	hyp_error err;
	cr_assert_eq(parse(help, ARGC(help), &o, &err), 0, "%s", err.msg);
	cr_expect(o.help);
	exec_opts_free(&o);
	cr_assert_eq(parse(version, ARGC(version), &o, &err), 0, "%s", err.msg);
	cr_expect(o.version);
	exec_opts_free(&o);
}

Test(exec_opts, refused_combinations)
{
	char *none[] = {"hyperion-exec", NULL};
	refused(none, ARGC(none),
	        "missing the command: hyperion-exec [OPTION]... -- COMMAND [ARG]...");
	char *dashdash[] = {"hyperion-exec", "--job", "1", "--", NULL};
	refused(dashdash, ARGC(dashdash),
	        "missing the command: hyperion-exec [OPTION]... -- COMMAND [ARG]...");
	char *ping_cmd[] = {"hyperion-exec", "--ping", "3", "true", NULL};
	refused(ping_cmd, ARGC(ping_cmd), "--ping takes no command");
	char *empty[] = {"hyperion-exec", "--", "", NULL};
	refused(empty, ARGC(empty), "the command is empty");
	char *cwd[] = {"hyperion-exec", "-C", "", "true", NULL};
	refused(cwd, ARGC(cwd), "--cwd is empty");
}

Test(exec_opts, bad_values)
{
	char *job0[] = {"hyperion-exec", "--job", "0", "true", NULL};
	refused(job0, ARGC(job0),
	        "--job: bad value '0' (allowed: a whole number from 1 to 4294967295)");
	char *jobx[] = {"hyperion-exec", "--job", "12x", "true", NULL};
	refused(jobx, ARGC(jobx),
	        "--job: bad value '12x' (allowed: a whole number from 1 to 4294967295)");
	char *big[] = {"hyperion-exec", "--job", "4294967296", "true", NULL};
	refused(big, ARGC(big),
	        "--job: bad value '4294967296' (allowed: a whole number from 1 to 4294967295)");
	char *timeout[] = {"hyperion-exec", "--timeout", "-1", "true", NULL};
	refused(timeout, ARGC(timeout),
	        "--timeout: bad value '-1' (allowed: a whole number from 0 to 86400)");
	char *ping[] = {"hyperion-exec", "--ping", "0", NULL};
	refused(ping, ARGC(ping),
	        "--ping: bad value '0' (allowed: a whole number from 1 to 10000000)");
	char *env[] = {"hyperion-exec", "-e", "NOVALUE", "true", NULL};
	refused(env, ARGC(env), "--env 'NOVALUE' is not NAME=VALUE");
	char *env2[] = {"hyperion-exec", "--env", "=x", "true", NULL};
	refused(env2, ARGC(env2), "--env '=x' is not NAME=VALUE");
}

Test(exec_opts, unknown_options_and_missing_values)
{
	char *shortopt[] = {"hyperion-exec", "-x", "true", NULL};
	refused(shortopt, ARGC(shortopt), "unknown option '-x' (see --help)");
	char *longopt[] = {"hyperion-exec", "--frobnicate", "true", NULL};
	refused(longopt, ARGC(longopt), "unknown option '--frobnicate' (see --help)");
	char *noval[] = {"hyperion-exec", "true", "-C", NULL};
	/* after the command, -C is the command's */
	struct exec_opts o;
	hyp_error err;
	cr_assert_eq(parse(noval, ARGC(noval), &o, &err), 0, "%s", err.msg);
	exec_opts_free(&o);
	char *shortval[] = {"hyperion-exec", "-C", NULL};
	refused(shortval, ARGC(shortval), "option '-C' needs a value");
	char *longval[] = {"hyperion-exec", "--job", NULL};
	refused(longval, ARGC(longval), "option '--job' needs a value");
}

/* exec_opts_resolve: the job from SLURM_JOB_ID, the rest from the config. */
static char *write_config(const char *text)
{
	char *path = strdup("/tmp/test_exec_opts.XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static int resolve(char **argv, int argc, struct exec_opts *o, hyp_error *err)
{
	int r = parse(argv, argc, o, err);
	cr_assert_eq(r, 0, "%s", err->msg);
	return exec_opts_resolve(o, err);
}

Test(exec_opts, resolve_job_from_the_environment)
{
	char *argv[] = {"hyperion-exec", "--state-dir", "/st", "--timeout", "0", "true", NULL};
	struct exec_opts o;
	hyp_error err;
	setenv("SLURM_JOB_ID", "777", 1);
	cr_assert_eq(resolve(argv, ARGC(argv), &o, &err), 0, "%s", err.msg);
	cr_expect_eq(o.job_id, 777);
	cr_expect_str_eq(o.state_dir, "/st");
	cr_expect_eq(o.timeout_s, 0);
	exec_opts_free(&o);

	char *job[] = {"hyperion-exec", "--job", "5",    "--state-dir", "/st",
	               "--timeout",     "1",     "true", NULL};
	cr_assert_eq(resolve(job, ARGC(job), &o, &err), 0, "%s", err.msg);
	cr_expect_eq(o.job_id, 5, "--job beats SLURM_JOB_ID");
	exec_opts_free(&o);

	setenv("SLURM_JOB_ID", "abc", 1);
	cr_expect_eq(resolve(argv, ARGC(argv), &o, &err), -EINVAL);
	cr_expect_str_eq(
	    err.msg,
	    "SLURM_JOB_ID: bad value 'abc' (allowed: a whole number from 1 to 4294967295)");
	exec_opts_free(&o);

	unsetenv("SLURM_JOB_ID");
	cr_expect_eq(resolve(argv, ARGC(argv), &o, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "no job: give --job or set SLURM_JOB_ID");
	exec_opts_free(&o);
}

Test(exec_opts, resolve_from_the_config_file)
{
	char *path = write_config("state_dir = /run/hyp-test-opts\nboot_timeout = 33\n");
	char *argv[] = {"hyperion-exec", "--job", "9", "-c", path, "true", NULL};
	struct exec_opts o;
	hyp_error err;
	cr_assert_eq(resolve(argv, ARGC(argv), &o, &err), 0, "%s", err.msg);
	cr_expect_str_eq(o.state_dir, "/run/hyp-test-opts");
	cr_expect_eq(o.timeout_s, 33);
	exec_opts_free(&o);

	/* the command line beats the file */
	char *over[] = {"hyperion-exec", "--job",     "9", "-c",   path, "--state-dir",
	                "/mine",         "--timeout", "4", "true", NULL};
	cr_assert_eq(resolve(over, ARGC(over), &o, &err), 0, "%s", err.msg);
	cr_expect_str_eq(o.state_dir, "/mine");
	cr_expect_eq(o.timeout_s, 4);
	exec_opts_free(&o);
	unlink(path);
	free(path);
}

Test(exec_opts, resolve_reports_a_bad_config_file)
{
	char *path = write_config("boot_timeout = soon\n");
	char *argv[] = {"hyperion-exec", "--job", "9", "-c", path, "true", NULL};
	struct exec_opts o;
	hyp_error err;
	cr_expect_lt(resolve(argv, ARGC(argv), &o, &err), 0);
	cr_expect(strstr(err.msg, path) && strstr(err.msg, "boot_timeout"), "%s", err.msg);
	exec_opts_free(&o);
	unlink(path);
	free(path);
}

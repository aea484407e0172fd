/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperionctl exec's user side: the environment it gets (ctl_exec_env.c),
 * the pty it gets in place of the admin's terminal (ctl_exec_pty.c), and
 * the child itself, run for real with the relay (ctl_exec_child.c). The
 * admin's terminal is a pty this test opens and puts on fds 0-2.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "ctl_exec.h"
#include "hyp_cleanup.h"

static struct passwd user = {.pw_name = "alice",
                             .pw_uid = 1234,
                             .pw_gid = 1234,
                             .pw_dir = "/home/alice",
                             .pw_shell = "/bin/zsh"};

static char **env_for(const struct passwd *pw, char **env)
{
	char **v = NULL;
	hyp_error err = {0};
	cr_assert_eq(ctl_exec_env(pw, env, &v, &err), 0, "%s", err.msg);
	return v;
}

static bool has(char **v, const char *entry)
{
	for (; *v; v++)
		if (strcmp(*v, entry) == 0)
			return true;
	return false;
}

static size_t count(char **v)
{
	size_t n = 0;
	while (v[n])
		n++;
	return n;
}

Test(ctl_exec_env, terminal_and_locale_pass_the_rest_does_not)
{
	char *root_env[] = {"TERM=xterm-256color",
	                    "COLORTERM=truecolor",
	                    "LANG=de_DE.UTF-8",
	                    "LANGUAGE=de",
	                    "LC_ALL=C.UTF-8",
	                    "LC_TIME=en_GB.UTF-8",
	                    "TZ=Europe/Berlin",
	                    "HYP_SECRET=s3cr3t",
	                    "SSH_AUTH_SOCK=/tmp/agent",
	                    "LD_PRELOAD=/evil.so",
	                    "PATH=/root/bin:/usr/sbin",
	                    "HOME=/root",
	                    "USER=root",
	                    "SHELL=/bin/bash",
	                    "TERMINFO=/root/.terminfo",
	                    "TERMX=1",
	                    "TERM",
	                    "=x",
	                    "LC",
	                    NULL};
	char **v = env_for(&user, root_env);
	const char *want[] = {
	    "TERM=xterm-256color", "COLORTERM=truecolor", "LANG=de_DE.UTF-8",
	    "LANGUAGE=de",         "LC_ALL=C.UTF-8",      "LC_TIME=en_GB.UTF-8",
	    "TZ=Europe/Berlin",    "USER=alice",          "LOGNAME=alice",
	    "HOME=/home/alice",    "SHELL=/bin/zsh",      "PATH=/usr/local/bin:/usr/bin:/bin"};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(has(v, want[i]), "%s missing", want[i]);
	cr_expect_eq(count(v), sizeof(want) / sizeof(want[0]), "and nothing else");
	for (char **e = v; *e; e++)
		cr_expect(!strstr(*e, "s3cr3t") && !strstr(*e, "/root") && !strstr(*e, "evil"),
		          "%s passed", *e);
	hyp_strv_free(v);
}

Test(ctl_exec_env, empty_environment_and_no_shell)
{
	struct passwd pw = user;
	pw.pw_shell = "";
	char *none[] = {NULL};
	char **v = env_for(&pw, none);
	cr_expect_eq(count(v), 5);
	cr_expect(has(v, "SHELL=/bin/sh"));
	hyp_strv_free(v);
	v = env_for(&pw, NULL);
	cr_expect_eq(count(v), 5);
	hyp_strv_free(v);
}

/* The admin's terminal: a pty whose slave becomes fds 0-2; its master is
 * how the test types and reads. */
static int admin_master = -1;

static void admin_terminal(void)
{
	int slave;
	struct winsize ws = {.ws_row = 33, .ws_col = 111};
	cr_assert_eq(openpty(&admin_master, &slave, NULL, NULL, &ws), 0);
	for (int fd = 0; fd <= 2; fd++)
		cr_assert_eq(dup2(slave, fd), fd);
	close(slave);
}

Test(ctl_exec_pty, no_terminal_no_pty)
{
	struct ctl_exec_term t;
	hyp_error err = {0};
	int null = open("/dev/null", O_RDWR);
	for (int fd = 0; fd <= 2; fd++)
		dup2(null, fd);
	cr_assert_eq(ctl_exec_term_open(&t, &err), 0, "%s", err.msg);
	cr_expect_eq(t.master, -1);
	cr_expect_eq(t.slave, -1);
	cr_expect(!t.raw && !t.tty[0] && !t.tty[1] && !t.tty[2]);
	ctl_exec_term_close(&t);
}

Test(ctl_exec_pty, a_new_pty_like_the_admins_which_is_raw_until_closed)
{
	struct ctl_exec_term t;
	struct termios before, during, after, slave_tio;
	struct winsize ws;
	hyp_error err = {0};
	admin_terminal();
	cr_assert_eq(tcgetattr(0, &before), 0);
	cr_assert(before.c_lflag & ICANON);
	cr_assert_eq(ctl_exec_term_open(&t, &err), 0, "%s", err.msg);
	cr_expect(t.tty[0] && t.tty[1] && t.tty[2]);
	cr_expect_eq(t.out_fd, 1);
	cr_assert_geq(t.master, 0);
	cr_assert_geq(t.slave, 0);
	cr_expect(fcntl(t.master, F_GETFD) & FD_CLOEXEC);
	cr_expect(fcntl(t.slave, F_GETFD) & FD_CLOEXEC);
	char admin[64], child[64];
	cr_assert_eq(ttyname_r(0, admin, sizeof(admin)), 0);
	cr_assert_eq(ttyname_r(t.slave, child, sizeof(child)), 0);
	cr_expect_str_neq(admin, child, "a terminal of its own");
	cr_assert_eq(ioctl(t.slave, TIOCGWINSZ, &ws), 0);
	cr_expect(ws.ws_row == 33 && ws.ws_col == 111, "the admin's size");
	cr_assert_eq(tcgetattr(t.slave, &slave_tio), 0);
	cr_expect(slave_tio.c_lflag & ICANON, "the admin's settings, not raw");
	cr_assert_eq(tcgetattr(0, &during), 0);
	cr_expect(!(during.c_lflag & (ICANON | ECHO | ISIG)), "the admin's terminal is raw");
	ctl_exec_term_close(&t);
	cr_assert_eq(tcgetattr(0, &after), 0);
	cr_expect_eq(after.c_lflag, before.c_lflag, "and restored");
	cr_expect_eq(t.master, -1);
}

/* Read what reached the admin's terminal until `want` shows up. */
static void admin_reads(const char *want, char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int i = 0; i < 100 && !strstr(buf, want); i++) {
		ssize_t n = read(admin_master, buf + len, size - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
	}
	cr_expect(strstr(buf, want), "'%s' not in '%s'", want, buf);
}

static pid_t start_child(struct ctl_exec_term *t, int *ret_sigfd, char **argv, char **envp)
{
	hyp_error err = {0};
	*ret_sigfd = ctl_exec_signals(&err);
	cr_assert_geq(*ret_sigfd, 0, "%s", err.msg);
	cr_assert_eq(ctl_exec_term_open(t, &err), 0, "%s", err.msg);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		ctl_exec_child(t, getpwuid(getuid()), "/bin/sh", argv, envp);
	hyp_closep(&t->slave);
	t->slave = -1;
	return pid;
}

/* Root's side in a process of its own (the test is the admin at the
 * terminal): the child, the relay, the terminal restored; exits with the
 * child's exit status, or 100 + the signal that killed it. */
static pid_t start_root(char **argv, char **envp)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid > 0)
		return pid;
	struct ctl_exec_term t;
	int sigfd, wstatus = 0;
	hyp_error err = {0};
	pid_t child = start_child(&t, &sigfd, argv, envp);
	if (ctl_exec_relay(&t, child, sigfd, &wstatus, &err) < 0)
		_exit(99);
	ctl_exec_term_close(&t);
	_exit(WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 100 + WTERMSIG(wstatus));
}

Test(ctl_exec_child, runs_in_its_own_session_on_its_own_terminal, .timeout = 30)
{
	if (geteuid() != 0)
		cr_skip_test("the child sets its groups and ids: needs root");
	/* an fd root inherited, not close-on-exec: the child must not get it */
	int leak = open("/dev/null", O_RDONLY);
	cr_assert_geq(leak, 3);
	admin_terminal();
	char admin[64];
	cr_assert_eq(ttyname_r(0, admin, sizeof(admin)), 0);
	struct termios before, after;
	cr_assert_eq(tcgetattr(0, &before), 0);
	char *argv[] = {"sh", "-c",
	                "echo \"tty=$(tty) env=$(env | tr '\\n' ,) fds=$(ls /proc/self/fd | tr "
	                "'\\n' ,) sid=$(cut -d' ' -f6 /proc/self/stat) pid=$$ end\"; read x; "
	                "echo got=$x; exit 7",
	                NULL};
	char *envp[] = {"ONLY=this", NULL};
	pid_t root = start_root(argv, envp);
	char buf[4096];
	admin_reads(" end", buf, sizeof(buf));
	cr_expect(!strstr(buf, admin), "the admin's terminal %s reached the child: %s", admin, buf);
	cr_expect(strstr(buf, "tty=/dev/pts/"), "%s", buf);
	cr_expect(strstr(buf, "env=ONLY=this,PWD="), "%s", buf); /* sh adds PWD */
	cr_expect(strstr(buf, "fds=0,1,2,3, sid="), "only 0-2 (3: ls's directory) %s", buf);
	const char *sid = strstr(buf, "sid="), *pid = strstr(buf, "pid=");
	cr_assert(sid && pid);
	cr_expect_eq(atoi(sid + 4), atoi(pid + 4), "a session of its own: %s", buf);
	cr_assert_eq(write(admin_master, "typed\r", 6), 6);
	admin_reads("got=typed", buf, sizeof(buf));
	int st;
	cr_assert_eq(waitpid(root, &st, 0), root);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 7, "status %#x", st);
	cr_assert_eq(tcgetattr(0, &after), 0);
	cr_expect_eq(after.c_lflag, before.c_lflag, "the admin's terminal is restored");
	close(leak);
}

Test(ctl_exec_child, signals_are_passed_on, .timeout = 30)
{
	if (geteuid() != 0)
		cr_skip_test("the child sets its groups and ids: needs root");
	int null = open("/dev/null", O_RDWR);
	for (int fd = 0; fd <= 2; fd++)
		dup2(null, fd);
	char *argv[] = {"sh", "-c", "exec sleep 100", NULL};
	char *envp[] = {NULL};
	struct ctl_exec_term t;
	int sigfd, wstatus = 0;
	hyp_error err = {0};
	pid_t pid = start_child(&t, &sigfd, argv, envp);
	cr_expect_eq(t.master, -1, "no terminal, no pty");
	usleep(200 * 1000);
	kill(getpid(), SIGTERM); /* blocked, read from sigfd, sent on */
	cr_assert_eq(ctl_exec_relay(&t, pid, sigfd, &wstatus, &err), 0, "%s", err.msg);
	cr_expect(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGTERM, "status %#x", wstatus);
	ctl_exec_term_close(&t);
}

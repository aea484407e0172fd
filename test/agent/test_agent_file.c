/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What an EXEC brings besides the command (agent_file.c, agent_child.c):
 * a file sent in FILE frames (a batch script of any size, NUL bytes
 * included) that runs as the command and is gone after it, and the resource
 * limits and umask the command starts with. The agent's session runs in a
 * child over a socketpair, as in test_agent_session.c, with real commands.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_session.h"

#define WAIT_MS 20000

struct agent {
	pid_t pid;
	struct hyp_chan chan;
};

__attribute__((noreturn)) static void serve(int fd)
{
	struct agent_config cfg = {.uid = getuid(), .gid = getgid()};
	hyp_error err = {0};
	if (agent_signals_setup(&err) < 0)
		_exit(100);
	int sigfd = agent_signalfd(&err);
	if (sigfd < 0 || agent_fd_nonblock(fd, true, &err) < 0)
		_exit(101);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	_exit(agent_session_serve(fd, AGENT_PORT_EXEC, sigfd, &cfg));
}

/* Stream messages go on the EXEC's stream. */
static void send_msg(struct agent *a, struct hyp_msg m)
{
	hyp_error err = {0};
	const struct hyp_msg_desc *d = hyp_msg_desc(m.type);
	if (!m.stream && d && (d->scope == HYP_SCOPE_STREAM || d->scope == HYP_SCOPE_OPENS))
		m.stream = HYP_STREAM_EXEC;
	cr_assert_eq(hyp_chan_send_wait(&a->chan, &m, hyp_now_ms() + WAIT_MS, &err), 0, "%s",
	             err.msg);
}

/* The next frame but CREDIT. */
static struct hyp_msg recv_msg(struct agent *a)
{
	struct hyp_msg m;
	hyp_error err = {0};
	do
		cr_assert_eq(hyp_chan_recv_wait(&a->chan, &m, hyp_now_ms() + WAIT_MS, &err), 0,
		             "%s", err.msg);
	while (m.type == HYP_MSG_CREDIT);
	return m;
}

/* A session past the handshake. */
static void agent_start(struct agent *a)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	a->pid = fork();
	cr_assert_geq(a->pid, 0);
	if (a->pid == 0) {
		close(sv[0]);
		serve(sv[1]);
	}
	close(sv[1]);
	cr_assert_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	hyp_chan_init(&a->chan, sv[0]);
	send_msg(a, (struct hyp_msg){.type = HYP_MSG_HELLO,
	                             .hello = {HYP_PROTO_VERSION_MAX, HYP_FRAME_MAX_PAYLOAD}});
	struct hyp_msg m = recv_msg(a);
	cr_assert_eq(m.type, HYP_MSG_HELLO);
}

static void agent_stop(struct agent *a)
{
	close(a->chan.fd);
	hyp_chan_free(&a->chan);
	waitpid(a->pid, NULL, 0);
}

struct result {
	char out[8192], err[8192], error[HYP_MESSAGE_MAX + 1];
	size_t nout, nerr;
	struct hyp_exit exit;
};

static void collect(struct agent *a, struct result *res)
{
	memset(res, 0, sizeof(*res));
	for (;;) {
		struct hyp_msg m = recv_msg(a);
		if (m.type == HYP_MSG_EXIT) {
			res->exit = m.exit;
			return;
		}
		if (m.type == HYP_MSG_ERROR) {
			snprintf(res->error, sizeof(res->error), "%s", m.error.message);
		} else {
			bool out = m.type == HYP_MSG_STDOUT;
			size_t *n = out ? &res->nout : &res->nerr;
			cr_assert_lt(*n + m.data.len, sizeof(res->out));
			memcpy((out ? res->out : res->err) + *n, m.data.data, m.data.len);
			*n += m.data.len;
		}
		hyp_msg_clear(&m);
	}
}

static char tmpdir_env[64];
static char *env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C", tmpdir_env, NULL};

static struct hyp_msg exec_msg(char **argv, uint32_t argc, uint32_t flags, uint64_t file_size)
{
	return (struct hyp_msg){.type = HYP_MSG_EXEC,
	                        .exec = {.flags = flags,
	                                 .uid = getuid(),
	                                 .gid = getgid(),
	                                 .umask = 022,
	                                 .cwd = "/",
	                                 .argv = argv,
	                                 .argc = argc,
	                                 .envp = env,
	                                 .envc = 3,
	                                 .file_size = file_size}};
}

static void make_tmpdir(void)
{
	char dir[] = "/tmp/hyp-agent-file.XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	snprintf(tmpdir_env, sizeof(tmpdir_env), "TMPDIR=%s", dir);
}

/* A script that prints its own path and checksum, then binary bytes it never
 * reaches: NULs, and whatever else. */
static uint8_t *script(size_t size)
{
	static const char head[] = "#!/bin/sh\necho \"$0\"\nsha256sum <\"$0\"\nexit 0\n";
	uint8_t *s = malloc(size);
	memcpy(s, head, sizeof(head) - 1);
	for (size_t i = sizeof(head) - 1; i < size; i++)
		s[i] = (uint8_t)(i * 2654435761u >> 11);
	s[sizeof(head) - 1] = '\0';
	s[size - 1] = '\0';
	return s;
}

static void sha256_of(const uint8_t *data, size_t size, char ret[65])
{
	char path[] = "/tmp/hyp-agent-sum.XXXXXX", cmd[128];
	int fd = mkstemp(path);
	cr_assert_eq(write(fd, data, size), (ssize_t)size);
	close(fd);
	snprintf(cmd, sizeof(cmd), "sha256sum <%s", path);
	FILE *p = popen(cmd, "r");
	cr_assert(p && fread(ret, 1, 64, p) == 64);
	ret[64] = '\0';
	pclose(p);
	unlink(path);
}

static void send_file(struct agent *a, const uint8_t *data, size_t size)
{
	for (size_t off = 0; off < size; off += HYP_DATA_CHUNK) {
		size_t n = size - off < HYP_DATA_CHUNK ? size - off : HYP_DATA_CHUNK;
		send_msg(a, (struct hyp_msg){.type = HYP_MSG_FILE, .data = {data + off, n}});
	}
}

static void run_script(size_t size)
{
	struct agent a;
	struct result res;
	char *argv[] = {"/var/spool/slurmd/job00042/slurm_script", NULL};
	uint8_t *s = script(size);
	char want[65], path[256] = "";
	make_tmpdir();
	sha256_of(s, size, want);
	agent_start(&a);
	send_msg(&a, exec_msg(argv, 1, HYP_EXEC_FILE, size));
	send_file(&a, s, size);
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_STDIN_EOF});
	collect(&a, &res);
	cr_assert_eq(res.exit.code, 0, "exit %u, error '%s', stderr '%.*s'", res.exit.code,
	             res.error, (int)res.nerr, res.err);
	sscanf(res.out, "%255s", path);
	cr_expect_eq(strncmp(path, tmpdir_env + 7, strlen(tmpdir_env + 7)), 0, "'%s' is in $TMPDIR",
	             path);
	cr_expect(strstr(res.out, want), "checksum in the guest: %.*s, on the host %s",
	          (int)res.nout, res.out, want);
	struct stat st;
	cr_expect(stat(path, &st) < 0 && errno == ENOENT, "'%s' is removed after the command",
	          path);
	agent_stop(&a);
	rmdir(tmpdir_env + 7);
	free(s);
}

Test(agent_file, script_of_one_mib_with_nul_bytes, .timeout = 60)
{
	run_script(1024 * 1024);
}

Test(agent_file, script_of_four_mib_with_nul_bytes, .timeout = 60)
{
	run_script(4 * 1024 * 1024);
}

Test(agent_file, file_is_private_and_an_empty_one_runs, .timeout = 30)
{
	struct agent a;
	struct result res;
	const char text[] = "stat -c %a:%u \"$0\"\n";
	char *argv[] = {"script", NULL};
	make_tmpdir();
	agent_start(&a);
	send_msg(&a, exec_msg(argv, 1, HYP_EXEC_FILE, sizeof(text) - 1));
	send_file(&a, (const uint8_t *)text, sizeof(text) - 1);
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_STDIN_EOF});
	collect(&a, &res);
	char want[32];
	snprintf(want, sizeof(want), "700:%u\n", (unsigned)getuid());
	cr_expect_eq(res.exit.code, 0);
	cr_expect_str_eq(res.out, want, "a file without #! runs with sh, mode 0700, ours");
	agent_stop(&a);

	agent_start(&a);
	send_msg(&a, exec_msg(argv, 1, HYP_EXEC_FILE, 0));
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_STDIN_EOF});
	collect(&a, &res);
	cr_expect_eq(res.exit.code, 0, "an empty script: %s", res.error);
	agent_stop(&a);
	rmdir(tmpdir_env + 7);
}

static void expect_error(struct agent *a, const char *text)
{
	struct hyp_msg m = recv_msg(a);
	cr_assert_eq(m.type, HYP_MSG_ERROR, "got %s", hyp_msg_type_name(m.type));
	cr_expect(strstr(m.error.message, text), "'%s' lacks '%s'", m.error.message, text);
	hyp_msg_clear(&m);
}

Test(agent_file, frames_out_of_place, .timeout = 30)
{
	struct agent a;
	char *argv[] = {"true", NULL};
	const uint8_t x[4] = "abc";
	make_tmpdir();
	agent_start(&a);
	send_msg(&a, exec_msg(argv, 1, HYP_EXEC_FILE, 4));
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_STDIN, .data = {x, 1}});
	expect_error(&a, "STDIN frame before the file is complete");
	agent_stop(&a);

	agent_start(&a);
	send_msg(&a, exec_msg(argv, 1, HYP_EXEC_FILE, 2));
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_FILE, .data = {x, 3}});
	expect_error(&a, "FILE frame of 3 bytes past the 2 bytes announced");
	agent_stop(&a);

	agent_start(&a);
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_FILE, .data = {x, 3}});
	expect_error(&a, "FILE frame before EXEC");
	agent_stop(&a);
	rmdir(tmpdir_env + 7);
}

Test(agent_file, signal_before_the_file_is_complete_reaches_the_command, .timeout = 30)
{
	struct agent a;
	struct result res;
	const char text[] = "#!/bin/sh\nsleep 100\n";
	char *argv[] = {"script", NULL};
	make_tmpdir();
	agent_start(&a);
	send_msg(&a, exec_msg(argv, 1, HYP_EXEC_FILE, sizeof(text) - 1));
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_SIGNAL, .signo = SIGTERM});
	send_file(&a, (const uint8_t *)text, sizeof(text) - 1);
	collect(&a, &res);
	cr_expect(res.exit.signaled && res.exit.code == SIGTERM, "exit %u signaled %d",
	          res.exit.code, res.exit.signaled);
	agent_stop(&a);
	rmdir(tmpdir_env + 7);
}

Test(agent_file, limits_and_umask_reach_the_command, .timeout = 30)
{
	struct agent a;
	struct result res;
	struct rlimit core;
	getrlimit(RLIMIT_CORE, &core);
	char *argv[] = {"sh", "-c", "ulimit -n; ulimit -s; umask", NULL};
	struct hyp_msg m = exec_msg(argv, 3, 0, 0);
	m.exec.umask = 027;
	m.exec.nlimits = 3;
	m.exec.limits[0] = (struct hyp_rlimit){RLIMIT_NOFILE, 512, 512};
	m.exec.limits[1] = (struct hyp_rlimit){RLIMIT_STACK, 4096 * 1024, 4096 * 1024};
	/* above our hard limit: refused, named on stderr, the command runs */
	m.exec.limits[2] = (struct hyp_rlimit){RLIMIT_CORE, RLIM_INFINITY, RLIM_INFINITY};
	make_tmpdir();
	agent_start(&a);
	send_msg(&a, m);
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_STDIN_EOF});
	collect(&a, &res);
	cr_expect_eq(res.exit.code, 0);
	cr_expect_str_eq(res.out, "512\n4096\n0027\n");
	if (core.rlim_max != RLIM_INFINITY && geteuid() != 0)
		cr_expect(strstr(res.err,
		                 "hyperion-agent: RLIMIT_CORE unlimited/unlimited not set: "
		                 "Operation not permitted"),
		          "stderr: %.*s", (int)res.nerr, res.err);
	agent_stop(&a);
	rmdir(tmpdir_env + 7);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's sessions (agent_session.c and the relay and command behind
 * it), served in a child process over a socketpair as over a port, running
 * real commands on this host: the handshake, PING, EXEC with stdio, exit
 * statuses and signals, commands that cannot start, and the frames that end
 * a session with an ERROR (malformed, out of place, not for this port).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_session.h"

#define WAIT_MS 10000

struct agent {
	pid_t pid;
	struct hyp_chan chan;
};

/* The agent's side: what agent_listen() does for one connection. */
__attribute__((noreturn)) static void serve(int fd, enum agent_port_kind kind)
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
	_exit(agent_session_serve(fd, kind, sigfd, &cfg));
}

static void agent_start(struct agent *a, enum agent_port_kind kind)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	a->pid = fork();
	cr_assert_geq(a->pid, 0);
	if (a->pid == 0) {
		close(sv[0]);
		serve(sv[1], kind);
	}
	close(sv[1]);
	cr_assert_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	hyp_chan_init(&a->chan, sv[0]);
}

/* Disconnect; the agent's exit status: how its sessions ended. */
static int agent_stop(struct agent *a)
{
	int st;
	close(a->chan.fd);
	hyp_chan_free(&a->chan);
	cr_assert_eq(waitpid(a->pid, &st, 0), a->pid);
	cr_assert(WIFEXITED(st), "agent status %#x", st);
	return WEXITSTATUS(st);
}

/* Stream messages go on the EXEC's stream unless the test says otherwise. */
static void send_msg(struct agent *a, struct hyp_msg m)
{
	hyp_error err = {0};
	const struct hyp_msg_desc *d = hyp_msg_desc(m.type);
	if (!m.stream && d && (d->scope == HYP_SCOPE_STREAM || d->scope == HYP_SCOPE_OPENS))
		m.stream = HYP_STREAM_EXEC;
	cr_assert_eq(hyp_chan_send_wait(&a->chan, &m, hyp_now_ms() + WAIT_MS, &err), 0, "%s",
	             err.msg);
}

static void send_raw(struct agent *a, const void *bytes, size_t len)
{
	cr_assert_eq(write(a->chan.fd, bytes, len), (ssize_t)len);
}

/* The next frame but CREDIT (the caller clears it); its stdio data is only
 * valid until the next call. */
static struct hyp_msg recv_any(struct agent *a)
{
	struct hyp_msg m;
	hyp_error err = {0};
	cr_assert_eq(hyp_chan_recv_wait(&a->chan, &m, hyp_now_ms() + WAIT_MS, &err), 0, "%s",
	             err.msg);
	return m;
}

static struct hyp_msg recv_msg(struct agent *a)
{
	struct hyp_msg m;
	while ((m = recv_any(a)).type == HYP_MSG_CREDIT)
		;
	return m;
}

static void expect_silence(struct agent *a, int ms)
{
	struct hyp_msg m;
	hyp_error err = {0};
	int r = hyp_chan_recv_wait(&a->chan, &m, hyp_now_ms() + ms, &err);
	cr_assert_eq(r, -ETIMEDOUT, "unexpected %s frame",
	             r == 0 ? hyp_msg_type_name(m.type) : err.msg);
}

static void hello(struct agent *a)
{
	send_msg(a, (struct hyp_msg){.type = HYP_MSG_HELLO,
	                             .hello = {HYP_PROTO_VERSION_MAX, HYP_FRAME_MAX_PAYLOAD}});
	struct hyp_msg m = recv_msg(a);
	cr_assert_eq(m.type, HYP_MSG_HELLO, "got %s", hyp_msg_type_name(m.type));
	cr_expect_eq(m.hello.version, HYP_PROTO_VERSION_MAX);
	cr_expect_eq(m.hello.max_payload, HYP_FRAME_MAX_PAYLOAD);
}

static void expect_error(struct agent *a, int code, const char *text)
{
	struct hyp_msg m = recv_msg(a);
	cr_assert_eq(m.type, HYP_MSG_ERROR, "got %s", hyp_msg_type_name(m.type));
	cr_expect_eq(m.error.code, (uint32_t)code, "code %u: %s", m.error.code, m.error.message);
	cr_expect(strstr(m.error.message, text), "'%s' lacks '%s'", m.error.message, text);
	hyp_msg_clear(&m);
}

static char *path_env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C", NULL};

static void send_exec(struct agent *a, char **argv, uint32_t flags)
{
	uint32_t argc = 0;
	while (argv[argc])
		argc++;
	struct hyp_msg m = {.type = HYP_MSG_EXEC,
	                    .exec = {.flags = flags,
	                             .uid = getuid(),
	                             .gid = getgid(),
	                             .umask = 022,
	                             .cwd = "/",
	                             .argv = argv,
	                             .argc = argc,
	                             .envp = path_env,
	                             .envc = 2}};
	send_msg(a, m);
}

/* What a command sent until its EXIT. */
struct result {
	char out[4096], err[4096], error[HYP_MESSAGE_MAX + 1];
	size_t nout, nerr;
	int error_code;
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
		char *buf = m.type == HYP_MSG_STDOUT ? res->out : res->err;
		size_t *n = m.type == HYP_MSG_STDOUT ? &res->nout : &res->nerr;
		if (m.type == HYP_MSG_ERROR) {
			res->error_code = (int)m.error.code;
			strcpy(res->error, m.error.message);
		} else {
			cr_assert(m.type == HYP_MSG_STDOUT || m.type == HYP_MSG_STDERR, "got %s",
			          hyp_msg_type_name(m.type));
			cr_assert_lt(*n + m.data.len, sizeof(res->out));
			memcpy(buf + *n, m.data.data, m.data.len);
			*n += m.data.len;
		}
		hyp_msg_clear(&m);
	}
}

static void run(struct agent *a, char **argv, struct result *res)
{
	send_exec(a, argv, 0);
	send_msg(a, (struct hyp_msg){.type = HYP_MSG_STDIN_EOF});
	collect(a, res);
}

Test(agent_session, hello_is_answered_with_hello, .timeout = 30)
{
	struct agent a;
	agent_start(&a, AGENT_PORT_EXEC);
	hello(&a);
	cr_expect_eq(agent_stop(&a), SESSION_HOST_GONE);
}

Test(agent_session, ping_pong, .timeout = 30)
{
	struct agent a;
	agent_start(&a, AGENT_PORT_EXEC);
	hello(&a);
	for (uint64_t nonce = 1; nonce < 1000000000000ULL; nonce *= 1000) {
		send_msg(&a, (struct hyp_msg){.type = HYP_MSG_PING, .nonce = nonce});
		struct hyp_msg m = recv_msg(&a);
		cr_assert_eq(m.type, HYP_MSG_PONG);
		cr_expect_eq(m.nonce, nonce);
	}
	agent_stop(&a);
}

Test(agent_session, another_version_is_refused_after_answering, .timeout = 30)
{
	struct agent a;
	agent_start(&a, AGENT_PORT_EXEC);
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_HELLO, .hello = {2, HYP_FRAME_MAX_PAYLOAD}});
	struct hyp_msg m = recv_msg(&a);
	cr_assert_eq(m.type, HYP_MSG_HELLO);
	cr_expect_eq(m.hello.version, HYP_PROTO_VERSION_MAX);
	expect_error(&a, EPROTONOSUPPORT, "the peer speaks protocol versions up to 2, this side 3");
	agent_stop(&a);
}

Test(agent_session, exec_true_and_exit_statuses, .timeout = 30)
{
	struct agent a;
	struct result res;
	char *t[] = {"/bin/true", NULL};
	char *f[] = {"false", NULL}; /* found through the request's PATH */
	char *e[] = {"sh", "-c", "exit 42", NULL};
	agent_start(&a, AGENT_PORT_EXEC);
	hello(&a);
	run(&a, t, &res);
	cr_expect(!res.exit.signaled && res.exit.code == 0 && res.nout == 0 && !res.error_code);
	/* the session is over; the connection carries the next one */
	hello(&a);
	run(&a, f, &res);
	cr_expect(!res.exit.signaled && res.exit.code == 1);
	hello(&a);
	run(&a, e, &res);
	cr_expect(!res.exit.signaled && res.exit.code == 42);
	agent_stop(&a);
}

Test(agent_session, exec_echo_stdout_and_stderr, .timeout = 30)
{
	struct agent a;
	struct result res;
	char *echo[] = {"echo", "hello", "world", NULL};
	char *both[] = {"sh", "-c", "echo out; echo err >&2; pwd; echo \"$LC_ALL\"", NULL};
	agent_start(&a, AGENT_PORT_EXEC);
	hello(&a);
	run(&a, echo, &res);
	cr_expect_str_eq(res.out, "hello world\n");
	cr_expect_eq(res.exit.code, 0);
	hello(&a);
	run(&a, both, &res);
	cr_expect_str_eq(res.out, "out\n/\nC\n", "stdout, the cwd and the environment sent");
	cr_expect_str_eq(res.err, "err\n");
	agent_stop(&a);
}

Test(agent_session, stdin_reaches_the_command, .timeout = 30)
{
	struct agent a;
	struct result res;
	char *cat[] = {"cat", NULL};
	agent_start(&a, AGENT_PORT_EXEC);
	hello(&a);
	send_exec(&a, cat, 0);
	static const uint8_t part1[] = "first line\n", part2[] = "second";
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_STDIN, .data = {part1, sizeof(part1) - 1}});
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_STDIN, .data = {part2, sizeof(part2) - 1}});
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_STDIN_EOF});
	collect(&a, &res);
	cr_expect_str_eq(res.out, "first line\nsecond");
	cr_expect_eq(res.exit.code, 0);
	agent_stop(&a);
}

Test(agent_session, tty_mode_runs_on_a_terminal, .timeout = 30)
{
	struct agent a;
	struct result res;
	char *sh[] = {"sh", "-c", "test -t 0 && test -t 1 && test -t 2 && echo tty", NULL};
	agent_start(&a, AGENT_PORT_EXEC);
	hello(&a);
	send_exec(&a, sh, HYP_EXEC_TTY);
	collect(&a, &res);
	cr_expect_str_eq(res.out, "tty\r\n");
	cr_expect_eq(res.exit.code, 0);
	agent_stop(&a);
}

Test(agent_session, signal_reaches_the_command, .timeout = 30)
{
	struct agent a;
	struct result res;
	char *sh[] = {"sh", "-c", "echo started; exec sleep 100", NULL};
	agent_start(&a, AGENT_PORT_EXEC);
	hello(&a);
	send_exec(&a, sh, 0);
	struct hyp_msg m = recv_msg(&a);
	cr_assert_eq(m.type, HYP_MSG_STDOUT);
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_SIGNAL, .signo = SIGTERM});
	collect(&a, &res);
	cr_expect(res.exit.signaled && res.exit.code == SIGTERM, "signaled %d code %u",
	          res.exit.signaled, res.exit.code);
	agent_stop(&a);
}

Test(agent_session, command_not_found_is_error_then_127, .timeout = 30)
{
	struct agent a;
	struct result res;
	char *nope[] = {"no-such-command-\033[31m", NULL};
	char *dir[] = {"/", NULL};
	agent_start(&a, AGENT_PORT_EXEC);
	hello(&a);
	run(&a, nope, &res);
	cr_expect_eq(res.error_code, ENOENT);
	cr_expect_str_eq(res.error, "exec 'no-such-command-\033[31m': No such file or directory");
	cr_expect(!res.exit.signaled && res.exit.code == 127);
	hello(&a);
	run(&a, dir, &res);
	cr_expect_eq(res.error_code, EACCES);
	cr_expect_eq(res.exit.code, 126);
	agent_stop(&a);
}

Test(agent_session, another_user_is_refused_when_not_root, .timeout = 30)
{
	struct agent a;
	struct result res;
	char *t[] = {"true", NULL};
	struct hyp_msg m = {
	    .type = HYP_MSG_EXEC,
	    .exec = {.uid = getuid() + 1, .gid = getgid(), .cwd = "/", .argv = t, .argc = 1}};
	agent_start(&a, AGENT_PORT_EXEC);
	hello(&a);
	send_msg(&a, m);
	collect(&a, &res);
	cr_expect_eq(res.error_code, EPERM);
	cr_expect(strstr(res.error, "the agent does not run as root"), "%s", res.error);
	cr_expect_eq(res.exit.code, 126);
	agent_stop(&a);
}

Test(agent_session, malformed_frame_ends_the_session_with_a_clear_error, .timeout = 30)
{
	static const uint8_t unknown[] = {0, 0, 0, 0, 0, 99, 0, 0};
	static const uint8_t short_ping[] = {0, 0, 0, 4, 0, HYP_MSG_PING, 0, 0, 1, 2, 3, 4};
	struct agent a;
	agent_start(&a, AGENT_PORT_EXEC);
	hello(&a);
	send_raw(&a, unknown, sizeof(unknown));
	expect_error(&a, EPROTO, "unknown frame type 99");
	/* over: what follows waits for a HELLO */
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_PING, .nonce = 7});
	expect_silence(&a, 300);
	hello(&a);
	send_raw(&a, short_ping, sizeof(short_ping));
	expect_error(&a, EPROTO, "frame type 2 (PING)");
	cr_expect_eq(agent_stop(&a), SESSION_HOST_GONE, "the agent did not crash");
}

Test(agent_session, malformed_frame_kills_the_running_command, .timeout = 30)
{
	static const uint8_t bad_flags[] = {0, 0, 0, 0, 0, HYP_MSG_STDIN_EOF, 0, 0};
	char *sh[] = {"sh", "-c", "echo $$; exec sleep 100", NULL};
	struct agent a;
	agent_start(&a, AGENT_PORT_EXEC);
	hello(&a);
	send_exec(&a, sh, 0);
	struct hyp_msg m = recv_msg(&a);
	cr_assert_eq(m.type, HYP_MSG_STDOUT);
	pid_t pid = (pid_t)strtol((const char *)m.data.data, NULL, 10);
	cr_assert_gt(pid, 1);
	send_raw(&a, bad_flags, sizeof(bad_flags));
	expect_error(&a, EPROTO, "STDIN_EOF): stream 0 (a stream message needs a stream)");
	/* killed and reaped by the agent, its subreaper */
	cr_expect(kill(pid, 0) < 0 && errno == ESRCH, "pid %d still there", pid);
	agent_stop(&a);
}

Test(agent_session, frames_out_of_place, .timeout = 30)
{
	struct agent a;
	char *t[] = {"true", NULL};
	char *sleep[] = {"sleep", "100", NULL};
	agent_start(&a, AGENT_PORT_EXEC);
	/* before HELLO: an earlier connection's leftovers, dropped silently */
	send_exec(&a, t, 0);
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_PING, .nonce = 1});
	expect_silence(&a, 300);
	hello(&a);
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_STDIN_EOF});
	expect_error(&a, EPROTO, "STDIN_EOF frame before EXEC");
	hello(&a);
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_POWEROFF});
	expect_error(&a, EPERM, "POWEROFF is not allowed on an exec port");
	hello(&a);
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_EXIT});
	expect_error(&a, EPROTO, "unexpected EXIT frame from the host on stream 1");
	hello(&a);
	send_exec(&a, sleep, 0);
	send_exec(&a, t, 0);
	expect_error(&a, EPROTO, "a second EXEC frame");
	hello(&a);
	send_exec(&a, t, 0);
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_STDIN_EOF});
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_STDIN_EOF});
	struct hyp_msg m = recv_msg(&a);
	if (m.type == HYP_MSG_ERROR) /* unless true's EXIT came first */
		cr_expect(strstr(m.error.message, "a second STDIN_EOF frame"), "%s",
		          m.error.message);
	hyp_msg_clear(&m);
	agent_stop(&a);
}

Test(agent_session, control_port_refuses_exec, .timeout = 30)
{
	struct agent a;
	char *t[] = {"true", NULL};
	agent_start(&a, AGENT_PORT_CTL);
	hello(&a);
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_PING, .nonce = 3});
	struct hyp_msg m = recv_msg(&a);
	cr_expect_eq(m.type, HYP_MSG_PONG);
	send_exec(&a, t, 0);
	expect_error(&a, EPERM, "EXEC is not allowed on the control port");
	agent_stop(&a);
}

Test(agent_session, host_gone_kills_the_command, .timeout = 30)
{
	char *sh[] = {"sh", "-c", "echo $$; exec sleep 100", NULL};
	struct agent a;
	agent_start(&a, AGENT_PORT_EXEC);
	hello(&a);
	send_exec(&a, sh, 0);
	struct hyp_msg m = recv_msg(&a);
	cr_assert_eq(m.type, HYP_MSG_STDOUT);
	pid_t pid = (pid_t)strtol((const char *)m.data.data, NULL, 10);
	cr_expect_eq(agent_stop(&a), SESSION_HOST_GONE);
	cr_expect(kill(pid, 0) < 0 && errno == ESRCH, "pid %d still there", pid);
}

Test(agent_session, sigterm_stops_the_agent_and_the_command, .timeout = 30)
{
	char *sh[] = {"sh", "-c", "echo $$; exec sleep 100", NULL};
	struct agent a;
	int st;
	agent_start(&a, AGENT_PORT_EXEC);
	hello(&a);
	send_exec(&a, sh, 0);
	struct hyp_msg m = recv_msg(&a);
	cr_assert_eq(m.type, HYP_MSG_STDOUT);
	pid_t pid = (pid_t)strtol((const char *)m.data.data, NULL, 10);
	kill(a.pid, SIGTERM);
	cr_assert_eq(waitpid(a.pid, &st, 0), a.pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == SESSION_TERMINATED, "status %#x", st);
	cr_expect(kill(pid, 0) < 0 && errno == ESRCH, "pid %d still there", pid);
	close(a.chan.fd);
	hyp_chan_free(&a.chan);
}

/* ---- streams and their flow control ---- */

/* STDOUT bytes until the agent goes quiet for `ms` (no credit given). */
static size_t read_output_until_quiet(struct agent *a, int ms)
{
	size_t total = 0;
	for (;;) {
		struct hyp_msg m;
		hyp_error err = {0};
		int r = hyp_chan_recv_wait(&a->chan, &m, hyp_now_ms() + ms, &err);
		if (r == -ETIMEDOUT)
			return total;
		cr_assert_eq(r, 0, "%s", err.msg);
		cr_assert_eq(m.type, HYP_MSG_STDOUT, "got %s", hyp_msg_type_name(m.type));
		cr_assert_eq(m.stream, HYP_STREAM_EXEC);
		total += m.data.len;
	}
}

Test(agent_session, output_stops_at_the_window_and_the_session_goes_on, .timeout = 30)
{
	char *yes[] = {"yes", NULL};
	struct agent a;
	agent_start(&a, AGENT_PORT_EXEC);
	hello(&a);
	send_exec(&a, yes, 0);
	cr_expect_eq(read_output_until_quiet(&a, 500), HYP_STREAM_WINDOW,
	             "no more than the window");
	/* the stalled stream holds back neither PING nor SIGNAL */
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_PING, .nonce = 9});
	struct hyp_msg m = recv_msg(&a);
	cr_expect_eq(m.type, HYP_MSG_PONG);
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_SIGNAL, .signo = SIGTERM});
	/* credit what comes until the EXIT: the pipe is drained first */
	uint32_t owed = HYP_STREAM_WINDOW;
	for (;;) {
		if (owed)
			send_msg(&a, (struct hyp_msg){.type = HYP_MSG_CREDIT, .credit = owed});
		owed = 0;
		m = recv_msg(&a);
		if (m.type != HYP_MSG_STDOUT)
			break;
		owed = (uint32_t)m.data.len;
	}
	cr_expect(m.type == HYP_MSG_EXIT && m.exit.signaled && m.exit.code == SIGTERM);
	agent_stop(&a);
}

/* The CREDIT bytes that come until the agent goes quiet for `ms`. */
static size_t credits_until_quiet(struct agent *a, int ms)
{
	size_t total = 0;
	for (;;) {
		struct hyp_msg m;
		hyp_error err = {0};
		int r = hyp_chan_recv_wait(&a->chan, &m, hyp_now_ms() + ms, &err);
		if (r == -ETIMEDOUT)
			return total;
		cr_assert_eq(r, 0, "%s", err.msg);
		cr_assert_eq(m.type, HYP_MSG_CREDIT, "got %s", hyp_msg_type_name(m.type));
		total += m.credit;
	}
}

Test(agent_session, stdin_past_the_window_is_a_protocol_error, .timeout = 30)
{
	static uint8_t chunk[HYP_DATA_CHUNK];
	char *sleep[] = {"sleep", "100", NULL};
	struct agent a;
	agent_start(&a, AGENT_PORT_EXEC);
	hello(&a);
	send_exec(&a, sleep, 0); /* never reads its stdin */
	/* The agent credits what its pipe to the command takes (64 KiB or so),
	 * then no more: fill the window, counting those credits, until it has
	 * stayed shut for a while. */
	size_t window = HYP_STREAM_WINDOW;
	for (;;) {
		while (window >= sizeof(chunk)) {
			send_msg(&a, (struct hyp_msg){.type = HYP_MSG_STDIN,
			                              .data = {chunk, sizeof(chunk)}});
			window -= sizeof(chunk);
		}
		size_t credited = credits_until_quiet(&a, 300);
		if (!credited && window == 0)
			break;
		window += credited;
		if (window < sizeof(chunk)) { /* only a rest: send it exactly */
			send_msg(&a,
			         (struct hyp_msg){.type = HYP_MSG_STDIN, .data = {chunk, window}});
			window = 0;
		}
	}
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_STDIN, .data = {chunk, 1}});
	expect_error(&a, EPROTO, "stream 1: 1 bytes of STDIN exceed the window of 0 bytes left");
	agent_stop(&a);
}

Test(agent_session, stdin_is_credited_as_the_command_reads_it, .timeout = 30)
{
	static uint8_t chunk[HYP_DATA_CHUNK];
	char *wc[] = {"wc", "-c", NULL};
	size_t window = HYP_STREAM_WINDOW, total = 4 * HYP_STREAM_WINDOW, sent = 0;
	struct agent a;
	agent_start(&a, AGENT_PORT_EXEC);
	hello(&a);
	send_exec(&a, wc, 0);
	while (sent < total) {
		while (window >= sizeof(chunk) && sent < total) {
			send_msg(&a, (struct hyp_msg){.type = HYP_MSG_STDIN,
			                              .data = {chunk, sizeof(chunk)}});
			window -= sizeof(chunk), sent += sizeof(chunk);
		}
		struct hyp_msg m = recv_any(&a);
		cr_assert_eq(m.type, HYP_MSG_CREDIT, "got %s", hyp_msg_type_name(m.type));
		window += m.credit;
		cr_assert_leq(window, HYP_STREAM_WINDOW);
	}
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_STDIN_EOF});
	struct result res;
	collect(&a, &res);
	cr_expect_eq(strtoul(res.out, NULL, 10), total, "%s", res.out);
	agent_stop(&a);
}

Test(agent_session, frames_on_the_wrong_stream, .timeout = 30)
{
	char *sleep[] = {"sleep", "100", NULL};
	struct agent a;
	agent_start(&a, AGENT_PORT_EXEC);
	hello(&a);
	struct hyp_msg exec2 = {.type = HYP_MSG_SIGNAL, .stream = 2, .signo = 1};
	send_msg(&a, exec2);
	expect_error(&a, EPROTO, "unexpected SIGNAL frame from the host on stream 2");
	hello(&a);
	send_exec(&a, sleep, 0);
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_SIGNAL, .stream = 3, .signo = 1});
	expect_error(&a, EPROTO, "SIGNAL frame on stream 3, which is not open");
	hello(&a);
	send_exec(&a, sleep, 0);
	send_msg(&a, (struct hyp_msg){.type = HYP_MSG_CREDIT, .credit = 1});
	expect_error(&a, EPROTO, "would open the window past 262144");
	agent_stop(&a);
}

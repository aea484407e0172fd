/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A session with the agent on one exec port: claim, connect, HELLO both ways,
 * and --ping. The guest may still be booting: QEMU holds our HELLO until the
 * guest opens its end of the port, so the answer is awaited up to the
 * deadline, and a guest that never answers is shown through its console log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec.h"
#include "hyp_cleanup.h"
#include "hyp_console.h"
#include "hyp_statedir.h"
#include "hyp_text.h"

#define CONSOLE_LINES 20

static int no_answer(struct exec_session *s, hyp_error *err)
{
	s->console_hint = true;
	return hyp_fail(err, ETIMEDOUT,
	                "job %u: the guest did not answer within %u s; last console lines:",
	                s->o->job_id, s->o->timeout_s);
}

/* A frame that is not the expected answer: the agent's ERROR, or nonsense. */
static int unexpected(struct exec_session *s, struct hyp_msg *msg, const char *wanted,
                      hyp_error *err)
{
	int r;
	if (msg->type == HYP_MSG_ERROR) {
		const char *raw = msg->error.message ? msg->error.message : "";
		_cleanup_free_ char *text = hyp_text_sanitize(raw, strlen(raw));
		r = hyp_fail(err, (int)msg->error.code, "job %u: the guest refused: %s",
		             s->o->job_id, text ? text : "(out of memory)");
	} else
		r = hyp_fail(err, EPROTO, "job %u: the guest sent %s, expected %s", s->o->job_id,
		             hyp_msg_type_name(msg->type), wanted);
	hyp_msg_clear(msg);
	return r;
}

/* Wait for one frame; a timeout or a closed connection get clear messages. */
static int receive(struct exec_session *s, struct hyp_msg *ret_msg, hyp_error *err)
{
	int r = hyp_chan_recv_wait(&s->chan, ret_msg, s->deadline_ms, err);
	if (r == -ETIMEDOUT)
		return no_answer(s, err);
	if (r < 0 && s->chan.eof)
		return hyp_fail(err, ECONNRESET,
		                "job %u: the guest closed the connection (VM stopping?)",
		                s->o->job_id);
	if (r < 0)
		return hyp_error_prefix(err, "job %u", s->o->job_id);
	return 0;
}

static int hello(struct exec_session *s, hyp_error *err)
{
	struct hyp_msg msg = hyp_hello_ours();
	int r = hyp_chan_send_wait(&s->chan, &msg, s->deadline_ms, err);
	if (r == -ETIMEDOUT)
		return no_answer(s, err);
	if (r < 0)
		return hyp_error_prefix(err, "job %u: sending HELLO", s->o->job_id);
	if ((r = receive(s, &msg, err)) < 0)
		return r;
	if (msg.type != HYP_MSG_HELLO)
		return unexpected(s, &msg, "HELLO", err);
	if ((r = hyp_hello_check(&msg.hello, &s->version, err)) < 0)
		return hyp_error_prefix(err, "job %u: the guest's agent", s->o->job_id);
	s->peer_max = msg.hello.max_payload;
	return 0;
}

int exec_session_open(struct exec_session *s, const struct exec_opts *o, hyp_error *err)
{
	*s = (struct exec_session){.o = o,
	                           .lock_fd = -1,
	                           .sock_fd = -1,
	                           .deadline_ms = -1,
	                           .fail_status = EXEC_EXIT_SETUP,
	                           .script = {.fd = -1}};
	hyp_chan_init(&s->chan, -1);
	if (o->timeout_s)
		s->deadline_ms = hyp_now_ms() + 1000LL * o->timeout_s;
	if (!(s->job_dir = hyp_job_dir(o->state_dir, o->node, o->job_id)))
		return hyp_fail(err, ENOMEM, "out of memory");
	unsigned index;
	int r = exec_port_claim(s, &index, err);
	if (r >= 0)
		r = exec_port_connect(s, index, err);
	if (r < 0)
		return r;
	hyp_chan_init(&s->chan, s->sock_fd);
	return hello(s, err);
}

void exec_session_close(struct exec_session *s)
{
	hyp_chan_free(&s->chan);
	exec_script_close(&s->script);
	hyp_closep(&s->sock_fd);
	hyp_closep(&s->lock_fd);
	free(s->job_dir);
	s->sock_fd = s->lock_fd = -1;
	s->job_dir = NULL;
}

void exec_print_console(const struct exec_session *s)
{
	_cleanup_free_ char *log = s->job_dir ? hyp_job_file(s->job_dir, HYP_CONSOLE_LOG) : NULL;
	_cleanup_free_ char *text = NULL;
	hyp_error err = {0};
	if (!log || hyp_console_tail(log, CONSOLE_LINES, &text, &err) < 0) {
		fprintf(stderr, "(%s)\n", log ? err.msg : "out of memory");
		return;
	}
	fputs(text, stderr);
	if (text[0] && text[strlen(text) - 1] != '\n')
		fputc('\n', stderr);
}

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int ping_once(struct exec_session *s, uint64_t nonce, hyp_error *err)
{
	struct hyp_msg msg = {.type = HYP_MSG_PING, .nonce = nonce};
	int r = hyp_chan_send_wait(&s->chan, &msg, s->deadline_ms, err);
	if (r == -ETIMEDOUT)
		return no_answer(s, err);
	if (r < 0 || (r = receive(s, &msg, err)) < 0)
		return r;
	if (msg.type != HYP_MSG_PONG)
		return unexpected(s, &msg, "PONG", err);
	if (msg.nonce != nonce)
		return hyp_fail(err, EPROTO, "job %u: PONG %llu answers PING %llu", s->o->job_id,
		                (unsigned long long)msg.nonce, (unsigned long long)nonce);
	return 0;
}

int exec_session_ping(struct exec_session *s, unsigned count, hyp_error *err)
{
	long long min = 0, max = 0, sum = 0;
	for (unsigned i = 0; i < count; i++) {
		if (s->o->timeout_s)
			s->deadline_ms = hyp_now_ms() + 1000LL * s->o->timeout_s;
		long long t0 = now_us();
		int r = ping_once(s, (uint64_t)i + 1, err);
		if (r < 0)
			return r;
		long long dt = now_us() - t0;
		min = i == 0 || dt < min ? dt : min;
		max = dt > max ? dt : max;
		sum += dt;
	}
	printf("ping: %u round trips, min %lld us, avg %lld us, max %lld us\n", count, min,
	       sum / count, max);
	return fflush(stdout) == 0 ? 0 : hyp_fail_errno(err, "writing to stdout");
}

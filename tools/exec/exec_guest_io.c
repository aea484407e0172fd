/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The I/O of the guest commands (exec_guest.c): their stdout and stderr go
 * to the guest as STDOUT/STDERR while their stream's window and the
 * channel's queue have room; what the guest sends on stdin is written as
 * their pipe takes it, and credited back. Once a command is reaped and its
 * pipes are at their end (or DRAIN_MS later, for what escaped its process
 * group), its EXIT ends the stream and frees the slot.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec_guest.h"
#include "hyp_cleanup.h"
#include "hyp_time.h"

#define DRAIN_MS 1000

static bool can_send(const struct exec_guest *g, const struct exec_guest_cmd *c)
{
	return hyp_chan_can_queue(g->chan) && c->flow.send > 0;
}

void exec_guest_polls(const struct exec_guest *g, struct pollfd p[EXEC_GUEST_POLLS])
{
	for (int i = 0; i < EXEC_GUEST_MAX; i++) {
		const struct exec_guest_cmd *c = &g->cmd[i];
		bool room = c->id && can_send(g, c);
		bool input = c->id && hyp_buf_pending(&c->input) > 0;
		p[3 * i] = (struct pollfd){room ? c->out_fd : -1, POLLIN, 0};
		p[3 * i + 1] = (struct pollfd){room ? c->err_fd : -1, POLLIN, 0};
		p[3 * i + 2] = (struct pollfd){input ? c->in_fd : -1, POLLOUT, 0};
	}
}

static int read_output(struct exec_guest *g, struct exec_guest_cmd *c, int *fdp, uint16_t type,
                       hyp_error *err)
{
	uint8_t buf[HYP_DATA_CHUNK];
	ssize_t n = read(*fdp, buf, hyp_flow_can_send(&c->flow, g->chunk));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) { /* end of file */
		hyp_closep(fdp);
		*fdp = -1;
		return 0;
	}
	struct hyp_msg msg = {.type = type, .stream = c->id, .data = {buf, (size_t)n}};
	hyp_flow_sent(&c->flow, (size_t)n);
	return hyp_chan_queue(g->chan, &msg, err);
}

static void close_in(struct exec_guest_cmd *c)
{
	hyp_flow_consumed(&c->flow, hyp_buf_pending(&c->input));
	hyp_buf_consume(&c->input, hyp_buf_pending(&c->input));
	hyp_closep(&c->in_fd);
	c->in_fd = -1;
}

static void write_input(struct exec_guest_cmd *c)
{
	size_t pending = hyp_buf_pending(&c->input);
	ssize_t n = write(c->in_fd, c->input.data + c->input.off, pending);
	if (n > 0) {
		hyp_buf_consume(&c->input, (size_t)n);
		hyp_flow_consumed(&c->flow, (size_t)n);
	} else if (!(n < 0 && (errno == EAGAIN || errno == EINTR))) {
		close_in(c); /* EPIPE: it closed its stdin; what follows is dropped */
	}
}

int exec_guest_io(struct exec_guest *g, const struct pollfd p[EXEC_GUEST_POLLS], hyp_error *err)
{
	int r = 0;
	for (int i = 0; r >= 0 && i < EXEC_GUEST_MAX; i++) {
		struct exec_guest_cmd *c = &g->cmd[i];
		if (!c->id)
			continue;
		if (p[3 * i].revents)
			r = read_output(g, c, &c->out_fd, HYP_MSG_STDOUT, err);
		if (r >= 0 && p[3 * i + 1].revents && can_send(g, c))
			r = read_output(g, c, &c->err_fd, HYP_MSG_STDERR, err);
		if (r >= 0 && p[3 * i + 2].revents && c->in_fd >= 0)
			write_input(c);
	}
	return r;
}

void exec_guest_reaped(struct exec_guest *g, pid_t pid, int wstatus)
{
	for (int i = 0; i < EXEC_GUEST_MAX; i++) {
		struct exec_guest_cmd *c = &g->cmd[i];
		if (!c->id || c->pid != pid)
			continue;
		c->pid = 0;
		c->exited = true;
		c->wstatus = wstatus;
		c->drain_until_ms = hyp_now_ms() + DRAIN_MS;
		kill(-pid, SIGKILL); /* what is left of its process group */
		close_in(c);
	}
}

static void release(struct exec_guest_cmd *c)
{
	if (c->pid > 0) {
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	close_in(c);
	hyp_closep(&c->out_fd);
	hyp_closep(&c->err_fd);
	hyp_buf_free(&c->input);
	*c = (struct exec_guest_cmd){.in_fd = -1, .out_fd = -1, .err_fd = -1};
}

static int finish(struct exec_guest *g, struct exec_guest_cmd *c, hyp_error *err)
{
	struct hyp_msg msg = {.type = HYP_MSG_EXIT, .stream = c->id};
	int ws = c->wstatus;
	if (WIFSIGNALED(ws))
		msg.exit = (struct hyp_exit){true, WCOREDUMP(ws), (uint32_t)WTERMSIG(ws)};
	else
		msg.exit.code = (uint32_t)WEXITSTATUS(ws);
	release(c);
	return hyp_chan_queue(g->chan, &msg, err);
}

static int step_one(struct exec_guest *g, struct exec_guest_cmd *c, hyp_error *err)
{
	struct hyp_msg credit = {.type = HYP_MSG_CREDIT, .stream = c->id};
	int r = 0;
	if ((credit.credit = hyp_flow_take_credit(&c->flow)) &&
	    (r = hyp_chan_queue(g->chan, &credit, err)) < 0)
		return r;
	if (c->input_eof && c->in_fd >= 0 && !hyp_buf_pending(&c->input)) {
		if (c->tty) /* the terminal's end of file, as the agent does */
			(void)!write(c->in_fd, "\x04", 1);
		close_in(c);
	}
	if (!c->exited)
		return 0;
	long long now = hyp_now_ms();
	if (!can_send(g, c) && c->drain_until_ms < now + DRAIN_MS)
		c->drain_until_ms = now + DRAIN_MS; /* the guest is slow, not the pipes */
	if (now >= c->drain_until_ms) {
		hyp_closep(&c->out_fd);
		hyp_closep(&c->err_fd);
		c->out_fd = c->err_fd = -1;
	}
	return c->out_fd < 0 && c->err_fd < 0 ? finish(g, c, err) : 0;
}

int exec_guest_step(struct exec_guest *g, hyp_error *err)
{
	int r = 0;
	for (int i = 0; r >= 0 && i < EXEC_GUEST_MAX; i++)
		if (g->cmd[i].id)
			r = step_one(g, &g->cmd[i], err);
	return r;
}

int exec_guest_timeout(const struct exec_guest *g)
{
	long long first = -1;
	for (int i = 0; i < EXEC_GUEST_MAX; i++)
		if (g->cmd[i].id && g->cmd[i].exited &&
		    (first < 0 || g->cmd[i].drain_until_ms < first))
			first = g->cmd[i].drain_until_ms;
	if (first < 0)
		return -1;
	long long left = first - hyp_now_ms();
	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

void exec_guest_close(struct exec_guest *g)
{
	for (int i = 0; i < EXEC_GUEST_MAX; i++)
		if (g->cmd[i].id)
			release(&g->cmd[i]);
}

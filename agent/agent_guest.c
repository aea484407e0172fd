/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest commands of a session (doc/protocol.md, REQUEST): while the
 * host's EXEC runs, the session listens on a unix socket of its own, named
 * in the command's environment ($HYPERION_SESSION), owned by the command's
 * user. Each connection is one thin guest command (agent_guestcmd.c); its
 * REQUEST opens a new even stream to the host, and the session relays the
 * frames both ways, renumbering the stream. Flow control is end to end: the
 * windows are between the thin command and the host, so what is held here
 * for a stream is bounded by them. At most AGENT_GUEST_MAX run at a time:
 * further connections wait in the listen queue.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent_session.h"
#include "hyp_cleanup.h"

#define LOCAL_STREAM 2 /* the stream on a connection to a thin command */

static void conn_reset(struct agent_guest_conn *c)
{
	hyp_chan_free(&c->chan);
	hyp_closep(&c->fd);
	*c = (struct agent_guest_conn){.fd = -1};
}

void agent_guest_init(struct agent_guest *g, struct hyp_chan *host)
{
	*g = (struct agent_guest){.listen_fd = -1, .host = host, .next_id = 2};
	for (int i = 0; i < AGENT_GUEST_MAX; i++)
		g->c[i] = (struct agent_guest_conn){.fd = -1};
}

static int bind_at(struct agent_guest *g, const char *dir, hyp_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(g->path, sizeof(g->path), "%s/hyperion-session.%d.sock", dir, (int)getpid());
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", g->path);
	unlink(g->path);
	if (bind(g->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return hyp_fail_errno(err, "binding '%s'", g->path);
	return 0;
}

int agent_guest_open(struct agent_guest *g, struct hyp_exec_request *req,
                     const struct agent_config *cfg, hyp_error *err)
{
	g->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (g->listen_fd < 0)
		return hyp_fail_errno(err, "socket");
	const char *tmp = getenv("TMPDIR");
	if (bind_at(g,
	            cfg->root              ? "/run"
	            : tmp && tmp[0] == '/' ? tmp
	                                   : "/tmp",
	            err) < 0 &&
	    bind_at(g, "/tmp", err) < 0)
		return -err->code;
	if (cfg->root && (chown(g->path, req->uid, req->gid) < 0 || chmod(g->path, 0600) < 0))
		return hyp_fail_errno(err, "giving '%s' to uid %u", g->path, req->uid);
	if (listen(g->listen_fd, 16) < 0)
		return hyp_fail_errno(err, "listen");
	/* the command finds its session through its environment */
	char **env = realloc(req->envp, (req->envc + 2) * sizeof(char *));
	if (!env)
		return hyp_fail(err, ENOMEM, "out of memory");
	req->envp = env;
	if (asprintf(&env[req->envc], AGENT_SESSION_ENV "=%s", g->path) < 0) {
		env[req->envc] = NULL;
		return hyp_fail(err, ENOMEM, "out of memory");
	}
	env[++req->envc] = NULL;
	return 0;
}

void agent_guest_close(struct agent_guest *g)
{
	for (int i = 0; i < AGENT_GUEST_MAX; i++)
		conn_reset(&g->c[i]);
	if (g->listen_fd >= 0)
		unlink(g->path);
	hyp_closep(&g->listen_fd);
	g->listen_fd = -1;
}

static struct agent_guest_conn *slot(struct agent_guest *g, uint16_t id)
{
	for (int i = 0; i < AGENT_GUEST_MAX; i++)
		if (g->c[i].id == id && (id || g->c[i].fd < 0))
			return &g->c[i];
	return NULL;
}

void agent_guest_polls(const struct agent_guest *g, struct pollfd p[AGENT_GUEST_POLLS])
{
	bool room = false;
	for (int i = 0; i < AGENT_GUEST_MAX; i++) {
		const struct agent_guest_conn *c = &g->c[i];
		room |= !c->id && c->fd < 0;
		short ev = POLLIN | (hyp_chan_has_output(&c->chan) ? POLLOUT : 0);
		p[1 + i] = (struct pollfd){c->fd, ev, 0};
	}
	p[0] = (struct pollfd){room ? g->listen_fd : -1, POLLIN, 0};
}

/* A stream id not in use: even, from 2, round the 16 bits. */
static uint16_t new_id(struct agent_guest *g)
{
	for (;;) {
		uint16_t id = g->next_id;
		g->next_id = g->next_id >= 65534 ? 2 : g->next_id + 2;
		if (!slot(g, id))
			return id;
	}
}

static int to_host(struct agent_guest *g, struct agent_guest_conn *c, struct hyp_msg *m,
                   hyp_error *err)
{
	if (m->type == HYP_MSG_REQUEST) {
		if (c->id)
			return -EPROTO; /* one request per connection */
		c->id = new_id(g);
	} else if (!c->id || !(m->type == HYP_MSG_STDIN || m->type == HYP_MSG_STDIN_EOF ||
	                       m->type == HYP_MSG_SIGNAL || m->type == HYP_MSG_WINCH ||
	                       m->type == HYP_MSG_CREDIT)) {
		return -EPROTO;
	}
	m->stream = c->id;
	return hyp_chan_queue(g->host, m, err);
}

/* The thin command went away (or misbehaved): its host command gets the
 * hangup a closed terminal would give it; its stream waits for the EXIT. */
static int hang_up(struct agent_guest *g, struct agent_guest_conn *c, hyp_error *err)
{
	struct hyp_msg hup = {.type = HYP_MSG_SIGNAL, .stream = c->id, .signo = SIGHUP};
	uint16_t id = c->id;
	conn_reset(c);
	if (!id)
		return 0;
	c->id = id; /* an orphan until its EXIT */
	return hyp_chan_queue(g->host, &hup, err);
}

static int conn_io(struct agent_guest *g, struct agent_guest_conn *c, short revents, hyp_error *err)
{
	hyp_error ignored = {0};
	struct hyp_msg m;
	int r = 0;
	if ((revents & POLLOUT) && hyp_chan_flush(&c->chan, &ignored) < 0)
		return hang_up(g, c, err);
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && hyp_chan_fill(&c->chan, &ignored) < 0)
		return hang_up(g, c, err);
	while ((r = hyp_chan_next(&c->chan, &m, &ignored)) > 0) {
		r = to_host(g, c, &m, err);
		hyp_msg_clear(&m);
		if (r == -EPROTO)
			return hang_up(g, c, err);
		if (r < 0)
			return r;
	}
	if (r < 0 || c->chan.eof)
		return hang_up(g, c, err);
	return 0;
}

int agent_guest_io(struct agent_guest *g, const struct pollfd p[AGENT_GUEST_POLLS], hyp_error *err)
{
	int r = 0;
	for (int i = 0; r >= 0 && i < AGENT_GUEST_MAX; i++)
		if (g->c[i].fd >= 0 && p[1 + i].revents)
			r = conn_io(g, &g->c[i], p[1 + i].revents, err);
	struct agent_guest_conn *c = slot(g, 0);
	if (r >= 0 && c && p[0].revents) {
		int fd = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0) {
			c->fd = fd;
			hyp_chan_init(&c->chan, fd);
		}
	}
	return r;
}

int agent_guest_frame(struct agent_guest *g, struct hyp_msg *msg, hyp_error *err)
{
	struct agent_guest_conn *c = msg->stream ? slot(g, msg->stream) : NULL;
	if (!c)
		return hyp_fail(err, EPROTO, "%s frame on stream %u, which is not open",
		                hyp_msg_type_name(msg->type), msg->stream);
	bool exit = msg->type == HYP_MSG_EXIT;
	int r = 0;
	if (c->fd >= 0) {
		msg->stream = LOCAL_STREAM;
		hyp_error ignored = {0};
		/* a thin command that does not read is its own problem: hung up */
		if (hyp_chan_queue(&c->chan, msg, &ignored) < 0)
			r = hang_up(g, c, err);
		else
			hyp_chan_flush(&c->chan, &ignored);
	}
	if (exit && c->fd >= 0) {
		/* sent as far as the socket takes it now; the command reads it */
		c->id = 0;
		c->ended = true;
	} else if (exit) {
		conn_reset(c);
	}
	return r;
}

/* Connections whose EXIT went out: closed once it is written. */
void agent_guest_step(struct agent_guest *g)
{
	for (int i = 0; i < AGENT_GUEST_MAX; i++) {
		struct agent_guest_conn *c = &g->c[i];
		if (c->ended && !hyp_chan_has_output(&c->chan))
			conn_reset(c);
	}
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running the command: send the EXEC request, relay until the agent's EXIT,
 * put the terminal and fds 1-2 back as they were, then exit with the
 * command's status or die of the signal that killed it.
 */
#include <errno.h>
#include <unistd.h>

#include "exec.h"
#include "hyp_cleanup.h"

static bool want_tty(const struct exec_opts *o)
{
	if (o->tty != EXEC_TTY_AUTO)
		return o->tty == EXEC_TTY_ON;
	return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
}

static int queue_request(struct exec_session *s, bool tty, hyp_error *err)
{
	struct hyp_msg req;
	int r = 0;
	if (s->o->script && (r = exec_script_open(s->o->argv[0], &s->script, err)) < 0)
		return r;
	if ((r = exec_request_build(s->o, tty, s->script.left, &req, err)) < 0)
		return r;
	r = hyp_chan_queue(&s->chan, &req, err);
	hyp_msg_clear(&req);
	return r < 0 ? hyp_error_prefix(err, "job %u: the exec request", s->o->job_id) : 0;
}

/* Relay with fds 1-2 set up for it, and everything flushed at the end. */
static int relay(struct exec_session *s, int sfd, struct hyp_exit *ret_exit, hyp_error *err)
{
	struct exec_out out[2];
	exec_outs_init(out);
	int r = exec_relay(s, sfd, out, ret_exit, err);
	hyp_error drain_err = {0};
	/* what the command wrote comes out even when the session broke */
	int d = exec_outs_drain(out, &drain_err);
	exec_outs_restore(out);
	exec_tty_restore();
	if (r >= 0 && d < 0) {
		*err = drain_err;
		r = d;
	}
	return r;
}

int exec_run(struct exec_session *s, hyp_error *err)
{
	bool tty = want_tty(s->o);
	int r = queue_request(s, tty, err);
	if (r < 0)
		return r;
	_cleanup_close_ int sfd = exec_signals_open(tty, err);
	if (sfd < 0)
		return sfd;
	if (tty && (r = exec_tty_raw(STDIN_FILENO, err)) < 0)
		return r;
	s->fail_status = EXEC_EXIT_LOST; /* from here on the command may be running */
	struct hyp_exit exit_status;
	if ((r = relay(s, sfd, &exit_status, err)) < 0)
		return r;
	if (!exit_status.signaled)
		return (int)exit_status.code;
	exec_session_close(s);
	exec_die_of((int)exit_status.code);
}

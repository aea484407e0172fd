/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperion-exec: the task process on the host. It claims one of the job's
 * exec ports, runs one command in the job's VM and relays stdio, signals and
 * the exit status (doc/hyperion-exec.1).
 */
#ifndef HYP_EXEC_H
#define HYP_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "hyp_chan.h"
#include "hyp_error.h"
#include "hyp_flow.h"
#include "hyp_names.h"
#include "exec_io.h"

#define EXEC_PREFIX     "hyperion-exec: "
#define EXEC_EXIT_SETUP 1   /* the command was not started */
#define EXEC_EXIT_LOST  255 /* the session broke after the command was sent */

enum exec_tty_mode { EXEC_TTY_AUTO, EXEC_TTY_ON, EXEC_TTY_OFF };

/* The parsed command line (exec_opts.c), completed by exec_opts_resolve(). */
struct exec_opts {
	uint32_t job_id;
	char node[HYP_NODE_NAME_MAX + 1];
	const char *config_path;
	char *state_dir; /* owned */
	enum exec_tty_mode tty;
	const char *cwd;
	char **env_add; /* -e NAME=VALUE, in order (array owned, strings borrowed) */
	size_t n_env_add;
	bool ignore_env;
	bool timeout_set;
	unsigned timeout_s; /* 0: no limit */
	unsigned ping;      /* round trips; 0: run the command */
	bool script;        /* argv[0] is a host file whose content runs in the guest */
	bool help, version;
	char **guest_commands; /* what the guest may run here (owned; hyp_guest_commands.h) */
	char **argv;           /* the command, borrowed from main's argv */
	int argc;
};

int exec_opts_parse(int argc, char **argv, struct exec_opts *ret, hyp_error *err);
/* Job id from $SLURM_JOB_ID, node from $SLURMD_NODENAME, state dir and timeout from hyperion.conf.
 */
int exec_opts_resolve(struct exec_opts *o, hyp_error *err);
void exec_opts_free(struct exec_opts *o);
void exec_usage(FILE *f);

/* exec_script.c: --script's file, sent in FILE frames after the request. */
struct exec_script {
	int fd;        /* -1 once all of it is queued (or when there is none) */
	uint64_t left; /* bytes still to queue */
	const char *path;
};
int exec_script_open(const char *path, struct exec_script *ret, hyp_error *err);
/* Queue FILE frames while the channel has room; closes the file at its end. */
int exec_script_queue(struct exec_script *sc, struct hyp_chan *chan, size_t chunk, hyp_error *err);
void exec_script_close(struct exec_script *sc);

/* One connection to one exec port of the job's VM. */
struct exec_session {
	const struct exec_opts *o;
	char *job_dir;
	int lock_fd; /* holds the port for as long as the session lives */
	int sock_fd;
	struct hyp_chan chan;
	long long deadline_ms; /* < 0: none */
	size_t peer_max;       /* largest payload the agent accepts */
	uint32_t version;      /* negotiated at HELLO */
	bool console_hint;     /* on failure, show the end of the console log */
	int fail_status;       /* exit status on failure: EXEC_EXIT_SETUP or _LOST */
	struct exec_script script;
};

/* exec_port.c */
int exec_port_claim(struct exec_session *s, unsigned *ret_index, hyp_error *err);
int exec_port_connect(struct exec_session *s, unsigned index, hyp_error *err);

/* exec_session.c */
int exec_session_open(struct exec_session *s, const struct exec_opts *o, hyp_error *err);
void exec_session_close(struct exec_session *s);
int exec_session_ping(struct exec_session *s, unsigned count, hyp_error *err);
void exec_print_console(const struct exec_session *s);

/* exec_request.c: the EXEC request for this process (free with hyp_msg_clear);
 * with --script, file_size is the size of the script that follows. */
int exec_request_build(const struct exec_opts *o, bool tty, uint64_t file_size, struct hyp_msg *ret,
                       hyp_error *err);

/* exec_stream.c: the stream of our EXEC, seen from the host: stdin to
 * STDIN within the stream's window, STDOUT/STDERR to fds 1-2 with credit
 * returned as they are written, signals, the ERROR and EXIT that end it. */
struct exec_stream {
	struct exec_session *s;
	uint16_t id;
	struct exec_out *out; /* [0] stdout, [1] stderr */
	struct hyp_flow flow;
	size_t chunk;     /* largest STDIN payload to send */
	bool stdin_open;  /* STDIN_EOF not queued yet */
	bool eof_later;   /* STDIN_EOF to queue once --script's file is sent */
	bool send_broken; /* writing to the socket failed: nothing more to send */
	bool sigpipe_sent;
	bool got_output;             /* a STDOUT or STDERR frame came: the command ran */
	bool got_error;              /* the agent sent ERROR; an EXIT may follow */
	long long error_deadline_ms; /* how long to wait for that EXIT */
	bool got_exit;
	struct hyp_exit exit;
};
void exec_stream_init(struct exec_stream *st, struct exec_session *s, struct exec_out out[2]);
int exec_stream_frame(struct exec_stream *st, struct hyp_msg *msg, hyp_error *err);
bool exec_stream_wants_stdin(const struct exec_stream *st);
int exec_stream_read_stdin(struct exec_stream *st, hyp_error *err);
int exec_stream_signal(struct exec_stream *st, int signo, hyp_error *err);
int exec_stream_write_out(struct exec_stream *st, int i, hyp_error *err);
/* --script's file, the deferred STDIN_EOF, credit for what was written. */
int exec_stream_step(struct exec_stream *st, hyp_error *err);

/* exec_relay.c: the loop, until the agent's EXIT (0, *ret_exit) or a failure. */
int exec_relay(struct exec_session *s, int sfd, struct exec_out out[2], struct hyp_exit *ret_exit,
               hyp_error *err);

/* exec_run.c: send the request, relay, return the exit code or die of the signal. */
int exec_run(struct exec_session *s, hyp_error *err);

#endif

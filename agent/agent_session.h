/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One session on one port: the session's state machine and its poll loop
 * (agent_session.c), the stream of the host's EXEC (agent_stream.c,
 * agent_stream_io.c) and the command itself (agent_command.c, agent_child.c).
 */
#ifndef HYP_AGENT_SESSION_H
#define HYP_AGENT_SESSION_H

#include <stdbool.h>
#include <poll.h>
#include <sys/types.h>

#include "agent.h"
#include "hyp_buf.h"
#include "hyp_chan.h"
#include "hyp_flow.h"
#include "hyp_proto.h"

#define AGENT_DRAIN_MS 1000 /* output read after the command exited, at most */

/* A running command. In TTY mode in_fd and out_fd are both the pty master. */
struct agent_cmd {
	pid_t pid; /* > 0 until reaped; also its session and process group id */
	bool tty;
	int master;    /* the pty master (owned), or -1 */
	int in_fd;     /* its stdin; -1 once closed */
	int out_fd;    /* its stdout; -1 at end of file */
	int err_fd;    /* its stderr; -1 at end of file, and in TTY mode */
	int status_fd; /* reports a failure before execve; -1 at end of file */
};

int agent_cmd_start(const struct hyp_exec_request *req, const struct agent_config *cfg,
                    struct agent_cmd *ret, hyp_error *err);
/* Read the child's report: 1 with `report` filled if it failed to start, 0 at
 * end of file (execve succeeded or the report was read), -EAGAIN if none yet. */
int agent_cmd_read_status(struct agent_cmd *cmd, const struct hyp_exec_request *req,
                          hyp_error *report);
void agent_cmd_signal(const struct agent_cmd *cmd, int signo);
void agent_cmd_kill_rest(pid_t sid);        /* SIGKILL what is left of a session */
void agent_cmd_kill(struct agent_cmd *cmd); /* SIGKILL everything, reap the child */
void agent_cmd_close_in(struct agent_cmd *cmd);
void agent_cmd_close_out(struct agent_cmd *cmd, int *fdp);
void agent_cmd_close(struct agent_cmd *cmd); /* all fds; the child must be reaped */

/* agent_child.c: the forked child, up to execve */
struct agent_child {
	const struct hyp_exec_request *req;
	const struct agent_config *cfg;
	int stdio[3];  /* what becomes its fds 0-2 */
	int tty_fd;    /* the pty slave in TTY mode (also in stdio), or -1 */
	int status_fd; /* write end of the report pipe */
};
__attribute__((noreturn)) void agent_child_run(const struct agent_child *c);

/* The stages a child reports a failure at (the parent names them). */
enum agent_child_stage {
	CHILD_TTY = 1,
	CHILD_IDS,
	CHILD_GROUPS,
	CHILD_GID,
	CHILD_UID,
	CHILD_CWD,
	CHILD_EXEC
};
struct agent_child_report {
	int stage;
	int error; /* errno */
};

/* agent_file.c: the file of an EXEC with HYP_EXEC_FILE, in the guest */
struct agent_file {
	int fd;        /* open for writing while FILE frames come; -1 */
	char *path;    /* NULL when there is none */
	uint64_t left; /* bytes still to come */
};
int agent_file_open(struct agent_file *f, const struct hyp_exec_request *req,
                    const struct agent_config *cfg, hyp_error *err);
int agent_file_write(struct agent_file *f, const uint8_t *data, size_t len, hyp_error *err);
/* Close it and make it argv[0] of the request. */
int agent_file_finish(struct agent_file *f, struct hyp_exec_request *req, hyp_error *err);
void agent_file_remove(struct agent_file *f, const struct hyp_exec_request *req,
                       const struct agent_config *cfg);

/* agent_stream.c, agent_stream_io.c: the stream of the host's EXEC, which
 * runs one command and relays its stdio, signals and exit status. It queues
 * its frames on the session's channel and never calls back into the session:
 * the session routes the stream's frames and fds to it and asks it whether
 * it is done. */
enum agent_stream_state {
	STREAM_FILE,    /* the EXEC came with HYP_EXEC_FILE, its FILE frames are coming */
	STREAM_RUNNING, /* the command runs (or ran: its output is drained) */
	STREAM_DONE     /* EXIT queued: the stream is over */
};

#define AGENT_STREAM_POLLS 4 /* the command's stdout, stderr, report pipe, stdin */

struct agent_stream {
	const struct agent_config *cfg;
	struct hyp_chan *chan; /* the session's: where its frames go */
	uint16_t id;
	enum agent_stream_state state;
	size_t chunk;         /* largest STDOUT/STDERR payload to send */
	struct hyp_msg exec;  /* the EXEC request */
	struct agent_cmd cmd; /* valid in STREAM_RUNNING */
	struct agent_file file;
	struct hyp_flow flow;
	uint64_t early_signals; /* bit n-1: SIGNAL n came before the command started */
	struct hyp_buf input;   /* STDIN not yet written to the command */
	bool input_eof;         /* STDIN_EOF received */
	bool exited;            /* the command was reaped: wstatus holds its status */
	int wstatus;
	long long drain_until_ms;
};

/* Take the EXEC (msg is emptied) and start its command, or wait for its
 * file. A command that cannot start is this stream's ERROR and EXIT. */
int agent_stream_open(struct agent_stream *st, struct hyp_msg *exec, const struct agent_config *cfg,
                      struct hyp_chan *chan, size_t chunk, hyp_error *err);
/* A frame on this stream (checked for sender and stream by the session). */
int agent_stream_frame(struct agent_stream *st, struct hyp_msg *msg, hyp_error *err);
void agent_stream_close(struct agent_stream *st); /* kill, reap, free */
/* agent_stream_io.c */
void agent_stream_polls(const struct agent_stream *st, struct pollfd p[AGENT_STREAM_POLLS]);
int agent_stream_io(struct agent_stream *st, const struct pollfd p[AGENT_STREAM_POLLS],
                    hyp_error *err);
void agent_stream_reaped(struct agent_stream *st, pid_t pid, int wstatus);
/* Close stdin at its end, return credit, send EXIT once all output is read. */
int agent_stream_step(struct agent_stream *st, hyp_error *err);
int agent_stream_timeout(const struct agent_stream *st); /* for poll(): ms, or -1 */
/* Queue a frame on the stream (ERROR text from err for HYP_MSG_ERROR). */
int agent_stream_queue(struct agent_stream *st, struct hyp_msg *msg, hyp_error *err);

/* agent_guest.c: the session's guest commands (srun... in the guest), relayed
 * to the host on streams the guest opens */
#define AGENT_GUEST_MAX   8
#define AGENT_GUEST_POLLS (1 + AGENT_GUEST_MAX)
struct agent_guest_conn {
	int fd; /* the thin command's connection; -1 */
	struct hyp_chan chan;
	uint16_t id; /* its stream to the host; 0: none yet (or ended) */
	bool ended;  /* its EXIT is on its way to it */
};
struct agent_guest {
	int listen_fd; /* -1 when the session has none */
	char path[108];
	uint16_t next_id;
	struct hyp_chan *host;
	struct agent_guest_conn c[AGENT_GUEST_MAX];
};
void agent_guest_init(struct agent_guest *g, struct hyp_chan *host);
/* Listen, as req's user, and name the socket in req's environment. */
int agent_guest_open(struct agent_guest *g, struct hyp_exec_request *req,
                     const struct agent_config *cfg, hyp_error *err);
void agent_guest_close(struct agent_guest *g);
void agent_guest_polls(const struct agent_guest *g, struct pollfd p[AGENT_GUEST_POLLS]);
int agent_guest_io(struct agent_guest *g, const struct pollfd p[AGENT_GUEST_POLLS], hyp_error *err);
/* A frame from the host on a stream the guest opened. */
int agent_guest_frame(struct agent_guest *g, struct hyp_msg *msg, hyp_error *err);
void agent_guest_step(struct agent_guest *g);

/* The session's states: HELLO -> READY -> (stream) -> DONE -> HELLO */
enum agent_session_state { SESSION_HELLO, SESSION_READY, SESSION_STREAM, SESSION_DONE };

/* How a session ended: by the agent (the host is still there), by the host
 * disconnecting, or by a signal telling the agent to stop. */
enum agent_session_end { SESSION_ACTIVE, SESSION_ENDED, SESSION_HOST_GONE, SESSION_TERMINATED };

struct agent_session {
	const struct agent_config *cfg;
	enum agent_port_kind kind;
	enum agent_session_state state;
	enum agent_session_end end;
	struct hyp_chan chan;
	int sigfd;
	size_t chunk;               /* largest data payload the host accepts */
	uint32_t version;           /* negotiated at HELLO */
	struct agent_stream stream; /* valid in SESSION_STREAM and after, until reset */
	bool has_stream;
	struct agent_guest guest; /* the guest commands of the stream's command */
};

/* agent_session.c: serve the sessions of one connection (owns the loop) */
enum agent_session_end agent_session_serve(int fd, enum agent_port_kind kind, int sigfd,
                                           const struct agent_config *cfg);

#endif

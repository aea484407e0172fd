/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest commands run on the host for the session's guest (exec_guest.c). */
#ifndef HYP_EXEC_GUEST_H
#define HYP_EXEC_GUEST_H

#include <poll.h>
#include <stdbool.h>
#include <sys/types.h>

#include "hyp_chan.h"
#include "hyp_flow.h"

#define EXEC_GUEST_MAX   8 /* guest commands running at once, per session */
#define EXEC_GUEST_POLLS (3 * EXEC_GUEST_MAX)

struct exec_guest_cmd {
	uint16_t id;               /* its stream; 0: a free slot */
	pid_t pid;                 /* > 0 until reaped; also its process group */
	int in_fd, out_fd, err_fd; /* TTY: the pty's master twice, no err_fd */
	bool tty;
	struct hyp_flow flow;
	struct hyp_buf input; /* STDIN not yet written to it */
	bool input_eof;
	bool exited;
	int wstatus;
	long long drain_until_ms;
};

struct exec_guest {
	struct hyp_chan *chan;
	char *const *allowed; /* guest_commands */
	size_t chunk;         /* largest data payload to send */
	unsigned started;     /* commands started in this session */
	struct exec_guest_cmd cmd[EXEC_GUEST_MAX];
};

void exec_guest_init(struct exec_guest *g, struct hyp_chan *chan, char *const *allowed,
                     size_t chunk);
/* A REQUEST: run it, or refuse it on its stream (ERROR, EXIT 126). */
int exec_guest_request(struct exec_guest *g, const struct hyp_msg *msg, hyp_error *err);
/* A frame on a stream the guest opened. */
int exec_guest_frame(struct exec_guest *g, const struct hyp_msg *msg, hyp_error *err);
/* exec_guest_io.c */
void exec_guest_polls(const struct exec_guest *g, struct pollfd p[EXEC_GUEST_POLLS]);
int exec_guest_io(struct exec_guest *g, const struct pollfd p[EXEC_GUEST_POLLS], hyp_error *err);
void exec_guest_reaped(struct exec_guest *g, pid_t pid, int wstatus);
/* Credit, stdin's end, EXIT once a command's output is all sent. */
int exec_guest_step(struct exec_guest *g, hyp_error *err);
int exec_guest_timeout(const struct exec_guest *g); /* for poll(): ms, or -1 */
void exec_guest_close(struct exec_guest *g);        /* kill and reap them all */

#endif

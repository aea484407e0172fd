/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperion-agent: the guest side of the host-guest channel (doc/protocol.md,
 * doc/hyperion-agent.8). A supervisor (PID 1 of the appliance, or a service)
 * runs one process per virtio-serial port; each serves sessions one at a time.
 */
#ifndef HYP_AGENT_H
#define HYP_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "hyp_error.h"

#define AGENT_PREFIX         "hyperion-agent: "
#define AGENT_SYSFS_PORTS    "/sys/class/virtio-ports"
#define AGENT_EXIT_PORT_GONE 3                  /* a port process whose device disappeared */
#define AGENT_SESSION_ENV    "HYPERION_SESSION" /* a command's session socket */

enum agent_port_kind { AGENT_PORT_EXEC, AGENT_PORT_CTL };

struct agent_bootcfg;

/* What every part needs to know about how the agent runs; set once by main. */
struct agent_config {
	bool pid1; /* init of the appliance (or of a disk image) */
	bool root; /* euid 0: commands run as the user the host asks for */
	uid_t uid; /* the agent's own ids, for unprivileged (test) runs */
	gid_t gid;
	const char *listen; /* --listen PATH: a unix socket instead of the ports */
	/* the boot configuration (agent_bootcfg.h), NULL when there is none */
	const struct agent_bootcfg *boot;
};

/* agent_guestcmd.c: srun, squeue... in the guest (links to the agent) */
bool agent_guestcmd_is(const char *argv0);
int agent_guestcmd_main(int argc, char **argv);

/* agent_util.c */
void agent_log(const char *fmt, ...) HYP_PRINTF(1, 2);
int agent_signals_setup(hyp_error *err); /* block the agent's signals, ignore SIGPIPE */
int agent_signalfd(hyp_error *err);      /* a signalfd for the blocked signals */
int agent_signal_read(int sigfd);        /* a pending signal's number, or 0 */
/* Signals while no session runs: reap children; 1 if told to stop
 * (SIGTERM, SIGINT, SIGHUP), else 0 (SIGIO, SIGCHLD...). */
int agent_idle_signals(int sigfd);
int agent_fd_nonblock(int fd, bool on, hyp_error *err);
void agent_std_fds(const char *dev); /* put `dev` on whichever of fds 0-2 is closed */

/* agent_ports.c: discovery, and the process that serves one port */
struct agent_port {
	char name[64]; /* org.hyperion.exec.0 */
	char dev[80];  /* /dev/vport0p1 */
	enum agent_port_kind kind;
	pid_t pid;               /* its process, 0 when none runs */
	long long started_ms;    /* when that process was started */
	long long restart_at_ms; /* when to start one again */
};
int agent_ports_scan(const char *sysfs_dir, struct agent_port **ports, size_t *n, hyp_error *err);
__attribute__((noreturn)) void agent_port_run(const struct agent_port *port,
                                              const struct agent_config *cfg);
/* Serve the sessions of one host connection, until it goes (0) or a signal
 * says to stop (1). */
int agent_port_session(int fd, enum agent_port_kind kind, int sigfd,
                       const struct agent_config *cfg);

/* agent_supervise.c: starts and restarts the port processes, reaps, stops */
int agent_supervise(const struct agent_config *cfg, hyp_error *err);

/* agent_listen.c: --listen PATH */
int agent_listen(const struct agent_config *cfg, hyp_error *err);

/* agent_init.c, agent_root.c, agent_modules.c: PID 1 duties */
void agent_init_system(struct agent_config *cfg); /* sets cfg->boot */
__attribute__((noreturn)) void agent_power_off(const char *why);
int agent_root_switch(hyp_error *err); /* 0: nothing to switch to; no return on success */
void agent_modules_load(const char *list_path);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The main process: finds the ports (again and again: the host announces
 * them one by one after virtio_console loads, and may add more later),
 * runs one process per port, restarts a port process that dies, reaps every
 * zombie (as PID 1, all orphans of the guest are ours) and handles the
 * signals that stop the agent or, as PID 1, power the VM off.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "hyp_chan.h"
#include "hyp_time.h"

#define SCAN_FAST_MS     10    /* while the ports appear */
#define SCAN_SLOW_MS     2000  /* once they are there */
#define SCAN_FAST_FOR_MS 10000 /* at most this long without any port */
#define SETTLED_MS       100   /* no new port for this long: announce "ready" */
#define RESTART_SOON_MS  2000  /* a port process that died sooner ... */
#define RESTART_DELAY_MS 1000  /* ... is restarted after this delay */
#define STOP_WAIT_MS     2000

struct supervisor {
	const struct agent_config *cfg;
	struct agent_port *ports;
	size_t n;
	int sigfd;
	long long start_ms, changed_ms, next_scan_ms;
	bool ready, warned;
};

static size_t count_exec(const struct supervisor *sv)
{
	size_t n = 0;

	for (size_t i = 0; i < sv->n; i++)
		n += sv->ports[i].kind == AGENT_PORT_EXEC;
	return n;
}

static int scan(struct supervisor *sv, long long now, hyp_error *err)
{
	int added = agent_ports_scan(AGENT_SYSFS_PORTS, &sv->ports, &sv->n, err);

	if (added < 0)
		return added;
	if (added > 0)
		sv->changed_ms = now;
	bool fast = !sv->ready && now - sv->start_ms < SCAN_FAST_FOR_MS;
	sv->next_scan_ms = now + (fast ? SCAN_FAST_MS : SCAN_SLOW_MS);
	return 0;
}

/* The one line an admin looks for on the console. */
static void announce(struct supervisor *sv, long long now)
{
	size_t n = count_exec(sv);

	if (!sv->ready && n > 0 && now - sv->changed_ms >= SETTLED_MS) {
		agent_log("ready: %zu exec port%s", n, n == 1 ? "" : "s");
		sv->ready = true;
	} else if (!sv->ready && !sv->warned && now - sv->start_ms >= SCAN_FAST_FOR_MS) {
		agent_log("no exec port found yet in %s; still looking", AGENT_SYSFS_PORTS);
		sv->warned = true;
	}
}

static void start_port(struct supervisor *sv, struct agent_port *port, long long now)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid < 0) {
		agent_log("port %s: fork: %m", port->name);
		port->restart_at_ms = now + RESTART_DELAY_MS;
		return;
	}
	if (pid == 0) {
		close(sv->sigfd);
		/* a service's port processes end with it */
		if (!sv->cfg->pid1 && (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent))
			_exit(0);
		agent_port_run(port, sv->cfg);
	}
	port->pid = pid;
	port->started_ms = now;
}

static void start_due(struct supervisor *sv, long long now)
{
	for (size_t i = 0; i < sv->n; i++)
		if (sv->ports[i].pid == 0 && sv->ports[i].restart_at_ms <= now)
			start_port(sv, &sv->ports[i], now);
}

static void port_died(struct supervisor *sv, size_t i, int wstatus, long long now)
{
	struct agent_port *port = &sv->ports[i];

	port->pid = 0;
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == AGENT_EXIT_PORT_GONE) {
		/* forgotten: a later scan finds it again if it comes back */
		memmove(port, port + 1, (sv->n - i - 1) * sizeof(*port));
		sv->n--;
		return;
	}
	if (WIFSIGNALED(wstatus))
		agent_log("port %s: its process was killed by signal %d; restarting", port->name,
		          WTERMSIG(wstatus));
	bool soon = now - port->started_ms < RESTART_SOON_MS;
	port->restart_at_ms = soon ? now + RESTART_DELAY_MS : now;
}

static void reap(struct supervisor *sv, long long now)
{
	pid_t pid;
	int wstatus;

	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0)
		for (size_t i = 0; i < sv->n; i++)
			if (sv->ports[i].pid == pid) {
				port_died(sv, i, wstatus, now);
				break;
			}
}

static bool any_running(const struct supervisor *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		if (sv->ports[i].pid > 0)
			return true;
	return false;
}

/* Service mode: SIGTERM the port processes (they kill their commands). */
static void stop(struct supervisor *sv)
{
	long long deadline = hyp_now_ms() + STOP_WAIT_MS;

	for (size_t i = 0; i < sv->n; i++)
		if (sv->ports[i].pid > 0)
			kill(sv->ports[i].pid, SIGTERM);
	while (any_running(sv) && hyp_now_ms() < deadline) {
		struct pollfd p = {sv->sigfd, POLLIN, 0};
		poll(&p, 1, 50);
		while (agent_signal_read(sv->sigfd) > 0)
			;
		reap(sv, hyp_now_ms());
	}
	for (size_t i = 0; i < sv->n; i++)
		if (sv->ports[i].pid > 0) {
			kill(sv->ports[i].pid, SIGKILL);
			waitpid(sv->ports[i].pid, NULL, 0);
		}
}

static int next_timeout(const struct supervisor *sv, long long now)
{
	long long at = sv->next_scan_ms;

	if (!sv->ready && count_exec(sv) > 0 && sv->changed_ms + SETTLED_MS < at)
		at = sv->changed_ms + SETTLED_MS;
	for (size_t i = 0; i < sv->n; i++)
		if (sv->ports[i].pid == 0 && sv->ports[i].restart_at_ms < at)
			at = sv->ports[i].restart_at_ms;
	return at <= now ? 0 : (int)(at - now);
}

/* 1 when the agent must stop (service mode). As PID 1 it powers off. */
static int on_signals(struct supervisor *sv)
{
	int signo;

	while ((signo = agent_signal_read(sv->sigfd)) > 0) {
		if (signo == SIGCHLD) {
			reap(sv, hyp_now_ms());
		} else if (sv->cfg->pid1 &&
		           (signo == SIGTERM || signo == SIGINT || signo == SIGUSR2)) {
			agent_power_off(signo == SIGUSR2 ? "requested by the host"
			                                 : strsignal(signo));
		} else if (!sv->cfg->pid1 && (signo == SIGTERM || signo == SIGINT)) {
			return 1;
		}
	}
	return 0;
}

int agent_supervise(const struct agent_config *cfg, hyp_error *err)
{
	struct supervisor sv = {.cfg = cfg, .start_ms = hyp_now_ms()};
	int r = 0;

	if ((sv.sigfd = agent_signalfd(err)) < 0)
		return sv.sigfd;
	while (r == 0) {
		long long now = hyp_now_ms();
		if (now >= sv.next_scan_ms && (r = scan(&sv, now, err)) < 0)
			break;
		start_due(&sv, now);
		announce(&sv, now);
		struct pollfd p = {sv.sigfd, POLLIN, 0};
		if (poll(&p, 1, next_timeout(&sv, hyp_now_ms())) < 0 && errno != EINTR) {
			r = hyp_fail_errno(err, "poll");
			break;
		}
		r = on_signals(&sv);
	}
	stop(&sv);
	close(sv.sigfd);
	free(sv.ports);
	return r < 0 ? r : 0;
}

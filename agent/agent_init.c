/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PID 1 duties: the file systems every program expects, the console on
 * fds 0-2, the kernel modules of /etc/hyperion/modules.load, the switch to a
 * root disk (agent_root.c), the node's identity and shares
 * (agent_identity.c), loopback, and powering off. None of
 * it is fatal but the root switch: a guest with a missing /tmp still runs
 * commands, and the console says what went wrong.
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "agent_bootcfg.h"
#include "hyp_cleanup.h"

#define MODULES_LOAD "/etc/hyperion/modules.load"
#define KILL_WAIT_MS 1000

struct mount_spec {
	const char *source, *target, *type;
	unsigned long flags;
	const char *data;
};

/* Before the root switch: moved onto the root disk if there is one. */
static const struct mount_spec early_mounts[] = {
    {"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
    {"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
};

static const struct mount_spec late_mounts[] = {
    {"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666"},
    {"tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
    {"tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
};

/* Mounted already (by the agent of the initramfs, before the root switch)? */
static bool is_mountpoint(const char *path)
{
	char parent[256];
	struct stat st, pst;

	snprintf(parent, sizeof(parent), "%s/..", path);
	if (stat(path, &st) < 0 || stat(parent, &pst) < 0)
		return false;
	return st.st_dev != pst.st_dev || st.st_ino == pst.st_ino;
}

static void mount_all(const struct mount_spec *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (mkdir(m[i].target, 0755) < 0 && errno != EEXIST)
			agent_log("creating %s: %m", m[i].target);
		if (is_mountpoint(m[i].target))
			continue;
		if (mount(m[i].source, m[i].target, m[i].type, m[i].flags, m[i].data) < 0)
			agent_log("mounting %s on %s: %m", m[i].type, m[i].target);
	}
}

static void loopback_up(void)
{
	struct ifreq ifr = {0};
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return;
	ifr.ifr_flags |= IFF_UP;
	ioctl(fd, SIOCSIFFLAGS, &ifr); /* the kernel adds 127.0.0.1 and ::1 */
}

/* What commands inherit: HPC codes (MPI over RDMA) pin memory. */
static void raise_limits(void)
{
	struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};

	if (setrlimit(RLIMIT_MEMLOCK, &unlimited) < 0)
		agent_log("raising RLIMIT_MEMLOCK: %m");
}

void agent_init_system(struct agent_config *cfg)
{
	static struct agent_bootcfg boot;
	hyp_error err = {0};

	reboot(RB_DISABLE_CAD); /* ctrl-alt-del: SIGINT to us, not an instant reboot */
	mount_all(early_mounts, sizeof(early_mounts) / sizeof(early_mounts[0]));
	agent_std_fds("/dev/console");
	agent_modules_load(MODULES_LOAD);
	if (agent_root_switch(&err) < 0) {
		agent_log("%s", err.msg);
		agent_power_off("cannot switch to the root disk");
	}
	mount_all(late_mounts, sizeof(late_mounts) / sizeof(late_mounts[0]));
	if (agent_bootcfg_read(&boot, &err) < 0)
		agent_log("%s", err.msg);
	else
		cfg->boot = &boot;
	agent_identity_apply(cfg->boot);
	loopback_up();
	agent_net_apply(cfg->boot ? &cfg->boot->net : NULL);
	raise_limits();
}

/* Reap until no process is left (1) or `ms` have passed (0). */
static int reap_all(long ms)
{
	struct timespec tick = {0, 10 * 1000000L};

	for (long waited = 0; waited <= ms; waited += 10) {
		pid_t pid;
		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		if (pid < 0 && errno == ECHILD)
			return 1;
		nanosleep(&tick, NULL);
	}
	return 0;
}

void agent_power_off(const char *why)
{
	agent_log("powering off: %s", why);
	if (getpid() != 1)
		_exit(1);
	kill(-1, SIGTERM);
	if (!reap_all(KILL_WAIT_MS)) {
		kill(-1, SIGKILL);
		reap_all(KILL_WAIT_MS);
	}
	sync();
	/* a root disk (the initramfs's rootfs refuses, harmlessly) */
	mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL);
	reboot(RB_POWER_OFF);
	agent_log("power off failed: %m");
	for (;;)
		pause();
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperion.root=DEVICE on the kernel command line: boot a disk image with
 * the appliance's kernel and initramfs. The agent of the initramfs mounts
 * DEVICE (hyperion.rootfstype=, default ext4, read-write) on /newroot, moves
 * /dev, /proc, /sys and /run onto it and executes (busybox's) switch_root,
 * which empties the initramfs and runs the disk's init (hyperion.init=,
 * default /sbin/init) as PID 1 -- maybe the agent again. The command line is
 * the same then: the switch only happens while / is the initramfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "hyp_cleanup.h"

#define NEWROOT        "/newroot"
#define DEVICE_WAIT_MS 10000
#define CMDLINE_MAX    4096

struct root_opts {
	char device[256];
	char fstype[64];
	char init[256];
};

/* The value of `key=` on the kernel command line (quotes not supported). */
static bool cmdline_get(const char *cmdline, const char *key, char *value, size_t size)
{
	size_t len = strlen(key);

	for (const char *p = cmdline; *p;) {
		p += strspn(p, " \t\n");
		size_t word = strcspn(p, " \t\n");
		if (word > len && strncmp(p, key, len) == 0 && p[len] == '=') {
			snprintf(value, size, "%.*s", (int)(word - len - 1), p + len + 1);
			return true;
		}
		p += word;
	}
	return false;
}

static int read_opts(struct root_opts *o, hyp_error *err)
{
	char cmdline[CMDLINE_MAX];
	_cleanup_close_ int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, cmdline, sizeof(cmdline) - 1) : -1;

	if (n < 0)
		return hyp_fail_errno(err, "reading /proc/cmdline");
	cmdline[n] = '\0';
	if (!cmdline_get(cmdline, "hyperion.root", o->device, sizeof(o->device)))
		return 0;
	if (!cmdline_get(cmdline, "hyperion.rootfstype", o->fstype, sizeof(o->fstype)))
		strcpy(o->fstype, "ext4");
	if (!cmdline_get(cmdline, "hyperion.init", o->init, sizeof(o->init)))
		strcpy(o->init, "/sbin/init");
	return 1;
}

static bool in_initramfs(void)
{
	struct statfs sfs;

	return statfs("/", &sfs) == 0 && (sfs.f_type == RAMFS_MAGIC || sfs.f_type == TMPFS_MAGIC);
}

/* The block device appears once its driver (a module just loaded) probed it. */
static int wait_device(const char *device, hyp_error *err)
{
	struct timespec tick = {0, 10 * 1000000L};

	for (int waited = 0; access(device, F_OK) < 0; waited += 10) {
		if (waited >= DEVICE_WAIT_MS)
			return hyp_fail_errno(err, "root device '%s' (hyperion.root)", device);
		nanosleep(&tick, NULL);
	}
	return 0;
}

/* busybox --list-full puts it in /sbin; some initramfs builders in /bin. */
static const char *find_switch_root(void)
{
	static const char *const paths[] = {"/sbin/switch_root", "/bin/switch_root",
	                                    "/usr/sbin/switch_root", "/usr/bin/switch_root"};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

static int move_mounts(hyp_error *err)
{
	static const char *const moved[] = {"/dev", "/proc", "/sys", "/run"};
	char target[64];

	for (size_t i = 0; i < sizeof(moved) / sizeof(moved[0]); i++) {
		snprintf(target, sizeof(target), NEWROOT "%s", moved[i]);
		if (mkdir(target, 0755) < 0 && errno != EEXIST)
			return hyp_fail_errno(err, "creating %s on the root disk", moved[i]);
		if (mount(moved[i], target, NULL, MS_MOVE, NULL) < 0)
			return hyp_fail_errno(err, "moving %s to the root disk", moved[i]);
	}
	return 0;
}

int agent_root_switch(hyp_error *err)
{
	struct root_opts o;
	char init[sizeof(NEWROOT) + sizeof(o.init)];
	struct stat st;
	const char *switch_root;
	int r = read_opts(&o, err);

	if (r <= 0 || !in_initramfs())
		return r;
	if (!(switch_root = find_switch_root()))
		return hyp_fail(err, ENOENT, "hyperion.root: no switch_root in the initramfs");
	if ((r = wait_device(o.device, err)) < 0)
		return r;
	if (mkdir(NEWROOT, 0755) < 0 && errno != EEXIST)
		return hyp_fail_errno(err, "creating " NEWROOT);
	if (mount(o.device, NEWROOT, o.fstype, 0, NULL) < 0)
		return hyp_fail_errno(err, "mounting '%s' (%s) as the root disk", o.device,
		                      o.fstype);
	/* lstat: an absolute symbolic link would resolve in the initramfs */
	snprintf(init, sizeof(init), NEWROOT "%s", o.init);
	if (lstat(init, &st) < 0)
		return hyp_fail_errno(err, "the root disk '%s' has no %s (hyperion.init)", o.device,
		                      o.init);
	if ((r = move_mounts(err)) < 0)
		return r;
	execl(switch_root, "switch_root", NEWROOT, o.init, (char *)NULL);
	return hyp_fail_errno(err, "executing %s", switch_root);
}

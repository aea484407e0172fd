/* SPDX-License-Identifier: GPL-2.0-or-later */
/* VF leases: files under a pool lock, listed in the job's resources first. */
#include "hyp_vf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_resources.h"

#define LEASE_DIR ".vf" /* not a node name: hyp_state_list_nodes skips it */
#define LOCK_FILE ".lock"
#define POOL_MAX  1024

struct cand {
	char vf[HYP_PCI_NAME_MAX], pf[HYP_PCI_NAME_MAX];
	int node;
	unsigned index; /* in the pool, PF by PF: the MAC's last octets */
	int state;      /* 0 free, 1 this job's, 2 another's */
};

static const char *sysfs_of(const char *sysfs)
{
	return sysfs ? sysfs : "/sys";
}

static int add_pf(const char *sysfs, const char *pf, struct cand *c, size_t *n, hyp_error *err)
{
	_cleanup_strv_ char **vfs = NULL;
	struct hyp_pci_dev pdev, vdev;
	int r = hyp_pci_read(sysfs, pf, &pdev, err);
	if (r >= 0)
		r = hyp_pci_vfs(sysfs, pf, &vfs, err);
	for (size_t i = 0; r >= 0 && vfs[i]; i++) {
		if (*n == POOL_MAX)
			return hyp_fail(err, E2BIG, "more than %d VFs", POOL_MAX);
		if ((r = hyp_pci_read(sysfs, vfs[i], &vdev, err)) < 0)
			break;
		struct cand *k = &c[*n];
		*k = (struct cand){.node = vdev.numa_node >= 0 ? vdev.numa_node : pdev.numa_node,
		                   .index = (unsigned)*n};
		snprintf(k->vf, sizeof(k->vf), "%s", vdev.name);
		snprintf(k->pf, sizeof(k->pf), "%s", pdev.name);
		(*n)++;
	}
	return r;
}

static int pool_vfs(const struct hyp_vf_pool *p, const char *sysfs, struct cand **ret,
                    size_t *ret_n, hyp_error *err)
{
	_cleanup_free_ struct cand *c = calloc(POOL_MAX, sizeof(*c));
	size_t n = 0;
	if (!c)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; p->pfs[i]; i++)
		if (add_pf(sysfs_of(sysfs), p->pfs[i], c, &n, err) < 0)
			return hyp_error_prefix(err, "VF pool '%s'", p->name);
	*ret = steal_pointer(&c);
	*ret_n = n;
	return 0;
}

static int lock_fd(int fd, const char *path, hyp_error *err)
{
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return hyp_fail_errno(err, "locking '%s'", path);
		}
	return fd;
}

/* <state_dir>/.vf/<pool>, created root 0700; the pool's lock held. With
 * `create` false (dry runs, hyperionctl check) nothing is created: no
 * directory is no lease, and the lock is -ENOENT. */
static int pool_lock(const char *state_dir, const char *pool, bool create, char dir[PATH_MAX],
                     hyp_error *err)
{
	snprintf(dir, PATH_MAX, "%s/" LEASE_DIR, state_dir);
	if (create && mkdir(state_dir, 0755) < 0 && errno != EEXIST)
		return hyp_fail_errno(err, "creating '%s'", state_dir);
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return hyp_fail_errno(err, "creating '%s'", dir);
	snprintf(dir, PATH_MAX, "%s/" LEASE_DIR "/%s", state_dir, pool);
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
		return hyp_fail_errno(err, "creating '%s'", dir);
	char path[PATH_MAX + 8];
	snprintf(path, sizeof(path), "%s/" LOCK_FILE, dir);
	int fd = open(path, O_RDWR | (create ? O_CREAT : 0) | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && !create && (errno == ENOENT || errno == EACCES))
		return -ENOENT;
	if (fd < 0)
		return hyp_fail_errno(err, "opening '%s'", path);
	return lock_fd(fd, path, err);
}

/* A lease's holder: 0 and its fields, -ENOENT, or -EINVAL for a lease its
 * writer died writing (only a crash leaves one: leases are written locked). */
static int read_lease(const char *path, uint32_t *ret_job, char ret_node[72], char ret_mac[18])
{
	char buf[256];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -EINVAL;
	buf[n] = '\0';
	unsigned long job;
	if (sscanf(buf, "%lu %71s %17s\n", &job, ret_node, ret_mac) != 3 || !strchr(buf, '\n'))
		return -EINVAL;
	*ret_job = (uint32_t)job;
	return 0;
}

static int cand_state(const char *dir, const struct cand *c, const char *node, uint32_t job_id)
{
	char path[PATH_MAX + 32], holder[72], mac[18];
	uint32_t job;
	snprintf(path, sizeof(path), "%s/%s", dir, c->vf);
	int r = read_lease(path, &job, holder, mac);
	if (r == -ENOENT)
		return 0;
	return r == 0 && job == job_id && !strcmp(holder, node) ? 1 : 2;
}

static bool preferred(const struct hyp_vf_want *w, int node)
{
	for (size_t i = 0; i < w->nprefer; i++)
		if (node >= 0 && (unsigned)node == w->prefer_nodes[i])
			return true;
	return false;
}

/* Pick this job's leases, then free VFs on its nodes, then the others. */
static size_t pick(const struct hyp_vf_want *w, struct cand *c, size_t n, struct cand **chosen)
{
	size_t k = 0;
	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < n && k < w->count; i++) {
			bool want = pass == 0
			                ? c[i].state == 1
			                : c[i].state == 0 && preferred(w, c[i].node) == (pass == 1);
			if (want)
				chosen[k++] = &c[i];
		}
	return k;
}

/* prefix, then (when room) octets from a hash of the node name, the VF's
 * index in the pool last: distinct on the host, distinct between pools. */
static void make_mac(const struct hyp_vf_pool *p, const char *node, unsigned index, char mac[18])
{
	unsigned char b[6];
	uint32_t h = 2166136261u;
	for (const char *s = node; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	memcpy(b, p->mac_prefix, p->mac_prefix_len);
	for (unsigned i = p->mac_prefix_len; i < 5; i++, h >>= 8)
		b[i] = (unsigned char)h;
	b[5] = (unsigned char)index;
	snprintf(mac, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

static int write_lease(const struct hyp_vf_want *w, const char *dir, const struct cand *c,
                       const char *mac, hyp_error *err)
{
	char path[PATH_MAX + 32], value[PATH_MAX + 128];
	snprintf(path, sizeof(path), "%s/%s", dir, c->vf);
	snprintf(value, sizeof(value), "%s %s %" PRIu32, path, w->node, w->job_id);
	int r = hyp_resources_add(w->resources, HYP_RES_VF, value, err);
	if (r < 0)
		return r;
	_cleanup_close_ int fd =
	    open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return hyp_fail_errno(err, "VF %s: creating lease '%s'", c->vf, path);
	char line[128];
	int len = snprintf(line, sizeof(line), "%" PRIu32 " %s %s\n", w->job_id, w->node, mac);
	if (write(fd, line, (size_t)len) != len || fsync(fd) < 0)
		return hyp_fail_errno(err, "VF %s: writing lease '%s'", c->vf, path);
	return 0;
}

static int empty_pool(const struct hyp_vf_want *w, const struct cand *c, size_t n, hyp_error *err)
{
	unsigned used = 0;
	for (size_t i = 0; i < n; i++)
		used += c[i].state == 2;
	return hyp_fail(err, EBUSY,
	                "VF pool '%s' cannot give job %" PRIu32 " %u VF%s: the pool has %zu VFs, "
	                "%u in use by other jobs, %zu free",
	                w->pool->name, w->job_id, w->count, w->count == 1 ? "" : "s", n, used,
	                n - used);
}

static int acquire_locked(const struct hyp_vf_want *w, const char *dir, struct cand *c, size_t n,
                          struct hyp_vf_lease *ret, hyp_error *err)
{
	struct cand *chosen[64];
	if (w->count == 0 || w->count > 64)
		return hyp_fail(err, EINVAL, "VF pool '%s': %u VFs asked", w->pool->name, w->count);
	if (n > 256)
		return hyp_fail(err, E2BIG,
		                "VF pool '%s': %zu VFs, more than its MAC scheme numbers "
		                "(256)",
		                w->pool->name, n);
	for (size_t i = 0; i < n; i++)
		c[i].state = cand_state(dir, &c[i], w->node, w->job_id);
	size_t k = pick(w, c, n, chosen);
	if (k < w->count)
		return empty_pool(w, c, n, err);
	for (size_t i = 0; i < k; i++) {
		struct hyp_vf_lease *l = &ret[i];
		*l = (struct hyp_vf_lease){.numa_node = chosen[i]->node, .vlan = w->pool->vlan};
		snprintf(l->vf, sizeof(l->vf), "%s", chosen[i]->vf);
		snprintf(l->pf, sizeof(l->pf), "%s", chosen[i]->pf);
		make_mac(w->pool, w->node, chosen[i]->index, l->mac);
		if (w->resources && chosen[i]->state == 0) {
			int r = write_lease(w, dir, chosen[i], l->mac, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int hyp_vf_acquire(const struct hyp_vf_want *w, struct hyp_vf_lease *ret_leases, hyp_error *err)
{
	_cleanup_free_ struct cand *c = NULL;
	size_t n = 0;
	char dir[PATH_MAX];
	int r = pool_vfs(w->pool, w->sysfs, &c, &n, err);
	if (r < 0)
		return r;
	_cleanup_close_ int lock = pool_lock(w->state_dir, w->pool->name, !!w->resources, dir, err);
	if (lock < 0 && lock != -ENOENT)
		return lock;
	r = acquire_locked(w, dir, c, n, ret_leases, err);
	return r < 0 ? hyp_error_prefix(err, "job %" PRIu32, w->job_id) : 0;
}

int hyp_vf_release(const char *value, hyp_error *err)
{
	char path[PATH_MAX], node[72], holder[72], mac[18], dir[PATH_MAX];
	uint32_t job_id, job;
	if (sscanf(value, "%4095s %71s %" SCNu32, path, node, &job_id) != 3 || path[0] != '/')
		return hyp_fail(err, EINVAL, "bad VF lease entry '%s'", value);
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	*slash = '\0';
	char lockpath[PATH_MAX + 8];
	snprintf(lockpath, sizeof(lockpath), "%s/" LOCK_FILE, dir);
	_cleanup_close_ int lock = open(lockpath, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (lock < 0)
		return errno == ENOENT ? 0 : hyp_fail_errno(err, "opening '%s'", lockpath);
	if ((lock = lock_fd(take_fd(&lock), lockpath, err)) < 0)
		return lock;
	int r = read_lease(path, &job, holder, mac);
	if (r == -ENOENT || (r == 0 && (job != job_id || strcmp(holder, node))))
		return 0; /* gone, or another job's since */
	if (unlink(path) < 0)
		return errno == ENOENT ? 0 : hyp_fail_errno(err, "removing VF lease '%s'", path);
	return 1;
}

int hyp_vf_pool_usage(const struct hyp_vf_pool *pool, const char *sysfs, const char *state_dir,
                      unsigned *ret_size, unsigned *ret_used, hyp_error *err)
{
	_cleanup_free_ struct cand *c = NULL;
	size_t n = 0;
	char dir[PATH_MAX];
	int r = pool_vfs(pool, sysfs, &c, &n, err);
	if (r < 0)
		return r;
	_cleanup_close_ int lock = pool_lock(state_dir, pool->name, false, dir, err);
	if (lock < 0 && lock != -ENOENT)
		return lock;
	unsigned used = 0;
	for (size_t i = 0; i < n; i++)
		used += cand_state(dir, &c[i], "", 0) != 0;
	*ret_size = (unsigned)n;
	*ret_used = used;
	return 0;
}

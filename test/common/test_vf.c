/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VF pools: hyperion.conf's [vf_pool] sections, leases (one job per VF, the
 * job's NUMA nodes first, MAC and VLAN per lease, an empty pool's message),
 * 200 lease/release cycles from parallel processes, and a leaseholder killed
 * with SIGKILL whose lease reconciliation reclaims. Over the usNIC VFs of
 * test/data/topologies/16intel64-manyVFs.xml, in a fake sysfs.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "fake_sysfs.h"
#include "hyp_cleanup.h"
#include "hyp_config.h"
#include "hyp_names.h"
#include "hyp_reconcile.h"
#include "hyp_resources.h"
#include "hyp_statedir.h"
#include "hyp_vf.h"
#include "hyp_vm.h"

static struct fake_host host;
static char state[200];
static struct hyp_config cfg;

static int load(const char *text, hyp_error *err)
{
	char path[PATH_MAX], full[8192];
	snprintf(path, sizeof(path), "%s/hyperion.conf", host.root);
	snprintf(full, sizeof(full), "state_dir = %s\n%s", state, text);
	fake_write(full, "%s", path);
	hyp_config_free(&cfg);
	return hyp_config_load(path, &cfg, err);
}

static void setup(void)
{
	fake_host_init(&host);
	snprintf(state, sizeof(state), "%s/state", host.root);
	/* 16intel64-manyVFs.xml: usNIC PFs with VFs in the PF's slot, two of
	 * them on NUMA node 0, one on node 1 */
	fake_vfs(&host, "0000:0b:00.0", 3, 0, 10);
	fake_vfs(&host, "0000:0c:00.0", 4, 0, 20);
	fake_vfs(&host, "0000:88:00.0", 5, 1, 30);
	hyp_error err = {0};
	cr_assert_eq(load("[vf_pool fabric]\npf = 0000:0b:00.0 88:00.0\nvlan = 42\n"
	                  "mac_prefix = 52:54:01\n\n[vf_pool small]\npf = 0000:0c:00.0\n"
	                  "mac_prefix = 52:54:02:aa:bb\n",
	                  &err),
	             0, "%s", err.msg);
}

static void teardown(void)
{
	hyp_config_free(&cfg);
	fake_host_free(&host);
}

TestSuite(vf, .init = setup, .fini = teardown);

static void expect_config_error(const char *text, const char *want)
{
	hyp_error err = {0};
	cr_expect_lt(load(text, &err), 0, "accepted: %s", text);
	cr_expect(strstr(err.msg, want), "'%s' not in '%s'", want, err.msg);
}

Test(vf, pools_in_hyperion_conf)
{
	const struct hyp_vf_pool *p = hyp_vf_pool_find(&cfg.devices, "fabric");
	cr_assert_not_null(p);
	cr_expect_str_eq(p->pfs[0], "0000:0b:00.0");
	cr_expect_str_eq(p->pfs[1], "0000:88:00.0", "canonical form");
	cr_expect_eq(p->vlan, 42u);
	cr_expect_eq(p->mac_prefix_len, 3u);
	cr_expect_eq(hyp_vf_pool_find(&cfg.devices, "small")->vlan, 0u);
	expect_config_error("[vf_pool a]\nmac_prefix = 52:54:01\n", "[vf_pool a]: no 'pf'");
	expect_config_error("[vf_pool a]\npf = 0b:00.0\n", "no 'mac_prefix'");
	expect_config_error("[vf_pool a]\npf = 0b:00.0\nvlan = 4095\nmac_prefix = 52\n", "vlan");
	expect_config_error("[vf_pool a]\npf = 0b:00.0\nmac_prefix = 53:54\n", "unicast");
	/* two hex digits an octet: sscanf's %2x also took " 4", "+4" and "-1" (ff) */
	expect_config_error("[vf_pool a]\npf = 0b:00.0\nmac_prefix = 52:-1\n", "unicast");
	expect_config_error("[vf_pool a]\npf = 0b:00.0\nmac_prefix = 52:+4\n", "unicast");
	expect_config_error("[vf_pool a]\npf = 0b:00.0\nmac_prefix = 52: 4:01\n", "unicast");
	expect_config_error("[vf_pool a]\npf = 0b:00.0\nspeed = 10\n", "unknown key 'speed'");
	expect_config_error("[vf_pool a]\npf = eth0\nmac_prefix = 52\n", "not a PCI address");
	expect_config_error("[vf_pool a]\npf = 0b:00.0\nmac_prefix = 52\n[vf_pool a]\n",
	                    "defined twice");
	expect_config_error("[vf_pool a]\npf = 0b:00.0\nmac_prefix = 52\n"
	                    "[vf_pool b]\npf = 0c:00.0\nmac_prefix = 52\n",
	                    "each pool needs its own");
	expect_config_error("[vf_pool a/b]\npf = 0b:00.0\nmac_prefix = 52\n", "pool name");
	expect_config_error("[image x]\n", "section [image x] is not allowed");

	const struct hyp_vf_pool *pool;
	unsigned n;
	hyp_error err = {0};
	cr_assert_eq(load("[vf_pool fabric]\npf = 0b:00.0\nmac_prefix = 52:54:01\n", &err), 0);
	cr_expect_eq(hyp_vf_request_parse(&cfg.devices, "fabric:3", &pool, &n, &err), 0);
	cr_expect_eq(n, 3u);
	cr_expect_eq(hyp_vf_request_parse(&cfg.devices, "fabric", &pool, &n, &err), 0);
	cr_expect_eq(n, 1u);
	cr_expect_eq(hyp_vf_request_parse(&cfg.devices, "nope:1", &pool, &n, &err), -EINVAL);
	cr_expect(strstr(err.msg, "no pool 'nope' on this node (pools: fabric)"), "%s", err.msg);
	cr_expect_eq(hyp_vf_request_parse(&cfg.devices, "fabric:0", &pool, &n, &err), -EINVAL);
}

static struct hyp_vf_want want(const char *pool, unsigned count, uint32_t job,
                               const unsigned *nodes, size_t nnodes, const char *list)
{
	return (struct hyp_vf_want){.pool = hyp_vf_pool_find(&cfg.devices, pool),
	                            .count = count,
	                            .sysfs = host.sys,
	                            .state_dir = state,
	                            .node = "n1",
	                            .job_id = job,
	                            .prefer_nodes = nodes,
	                            .nprefer = nnodes,
	                            .resources = list};
}

static bool lease_exists(const char *pool, const char *vf)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/.vf/%s/%s", state, pool, vf);
	return access(path, F_OK) == 0;
}

Test(vf, local_vfs_first_then_remote_with_mac_and_vlan)
{
	char list[PATH_MAX];
	snprintf(list, sizeof(list), "%s/job.7101.res", host.root);
	static const unsigned node1[] = {1};
	struct hyp_vf_lease l[7];
	hyp_error err = {0};
	struct hyp_vf_want w = want("fabric", 2, 7101, node1, 1, list);
	cr_assert_eq(hyp_vf_acquire(&w, l, &err), 0, "%s", err.msg);
	cr_expect_str_eq(l[0].vf, "0000:88:00.1", "node 1's PF first");
	cr_expect_str_eq(l[1].vf, "0000:88:00.2");
	cr_expect_eq(l[0].numa_node, 1);
	cr_expect_str_eq(l[0].pf, "0000:88:00.0");
	cr_expect_eq(l[0].vlan, 42u);
	cr_expect_eq(strncmp(l[0].mac, "52:54:01:", 9), 0, "%s", l[0].mac);
	cr_expect_str_neq(l[0].mac, l[1].mac);
	cr_expect(lease_exists("fabric", "0000:88:00.1") && lease_exists("fabric", "0000:88:00.2"));

	/* The same job asking again (a second step) gets the same VFs. */
	struct hyp_vf_lease again[2];
	cr_assert_eq(hyp_vf_acquire(&w, again, &err), 0, "%s", err.msg);
	cr_expect_str_eq(again[0].vf, l[0].vf);
	cr_expect_str_eq(again[0].mac, l[0].mac);

	/* Job 7102 on node 1 wants 5: node 1's 3 left, then node 0's. */
	char list2[PATH_MAX];
	snprintf(list2, sizeof(list2), "%s/job.7102.res", host.root);
	struct hyp_vf_want w2 = want("fabric", 5, 7102, node1, 1, list2);
	cr_assert_eq(hyp_vf_acquire(&w2, l, &err), 0, "%s", err.msg);
	cr_expect_str_eq(l[0].vf, "0000:88:00.3");
	cr_expect_str_eq(l[2].vf, "0000:88:00.5");
	cr_expect_str_eq(l[3].vf, "0000:0b:00.1", "remote ones last");
	cr_expect_eq(l[3].numa_node, 0);

	/* 8 VFs, 7 leased: a job wanting 2 fails, naming size and use. */
	struct hyp_vf_want w3 = want("fabric", 2, 7103, node1, 1, NULL);
	cr_expect_eq(hyp_vf_acquire(&w3, l, &err), -EBUSY);
	cr_expect(strstr(err.msg, "VF pool 'fabric' cannot give job 7103 2 VFs: the pool has 8 "
	                          "VFs, 7 in use by other jobs, 1 free"),
	          "%s", err.msg);
	unsigned size, used;
	cr_assert_eq(hyp_vf_pool_usage(w.pool, host.sys, state, &size, &used, &err), 0);
	cr_expect(size == 8 && used == 7);

	/* Releasing job 7101's list frees exactly its VFs. */
	struct hyp_release_ctx ctx = {0};
	cr_assert_eq(hyp_resources_release(list, &ctx, &err), 0, "%s", err.msg);
	cr_expect_not(lease_exists("fabric", "0000:88:00.1"));
	cr_expect(lease_exists("fabric", "0000:88:00.3"));
	cr_assert_eq(hyp_vf_acquire(&w3, l, &err), 0, "%s", err.msg);
}

Test(vf, a_dry_run_leases_nothing_and_a_release_spares_another_jobs_lease)
{
	struct hyp_vf_lease l[1];
	hyp_error err = {0};
	struct hyp_vf_want w = want("small", 1, 7104, NULL, 0, NULL);
	cr_assert_eq(hyp_vf_acquire(&w, l, &err), 0, "%s", err.msg);
	cr_expect_str_eq(l[0].vf, "0000:0c:00.1");
	cr_expect_str_eq(l[0].mac, "52:54:02:aa:bb:00", "a 5-octet prefix and the VF's index");
	cr_expect_not(lease_exists("small", "0000:0c:00.1"));
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/.vf", state);
	cr_expect_neq(access(dir, F_OK), 0, "a dry run creates nothing (it may run as any user)");
	char value[PATH_MAX + 64];
	snprintf(value, sizeof(value), "%s/.vf/small/0000:0c:00.1 n1 7104", state);
	char list[PATH_MAX];
	snprintf(list, sizeof(list), "%s/job.7105.res", host.root);
	w = want("small", 1, 7105, NULL, 0, list);
	cr_assert_eq(hyp_vf_acquire(&w, l, &err), 0, "%s", err.msg);
	cr_expect_eq(hyp_vf_release(value, &err), 0, "7104 never held it: 7105's stays");
	cr_expect(lease_exists("small", "0000:0c:00.1"));
	cr_expect_eq(hyp_vf_release("relative n1 1", &err), -EINVAL);
}

#define WORKERS 8
#define CYCLES  25 /* each: 8 x 25 = 200 lease/release cycles */

/* Lease one VF, claim it in a marker only one holder can create, give it
 * back. A VF leased twice at once makes the second claim fail. */
static int worker(int id, const char *claims)
{
	for (int c = 0; c < CYCLES;) {
		char list[512], claim[512];
		struct hyp_vf_lease l[1];
		hyp_error err = {0};
		uint32_t job = 10000 + (uint32_t)(id * CYCLES + c);
		snprintf(list, sizeof(list), "%s/job.%u.res", claims, job);
		struct hyp_vf_want w = want("fabric", 1, job, NULL, 0, list);
		int r = hyp_vf_acquire(&w, l, &err);
		if (r == -EBUSY) {
			usleep(200);
			continue;
		}
		if (r < 0)
			return 2;
		snprintf(claim, sizeof(claim), "%s/claim.%s", claims, l[0].vf);
		int fd = open(claim, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return 1;
		close(fd);
		usleep(100);
		unlink(claim);
		struct hyp_release_ctx ctx = {0};
		if (hyp_resources_release(list, &ctx, &err) < 0)
			return 3;
		c++;
	}
	return 0;
}

Test(vf, parallel_lease_release_cycles_never_share_a_vf, .timeout = 60)
{
	char claims[256];
	snprintf(claims, sizeof(claims), "%s/claims", host.root);
	cr_assert_eq(mkdir(claims, 0700), 0);
	pid_t pids[WORKERS];
	for (int i = 0; i < WORKERS; i++) {
		pids[i] = fork();
		cr_assert_geq(pids[i], 0);
		if (pids[i] == 0)
			_exit(worker(i, claims));
	}
	int failed = 0;
	for (int i = 0; i < WORKERS; i++) {
		int status;
		cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
		failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		          "worker %d: status %d (1: a VF leased twice)", i, status);
	}
	cr_assert_eq(failed, 0);
	unsigned size, used;
	hyp_error err = {0};
	cr_assert_eq(hyp_vf_pool_usage(hyp_vf_pool_find(&cfg.devices, "fabric"), host.sys, state,
	                               &size, &used, &err),
	             0, "%s", err.msg);
	cr_expect_eq(used, 0u, "every lease given back");
}

static bool nobody_alive(void *data, const char *node, uint32_t job_id)
{
	(void)data;
	(void)node;
	return job_id == 7107; /* 7106 died */
}

Test(vf, a_killed_leaseholders_lease_is_reclaimed_by_reconciliation)
{
	hyp_error err = {0};
	cr_assert_eq(hyp_node_dir_ensure(state, "n1", &err), 0, "%s", err.msg);
	_cleanup_free_ char *dead = hyp_job_resources_path(state, "n1", 7106);
	_cleanup_free_ char *alive = hyp_job_resources_path(state, "n1", 7107);
	int pipefd[2];
	cr_assert_eq(pipe(pipefd), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct hyp_vf_lease l[2];
		struct hyp_vf_want w = want("fabric", 2, 7106, NULL, 0, dead);
		char ok = hyp_vf_acquire(&w, l, &err) == 0 ? 'y' : 'n';
		if (write(pipefd[1], &ok, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char ok = 0;
	cr_assert_eq(read(pipefd[0], &ok, 1), 1);
	cr_assert_eq(ok, 'y');
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	struct hyp_vf_lease l[1];
	struct hyp_vf_want w = want("fabric", 1, 7107, NULL, 0, alive);
	cr_assert_eq(hyp_vf_acquire(&w, l, &err), 0, "%s", err.msg);
	cr_expect(lease_exists("fabric", "0000:0b:00.1") && lease_exists("fabric", "0000:0b:00.2"),
	          "the dead job's leases outlive it");

	cfg.libvirt_uri = strdup("test:///default");
	_cleanup_(hyp_vm_disconnectp) struct hyp_vm_conn *conn = NULL;
	cr_assert_eq(hyp_vm_connect(&cfg, &conn, &err), 0, "%s", err.msg);
	struct hyp_reconcile_opts o = {.alive = nobody_alive};
	unsigned released = 0;
	cr_assert_eq(hyp_reconcile_jobs(conn, &cfg, &o, &released, &err), 0, "%s", err.msg);
	cr_expect_eq(released, 1u);
	cr_expect_not(lease_exists("fabric", "0000:0b:00.1"), "reclaimed");
	cr_expect_not(lease_exists("fabric", "0000:0b:00.2"), "reclaimed");
	cr_expect(lease_exists("fabric", "0000:0b:00.3"), "the live job keeps its VF");
}

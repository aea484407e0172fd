/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Listing, destroying and reconciling domains, against libvirt's own test
 * driver (test:///default, in the client library: no daemon, no QEMU).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libvirt/libvirt.h>

#include "hyp_cleanup.h"
#include "hyp_reconcile.h"
#include "hyp_resources.h"
#include "hyp_statedir.h"
#include "hyp_virt.h"
#include "hyp_vm.h"

static char state[64];
static struct hyp_config cfg;

static void setup(void)
{
	snprintf(state, sizeof(state), "/tmp/hyp-test-vm.XXXXXX");
	cr_assert_not_null(mkdtemp(state));
	chmod(state, 0755);
	cfg = (struct hyp_config){.libvirt_uri = "test:///default", .state_dir = state};
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(vm, .init = setup, .fini = teardown);

/* A running domain of that name in the test driver's (per-connection) state. */
static void define_running(virConnectPtr c, const char *name)
{
	char xml[512];
	snprintf(xml, sizeof(xml),
	         "<domain type='test'><name>%s</name><memory>65536</memory>"
	         "<os><type>hvm</type></os></domain>",
	         name);
	virDomainPtr d = virDomainCreateXML(c, xml, 0);
	cr_assert_not_null(d, "creating %s", name);
	virDomainFree(d);
}

static virConnectPtr raw(struct hyp_vm_conn *conn)
{
	return conn->conn;
}

Test(vm, an_unreachable_libvirtd_is_a_connection_failure)
{
	struct hyp_config bad = cfg;
	bad.libvirt_uri = "qemu+unix:///system?socket=/nonexistent/libvirt-sock";
	struct hyp_vm_conn *conn = NULL;
	hyp_error err = {0};
	cr_expect_eq(hyp_vm_connect(&bad, &conn, &err), -ECONNREFUSED);
	cr_expect(strstr(err.msg, "/nonexistent/libvirt-sock"), "%s", err.msg);
}

Test(vm, destroy_by_name_is_idempotent)
{
	struct hyp_vm_conn *conn = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_vm_connect(&cfg, &conn, &err), 0, "%s", err.msg);
	define_running(raw(conn), "hyperion-n1-5");
	cr_expect_eq(hyp_vm_domain_destroy(conn, "hyperion-n1-5", &err), 1, "%s", err.msg);
	cr_expect_eq(hyp_vm_domain_destroy(conn, "hyperion-n1-5", &err), 0, "%s", err.msg);
	cr_expect_eq(hyp_vm_domain_destroy(conn, "never-was", &err), 0, "%s", err.msg);
	hyp_vm_disconnect(conn);
}

static bool alive_7(void *data, const char *node, uint32_t job)
{
	return job == 7;
}

Test(vm, reconciliation_releases_dead_jobs_of_its_node_only)
{
	struct hyp_vm_conn *conn = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_vm_connect(&cfg, &conn, &err), 0, "%s", err.msg);
	define_running(raw(conn), "hyperion-n1-6");
	define_running(raw(conn), "hyperion-n1-7");
	define_running(raw(conn), "hyperion-n2-6");
	define_running(raw(conn), "not-ours-6");
	/* Job 8 of n1 left only its state (a crash before its domain). */
	cr_assert_eq(hyp_node_dir_ensure(state, "n1", &err), 0, "%s", err.msg);
	_cleanup_free_ char *res = hyp_job_resources_path(state, "n1", 8);
	_cleanup_free_ char *dir = hyp_job_dir(state, "n1", 8);
	cr_assert_eq(hyp_resources_add(res, HYP_RES_DIR, dir, &err), 0);
	cr_assert_eq(mkdir(dir, 0711), 0);

	struct hyp_reconcile_opts o = {.node = "n1", .alive = alive_7};
	unsigned released = 0;
	cr_assert_eq(hyp_reconcile_jobs(conn, &cfg, &o, &released, &err), 0, "%s", err.msg);
	cr_expect_eq(released, 2, "job 6's domain and job 8's leftovers");

	virConnectPtr c = raw(conn);
	virDomainPtr d;
	cr_expect_null(d = virDomainLookupByName(c, "hyperion-n1-6"));
	cr_expect_not_null(d = virDomainLookupByName(c, "hyperion-n1-7"), "alive: kept");
	virDomainFree(d);
	cr_expect_not_null(d = virDomainLookupByName(c, "hyperion-n2-6"), "another node's");
	virDomainFree(d);
	cr_expect_not_null(d = virDomainLookupByName(c, "not-ours-6"), "not Hyperion's");
	virDomainFree(d);
	cr_expect_neq(access(dir, F_OK), 0);
	cr_expect_neq(access(res, F_OK), 0);
	hyp_vm_disconnect(conn);
}

Test(vm, a_job_whose_lock_is_held_is_not_reaped)
{
	struct hyp_vm_conn *conn = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_vm_connect(&cfg, &conn, &err), 0, "%s", err.msg);
	define_running(raw(conn), "hyperion-n1-9");
	int lock = hyp_job_lock(state, "n1", 9, 1, &err); /* a start in progress */
	cr_assert_geq(lock, 0, "%s", err.msg);
	struct hyp_reconcile_opts o = {.node = "n1", .alive = alive_7};
	unsigned released = 1;
	cr_assert_eq(hyp_reconcile_jobs(conn, &cfg, &o, &released, &err), 0, "%s", err.msg);
	cr_expect_eq(released, 0);
	virDomainPtr d = virDomainLookupByName(raw(conn), "hyperion-n1-9");
	cr_expect_not_null(d);
	virDomainFree(d);
	hyp_job_unlock(state, "n1", 9, lock, false);
	hyp_vm_disconnect(conn);
}

Test(vm, an_error_over_a_working_connection_is_not_a_node_fault)
{
	struct hyp_vm_conn *conn = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_vm_connect(&cfg, &conn, &err), 0, "%s", err.msg);
	cr_assert_null(virDomainCreateXML(raw(conn), "<domain type='test'><name>x</name>", 0));
	cr_expect_eq(hyp_fail_virt(raw(conn), &err, "starting domain 'x'"), -EIO);
	cr_expect(strstr(err.msg, "starting domain 'x': "), "%s", err.msg);
	hyp_vm_disconnect(conn);
}

Test(vm, slurm_reconciliation_leaves_other_schedulers_jobs)
{
	struct hyp_vm_conn *conn = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_vm_connect(&cfg, &conn, &err), 0, "%s", err.msg);
	define_running(raw(conn), "hyperion-n1-11");
	cr_assert_eq(hyp_node_dir_ensure(state, "n1", &err), 0, "%s", err.msg);
	_cleanup_free_ char *res = hyp_job_resources_path(state, "n1", 11);
	cr_assert_eq(hyp_resources_add(res, HYP_RES_MANAGER, HYP_MANAGER_PBS, &err), 0);
	cr_assert_eq(hyp_resources_add(res, HYP_RES_DOMAIN, "hyperion-n1-11", &err), 0);
	struct hyp_reconcile_opts o = {.node = "n1", .alive = alive_7, .manager = HYP_MANAGER_SLURM};
	unsigned released = 1;
	cr_assert_eq(hyp_reconcile_jobs(conn, &cfg, &o, &released, &err), 0, "%s", err.msg);
	cr_expect_eq(released, 0, "no slurmstepd says nothing of a PBS job");
	o.manager = HYP_MANAGER_PBS;
	cr_assert_eq(hyp_reconcile_jobs(conn, &cfg, &o, &released, &err), 0, "%s", err.msg);
	cr_expect_eq(released, 1);
	hyp_vm_disconnect(conn);
}

Test(vm, automatic_reconciliation_leaves_domains_listed_elsewhere)
{
	struct hyp_vm_conn *conn = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_vm_connect(&cfg, &conn, &err), 0, "%s", err.msg);
	/* Another state directory's VM on the same libvirtd (a PBS mom, a
	 * second cluster), unknown to this state directory. */
	define_running(raw(conn), "hyperion-n1-12");
	struct hyp_reconcile_opts o = {
	    .node = "n1", .alive = alive_7, .manager = HYP_MANAGER_SLURM, .listed_only = true};
	unsigned released = 1;
	cr_assert_eq(hyp_reconcile_jobs(conn, &cfg, &o, &released, &err), 0, "%s", err.msg);
	cr_expect_eq(released, 0, "no resource list here: not this state directory's to judge");
	virDomainPtr d = virDomainLookupByName(raw(conn), "hyperion-n1-12");
	cr_expect_not_null(d);
	virDomainFree(d);
	o.listed_only = false; /* an admin's hyperionctl reap: orphans go */
	cr_assert_eq(hyp_reconcile_jobs(conn, &cfg, &o, &released, &err), 0, "%s", err.msg);
	cr_expect_eq(released, 1);
	hyp_vm_disconnect(conn);
}

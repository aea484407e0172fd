/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What to boot, from a configuration, an image and an allocation on a real
 * machine's topology (test/data/topologies/24em64t-2n6c2t-pci.xml: 2
 * sockets x 6 cores x 2 threads; NUMA node 0 holds the even cpus, core k's
 * threads are cpus k and k+12 on socket 0).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_spec.h"
#include "hyp_topology.h"

#define TOPOLOGY "24em64t-2n6c2t-pci.xml"
#define GIB_KIB  (1024ULL * 1024)

static char dir[64];
static struct hyp_config cfg;
static struct hyp_topology *topo;

static const struct hyp_image appliance = {
    .name = "default",
    .kind = HYP_IMAGE_APPLIANCE,
    .kernel = "/var/lib/hyperion/appliance/vmlinuz",
    .initrd = "/var/lib/hyperion/appliance/initrd.img",
    .description = "the default appliance",
};

static const struct hyp_image disk = {
    .name = "deb12",
    .kind = HYP_IMAGE_DISK,
    .kernel = "/k/vmlinuz",
    .initrd = "/k/initrd.img",
    .cmdline = "rw",
    .disk = "/images/deb12.qcow2",
};

/* Loads `text` as hyperion.conf into cfg (freeing the previous one). */
static void configure(const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/hyperion.conf", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	hyp_config_free(&cfg);
	hyp_error err = {0};
	cr_assert_eq(hyp_config_load(path, &cfg, &err), 0, "%s", err.msg);
	unlink(path);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/hyp-test-spec.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	configure("state_dir = /run/hyperion\n");
	const char *tdir = getenv("HYP_TOPOLOGIES");
	cr_assert(tdir, "HYP_TOPOLOGIES is not set (run through meson test)");
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", tdir, TOPOLOGY);
	hyp_error err = {0};
	cr_assert_eq(hyp_topology_load(path, &topo, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
	hyp_topology_free(topo);
	hyp_config_free(&cfg);
	rmdir(dir);
}

TestSuite(spec, .init = setup, .fini = teardown);

#define CPUS(...)                                                                                  \
	.cpus = (unsigned[]){__VA_ARGS__},                                                         \
	.ncpus = sizeof((unsigned[]){__VA_ARGS__}) / sizeof(unsigned)

static const unsigned one_core[] = {0, 12}; /* both threads of core 0 */

static struct hyp_alloc alloc_of(unsigned long long memory_mb, const char *hugepages)
{
	return (struct hyp_alloc){
	    .job_id = 42,
	    .node = "n1",
	    .uid = 1000,
	    .gid = 1001,
	    .user = "alice",
	    .cpus = one_core,
	    .ncpus = 2,
	    .memory_mb = memory_mb,
	    .hugepages = hugepages,
	};
}

static void build(const struct hyp_image *img, const struct hyp_alloc *alloc,
                  struct hyp_vm_spec *spec)
{
	hyp_error err = {0};
	cr_assert_eq(hyp_spec_build(&cfg, img, topo, alloc, spec, &err), 0, "%s", err.msg);
}

/* Fails with exactly `want`; the output is left alone. */
static void expect_error(const struct hyp_image *img, const struct hyp_alloc *alloc,
                         const char *want)
{
	struct hyp_vm_spec spec = {.job_id = 4242};
	hyp_error err = {0};
	cr_assert_lt(hyp_spec_build(&cfg, img, topo, alloc, &spec, &err), 0, "built");
	cr_expect_str_eq(err.msg, want);
	cr_expect(spec.job_id == 4242 && !spec.name, "output written on failure");
}

Test(spec, appliance)
{
	struct hyp_alloc alloc = alloc_of(4096, NULL);
	_cleanup_(hyp_spec_free) struct hyp_vm_spec spec = {0};
	build(&appliance, &alloc, &spec);
	cr_expect_eq(spec.job_id, 42);
	cr_expect_eq(spec.uid, 1000);
	cr_expect_eq(spec.gid, 1001);
	cr_expect_str_eq(spec.user, "alice");
	cr_expect_str_eq(spec.node, "n1");
	cr_expect_str_eq(spec.name, "hyperion-n1-42");
	cr_expect_str_eq(spec.job_dir, "/run/hyperion/n1/job.42");
	cr_expect_str_eq(spec.console_log, "/run/hyperion/n1/job.42/console.log");
	cr_expect_str_eq(spec.ctl_socket, "/run/hyperion/n1/job.42/ctl.sock");
	cr_expect_null(spec.overlay, "appliances have no overlay");
	cr_expect_eq(spec.nexec_ports, 2 + 4, "one per cpu plus the spare ones");
	cr_expect_eq(spec.domain_type, HYP_DOMAIN_KVM);
	cr_expect_str_eq(spec.cpu_model, "host-passthrough");
	cr_expect_eq(spec.memory_mib, 4096 - 128);
	cr_expect_eq(spec.hugepage_kib, 0);

	cr_expect_str_eq(spec.image.name, "default");
	cr_expect(spec.image.kernel != appliance.kernel, "the image is copied");
	cr_expect_str_eq(spec.image.kernel, appliance.kernel);
	cr_expect_str_eq(spec.image.initrd, appliance.initrd);

	const struct hyp_placement *pl = &spec.placement;
	cr_assert_eq(pl->nvcpus, 2);
	cr_expect(pl->vcpus[0].host_cpu == 0 && pl->vcpus[1].host_cpu == 12);
	cr_expect(pl->sockets == 1 && pl->cores == 1 && pl->threads == 2);
	cr_assert_eq(pl->ncells, 1);
	cr_expect_eq(pl->cells[0].memory_kib, (4096 - 128) * 1024ULL);
	cr_expect_str_eq(pl->emulator_cpus, "0,12", "the allocation's cpus by default");
	cr_expect_str_eq(pl->host_nodes, "0");
}

Test(spec, disk_image_gets_an_overlay)
{
	struct hyp_alloc alloc = alloc_of(1024, NULL);
	_cleanup_(hyp_spec_free) struct hyp_vm_spec spec = {0};
	build(&disk, &alloc, &spec);
	cr_expect_str_eq(spec.overlay, "/run/hyperion/n1/job.42/overlay.qcow2");
	cr_expect_str_eq(spec.image.disk, "/images/deb12.qcow2");
	cr_expect_str_eq(spec.image.cmdline, "rw");
}

Test(spec, configuration_reaches_the_spec)
{
	configure("domain_type = qemu\nstate_dir = /tmp/st\nvmm_reserve_mb = 0\n"
	          "spare_exec_ports = 0\ncpu_model = Skylake-Server\nhousekeeping_cpus = 22-23\n");
	struct hyp_alloc alloc = {
	    .job_id = 7, .node = "n1", .user = "bob", CPUS(1, 3, 5, 13), .memory_mb = 64};
	_cleanup_(hyp_spec_free) struct hyp_vm_spec spec = {0};
	build(&appliance, &alloc, &spec);
	cr_expect_eq(spec.domain_type, HYP_DOMAIN_QEMU);
	cr_expect_str_eq(spec.job_dir, "/tmp/st/n1/job.7");
	cr_expect_str_eq(spec.name, "hyperion-n1-7");
	cr_expect_eq(spec.memory_mib, 64, "the smallest guest, without a reserve");
	cr_expect_eq(spec.nexec_ports, 4);
	cr_expect_str_eq(spec.cpu_model, "Skylake-Server");
	cr_expect_str_eq(spec.placement.emulator_cpus, "22-23");
}

Test(spec, too_little_memory_says_why)
{
	struct hyp_alloc alloc = alloc_of(100, NULL);
	expect_error(&appliance, &alloc,
	             "job 42: 100 MB allocated, 128 MB reserved for the VMM leaves 0 MB, at least "
	             "64 MB needed: ask for more memory");
	alloc.memory_mb = 191;
	expect_error(&appliance, &alloc,
	             "job 42: 191 MB allocated, 128 MB reserved for the VMM leaves 63 MB, at least "
	             "64 MB needed: ask for more memory");
	alloc.memory_mb = 192;
	_cleanup_(hyp_spec_free) struct hyp_vm_spec spec = {0};
	build(&appliance, &alloc, &spec);
	cr_expect_eq(spec.memory_mib, 64);
}

Test(spec, hugepages_round_memory_down_to_whole_pages)
{
	struct hyp_alloc alloc = alloc_of(4097, "2M");
	_cleanup_(hyp_spec_free) struct hyp_vm_spec spec = {0};
	build(&appliance, &alloc, &spec);
	cr_expect_eq(spec.hugepage_kib, 2048);
	cr_expect_eq(spec.memory_mib, 3968, "3969 MiB rounded down to 2 MiB pages");
	cr_expect_eq(spec.placement.cells[0].memory_kib, 3968 * 1024ULL);

	_cleanup_(hyp_spec_free) struct hyp_vm_spec big = {0};
	alloc = alloc_of(4096, "1g");
	build(&appliance, &alloc, &big);
	cr_expect_eq(big.hugepage_kib, GIB_KIB, "sizes in any case");
	cr_expect_eq(big.memory_mib, 3072, "3968 MiB rounded down to 1 GiB pages");
}

Test(spec, hugepages_default_from_the_configuration)
{
	configure("hugepages_allowed = none,2M\nhugepages = 2M\n");
	struct hyp_alloc alloc = alloc_of(1024, NULL);
	_cleanup_(hyp_spec_free) struct hyp_vm_spec spec = {0};
	build(&appliance, &alloc, &spec);
	cr_expect_eq(spec.hugepage_kib, 2048);

	_cleanup_(hyp_spec_free) struct hyp_vm_spec none = {0};
	alloc.hugepages = "none";
	build(&appliance, &alloc, &none);
	cr_expect_eq(none.hugepage_kib, 0, "the user's choice wins");
}

Test(spec, hugepages_must_be_allowed)
{
	configure("hugepages_allowed = none,2M\n");
	struct hyp_alloc alloc = alloc_of(4096, "1G");
	expect_error(&appliance, &alloc, "job 42: hugepages '1G' not allowed (allowed: none, 2M)");
	alloc.hugepages = "4M";
	expect_error(&appliance, &alloc, "job 42: hugepages '4M' not allowed (allowed: none, 2M)");
	alloc.hugepages = "";
	expect_error(&appliance, &alloc, "job 42: hugepages '' not allowed (allowed: none, 2M)");
}

Test(spec, too_little_memory_for_one_hugepage)
{
	struct hyp_alloc alloc = alloc_of(1100, "1G");
	expect_error(&appliance, &alloc,
	             "job 42: 1100 MB allocated, 128 MB reserved for the VMM leaves 972 MB, less "
	             "than 64 MB in whole 1G hugepages: ask for more memory or smaller hugepages");
}

/* Each guest cell is its own memory object in QEMU: whole pages each. */
Test(spec, hugepages_per_numa_cell)
{
	struct hyp_alloc alloc = alloc_of(5120 + 128, "1G");
	alloc.cpus = (unsigned[]){0, 1, 2, 4}; /* 3 cpus on node 0, 1 on node 1 */
	alloc.ncpus = 4;
	_cleanup_(hyp_spec_free) struct hyp_vm_spec spec = {0};
	build(&appliance, &alloc, &spec);
	const struct hyp_placement *pl = &spec.placement;
	cr_assert_eq(pl->ncells, 2);
	cr_expect_eq(pl->cells[0].memory_kib, 3 * GIB_KIB, "3840 MiB rounded down");
	cr_expect_eq(pl->cells[1].memory_kib, 2 * GIB_KIB, "the last cell takes the rest");

	alloc = alloc_of(1024 + 128, "1G");
	alloc.cpus = (unsigned[]){0, 1};
	alloc.ncpus = 2;
	expect_error(&appliance, &alloc,
	             "job 42: 1024 MB in 1G hugepages cannot give each of the 2 NUMA nodes of the "
	             "allocation a page: ask for more memory or smaller hugepages");
}

Test(spec, normal_pages_keep_the_placement_split)
{
	struct hyp_alloc alloc = alloc_of(1001 + 128, NULL);
	alloc.cpus = (unsigned[]){0, 1, 2, 4};
	alloc.ncpus = 4;
	_cleanup_(hyp_spec_free) struct hyp_vm_spec spec = {0};
	build(&appliance, &alloc, &spec);
	cr_expect_eq(spec.placement.cells[0].memory_kib, 750 * 1024ULL);
	cr_expect_eq(spec.placement.cells[1].memory_kib, 251 * 1024ULL);
}

Test(spec, placement_errors_name_the_job)
{
	struct hyp_alloc alloc = alloc_of(1024, NULL);
	alloc.cpus = (unsigned[]){0, 24};
	alloc.ncpus = 2;
	expect_error(&appliance, &alloc,
	             "job 42: placement: cpu 24 is not on this machine (cpus 0-23)");
	configure("housekeeping_cpus = 30\n");
	alloc = alloc_of(1024, NULL);
	expect_error(&appliance, &alloc,
	             "job 42: housekeeping cpus '30': cpu 30 is not on this machine (cpus 0-23)");
}

Test(spec, free_is_idempotent)
{
	struct hyp_alloc alloc = alloc_of(1024, NULL);
	struct hyp_vm_spec spec = {0};
	build(&disk, &alloc, &spec);
	hyp_spec_free(&spec);
	cr_expect_null(spec.name);
	hyp_spec_free(&spec);
	hyp_spec_free(NULL);
}

Test(spec, shares_within_the_allowlist)
{
	configure("state_dir = /run/hyperion\nshares = /home /scratch/\n");
	struct hyp_alloc alloc = alloc_of(1024, NULL);
	struct hyp_vm_spec spec = {0};
	build(&appliance, &alloc, &spec);
	cr_assert_eq(spec.nshares, 2, "no choice: every allowed share");
	cr_expect_str_eq(spec.shares[0].path, "/home");
	cr_expect_str_eq(spec.shares[0].tag, "hypfs0");
	cr_expect_str_eq(spec.shares[0].socket, "/run/hyperion/n1/job.42/fs.0.sock");
	cr_expect_str_eq(spec.shares[1].path, "/scratch");
	cr_expect_str_eq(spec.shares[1].socket, "/run/hyperion/n1/job.42/fs.1.sock");
	cr_expect_str_eq(spec.virtiofsd, "/usr/lib/qemu/virtiofsd");
	cr_expect(strstr(spec.boot_params, "hyperion.shares=hypfs0:/home,hypfs1:/scratch"), "%s",
	          spec.boot_params);
	cr_expect(strstr(spec.boot_params, "hyperion.hostname=n1"), "%s", spec.boot_params);
	hyp_spec_free(&spec);

	alloc.shares = "/home/alice//run1/,/scratch";
	build(&appliance, &alloc, &spec);
	cr_assert_eq(spec.nshares, 2);
	cr_expect_str_eq(spec.shares[0].path, "/home/alice/run1");
	cr_expect_str_eq(spec.shares[0].root, "/home");
	hyp_spec_free(&spec);

	alloc.shares = "none";
	build(&appliance, &alloc, &spec);
	cr_expect_eq(spec.nshares, 0);
	cr_expect(strstr(spec.boot_params, "hyperion.shares="), "%s", spec.boot_params);
	hyp_spec_free(&spec);

	alloc.shares = "/etc";
	expect_error(&appliance, &alloc,
	             "job 42: share '/etc' is not allowed on this site (allowed: /home /scratch)");
	alloc.shares = "/homework";
	expect_error(&appliance, &alloc,
	             "job 42: share '/homework' is not allowed on this site (allowed: /home "
	             "/scratch)");
	alloc.shares = "/home/../etc";
	expect_error(&appliance, &alloc, "job 42: shares: '/home/../etc' holds '..'");
}

Test(spec, no_shares_by_default)
{
	struct hyp_alloc alloc = alloc_of(1024, NULL);
	struct hyp_vm_spec spec = {0};
	build(&appliance, &alloc, &spec);
	cr_expect_eq(spec.nshares, 0);
	hyp_spec_free(&spec);
	alloc.shares = "/home";
	expect_error(&appliance, &alloc,
	             "job 42: share '/home' is not allowed on this site (allowed: none)");
}

Test(spec, groups_that_do_not_fit_the_command_line_are_left_out)
{
	static struct hyp_guest_group groups[200];
	static char names[200][40];
	for (int i = 0; i < 200; i++) {
		snprintf(names[i], sizeof(names[i]), "a-rather-long-group-name-%03d", i);
		groups[i] = (struct hyp_guest_group){.name = names[i], .gid = 5000 + (gid_t)i};
	}
	struct hyp_guest_user guest = {.name = "alice",
	                               .uid = 1000,
	                               .gid = 5000,
	                               .home = "/home/alice",
	                               .groups = groups,
	                               .ngroups = 200};
	struct hyp_alloc alloc = alloc_of(1024, NULL);
	alloc.guest = &guest;
	struct hyp_vm_spec spec = {0};
	build(&disk, &alloc, &spec);
	size_t len = strlen(spec.boot_params);
	cr_expect_leq(len + HYP_BOOT_BASE_RESERVE + strlen(disk.cmdline), HYP_CMDLINE_MAX - 1);
	cr_expect(strstr(spec.boot_params, "a-rather-long-group-name-000:5000"));
	cr_expect_null(strstr(spec.boot_params, "a-rather-long-group-name-199"));
	cr_expect(strstr(spec.boot_params, "hyperion.user=alice:1000:5000:/home/alice"));
	hyp_spec_free(&spec);
}

Test(spec, guest_network_in_the_boot_words)
{
	configure("state_dir = /run/hyperion\nnetwork_mtu = 1400\n");
	struct hyp_alloc alloc = alloc_of(1024, NULL);
	alloc.nodes = "n[0-2]";
	struct hyp_vm_spec spec = {0};
	build(&appliance, &alloc, &spec);
	cr_expect_eq(spec.net.mode, HYP_NET_BRIDGE);
	cr_expect_eq(spec.net.index, 1);
	cr_expect(strstr(spec.boot_params, " hyperion.net=02:00:00:2a:00:01,10.42.0.2/16,1400 "
	                                   "hyperion.hosts=10.42.0.1,n%5B0-2%5D"),
	          "%s", spec.boot_params);
	hyp_spec_free(&spec);

	configure("state_dir = /run/hyperion\nnetwork = none\n");
	build(&appliance, &alloc, &spec);
	cr_expect_eq(spec.net.mode, HYP_NET_NONE);
	cr_expect_null(strstr(spec.boot_params, "hyperion.net="), "%s", spec.boot_params);
	hyp_spec_free(&spec);

	configure("state_dir = /run/hyperion\n");
	alloc.nodes = "m[0-2]";
	expect_error(&appliance, &alloc,
	             "job 42: guest network: node 'n1' is not in the job's nodes 'm[0-2]'");
}

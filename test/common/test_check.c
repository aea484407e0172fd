/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Node readiness checks on a fake node tree; libvirt is its test driver. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyp_check.h"

static char root[64], report[8192];
static struct hyp_config cfg;

static void mkdirs(const char *rel, mode_t mode)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s%s' && chmod %o '%s%s'", root, rel, mode, root,
	         rel);
	cr_assert_eq(system(cmd), 0);
}

static void touch(const char *rel, mode_t mode)
{
	char path[256];
	snprintf(path, sizeof(path), "%s%s", root, rel);
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, mode);
	cr_assert_geq(fd, 0, "%s", path);
	fchmod(fd, mode);
	close(fd);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/hyp-test-check.XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	chmod(root, 0755);
	mkdirs("/dev", 0755);
	mkdirs("/var/lib/libvirt/qemu", 0751);
	mkdirs("/images.d", 0755);
	mkdirs("/sys/kernel/mm/hugepages/hugepages-2048kB", 0755);
	static char catalog[128], state[128];
	snprintf(catalog, sizeof(catalog), "%s/images.d", root);
	snprintf(state, sizeof(state), "%s/state", root);
	cfg = (struct hyp_config){.libvirt_uri = "test:///default",
	                          .domain_type = HYP_DOMAIN_QEMU,
	                          .state_dir = state,
	                          .image_catalog = catalog,
	                          .hugepages_allowed = "none,2M",
	                          .hugepages_default = "none"};
	report[0] = '\0';
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(check, .init = setup, .fini = teardown);

static void collect(void *data, enum hyp_check_status st, const char *name, const char *detail)
{
	size_t len = strlen(report);
	snprintf(report + len, sizeof(report) - len, "%s %s: %s\n", hyp_check_status_name(st), name,
	         detail);
}

/* An appliance image whose kernel and initrd are root's, in the fake tree. */
static void add_image(const char *name, bool with_kernel)
{
	char path[256], text[512];
	snprintf(path, sizeof(path), "/boot-%s", name);
	mkdirs(path, 0755);
	if (with_kernel) {
		snprintf(path, sizeof(path), "/boot-%s/vmlinuz", name);
		touch(path, 0644);
	}
	snprintf(path, sizeof(path), "/boot-%s/initrd.img", name);
	touch(path, 0644);
	snprintf(text, sizeof(text),
	         "[image %s]\nkind = appliance\nkernel = %s/boot-%s/vmlinuz\n"
	         "initrd = %s/boot-%s/initrd.img\n",
	         name, root, name, root, name);
	snprintf(path, sizeof(path), "%s/images.d/%s.conf", root, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

Test(check, a_ready_tcg_node_advertises_hyperion_tcg)
{
	if (geteuid() != 0)
		cr_skip_test("image files must be root's (running as uid %u)", (unsigned)geteuid());
	add_image("default", true);
	touch("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", 0644);
	struct hyp_capabilities caps;
	int failures = hyp_check_node(&cfg, root, collect, NULL, &caps);
	cr_expect_eq(failures, 0, "%s", report);
	cr_expect(strstr(report, "ok kvm: domain_type = qemu"), "%s", report);
	cr_expect(strstr(report, "ok image default:"), "%s", report);
	cr_expect(strstr(report, "skip vfio: no IOMMU groups"), "%s", report);
	cr_expect(strstr(report, "skip vf_pools: no [vf_pool] configured"), "%s", report);
	char features[128];
	hyp_check_features(&caps, failures, features, sizeof(features));
	cr_expect_str_eq(features, "hyperion,hyperion_tcg");
}

Test(check, a_broken_image_is_named_and_fails_only_its_jobs)
{
	if (geteuid() != 0)
		cr_skip_test("image files must be root's (running as uid %u)", (unsigned)geteuid());
	add_image("default", true);
	add_image("rocky9", false);
	struct hyp_capabilities caps;
	int failures = hyp_check_node(&cfg, root, collect, NULL, &caps);
	cr_expect_eq(failures, 0, "%s", report);
	cr_expect(strstr(report, "warn image rocky9: ") && strstr(report, "vmlinuz"), "%s", report);
}

Test(check, without_a_usable_image_the_node_advertises_nothing)
{
	add_image("rocky9", false);
	struct hyp_capabilities caps;
	int failures = hyp_check_node(&cfg, root, collect, NULL, &caps);
	cr_expect_eq(failures, 1, "%s", report);
	cr_expect(strstr(report, "FAIL images: ") && strstr(report, "no usable image"), "%s",
	          report);
	char features[128];
	hyp_check_features(&caps, failures, features, sizeof(features));
	cr_expect_str_eq(features, "");
}

Test(check, kvm_needs_a_dev_kvm_the_job_users_can_open)
{
	cfg.domain_type = HYP_DOMAIN_KVM;
	struct hyp_capabilities caps;
	hyp_check_node(&cfg, root, collect, NULL, &caps);
	cr_expect(strstr(report, "FAIL kvm: ") && strstr(report, "/dev/kvm"), "%s", report);
	cr_expect_not(caps.kvm);
	report[0] = '\0';
	touch("/dev/kvm", 0660);
	hyp_check_node(&cfg, root, collect, NULL, &caps);
	cr_expect(strstr(report, "needs it 0666"), "%s", report);
	report[0] = '\0';
	touch("/dev/kvm", 0666);
	hyp_check_node(&cfg, root, collect, NULL, &caps);
	cr_expect(strstr(report, "ok kvm: "), "%s", report);
	cr_expect(caps.kvm);
}

Test(check, libvirt_dirs_and_vfio)
{
	mkdirs("/var/lib/libvirt/qemu", 0750);
	mkdirs("/sys/kernel/iommu_groups/7", 0755);
	mkdirs("/dev/vfio", 0755);
	touch("/dev/vfio/vfio", 0666);
	struct hyp_capabilities caps;
	hyp_check_node(&cfg, root, collect, NULL, &caps);
	cr_expect(strstr(report, "FAIL libvirt-dir: ") && strstr(report, "chmod o+x"), "%s",
	          report);
	cr_expect(strstr(report, "ok vfio: "), "%s", report);
	cr_expect(caps.vfio);
	cr_expect(strstr(report, "ok libvirt: libvirtd answers at test:///default"), "%s", report);
}

Test(check, the_default_hugepage_size_needs_free_pages)
{
	cfg.hugepages_default = "2M";
	FILE *f = fopen(strcat(strcpy((char[256]){0}, root),
	                       "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"),
	                "w");
	fputs("0\n", f);
	fclose(f);
	hyp_check_node(&cfg, root, collect, NULL, NULL);
	cr_expect(strstr(report, "FAIL hugepages 2M: the default (hugepages = 2M) has 0 free"),
	          "%s", report);
}

Test(check, a_vf_pool_without_its_pf_warns)
{
	char *pfs[] = {"0000:0b:00.0", NULL};
	struct hyp_vf_pool pool = {.name = "fabric", .pfs = pfs, .mac_prefix_len = 3};
	cfg.devices.pools = &pool;
	cfg.devices.npools = 1;
	int failures = hyp_check_node(&cfg, root, collect, NULL, NULL);
	cr_expect(strstr(report, "warn vf_pool fabric: VF pool 'fabric': PCI device 0000:0b:00.0: "
	                         "not in"),
	          "%s", report);
	cr_expect_eq(strstr(report, "FAIL vf_pool"), NULL, "a device never fails the node");
	(void)failures;
}

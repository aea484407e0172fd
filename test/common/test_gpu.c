/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI functions from a fake sysfs, and Slurm's GPU indexes through gres.conf
 * to PCI addresses: File= lists with NodeName= ranges, /dev/nvidiaN through
 * the NVIDIA driver's /proc entry, /dev/dri through sysfs, the admin's
 * gpu_devices map, AutoDetect=nvml, and the errors.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "fake_sysfs.h"
#include "hyp_cleanup.h"
#include "hyp_config.h"
#include "hyp_gpu.h"
#include "hyp_pci.h"

static struct fake_host host;
static char gres[PATH_MAX];

static void setup(void)
{
	fake_host_init(&host);
	snprintf(gres, sizeof(gres), "%s/gres.conf", host.root);
}

static void teardown(void)
{
	fake_host_free(&host);
}

TestSuite(gpu, .init = setup, .fini = teardown);

Test(gpu, pci_addresses_parse_and_format)
{
	struct hyp_pci_addr a;
	char buf[HYP_PCI_NAME_MAX];
	hyp_error err = {0};
	cr_assert_eq(hyp_pci_addr_parse("0000:3b:00.0", &a, &err), 0, "%s", err.msg);
	cr_expect(a.domain == 0 && a.bus == 0x3b && a.slot == 0 && a.function == 0);
	cr_assert_eq(hyp_pci_addr_parse("84:1f.7", &a, &err), 0, "%s", err.msg);
	hyp_pci_addr_format(&a, buf);
	cr_expect_str_eq(buf, "0000:84:1f.7");
	const char *bad[] = {"",
	                     "3b:00",
	                     "0000:3b:00.8",
	                     "0000:3b:20.0",
	                     "0000:3b:00.0x",
	                     "/dev/nvidia0",
	                     "0000:3b:00.0 "};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(hyp_pci_addr_parse(bad[i], &a, &err), -EINVAL, "'%s'", bad[i]);
		cr_expect(strstr(err.msg, "is not a PCI address"), "%s", err.msg);
	}
}

Test(gpu, a_function_as_sysfs_shows_it)
{
	fake_dev(&host, "0000:06:00.0", 1, 12, 0x030200, 0x10de, "nvidia");
	fake_dev(&host, "0000:06:00.1", -1, 12, 0x040300, 0x10de, NULL);
	fake_dev(&host, "0000:00:03.0", 0, 12, 0x060400, 0x8086, "pcieport");
	struct hyp_pci_dev d;
	hyp_error err = {0};
	cr_assert_eq(hyp_pci_read(host.sys, "06:00.0", &d, &err), 0, "%s", err.msg);
	cr_expect_str_eq(d.name, "0000:06:00.0");
	cr_expect_eq(d.numa_node, 1);
	cr_expect_eq(d.iommu_group, 12);
	cr_expect_str_eq(d.driver, "nvidia");
	cr_expect_eq(d.class_code, 0x030200u);
	cr_expect_not(hyp_pci_is_bridge(&d));
	cr_assert_eq(hyp_pci_read(host.sys, "0000:06:00.1", &d, &err), 0, "%s", err.msg);
	cr_expect_eq(d.numa_node, -1);
	cr_expect_str_eq(d.driver, "");
	cr_assert_eq(hyp_pci_read(host.sys, "0000:00:03.0", &d, &err), 0, "%s", err.msg);
	cr_expect(hyp_pci_is_bridge(&d));
	cr_expect_eq(hyp_pci_read(host.sys, "0000:07:00.0", &d, &err), -ENOENT);
	cr_expect(strstr(err.msg, "0000:07:00.0: not in"), "%s", err.msg);

	_cleanup_strv_ char **members = NULL, **slot = NULL;
	cr_assert_eq(hyp_pci_group_members(host.sys, 12, &members, &err), 0, "%s", err.msg);
	cr_assert(members[0] && members[1] && members[2] && !members[3]);
	cr_expect_str_eq(members[0], "0000:00:03.0");
	cr_expect_str_eq(members[2], "0000:06:00.1");
	struct hyp_pci_addr a = {.bus = 6};
	cr_assert_eq(hyp_pci_slot_functions(host.sys, &a, &slot, &err), 0, "%s", err.msg);
	cr_assert(slot[0] && slot[1] && !slot[2]);
	cr_expect_str_eq(slot[1], "0000:06:00.1");
}

Test(gpu, virtual_functions_in_virtfn_order)
{
	fake_vfs(&host, "0000:0b:00.0", 3, 0, 20);
	_cleanup_strv_ char **vfs = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_pci_vfs(host.sys, "0000:0b:00.0", &vfs, &err), 0, "%s", err.msg);
	cr_assert(vfs[0] && vfs[1] && vfs[2] && !vfs[3]);
	cr_expect_str_eq(vfs[0], "0000:0b:00.1");
	cr_expect_str_eq(vfs[2], "0000:0b:00.3");
	struct hyp_pci_dev d;
	cr_assert_eq(hyp_pci_read(host.sys, vfs[1], &d, &err), 0, "%s", err.msg);
	cr_expect_str_eq(d.physfn, "0000:0b:00.0");
	fake_dev(&host, "0000:0c:00.0", 0, 40, 0x020000, 0x1137, "enic");
	cr_expect_eq(hyp_pci_vfs(host.sys, "0000:0c:00.0", &vfs, &err), -ENODEV);
	cr_expect(strstr(err.msg, "no virtual functions (sriov_numvfs is 0"), "%s", err.msg);
}

static void load_cfg(struct hyp_config *cfg, const char *text)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/hyperion.conf", host.root);
	fake_write(text, "%s", path);
	hyp_error err = {0};
	cr_assert_eq(hyp_config_load(path, cfg, &err), 0, "%s", err.msg);
}

static struct hyp_hostfs fs(void)
{
	return (struct hyp_hostfs){.sys = host.sys, .proc = host.proc};
}

Test(gpu, gres_conf_file_lists_for_this_node_in_order)
{
	fake_write("# a comment\n"
	           "AutoDetect=off\n"
	           "NodeName=gpu[01-04] Name=gpu Type=v100 File=/dev/nvidia[0-1] Cores=0-5\n"
	           "NodeName=gpu[01-04] Name=gpu Type=v100 File=/dev/nvidia3,/dev/nvidia2\n"
	           "NodeName=other Name=gpu File=/dev/nvidia[4-7]\n"
	           "Name=mps Count=100\n"
	           "nodename=gpu02,gpu09 name=GPU file=/dev/dri/renderD128\n",
	           "%s", gres);
	_cleanup_strv_ char **files = NULL;
	bool nvml = true;
	hyp_error err = {0};
	cr_assert_eq(hyp_gres_gpu_files(gres, "gpu02", &files, &nvml, &err), 0, "%s", err.msg);
	cr_expect_not(nvml);
	const char *want[] = {"/dev/nvidia0", "/dev/nvidia1", "/dev/nvidia3", "/dev/nvidia2",
	                      "/dev/dri/renderD128"};
	for (size_t i = 0; i < 5; i++) {
		cr_assert_not_null(files[i]);
		cr_expect_str_eq(files[i], want[i]);
	}
	cr_expect_null(files[5]);
	hyp_strv_free(steal_pointer(&files));
	cr_assert_eq(hyp_gres_gpu_files(gres, "gpu05", &files, &nvml, &err), 0, "%s", err.msg);
	cr_expect_null(files[0], "gpu05 is in no NodeName= range");
}

/* A bracket holds decimal numbers only: strtoul's "-1" (ULONG_MAX) or a
 * number at ULONG_MAX once made the NodeName= walk wrap around forever. */
Test(gpu, gres_conf_brackets_take_digits_only, .timeout = 10)
{
	const char *bad[] = {"n[-1]",   "n[18446744073709551615]",
	                     "n[ 1]",   "n[+1]",
	                     "n[1--2]", "n[1-+2]",
	                     "n[0x1]",  "n[1234567890]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[128];
		snprintf(line, sizeof(line), "NodeName=%s Name=gpu File=/dev/nvidia0\n", bad[i]);
		fake_write(line, "%s", gres);
		_cleanup_strv_ char **files = NULL;
		bool nvml;
		hyp_error err = {0};
		cr_expect_lt(hyp_gres_gpu_files(gres, "n1", &files, &nvml, &err), 0, "%s", bad[i]);
		cr_expect(strstr(err.msg, "gres.conf:1"), "%s: %s", bad[i], err.msg);
	}
}

Test(gpu, slurm_indexes_to_pci_addresses)
{
	fake_write("NodeName=n1 Name=gpu File=/dev/nvidia[0-1]\n"
	           "NodeName=n1 Name=gpu File=/dev/dri/renderD129\n"
	           "NodeName=n1 Name=gpu File=/dev/fakegpu0\n",
	           "%s", gres);
	fake_dev(&host, "0000:3b:00.0", 0, 1, 0x030200, 0x10de, "nvidia");
	fake_dev(&host, "0000:af:00.0", 1, 2, 0x030200, 0x10de, "nvidia");
	fake_nvidia(&host, "0000:3b:00.0", 1); /* minors need not follow bus order */
	fake_nvidia(&host, "0000:af:00.0", 0);
	fake_dev(&host, "0000:d8:00.0", 1, 3, 0x030000, 0x1002, "amdgpu");
	fake_mkdirs("%s/class/drm/renderD129", host.sys);
	fake_link("../../../devices/pci0000:00/0000:d8:00.0", "%s/class/drm/renderD129/device",
	          host.sys);
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	char text[PATH_MAX + 100];
	snprintf(text, sizeof(text), "gres_conf = %s\ngpu_devices = /dev/fakegpu0=0:5e:0.0\n",
	         gres);
	load_cfg(&cfg, text);
	struct hyp_hostfs f = fs();
	_cleanup_strv_ char **pcis = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_gpu_from_gres(&cfg.devices, &f, "n1", "0,1,2,3", &pcis, &err), 0, "%s",
	             err.msg);
	cr_expect_str_eq(pcis[0], "0000:af:00.0", "nvidia0 is minor 0");
	cr_expect_str_eq(pcis[1], "0000:3b:00.0");
	cr_expect_str_eq(pcis[2], "0000:d8:00.0", "through /sys/class/drm");
	cr_expect_str_eq(pcis[3], "0000:5e:00.0", "through gpu_devices");
	cr_expect_null(pcis[4]);

	cr_expect_eq(hyp_gpu_from_gres(&cfg.devices, &f, "n1", "4", &pcis, &err), -EINVAL);
	cr_expect(strstr(err.msg, "Slurm allocated GPU 4, but") && strstr(err.msg, "lists 4 GPUs"),
	          "%s", err.msg);
	fake_write("NodeName=n1 Name=gpu File=/dev/nvidia7\n", "%s", gres);
	cr_expect_eq(hyp_gpu_from_gres(&cfg.devices, &f, "n1", "0", &pcis, &err), -ENOENT);
	cr_expect(strstr(err.msg, "/dev/nvidia7: cannot tell its PCI device") &&
	              strstr(err.msg, "gpu_devices = /dev/nvidia7=PCI-ADDRESS"),
	          "%s", err.msg);
}

Test(gpu, autodetect_nvml_is_pci_bus_order)
{
	fake_write("AutoDetect=nvml\nName=gpu Count=2\n", "%s", gres);
	fake_dev(&host, "0000:af:00.0", 1, 2, 0x030200, 0x10de, "nvidia");
	fake_dev(&host, "0000:3b:00.0", 0, 1, 0x030200, 0x10de, "nvidia");
	fake_dev(&host, "0000:3b:00.1", 0, 1, 0x040300, 0x10de, NULL); /* audio: not a GPU */
	fake_dev(&host, "0000:02:00.0", 0, 3, 0x030000, 0x102b, NULL); /* BMC VGA: not NVIDIA */
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	char text[PATH_MAX + 32];
	snprintf(text, sizeof(text), "gres_conf = %s\n", gres);
	load_cfg(&cfg, text);
	struct hyp_hostfs f = fs();
	_cleanup_strv_ char **pcis = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_gpu_from_gres(&cfg.devices, &f, "n1", "1", &pcis, &err), 0, "%s", err.msg);
	cr_expect_str_eq(pcis[0], "0000:af:00.0");
	cr_expect_eq(hyp_gpu_from_gres(&cfg.devices, &f, "n1", "2", &pcis, &err), -EINVAL);
	cr_expect(strstr(err.msg, "AutoDetect=nvml"), "%s", err.msg);
}

Test(gpu, a_missing_gres_conf_is_named)
{
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	load_cfg(&cfg, "gres_conf = /nonexistent/gres.conf\n");
	struct hyp_hostfs f = fs();
	_cleanup_strv_ char **pcis = NULL;
	hyp_error err = {0};
	cr_expect_eq(hyp_gpu_from_gres(&cfg.devices, &f, "n1", "0", &pcis, &err), -ENOENT);
	cr_expect(strstr(err.msg, "gres.conf '/nonexistent/gres.conf'"), "%s", err.msg);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A job's devices into its domain, on the real machines of
 * test/data/topologies with fake sysfs trees: a GPU on each socket, two GPUs
 * across sockets, a GPU remote from the job's cores, a GPU whose IOMMU group
 * holds a device the job was not given, a multi-function GPU, VFs local to
 * the job and remote from it. Each domain validates against libvirt's schema
 * and is checked element by element. Then the checks before boot.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "fake_sysfs.h"
#include "hyp_cleanup.h"
#include "hyp_config.h"
#include "hyp_devices.h"
#include "hyp_domain_xml.h"
#include "hyp_spec.h"
#include "hyp_topology.h"
#include "xml_validate.h"

static struct fake_host host;

struct built {
	struct hyp_config cfg;
	struct hyp_topology *topo;
	unsigned *cpus;
	size_t ncpus;
	struct hyp_vm_spec spec;
	char *xml;
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
};

static void setup(void)
{
	fake_host_init(&host);
}

static void teardown(void)
{
	fake_host_free(&host);
}

TestSuite(devices, .init = setup, .fini = teardown);

static void load_config(struct hyp_config *cfg)
{
	char path[PATH_MAX], text[1024];
	snprintf(path, sizeof(path), "%s/hyperion.conf", host.root);
	snprintf(text, sizeof(text),
	         "domain_type = kvm\nstate_dir = %s/state\n"
	         "[vf_pool fabric]\npf = 0000:0b:00.0 0000:88:00.0\nvlan = 42\n"
	         "mac_prefix = 52:54:01\n",
	         host.root);
	fake_write(text, "%s", path);
	hyp_error err = {0};
	cr_assert_eq(hyp_config_load(path, cfg, &err), 0, "%s", err.msg);
}

/* Spec and devices for `cores` of `machine`; the XML when it resolves. */
static int build(const char *machine, const char *cores, const char *gpus, const char *vfs,
                 struct built *b, hyp_error *err)
{
	static char kernel[] = "/boot/vmlinuz", name[] = "default";
	const struct hyp_image img = {.name = name, .kind = HYP_IMAGE_APPLIANCE, .kernel = kernel};
	char path[PATH_MAX];
	const char *dir = getenv("HYP_TOPOLOGIES");
	cr_assert(dir, "HYP_TOPOLOGIES is not set (run through meson test)");
	snprintf(path, sizeof(path), "%s/%s", dir, machine);
	load_config(&b->cfg);
	cr_assert_eq(hyp_topology_load(path, &b->topo, err), 0, "%s", err->msg);
	cr_assert_eq(hyp_topology_cores_to_cpus(b->topo, cores, 0, &b->cpus, &b->ncpus, err), 0);
	struct hyp_alloc alloc = {.job_id = 7110,
	                          .node = "n1",
	                          .uid = 1000,
	                          .gid = 1000,
	                          .user = "alice",
	                          .cpus = b->cpus,
	                          .ncpus = b->ncpus,
	                          .memory_mb = 8192};
	cr_assert_eq(hyp_spec_build(&b->cfg, &img, b->topo, &alloc, &b->spec, err), 0, "%s",
	             err->msg);
	struct hyp_devices_request req = {.gpus = gpus, .vfs = vfs, .fs.sys = host.sys};
	int r = hyp_devices_prepare(&b->cfg, b->topo, &req, &b->spec, err);
	if (r < 0)
		return r;
	cr_assert_eq(hyp_domain_xml(&b->spec, &b->xml, err), 0, "%s", err->msg);
	validate(b->xml);
	b->doc = xmlReadMemory(b->xml, (int)strlen(b->xml), "d.xml", NULL, XML_PARSE_NONET);
	cr_assert_not_null(b->doc);
	b->ctx = xmlXPathNewContext(b->doc);
	return 0;
}

static void built_free(struct built *b)
{
	xmlXPathFreeContext(b->ctx);
	xmlFreeDoc(b->doc);
	free(b->xml);
	hyp_spec_free(&b->spec);
	free(b->cpus);
	hyp_topology_free(b->topo);
	hyp_config_free(&b->cfg);
}

static void expect_xpath(const struct built *b, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void expect_xpath(const struct built *b, const char *want, const char *fmt, ...)
{
	char expr[512], full[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(expr, sizeof(expr), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "string(%s)", expr);
	xmlXPathObjectPtr res = xmlXPathEvalExpression(BAD_CAST full, b->ctx);
	cr_assert_not_null(res);
	cr_expect_str_eq((char *)res->stringval, want, "%s\n%s", expr, b->xml);
	xmlXPathFreeObject(res);
}

#define CTL  "/domain/devices/controller"
#define PXB  CTL "[@model='pcie-expander-bus']"
#define PORT CTL "[@model='pcie-root-port']"
#define HDEV "/domain/devices/hostdev"
#define IF   "/domain/devices/interface[@type='hostdev']"

/* The hostdev whose host function is bus:slot.function sits on root port
 * `port`, which sits on expander bus `pxb` (0: on pcie-root). */
static void expect_gpu_on(const struct built *b, unsigned bus, unsigned fn, unsigned port,
                          unsigned pxb)
{
	char sel[160], v[16];
	snprintf(sel, sizeof(sel),
	         HDEV "[source/address/@bus='0x%02x' and source/address/"
	              "@function='0x%x']",
	         bus, fn);
	expect_xpath(b, "1", "count(%s)", sel);
	expect_xpath(b, "subsystem", "%s/@mode", sel);
	expect_xpath(b, "pci", "%s/@type", sel);
	expect_xpath(b, "yes", "%s/@managed", sel);
	expect_xpath(b, "0x0000", "%s/source/address/@domain", sel);
	expect_xpath(b, "0x00", "%s/source/address/@slot", sel);
	snprintf(v, sizeof(v), "0x%02x", port);
	expect_xpath(b, v, "%s/address/@bus", sel);
	snprintf(v, sizeof(v), "0x%x", fn);
	expect_xpath(b, v, "%s/address/@function", sel);
	snprintf(v, sizeof(v), "%u", port);
	expect_xpath(b, "1", "count(" PORT "[@index='%u'])", port);
	snprintf(v, sizeof(v), pxb ? "0x%02x" : "", pxb);
	expect_xpath(b, v, PORT "[@index='%u']/address/@bus", port);
}

static void expect_pxb(const struct built *b, unsigned index, const char *cell, const char *busnr)
{
	expect_xpath(b, cell, PXB "[@index='%u']/target/node", index);
	expect_xpath(b, busnr, PXB "[@index='%u']/target/@busNr", index);
	expect_xpath(b, "pxb-pcie", PXB "[@index='%u']/model/@name", index);
}

/* 24em64t-2n6c2t-pci.xml: NVIDIA GPUs at 06:00.0 (NUMA node 0), 14:00.0 and
 * 11:00.0 (node 1); cores 0-5 are socket 0 (node 0), 6-11 socket 1. Each GPU
 * in its own IOMMU group; sysfs does not say the NUMA node (-1) for 06:00.0,
 * so it comes from the topology, as on machines whose firmware omits it. */
static void gpus_of_24em64t(void)
{
	fake_dev(&host, "0000:06:00.0", -1, 6, 0x030200, 0x10de, "nvidia");
	fake_dev(&host, "0000:14:00.0", 1, 14, 0x030200, 0x10de, "nvidia");
	fake_dev(&host, "0000:11:00.0", 1, 11, 0x030200, 0x10de, "vfio-pci");
	fake_dev(&host, "0000:05:00.0", 0, 5, 0x0c0600, 0x15b3, "mlx4_core");
}

Test(devices, a_gpu_on_socket_0)
{
	gpus_of_24em64t();
	struct built b = {0};
	hyp_error err = {0};
	cr_assert_eq(build("24em64t-2n6c2t-pci.xml", "0-5", "0000:06:00.0", NULL, &b, &err), 0,
	             "%s", err.msg);
	cr_assert_not_null(b.spec.devices);
	cr_expect_eq(b.spec.devices->slots[0].host_node, 0, "from the topology");
	expect_xpath(&b, "1", "count(" PXB ")");
	expect_pxb(&b, 1, "0", "239");
	expect_xpath(&b, "1", "count(" HDEV ")");
	expect_gpu_on(&b, 0x06, 0, 2, 1);
	expect_xpath(&b, "", HDEV "/address/@multifunction");
	built_free(&b);
}

Test(devices, a_gpu_on_socket_1)
{
	gpus_of_24em64t();
	struct built b = {0};
	hyp_error err = {0};
	cr_assert_eq(build("24em64t-2n6c2t-pci.xml", "6-11", "14:00.0", NULL, &b, &err), 0, "%s",
	             err.msg);
	expect_xpath(&b, "1", "/domain/numatune/memnode[@cellid='0']/@nodeset");
	expect_pxb(&b, 1, "0", "239"); /* guest cell 0 is host node 1 */
	expect_gpu_on(&b, 0x14, 0, 2, 1);
	built_free(&b);
}

Test(devices, two_gpus_across_sockets)
{
	gpus_of_24em64t();
	struct built b = {0};
	hyp_error err = {0};
	cr_assert_eq(
	    build("24em64t-2n6c2t-pci.xml", "0-11", "0000:14:00.0,0000:06:00.0", NULL, &b, &err), 0,
	    "%s", err.msg);
	expect_xpath(&b, "2", "count(" PXB ")");
	expect_pxb(&b, 1, "0", "223");
	expect_pxb(&b, 2, "1", "239");
	expect_xpath(&b, "2", "count(" HDEV ")");
	expect_gpu_on(&b, 0x14, 0, 3, 2); /* host node 1: guest cell 1's bus */
	expect_gpu_on(&b, 0x06, 0, 4, 1);
	built_free(&b);
}

Test(devices, a_gpu_remote_from_the_jobs_cores_sits_on_the_root_bus)
{
	gpus_of_24em64t();
	struct built b = {0};
	hyp_error err = {0};
	cr_assert_eq(build("24em64t-2n6c2t-pci.xml", "0-5", "0000:11:00.0", NULL, &b, &err), 0,
	             "%s", err.msg);
	expect_xpath(&b, "0", "count(" PXB ")");
	expect_gpu_on(&b, 0x11, 0, 1, 0);
	built_free(&b);
}

Test(devices, a_gpu_sharing_its_iommu_group_with_an_unallocated_device_is_refused)
{
	gpus_of_24em64t();
	fake_dev(&host, "0000:00:07.0", 0, 66, 0x060400, 0x8086, "pcieport"); /* a bridge */
	fake_dev(&host, "0000:06:00.0", -1, 66, 0x030200, 0x10de, "nvidia");
	struct built b = {0};
	hyp_error err = {0};
	cr_assert_eq(build("24em64t-2n6c2t-pci.xml", "0-5", "0000:06:00.0", NULL, &b, &err), 0,
	             "bridges aside: %s", err.msg);
	built_free(&b);
	b = (struct built){0};
	fake_dev(&host, "0000:05:00.0", 0, 66, 0x0c0600, 0x15b3, "mlx4_core"); /* the HCA */
	cr_assert_eq(build("24em64t-2n6c2t-pci.xml", "0-5", "0000:06:00.0", NULL, &b, &err),
	             -EPERM);
	cr_expect(strstr(err.msg, "device 0000:06:00.0: IOMMU group 66 also holds 0000:05:00.0, "
	                          "which job 7110 was not given"),
	          "%s", err.msg);
	cr_expect(strstr(err.msg, "job 7110 devices"), "%s", err.msg);
	built_free(&b);
}

/* 32em64t-2n8c2t-pci-normalio.xml: 84:00.0 (NVIDIA) and 84:00.1 share a
 * slot on NUMA node 1; cores 8-15 are socket 1. */
Test(devices, a_multi_function_gpu_goes_whole_into_one_slot)
{
	fake_dev(&host, "0000:84:00.0", 1, 40, 0x030200, 0x10de, "nvidia");
	fake_dev(&host, "0000:84:00.1", 1, 40, 0x030000, 0x1002, "snd_hda_intel");
	struct built b = {0};
	hyp_error err = {0};
	cr_assert_eq(
	    build("32em64t-2n8c2t-pci-normalio.xml", "8-15", "0000:84:00.0", NULL, &b, &err), 0,
	    "%s", err.msg);
	expect_xpath(&b, "2", "count(" HDEV ")");
	expect_gpu_on(&b, 0x84, 0, 2, 1);
	expect_gpu_on(&b, 0x84, 1, 2, 1);
	expect_xpath(&b, "on", HDEV "[source/address/@function='0x0']/address/@multifunction");
	expect_xpath(&b, "", HDEV "[source/address/@function='0x1']/address/@multifunction");
	expect_xpath(&b, "1", "count(" PORT ")");
	built_free(&b);
}

/* 16intel64-manyVFs.xml: usNIC VFs 0b:00.1-3 on node 0, 88:00.1-5 on
 * node 1; cores 0-7 are socket 0, 8-15 socket 1. */
static void vfs_of_16intel64(void)
{
	fake_vfs(&host, "0000:0b:00.0", 3, 0, 10);
	fake_vfs(&host, "0000:88:00.0", 5, 1, 30);
}

static void expect_vf(const struct built *b, const char *bus_fn, unsigned port, unsigned pxb)
{
	char sel[128], v[16];
	snprintf(sel, sizeof(sel),
	         IF "[concat(source/address/@bus, '.', source/address/"
	            "@function)='%s']",
	         bus_fn);
	expect_xpath(b, "1", "count(%s)", sel);
	expect_xpath(b, "yes", "%s/@managed", sel);
	expect_xpath(b, "42", "%s/vlan/tag/@id", sel);
	expect_xpath(b, "true", "starts-with(%s/mac/@address, '52:54:01:')", sel);
	snprintf(v, sizeof(v), "0x%02x", port);
	expect_xpath(b, v, "%s/address/@bus", sel);
	snprintf(v, sizeof(v), pxb ? "0x%02x" : "", pxb);
	expect_xpath(b, v, PORT "[@index='%u']/address/@bus", port);
}

Test(devices, vfs_local_to_the_job)
{
	vfs_of_16intel64();
	struct built b = {0};
	hyp_error err = {0};
	cr_assert_eq(build("16intel64-manyVFs.xml", "8-15", NULL, "fabric:2", &b, &err), 0, "%s",
	             err.msg);
	expect_xpath(&b, "2", "count(" IF ")");
	expect_pxb(&b, 1, "0", "239");
	expect_vf(&b, "0x88.0x1", 2, 1);
	expect_vf(&b, "0x88.0x2", 3, 1);
	expect_xpath(&b, "0", "count(" HDEV ")");
	built_free(&b);
}

Test(devices, vfs_remote_from_the_job_when_the_local_ones_run_out)
{
	vfs_of_16intel64();
	struct built b = {0};
	hyp_error err = {0};
	cr_assert_eq(build("16intel64-manyVFs.xml", "0-7", NULL, "fabric:4", &b, &err), 0, "%s",
	             err.msg);
	expect_xpath(&b, "4", "count(" IF ")");
	expect_vf(&b, "0x0b.0x1", 2, 1);
	expect_vf(&b, "0x0b.0x3", 4, 1);
	expect_vf(&b, "0x88.0x1", 5, 0);
	built_free(&b);
}

Test(devices, the_sites_default_vfs_and_none)
{
	vfs_of_16intel64();
	struct built b = {0};
	hyp_error err = {0};
	cr_assert_eq(build("16intel64-manyVFs.xml", "0-7", NULL, "none", &b, &err), 0, "%s",
	             err.msg);
	cr_expect_null(b.spec.devices, "no devices: no <hostdev>, no expander bus");
	expect_xpath(&b, "0", "count(" PXB ")");
	built_free(&b);
	b = (struct built){0};
	cr_assert_eq(build("16intel64-manyVFs.xml", "0-7", NULL, "fabric:9", &b, &err), -EBUSY);
	cr_expect(strstr(err.msg, "the pool has 8 VFs, 0 in use by other jobs, 8 free"), "%s",
	          err.msg);
	built_free(&b);
}

/* --- before boot ------------------------------------------------------- */

static void ready_spec(struct built *b)
{
	hyp_error err = {0};
	cr_assert_eq(build("24em64t-2n6c2t-pci.xml", "0-5", "0000:06:00.0", NULL, b, &err), 0, "%s",
	             err.msg);
}

Test(devices, without_an_iommu_vfio_is_not_available_on_this_node)
{
	fake_dev(&host, "0000:06:00.0", 0, -1, 0x030200, 0x10de, "nvidia");
	struct built b = {0};
	ready_spec(&b);
	struct hyp_hostfs fs = {.sys = host.sys, .proc = host.proc, .modules = host.modules};
	hyp_error err = {0};
	cr_expect_eq(hyp_devices_ready(&b.spec, &fs, &err), -ENODEV);
	cr_expect(strstr(err.msg, "cannot pass through GPU 0000:06:00.0: VFIO not available on "
	                          "this node:") &&
	              strstr(err.msg, "the IOMMU is off"),
	          "%s", err.msg);
	built_free(&b);
}

Test(devices, readiness_vfio_pci_groups_drivers_memory)
{
	gpus_of_24em64t();
	struct built b = {0};
	ready_spec(&b);
	struct hyp_hostfs fs = {.sys = host.sys, .proc = host.proc, .modules = host.modules};
	hyp_error err = {0};
	cr_expect_eq(hyp_devices_ready(&b.spec, &fs, &err), -ENODEV);
	cr_expect(strstr(err.msg, "VFIO not available on this node: the vfio-pci module is "
	                          "neither loaded nor installed"),
	          "%s", err.msg);
	fake_vfio_loaded(&host);
	cr_expect_eq(hyp_devices_ready(&b.spec, &fs, &err), 0, "%s", err.msg);
	unlink(strcat(strcpy((char[PATH_MAX]){0}, host.sys),
	              "/devices/pci0000:00/0000:06:00.0/driver_override"));
	cr_expect_eq(hyp_devices_ready(&b.spec, &fs, &err), -ENODEV);
	cr_expect(strstr(err.msg, "is bound to 'nvidia' and cannot be rebound"), "%s", err.msg);
	fake_dev(&host, "0000:06:00.0", -1, 6, 0x030200, 0x10de, "nvidia");
	fake_write("MemAvailable: 1048576 kB\n", "%s/meminfo", host.proc);
	cr_expect_eq(hyp_devices_ready(&b.spec, &fs, &err), -ENOMEM);
	cr_expect(strstr(err.msg, "VFIO pins all of the guest's") &&
	              strstr(err.msg, "1024 MiB available"),
	          "%s", err.msg);
	built_free(&b);
}

Test(devices, a_job_without_devices_is_always_ready)
{
	struct built b = {0};
	hyp_error err = {0};
	cr_assert_eq(build("24em64t-2n6c2t-pci.xml", "0-5", NULL, NULL, &b, &err), 0, "%s",
	             err.msg);
	cr_expect_null(b.spec.devices);
	struct hyp_hostfs fs = {.sys = host.sys};
	cr_expect_eq(hyp_devices_ready(&b.spec, &fs, &err), 0);
	built_free(&b);
}

Test(devices, another_machines_gpu_from_its_topology_alone)
{
	/* hyperionctl xml --topology without --sysfs: the sysfs at hand does not
	 * have the device; the topology gives its node and slot. */
	struct built b = {0};
	hyp_error err = {0};
	cr_assert_eq(build("32em64t-2n8c2t-pci-normalio.xml", "8-15", "84:00.0", NULL, &b, &err), 0,
	             "%s", err.msg);
	expect_gpu_on(&b, 0x84, 0, 2, 1);
	expect_gpu_on(&b, 0x84, 1, 2, 1);
	built_free(&b);
	b = (struct built){0};
	cr_assert_eq(
	    build("32em64t-2n8c2t-pci-normalio.xml", "8-15", "0000:85:00.0", NULL, &b, &err),
	    -ENOENT);
	cr_expect(strstr(err.msg, "GPU: PCI device 0000:85:00.0: not in"), "%s", err.msg);
	built_free(&b);
}

Test(devices, a_pool_named_twice_gives_distinct_vfs)
{
	vfs_of_16intel64();
	struct built b = {0};
	hyp_error err = {0};
	cr_assert_eq(build("16intel64-manyVFs.xml", "8-15", NULL, "fabric:1,fabric", &b, &err), 0,
	             "%s", err.msg);
	expect_xpath(&b, "2", "count(" IF ")");
	expect_vf(&b, "0x88.0x1", 2, 1);
	expect_vf(&b, "0x88.0x2", 3, 1);
	built_free(&b);
}

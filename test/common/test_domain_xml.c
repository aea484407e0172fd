/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The domain XML of hand-made specs, read back with XPath, and every one
 * validated against libvirt's schema with virt-xml-validate.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_domain_xml.h"
#include "hyp_proto.h"
#include "xml_validate.h"

/* 2 host cores x 2 threads on 2 NUMA nodes, as placement would give. */
static struct hyp_vcpu vcpus[] = {{0, 0}, {12, 0}, {1, 1}, {13, 1}};
static struct hyp_cell cells[] = {
    {.host_node = 0, .memory_kib = 1024 * 1024, .vcpus = "0-1"},
    {.host_node = 1, .memory_kib = 1024 * 1024, .vcpus = "2-3"},
};

static struct hyp_vm_spec base_spec(void)
{
	return (struct hyp_vm_spec){
	    .job_id = 42,
	    .uid = 1000,
	    .gid = 1001,
	    .user = "alice",
	    .node = "cn042",
	    .name = "hyperion-job-42",
	    .job_dir = "/run/hyperion/job.42",
	    .console_log = "/run/hyperion/job.42/console.log",
	    .ctl_socket = "/run/hyperion/job.42/ctl.sock",
	    .nexec_ports = 6,
	    .domain_type = HYP_DOMAIN_KVM,
	    .numa_bind = true,
	    .cpu_model = "host-passthrough",
	    .memory_mib = 2048,
	    .image = {.name = "default",
	              .kind = HYP_IMAGE_APPLIANCE,
	              .kernel = "/var/lib/hyperion/appliance/vmlinuz",
	              .initrd = "/var/lib/hyperion/appliance/initrd.img"},
	    .placement = {.nvcpus = 4,
	                  .vcpus = vcpus,
	                  .sockets = 2,
	                  .cores = 1,
	                  .threads = 2,
	                  .ncells = 2,
	                  .cells = cells,
	                  .emulator_cpus = "0-1,12-13",
	                  .host_nodes = "0-1"},
	};
}

static struct hyp_vm_spec disk_spec(void)
{
	struct hyp_vm_spec spec = base_spec();
	spec.image.name = "deb12";
	spec.image.kind = HYP_IMAGE_DISK;
	spec.image.disk = "/images/deb12.qcow2";
	spec.image.cmdline = "rw loglevel=4";
	spec.overlay = "/run/hyperion/job.42/overlay.qcow2";
	return spec;
}

struct doc {
	char *xml;
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
};

static void doc_free(struct doc *d)
{
	xmlXPathFreeContext(d->ctx);
	xmlFreeDoc(d->doc);
	free(d->xml);
}

/* Render, validate, parse. */
static void render(const struct hyp_vm_spec *spec, struct doc *d)
{
	hyp_error err = {0};
	cr_assert_eq(hyp_domain_xml(spec, &d->xml, &err), 0, "%s", err.msg);
	validate(d->xml);
	d->doc = xmlReadMemory(d->xml, (int)strlen(d->xml), "domain.xml", NULL, XML_PARSE_NONET);
	cr_assert_not_null(d->doc, "unparsable XML:\n%s", d->xml);
	d->ctx = xmlXPathNewContext(d->doc);
	cr_assert_not_null(d->ctx);
	xmlXPathRegisterNs(d->ctx, BAD_CAST "h", BAD_CAST HYP_XML_NS);
}

/* string(EXPR), malloc'd. */
static char *xp(const struct doc *d, const char *fmt, ...) HYP_PRINTF(2, 3);

static char *xp(const struct doc *d, const char *fmt, ...)
{
	char expr[512], full[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(expr, sizeof(expr), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "string(%s)", expr);
	xmlXPathObjectPtr res = xmlXPathEvalExpression(BAD_CAST full, d->ctx);
	cr_assert_not_null(res, "bad XPath %s", full);
	char *s = strdup(res->stringval ? (char *)res->stringval : "");
	xmlXPathFreeObject(res);
	return s;
}

static int count(const struct doc *d, const char *expr)
{
	char full[600];
	snprintf(full, sizeof(full), "count(%s)", expr);
	xmlXPathObjectPtr res = xmlXPathEvalExpression(BAD_CAST full, d->ctx);
	cr_assert_not_null(res, "bad XPath %s", full);
	int n = (int)res->floatval;
	xmlXPathFreeObject(res);
	return n;
}

#define EXPECT_XP(d, want, ...)                                                                    \
	do {                                                                                       \
		_cleanup_free_ char *_got = xp(d, __VA_ARGS__);                                    \
		cr_expect_str_eq(_got, want, "%s", #__VA_ARGS__);                                  \
	} while (0)

Test(domain_xml, identity_and_metadata)
{
	struct hyp_vm_spec spec = base_spec();
	time_t before = time(NULL);
	_cleanup_(doc_free) struct doc d = {0};
	render(&spec, &d);
	time_t after = time(NULL);
	EXPECT_XP(&d, "kvm", "/domain/@type");
	EXPECT_XP(&d, "hyperion-job-42", "/domain/name");
	cr_expect_eq(count(&d, "/domain/metadata/h:job"), 1);
	EXPECT_XP(&d, "42", "/domain/metadata/h:job/@id");
	EXPECT_XP(&d, "1000", "/domain/metadata/h:job/@uid");
	EXPECT_XP(&d, "1001", "/domain/metadata/h:job/@gid");
	EXPECT_XP(&d, "alice", "/domain/metadata/h:job/@user");
	EXPECT_XP(&d, "cn042", "/domain/metadata/h:job/@node");
	_cleanup_free_ char *started = xp(&d, "/domain/metadata/h:job/@started");
	long long t = atoll(started);
	cr_expect(t >= before && t <= after, "started=%s", started);
	cr_expect(strstr(d.xml, "\n  <name>"), "indented:\n%s", d.xml);
}

Test(domain_xml, memory_is_shared_memfd_without_hugepages)
{
	struct hyp_vm_spec spec = base_spec();
	_cleanup_(doc_free) struct doc d = {0};
	render(&spec, &d);
	EXPECT_XP(&d, "2097152", "/domain/memory[@unit='KiB']");
	EXPECT_XP(&d, "2097152", "/domain/currentMemory[@unit='KiB']");
	EXPECT_XP(&d, "memfd", "/domain/memoryBacking/source/@type");
	EXPECT_XP(&d, "shared", "/domain/memoryBacking/access/@mode");
	cr_expect_eq(count(&d, "/domain/memoryBacking/hugepages"), 0);
	cr_expect_eq(count(&d, "/domain/devices/memballoon[@model='none']"), 1);
}

Test(domain_xml, hugepages)
{
	struct hyp_vm_spec spec = base_spec();
	spec.hugepage_kib = 2048;
	_cleanup_(doc_free) struct doc d = {0};
	render(&spec, &d);
	cr_expect_eq(count(&d, "/domain/memoryBacking/hugepages/page"), 1);
	EXPECT_XP(&d, "2048", "/domain/memoryBacking/hugepages/page/@size");
	EXPECT_XP(&d, "KiB", "/domain/memoryBacking/hugepages/page/@unit");
	EXPECT_XP(&d, "0-1", "/domain/memoryBacking/hugepages/page/@nodeset");
	EXPECT_XP(&d, "memfd", "/domain/memoryBacking/source/@type");
}

Test(domain_xml, every_vcpu_and_the_emulator_pinned)
{
	struct hyp_vm_spec spec = base_spec();
	_cleanup_(doc_free) struct doc d = {0};
	render(&spec, &d);
	EXPECT_XP(&d, "4", "/domain/vcpu");
	EXPECT_XP(&d, "static", "/domain/vcpu/@placement");
	cr_expect_eq(count(&d, "/domain/cputune/vcpupin"), 4);
	for (unsigned i = 0; i < 4; i++) {
		char want[16];
		snprintf(want, sizeof(want), "%u", vcpus[i].host_cpu);
		EXPECT_XP(&d, want, "/domain/cputune/vcpupin[@vcpu='%u']/@cpuset", i);
	}
	EXPECT_XP(&d, "0-1,12-13", "/domain/cputune/emulatorpin/@cpuset");
	cr_expect_eq(count(&d, "/domain/iothreads"), 0, "no disk, no I/O thread");
	cr_expect_eq(count(&d, "/domain/cputune/iothreadpin"), 0);
}

Test(domain_xml, memory_strictly_on_the_allocations_nodes)
{
	struct hyp_vm_spec spec = base_spec();
	_cleanup_(doc_free) struct doc d = {0};
	render(&spec, &d);
	EXPECT_XP(&d, "strict", "/domain/numatune/memory/@mode");
	EXPECT_XP(&d, "0-1", "/domain/numatune/memory/@nodeset");
	cr_expect_eq(count(&d, "/domain/numatune/memnode[@mode='strict']"), 2);
	EXPECT_XP(&d, "0", "/domain/numatune/memnode[@cellid='0']/@nodeset");
	EXPECT_XP(&d, "1", "/domain/numatune/memnode[@cellid='1']/@nodeset");
}

Test(domain_xml, direct_kernel_boot_of_an_appliance)
{
	struct hyp_vm_spec spec = base_spec();
	_cleanup_(doc_free) struct doc d = {0};
	render(&spec, &d);
	EXPECT_XP(&d, "hvm", "/domain/os/type");
	EXPECT_XP(&d, "x86_64", "/domain/os/type/@arch");
	EXPECT_XP(&d, "q35", "/domain/os/type/@machine");
	EXPECT_XP(&d, "/var/lib/hyperion/appliance/vmlinuz", "/domain/os/kernel");
	EXPECT_XP(&d, "/var/lib/hyperion/appliance/initrd.img", "/domain/os/initrd");
	EXPECT_XP(&d, "console=ttyS0 panic=-1 quiet", "/domain/os/cmdline");
	cr_expect_eq(count(&d, "/domain/features/acpi"), 1);
	EXPECT_XP(&d, "utc", "/domain/clock/@offset");
	EXPECT_XP(&d, "destroy", "/domain/on_poweroff");
	EXPECT_XP(&d, "destroy", "/domain/on_reboot");
	EXPECT_XP(&d, "destroy", "/domain/on_crash");
	cr_expect_eq(count(&d, "/domain/devices/disk"), 0);
}

Test(domain_xml, cpu_shape_and_cells)
{
	struct hyp_vm_spec spec = base_spec();
	_cleanup_(doc_free) struct doc d = {0};
	render(&spec, &d);
	EXPECT_XP(&d, "host-passthrough", "/domain/cpu/@mode");
	EXPECT_XP(&d, "none", "/domain/cpu/@check");
	EXPECT_XP(&d, "2", "/domain/cpu/topology/@sockets");
	EXPECT_XP(&d, "1", "/domain/cpu/topology/@cores");
	EXPECT_XP(&d, "2", "/domain/cpu/topology/@threads");
	cr_expect_eq(count(&d, "/domain/cpu/numa/cell"), 2);
	EXPECT_XP(&d, "0-1", "/domain/cpu/numa/cell[@id='0']/@cpus");
	EXPECT_XP(&d, "2-3", "/domain/cpu/numa/cell[@id='1']/@cpus");
	EXPECT_XP(&d, "1048576", "/domain/cpu/numa/cell[@id='1']/@memory");
	EXPECT_XP(&d, "KiB", "/domain/cpu/numa/cell[@id='1']/@unit");
}

Test(domain_xml, cpu_models)
{
	struct hyp_vm_spec spec = base_spec();
	spec.cpu_model = "host-model";
	_cleanup_(doc_free) struct doc hm = {0};
	render(&spec, &hm);
	EXPECT_XP(&hm, "host-model", "/domain/cpu/@mode");
	cr_expect_eq(count(&hm, "/domain/cpu/model"), 0);

	spec.cpu_model = "Skylake-Server";
	_cleanup_(doc_free) struct doc named = {0};
	render(&spec, &named);
	EXPECT_XP(&named, "custom", "/domain/cpu/@mode");
	EXPECT_XP(&named, "exact", "/domain/cpu/@match");
	EXPECT_XP(&named, "Skylake-Server", "/domain/cpu/model");
	EXPECT_XP(&named, "forbid", "/domain/cpu/model/@fallback");
}

/* Under TCG, QEMU's "max" CPU (x86-64-v2 and more), not qemu64; the XML
 * is checked against libvirt's schema by render(). */
Test(domain_xml, tcg_uses_maximum_cpu)
{
	struct hyp_vm_spec spec = base_spec();
	spec.domain_type = HYP_DOMAIN_QEMU;
	_cleanup_(doc_free) struct doc d = {0};
	render(&spec, &d);
	EXPECT_XP(&d, "qemu", "/domain/@type");
	EXPECT_XP(&d, "maximum", "/domain/cpu/@mode");
	EXPECT_XP(&d, "none", "/domain/cpu/@check");
	cr_expect_eq(count(&d, "/domain/cpu/model"), 0);
	EXPECT_XP(&d, "2", "/domain/cpu/topology/@sockets");
	cr_expect_eq(count(&d, "/domain/cpu/numa/cell"), 2);

	spec.cpu_model = "host-model";
	_cleanup_(doc_free) struct doc hm = {0};
	render(&spec, &hm);
	EXPECT_XP(&hm, "maximum", "/domain/cpu/@mode");

	spec.cpu_model = "Nehalem";
	_cleanup_(doc_free) struct doc named = {0};
	render(&spec, &named);
	EXPECT_XP(&named, "custom", "/domain/cpu/@mode");
	EXPECT_XP(&named, "Nehalem", "/domain/cpu/model");
}

Test(domain_xml, no_cells_no_numa)
{
	struct hyp_vm_spec spec = base_spec();
	spec.placement.ncells = 0;
	spec.placement.cells = NULL;
	spec.hugepage_kib = 1024 * 1024;
	_cleanup_(doc_free) struct doc d = {0};
	render(&spec, &d);
	cr_expect_eq(count(&d, "/domain/cpu/numa"), 0);
	cr_expect_eq(count(&d, "/domain/numatune/memnode"), 0);
	EXPECT_XP(&d, "0-1", "/domain/numatune/memory/@nodeset");
	cr_expect_eq(count(&d, "/domain/memoryBacking/hugepages/page/@nodeset"), 0);
}

Test(domain_xml, odd_shape_falls_back_to_one_socket_per_vcpu)
{
	struct hyp_vm_spec spec = base_spec();
	spec.placement.sockets = 3; /* 3 x 1 x 2 != 4 */
	_cleanup_(doc_free) struct doc d = {0};
	render(&spec, &d);
	EXPECT_XP(&d, "4", "/domain/cpu/topology/@sockets");
	EXPECT_XP(&d, "1", "/domain/cpu/topology/@cores");
	EXPECT_XP(&d, "1", "/domain/cpu/topology/@threads");
}

Test(domain_xml, disk_image_boots_its_overlay)
{
	struct hyp_vm_spec spec = disk_spec();
	_cleanup_(doc_free) struct doc d = {0};
	render(&spec, &d);
	cr_expect_eq(count(&d, "/domain/devices/disk"), 1);
	EXPECT_XP(&d, "file", "/domain/devices/disk/@type");
	EXPECT_XP(&d, "disk", "/domain/devices/disk/@device");
	EXPECT_XP(&d, "/run/hyperion/job.42/overlay.qcow2", "/domain/devices/disk/source/@file");
	EXPECT_XP(&d, "qcow2", "/domain/devices/disk/driver/@type");
	EXPECT_XP(&d, "writeback", "/domain/devices/disk/driver/@cache");
	EXPECT_XP(&d, "unmap", "/domain/devices/disk/driver/@discard");
	EXPECT_XP(&d, "1", "/domain/devices/disk/driver/@iothread");
	EXPECT_XP(&d, "vda", "/domain/devices/disk/target/@dev");
	EXPECT_XP(&d, "virtio", "/domain/devices/disk/target/@bus");
	cr_expect_eq(count(&d, "//*[@file='/images/deb12.qcow2']"), 0, "never the base image");
	EXPECT_XP(&d, "1", "/domain/iothreads");
	EXPECT_XP(&d, "0-1,12-13", "/domain/cputune/iothreadpin[@iothread='1']/@cpuset");
	EXPECT_XP(&d, "console=ttyS0 panic=-1 quiet hyperion.root=/dev/vda rw loglevel=4",
	          "/domain/os/cmdline");
}

Test(domain_xml, channels_console_and_devices)
{
	struct hyp_vm_spec spec = base_spec();
	_cleanup_(doc_free) struct doc d = {0};
	render(&spec, &d);
	const char *dev = "/domain/devices";
	cr_expect_eq(count(&d, "/domain/devices/controller[@type='virtio-serial']"), 1);
	_cleanup_free_ char *ports = xp(&d, "%s/controller[@type='virtio-serial']/@ports", dev);
	cr_expect_geq(atoi(ports), 6 + 2, "exec ports + control port + reserved port 0");
	cr_expect_eq(count(&d, "/domain/devices/channel[@type='unix']"), 7);
	cr_expect_eq(count(&d, "/domain/devices/channel/source[@mode='bind']"), 7);
	EXPECT_XP(&d, "/run/hyperion/job.42/ctl.sock",
	          "%s/channel[target/@name='" HYP_PORT_CTL "']/source/@path", dev);
	for (unsigned i = 0; i < 6; i++) {
		char want[64];
		snprintf(want, sizeof(want), "/run/hyperion/job.42/exec.%u.sock", i);
		EXPECT_XP(&d, want,
		          "%s/channel[target/@type='virtio' and target/@name='" HYP_PORT_EXEC_PREFIX
		          "%u']/source/@path",
		          dev, i);
	}
	EXPECT_XP(&d, "/run/hyperion/job.42/console.log", "%s/serial[@type='file']/source/@path",
	          dev);
	EXPECT_XP(&d, "0", "%s/serial/target/@port", dev);
	EXPECT_XP(&d, "/run/hyperion/job.42/console.log", "%s/console[@type='file']/source/@path",
	          dev);
	EXPECT_XP(&d, "serial", "%s/console/target/@type", dev);
	EXPECT_XP(&d, "/dev/urandom", "%s/rng[@model='virtio']/backend[@model='random']", dev);
	cr_expect_eq(count(&d, "/domain/devices/controller[@type='usb' and @model='none']"), 1);
	cr_expect_eq(count(&d, "//graphics | //video | //interface | //emulator"), 0);
}

Test(domain_xml, many_exec_ports_get_more_controllers)
{
	struct hyp_vm_spec spec = base_spec();
	spec.nexec_ports = 1000;
	_cleanup_(doc_free) struct doc d = {0};
	render(&spec, &d);
	cr_expect_eq(count(&d, "/domain/devices/channel"), 1001);
	int n = count(&d, "/domain/devices/controller[@type='virtio-serial']");
	cr_assert_eq(n, 2);
	int usable = 0;
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *ports = xp(
		    &d, "/domain/devices/controller[@type='virtio-serial' and @index='%d']/@ports",
		    i);
		cr_expect_leq(atoi(ports), 511, "QEMU's limit per controller");
		usable += atoi(ports) - 1; /* port 0 is not for channels */
	}
	cr_expect_geq(usable, 1001);
}

/* Paths and names with XML's special characters come out escaped and read
 * back identical. */
Test(domain_xml, escaping)
{
	struct hyp_vm_spec spec = disk_spec();
	const char *dir = "/run/a\"b'c<d>&e/job.42";
	spec.job_dir = (char *)dir;
	spec.console_log = "/run/a\"b'c<d>&e/job.42/console.log";
	spec.ctl_socket = "/run/a\"b'c<d>&e/job.42/ctl.sock";
	spec.overlay = "/run/a\"b'c<d>&e/job.42/overlay.qcow2";
	spec.user = "R&D <\"ops\"> o'brien";
	spec.image.kernel = "/boot/k&<>\"'";
	spec.image.cmdline = "x=\"<&>\" y='1'";
	_cleanup_(doc_free) struct doc d = {0};
	render(&spec, &d);
	EXPECT_XP(&d, spec.user, "/domain/metadata/h:job/@user");
	EXPECT_XP(&d, spec.console_log, "/domain/devices/serial/source/@path");
	EXPECT_XP(&d, spec.overlay, "/domain/devices/disk/source/@file");
	EXPECT_XP(&d, spec.ctl_socket,
	          "/domain/devices/channel[target/@name='" HYP_PORT_CTL "']/source/@path");
	EXPECT_XP(&d, "/run/a\"b'c<d>&e/job.42/exec.5.sock",
	          "/domain/devices/channel[target/@name='" HYP_PORT_EXEC_PREFIX "5']/source/@path");
	EXPECT_XP(&d, spec.image.kernel, "/domain/os/kernel");
	EXPECT_XP(&d, "console=ttyS0 panic=-1 quiet hyperion.root=/dev/vda x=\"<&>\" y='1'",
	          "/domain/os/cmdline");
	cr_expect_null(strstr(d.xml, "<d>"), "raw '<' in the output");
}

static void expect_refused(const struct hyp_vm_spec *spec, const char *want)
{
	char *xml = (char *)"untouched";
	hyp_error err = {0};
	cr_assert_eq(hyp_domain_xml(spec, &xml, &err), -EINVAL, "accepted");
	cr_expect_str_eq(err.msg, want);
	cr_expect_str_eq(xml, "untouched", "output written on failure");
}

Test(domain_xml, refuses_what_xml_cannot_carry)
{
	struct hyp_vm_spec spec = base_spec();
	spec.user = "al\x01ice";
	expect_refused(&spec, "domain XML: user name holds a control character");
	spec = base_spec();
	spec.console_log = "/run/x\nlog";
	expect_refused(&spec, "domain XML: console log path holds a control character");
	spec = base_spec();
	spec.image.kernel = "/boot/\xff\xfe";
	expect_refused(&spec, "domain XML: kernel path is not valid UTF-8");
	spec = base_spec();
	spec.user = "J\xc3\xbcrgen"; /* valid UTF-8 is fine, and tabs */
	spec.image.cmdline = "a\tb";
	_cleanup_(doc_free) struct doc d = {0};
	render(&spec, &d);
	EXPECT_XP(&d, "J\xc3\xbcrgen", "/domain/metadata/h:job/@user");
	EXPECT_XP(&d, "console=ttyS0 panic=-1 quiet a\tb", "/domain/os/cmdline");
}

Test(domain_xml, refuses_incomplete_specs)
{
	struct hyp_vm_spec spec = disk_spec();
	spec.overlay = NULL;
	expect_refused(&spec, "domain XML: disk image 'deb12' without an overlay");
	spec = base_spec();
	spec.placement.nvcpus = 0;
	expect_refused(&spec, "domain XML: no vCPUs placed");
	spec = base_spec();
	spec.memory_mib = 0;
	expect_refused(&spec, "domain XML: no guest memory");
	spec = base_spec();
	spec.placement.emulator_cpus = NULL;
	expect_refused(&spec, "domain XML: no emulator cpus");
	spec = base_spec();
	spec.image.kernel = NULL;
	expect_refused(&spec, "domain XML: no kernel path");
}

Test(domain_xml, numa_bind_off_keeps_cells_without_numatune)
{
	struct hyp_vm_spec spec = base_spec();
	spec.numa_bind = false;
	struct doc d = {0};
	render(&spec, &d);
	cr_expect_eq(count(&d, "/domain/numatune"), 0);
	cr_expect_eq(count(&d, "/domain/cpu/numa/cell"), (int)spec.placement.ncells);
	doc_free(&d);
}

Test(domain_xml, node_left_out_when_unknown)
{
	struct hyp_vm_spec spec = base_spec();
	spec.node = "";
	_cleanup_(doc_free) struct doc d = {0};
	render(&spec, &d);
	cr_expect_eq(count(&d, "/domain/metadata/h:job/@node"), 0);
	cr_expect_eq(count(&d, "/domain/metadata/h:job/@id"), 1);
}

/* QEMU runs as the job's user and libvirt relabels nothing: exactly one
 * static DAC label, the job's uid:gid as numbers (no name lookup). */
Test(domain_xml, qemu_runs_as_the_job_user)
{
	struct hyp_vm_spec spec = disk_spec();
	_cleanup_(doc_free) struct doc d = {0};
	render(&spec, &d);
	cr_expect_eq(count(&d, "/domain/seclabel"), 1);
	EXPECT_XP(&d, "static", "/domain/seclabel/@type");
	EXPECT_XP(&d, "dac", "/domain/seclabel/@model");
	EXPECT_XP(&d, "no", "/domain/seclabel/@relabel");
	EXPECT_XP(&d, "+1000:+1001", "/domain/seclabel/label");
	cr_expect_eq(count(&d, "/domain/seclabel/imagelabel"), 0);
	cr_expect_eq(count(&d, "//source/seclabel | //disk/seclabel"), 0, "no per-device label");
}

Test(domain_xml, refuses_to_run_qemu_as_root)
{
	struct hyp_vm_spec spec = base_spec();
	spec.uid = 0;
	spec.user = "root";
	char *xml = (char *)"untouched";
	hyp_error err = {0};
	cr_assert_eq(hyp_domain_xml(&spec, &xml, &err), -EPERM, "accepted");
	cr_expect_str_eq(err.msg, "domain XML: job user 'root' is root: QEMU would run as root");
	cr_expect_str_eq(xml, "untouched");
}

Test(domain_xml, shares_are_virtiofs_filesystems_on_our_sockets)
{
	struct hyp_share shares[] = {
	    {.path = "/home", .tag = "hypfs0", .socket = "/run/hyperion/job.42/fs.0.sock"},
	    {.path = "/scratch/a b", .tag = "hypfs1", .socket = "/run/hyperion/job.42/fs.1.sock"},
	};
	struct hyp_vm_spec spec = base_spec();
	spec.shares = shares;
	spec.nshares = 2;
	spec.boot_params =
	    "hyperion.hostname=cn042 hyperion.shares=hypfs0:/home,hypfs1:/scratch/a%20b";
	struct doc d;
	render(&spec, &d);
	cr_expect_eq(count(&d, "/domain/devices/filesystem[@type='mount']"), 2);
	EXPECT_XP(&d, "virtiofs", "/domain/devices/filesystem[1]/driver/@type");
	EXPECT_XP(&d, "/run/hyperion/job.42/fs.1.sock",
	          "/domain/devices/filesystem[2]/source/@socket");
	EXPECT_XP(&d, "hypfs1", "/domain/devices/filesystem[2]/target/@dir");
	cr_expect_eq(count(&d, "/domain/devices/filesystem/binary"), 0,
	             "libvirt's own virtiofsd (root) is never asked for");
	EXPECT_XP(&d, "shared", "/domain/memoryBacking/access/@mode");
	_cleanup_free_ char *cmdline = xp(&d, "/domain/os/cmdline");
	cr_expect(strstr(cmdline, "quiet hyperion.hostname=cn042 hyperion.shares="), "%s", cmdline);
	doc_free(&d);
}

Test(domain_xml, no_shares_no_filesystem)
{
	struct hyp_vm_spec spec = base_spec();
	struct doc d;
	render(&spec, &d);
	cr_expect_eq(count(&d, "/domain/devices/filesystem"), 0);
	doc_free(&d);
}

Test(domain_xml, network_interface_bridge_and_libvirt)
{
	struct hyp_vm_spec spec = base_spec();
	spec.net = (struct hyp_vm_net){.mode = HYP_NET_BRIDGE,
	                               .mac = {0x02, 0x00, 0x1c, 0x84, 0x00, 0x01},
	                               .tap = "hyp-t7300",
	                               .mtu = 1450};
	struct doc d = {0};
	render(&spec, &d);
	EXPECT_XP(&d, "ethernet", "/domain/devices/interface/@type");
	EXPECT_XP(&d, "hyp-t7300", "/domain/devices/interface/target/@dev");
	EXPECT_XP(&d, "no", "/domain/devices/interface/target/@managed");
	EXPECT_XP(&d, "02:00:1c:84:00:01", "/domain/devices/interface/mac/@address");
	EXPECT_XP(&d, "virtio", "/domain/devices/interface/model/@type");
	EXPECT_XP(&d, "1450", "/domain/devices/interface/mtu/@size");
	doc_free(&d);

	spec.net.mode = HYP_NET_LIBVIRT;
	spec.net.libvirt_network = "jobs";
	render(&spec, &d);
	EXPECT_XP(&d, "network", "/domain/devices/interface/@type");
	EXPECT_XP(&d, "jobs", "/domain/devices/interface/source/@network");
	cr_expect_eq(count(&d, "/domain/devices/interface/target"), 0, "libvirt's own port");
	doc_free(&d);

	spec.net.mode = HYP_NET_NONE;
	render(&spec, &d);
	cr_expect_eq(count(&d, "/domain/devices/interface"), 0, "network = none: no NIC");
	doc_free(&d);

	hyp_error err = {0};
	char *xml = NULL;
	spec.net = (struct hyp_vm_net){.mode = HYP_NET_BRIDGE, .mtu = 1450};
	cr_expect_lt(hyp_domain_xml(&spec, &xml, &err), 0, "a bridge NIC without its tap");
	free(xml);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * From Slurm's core ids to the domain XML on the real machines of
 * test/data/topologies: for each machine and allocation (one core, a full
 * socket, cores of two sockets, a non-contiguous list, every core), the XML
 * validates against libvirt's schema and carries the placement element by
 * element: vCPU pins, emulator pin, guest topology, NUMA cells, numatune.
 * test_placement.c checks the placement itself against literal values.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_config.h"
#include "hyp_domain_xml.h"
#include "hyp_spec.h"
#include "hyp_topology.h"
#include "xml_validate.h"

/* Arrays, not pointers: criterion copies parameters into worker processes
 * that do not share this one's addresses. */
struct machine_case {
	char file[40];
	char cores[16]; /* Slurm's abstract core ids */
};

/* Core counts per socket from lstopo: 6, 8, 6 (16 packages), 8. */
static struct machine_case cases[] = {
    {"24em64t-2n6c2t-pci.xml", "0"},
    {"24em64t-2n6c2t-pci.xml", "0-5"},
    {"24em64t-2n6c2t-pci.xml", "4-7"},
    {"24em64t-2n6c2t-pci.xml", "0,2,9"},
    {"24em64t-2n6c2t-pci.xml", "0-11"},
    {"32em64t-2n8c2t-pci-normalio.xml", "0"},
    {"32em64t-2n8c2t-pci-normalio.xml", "0-7"},
    {"32em64t-2n8c2t-pci-normalio.xml", "6-9"},
    {"32em64t-2n8c2t-pci-normalio.xml", "1,3,12"},
    {"32em64t-2n8c2t-pci-normalio.xml", "0-15"},
    {"96em64t-4n4d3ca2co-pci.xml", "0"},
    {"96em64t-4n4d3ca2co-pci.xml", "0-5"},
    {"96em64t-4n4d3ca2co-pci.xml", "22-25"},
    {"96em64t-4n4d3ca2co-pci.xml", "0,30,60,90"},
    {"96em64t-4n4d3ca2co-pci.xml", "0-95"},
    {"16intel64-manyVFs.xml", "0"},
    {"16intel64-manyVFs.xml", "0-7"},
    {"16intel64-manyVFs.xml", "7-8"},
    {"16intel64-manyVFs.xml", "2,5,11"},
    {"16intel64-manyVFs.xml", "0-15"},
};

ParameterizedTestParameters(placement_xml, machines)
{
	return cr_make_param_array(struct machine_case, cases, sizeof(cases) / sizeof(cases[0]));
}

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

static void load_config(struct hyp_config *cfg)
{
	char path[] = "/tmp/hyp-test-pxml.XXXXXX";
	int fd = mkstemp(path);
	const char text[] = "domain_type = kvm\nstate_dir = /run/hyperion\n";
	cr_assert(fd >= 0 && write(fd, text, sizeof(text) - 1) == sizeof(text) - 1);
	close(fd);
	hyp_error err = {0};
	cr_assert_eq(hyp_config_load(path, cfg, &err), 0, "%s", err.msg);
	unlink(path);
}

static void build(const struct machine_case *mc, struct built *b)
{
	static char kernel[] = "/boot/vmlinuz", initrd[] = "/boot/initrd.img", name[] = "default";
	const struct hyp_image img = {
	    .name = name, .kind = HYP_IMAGE_APPLIANCE, .kernel = kernel, .initrd = initrd};
	char path[PATH_MAX];
	hyp_error err = {0};
	const char *dir = getenv("HYP_TOPOLOGIES");
	cr_assert(dir, "HYP_TOPOLOGIES is not set (run through meson test)");
	snprintf(path, sizeof(path), "%s/%s", dir, mc->file);

	load_config(&b->cfg);
	cr_assert_eq(hyp_topology_load(path, &b->topo, &err), 0, "%s", err.msg);
	cr_assert_eq(hyp_topology_cores_to_cpus(b->topo, mc->cores, 0, &b->cpus, &b->ncpus, &err),
	             0, "%s", err.msg);
	struct hyp_alloc alloc = {.job_id = 7,
	                          .node = "n1",
	                          .uid = 1000,
	                          .gid = 1000,
	                          .user = "alice",
	                          .cpus = b->cpus,
	                          .ncpus = b->ncpus,
	                          .memory_mb = 8192};
	cr_assert_eq(hyp_spec_build(&b->cfg, &img, b->topo, &alloc, &b->spec, &err), 0, "%s",
	             err.msg);
	cr_assert_eq(hyp_domain_xml(&b->spec, &b->xml, &err), 0, "%s", err.msg);
	validate(b->xml);
	b->doc = xmlReadMemory(b->xml, (int)strlen(b->xml), "d.xml", NULL, XML_PARSE_NONET);
	cr_assert_not_null(b->doc);
	b->ctx = xmlXPathNewContext(b->doc);
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

/* string(EXPR) */
static void expect_xpath(const struct built *b, const char *want, const char *fmt, ...)
    HYP_PRINTF(3, 4);

static void expect_xpath(const struct built *b, const char *want, const char *fmt, ...)
{
	char expr[256], full[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(expr, sizeof(expr), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "string(%s)", expr);
	xmlXPathObjectPtr res = xmlXPathEvalExpression(BAD_CAST full, b->ctx);
	cr_assert_not_null(res);
	cr_expect_str_eq((char *)res->stringval, want, "%s", expr);
	xmlXPathFreeObject(res);
}

static void expect_pins(const struct built *b)
{
	const struct hyp_placement *pl = &b->spec.placement;
	char v[32];
	snprintf(v, sizeof(v), "%zu", b->ncpus);
	expect_xpath(b, v, "/domain/vcpu");
	cr_expect_eq(pl->nvcpus, b->ncpus);
	expect_xpath(b, v, "count(/domain/cputune/vcpupin)");
	for (size_t i = 0; i < pl->nvcpus; i++) {
		snprintf(v, sizeof(v), "%u", pl->vcpus[i].host_cpu);
		expect_xpath(b, v, "/domain/cputune/vcpupin[@vcpu='%zu']/@cpuset", i);
	}
	expect_xpath(b, pl->emulator_cpus, "/domain/cputune/emulatorpin/@cpuset");
}

static void expect_shape(const struct built *b)
{
	const struct hyp_placement *pl = &b->spec.placement;
	char v[32];
	expect_xpath(b, "host-passthrough", "/domain/cpu/@mode");
	snprintf(v, sizeof(v), "%u", pl->sockets);
	expect_xpath(b, v, "/domain/cpu/topology/@sockets");
	snprintf(v, sizeof(v), "%u", pl->cores);
	expect_xpath(b, v, "/domain/cpu/topology/@cores");
	snprintf(v, sizeof(v), "%u", pl->threads);
	expect_xpath(b, v, "/domain/cpu/topology/@threads");
	cr_expect_eq(pl->sockets * pl->cores * pl->threads, pl->nvcpus);
}

static void expect_cells(const struct built *b)
{
	const struct hyp_placement *pl = &b->spec.placement;
	char v[32];
	snprintf(v, sizeof(v), "%zu", pl->ncells);
	expect_xpath(b, v, "count(/domain/cpu/numa/cell)");
	expect_xpath(b, v, "count(/domain/numatune/memnode)");
	expect_xpath(b, "strict", "/domain/numatune/memory/@mode");
	expect_xpath(b, pl->host_nodes, "/domain/numatune/memory/@nodeset");
	unsigned long long total = 0;
	for (size_t c = 0; c < pl->ncells; c++) {
		expect_xpath(b, pl->cells[c].vcpus, "/domain/cpu/numa/cell[@id='%zu']/@cpus", c);
		snprintf(v, sizeof(v), "%llu", pl->cells[c].memory_kib);
		expect_xpath(b, v, "/domain/cpu/numa/cell[@id='%zu']/@memory", c);
		snprintf(v, sizeof(v), "%u", pl->cells[c].host_node);
		expect_xpath(b, v, "/domain/numatune/memnode[@cellid='%zu']/@nodeset", c);
		expect_xpath(b, "strict", "/domain/numatune/memnode[@cellid='%zu']/@mode", c);
		total += pl->cells[c].memory_kib;
	}
	cr_expect_eq(total, b->spec.memory_mib * 1024, "cells add up to the guest's memory");
}

ParameterizedTest(struct machine_case *mc, placement_xml, machines)
{
	struct built b = {0};
	build(mc, &b);
	expect_pins(&b);
	expect_shape(&b);
	expect_cells(&b);
	built_free(&b);
}

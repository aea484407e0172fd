/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Listing the Hyperion VMs of this node, from libvirt and the state dir. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "hyp_resources.h"
#include "hyp_statedir.h"
#include "hyp_virt.h"

static const char *state_name(int state)
{
	switch (state) {
	case VIR_DOMAIN_RUNNING:
		return "running";
	case VIR_DOMAIN_BLOCKED:
		return "blocked";
	case VIR_DOMAIN_PAUSED:
		return "paused";
	case VIR_DOMAIN_SHUTDOWN:
		return "stopping";
	case VIR_DOMAIN_SHUTOFF:
		return "shutoff";
	case VIR_DOMAIN_CRASHED:
		return "crashed";
	default:
		return "unknown";
	}
}

static unsigned long long attr_ull(xmlNodePtr node, const char *name)
{
	xmlChar *v = xmlGetProp(node, BAD_CAST name);
	unsigned long long n = v ? strtoull((char *)v, NULL, 10) : 0;
	xmlFree(v);
	return n;
}

/* Our own <hyperion:job .../> element, written by hyp_domain_xml. */
static void read_metadata(virDomainPtr dom, struct hyp_vm_info *info)
{
	_cleanup_free_ char *xml =
	    virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, HYP_XML_NS, 0);
	if (!xml)
		return;
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "metadata.xml", NULL, XML_PARSE_NONET);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (root) {
		info->uid = (uid_t)attr_ull(root, "uid");
		info->started = (time_t)attr_ull(root, "started");
		xmlChar *user = xmlGetProp(root, BAD_CAST "user");
		if (user)
			snprintf(info->user, sizeof(info->user), "%s", (char *)user);
		xmlFree(user);
	}
	xmlFreeDoc(doc);
}

static void fill_info(virDomainPtr dom, const char *node, uint32_t job_id, struct hyp_vm_info *info)
{
	memset(info, 0, sizeof(*info));
	info->job_id = job_id;
	snprintf(info->node, sizeof(info->node), "%s", node);
	virDomainInfo di;
	if (virDomainGetInfo(dom, &di) == 0) {
		snprintf(info->state, sizeof(info->state), "%s", state_name(di.state));
		info->vcpus = di.nrVirtCpu;
		info->memory_mib = di.maxMem / 1024;
	}
	read_metadata(dom, info);
}

static bool listed(const struct hyp_vm_info *vms, size_t n, const char *node, uint32_t job_id)
{
	for (size_t i = 0; i < n; i++)
		if (vms[i].job_id == job_id && !strcmp(vms[i].node, node))
			return true;
	return false;
}

/* Job state (directory, lock, resource list) without a domain: what a
 * crash left behind. */
static int add_node_leftovers(const struct hyp_config *cfg, const char *node,
                              struct hyp_vm_info **vms, size_t *n, hyp_error *err)
{
	_cleanup_free_ uint32_t *ids = NULL;
	size_t nids = 0;
	int r = hyp_state_list_jobs(cfg->state_dir, node, &ids, &nids, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nids; i++) {
		if (listed(*vms, *n, node, ids[i]))
			continue;
		struct hyp_vm_info *p = realloc(*vms, (*n + 1) * sizeof(*p));
		if (!p)
			return hyp_fail(err, ENOMEM, "out of memory");
		*vms = p;
		memset(&p[*n], 0, sizeof(p[*n]));
		p[*n].job_id = ids[i];
		snprintf(p[*n].node, sizeof(p[*n].node), "%s", node);
		snprintf(p[*n].state, sizeof(p[*n].state), "leftover");
		(*n)++;
	}
	return 0;
}

static int add_leftovers(const struct hyp_config *cfg, struct hyp_vm_info **vms, size_t *n,
                         hyp_error *err)
{
	_cleanup_strv_ char **nodes = NULL;
	int r = hyp_state_list_nodes(cfg->state_dir, &nodes, err);
	for (size_t i = 0; r >= 0 && nodes[i]; i++)
		r = add_node_leftovers(cfg, nodes[i], vms, n, err);
	return r;
}

void hyp_vm_list_boot_times(const struct hyp_config *cfg, struct hyp_vm_info *vms, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *list =
		    hyp_job_resources_path(cfg->state_dir, vms[i].node, vms[i].job_id);
		_cleanup_free_ char *ms = NULL;
		hyp_error ignored;
		if (list && hyp_resources_get(list, HYP_RES_BOOTED, &ms, &ignored) == 0 && ms)
			vms[i].boot_ms = (unsigned)strtoul(ms, NULL, 10);
	}
}

int hyp_vm_list(struct hyp_vm_conn *conn, const struct hyp_config *cfg,
                struct hyp_vm_info **ret_vms, size_t *ret_n, hyp_error *err)
{
	virDomainPtr *doms = NULL;
	int ndoms = virConnectListAllDomains(conn->conn, &doms, 0);
	if (ndoms < 0)
		return hyp_fail_virt(conn->conn, err, "listing domains");

	_cleanup_free_ struct hyp_vm_info *vms = calloc((size_t)ndoms + 1, sizeof(*vms));
	size_t n = 0;
	for (int i = 0; i < ndoms; i++) {
		uint32_t id;
		char node[HYP_NODE_NAME_MAX + 1];
		if (vms &&
		    hyp_domain_name_parse(virDomainGetName(doms[i]), node, sizeof(node), &id))
			fill_info(doms[i], node, id, &vms[n++]);
		virDomainFree(doms[i]);
	}
	free(doms);
	if (!vms)
		return hyp_fail(err, ENOMEM, "out of memory");
	int r = add_leftovers(cfg, &vms, &n, err);
	if (r < 0)
		return r;
	*ret_vms = steal_pointer(&vms);
	*ret_n = n;
	return 0;
}

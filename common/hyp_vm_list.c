/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Listing the Hyperion VMs of this node, from libvirt and the state dir. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

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

static bool job_of_domain(virDomainPtr dom, uint32_t *ret_id)
{
	const char *name = virDomainGetName(dom);
	size_t plen = strlen(HYP_DOMAIN_PREFIX);
	if (!name || strncmp(name, HYP_DOMAIN_PREFIX, plen) != 0)
		return false;
	char *end;
	unsigned long id = strtoul(name + plen, &end, 10);
	if (*end || end == name + plen || id > UINT32_MAX)
		return false;
	*ret_id = (uint32_t)id;
	return true;
}

static void fill_info(virDomainPtr dom, uint32_t job_id, struct hyp_vm_info *info)
{
	memset(info, 0, sizeof(*info));
	info->job_id = job_id;
	virDomainInfo di;
	if (virDomainGetInfo(dom, &di) == 0) {
		snprintf(info->state, sizeof(info->state), "%s", state_name(di.state));
		info->vcpus = di.nrVirtCpu;
		info->memory_mib = di.maxMem / 1024;
	}
	read_metadata(dom, info);
}

static bool listed(const struct hyp_vm_info *vms, size_t n, uint32_t job_id)
{
	for (size_t i = 0; i < n; i++)
		if (vms[i].job_id == job_id)
			return true;
	return false;
}

/* Job state (directory or lock) without a domain: a crash's leftovers. */
static int add_leftovers(const struct hyp_config *cfg, struct hyp_vm_info **vms, size_t *n,
                         hyp_error *err)
{
	_cleanup_free_ uint32_t *ids = NULL;
	size_t nids = 0;
	int r = hyp_state_list_jobs(cfg->state_dir, &ids, &nids, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nids; i++) {
		if (listed(*vms, *n, ids[i]))
			continue;
		struct hyp_vm_info *p = realloc(*vms, (*n + 1) * sizeof(*p));
		if (!p)
			return hyp_fail(err, ENOMEM, "out of memory");
		*vms = p;
		memset(&p[*n], 0, sizeof(p[*n]));
		p[*n].job_id = ids[i];
		snprintf(p[*n].state, sizeof(p[*n].state), "leftover");
		(*n)++;
	}
	return 0;
}

int hyp_vm_list(struct hyp_vm_conn *conn, const struct hyp_config *cfg,
                struct hyp_vm_info **ret_vms, size_t *ret_n, hyp_error *err)
{
	virDomainPtr *doms = NULL;
	int ndoms = virConnectListAllDomains(conn->conn, &doms, 0);
	if (ndoms < 0)
		return hyp_fail_virt(err, "listing domains");

	_cleanup_free_ struct hyp_vm_info *vms = calloc((size_t)ndoms + 1, sizeof(*vms));
	size_t n = 0;
	for (int i = 0; i < ndoms; i++) {
		uint32_t id;
		if (vms && job_of_domain(doms[i], &id))
			fill_info(doms[i], id, &vms[n++]);
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

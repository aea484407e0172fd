/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Start and destroy a job's VM; hyp_vm_list.c lists them. */
#include "hyp_vm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "hyp_chan.h" /* hyp_now_ms */
#include "hyp_domain_xml.h"
#include "hyp_hugepages.h"
#include "hyp_overlay.h"
#include "hyp_proto.h"
#include "hyp_statedir.h"
#include "hyp_virt.h"

#define LOCK_TIMEOUT_S 60
#define READY_POLL_MS  20

static void silent_error_handler(void *data, virErrorPtr error)
{
	/* libvirt prints every error to stderr by default; ours carry them. */
}

int hyp_fail_virt(hyp_error *err, const char *fmt, ...)
{
	char context[HYP_ERROR_MSG_SIZE];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);

	virErrorPtr e = virGetLastError();
	int code = EIO;
	if (e && (e->code == VIR_ERR_NO_CONNECT || e->domain == VIR_FROM_RPC))
		code = ECONNREFUSED; /* libvirtd unreachable: a node fault */
	return hyp_fail(err, code, "%s: %s", context,
	                e && e->message ? e->message : "unknown libvirt error");
}

bool hyp_virt_no_domain(void)
{
	virErrorPtr e = virGetLastError();
	return e && (e->code == VIR_ERR_NO_DOMAIN || e->code == VIR_ERR_OPERATION_INVALID);
}

void hyp_vm_domain_name(uint32_t job_id, char *buf, size_t size)
{
	snprintf(buf, size, HYP_DOMAIN_PREFIX "%u", job_id);
}

int hyp_vm_connect(const struct hyp_config *cfg, struct hyp_vm_conn **ret_conn, hyp_error *err)
{
	virSetErrorFunc(NULL, silent_error_handler);
	struct hyp_vm_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return hyp_fail(err, ENOMEM, "out of memory");
	c->conn = virConnectOpen(cfg->libvirt_uri);
	if (!c->conn) {
		free(c);
		return hyp_fail_virt(err, "connecting to libvirt at '%s'", cfg->libvirt_uri);
	}
	*ret_conn = c;
	return 0;
}

void hyp_vm_disconnect(struct hyp_vm_conn *conn)
{
	if (!conn)
		return;
	virConnectClose(conn->conn);
	free(conn);
}

/* The domain for a job, or NULL (with no error) if it has none. */
static int lookup_domain(struct hyp_vm_conn *conn, uint32_t job_id, virDomainPtr *ret_dom,
                         hyp_error *err)
{
	char name[64];
	hyp_vm_domain_name(job_id, name, sizeof(name));
	virDomainPtr dom = virDomainLookupByName(conn->conn, name);
	if (!dom && !hyp_virt_no_domain())
		return hyp_fail_virt(err, "looking up domain '%s'", name);
	*ret_dom = dom;
	return 0;
}

/* Everything a job holds, given its lock: domain, state directory. */
static int teardown_locked(struct hyp_vm_conn *conn, const char *job_dir, uint32_t job_id,
                           hyp_error *err)
{
	_cleanup_virdomain_ virDomainPtr dom = NULL;
	int r = lookup_domain(conn, job_id, &dom, err);
	if (r < 0)
		return r;
	if (dom && virDomainDestroy(dom) < 0 && !hyp_virt_no_domain())
		return hyp_fail_virt(err, "destroying domain of job %u", job_id);
	return hyp_job_dir_remove(job_dir, err);
}

static int start_locked(struct hyp_vm_conn *conn, const struct hyp_vm_spec *spec, hyp_error *err)
{
	_cleanup_virdomain_ virDomainPtr dom = NULL;
	int r = lookup_domain(conn, spec->job_id, &dom, err);
	if (r < 0)
		return r;
	if (dom)
		return hyp_fail(err, EEXIST, "job %u already has a VM (domain '%s')", spec->job_id,
		                spec->name);
	r = hyp_image_check(&spec->image, err);
	if (r < 0)
		return r;
	if (spec->hugepage_kib && (r = hyp_hugepages_check(NULL, spec, err)) < 0)
		return r;
	/* No domain but a directory: left by a crash; we hold the lock. */
	r = hyp_job_dir_remove(spec->job_dir, err);
	if (r < 0)
		return r;
	r = hyp_job_dir_create(spec->job_dir, spec->nexec_ports, spec->uid, spec->gid, err);
	if (r < 0)
		return r;
	if (spec->overlay &&
	    (r = hyp_overlay_create(&spec->image, spec->overlay, spec->uid, spec->gid, err)) < 0)
		return r;

	_cleanup_free_ char *xml = NULL;
	r = hyp_domain_xml(spec, &xml, err);
	if (r < 0)
		return r;
	dom = virDomainCreateXML(conn->conn, xml, 0);
	if (!dom)
		return hyp_fail_virt(err, "starting domain '%s'", spec->name);
	return hyp_job_dir_chown_sockets(spec->job_dir, spec->uid, spec->gid, err);
}

int hyp_vm_start(struct hyp_vm_conn *conn, const struct hyp_config *cfg,
                 const struct hyp_vm_spec *spec, hyp_error *err)
{
	int lock = hyp_job_lock(cfg->state_dir, spec->job_id, LOCK_TIMEOUT_S, err);
	if (lock < 0)
		return hyp_error_prefix(err, "starting VM for job %u", spec->job_id);

	int r = start_locked(conn, spec, err);
	bool failed = r < 0;
	if (failed && r != -EEXIST) {
		hyp_error ignored;
		teardown_locked(conn, spec->job_dir, spec->job_id, &ignored);
	}
	hyp_job_unlock(cfg->state_dir, spec->job_id, lock, failed && r != -EEXIST);
	if (failed)
		return hyp_error_prefix(err, "starting VM for job %u", spec->job_id);
	return 0;
}

int hyp_vm_destroy(struct hyp_vm_conn *conn, const struct hyp_config *cfg, uint32_t job_id,
                   hyp_error *err)
{
	_cleanup_free_ char *job_dir = hyp_job_dir(cfg->state_dir, job_id);
	if (!job_dir)
		return hyp_fail(err, ENOMEM, "out of memory");
	int lock = hyp_job_lock(cfg->state_dir, job_id, LOCK_TIMEOUT_S, err);
	if (lock < 0)
		return hyp_error_prefix(err, "stopping VM of job %u", job_id);
	int r = teardown_locked(conn, job_dir, job_id, err);
	hyp_job_unlock(cfg->state_dir, job_id, lock, r >= 0);
	if (r < 0)
		return hyp_error_prefix(err, "stopping VM of job %u", job_id);
	return 0;
}

/* libvirt's live XML records QEMU's VSERPORT_CHANGE events as
 * <target ... state='connected'/>: the guest opened the port. This is
 * QEMU's view of the virtio device, not data the guest sent. */
static int ctl_port_connected(virDomainPtr dom, bool *ret_connected, hyp_error *err)
{
	_cleanup_free_ char *xml = virDomainGetXMLDesc(dom, 0);
	if (!xml)
		return hyp_virt_no_domain() ? -ESRCH : hyp_fail_virt(err, "reading domain XML");
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL, XML_PARSE_NONET);
	if (!doc)
		return hyp_fail(err, EIO, "libvirt returned unparsable domain XML");
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr res =
	    ctx ? xmlXPathEvalExpression(
	              BAD_CAST "string(/domain/devices/channel/target[@name='" HYP_PORT_CTL
	                       "']/@state)",
	              ctx)
	        : NULL;
	*ret_connected = res && res->stringval && !strcmp((char *)res->stringval, "connected");
	xmlXPathFreeObject(res);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return 0;
}

int hyp_vm_wait_ready(struct hyp_vm_conn *conn, uint32_t job_id, unsigned timeout_s, hyp_error *err)
{
	long long deadline = hyp_now_ms() + timeout_s * 1000LL;
	for (;;) {
		_cleanup_virdomain_ virDomainPtr dom = NULL;
		int r = lookup_domain(conn, job_id, &dom, err);
		if (r < 0)
			return r;
		bool connected = false;
		if (dom && (r = ctl_port_connected(dom, &connected, err)) < 0 && r != -ESRCH)
			return r;
		if (!dom || r == -ESRCH)
			return hyp_fail(err, ESRCH,
			                "job %u: the guest stopped before its agent came up "
			                "(kernel panic or broken initramfs?)",
			                job_id);
		if (connected)
			return 0;
		if (hyp_now_ms() >= deadline)
			return hyp_fail(err, ETIMEDOUT,
			                "job %u: the guest's agent did not come up within %u s",
			                job_id, timeout_s);
		nanosleep(&(struct timespec){.tv_nsec = READY_POLL_MS * 1000000L}, NULL);
	}
}

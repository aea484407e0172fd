/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Start and destroy a job's VM; hyp_vm_list.c lists them. */
#include "hyp_vm.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "hyp_names.h"
#include "hyp_devices.h"
#include "hyp_domain_xml.h"
#include "hyp_hugepages.h"
#include "hyp_overlay.h"
#include "hyp_proto.h"
#include "hyp_resources.h"
#include "hyp_statedir.h"
#include "hyp_time.h"
#include "hyp_virt.h"
#include "hyp_virtiofs.h"

#define LOCK_TIMEOUT_S   60
#define READY_POLL_MS    20
#define CONNECT_RETRY_MS 10000
#define CONNECT_POLL_MS  200

static void silent_error_handler(void *data, virErrorPtr error)
{
	/* libvirt prints every error to stderr by default; ours carry them. */
}

int hyp_fail_virt(virConnectPtr conn, hyp_error *err, const char *fmt, ...)
{
	char context[HYP_ERROR_MSG_SIZE];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);

	/* A copy: every libvirt call, virConnectIsAlive included, resets the
	 * thread's last error, which would leave "unknown libvirt error". */
	virErrorPtr e = virSaveLastError();
	/* Only a lost connection is a node fault (libvirtd died or hangs);
	 * an error libvirtd reports over a working connection (bad XML, QEMU
	 * refusing to start, an RPC limit) is about this job. */
	bool lost = (e && e->code == VIR_ERR_NO_CONNECT) || (conn && virConnectIsAlive(conn) != 1);
	int code = lost ? ECONNREFUSED : EIO;
	int r = hyp_fail(err, code, "%s: %s", context,
	                 e && e->message ? e->message : "unknown libvirt error");
	virFreeError(e);
	return r;
}

bool hyp_virt_no_domain(void)
{
	virErrorPtr e = virGetLastError();
	return e && (e->code == VIR_ERR_NO_DOMAIN || e->code == VIR_ERR_OPERATION_INVALID);
}

/*
 * libvirt's client writes to its socket without MSG_NOSIGNAL: a libvirtd
 * that goes away mid-call (a restart) would kill the caller, slurmstepd or
 * hyperionctl, with SIGPIPE. So the thread blocks SIGPIPE while it holds a
 * connection: the write fails with EPIPE, libvirt reports a lost
 * connection, and the signal left pending is discarded on disconnect.
 */
static void sigpipe_block(struct hyp_vm_conn *c)
{
	sigset_t pipe, pending;
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	c->sigpipe_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, &c->saved_mask);
}

static void sigpipe_restore(const struct hyp_vm_conn *c)
{
	sigset_t pipe, pending;
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	if (!c->sigpipe_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE))
		sigtimedwait(&pipe, NULL, &(struct timespec){0});
	pthread_sigmask(SIG_SETMASK, &c->saved_mask, NULL);
}

int hyp_vm_connect(const struct hyp_config *cfg, struct hyp_vm_conn **ret_conn, hyp_error *err)
{
	virSetErrorFunc(NULL, silent_error_handler);
	struct hyp_vm_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return hyp_fail(err, ENOMEM, "out of memory");
	sigpipe_block(c);
	/* A libvirtd being restarted refuses connections for a moment: only
	 * one that stays away is a node fault. */
	long long deadline = hyp_now_ms() + CONNECT_RETRY_MS;
	while (!(c->conn = virConnectOpen(cfg->libvirt_uri)) && hyp_now_ms() < deadline)
		nanosleep(&(struct timespec){.tv_nsec = CONNECT_POLL_MS * 1000000L}, NULL);
	if (!c->conn) {
		virErrorPtr e = virGetLastError();
		hyp_fail(err, ECONNREFUSED, "connecting to libvirt at '%s': %s", cfg->libvirt_uri,
		         e && e->message ? e->message : "unknown libvirt error");
		sigpipe_restore(c);
		free(c);
		return -ECONNREFUSED;
	}
	*ret_conn = c;
	return 0;
}

void hyp_vm_disconnect(struct hyp_vm_conn *conn)
{
	if (!conn)
		return;
	virConnectClose(conn->conn);
	sigpipe_restore(conn);
	free(conn);
}

/* The domain of that name, or NULL (with no error) if there is none. */
static int lookup_domain(struct hyp_vm_conn *conn, const char *name, virDomainPtr *ret_dom,
                         hyp_error *err)
{
	virDomainPtr dom = virDomainLookupByName(conn->conn, name);
	if (!dom && !hyp_virt_no_domain())
		return hyp_fail_virt(conn->conn, err, "looking up domain '%s'", name);
	*ret_dom = dom;
	return 0;
}

int hyp_vm_domain_destroy(struct hyp_vm_conn *conn, const char *name, hyp_error *err)
{
	_cleanup_virdomain_ virDomainPtr dom = NULL;
	int r = lookup_domain(conn, name, &dom, err);
	if (r < 0 || !dom)
		return r;
	if (virDomainDestroy(dom) < 0)
		return hyp_virt_no_domain()
		           ? 0
		           : hyp_fail_virt(conn->conn, err, "destroying domain '%s'", name);
	return 1;
}

/* A job's names on this node, computed once per operation. */
struct job_names {
	char *domain;
	char *job_dir;
	char *resources;
};

static void job_names_free(struct job_names *n)
{
	free(n->domain);
	free(n->job_dir);
	free(n->resources);
}

static int job_names(const struct hyp_config *cfg, const char *node, uint32_t job_id,
                     struct job_names *ret, hyp_error *err)
{
	ret->domain = hyp_domain_name(node, job_id);
	ret->job_dir = hyp_job_dir(cfg->state_dir, node, job_id);
	ret->resources = hyp_job_resources_path(cfg->state_dir, node, job_id);
	if (!ret->domain || !ret->job_dir || !ret->resources)
		return hyp_fail(err, ENOMEM, "out of memory");
	return 0;
}

/* Release the resource list, then what the names say the job may hold
 * even if the list was lost: everything, idempotently. Holds the lock. */
static int teardown_locked(struct hyp_vm_conn *conn, const struct job_names *n,
                           const struct hyp_release_ctx *ctx, hyp_error *err)
{
	struct hyp_release_ctx c = ctx ? *ctx : (struct hyp_release_ctx){0};
	c.conn = conn;
	int r = hyp_resources_release(n->resources, &c, err);
	if (r >= 0 && (r = hyp_vm_domain_destroy(conn, n->domain, err)) >= 0)
		r = hyp_job_dir_remove(n->job_dir, err);
	return r < 0 ? r : 0;
}

/* The job's metadata in its domain: its owner's uid. */
static int domain_owner(virDomainPtr dom, uid_t *ret_uid)
{
	_cleanup_free_ char *xml =
	    virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, HYP_XML_NS, 0);
	if (!xml)
		return -ENOENT;
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "metadata.xml", NULL, XML_PARSE_NONET);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlChar *uid = root ? xmlGetProp(root, BAD_CAST "uid") : NULL;
	int r = -ENOENT;
	if (uid) {
		char *end;
		unsigned long v = strtoul((char *)uid, &end, 10);
		if (!*end && end != (char *)uid) {
			*ret_uid = (uid_t)v;
			r = 0;
		}
	}
	xmlFree(uid);
	xmlFreeDoc(doc);
	return r;
}

/* A running domain of this job's user whose start completed (its list
 * says ready, so its sockets are the user's): a later step reuses it.
 * Anything else under the job's name (a VM leaked under a reused job id,
 * a start killed half-way) is released and started afresh. */
static bool reusable(virDomainPtr dom, const struct hyp_vm_spec *spec, const char *resources)
{
	int state, reason;
	uid_t owner;
	bool ready = false;
	hyp_error ignored;
	return virDomainGetState(dom, &state, &reason, 0) == 0 && state == VIR_DOMAIN_RUNNING &&
	       domain_owner(dom, &owner) == 0 && owner == spec->uid &&
	       hyp_resources_has(resources, HYP_RES_READY, &ready, &ignored) == 0 && ready;
}

/* Each resource is listed before it is acquired. */
static int acquire_locked(struct hyp_vm_conn *conn, const struct hyp_config *cfg,
                          const struct hyp_vm_spec *spec, const struct job_names *n, hyp_error *err)
{
	int r = hyp_resources_add(n->resources, HYP_RES_MANAGER, spec->manager, err);
	if (r >= 0)
		r = hyp_resources_add(n->resources, HYP_RES_DIR, spec->job_dir, err);
	if (r >= 0)
		r = hyp_job_dir_create(spec->job_dir, spec->nexec_ports, spec->uid, spec->gid, err);
	if (r >= 0 && spec->overlay &&
	    (r = hyp_resources_add(n->resources, HYP_RES_FILE, spec->overlay, err)) >= 0)
		r = hyp_overlay_create(&spec->image, spec->overlay, spec->uid, spec->gid, err);
	if (r >= 0)
		r = hyp_virtiofs_start(spec, n->resources, err);
	if (r >= 0)
		r = hyp_net_acquire(&spec->net, n->resources, err);
	if (r >= 0)
		r = hyp_devices_acquire(cfg, spec, n->resources, err);
	_cleanup_free_ char *xml = NULL;
	if (r >= 0)
		r = hyp_domain_xml(spec, &xml, err);
	if (r >= 0)
		r = hyp_resources_add(n->resources, HYP_RES_DOMAIN, spec->name, err);
	if (r < 0)
		return r;
	_cleanup_virdomain_ virDomainPtr dom = virDomainCreateXML(conn->conn, xml, 0);
	if (!dom)
		return hyp_fail_virt(conn->conn, err, "starting domain '%s'", spec->name);
	r = hyp_job_dir_chown_sockets(spec->job_dir, spec->uid, spec->gid, err);
	return r < 0 ? r : hyp_resources_add(n->resources, HYP_RES_READY, "-", err);
}

static int start_locked(struct hyp_vm_conn *conn, const struct hyp_config *cfg,
                        const struct hyp_vm_spec *spec, const struct job_names *n, hyp_error *err)
{
	_cleanup_virdomain_ virDomainPtr dom = NULL;
	int r = lookup_domain(conn, spec->name, &dom, err);
	if (r < 0)
		return r;
	if (dom && reusable(dom, spec, n->resources))
		return HYP_VM_REUSED;
	r = hyp_image_check(&spec->image, err);
	if (r >= 0 && spec->hugepage_kib)
		r = hyp_hugepages_check(NULL, spec, err);
	if (r >= 0)
		r = hyp_devices_ready(spec, NULL, err);
	/* Whatever is left under this job's name is not a usable VM. */
	if (r >= 0)
		r = teardown_locked(conn, n, NULL, err);
	return r < 0 ? r : acquire_locked(conn, cfg, spec, n, err);
}

int hyp_vm_start(struct hyp_vm_conn *conn, const struct hyp_config *cfg,
                 const struct hyp_vm_spec *spec, hyp_error *err)
{
	_cleanup_(job_names_free) struct job_names n = {0};
	int r = job_names(cfg, spec->node, spec->job_id, &n, err);
	if (r < 0)
		return r;
	int lock = hyp_job_lock(cfg->state_dir, spec->node, spec->job_id, LOCK_TIMEOUT_S, err);
	if (lock < 0)
		return hyp_error_prefix(err, "starting VM for job %u", spec->job_id);

	r = start_locked(conn, cfg, spec, &n, err);
	if (r < 0) {
		hyp_error ignored;
		teardown_locked(conn, &n, NULL, &ignored);
	}
	hyp_job_unlock(cfg->state_dir, spec->node, spec->job_id, lock, r < 0);
	if (r < 0)
		return hyp_error_prefix(err, "starting VM for job %u", spec->job_id);
	return r;
}

static int destroy(struct hyp_vm_conn *conn, const struct hyp_config *cfg, const char *node,
                   uint32_t job_id, const struct hyp_release_ctx *ctx, unsigned lock_timeout_s,
                   hyp_error *err)
{
	_cleanup_(job_names_free) struct job_names n = {0};
	int r = job_names(cfg, node, job_id, &n, err);
	if (r < 0)
		return r;
	int lock = hyp_job_lock(cfg->state_dir, node, job_id, lock_timeout_s, err);
	if (lock < 0)
		return hyp_error_prefix(err, "stopping VM of job %u", job_id);
	r = teardown_locked(conn, &n, ctx, err);
	hyp_job_unlock(cfg->state_dir, node, job_id, lock, r >= 0);
	if (r < 0)
		return hyp_error_prefix(err, "stopping VM of job %u", job_id);
	return 0;
}

int hyp_vm_destroy(struct hyp_vm_conn *conn, const struct hyp_config *cfg, const char *node,
                   uint32_t job_id, const struct hyp_release_ctx *ctx, hyp_error *err)
{
	return destroy(conn, cfg, node, job_id, ctx, LOCK_TIMEOUT_S, err);
}

int hyp_vm_release_dead(struct hyp_vm_conn *conn, const struct hyp_config *cfg, const char *node,
                        uint32_t job_id, const struct hyp_release_ctx *ctx, hyp_error *err)
{
	int r = destroy(conn, cfg, node, job_id, ctx, 0, err);
	if (r == -ETIMEDOUT) /* a start or stop holds it: not dead */
		return 0;
	return r < 0 ? r : 1;
}

/* libvirt's live XML records QEMU's VSERPORT_CHANGE events as
 * <target ... state='connected'/>: the guest opened the port. This is
 * QEMU's view of the virtio device, not data the guest sent. */
static int ctl_port_connected(virDomainPtr dom, bool *ret_connected, hyp_error *err)
{
	_cleanup_free_ char *xml = virDomainGetXMLDesc(dom, 0);
	if (!xml)
		return hyp_virt_no_domain()
		           ? -ESRCH
		           : hyp_fail_virt(virDomainGetConnect(dom), err, "reading domain XML");
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

int hyp_vm_wait_ready(struct hyp_vm_conn *conn, const char *name, unsigned timeout_s,
                      hyp_error *err)
{
	long long deadline = hyp_now_ms() + timeout_s * 1000LL;
	for (;;) {
		_cleanup_virdomain_ virDomainPtr dom = NULL;
		int r = lookup_domain(conn, name, &dom, err);
		if (r < 0)
			return r;
		bool connected = false;
		if (dom && (r = ctl_port_connected(dom, &connected, err)) < 0 && r != -ESRCH)
			return r;
		if (!dom || r == -ESRCH)
			return hyp_fail(err, ESRCH,
			                "%s: the guest stopped before its agent came up "
			                "(kernel panic or broken initramfs?)",
			                name);
		if (connected)
			return 0;
		if (hyp_now_ms() >= deadline)
			return hyp_fail(err, ETIMEDOUT,
			                "%s: the guest's agent did not come up within %u s", name,
			                timeout_s);
		nanosleep(&(struct timespec){.tv_nsec = READY_POLL_MS * 1000000L}, NULL);
	}
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hyp_check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/libvirt.h>

#include "hyp_catalog.h"
#include "hyp_cleanup.h"
#include "hyp_devices.h"
#include "hyp_hugepages.h"
#include "hyp_vm.h"

#define KVM_API 12 /* the only version Linux has had */

struct checker {
	const struct hyp_config *cfg;
	const char *root;
	hyp_check_report_fn report;
	void *data;
	int failures;
	struct hyp_capabilities caps;
};

static void reportf(struct checker *c, enum hyp_check_status st, const char *name, const char *fmt,
                    ...) HYP_PRINTF(4, 5);

static void reportf(struct checker *c, enum hyp_check_status st, const char *name, const char *fmt,
                    ...)
{
	char detail[HYP_ERROR_MSG_SIZE];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (st == HYP_CHECK_FAIL)
		c->failures++;
	c->report(c->data, st, name, detail);
}

static void path_in(const struct checker *c, const char *path, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", strcmp(c->root, "/") ? c->root : "", path);
}

static bool on_real_root(const struct checker *c)
{
	return !strcmp(c->root, "/");
}

static void check_kvm(struct checker *c)
{
	if (c->cfg->domain_type == HYP_DOMAIN_QEMU) {
		c->caps.tcg = true;
		reportf(c, HYP_CHECK_OK, "kvm",
		        "domain_type = qemu: guests run under emulation (TCG)");
		return;
	}
	char dev[512];
	path_in(c, "/dev/kvm", dev, sizeof(dev));
	_cleanup_close_ int fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		reportf(c, HYP_CHECK_FAIL, "kvm", "%s: %s (domain_type = kvm needs it)", dev,
		        strerror(errno));
		return;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && (st.st_mode & 0006) != 0006)
		reportf(c, HYP_CHECK_FAIL, "kvm",
		        "%s is mode %04o: QEMU runs as the job's user and needs it 0666", dev,
		        (unsigned)(st.st_mode & 07777));
	else if (on_real_root(c) && ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API)
		reportf(c, HYP_CHECK_FAIL, "kvm", "%s does not answer the KVM API", dev);
	else {
		c->caps.kvm = true;
		reportf(c, HYP_CHECK_OK, "kvm", "%s usable", dev);
	}
}

static void check_libvirt(struct checker *c)
{
	struct hyp_vm_conn *conn = NULL;
	hyp_error err = {0};
	if (hyp_vm_connect(c->cfg, &conn, &err) < 0) {
		reportf(c, HYP_CHECK_FAIL, "libvirt", "%s", err.msg);
		return;
	}
	hyp_vm_disconnect(conn);
	reportf(c, HYP_CHECK_OK, "libvirt", "libvirtd answers at %s", c->cfg->libvirt_uri);
}

/* QEMU runs as the job's user: libvirt's per-domain directories under
 * /var/lib/libvirt/qemu are the user's, but the user must pass through. */
static void check_libvirt_dir(struct checker *c)
{
	char dir[512];
	struct stat st;
	path_in(c, "/var/lib/libvirt/qemu", dir, sizeof(dir));
	if (stat(dir, &st) < 0)
		reportf(c, HYP_CHECK_FAIL, "libvirt-dir", "%s: %s", dir, strerror(errno));
	else if (!(st.st_mode & S_IXOTH))
		reportf(c, HYP_CHECK_FAIL, "libvirt-dir",
		        "%s is mode %04o: job users' QEMUs cannot reach their domain directories "
		        "(chmod o+x)",
		        dir, (unsigned)(st.st_mode & 07777));
	else
		reportf(c, HYP_CHECK_OK, "libvirt-dir", "%s reachable by job users", dir);
}

static void check_state_dir(struct checker *c)
{
	struct stat st;
	const char *dir = c->cfg->state_dir;
	if (stat(dir, &st) < 0 && errno == ENOENT)
		reportf(c, HYP_CHECK_OK, "state_dir", "%s (created at the first VM start)", dir);
	else if (stat(dir, &st) < 0)
		reportf(c, HYP_CHECK_FAIL, "state_dir", "%s: %s", dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		reportf(c, HYP_CHECK_FAIL, "state_dir",
		        "%s must be a directory of root's that others cannot write", dir);
	else
		reportf(c, HYP_CHECK_OK, "state_dir", "%s", dir);
}

static void check_images(struct checker *c)
{
	_cleanup_(hyp_catalog_free) struct hyp_catalog cat = {0};
	hyp_error err = {0};
	if (hyp_catalog_load(c->cfg->image_catalog, &cat, &err) < 0) {
		reportf(c, HYP_CHECK_FAIL, "images", "%s", err.msg);
		return;
	}
	size_t usable = 0;
	for (size_t i = 0; i < cat.n; i++) {
		char name[160];
		snprintf(name, sizeof(name), "image %s", cat.images[i].name);
		/* A broken image fails its own jobs, with this message; only a
		 * node without any usable image cannot run VM jobs. */
		if (hyp_image_check(&cat.images[i], &err) < 0)
			reportf(c, HYP_CHECK_WARN, name, "%s", err.msg);
		else {
			usable++;
			reportf(c, HYP_CHECK_OK, name, "files present, owned by root");
		}
	}
	if (usable == 0)
		reportf(c, HYP_CHECK_FAIL, "images", "the catalog %s has no usable image", cat.dir);
}

static long free_pages(const struct checker *c, unsigned long kib)
{
	char path[512], rel[128];
	snprintf(rel, sizeof(rel), "/sys/kernel/mm/hugepages/hugepages-%lukB/free_hugepages", kib);
	path_in(c, rel, path, sizeof(path));
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	long n = -1;
	if (!f || fscanf(f, "%ld", &n) != 1)
		return -1;
	return n;
}

/* The site's default page size must have pages free; the others are
 * reported for the admin. */
static void check_hugepages(struct checker *c)
{
	static const char *const sizes[] = {"2M", "1G"};
	unsigned long dflt = 0;
	hyp_error err;
	if (c->cfg->hugepages_default)
		hyp_hugepage_size_parse(c->cfg->hugepages_default, &dflt, &err);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned long kib;
		hyp_hugepage_size_parse(sizes[i], &kib, &err);
		bool allowed =
		    c->cfg->hugepages_allowed && strcasestr(c->cfg->hugepages_allowed, sizes[i]);
		if (!allowed && kib != dflt)
			continue;
		char name[32];
		snprintf(name, sizeof(name), "hugepages %s", sizes[i]);
		long n = free_pages(c, kib);
		if (kib == dflt && n <= 0)
			reportf(c, HYP_CHECK_FAIL, name,
			        "the default (hugepages = %s) has %s free pages", sizes[i],
			        n < 0 ? "no" : "0");
		else if (n < 0)
			reportf(c, HYP_CHECK_SKIP, name, "not supported by this machine");
		else
			reportf(c, HYP_CHECK_OK, name, "%ld free", n);
	}
}

static void check_vfio(struct checker *c)
{
	char sys[512], vfio[512];
	path_in(c, "/sys", sys, sizeof(sys));
	path_in(c, "/dev/vfio/vfio", vfio, sizeof(vfio));
	if (!hyp_iommu_groups_present(sys))
		reportf(c, HYP_CHECK_SKIP, "vfio",
		        "no IOMMU groups: GPU and VF passthrough unavailable (enable the IOMMU)");
	else if (access(vfio, F_OK) < 0)
		reportf(c, HYP_CHECK_SKIP, "vfio", "%s missing: load vfio-pci", vfio);
	else {
		c->caps.vfio = true;
		reportf(c, HYP_CHECK_OK, "vfio", "IOMMU groups and %s present", vfio);
	}
}

int hyp_check_node(const struct hyp_config *cfg, const char *root, hyp_check_report_fn report,
                   void *data, struct hyp_capabilities *ret_caps)
{
	struct checker c = {.cfg = cfg, .root = root ? root : "/", .report = report, .data = data};
	check_kvm(&c);
	check_libvirt(&c);
	check_libvirt_dir(&c);
	check_state_dir(&c);
	check_images(&c);
	check_hugepages(&c);
	check_vfio(&c);
	c.failures += hyp_check_devices(cfg, c.root, c.caps.vfio, report, data);
	if (ret_caps)
		*ret_caps = c.caps;
	return c.failures;
}

void hyp_check_features(const struct hyp_capabilities *caps, int failures, char *buf, size_t size)
{
	if (failures || !(caps->kvm || caps->tcg)) {
		snprintf(buf, size, "%s", "");
		return;
	}
	snprintf(buf, size, "hyperion,%s%s", caps->kvm ? "hyperion_kvm" : "hyperion_tcg",
	         caps->vfio ? ",hyperion_vfio" : "");
}

const char *hyp_check_status_name(enum hyp_check_status s)
{
	switch (s) {
	case HYP_CHECK_OK:
		return "ok";
	case HYP_CHECK_SKIP:
		return "skip";
	case HYP_CHECK_WARN:
		return "warn";
	default:
		return "FAIL";
	}
}

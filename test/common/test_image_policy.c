/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-image settings (min_memory, users, groups) from a real catalog
 * directory, and what --vm-image resolves to: catalog names with their
 * access rules, user-supplied paths only where the site allows them.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_image_policy.h"
#include "hyp_overlay.h"

static char dir[64];

static void setup(void)
{
	umask(022);
	snprintf(dir, sizeof(dir), "/tmp/hyp-test-policy.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	chmod(dir, 0755);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(image_policy, .init = setup, .fini = teardown);

static void write_catalog(const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/images.conf", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert(fputs(text, f) >= 0);
	fclose(f);
}

/* This process's user and primary group names. */
static const char *me(void)
{
	struct passwd *pw = getpwuid(getuid());
	cr_assert_not_null(pw);
	return pw->pw_name;
}

static const char *my_group(void)
{
	struct group *g = getgrgid(getgid());
	cr_assert_not_null(g);
	return g->gr_name;
}

#define BASE "kind = appliance\nkernel = /k/vmlinuz\ninitrd = /k/initrd.img\n"

static void load(struct hyp_catalog *cat, const char *fmt, ...)
{
	char text[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	write_catalog(text);
	hyp_error err = {0};
	cr_assert_eq(hyp_catalog_load(dir, cat, &err), 0, "%s", err.msg);
}

Test(image_policy, catalog_keys)
{
	_cleanup_(hyp_catalog_free) struct hyp_catalog cat = {0};
	load(&cat, "[image big]\n" BASE "min_memory = 2048\nusers = alice,  bob carol\n"
	           "groups = hpc\ncmdline = mitigations=off\n");
	const struct hyp_image *img = &cat.images[0];
	cr_expect_eq(img->min_memory_mb, 2048);
	cr_expect_str_eq(img->users, "alice,bob,carol");
	cr_expect_str_eq(img->groups, "hpc");
	cr_expect_str_eq(img->cmdline, "mitigations=off");
	_cleanup_(hyp_image_free) struct hyp_image copy = {0};
	hyp_error err = {0};
	cr_assert_eq(hyp_image_copy(img, &copy, &err), 0);
	cr_expect_eq(copy.min_memory_mb, 2048);
	cr_expect_str_eq(copy.users, "alice,bob,carol");

	static const char *const bad[][2] = {
	    {"min_memory = 2G\n", "min_memory: bad value '2G'"},
	    {"min_memory = -1\n", "min_memory: bad value"},
	    {"users = a;b\n", "users: bad name 'a;b'"},
	    {"users = -x\n", "(user or group names: letters, digits"},
	    {"groups = ,\n", "groups: give one name or more"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text), "[image x]\n" BASE "%s", bad[i][0]);
		write_catalog(text);
		_cleanup_(hyp_catalog_free) struct hyp_catalog c = {0};
		cr_expect_lt(hyp_catalog_load(dir, &c, &err), 0, "%s accepted", bad[i][0]);
		cr_expect_not_null(strstr(err.msg, bad[i][1]), "'%s' lacks '%s'", err.msg,
		                   bad[i][1]);
	}
}

Test(image_policy, memory_with_the_vmm_reserve)
{
	struct hyp_image img = {.name = "deb", .min_memory_mb = 256};
	hyp_error err = {0};
	cr_expect_eq(hyp_image_memory_check(&img, 384, 128, &err), 0, "%s", err.msg);
	cr_expect_lt(hyp_image_memory_check(&img, 383, 128, &err), 0);
	cr_expect_str_eq(err.msg, "image 'deb' needs at least 256 MB of guest memory: 383 MB "
	                          "asked, minus 128 MB for the VMM, leaves 255 MB: ask for at "
	                          "least --mem=384M");
	/* no min_memory: Hyperion's own minimum (the appliance) */
	struct hyp_image app = {.name = "default"};
	cr_expect_lt(hyp_image_memory_check(&app, 20, 128, &err), 0);
	cr_expect_not_null(strstr(err.msg, "20 MB asked, minus 128 MB for the VMM, leaves 0 MB"),
	                   "%s", err.msg);
}

Test(image_policy, users_and_groups)
{
	_cleanup_(hyp_catalog_free) struct hyp_catalog cat = {0};
	load(&cat,
	     "[image open]\n" BASE "[image byuser]\n" BASE "users = nobody-else, %s\n"
	     "[image bygroup]\n" BASE "groups = %s\n[image closed]\n" BASE
	     "users = nobody-else\ngroups = no-such-group\n",
	     me(), my_group());
	struct hyp_config cfg = {.user_image_boot = "open"};
	hyp_error err = {0};
	const char *ok[] = {"open", "byuser", "bygroup"};
	for (size_t i = 0; i < 3; i++) {
		_cleanup_(hyp_image_free) struct hyp_image img = {0};
		cr_expect_eq(
		    hyp_image_resolve(&cfg, &cat, ok[i], getuid(), getgid(), false, &img, &err), 0,
		    "%s: %s", ok[i], err.msg);
	}
	_cleanup_(hyp_image_free) struct hyp_image img = {0};
	cr_expect_eq(hyp_image_resolve(&cfg, &cat, "closed", getuid(), getgid(), false, &img, &err),
	             -EACCES);
	char want[256];
	snprintf(want, sizeof(want),
	         "image 'closed' is restricted to users nobody-else and groups no-such-group "
	         "(you are %s)",
	         me());
	cr_expect_str_eq(err.msg, want);
}

Test(image_policy, user_paths)
{
	if (access(HYP_QEMU_IMG, X_OK) < 0)
		cr_skip_test("%s not installed (qemu-utils)", HYP_QEMU_IMG);
	char cmd[256], path[128];
	snprintf(path, sizeof(path), "%s/mine.qcow2", dir);
	snprintf(cmd, sizeof(cmd), HYP_QEMU_IMG " create -q -f qcow2 '%s' 100M", path);
	cr_assert_eq(system(cmd), 0);
	_cleanup_(hyp_catalog_free) struct hyp_catalog cat = {0};
	load(&cat, "[image default]\n" BASE "cmdline = quiet\n");
	struct hyp_config cfg = {.user_images = false, .user_image_boot = "default"};
	hyp_error err = {0};
	_cleanup_(hyp_image_free) struct hyp_image img = {0};
	cr_expect_eq(hyp_image_resolve(&cfg, &cat, path, getuid(), getgid(), false, &img, &err),
	             -EPERM);
	cr_expect_not_null(strstr(err.msg, "does not allow user-supplied images"), "%s", err.msg);

	cfg.user_images = true;
	cr_assert_eq(
	    hyp_image_resolve(&cfg, &cat, path, getuid(), getgid(), geteuid() == 0, &img, &err), 0,
	    "%s", err.msg);
	cr_expect_eq(img.kind, HYP_IMAGE_DISK);
	cr_expect_eq(img.disk_format, HYP_DISK_QCOW2);
	cr_expect_str_eq(img.disk, path);
	cr_expect_str_eq(img.kernel, "/k/vmlinuz");
	cr_expect_str_eq(img.cmdline, "quiet");
	cr_expect(img.user_supplied);
	cr_expect_eq(img.disk_size, 100ull << 20);

	_cleanup_(hyp_image_free) struct hyp_image bad = {0};
	cr_expect_lt(
	    hyp_image_resolve(&cfg, &cat, "nbd:host:1234", getuid(), getgid(), false, &bad, &err),
	    0);
	cr_expect_not_null(strstr(err.msg, "not an absolute path"), "%s", err.msg);
	cfg.user_image_boot = "missing";
	cr_expect_lt(hyp_image_resolve(&cfg, &cat, path, getuid(), getgid(), false, &bad, &err), 0);
	cr_expect_not_null(strstr(err.msg, "user_image_boot: unknown image 'missing'"), "%s",
	                   err.msg);
}

/* The overlay of a user's image is made without opening it (qemu-img -u):
 * root's qemu-img never reads a file of the user's. */
Test(image_policy, user_overlay_does_not_open_the_base)
{
	if (access(HYP_QEMU_IMG, X_OK) < 0)
		cr_skip_test("%s not installed (qemu-utils)", HYP_QEMU_IMG);
	char base[128], overlay[128], cmd[512];
	snprintf(base, sizeof(base), "%s/gone.qcow2", dir);
	snprintf(overlay, sizeof(overlay), "%s/overlay.qcow2", dir);
	struct hyp_image img = {.name = base,
	                        .kind = HYP_IMAGE_DISK,
	                        .disk = base,
	                        .disk_format = HYP_DISK_QCOW2,
	                        .user_supplied = true,
	                        .disk_size = 1ull << 30};
	hyp_error err = {0};
	cr_assert_eq(hyp_overlay_create(&img, overlay, getuid(), getgid(), &err), 0, "%s", err.msg);
	snprintf(cmd, sizeof(cmd),
	         HYP_QEMU_IMG
	         " info -U --output=json '%s' | grep -q '\"virtual-size\": 1073741824'",
	         overlay);
	cr_expect_eq(system(cmd), 0, "overlay does not have the given size");
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The image catalog: loading, its errors, lookups and file checks. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyp_catalog.h"
#include "hyp_cleanup.h"

static char dir[64];

static void setup(void)
{
	umask(022);
	snprintf(dir, sizeof(dir), "/tmp/hyp-test-catalog.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(catalog, .init = setup, .fini = teardown);

/* Writes dir/name; returns the path in a static buffer. */
static const char *write_file(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	cr_assert(fputs(text, f) >= 0);
	fclose(f);
	return path;
}

static void load_ok(struct hyp_catalog *cat)
{
	hyp_error err = {0};
	cr_assert_eq(hyp_catalog_load(dir, cat, &err), 0, "%s", err.msg);
}

#define APPLIANCE(name)                                                                            \
	"[image " name "]\nkind = appliance\nkernel = /k/vmlinuz\ninitrd = /k/initrd.img\n"

Test(catalog, appliance_and_disk_with_every_key)
{
	write_file("images.conf", "# site images\n"
	                          "[image default]\n"
	                          "kind = appliance\n"
	                          "kernel = /var/lib/hyperion/appliance/vmlinuz\n"
	                          "initrd = /var/lib/hyperion/appliance/initrd.img\n"
	                          "cmdline = loglevel=3\n"
	                          "description = the default appliance\n"
	                          "\n"
	                          "[image deb12]\n"
	                          "kind = disk\n"
	                          "disk = /images/deb12.img\n"
	                          "format = raw\n"
	                          "kernel = /k/vmlinuz\n");
	_cleanup_(hyp_catalog_free) struct hyp_catalog cat = {0};
	load_ok(&cat);
	cr_assert_eq(cat.n, 2);
	const struct hyp_image *a = &cat.images[0], *d = &cat.images[1];
	cr_expect_str_eq(a->name, "default");
	cr_expect_eq(a->kind, HYP_IMAGE_APPLIANCE);
	cr_expect_str_eq(a->kernel, "/var/lib/hyperion/appliance/vmlinuz");
	cr_expect_str_eq(a->initrd, "/var/lib/hyperion/appliance/initrd.img");
	cr_expect_str_eq(a->cmdline, "loglevel=3");
	cr_expect_str_eq(a->description, "the default appliance");
	cr_expect_null(a->disk);

	cr_expect_str_eq(d->name, "deb12");
	cr_expect_eq(d->kind, HYP_IMAGE_DISK);
	cr_expect_str_eq(d->disk, "/images/deb12.img");
	cr_expect_eq(d->disk_format, HYP_DISK_RAW);
	cr_expect_str_eq(d->kernel, "/k/vmlinuz");
	cr_expect_null(d->initrd, "initrd is optional for disks");
	cr_expect_null(d->cmdline);
	cr_expect_null(d->description);
	cr_expect_str_eq(cat.dir, dir);
}

Test(catalog, disk_format_defaults_to_qcow2)
{
	write_file("a.conf", "[image d]\nkind = disk\ndisk = /d.qcow2\nkernel = /k\ninitrd = /i\n");
	_cleanup_(hyp_catalog_free) struct hyp_catalog cat = {0};
	load_ok(&cat);
	cr_assert_eq(cat.n, 1);
	cr_expect_eq(cat.images[0].disk_format, HYP_DISK_QCOW2);
}

Test(catalog, files_in_name_order_only_conf_files)
{
	write_file("b.conf", APPLIANCE("b1") APPLIANCE("b2"));
	write_file("a.conf", APPLIANCE("a1"));
	write_file("README", "not a catalog file\n");
	write_file("c.conf.bak", "[image junk]\n");
	write_file(".hidden.conf", "[image junk]\n");
	write_file("Z.conf", APPLIANCE("z")); /* byte order: 'Z' before 'a' */
	_cleanup_(hyp_catalog_free) struct hyp_catalog cat = {0};
	load_ok(&cat);
	const char *want[] = {"z", "a1", "b1", "b2"};
	cr_assert_eq(cat.n, 4);
	for (size_t i = 0; i < cat.n; i++)
		cr_expect_str_eq(cat.images[i].name, want[i]);
}

Test(catalog, missing_or_empty_directory_is_an_empty_catalog)
{
	_cleanup_(hyp_catalog_free) struct hyp_catalog empty = {0};
	load_ok(&empty);
	cr_expect_eq(empty.n, 0);

	char missing[128];
	snprintf(missing, sizeof(missing), "%s/no-such-dir", dir);
	_cleanup_(hyp_catalog_free) struct hyp_catalog cat = {0};
	hyp_error err = {0};
	cr_assert_eq(hyp_catalog_load(missing, &cat, &err), 0, "%s", err.msg);
	cr_expect_eq(cat.n, 0);

	const struct hyp_image *img = NULL;
	cr_assert_eq(hyp_catalog_lookup(&cat, "default", &img, &err), -ENOENT);
	char want[256];
	snprintf(want, sizeof(want),
	         "unknown image 'default': no images are defined (none in %s/*.conf)", missing);
	cr_expect_str_eq(err.msg, want);
	cr_expect_null(img);
}

Test(catalog, catalog_path_that_is_a_file)
{
	const char *file = write_file("plain", "x\n");
	struct hyp_catalog cat = {0};
	hyp_error err = {0};
	cr_assert_eq(hyp_catalog_load(file, &cat, &err), -ENOTDIR);
	cr_expect(strstr(err.msg, "image catalog") && strstr(err.msg, "Not a directory"), "%s",
	          err.msg);
}

Test(catalog, lookup)
{
	write_file("a.conf", APPLIANCE("default") APPLIANCE("deb12"));
	_cleanup_(hyp_catalog_free) struct hyp_catalog cat = {0};
	load_ok(&cat);
	const struct hyp_image *img = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_catalog_lookup(&cat, "deb12", &img, &err), 0, "%s", err.msg);
	cr_expect_eq(img, &cat.images[1]);

	img = NULL;
	cr_assert_eq(hyp_catalog_lookup(&cat, "nope", &img, &err), -ENOENT);
	cr_expect_str_eq(err.msg, "unknown image 'nope' (available: default, deb12)");
	cr_expect_null(img, "output written on failure");
	cr_assert_eq(hyp_catalog_lookup(&cat, "Default", &img, &err), -ENOENT, "names are exact");
}

/* The whole message after "DIR/FILE:". */
static void expect_error(const char *file, const char *text, int code, const char *want)
{
	const char *path = write_file(file, text);
	char full[512];
	snprintf(full, sizeof(full), "%s:%s", path, want);
	struct hyp_catalog cat = {.n = 4242};
	hyp_error err = {0};
	cr_assert_eq(hyp_catalog_load(dir, &cat, &err), code, "'%s' accepted: %s", text, err.msg);
	cr_expect_str_eq(err.msg, full);
	cr_expect_eq(cat.n, 4242, "output written on failure");
	unlink(path);
}

Test(catalog, key_errors_name_file_and_line)
{
	expect_error("a.conf", "[image x]\nkind = appliance\nkernal = /k\n", -EINVAL,
	             "3: image 'x': unknown key 'kernal' (known: kind, kernel, initrd, cmdline, "
	             "disk, format, description, min_memory, users, groups)");
	expect_error("a.conf", "[image x]\nkind = vm\n", -EINVAL,
	             "2: kind: bad value 'vm' (allowed: appliance, disk)");
	expect_error("a.conf", "[image x]\nkind = disk\nformat = vmdk\n", -EINVAL,
	             "3: format: bad value 'vmdk' (allowed: qcow2, raw)");
	expect_error("a.conf", "[image x]\nkernel = vmlinuz\n", -EINVAL,
	             "2: kernel: 'vmlinuz' is not an absolute path");
	expect_error("a.conf", "[image x]\ninitrd =\n", -EINVAL,
	             "2: initrd: '' is not an absolute path");
	expect_error("a.conf", "[image x]\nkind = disk\ndisk = ../d.img\n", -EINVAL,
	             "3: disk: '../d.img' is not an absolute path");
	expect_error("a.conf", "[image x]\nkernel = /a\nkernel = /b\n", -EINVAL,
	             "3: image 'x': 'kernel' is set twice");
}

Test(catalog, section_errors_name_file_and_line)
{
	expect_error("a.conf", "kind = appliance\n", -EINVAL,
	             "1: 'kind' outside an [image NAME] section");
	expect_error("a.conf", "[pool gpus]\ndevices = 0000:3b:00.0\n", -EINVAL,
	             "2: unknown section [pool gpus] (expected [image NAME])");
	expect_error("a.conf", "[images]\n", -EINVAL,
	             "1: unknown section [images] (expected [image NAME])");
	expect_error("a.conf", "[image]\n", -EINVAL,
	             "1: unknown section [image] (expected [image NAME])");
	expect_error("a.conf", "[image a b]\nkind = disk\n", -EINVAL,
	             "2: bad image name 'a b' (letters, digits, '.', '_' and '-', starting with a "
	             "letter or digit, at most 64 characters)");
	expect_error("a.conf", "\n[image -x]\n", -EINVAL,
	             "2: bad image name '-x' (letters, digits, '.', '_' and '-', starting with a "
	             "letter or digit, at most 64 characters)");
}

Test(catalog, image_names)
{
	const char *good[] = {"a", "Z9", "rocky9.3", "deb_12-slim", "0"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text), APPLIANCE("%s"), good[i]);
		write_file("a.conf", text);
		_cleanup_(hyp_catalog_free) struct hyp_catalog cat = {0};
		load_ok(&cat);
		cr_expect_str_eq(cat.images[0].name, good[i]);
	}
	char longest[66];
	memset(longest, 'n', 64);
	longest[64] = '\0';
	char text[256];
	snprintf(text, sizeof(text), APPLIANCE("%s"), longest);
	write_file("a.conf", text);
	_cleanup_(hyp_catalog_free) struct hyp_catalog cat = {0};
	load_ok(&cat);

	strcat(longest, "n"); /* 65 characters */
	snprintf(text, sizeof(text), "[image %s]\n", longest);
	struct hyp_catalog bad = {0};
	hyp_error err = {0};
	write_file("a.conf", text);
	cr_expect_eq(hyp_catalog_load(dir, &bad, &err), -EINVAL);
	cr_expect(strstr(err.msg, "bad image name"), "%s", err.msg);
	const char *others[] = {".x", "_x", "a/b", "a:b", "é"};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		snprintf(text, sizeof(text), "[image %s]\n", others[i]);
		write_file("a.conf", text);
		cr_expect_eq(hyp_catalog_load(dir, &bad, &err), -EINVAL, "'%s'", others[i]);
	}
}

Test(catalog, required_keys_name_the_section_line)
{
	expect_error("a.conf", "[image x]\nkernel = /k\n", -EINVAL,
	             "1: image 'x': missing 'kind' (appliance or disk)");
	expect_error("a.conf", APPLIANCE("ok") "\n[image x]\n", -EINVAL,
	             "6: image 'x': missing 'kind' (appliance or disk)");
	expect_error("a.conf", "[image x]\nkind = appliance\nkernel = /k\n", -EINVAL,
	             "1: image 'x': missing 'initrd' (kind = appliance needs kernel and initrd)");
	expect_error("a.conf", "[image x]\nkind = appliance\ninitrd = /i\n", -EINVAL,
	             "1: image 'x': missing 'kernel' (kind = appliance needs kernel and initrd)");
	expect_error("a.conf", "[image x]\nkind = disk\nkernel = /k\ninitrd = /i\n", -EINVAL,
	             "1: image 'x': missing 'disk' (kind = disk needs disk and kernel; initrd is "
	             "usually the appliance's)");
	expect_error("a.conf", "[image x]\nkind = disk\ndisk = /d\n", -EINVAL,
	             "1: image 'x': missing 'kernel' (kind = disk needs disk and kernel; initrd is "
	             "usually the appliance's)");
	expect_error("a.conf", APPLIANCE("x") "disk = /d\n", -EINVAL,
	             "1: image 'x': 'disk' is only for kind = disk");
	expect_error("a.conf", APPLIANCE("x") "format = raw\n", -EINVAL,
	             "1: image 'x': 'format' is only for kind = disk");
}

Test(catalog, duplicate_names)
{
	char first[256], want[512];
	snprintf(first, sizeof(first), "%s/a.conf", dir);
	snprintf(want, sizeof(want), "5: image 'x' is already defined in %s", first);
	expect_error("a.conf", APPLIANCE("x") APPLIANCE("x"), -EEXIST, want);

	write_file("a.conf", APPLIANCE("x"));
	expect_error("b.conf", APPLIANCE("y") APPLIANCE("x"), -EEXIST, want);
}

Test(catalog, shipped_default_catalog)
{
	const char *src = getenv("HYP_SRCDIR");
	cr_assert_not_null(src, "HYP_SRCDIR is set by meson");
	char path[512];
	snprintf(path, sizeof(path), "%s/etc/images.d", src);
	_cleanup_(hyp_catalog_free) struct hyp_catalog cat = {0};
	hyp_error err = {0};
	cr_assert_eq(hyp_catalog_load(path, &cat, &err), 0, "%s", err.msg);
	const struct hyp_image *img;
	cr_assert_eq(hyp_catalog_lookup(&cat, "default", &img, &err), 0, "%s", err.msg);
	cr_expect_eq(img->kind, HYP_IMAGE_APPLIANCE);
	cr_expect_str_eq(img->kernel, "/var/lib/hyperion/appliance/vmlinuz");
	cr_expect_str_eq(img->initrd, "/var/lib/hyperion/appliance/initrd.img");
	cr_expect_eq(cat.n, 1, "the disk example is commented out");
}

static struct hyp_image test_image(const char *kernel, const char *initrd, const char *disk)
{
	return (struct hyp_image){
	    .name = "x",
	    .kind = disk ? HYP_IMAGE_DISK : HYP_IMAGE_APPLIANCE,
	    .kernel = (char *)kernel,
	    .initrd = (char *)initrd,
	    .disk = (char *)disk,
	};
}

/* hyp_image_check, trusting the files the test itself made when it does
 * not run as root. */
static int check(const struct hyp_image *img, hyp_error *err)
{
	return hyp_image_check_owner(img, geteuid(), err);
}

Test(catalog, check_accepts_readable_regular_files)
{
	char k[128], i[128], d[128];
	snprintf(k, sizeof(k), "%s", write_file("vmlinuz", "kernel"));
	snprintf(i, sizeof(i), "%s", write_file("initrd.img", "initrd"));
	snprintf(d, sizeof(d), "%s", write_file("disk.qcow2", "disk"));
	char link[160];
	snprintf(link, sizeof(link), "%s/vmlinuz-link", dir);
	cr_assert_eq(symlink(k, link), 0);
	hyp_error err = {0};
	struct hyp_image img = test_image(link, i, NULL);
	cr_expect_eq(check(&img, &err), 0, "%s", err.msg);
	img = test_image(k, NULL, d);
	cr_expect_eq(check(&img, &err), 0, "disk without initrd: %s", err.msg);
}

Test(catalog, check_names_image_file_and_reason)
{
	char k[128], missing[128], want[512];
	snprintf(k, sizeof(k), "%s", write_file("vmlinuz", "kernel"));
	snprintf(missing, sizeof(missing), "%s/nope", dir);
	hyp_error err = {0};

	struct hyp_image img = test_image(missing, k, NULL);
	cr_expect_eq(check(&img, &err), -ENOENT);
	snprintf(want, sizeof(want), "image 'x': kernel '%s': No such file or directory", missing);
	cr_expect_str_eq(err.msg, want);

	img = test_image(k, dir, NULL);
	cr_expect_eq(check(&img, &err), -EINVAL);
	snprintf(want, sizeof(want), "image 'x': initrd '%s': not a regular file", dir);
	cr_expect_str_eq(err.msg, want);

	img = test_image(k, k, missing);
	cr_expect_eq(check(&img, &err), -ENOENT);
	snprintf(want, sizeof(want), "image 'x': disk '%s': No such file or directory", missing);
	cr_expect_str_eq(err.msg, want);
}

Test(catalog, check_refuses_a_fifo_without_hanging, .timeout = 10)
{
	char k[128], fifo[128];
	snprintf(k, sizeof(k), "%s", write_file("vmlinuz", "kernel"));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	hyp_error err = {0};
	struct hyp_image img = test_image(k, fifo, NULL);
	cr_expect_eq(check(&img, &err), -EINVAL);
	cr_expect(strstr(err.msg, "not a regular file"), "%s", err.msg);
}

Test(catalog, check_unreadable_file)
{
	if (geteuid() == 0) {
		teardown(); /* a skipped test does not get its .fini */
		cr_skip_test("root reads every file");
	}
	char k[128];
	snprintf(k, sizeof(k), "%s", write_file("vmlinuz", "kernel"));
	chmod(k, 0);
	hyp_error err = {0};
	struct hyp_image img = test_image(k, k, NULL);
	cr_expect_eq(check(&img, &err), -EACCES);
	cr_expect(strstr(err.msg, "Permission denied"), "%s", err.msg);
}

/* dir/name (a directory, mode `mode` exactly); returns the path in a
 * static buffer. */
static const char *make_dir(const char *name, mode_t mode)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(mkdir(path, 0700), 0, "%s", path);
	cr_assert_eq(chmod(path, mode), 0);
	return path;
}

/* The image check refuses `path` as a kernel, naming `bad` (the file or a
 * directory above it, "directory" or "file") and why. */
static void expect_untrusted(const char *path, const char *kind, const char *bad, const char *why)
{
	char want[1024];
	hyp_error err = {0};
	struct hyp_image img = test_image(path, path, NULL);
	cr_expect_eq(check(&img, &err), -EPERM, "%s accepted", path);
	snprintf(want, sizeof(want),
	         "image 'x': kernel '%s' refused: %s '%s' is %s: users other than root could "
	         "change it (it and every directory above it must be root's and not group- or "
	         "world-writable)",
	         path, kind, bad, why);
	cr_expect_str_eq(err.msg, want);
}

Test(catalog, check_refuses_files_users_can_write)
{
	char k[128];
	snprintf(k, sizeof(k), "%s", write_file("vmlinuz", "kernel"));
	cr_assert_eq(chmod(k, 0646), 0);
	expect_untrusted(k, "file", k, "world-writable");
	struct stat st;
	cr_assert_eq(stat(k, &st), 0);
	char why[64];
	snprintf(why, sizeof(why), "writable by group %u", (unsigned)st.st_gid);
	cr_assert_eq(chmod(k, 0664), 0);
	expect_untrusted(k, "file", k, why);
	cr_assert_eq(chmod(k, 0444), 0);
	hyp_error err = {0};
	struct hyp_image img = test_image(k, k, NULL);
	cr_expect_eq(check(&img, &err), 0, "%s", err.msg);
}

Test(catalog, check_refuses_directories_users_can_write)
{
	char sub[160], k[192];
	snprintf(sub, sizeof(sub), "%s", make_dir("open", 0777));
	snprintf(k, sizeof(k), "%s/vmlinuz", sub);
	write_file("open/vmlinuz", "kernel");
	expect_untrusted(k, "directory", sub, "world-writable");
	struct stat st;
	cr_assert_eq(stat(sub, &st), 0);
	char why[64];
	snprintf(why, sizeof(why), "writable by group %u", (unsigned)st.st_gid);
	cr_assert_eq(chmod(sub, 0775), 0);
	expect_untrusted(k, "directory", sub, why);
	/* Sticky: only the owner of an entry may rename or remove it. */
	cr_assert_eq(chmod(sub, 01777), 0);
	hyp_error err = {0};
	struct hyp_image img = test_image(k, k, NULL);
	cr_expect_eq(check(&img, &err), 0, "sticky directory: %s", err.msg);
}

/* A symlink is followed: what counts is who can change its target, and
 * the directories on the way there. */
Test(catalog, check_follows_symlinks)
{
	char sub[160], k[192], abs_link[192], rel_link[192];
	snprintf(sub, sizeof(sub), "%s", make_dir("open", 0777));
	snprintf(k, sizeof(k), "%s/vmlinuz", sub);
	write_file("open/vmlinuz", "kernel");
	snprintf(abs_link, sizeof(abs_link), "%s/abs-link", dir);
	snprintf(rel_link, sizeof(rel_link), "%s/rel-link", dir);
	cr_assert_eq(symlink(k, abs_link), 0);
	cr_assert_eq(symlink("open/vmlinuz", rel_link), 0);
	expect_untrusted(abs_link, "directory", sub, "world-writable");
	expect_untrusted(rel_link, "directory", sub, "world-writable");
	cr_assert_eq(chmod(sub, 0755), 0);
	hyp_error err = {0};
	struct hyp_image img = test_image(abs_link, rel_link, NULL);
	cr_expect_eq(check(&img, &err), 0, "%s", err.msg);
}

/* Only root's files: a file or directory of another owner is refused. As
 * a plain user the test's own files are that other owner; as root they are
 * given to nobody (65534). */
Test(catalog, check_refuses_files_not_owned_by_root)
{
	char k[128], sub[160], k2[192], why[256];
	snprintf(k, sizeof(k), "%s", write_file("vmlinuz", "kernel"));
	snprintf(sub, sizeof(sub), "%s", make_dir("sub", 0755));
	snprintf(k2, sizeof(k2), "%s/vmlinuz", sub);
	write_file("sub/vmlinuz", "kernel");
	uid_t other = geteuid() ? geteuid() : 65534;
	if (geteuid() == 0)
		cr_assert_eq(chown(k, other, (gid_t)-1), 0);
	snprintf(why, sizeof(why), "owned by uid %u, not root", (unsigned)other);
	hyp_error err = {0};
	struct hyp_image img = test_image(k, NULL, NULL);
	cr_expect_eq(hyp_image_check(&img, &err), -EPERM);
	cr_expect(strstr(err.msg, why), "%s", err.msg);
	if (geteuid() != 0) {
		snprintf(why, sizeof(why), "directory '%s' is owned by uid %u", dir,
		         (unsigned)other);
	} else {
		cr_assert_eq(chown(sub, other, (gid_t)-1), 0);
		snprintf(why, sizeof(why), "directory '%s' is owned by uid %u", sub,
		         (unsigned)other);
	}
	img = test_image(k2, NULL, NULL);
	cr_expect_eq(hyp_image_check(&img, &err), -EPERM);
	cr_expect(strstr(err.msg, why), "%s", err.msg);
}

Test(catalog, copy_is_deep)
{
	struct hyp_image src = {
	    .name = "deb12",
	    .kind = HYP_IMAGE_DISK,
	    .kernel = "/k",
	    .initrd = "/i",
	    .cmdline = "rw",
	    .disk = "/d",
	    .disk_format = HYP_DISK_RAW,
	    .description = "Debian",
	};
	struct hyp_image dst;
	hyp_error err = {0};
	cr_assert_eq(hyp_image_copy(&src, &dst, &err), 0, "%s", err.msg);
	cr_expect(dst.name != src.name && !strcmp(dst.name, "deb12"));
	cr_expect_str_eq(dst.kernel, "/k");
	cr_expect_str_eq(dst.initrd, "/i");
	cr_expect_str_eq(dst.cmdline, "rw");
	cr_expect_str_eq(dst.disk, "/d");
	cr_expect_str_eq(dst.description, "Debian");
	cr_expect_eq(dst.kind, HYP_IMAGE_DISK);
	cr_expect_eq(dst.disk_format, HYP_DISK_RAW);
	hyp_image_free(&dst);
	cr_expect_null(dst.name);

	struct hyp_image sparse = {.name = "a", .kernel = "/k"};
	cr_assert_eq(hyp_image_copy(&sparse, &dst, &err), 0);
	cr_expect_null(dst.initrd);
	cr_expect_null(dst.disk);
	hyp_image_free(&dst);
	hyp_image_free(NULL);
}

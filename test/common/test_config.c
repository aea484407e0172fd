/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperion.conf: defaults, every key, and the errors an admin sees. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_config.h"

static char dir[64];
static char path[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/hyp-test-config.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/hyperion.conf", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

TestSuite(config, .init = setup, .fini = teardown);

static void write_conf(const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fputs(text, f) >= 0, true);
	fclose(f);
}

static void load_ok(const char *text, struct hyp_config *cfg)
{
	hyp_error err = {0};
	write_conf(text);
	cr_assert_eq(hyp_config_load(path, cfg, &err), 0, "%s", err.msg);
}

static void expect_defaults(const struct hyp_config *cfg)
{
	cr_expect_str_eq(cfg->libvirt_uri, "qemu:///system");
	cr_expect_eq(cfg->domain_type, HYP_DOMAIN_KVM);
	cr_expect_str_eq(cfg->state_dir, "/run/hyperion");
	cr_expect_eq(cfg->vmm_reserve_mb, 128);
	cr_expect_eq(cfg->boot_timeout_s, 60);
	cr_expect_str_eq(cfg->image_catalog, HYP_SYSCONFDIR "/images.d");
	cr_expect_eq(cfg->spare_exec_ports, 4);
	cr_expect_str_eq(cfg->cpu_model, "host-passthrough");
	cr_expect_str_eq(cfg->housekeeping_cpus, "");
	cr_expect_str_eq(cfg->hugepages_allowed, "none,2M,1G");
	cr_expect_str_eq(cfg->hugepages_default, "none");
	cr_expect(cfg->shares && !cfg->shares[0], "no shares");
	cr_expect_str_eq(cfg->virtiofsd, "/usr/lib/qemu/virtiofsd");
	cr_expect_not(cfg->user_images, "user images are off by default");
	cr_expect_str_eq(cfg->user_image_boot, "default");
}

Test(config, empty_file_means_defaults)
{
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	load_ok("# nothing set\n\n", &cfg);
	expect_defaults(&cfg);
}

Test(config, every_key)
{
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	load_ok("libvirt_uri = qemu+ssh://node1/system\n"
	        "domain_type = qemu\n"
	        "state_dir = /run/hyp-test/\n"
	        "vmm_reserve_mb = 0\n"
	        "boot_timeout = 5\n"
	        "images = /srv/images.d\n"
	        "spare_exec_ports = 0\n"
	        "cpu_model = Skylake-Server\n"
	        "housekeeping_cpus = 3,0-1\n"
	        "hugepages_allowed = 2m, NONE ,2M\n"
	        "hugepages = 2m\n",
	        &cfg);
	cr_expect_str_eq(cfg.libvirt_uri, "qemu+ssh://node1/system");
	cr_expect_eq(cfg.domain_type, HYP_DOMAIN_QEMU);
	cr_expect_str_eq(cfg.state_dir, "/run/hyp-test", "trailing slash dropped");
	cr_expect_eq(cfg.vmm_reserve_mb, 0);
	cr_expect_eq(cfg.boot_timeout_s, 5);
	cr_expect_str_eq(cfg.image_catalog, "/srv/images.d");
	cr_expect_eq(cfg.spare_exec_ports, 0);
	cr_expect_str_eq(cfg.cpu_model, "Skylake-Server");
	cr_expect_str_eq(cfg.housekeeping_cpus, "0-1,3", "normalised");
	cr_expect_str_eq(cfg.hugepages_allowed, "2M,none", "canonical, no repeats");
	cr_expect_str_eq(cfg.hugepages_default, "2M");
}

Test(config, domain_type_names)
{
	cr_expect_str_eq(hyp_domain_type_name(HYP_DOMAIN_KVM), "kvm");
	cr_expect_str_eq(hyp_domain_type_name(HYP_DOMAIN_QEMU), "qemu");
}

Test(config, default_path_missing_means_defaults)
{
	if (access(HYP_DEFAULT_CONFIG, F_OK) == 0) {
		teardown(); /* a skipped test does not get its .fini */
		cr_skip_test("%s exists on this machine", HYP_DEFAULT_CONFIG);
	}
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	hyp_error err = {0};
	cr_assert_eq(hyp_config_load(NULL, &cfg, &err), 0, "%s", err.msg);
	expect_defaults(&cfg);
}

Test(config, explicit_missing_file_is_an_error)
{
	struct hyp_config cfg = {.vmm_reserve_mb = 4242};
	hyp_error err = {0};
	cr_assert_eq(hyp_config_load(path, &cfg, &err), -ENOENT);
	cr_expect(strstr(err.msg, path) && strstr(err.msg, "No such file or directory"), "%s",
	          err.msg);
	cr_expect_eq(cfg.vmm_reserve_mb, 4242, "output written on failure");
}

/* The whole message, after "PATH:". */
static void expect_error(const char *text, const char *want)
{
	struct hyp_config cfg = {.vmm_reserve_mb = 4242};
	hyp_error err = {0};
	write_conf(text);
	cr_assert_eq(hyp_config_load(path, &cfg, &err), -EINVAL, "'%s' accepted", text);
	char full[512];
	snprintf(full, sizeof(full), "%s:%s", path, want);
	cr_expect_str_eq(err.msg, full);
	cr_expect_eq(cfg.vmm_reserve_mb, 4242, "output written on failure");
}

Test(config, unknown_key_lists_the_known_ones)
{
	struct hyp_config cfg = {0};
	hyp_error err = {0};
	write_conf("# comment\nstate_dir = /run/x\nlibvirt_url = qemu:///system\n");
	cr_assert_eq(hyp_config_load(path, &cfg, &err), -EINVAL);
	char want[256];
	snprintf(want, sizeof(want),
	         "%s:3: unknown key 'libvirt_url' (known: libvirt_uri, domain_type, state_dir, "
	         "vmm_reserve_mb, boot_timeout, images, ",
	         path);
	cr_expect(!strncmp(err.msg, want, strlen(want)), "%s", err.msg);
	const char *keys[] = {"numa_bind", "shares", "virtiofsd", "console_keep_dir",
	                      "console_keep_files"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_expect(strstr(err.msg, keys[i]), "%s missing from: %s", keys[i], err.msg);
	cr_expect_eq(err.msg[strlen(err.msg) - 1], ')', "the list is complete: %s", err.msg);
}

Test(config, console_keeping)
{
	struct hyp_config cfg = {0};
	hyp_error err = {0};
	write_conf("console_keep_dir = /srv/consoles\nconsole_keep_days = 30\n");
	cr_assert_eq(hyp_config_load(path, &cfg, &err), 0, "%s", err.msg);
	cr_expect_str_eq(cfg.console_keep_dir, "/srv/consoles");
	cr_expect_eq(cfg.console_keep_days, 30);
	cr_expect_eq(cfg.console_keep_kib, 256);
	cr_expect_eq(cfg.console_keep_files, 100);
	hyp_config_free(&cfg);
	expect_error(
	    "console_keep_kib = 0\n",
	    "1: console_keep_kib: bad value '0' (allowed: a whole number from 1 to 65536)");
}

Test(config, bad_values_name_line_key_value_and_choices)
{
	expect_error("\ndomain_type = xen\n",
	             "2: domain_type: bad value 'xen' (allowed: kvm, qemu)");
	expect_error("domain_type = KVM\n", "1: domain_type: bad value 'KVM' (allowed: kvm, qemu)");
	expect_error("libvirt_uri =\n", "1: libvirt_uri: empty value");
	expect_error("state_dir = run/hyperion\n",
	             "1: state_dir: 'run/hyperion' is not an absolute path");
	expect_error("images = images.d\n", "1: images: 'images.d' is not an absolute path");
	expect_error(
	    "vmm_reserve_mb = -1\n",
	    "1: vmm_reserve_mb: bad value '-1' (allowed: a whole number from 0 to 1048576)");
	expect_error("vmm_reserve_mb = 128M\n", "1: vmm_reserve_mb: bad value '128M' (allowed: a "
	                                        "whole number from 0 to 1048576)");
	expect_error("boot_timeout = 0\n",
	             "1: boot_timeout: bad value '0' (allowed: a whole number from 1 to 86400)");
	expect_error(
	    "spare_exec_ports = 1000\n",
	    "1: spare_exec_ports: bad value '1000' (allowed: a whole number from 0 to 256)");
	expect_error(
	    "cpu_model = Sky lake\n",
	    "1: cpu_model: bad value 'Sky lake' (allowed: host-passthrough, host-model or a "
	    "CPU model name such as Skylake-Server)");
	expect_error("housekeeping_cpus = 0-x\n",
	             "1: housekeeping_cpus: cpu list '0-x': bad element '0-x' (expected N or N-M "
	             "with N <= M <= 8192)");
	expect_error("hugepages_allowed = none,4M\n",
	             "1: hugepages_allowed: bad value 'none,4M' (allowed: a list of none, 2M, 1G "
	             "such as none,2M)");
	expect_error("hugepages_allowed =\n", "1: hugepages_allowed: bad value '' (allowed: a list "
	                                      "of none, 2M, 1G such as none,2M)");
	expect_error("hugepages_allowed = none,,2M\n",
	             "1: hugepages_allowed: bad value 'none,,2M' (allowed: a list of none, 2M, 1G "
	             "such as none,2M)");
	expect_error("hugepages = 3G\n", "1: hugepages: bad value '3G' (allowed: none, 2M, 1G)");
}

Test(config, state_dir_must_leave_room_for_socket_paths)
{
	char text[256];
	char long_dir[80];
	memset(long_dir, 'x', sizeof(long_dir) - 1);
	long_dir[0] = '/';
	long_dir[sizeof(long_dir) - 1] = '\0';
	snprintf(text, sizeof(text), "state_dir = %s\n", long_dir);
	char want[256];
	snprintf(want, sizeof(want), "1: state_dir: '%s' is too long (at most 76 characters)",
	         long_dir);
	expect_error(text, want);

	long_dir[76] = '\0'; /* exactly the limit */
	snprintf(text, sizeof(text), "state_dir = %s\n", long_dir);
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	load_ok(text, &cfg);
	cr_expect_str_eq(cfg.state_dir, long_dir);
}

Test(config, key_set_twice)
{
	expect_error("boot_timeout = 5\nstate_dir = /run/x\nboot_timeout = 6\n",
	             "3: 'boot_timeout' is set twice");
}

Test(config, sections_are_not_allowed)
{
	expect_error("state_dir = /run/x\n[image default]\nkind = appliance\n",
	             "3: section [image default] is not allowed in hyperion.conf: its only "
	             "sections are [vf_pool NAME] (images are defined in the catalog directory, "
	             "see 'images')");
	expect_error("[image default]\n",
	             "1: section [image default] is not allowed in hyperion.conf: its only "
	             "sections are [vf_pool NAME] (images are defined in the catalog directory, "
	             "see 'images')");
}

Test(config, default_hugepages_must_be_allowed)
{
	struct hyp_config cfg = {0};
	hyp_error err = {0};
	write_conf("hugepages_allowed = none,2M\nhugepages = 1G\n");
	cr_assert_eq(hyp_config_load(path, &cfg, &err), -EINVAL);
	char want[256];
	snprintf(want, sizeof(want), "%s: hugepages = 1G is not in hugepages_allowed (none,2M)",
	         path);
	cr_expect_str_eq(err.msg, want);

	write_conf("hugepages_allowed = 2M\n"); /* the default, none, is then refused */
	cr_assert_eq(hyp_config_load(path, &cfg, &err), -EINVAL);
	cr_expect(strstr(err.msg, "hugepages = none is not in hugepages_allowed (2M)"), "%s",
	          err.msg);

	_cleanup_(hyp_config_free) struct hyp_config ok = {0};
	load_ok("hugepages_allowed = 2M\nhugepages = 2M\n", &ok);
	cr_expect_str_eq(ok.hugepages_default, "2M");
}

Test(config, free_is_idempotent)
{
	struct hyp_config cfg = {0};
	hyp_config_free(&cfg);
	load_ok("", &cfg);
	hyp_config_free(&cfg);
	hyp_config_free(&cfg);
	hyp_config_free(NULL);
	cr_expect_null(cfg.state_dir);
}

/* etc/hyperion.conf shows every key with its default, commented out:
 * uncommented it must load, and give the defaults. */
Test(config, example_file_lists_every_key_with_its_default)
{
	const char *src = getenv("HYP_SRCDIR");
	cr_assert_not_null(src, "HYP_SRCDIR is set by meson");
	char example[512], line[512];
	snprintf(example, sizeof(example), "%s/etc/hyperion.conf", src);
	_cleanup_fclose_ FILE *in = fopen(example, "r");
	cr_assert_not_null(in, "%s", example);
	_cleanup_fclose_ FILE *out = fopen(path, "w");
	cr_assert_not_null(out);
	int keys = 0;
	while (fgets(line, sizeof(line), in)) {
		bool setting =
		    line[0] == '#' && line[1] >= 'a' && line[1] <= 'z' && strstr(line, " =");
		if (setting && strncmp(line, "#images =", 9) != 0) /* depends on the prefix */
			keys += fputs(line + 1, out) >= 0;
	}
	fclose(steal_pointer(&out));
	cr_expect_eq(keys, 17 + 5 + 9,
	             "every key but images is shown (5 device and image keys, 9 network keys)");

	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	hyp_error err = {0};
	cr_assert_eq(hyp_config_load(path, &cfg, &err), 0, "%s", err.msg);
	expect_defaults(&cfg);
}

Test(config, user_images)
{
	struct hyp_config cfg = {0};
	load_ok("user_images = yes\nuser_image_boot = debian-12\n", &cfg);
	cr_expect(cfg.user_images);
	cr_expect_str_eq(cfg.user_image_boot, "debian-12");
	hyp_config_free(&cfg);
	hyp_error err = {0};
	write_conf("user_image_boot = ../x\n");
	cr_expect_lt(hyp_config_load(path, &cfg, &err), 0);
	cr_expect_not_null(strstr(err.msg, "user_image_boot: bad image name '../x'"), "%s",
	                   err.msg);
	write_conf("user_images = maybe\n");
	cr_expect_lt(hyp_config_load(path, &cfg, &err), 0);
}

Test(config, shares_and_virtiofsd)
{
	struct hyp_config cfg = {0};
	load_ok("state_dir = /run/h\n", &cfg);
	cr_expect_null(cfg.shares[0], "no shares by default");
	cr_expect_str_eq(cfg.virtiofsd, "/usr/lib/qemu/virtiofsd");
	hyp_config_free(&cfg);
	load_ok("shares = /home  /scratch//x/./ \t/data\nvirtiofsd = /opt/virtiofsd\n", &cfg);
	cr_assert_not_null(cfg.shares[2]);
	cr_expect_str_eq(cfg.shares[0], "/home");
	cr_expect_str_eq(cfg.shares[1], "/scratch/x");
	cr_expect_str_eq(cfg.shares[2], "/data");
	cr_expect_null(cfg.shares[3]);
	cr_expect_str_eq(cfg.virtiofsd, "/opt/virtiofsd");
	hyp_config_free(&cfg);
}

Test(config, bad_shares)
{
	static const char *const bad[][2] = {
	    {"shares = home\n", "shares: 'home' is not an absolute path"},
	    {"shares = /home/../etc\n", "shares: '/home/../etc' holds '..'"},
	    {"shares = /\n", "shares: '/' cannot be shared"},
	    {"shares = /a /a/\n", "shares: '/a' is listed twice"},
	    {"virtiofsd = virtiofsd\n", "virtiofsd: 'virtiofsd' is not an absolute path"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hyp_config cfg = {0};
		hyp_error err = {0};
		char full[512];
		write_conf(bad[i][0]);
		cr_expect_lt(hyp_config_load(path, &cfg, &err), 0, "%s", bad[i][0]);
		snprintf(full, sizeof(full), "%s:1: %s", path, bad[i][1]);
		cr_expect_str_eq(err.msg, full);
	}
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The plugin's plugstack.conf arguments and --vm-* options (plugin_options.c),
 * driven through the option table it registers. libslurm provides
 * slurm_error; the SPANK calls, which only slurmd, slurmstepd and srun
 * provide, are answered here: registration records the table, and the
 * job's environment is the `job_env` below. test-slurm.sh runs the same
 * code inside real Slurm.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "plugin.h"

struct plugin_state plugin;

static struct spank_option *registered[8];
static size_t nregistered;

spank_err_t spank_option_register(spank_t sp, struct spank_option *opt)
{
	registered[nregistered++] = opt;
	return ESPANK_SUCCESS;
}

spank_err_t spank_option_getopt(spank_t sp, struct spank_option *opt, char **optarg)
{
	return ESPANK_ERROR;
}

spank_err_t spank_getenv(spank_t sp, const char *var, char *buf, int len)
{
	return ESPANK_ENV_NOEXIST;
}

spank_err_t spank_get_item(spank_t sp, spank_item_t item, ...)
{
	return ESPANK_ERROR;
}

static void setup(void)
{
	memset(&plugin, 0, sizeof(plugin));
	nregistered = 0;
	cr_assert_eq(plugin_register_options(NULL), 0);
}

TestSuite(options, .init = setup);

static struct spank_option *option(const char *name)
{
	for (size_t i = 0; i < nregistered; i++)
		if (!strcmp(registered[i]->name, name))
			return registered[i];
	cr_assert_fail("--%s is not registered", name);
	return NULL;
}

static int give(const char *name, const char *value)
{
	struct spank_option *o = option(name);
	return o->cb(o->val, value, 0);
}

Test(options, plugstack_arguments)
{
	char *good[] = {"config=/etc/h.conf", "default_image=deb12", "exec=/opt/h/hyperion-exec",
	                "scontrol=/opt/slurm/bin/scontrol"};
	cr_assert_eq(plugin_parse_args(4, good), 0);
	cr_expect_str_eq(plugin.config_path, "/etc/h.conf");
	cr_expect_str_eq(plugin.default_image, "deb12");
	cr_expect_str_eq(plugin.exec_path, "/opt/h/hyperion-exec");
	cr_expect_str_eq(plugin.scontrol_path, "/opt/slurm/bin/scontrol");
	char *unknown[] = {"image=deb12"};
	cr_expect_eq(plugin_parse_args(1, unknown), -1);
	char *relative[] = {"scontrol=scontrol"};
	cr_expect_eq(plugin_parse_args(1, relative), -1);
}

Test(options, vm_image_takes_a_catalog_name)
{
	cr_expect_null(plugin_image(), "no --vm-image: no VM");
	cr_assert_eq(give("vm-image", "deb12"), 0);
	cr_expect(plugin.vm_requested);
	cr_expect_str_eq(plugin_image(), "deb12");
	cr_expect_eq(give("vm-image", "deb12"), 0, "callbacks run again with the same value");
	cr_expect_str_eq(plugin_image(), "deb12");
}

Test(options, a_bare_vm_image_means_the_default)
{
	plugin.default_image = "default";
	cr_assert_eq(give("vm-image", NULL), 0);
	cr_expect_str_eq(plugin_image(), "default");
	memset(plugin.image, 0, sizeof(plugin.image));
	cr_assert_eq(give("vm-image", "(null)"), 0, "as the job's SPANK environment has it");
	cr_expect_str_eq(plugin_image(), "default");
}

Test(options, a_refused_image_still_asks_for_a_vm)
{
	cr_expect_eq(give("vm-image", "../../etc/passwd"), -1);
	cr_expect(plugin.vm_requested, "a refused value must never mean 'run on the host'");
	cr_expect(plugin.options_invalid);
	char long_name[PLUGIN_IMAGE_MAX + 8];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	cr_expect_eq(give("vm-image", long_name), -1);
}

/* A user's own image: an absolute path; protocol names are refused here. */
Test(options, vm_image_takes_an_absolute_path)
{
	cr_assert_eq(give("vm-image", "/home/u/my image.qcow2"), 0);
	cr_expect_str_eq(plugin_image(), "/home/u/my image.qcow2");
	cr_expect_not(plugin.options_invalid);
	cr_expect_eq(give("vm-image", "nbd:localhost:10809"), -1);
	cr_expect_eq(give("vm-image", "json:{\"driver\":\"http\"}"), -1);
	cr_expect_eq(give("vm-image", "/srv/../etc/shadow"), -1);
	cr_expect(plugin.options_invalid);
}

Test(options, hugepage_sizes)
{
	cr_expect_eq(give("vm-hugepages", "2M"), 0);
	cr_expect_str_eq(plugin.hugepages, "2M");
	cr_expect_eq(give("vm-hugepages", "1g"), 0);
	cr_expect_str_eq(plugin.hugepages, "1G", "any case, stored by its canonical name");
	cr_expect_eq(give("vm-hugepages", "none"), 0);
	cr_expect_eq(give("vm-hugepages", "4M"), -1);
	cr_expect(plugin.options_invalid);
}

Test(options, vm_shares)
{
	cr_expect_eq(give("vm-shares", "/home/a,/scratch/x y"), 0);
	cr_expect_str_eq(plugin_shares(), "/home/a,/scratch/x y");
	cr_expect_eq(give("vm-shares", "none"), 0);
	cr_expect_str_eq(plugin_shares(), "none");
	cr_expect(!plugin.options_invalid);
	cr_expect_eq(give("vm-shares", "relative/path"), -1);
	cr_expect_eq(give("vm-shares", "/home/../etc"), -1);
	cr_expect_eq(give("vm-shares", ""), -1);
	cr_expect(plugin.options_invalid, "a refused value fails the job");
}

Test(options, no_vm_shares_is_every_allowed_share)
{
	cr_expect_null(plugin_shares());
}

Test(options, vm_vf)
{
	cr_expect_null(plugin_vfs(), "not given: the site's vf_default");
	cr_expect_eq(give("vm-vf", "fabric:2,mgmt"), 0);
	cr_expect_str_eq(plugin_vfs(), "fabric:2,mgmt");
	cr_expect_eq(give("vm-vf", "none"), 0);
	cr_expect_str_eq(plugin_vfs(), "none");
	cr_expect(!plugin.options_invalid);
	cr_expect_eq(give("vm-vf", "fab ric"), -1);
	cr_expect_eq(give("vm-vf", "a/b"), -1);
	cr_expect_eq(give("vm-vf", ""), -1);
	cr_expect(plugin.options_invalid, "a refused value fails the job");
}

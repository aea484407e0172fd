/* SPDX-License-Identifier: GPL-2.0-or-later */
/* plugstack.conf arguments and the --vm-* options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_build_config.h"
#include "hyp_hugepages.h"
#include "hyp_names.h"
#include "plugin.h"

#define DEFAULT_EXEC_PATH     HYP_BINDIR "/hyperion-exec"
#define DEFAULT_SCONTROL_PATH "/usr/bin/scontrol"

enum { OPT_VM_IMAGE = 1, OPT_VM_HUGEPAGES };

static int opt_store(int val, const char *optarg, int remote);

static struct spank_option options[] = {
    {"vm-image", "NAME",
     "Run the job (or step) inside a per-node KVM virtual machine booted from image NAME "
     "of the site's catalog (the site's default image if NAME is omitted).",
     2, OPT_VM_IMAGE, opt_store},
    {"vm-hugepages", "SIZE",
     "Back the VM's memory with huge pages of SIZE: one of " HYP_HUGEPAGE_NAMES
     " (as the site allows).",
     1, OPT_VM_HUGEPAGES, opt_store},
    SPANK_OPTIONS_TABLE_END,
};

/* Callbacks can run several times with the same value: store, don't act. */
static int opt_store(int val, const char *optarg, int remote)
{
	const char *v = optarg ? optarg : "";
	if (val == OPT_VM_IMAGE) {
		if (strlen(v) >= sizeof(plugin.image)) {
			slurm_error(PLUGIN_LOG_PREFIX "--vm-image: name too long (at most %zu "
			                              "characters)",
			            sizeof(plugin.image) - 1);
			return -1;
		}
		plugin.vm_requested = true;
		snprintf(plugin.image, sizeof(plugin.image), "%s", v);
		return 0;
	}
	unsigned long kib;
	if (hyp_hugepage_size_parse(v, &kib, NULL) < 0) {
		slurm_error(PLUGIN_LOG_PREFIX "--vm-hugepages=%s: allowed sizes are %s", v,
		            HYP_HUGEPAGE_NAMES);
		return -1;
	}
	snprintf(plugin.hugepages, sizeof(plugin.hugepages), "%s", hyp_hugepage_size_name(kib));
	return 0;
}

int plugin_parse_args(int ac, char **av)
{
	plugin.exec_path = DEFAULT_EXEC_PATH;
	plugin.scontrol_path = DEFAULT_SCONTROL_PATH;
	for (int i = 0; i < ac; i++) {
		if (!strncmp(av[i], "config=", 7))
			plugin.config_path = av[i] + 7;
		else if (!strncmp(av[i], "default_image=", 14))
			plugin.default_image = av[i] + 14;
		else if (!strncmp(av[i], "exec=", 5))
			plugin.exec_path = av[i] + 5;
		else if (!strncmp(av[i], "scontrol=", 9) && av[i][9] == '/')
			plugin.scontrol_path = av[i] + 9;
		else if (!strncmp(av[i], "scontrol=", 9)) {
			slurm_error(PLUGIN_LOG_PREFIX "plugstack.conf: %s: not an absolute path",
			            av[i]);
			return -1;
		} else {
			slurm_error(PLUGIN_LOG_PREFIX "plugstack.conf: unknown argument '%s' "
			                              "(known: config=PATH, default_image=NAME, "
			                              "exec=PATH, scontrol=PATH)",
			            av[i]);
			return -1;
		}
	}
	return 0;
}

int plugin_register_options(spank_t sp)
{
	for (struct spank_option *o = options; o->name; o++) {
		if (spank_option_register(sp, o) != ESPANK_SUCCESS) {
			slurm_error(PLUGIN_LOG_PREFIX "cannot register option --%s", o->name);
			return -1;
		}
	}
	return 0;
}

void plugin_getopt(spank_t sp)
{
	for (struct spank_option *o = options; o->name; o++) {
		char *value = NULL;
		if (spank_option_getopt(sp, o, &value) == ESPANK_SUCCESS)
			opt_store(o->val, value, 1);
	}
}

const char *plugin_image(void)
{
	if (!plugin.vm_requested)
		return NULL;
	if (plugin.image[0])
		return plugin.image;
	return plugin.default_image;
}

const char *plugin_node_name(void)
{
	static char node[HYP_NODE_NAME_MAX + 1];
	hyp_error ignored;
	const char *env = getenv("SLURMD_NODENAME");
	if (node[0])
		return node;
	if (env && hyp_node_name_check(env, &ignored) == 0)
		snprintf(node, sizeof(node), "%s", env);
	else if (hyp_node_name_default(node, sizeof(node), &ignored) < 0)
		snprintf(node, sizeof(node), "localhost");
	return node;
}

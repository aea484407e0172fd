/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * plugstack.conf arguments and the --vm-* options, and how a step finds the
 * job's options (doc/admin-guide.md, "How a job's options reach its steps").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_build_config.h"
#include "hyp_hugepages.h"
#include "hyp_image_check.h"
#include "hyp_names.h"
#include "hyp_shares.h"
#include "hyp_cleanup.h"
#include "plugin.h"

#define DEFAULT_EXEC_PATH     HYP_BINDIR "/hyperion-exec"
#define DEFAULT_SCONTROL_PATH "/usr/bin/scontrol"

enum { OPT_VM_IMAGE = 1, OPT_VM_HUGEPAGES, OPT_VM_SHARES, OPT_VM_VERBOSE, OPT_VM_VF };

static int opt_store(int val, const char *optarg, int remote);

static struct spank_option options[] = {
    {"vm-image", "NAME|PATH",
     "Run the job (or step) inside a per-node KVM virtual machine booted from image NAME "
     "of the site's catalog (the site's default image if NAME is omitted), or from your "
     "own qcow2/raw disk image at an absolute PATH where the site allows it.",
     2, OPT_VM_IMAGE, opt_store},
    {"vm-hugepages", "SIZE",
     "Back the VM's memory with huge pages of SIZE: one of " HYP_HUGEPAGE_NAMES
     " (as the site allows).",
     1, OPT_VM_HUGEPAGES, opt_store},
    {"vm-shares", "PATH[,PATH]|none",
     "Share these host directories with the VM (mounted at the same paths), within the "
     "site's allowed shares; 'none' for none. Default: every allowed share.",
     1, OPT_VM_SHARES, opt_store},
    {"vm-verbose", NULL,
     "Say on stderr how long the VM took to boot (the provisioning time, apart from the "
     "job's run time).",
     0, OPT_VM_VERBOSE, opt_store},
    {"vm-vf", "POOL[:COUNT][,POOL[:COUNT]]",
     "Give the VM COUNT (default 1) SR-IOV virtual functions of the site's VF pool POOL, "
     "'none' for none. Default: what the site attaches to every VM.",
     1, OPT_VM_VF, opt_store},
    SPANK_OPTIONS_TABLE_END,
};

/* The characters of catalog image names (hyp_catalog.c checks the rest). */
static bool image_chars_ok(const char *v)
{
	return strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	       strlen(v);
}

static int store_image(const char *v)
{
	/* Even a refused value asks for a VM: such a job fails, never runs on
	 * the host. */
	plugin.vm_requested = true;
	/* A bare --vm-image reaches the job's SPANK environment (and
	 * SLURM_SPANK_* in the batch script's) as "(null)": sbatch formats the
	 * NULL value with xstrcat. */
	if (!strcmp(v, "(null)"))
		v = "";
	/* a user's own image file (hyperion.conf's user_images): its form
	 * here, the file at submission (plugin_submit.c) and on the node */
	hyp_error err = {0};
	if (strpbrk(v, "/:") && strlen(v) < sizeof(plugin.image) &&
	    hyp_image_path_check(v, &err) < 0) {
		plugin.options_invalid = true;
		slurm_error(PLUGIN_LOG_PREFIX "--vm-image: image refused: %s", err.msg);
		return -1;
	}
	if (strlen(v) >= sizeof(plugin.image) || (!image_chars_ok(v) && v[0] != '/')) {
		plugin.options_invalid = true;
		slurm_error(PLUGIN_LOG_PREFIX "--vm-image: bad image name (letters, digits, '.', "
		                              "'_' and '-', at most %zu characters)",
		            sizeof(plugin.image) - 1);
		return -1;
	}
	snprintf(plugin.image, sizeof(plugin.image), "%s", v);
	return 0;
}

/* Checked for form here; the allowlist at submission (plugin_submit.c)
 * and again on the node (the core). */
static int check_shares(const char *v, hyp_error *err)
{
	if (!*v || strlen(v) >= sizeof(plugin.shares) || strchr(v, '\n'))
		return hyp_fail(err, EINVAL, "give PATH[,PATH] (at most %zu characters) or none",
		                sizeof(plugin.shares) - 1);
	for (const char *p = v; strcmp(v, "none") != 0;) {
		size_t len = strcspn(p, ",");
		_cleanup_free_ char *path = NULL;
		int r = hyp_share_path_normalize("path", p, len, &path, err);
		if (r < 0)
			return r;
		if (!p[len])
			break;
		p += len + 1;
	}
	return 0;
}

static int store_shares(const char *v)
{
	hyp_error err = {0};
	if (check_shares(v, &err) < 0) {
		plugin.options_invalid = true;
		slurm_error(PLUGIN_LOG_PREFIX "--vm-shares=%s: %s", v, err.msg);
		return -1;
	}
	snprintf(plugin.shares, sizeof(plugin.shares), "%s", v);
	return 0;
}

/* Checked for form here; the pools on the node (the core). */
static int store_vf(const char *v)
{
	size_t len = strlen(v);
	if (!len || len >= sizeof(plugin.vfs) ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-:,") !=
	        len) {
		plugin.options_invalid = true;
		slurm_error(
		    PLUGIN_LOG_PREFIX "--vm-vf=%s: give POOL[:COUNT][,POOL[:COUNT]] or none", v);
		return -1;
	}
	snprintf(plugin.vfs, sizeof(plugin.vfs), "%s", v);
	return 0;
}

/* Callbacks can run several times with the same value: store, don't act. */
static int opt_store(int val, const char *optarg, int remote)
{
	const char *v = optarg ? optarg : "";
	if (val == OPT_VM_IMAGE)
		return store_image(v);
	if (val == OPT_VM_SHARES)
		return store_shares(v);
	if (val == OPT_VM_VF)
		return store_vf(v);
	if (val == OPT_VM_VERBOSE) {
		plugin.verbose = true;
		return 0;
	}
	unsigned long kib;
	if (hyp_hugepage_size_parse(v, &kib, NULL) < 0) {
		plugin.options_invalid = true;
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

const char *plugin_shares(void)
{
	return plugin.shares[0] ? plugin.shares : NULL;
}

const char *plugin_vfs(void)
{
	return plugin.vfs[0] ? plugin.vfs : NULL;
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

/* --- slurmstepd: the job's options, not the step's environment ------------ */

#define SLURM_EXTERN_STEP 0xfffffffcU /* SLURM_EXTERN_CONT in slurm.h */
/* What sbatch and salloc put in the environment of the job's commands (with
 * any --export), as SLURM_SPANK_ + the job's SPANK environment entry. */
#define JOB_ENV_OPTION "SLURM_SPANK__SLURM_SPANK_OPTION_hyperion_vm_image"

/* Anything in the step that asks for a VM: its own --vm-image, or the
 * batch script's trace of the job's. Enough to refuse the host, never to
 * choose it. */
static bool step_asks_vm(spank_t sp)
{
	char v[4];
	spank_err_t rc = spank_getenv(sp, JOB_ENV_OPTION, v, sizeof(v));
	return plugin.vm_requested || rc == ESPANK_SUCCESS || rc == ESPANK_NOSPACE;
}

static int fail_step(void)
{
	plugin.vm_requested = true;
	plugin.setup_failed = true;
	slurm_error(PLUGIN_LOG_PREFIX "%s", plugin.setup_err.msg);
	return -1;
}

static int fail_recover(uint32_t job_id)
{
	hyp_error_prefix(&plugin.setup_err,
	                 "job %" PRIu32 ": cannot recover the job's --vm-image on this node (the "
	                 "job prolog records it; slurmd runs the plugin's job prolog only if the "
	                 "plugin was in plugstack.conf when slurmd started)",
	                 job_id);
	return fail_step();
}

static void adopt_record(const struct plugin_record *rec)
{
	plugin.vm_requested = true;
	plugin.options_invalid = rec->invalid;
	snprintf(plugin.image, sizeof(plugin.image), "%s", rec->image);
	snprintf(plugin.hugepages, sizeof(plugin.hugepages), "%s", rec->hugepages);
	snprintf(plugin.shares, sizeof(plugin.shares), "%s", rec->shares);
	snprintf(plugin.nodes, sizeof(plugin.nodes), "%s", rec->nodes);
	snprintf(plugin.vfs, sizeof(plugin.vfs), "%s", rec->vfs);
	snprintf(plugin.gpus, sizeof(plugin.gpus), "%s", rec->gpus);
}

static int check_request(uint32_t job_id)
{
	hyp_error *err = &plugin.setup_err;
	if (!plugin.vm_requested)
		return 0;
	if (plugin.options_invalid) {
		hyp_fail(err, EINVAL,
		         "job %" PRIu32
		         ": its --vm-image, --vm-hugepages, --vm-shares or --vm-vf was refused",
		         job_id);
		return fail_step();
	}
	if (!plugin_image()) {
		hyp_fail(err, EINVAL,
		         "--vm-image needs an image name: this site has no default image");
		return fail_step();
	}
	return 0;
}

/* The job's record, checked to be this job's. */
static int read_record(const char *state_dir, uint32_t job_id, uid_t uid,
                       struct plugin_record *ret_rec, hyp_error *err)
{
	struct plugin_record rec;
	int r = plugin_record_read(state_dir, job_id, &rec, err);
	if (r < 0)
		return r;
	if (rec.uid != uid)
		return hyp_fail(err, EPERM, "the record of job %" PRIu32 " names uid %u, not %u",
		                job_id, (unsigned)rec.uid, (unsigned)uid);
	*ret_rec = rec;
	return 0;
}

/*
 * The extern step (PrologFlags=Contain) starts on every node of the job when
 * it is allocated, and runs none of the user's tasks: it boots the node's VM
 * then, from the job's record, so that every VM of a multi-node job is up
 * before the batch script reaches it over the network, and an salloc's VMs
 * before its first srun. It fails nothing: whatever goes wrong here, the
 * first step on the node meets again and tells the user.
 */
static int extern_step_options(uint32_t job_id, uid_t uid)
{
	hyp_error err = {0};
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	struct plugin_record rec;
	if (hyp_config_load(plugin.config_path, &cfg, &err) < 0)
		return -1;
	_cleanup_free_ char *dir = hyp_node_dir(cfg.state_dir, plugin_node_name());
	if (!dir || read_record(dir, job_id, uid, &rec, &err) < 0 || !rec.vm || rec.invalid)
		return -1;
	adopt_record(&rec);
	return 0;
}

int plugin_stepd_options(spank_t sp)
{
	hyp_error *err = &plugin.setup_err;
	uint32_t job_id, step_id;
	uid_t uid;
	if (spank_get_item(sp, S_JOB_ID, &job_id) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_STEPID, &step_id) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS) {
		hyp_fail(err, EIO, "Slurm did not provide the job's id, step id or uid");
		return fail_step();
	}
	if (step_id == SLURM_EXTERN_STEP)
		return extern_step_options(job_id, uid);
	bool asked = step_asks_vm(sp);
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	struct plugin_record rec;
	/* Without a configuration or a record the job's options are unknown
	 * here: a step with no trace of a VM request runs as it asked. A
	 * record that is there but not sound fails the step. */
	if (hyp_config_load(plugin.config_path, &cfg, err) < 0)
		return asked ? fail_recover(job_id) : 0;
	_cleanup_free_ char *dir = hyp_node_dir(cfg.state_dir, plugin_node_name());
	int r = dir ? read_record(dir, job_id, uid, &rec, err) : -ENOMEM;
	if (r == -ENOENT && !asked)
		return 0;
	if (r < 0)
		return fail_recover(job_id);
	if (rec.vm)
		adopt_record(&rec);
	return check_request(job_id);
}

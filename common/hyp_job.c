/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config -> catalog -> topology -> spec -> libvirt, once for every adapter. */
#include "hyp_job.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hyp_catalog.h"
#include "hyp_cleanup.h"
#include "hyp_console.h"
#include "hyp_cpulist.h"
#include "hyp_devices.h"
#include "hyp_image_policy.h"
#include "hyp_names.h"
#include "hyp_reconcile.h"
#include "hyp_time.h"
#include "hyp_topology.h"
#include "hyp_vm.h"

#define CONSOLE_LINES 20

void hyp_job_free(struct hyp_job *job)
{
	if (!job)
		return;
	hyp_spec_free(&job->spec);
	hyp_config_free(&job->cfg);
}

/* What the spec is built from, freed together. */
struct inputs {
	struct hyp_catalog catalog;
	struct hyp_topology *topo;
	unsigned *cpus;
	size_t ncpus;
	char node[HYP_NODE_NAME_MAX + 1];
	struct hyp_guest_user guest;
};

static void inputs_free(struct inputs *in)
{
	free(in->cpus);
	hyp_guest_user_free(&in->guest);
	hyp_topology_free(in->topo);
	hyp_catalog_free(&in->catalog);
}

static int resolve_cpus(const struct hyp_job_request *req, struct inputs *in, hyp_error *err)
{
	if (!!req->slurm_cores == !!req->cpus)
		return hyp_fail(err, EINVAL, "job %" PRIu32 ": give either Slurm cores or OS cpus",
		                req->job_id);
	if (req->cpus) {
		int r = hyp_cpulist_parse(req->cpus, &in->cpus, &in->ncpus, err);
		return r < 0 ? hyp_error_prefix(err, "cpus") : 0;
	}
	return hyp_topology_cores_to_cpus(in->topo, req->slurm_cores, req->threads_per_core,
	                                  &in->cpus, &in->ncpus, err);
}

static int resolve_node(const struct hyp_job_request *req, struct inputs *in, hyp_error *err)
{
	if (!req->node)
		return hyp_node_name_default(in->node, sizeof(in->node), err);
	int r = hyp_node_name_check(req->node, err);
	if (r >= 0)
		snprintf(in->node, sizeof(in->node), "%s", req->node);
	return r;
}

static int build_spec(const struct hyp_job_request *req, struct hyp_job *job, hyp_error *err)
{
	_cleanup_(inputs_free) struct inputs in = {0};
	_cleanup_(hyp_image_free) struct hyp_image image = {0};
	const struct hyp_image *img = &image;
	int r = resolve_node(req, &in, err);
	if (r >= 0)
		r = hyp_catalog_load(job->cfg.image_catalog, &in.catalog, err);
	if (r >= 0) /* a name, or the user's own file opened as the user */
		r = hyp_image_resolve(&job->cfg, &in.catalog, req->image, req->uid, req->gid,
		                      geteuid() == 0, &image, err);
	if (r >= 0)
		r = hyp_image_memory_check(img, req->memory_mb, job->cfg.vmm_reserve_mb, err);
	if (r >= 0)
		r = hyp_topology_load(req->topology, &in.topo, err);
	if (r >= 0)
		r = resolve_cpus(req, &in, err);
	if (r >= 0)
		r = hyp_guest_user_lookup(req->user, req->uid, req->gid, &in.guest, err);
	if (r < 0)
		return r;
	struct hyp_alloc alloc = {
	    .job_id = req->job_id,
	    .node = in.node,
	    .manager = req->manager,
	    .uid = req->uid,
	    .gid = req->gid,
	    .user = req->user,
	    .cpus = in.cpus,
	    .ncpus = in.ncpus,
	    .memory_mb = req->memory_mb,
	    .hugepages = req->hugepages,
	    .shares = req->shares,
	    .guest = &in.guest,
	    .nodes = req->nodes,
	    .node_addrs = req->node_addrs,
	};
	r = hyp_spec_build(&job->cfg, img, in.topo, &alloc, &job->spec, err);
	struct hyp_devices_request dev = {
	    .gpus = req->gpus, .gres_gpus = req->gres_gpus, .vfs = req->vfs, .fs.sys = req->sysfs};
	return r < 0 ? r : hyp_devices_prepare(&job->cfg, in.topo, &dev, &job->spec, err);
}

int hyp_job_prepare(const struct hyp_job_request *req, struct hyp_job *ret_job, hyp_error *err)
{
	_cleanup_(hyp_job_free) struct hyp_job job = {0};
	if (!req->job_id)
		return hyp_fail(err, EINVAL, "job id 0 is not a job");
	if (!req->memory_mb)
		return hyp_fail(err, EINVAL,
		                "job %" PRIu32
		                " has no memory allocation on this node: submit with "
		                "--mem or --mem-per-cpu",
		                req->job_id);
	int r = hyp_config_load(req->config_path, &job.cfg, err);
	if (r >= 0)
		r = build_spec(req, &job, err);
	if (r < 0)
		return r;
	*ret_job = job;
	memset(&job, 0, sizeof(job));
	return 0;
}

/* The agent never came up: keep the console log for the admin and its
 * last lines for the error, then release everything the job held. */
static int fail_boot(struct hyp_vm_conn *conn, const struct hyp_job *job, hyp_error *err)
{
	_cleanup_free_ char *tail = NULL, *kept = NULL;
	hyp_error ignored = {0}, e = *err;
	const struct hyp_config *cfg = &job->cfg;
	struct hyp_console_keep keep = {.dir = cfg->console_keep_dir,
	                                .max_kib = cfg->console_keep_kib,
	                                .max_age_days = cfg->console_keep_days,
	                                .max_files = cfg->console_keep_files};
	char name[HYP_NODE_NAME_MAX + 16];
	snprintf(name, sizeof(name), "%s-%" PRIu32, job->spec.node, job->spec.job_id);
	hyp_console_tail(job->spec.console_log, CONSOLE_LINES, &tail, &ignored);
	hyp_console_keep(job->spec.console_log, &keep, name, &kept, &ignored);
	hyp_vm_destroy(conn, cfg, job->spec.node, job->spec.job_id, NULL, &ignored);
	if (kept)
		hyp_fail(err, e.code, "%s (console log kept in %s)%s%s", e.msg, kept,
		         tail && *tail ? "; last console lines:\n" : "", tail ? tail : "");
	else if (tail && *tail)
		hyp_fail(err, e.code, "%s; last console lines:\n%s", e.msg, tail);
	return -err->code;
}

/* For `hyperionctl list` and the logs: how long the guest took to boot. */
static int record_boot(const struct hyp_job *job, hyp_error *err)
{
	_cleanup_free_ char *list =
	    hyp_job_resources_path(job->cfg.state_dir, job->spec.node, job->spec.job_id);
	char ms[16];
	snprintf(ms, sizeof(ms), "%u", job->boot_ms);
	if (!list)
		return hyp_fail(err, ENOMEM, "out of memory");
	return hyp_resources_add(list, HYP_RES_BOOTED, ms, err);
}

/*
 * A libvirtd that was just (re)started accepts connections before it is done
 * starting, and a call over such a connection can still find it lost. Each
 * step is tried again on a new connection, after 1, 2, 4 and 8 s: only a
 * libvirtd that stays away is a node fault (-ECONNREFUSED).
 */
#define LOST_RETRIES 4

/* One step over a libvirt connection; returns -ECONNREFUSED when it is lost. */
typedef int (*virt_step)(struct hyp_vm_conn *conn, const void *arg, hyp_error *err);

/* Run `step`, again on a new connection while it finds it lost. */
static int with_reconnect(const struct hyp_config *cfg, struct hyp_vm_conn **conn, virt_step step,
                          const void *arg, hyp_error *err)
{
	int r;
	for (int tries = 0; (r = step(*conn, arg, err)) == -ECONNREFUSED && tries < LOST_RETRIES;
	     tries++) {
		hyp_vm_disconnect(steal_pointer(conn));
		nanosleep(&(struct timespec){.tv_sec = 1 << tries}, NULL);
		if ((r = hyp_vm_connect(cfg, conn, err)) < 0)
			return r;
	}
	return r;
}

static int vm_start_step(struct hyp_vm_conn *conn, const void *arg, hyp_error *err)
{
	const struct hyp_job *job = arg;
	return hyp_vm_start(conn, &job->cfg, &job->spec, err);
}

static int wait_ready_step(struct hyp_vm_conn *conn, const void *arg, hyp_error *err)
{
	const struct hyp_job *job = arg;
	return hyp_vm_wait_ready(conn, job->spec.name, job->cfg.boot_timeout_s, err);
}

/* The boot time record_boot noted for a running VM; 0 while it boots. */
static unsigned recorded_boot_ms(const struct hyp_job *job)
{
	_cleanup_free_ char *list =
	    hyp_job_resources_path(job->cfg.state_dir, job->spec.node, job->spec.job_id);
	_cleanup_free_ char *ms = NULL;
	hyp_error ignored;
	if (!list || hyp_resources_get(list, HYP_RES_BOOTED, &ms, &ignored) < 0 || !ms)
		return 0;
	return (unsigned)strtoul(ms, NULL, 10);
}

static int start(struct hyp_vm_conn **conn, struct hyp_job *job, unsigned flags,
                 const struct hyp_release_ctx *log, hyp_error *err)
{
	if (flags & HYP_JOB_RECONCILE) {
		hyp_error e = {0}; /* a failed clean-up does not stop this job */
		hyp_reconcile(*conn, &job->cfg, job->spec.node, hyp_job_alive_locally, NULL,
		              job->spec.job_id, log, &e);
	}
	long long t0 = hyp_now_ms();
	int r = with_reconnect(&job->cfg, conn, vm_start_step, job, err);
	if (r < 0)
		return r;
	job->reused = r == HYP_VM_REUSED;
	if (job->reused && (job->boot_ms = recorded_boot_ms(job)))
		return 0;
	if (!(flags & HYP_JOB_WAIT_READY))
		return 0;
	/* A VM another step started and is still booting (the extern step's,
	 * at allocation): this step waits for it too. */
	r = with_reconnect(&job->cfg, conn, wait_ready_step, job, err);
	if (r == -ECONNREFUSED) /* the node's fault, not the guest's */
		return r;
	if (r < 0)
		return fail_boot(*conn, job, err);
	if (job->reused)
		return 0;
	job->boot_ms = (unsigned)(hyp_now_ms() - t0);
	return record_boot(job, err);
}

int hyp_job_start(const struct hyp_job_request *req, unsigned flags, struct hyp_job *ret_job,
                  hyp_error *err)
{
	_cleanup_(hyp_job_free) struct hyp_job job = {0};
	_cleanup_(hyp_vm_disconnectp) struct hyp_vm_conn *conn = NULL;
	int r = hyp_job_prepare(req, &job, err);
	if (r >= 0)
		r = hyp_vm_connect(&job.cfg, &conn, err);
	if (r >= 0)
		r = start(&conn, &job, flags, req->reconcile_log, err);
	if (r < 0)
		return r;
	*ret_job = job;
	memset(&job, 0, sizeof(job));
	return 0;
}

struct stop_args {
	const struct hyp_config *cfg;
	const char *node;
	uint32_t job_id;
	const struct hyp_release_ctx *log;
};

static int stop_step(struct hyp_vm_conn *conn, const void *arg, hyp_error *err)
{
	const struct stop_args *a = arg;
	return hyp_vm_destroy(conn, a->cfg, a->node, a->job_id, a->log, err);
}

int hyp_job_stop(const char *config_path, const char *node, uint32_t job_id,
                 const struct hyp_release_ctx *log, hyp_error *err)
{
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	_cleanup_(hyp_vm_disconnectp) struct hyp_vm_conn *conn = NULL;
	char host[HYP_NODE_NAME_MAX + 1];
	int r =
	    node ? hyp_node_name_check(node, err) : hyp_node_name_default(host, sizeof(host), err);
	if (r >= 0)
		r = hyp_config_load(config_path, &cfg, err);
	if (r >= 0)
		r = hyp_vm_connect(&cfg, &conn, err);
	struct stop_args a = {&cfg, node ? node : host, job_id, log};
	if (r >= 0)
		r = with_reconnect(&cfg, &conn, stop_step, &a, err);
	return r;
}

static int push(char **args, size_t *k, const char *s)
{
	return (args[(*k)++] = strdup(s)) ? 0 : -ENOMEM;
}

int hyp_job_exec_argv(const struct hyp_exec_args *req, char ***ret_argv, hyp_error *err)
{
	if (req->argc < 1 || !req->argv || !req->node)
		return hyp_fail(err, EINVAL, "no command to run in the VM");
	char job[16];
	snprintf(job, sizeof(job), "%" PRIu32, req->job_id);
	_cleanup_strv_ char **args = calloc((size_t)req->argc + 11, sizeof(char *));
	size_t k = 0;
	int r = args ? 0 : -ENOMEM;
	const char *head[] = {"hyperion-exec", "--job", job, "--node", req->node};
	for (size_t i = 0; r >= 0 && i < sizeof(head) / sizeof(head[0]); i++)
		r = push(args, &k, head[i]);
	if (r >= 0 && req->config_path && (r = push(args, &k, "--config")) >= 0)
		r = push(args, &k, req->config_path);
	if (r >= 0 && req->script)
		r = push(args, &k, "--script");
	if (r >= 0)
		r = push(args, &k, "--");
	for (int i = 0; r >= 0 && i < req->argc; i++)
		r = push(args, &k, req->argv[i]);
	if (r < 0)
		return hyp_fail(err, ENOMEM, "out of memory");
	*ret_argv = steal_pointer(&args);
	return 0;
}

/*
 * The variables are trusted as they are: hyperion-exec runs as the job's
 * user, who may set them to anything (a TaskProlog may even `unset` them).
 * That selects nothing the user could not reach anyway: another job's exec
 * sockets are mode 0600 of that job's user, so hyperion-exec can only ever
 * talk to VMs of jobs of its own user, which that user may use as he likes.
 */
#define TASK_ARGV0  HYP_TASK_ENV_PREFIX "ARGV0"
#define TASK_JOB    HYP_TASK_ENV_PREFIX "JOB"
#define TASK_NODE   HYP_TASK_ENV_PREFIX "NODE"
#define TASK_CONFIG HYP_TASK_ENV_PREFIX "CONFIG"
#define TASK_SCRIPT HYP_TASK_ENV_PREFIX "SCRIPT"

static int push_var(char **env, size_t *k, const char *name, const char *value)
{
	char *s;
	if (asprintf(&s, "%s=%s", name, value) < 0)
		return -ENOMEM;
	env[(*k)++] = s;
	return 0;
}

int hyp_job_task_env(const struct hyp_exec_args *req, char ***ret_env, hyp_error *err)
{
	if (req->argc < 1 || !req->argv || !req->node)
		return hyp_fail(err, EINVAL, "no command to run in the VM");
	char job[16];
	snprintf(job, sizeof(job), "%" PRIu32, req->job_id);
	_cleanup_strv_ char **env = calloc(6, sizeof(char *));
	size_t k = 0;
	int r = env ? 0 : -ENOMEM;
	if (r >= 0)
		r = push_var(env, &k, TASK_ARGV0, req->argv[0]);
	if (r >= 0)
		r = push_var(env, &k, TASK_JOB, job);
	if (r >= 0)
		r = push_var(env, &k, TASK_NODE, req->node);
	if (r >= 0 && req->config_path)
		r = push_var(env, &k, TASK_CONFIG, req->config_path);
	if (r >= 0 && req->script)
		r = push_var(env, &k, TASK_SCRIPT, "1");
	if (r < 0)
		return hyp_fail(err, ENOMEM, "out of memory");
	*ret_env = steal_pointer(&env);
	return 0;
}

/* Remove every HYPERION_TASK_* variable: they are not the command's. */
static void unset_task_vars(void)
{
	extern char **environ;
	char name[64];
	for (size_t i = 0; environ && environ[i];) {
		const char *eq = strchr(environ[i], '=');
		size_t len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		if (strncmp(environ[i], HYP_TASK_ENV_PREFIX, strlen(HYP_TASK_ENV_PREFIX)) != 0 ||
		    len >= sizeof(name)) {
			i++;
			continue;
		}
		memcpy(name, environ[i], len);
		name[len] = '\0';
		unsetenv(name); /* environ[i] is now the next entry */
	}
}

int hyp_job_task_argv(int argc, char **argv, char ***ret_argv, hyp_error *err)
{
	const char *argv0 = getenv(TASK_ARGV0), *job = getenv(TASK_JOB);
	const char *node = getenv(TASK_NODE), *script = getenv(TASK_SCRIPT);
	if (!argv0)
		return 0;
	char *end = NULL;
	unsigned long id = job ? strtoul(job, &end, 10) : 0;
	if (!argv0[0] || !node || !job || !job[0] || *end || id == 0 || id > UINT32_MAX)
		return hyp_fail(err, EINVAL,
		                "started for a Slurm task, but " HYP_TASK_ENV_PREFIX
		                "* in the environment are incomplete or not valid");
	_cleanup_strv_ char **cmd = calloc((size_t)(argc > 0 ? argc : 1) + 1, sizeof(char *));
	if (!cmd)
		return hyp_fail(err, ENOMEM, "out of memory");
	cmd[0] = (char *)argv0;
	for (int i = 1; i < argc; i++)
		cmd[i] = argv[i];
	struct hyp_exec_args x = {.exec_path = argc > 0 ? argv[0] : "hyperion-exec",
	                          .config_path = getenv(TASK_CONFIG),
	                          .job_id = (uint32_t)id,
	                          .node = node,
	                          .script = script && strcmp(script, "1") == 0,
	                          .argv = cmd,
	                          .argc = argc > 0 ? argc : 1};
	char **args = NULL;
	int r = hyp_job_exec_argv(&x, &args, err);
	/* cmd's strings are borrowed: only the array is freed */
	free(steal_pointer(&cmd));
	if (r < 0)
		return r;
	unset_task_vars();
	*ret_argv = args;
	return 1;
}

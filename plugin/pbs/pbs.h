/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperion-pbs: what OpenPBS's hook and Torque's prologue, epilogue and
 * job starter call. It maps PBS's own strings (job ids, exec_vnode,
 * schedselect, Torque's resource list) onto the core's job request
 * (hyp_job.h); the scripts around it only pass event fields through.
 */
#ifndef HYP_PBS_H
#define HYP_PBS_H

#include <stdbool.h>
#include <stdint.h>

#include "hyp_error.h"

struct hyp_config;

#define PBS_USAGE                                                                                  \
	"usage: hyperion-pbs [--config FILE] [--exec PATH] COMMAND ...\n"                          \
	"  check\n"                                                                                \
	"  check-image [--select SEL] [NAME]\n"                                                    \
	"  start --job ID --node NAME --user USER [--image NAME | --select SEL]\n"                 \
	"        [--ncpus N --mem SIZE | --exec-vnode EV | --resources LIST] [--cpus LIST]\n"      \
	"  stop --job ID --node NAME\n"                                                            \
	"  exec|exec-argv --job ID --node NAME [--image NAME | --select SEL |\n"                   \
	"        --resources LIST | --if-started] [--stdin-script|--interactive]\n"                \
	"        -- COMMAND [ARG]...\n"                                                            \
	"  job-id ID\n"

/* A PBS or Torque job id ("12.server", "12") as Hyperion's: the sequence
 * number plus one (PBS numbers from 0, Hyperion from 1). Array jobs
 * ("12[3].server", "12[].server") are refused. */
int pbs_job_id(const char *pbs_id, uint32_t *ret_id, hyp_error *err);

/* A PBS size ("512mb", "2gb", "1048576kb", "100" bytes, "8w" words) in
 * MiB, rounded up. */
int pbs_size_mib(const char *size, unsigned long long *ret_mib, hyp_error *err);

/* What a job holds on one node. */
struct pbs_share {
	unsigned ncpus;
	unsigned long long mem_mib;
	unsigned ngpus;
	unsigned chunks; /* how many chunks named the node */
};

/* Sum the chunks of `exec_vnode` ("(n1:ncpus=2:mem=1gb)+(n2[0]:ncpus=1)")
 * that run on `node` (the vnode `node` or its vnodes `node[...]`). */
int pbs_exec_vnode_share(const char *exec_vnode, const char *node, struct pbs_share *ret,
                         hyp_error *err);

/* The value of resource `key` in a select or schedselect string
 * ("1:ncpus=1:vm_image=x+2:ncpus=4"): the first chunk that has it, copied
 * into buf. 0 found, -ENOENT none, other negative: malformed. */
int pbs_select_value(const char *select, const char *key, char *buf, size_t size, hyp_error *err);

/* Whether every chunk of `select` gives `key`. */
bool pbs_select_every_chunk_has(const char *select, const char *key);

/* The chunk resource that carries the image to the moms: a job-wide
 * resource (vm_image) does not reach them, so the queuejob hook copies it
 * into every chunk of the select as this host-level one. */
#define PBS_IMAGE_KEY "hyperion_image"

/* The longest image: a catalog name, or the path of a user's own image
 * (user_images), as the Slurm plugin takes (PLUGIN_IMAGE_MAX). */
#define PBS_IMAGE_MAX 1024

/* `select` with key=value in every chunk (replacing one there); an empty
 * select becomes one chunk "1:key=value". malloc'd. */
int pbs_select_with(const char *select, const char *key, const char *value, char **ret,
                    hyp_error *err);

/* Torque's resource list as the prologue gets it ("nodes=1:ppn=2,mem=512mb,
 * vm_image=x"): ppn (or ncpus), mem and vm_image. Absent fields stay 0/"". */
struct torque_resources {
	unsigned ncpus;
	unsigned long long mem_mib;
	char image[PBS_IMAGE_MAX];
};
int torque_resources_parse(const char *list, struct torque_resources *ret, hyp_error *err);

/* The command line of one invocation. */
struct pbs_args {
	const char *config_path;
	const char *exec_path; /* hyperion-exec */
	const char *command;
	const char *job; /* PBS's id, as given */
	uint32_t job_id; /* Hyperion's */
	const char *node;
	const char *user;
	const char *image;
	const char *select;
	const char *exec_vnode;
	const char *resources;
	const char *cpus;
	unsigned ncpus;
	unsigned long long mem_mib;
	bool stdin_script;
	bool interactive; /* a shell without arguments is not a script job */
	bool if_started;  /* exec: a VM job when the job has state on the node */
	char **argv;      /* exec, exec-argv: the command; check-image: the name */
	int argc;
};
int pbs_args_parse(int argc, char **argv, struct pbs_args *ret, hyp_error *err);

/* The image the job asked for: --image, hyperion_image in --select, or in
 * Torque's resources `t`. 1: none (not a VM job). */
int pbs_job_image(const struct pbs_args *a, const struct torque_resources *t, char *buf,
                  size_t size, hyp_error *err);

/* start: resolve the share, image and cpus, then hyp_job_start. Returns 1
 * (nothing done) when the job asked for no image. */
int pbs_start(const struct pbs_args *a, hyp_error *err);
int pbs_stop(const struct pbs_args *a, hyp_error *err);
/* check-image: 0 when the image (NAME, or hyperion_image in --select) is
 * in the catalog or none is asked for; else the error lists the images.
 * With NAME, --select must size every chunk (mem=), and it prints the
 * select that carries the image to the moms (pbs_select_with). */
int pbs_check_image(const struct pbs_args *a, hyp_error *err);
/* check-image for a user's own image (an absolute path): allowed by
 * user_images, and the path's form (hyp_image_path_check). The file itself
 * is not opened: the queuejob hook runs as root on the server host, which
 * may not see the user's files; the node checks it as the user before boot. */
int pbs_check_image_path(const struct hyp_config *cfg, const char *path, hyp_error *err);
/* check: print the node's Hyperion features ("" when it cannot run VMs). */
int pbs_check(const struct pbs_args *a, hyp_error *err);
/* exec execs hyperion-exec; exec-argv prints its argv, NUL-terminated.
 * With --image, --select or --resources naming no image the job is not a
 * VM job, and with --if-started a job that has no state on the node (its
 * prologue started no VM): exec runs the command on the host, exec-argv returns
 * PBS_NOT_A_VM_JOB (exit status 3). */
#define PBS_NOT_A_VM_JOB 3
int pbs_exec(const struct pbs_args *a, bool print_only, hyp_error *err);

/* The cpus the job may use on this host: `cpus` when given, else the
 * job's cpuset from PBS's cgroup hook, else the first `ncpus` online cpus.
 * malloc'd range list. */
int pbs_choose_cpus(const char *cpus, const char *pbs_job, unsigned ncpus, char **ret_list,
                    hyp_error *err);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exec and exec-argv: a job's command through hyperion-exec in its VM.
 *
 * A batch job's shell reads its script from stdin: OpenPBS writes the
 * spooled script's name there, Torque the script itself. exec-argv makes the
 * job run "hyperion-pbs exec --stdin-script", which reads stdin and hands
 * hyperion-exec --script the file it names, or else a memfd holding it; the
 * script's own "#!" line then picks its interpreter in the guest.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_config.h"
#include "hyp_job.h"
#include "hyp_names.h"
#include "pbs.h"

/* 0: the job has a state directory on the node (a VM started), 1: not. */
static int has_state(const struct pbs_args *a, hyp_error *err)
{
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	int r = hyp_config_load(a->config_path, &cfg, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *dir = hyp_job_dir(cfg.state_dir, a->node, a->job_id);
	if (!dir)
		return hyp_fail(err, ENOMEM, "out of memory");
	return access(dir, F_OK) == 0 ? 0 : 1;
}

static bool is_shell(const char *path)
{
	static const char *const shells[] = {"sh", "bash", "dash", "ksh", "zsh", "csh", "tcsh"};
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	base += base[0] == '-'; /* a login shell's argv[0] */
	for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
		if (strcmp(base, shells[i]) == 0)
			return true;
	return false;
}

/* 0: a VM job, 1: not (runs on the host). */
static int vm_job(const struct pbs_args *a, hyp_error *err)
{
	struct torque_resources t = {0};
	char image[PBS_IMAGE_MAX];
	int r = a->resources ? torque_resources_parse(a->resources, &t, err) : 0;
	if (r < 0)
		return r;
	if (a->image || a->select || a->resources)
		return pbs_job_image(a, &t, image, sizeof(image), err);
	return a->if_started ? has_state(a, err) : 0;
}

#define STDIN_MAX (4 << 20) /* more than a request carries: hyperion-exec says so */

static int read_stdin(char **ret_buf, size_t *ret_len, hyp_error *err)
{
	_cleanup_free_ char *buf = malloc(STDIN_MAX + 1);
	size_t len = 0;
	ssize_t n = 1;
	if (!buf)
		return hyp_fail(err, ENOMEM, "out of memory");
	while (len < STDIN_MAX && n != 0) {
		n = read(STDIN_FILENO, buf + len, STDIN_MAX - len);
		if (n < 0 && errno != EINTR)
			return hyp_fail_errno(err, "reading the job script from stdin");
		len += n > 0 ? (size_t)n : 0;
	}
	buf[len] = '\0';
	*ret_buf = steal_pointer(&buf);
	*ret_len = len;
	return 0;
}

/* PBS's job shell reads the name of the spooled script (mom_priv/jobs/
 * ID.SC, the user's) on stdin: one absolute path of a regular file. */
static bool names_a_script(char *text, size_t len)
{
	struct stat st;
	if (len > 0 && text[len - 1] == '\n')
		text[len - 1] = '\0';
	return text[0] == '/' && !strchr(text, '\n') && stat(text, &st) == 0 && S_ISREG(st.st_mode);
}

/* The job script the shell would read from stdin: the file stdin names,
 * else stdin itself, copied into a memfd that stays open across exec. */
static int stdin_script(char *path, size_t size, hyp_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r = read_stdin(&text, &len, err);
	if (r < 0)
		return r;
	if (names_a_script(text, len)) {
		snprintf(path, size, "%s", text);
		return 0;
	}
	int fd = memfd_create("hyperion-pbs-script", 0);
	if (fd < 0)
		return hyp_fail_errno(err, "memfd_create");
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return hyp_fail_errno(err, "copying the job script");
	}
	snprintf(path, size, "/proc/self/fd/%d", fd);
	return 0;
}

static void put(const char *s)
{
	fwrite(s, 1, strlen(s) + 1, stdout);
}

/* exec-argv of a script job: this program again, reading stdin as the job. */
static int print_self(const struct pbs_args *a, hyp_error *err)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return hyp_fail_errno(err, "reading /proc/self/exe");
	self[n] = '\0';
	put(self);
	if (a->config_path) {
		put("--config");
		put(a->config_path);
	}
	const char *tail[] = {"--exec", a->exec_path, "exec",           "--job", a->job,
	                      "--node", a->node,      "--stdin-script", "--",    a->argv[0]};
	for (size_t i = 0; i < sizeof(tail) / sizeof(tail[0]); i++)
		put(tail[i]);
	return fflush(stdout) == 0 ? 0 : hyp_fail_errno(err, "writing the argv");
}

static int print_argv(const struct pbs_args *a, char **args, hyp_error *err)
{
	put(a->exec_path); /* argv[0] as the path PBS's progname wants */
	for (size_t i = 1; args[i]; i++)
		put(args[i]);
	return fflush(stdout) == 0 ? 0 : hyp_fail_errno(err, "writing the argv");
}

int pbs_exec(const struct pbs_args *a, bool print_only, hyp_error *err)
{
	int r = vm_job(a, err);
	if (r < 0)
		return r;
	if (r == 1 && print_only)
		return PBS_NOT_A_VM_JOB;
	if (r == 1) {
		execvp(a->argv[0], a->argv);
		return hyp_fail_errno(err, "executing '%s'", a->argv[0]);
	}
	/* A batch job's shell without arguments reads the script from stdin. */
	bool script = a->stdin_script || (!a->interactive && a->argc == 1 && is_shell(a->argv[0]));
	if (script && print_only)
		return print_self(a, err);
	char path[PATH_MAX];
	char *script_argv[] = {path, NULL};
	if (script && (r = stdin_script(path, sizeof(path), err)) < 0)
		return r;
	struct hyp_exec_args x = {.exec_path = a->exec_path,
	                          .config_path = a->config_path,
	                          .job_id = a->job_id,
	                          .node = a->node,
	                          .script = script,
	                          .argv = script ? script_argv : a->argv,
	                          .argc = script ? 1 : a->argc};
	_cleanup_strv_ char **args = NULL;
	if ((r = hyp_job_exec_argv(&x, &args, err)) < 0)
		return r;
	if (print_only)
		return print_argv(a, args, err);
	execv(a->exec_path, args);
	return hyp_fail_errno(err, "executing '%s'", a->exec_path);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperion-pbs: a user's own image (user_images), as a path up to 1024
 * characters, and what check-image (the queuejob hook) checks of it. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyp_config.h"
#include "pbs.h"

/* "/home/u/" and 'x's up to len characters, then ".qcow2" */
static char *long_path(size_t len)
{
	char *p = malloc(len + 1);
	cr_assert_not_null(p);
	memset(p, 'x', len);
	memcpy(p, "/home/u/", 8);
	memcpy(p + len - 6, ".qcow2", 6);
	p[len] = '\0';
	return p;
}

Test(pbs_image, torque_takes_a_path_up_to_the_limit)
{
	hyp_error err = {0};
	struct torque_resources t;
	char *path = long_path(PBS_IMAGE_MAX - 1), *list;
	cr_assert_gt(asprintf(&list, "nodes=1:ppn=1,mem=1gb,vm_image=%s", path), 0);
	cr_assert_eq(torque_resources_parse(list, &t, &err), 0, "%s", err.msg);
	cr_assert_str_eq(t.image, path);
	free(list);
	free(path);

	path = long_path(PBS_IMAGE_MAX);
	cr_assert_gt(asprintf(&list, "mem=1gb,vm_image=%s", path), 0);
	cr_assert_eq(torque_resources_parse(list, &t, &err), -ENAMETOOLONG);
	free(list);
	free(path);
}

Test(pbs_image, job_image_refuses_rather_than_cuts)
{
	hyp_error err = {0};
	char buf[PBS_IMAGE_MAX];
	struct torque_resources t = {0};
	char *path = long_path(PBS_IMAGE_MAX - 1), *sel;
	struct pbs_args a = {.image = path};
	cr_assert_eq(pbs_job_image(&a, &t, buf, sizeof(buf), &err), 0, "%s", err.msg);
	cr_assert_str_eq(buf, path);
	cr_assert_gt(asprintf(&sel, "1:ncpus=1:mem=1gb:" PBS_IMAGE_KEY "=%s", path), 0);
	a = (struct pbs_args){.select = sel};
	cr_assert_eq(pbs_job_image(&a, &t, buf, sizeof(buf), &err), 0, "%s", err.msg);
	cr_assert_str_eq(buf, path);
	free(sel);
	free(path);

	path = long_path(PBS_IMAGE_MAX);
	a = (struct pbs_args){.image = path};
	cr_assert_eq(pbs_job_image(&a, &t, buf, sizeof(buf), &err), -ENAMETOOLONG);
	cr_assert(strstr(err.msg, "too long (at most 1023)"), "%s", err.msg);
	free(path);
}

Test(pbs_image, path_needs_user_images_and_a_plain_form)
{
	hyp_error err = {0};
	struct hyp_config cfg = {.user_images = false};
	cr_assert_eq(pbs_check_image_path(&cfg, "/home/u/a.qcow2", &err), -EPERM);
	cr_assert(strstr(err.msg, "user_images = no"), "%s", err.msg);
	cfg.user_images = true;
	cr_assert_eq(pbs_check_image_path(&cfg, "/home/u/a.qcow2", &err), 0, "%s", err.msg);
	const char *bad[] = {"/home/u/../v/a.qcow2", "/home/u/json:{}", "/home/u/nbd:x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_lt(pbs_check_image_path(&cfg, bad[i], &err), 0, "%s accepted", bad[i]);
}

/* check-image as the queuejob hook runs it, with a hyperion.conf */
static int check_image(const char *conf_text, const char *image, hyp_error *err)
{
	char conf[] = "/tmp/hyperion-pbs-image.XXXXXX";
	int fd = mkstemp(conf);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, conf_text, strlen(conf_text)), (ssize_t)strlen(conf_text));
	close(fd);
	char *argv[] = {(char *)image, NULL};
	struct pbs_args a = {.config_path = conf,
	                     .command = "check-image",
	                     .select = "1:ncpus=1:mem=1gb",
	                     .argv = argv,
	                     .argc = 1};
	int r = pbs_check_image(&a, err);
	unlink(conf);
	return r;
}

Test(pbs_image, check_image_carries_a_path_to_the_moms, .init = cr_redirect_stdout)
{
	hyp_error err = {0};
	cr_assert_eq(check_image("user_images = yes\n", "/home/u/a.qcow2", &err), 0, "%s", err.msg);
	fflush(stdout);
	cr_assert_stdout_eq_str("1:ncpus=1:mem=1gb:" PBS_IMAGE_KEY "=/home/u/a.qcow2\n");
}

Test(pbs_image, check_image_refuses_paths)
{
	hyp_error err = {0};
	cr_assert_eq(check_image("user_images = no\n", "/home/u/a.qcow2", &err), -EPERM);
	cr_assert(strstr(err.msg, "does not allow user-supplied images"), "%s", err.msg);
	/* a value the select cannot carry */
	cr_assert_lt(check_image("user_images = yes\n", "/home/u/a+b.qcow2", &err), 0);
	cr_assert(strstr(err.msg, "cannot be a resource value"), "%s", err.msg);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The memory a submission asks for: command line, environment, #SBATCH. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hyp_memreq.h"

Test(memreq, sizes)
{
	unsigned long long mb = 0;
	cr_expect_eq(hyp_memreq_parse_size("512", &mb), 0);
	cr_expect_eq(mb, 512);
	cr_expect_eq(hyp_memreq_parse_size("2G", &mb), 0);
	cr_expect_eq(mb, 2048);
	cr_expect_eq(hyp_memreq_parse_size("1t", &mb), 0);
	cr_expect_eq(mb, 1024 * 1024);
	cr_expect_eq(hyp_memreq_parse_size("2048K", &mb), 0);
	cr_expect_eq(mb, 2);
	cr_expect_eq(hyp_memreq_parse_size("20M", &mb), 0);
	cr_expect_eq(mb, 20);
	cr_expect_lt(hyp_memreq_parse_size("2GB", &mb), 0);
	cr_expect_lt(hyp_memreq_parse_size("-1", &mb), 0);
	cr_expect_lt(hyp_memreq_parse_size("", &mb), 0);
	cr_expect_lt(hyp_memreq_parse_size(NULL, &mb), 0);
}

/* A size whose MB do not fit 64 bits is refused: "16777216T" once wrapped
 * to 0 (no check at all) and "18014398509481985G" to 1024 MB. */
Test(memreq, sizes_that_overflow_are_refused)
{
	unsigned long long mb = 0;
	cr_expect_lt(hyp_memreq_parse_size("18014398509481985G", &mb), 0, "got %llu", mb);
	cr_expect_lt(hyp_memreq_parse_size("17592186044416T", &mb), 0, "got %llu", mb);
	cr_expect_eq(hyp_memreq_parse_size("17592186044415T", &mb), 0);
	cr_expect_eq(mb, 17592186044415ULL << 20);
}

static unsigned long long find(char *const argv[], char *const envp[])
{
	unsigned long long mb = 0;
	return hyp_memreq_find(argv, envp, &mb) == 1 ? mb : 0;
}

Test(memreq, command_line_and_environment)
{
	char *none[] = {NULL};
	char *a1[] = {"/usr/bin/srun", "--vm-image=default", "--mem=20", "true", NULL};
	cr_expect_eq(find(a1, none), 20);
	char *a2[] = {"srun", "-n", "1", "--mem", "1G", "hostname", NULL};
	cr_expect_eq(find(a2, none), 1024);
	/* the program's own arguments are not srun's */
	char *a3[] = {"srun", "-n", "1", "prog", "--mem=5", NULL};
	cr_expect_eq(find(a3, none), 0);
	char *a4[] = {"srun", "--", "prog", "--mem=5", NULL};
	cr_expect_eq(find(a4, none), 0);
	char *env[] = {"SLURM_MEM_PER_NODE=300", "SBATCH_MEM_PER_NODE=900", NULL};
	char *a5[] = {"srun", "true", NULL};
	cr_expect_eq(find(a5, env), 300);
	cr_expect_eq(find(a1, env), 20); /* the command line wins */
	char *a6[] = {"sbatch", "--wrap=true", NULL};
	cr_expect_eq(find(a6, env), 900);
	char *a7[] = {"salloc", "--mem=0", NULL}; /* all of the node */
	cr_expect_eq(find(a7, none), 0);
}

Test(memreq, sbatch_script_directives)
{
	char path[] = "/tmp/hyp-test-memreq.XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *f = fdopen(fd, "w");
	fputs("#!/bin/bash\n#SBATCH -n 1\n#SBATCH --mem=48\n\necho hi\n#SBATCH --mem=9999\n", f);
	fclose(f);
	char *none[] = {NULL};
	char *a1[] = {"sbatch", "--vm-image=deb", path, "arg", NULL};
	cr_expect_eq(find(a1, none), 48);
	char *a2[] = {"sbatch", "--mem=2G", path, NULL};
	cr_expect_eq(find(a2, none), 2048);
	char *env[] = {"SBATCH_MEM_PER_NODE=700", NULL};
	cr_expect_eq(find(a1, env), 700);
	char *a3[] = {"srun", path, NULL}; /* srun reads no #SBATCH */
	cr_expect_eq(find(a3, none), 0);
	unlink(path);
}

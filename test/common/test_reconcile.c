/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Is a job alive on this host? Judged from slurmstepd processes, read
 * from a /proc tree the test builds. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "hyp_reconcile.h"

static char proc[64];

static void add_process(const char *pid, const char *comm, const char *cmdline, size_t len)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", proc, pid);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s/comm", proc, pid);
	FILE *f = fopen(path, "w");
	fprintf(f, "%s\n", comm);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s/cmdline", proc, pid);
	f = fopen(path, "w");
	fwrite(cmdline, 1, len, f);
	fclose(f);
}

static void setup(void)
{
	snprintf(proc, sizeof(proc), "/tmp/hyp-test-proc.XXXXXX");
	cr_assert_not_null(mkdtemp(proc));
	static const char batch[] = "slurmstepd: [42.batch]";
	static const char step[] = "slurmstepd: [7.0]";
	static const char ext[] = "slurmstepd: [9.extern]";
	static const char fake[] = "bash\0[13.0]";
	add_process("100", "slurmstepd", batch, sizeof(batch));
	add_process("101", "slurmstepd", step, sizeof(step));
	add_process("102", "slurmstepd", ext, sizeof(ext));
	add_process("103", "bash", fake, sizeof(fake));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", proc);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(reconcile, .init = setup, .fini = teardown);

Test(reconcile, a_job_lives_while_one_of_its_slurmstepds_runs)
{
	cr_expect(hyp_job_alive_locally(proc, "n1", 42), "batch step");
	cr_expect(hyp_job_alive_locally(proc, "n1", 7), "srun step");
	cr_expect(hyp_job_alive_locally(proc, "n2", 9), "extern step, any node of the host");
	cr_expect_not(hyp_job_alive_locally(proc, "n1", 4), "[42. is not [4.");
	cr_expect_not(hyp_job_alive_locally(proc, "n1", 13), "only slurmstepd counts");
	cr_expect_not(hyp_job_alive_locally(proc, "n1", 8));
}

Test(reconcile, when_proc_cannot_be_read_every_job_is_kept)
{
	cr_expect(hyp_job_alive_locally("/nonexistent-proc", "n1", 8));
}

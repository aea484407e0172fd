/* SPDX-License-Identifier: GPL-2.0-or-later */
/* For tests: check a domain XML against libvirt's schema (virt-xml-validate). */
#ifndef TEST_XML_VALIDATE_H
#define TEST_XML_VALIDATE_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hyp_cleanup.h"

#define VALIDATOR "virt-xml-validate"

static inline bool validator_installed(void)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *dirs = strdup(path ? path : "/usr/bin:/bin");
	for (char *save, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char prog[4096];
		snprintf(prog, sizeof(prog), "%s/" VALIDATOR, d);
		if (access(prog, X_OK) == 0)
			return true;
	}
	return false;
}

/* virt-xml-validate FILE domain, run directly (no shell); its output goes
 * into the failure message. */
static inline void validate(const char *xml)
{
	if (!validator_installed())
		cr_skip_test(VALIDATOR " is not installed (apt-get install libvirt-clients)");
	char file[] = "/tmp/hyp-test-domain.XXXXXX", out[] = "/tmp/hyp-test-validate.XXXXXX";
	int fd = mkstemp(file), ofd = mkstemp(out);
	cr_assert(fd >= 0 && ofd >= 0);
	cr_assert_eq(write(fd, xml, strlen(xml)), (ssize_t)strlen(xml));
	close(fd);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char *argv[] = {VALIDATOR, file, "domain", NULL};
		if (dup2(ofd, 1) >= 0 && dup2(ofd, 2) >= 0)
			execvp(argv[0], argv);
		_exit(127);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	char msg[4096] = "";
	ssize_t n = pread(ofd, msg, sizeof(msg) - 1, 0);
	msg[n > 0 ? n : 0] = '\0';
	close(ofd);
	unlink(out);
	unlink(file);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, VALIDATOR " failed: %s\n%s", msg,
	          xml);
}

#endif

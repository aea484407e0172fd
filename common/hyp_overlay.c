/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hyp_overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hyp_cleanup.h"

static const char *format_name(enum hyp_disk_format f)
{
	return f == HYP_DISK_RAW ? "raw" : "qcow2";
}

/* Run argv, its stderr captured into msg (truncated); 0 if it exited 0. */
static int run_captured(char *const argv[], char *msg, size_t msg_size, hyp_error *err)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return hyp_fail_errno(err, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return hyp_fail_errno(err, "fork");
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 ||
		    dup2(pipefd[1], 2) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	size_t len = 0;
	ssize_t n;
	while ((n = read(pipefd[0], msg + len, msg_size - 1 - len)) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			len += (size_t)n;
	msg[len] = '\0';
	close(pipefd[0]);

	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return hyp_fail_errno(err, "waiting for %s", argv[0]);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && len == 0)
		return hyp_fail(err, ENOENT, "%s not found (install qemu-utils)", argv[0]);
	return hyp_fail(err, EIO, "%s failed: %s", argv[0], len ? strtok(msg, "\n") : "no message");
}

int hyp_overlay_create(const struct hyp_image *img, const char *path, hyp_error *err)
{
	char *const argv[] = {
	    "qemu-img",
	    "create",
	    "-q",
	    "-f",
	    "qcow2",
	    "-F",
	    (char *)format_name(img->disk_format),
	    "-b",
	    img->disk,
	    (char *)path,
	    NULL,
	};
	char msg[512];
	int r = run_captured(argv, msg, sizeof(msg), err);
	if (r < 0)
		return hyp_error_prefix(err, "image '%s': creating overlay '%s'", img->name, path);
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /etc/hyperion/modules.load (doc/appliance.md): one absolute path of an
 * uncompressed .ko per line, dependencies first, '#' starts a comment.
 * Each is loaded with finit_module(2); one already loaded (or built in) is
 * fine, any other failure is logged and the next module is tried.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "hyp_cleanup.h"

static void load_one(const char *path, unsigned line)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		agent_log("module '%s' (modules.load line %u): %m", path, line);
		return;
	}
	if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
		agent_log("loading module '%s': %m", path);
}

/* The path on a line, without comment and surrounding blanks ("" if none). */
static char *line_path(char *line)
{
	line[strcspn(line, "#\n")] = '\0';
	line += strspn(line, " \t");
	size_t len = strlen(line);
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		line[--len] = '\0';
	return line;
}

void agent_modules_load(const char *list_path)
{
	_cleanup_fclose_ FILE *f = fopen(list_path, "re");
	char buf[4096];
	unsigned line = 0;

	if (!f) {
		if (errno != ENOENT)
			agent_log("reading '%s': %m", list_path);
		return;
	}
	while (fgets(buf, sizeof(buf), f)) {
		char *path = line_path(buf);
		line++;
		if (!*path)
			continue;
		if (path[0] != '/')
			agent_log("%s line %u: '%s' is not an absolute path", list_path, line,
			          path);
		else
			load_one(path, line);
	}
}

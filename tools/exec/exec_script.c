/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --script: the command is a file on the host (Slurm spools a batch script in
 * slurmd's spool directory, which the guest cannot see). Its content travels
 * in the EXEC request, as arguments of a small sh loader that writes it to a
 * private temporary file in the guest and execs that, so the script's own
 * "#!" line picks its interpreter as it would on the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"
#include "hyp_cleanup.h"

/* One argv string stays well below the kernel's MAX_ARG_STRLEN (128 KiB). */
#define PIECE (64 * 1024)

static const char loader[] =
    "f=$(mktemp \"${TMPDIR:-/tmp}/hyperion-script.XXXXXX\" 2>/dev/null ||"
    " mktemp /tmp/hyperion-script.XXXXXX) || exit 1\n"
    "n=$1; shift\n"
    "while [ \"$n\" -gt 0 ]; do printf %s \"$1\"; shift; n=$((n - 1)); done >\"$f\" || exit 1\n"
    "chmod 700 \"$f\" && exec \"$f\" \"$@\"\n";

static int read_script(const char *path, char **ret_text, size_t *ret_len, hyp_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *text = malloc(HYP_FRAME_MAX_PAYLOAD + 1);
	size_t len = 0;
	ssize_t n = 1;
	if (fd < 0)
		return hyp_fail_errno(err, "batch script '%s'", path);
	if (!text)
		return hyp_fail(err, ENOMEM, "out of memory");
	while (len <= HYP_FRAME_MAX_PAYLOAD && n > 0) {
		n = read(fd, text + len, HYP_FRAME_MAX_PAYLOAD + 1 - len);
		if (n < 0 && errno != EINTR)
			return hyp_fail_errno(err, "reading batch script '%s'", path);
		len += n > 0 ? (size_t)n : 0;
	}
	if (len > HYP_FRAME_MAX_PAYLOAD)
		return hyp_fail(err, EFBIG,
		                "batch script '%s' is larger than the %d KiB a request "
		                "carries",
		                path, HYP_FRAME_MAX_PAYLOAD / 1024);
	if (memchr(text, '\0', len))
		return hyp_fail(err, EINVAL, "batch script '%s' contains NUL bytes", path);
	text[len] = '\0';
	*ret_text = steal_pointer(&text);
	*ret_len = len;
	return 0;
}

static bool push(char **v, size_t *k, char *s)
{
	if (!s)
		return false;
	v[(*k)++] = s;
	return true;
}

int exec_script_argv(const char *path, char **args, int nargs, char ***ret_argv, uint32_t *ret_argc,
                     hyp_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0, k = 0;
	int r = read_script(path, &text, &len, err);
	if (r < 0)
		return r;
	size_t pieces = (len + PIECE - 1) / PIECE, total = 5 + pieces + (size_t)nargs;
	_cleanup_strv_ char **v = calloc(total + 1, sizeof(char *));
	const char *slash = strrchr(path, '/');
	const char *name = slash && slash[1] ? slash + 1 : "script";
	char count[32];
	snprintf(count, sizeof(count), "%zu", pieces);
	/* sh -c LOADER NAME COUNT PIECE... ARG... */
	bool ok = v && push(v, &k, strdup("/bin/sh")) && push(v, &k, strdup("-c")) &&
	          push(v, &k, strdup(loader)) && push(v, &k, strdup(name)) &&
	          push(v, &k, strdup(count));
	for (size_t i = 0; ok && i < pieces; i++)
		ok = push(v, &k, strndup(text + i * PIECE, PIECE));
	for (int i = 0; ok && i < nargs; i++)
		ok = push(v, &k, strdup(args[i]));
	if (!ok)
		return hyp_fail(err, ENOMEM, "out of memory");
	*ret_argc = (uint32_t)total;
	*ret_argv = steal_pointer(&v);
	return 0;
}

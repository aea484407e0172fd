/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hyp_console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyp_cleanup.h"

#define TAIL_BYTES (16 * 1024)

/* Printable ASCII, tab and newline pass; '\r' is dropped (serial consoles
 * write CRLF); anything else becomes '?'. */
static size_t sanitize(char *buf, size_t len)
{
	size_t out = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == '\r')
			continue;
		buf[out++] = (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f)) ? (char)c : '?';
	}
	return out;
}

/* Start of the last `max_lines` lines of buf[0..len), ignoring one trailing
 * newline. */
static size_t last_lines_start(const char *buf, size_t len, unsigned max_lines)
{
	if (len && buf[len - 1] == '\n')
		len--;
	unsigned seen = 0;
	for (size_t i = len; i > 0; i--)
		if (buf[i - 1] == '\n' && ++seen == max_lines)
			return i;
	return 0;
}

static int read_tail(const char *path, size_t max_bytes, char **ret_buf, size_t *ret_len,
                     hyp_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return hyp_fail_errno(err, "console log '%s'", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return hyp_fail_errno(err, "console log '%s'", path);
	if (!S_ISREG(st.st_mode))
		return hyp_fail(err, EINVAL, "console log '%s' is not a regular file", path);

	off_t start = st.st_size > (off_t)max_bytes ? st.st_size - (off_t)max_bytes : 0;
	_cleanup_free_ char *buf = malloc(max_bytes + 1);
	if (!buf)
		return hyp_fail(err, ENOMEM, "out of memory");
	ssize_t n = pread(fd, buf, max_bytes, start);
	if (n < 0)
		return hyp_fail_errno(err, "reading console log '%s'", path);
	*ret_len = sanitize(buf, (size_t)n);
	buf[*ret_len] = '\0';
	*ret_buf = steal_pointer(&buf);
	return 0;
}

int hyp_console_tail_bytes(const char *path, size_t max_bytes, char **ret_text, hyp_error *err)
{
	size_t len;
	return read_tail(path, max_bytes, ret_text, &len, err);
}

int hyp_console_tail(const char *path, unsigned max_lines, char **ret_text, hyp_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_tail(path, TAIL_BYTES, &buf, &len, err);
	if (r < 0)
		return r;
	size_t from = last_lines_start(buf, len, max_lines);
	memmove(buf, buf + from, len - from);
	buf[len - from] = '\0';
	*ret_text = steal_pointer(&buf);
	return 0;
}

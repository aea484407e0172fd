/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configuration file reader and the shared value parsers.
 *
 * A line is blank, a comment (first non-blank character '#'), a header
 * "[text]" or "key = value". A '#' after a value is part of the value (kernel
 * command lines and paths may hold one); a bad value says so in its error.
 */
#include "hyp_ini.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hyp_cleanup.h"

struct ini_state {
	const char *path;
	hyp_ini_fn fn;
	void *ctx;
	char *section;         /* current header text ("" before the first) */
	unsigned section_line; /* its line */
	unsigned line;         /* the line being read */
};

/* Trim whitespace in place at both ends; returns the new start. */
static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

static int fail_at(struct ini_state *st, unsigned line, int r, hyp_error *err)
{
	return r < 0 ? hyp_error_prefix(err, "%s:%u", st->path, line) : r;
}

/* The end of the current section, if any: fn checks it as a whole. */
static int end_section(struct ini_state *st, hyp_error *err)
{
	if (!*st->section)
		return 0;
	int r = st->fn(st->ctx, st->section, NULL, NULL, err);
	return fail_at(st, st->section_line, r, err);
}

static int header_line(struct ini_state *st, char *s, hyp_error *err)
{
	size_t len = strlen(s);
	if (s[len - 1] != ']')
		return hyp_fail(err, EINVAL,
		                "%s:%u: header '%s' does not end with ']' (comments go on lines "
		                "of their own)",
		                st->path, st->line, s);
	s[len - 1] = '\0';
	char *text = trim(s + 1);
	if (!*text || strpbrk(text, "[]"))
		return hyp_fail(err, EINVAL, "%s:%u: bad header '[%s]' (expected [TYPE NAME])",
		                st->path, st->line, text);
	int r = end_section(st, err);
	if (r < 0)
		return r;
	char *copy = strdup(text);
	if (!copy)
		return hyp_fail(err, ENOMEM, "out of memory");
	free(st->section);
	st->section = copy;
	st->section_line = st->line;
	return 0;
}

static bool valid_key(const char *key)
{
	if (!*key)
		return false;
	for (const char *p = key; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_-.", *p))
			return false;
	return true;
}

static int key_line(struct ini_state *st, char *s, hyp_error *err)
{
	char *eq = strchr(s, '=');
	if (!eq)
		return hyp_fail(err, EINVAL,
		                "%s:%u: expected 'key = value' or '[header]', got '%s'", st->path,
		                st->line, s);
	*eq = '\0';
	char *key = trim(s), *value = trim(eq + 1);
	if (!valid_key(key))
		return hyp_fail(err, EINVAL,
		                "%s:%u: bad key '%s' (letters, digits, '_', '-' and '.' only)",
		                st->path, st->line, key);
	int r = st->fn(st->ctx, st->section, key, value, err);
	return fail_at(st, st->line, r, err);
}

static int parse_line(struct ini_state *st, char *line, size_t len, hyp_error *err)
{
	if (strlen(line) != len)
		return hyp_fail(err, EINVAL, "%s:%u: line holds a NUL byte", st->path, st->line);
	char *s = trim(line);
	if (!*s || *s == '#')
		return 0;
	return *s == '[' ? header_line(st, s, err) : key_line(st, s, err);
}

static int parse_stream(struct ini_state *st, FILE *f, hyp_error *err)
{
	_cleanup_free_ char *line = NULL;
	size_t size = 0;
	ssize_t n;
	while ((n = getline(&line, &size, f)) >= 0) {
		st->line++;
		int r = parse_line(st, line, (size_t)n, err);
		if (r < 0)
			return r;
	}
	if (ferror(f))
		return hyp_fail_errno(err, "reading '%s'", st->path);
	return end_section(st, err);
}

int hyp_ini_parse_file(const char *path, hyp_ini_fn fn, void *ctx, hyp_error *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return hyp_fail_errno(err, "opening '%s'", path);
	struct ini_state st = {.path = path, .fn = fn, .ctx = ctx, .section = strdup("")};
	if (!st.section)
		return hyp_fail(err, ENOMEM, "out of memory");
	int r = parse_stream(&st, f, err);
	free(st.section);
	return r;
}

int hyp_parse_bool(const char *key, const char *value, bool *ret, hyp_error *err)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(value, yes[i]) || !strcasecmp(value, no[i])) {
			*ret = !strcasecmp(value, yes[i]);
			return 0;
		}
	}
	return hyp_fail(err, EINVAL,
	                "%s: bad value '%s' (allowed: yes, no, true, false, on, off, 1, 0)", key,
	                value);
}

int hyp_parse_uint(const char *key, const char *value, unsigned long long min,
                   unsigned long long max, unsigned long long *ret, hyp_error *err)
{
	const char *p = value;
	while (isdigit((unsigned char)*p))
		p++;
	errno = 0;
	unsigned long long v = p != value ? strtoull(value, NULL, 10) : 0;
	if (p == value || *p || errno == ERANGE || v < min || v > max)
		return hyp_fail(err, EINVAL,
		                "%s: bad value '%s' (allowed: a whole number from %llu to %llu)",
		                key, value, min, max);
	*ret = v;
	return 0;
}

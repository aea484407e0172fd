/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one reader for Hyperion's configuration files: "key = value" lines,
 * "[section NAME]" headers, '#' comments, blank lines. Values are trimmed;
 * no quoting or continuation. Errors name the file and line.
 */
#ifndef HYP_INI_H
#define HYP_INI_H

#include <stdbool.h>

#include "hyp_error.h"

/* Called for each key; section is "" before the first header, else the whole
 * header text ("image rocky9"). After the last key of each [section] (also
 * for a section without keys) it is called once more with key and value
 * NULL, to check the section as a whole; errors from that call name the
 * header's line. Return < 0 (with err set) to stop. */
typedef int (*hyp_ini_fn)(void *ctx, const char *section, const char *key, const char *value,
                          hyp_error *err);

/* Parse `path`; errors from fn are prefixed with "FILE:LINE". */
int hyp_ini_parse_file(const char *path, hyp_ini_fn fn, void *ctx, hyp_error *err);

/* Shared value parsers: yes/no/true/false/on/off/1/0; decimal unsigned
 * within [min, max]. The error names the key, the bad value and what is
 * allowed. */
int hyp_parse_bool(const char *key, const char *value, bool *ret, hyp_error *err);
int hyp_parse_uint(const char *key, const char *value, unsigned long long min,
                   unsigned long long max, unsigned long long *ret, hyp_error *err);

#endif

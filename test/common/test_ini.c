/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration file reader and the shared value parsers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_ini.h"

static char dir[64];
static char path[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/hyp-test-ini.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/test.conf", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

TestSuite(ini, .init = setup, .fini = teardown);

static void write_bytes(const char *data, size_t len)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void write_conf(const char *text)
{
	write_bytes(text, strlen(text));
}

/* Records every call as "section|key=value;" or "section|END;". */
struct recorder {
	char log[2048];
	const char *fail_key; /* fail when this key (or "END") comes */
	int calls;
};

static int record(void *ctx, const char *section, const char *key, const char *value,
                  hyp_error *err)
{
	struct recorder *rec = ctx;
	size_t len = strlen(rec->log);
	rec->calls++;
	if (key)
		snprintf(rec->log + len, sizeof(rec->log) - len, "%s|%s=%s;", section, key, value);
	else
		snprintf(rec->log + len, sizeof(rec->log) - len, "%s|END;", section);
	if (rec->fail_key && !strcmp(rec->fail_key, key ? key : "END"))
		return hyp_fail(err, EINVAL, "refused '%s'", key ? key : "section");
	return 0;
}

static void expect_parse(const char *text, const char *want)
{
	struct recorder rec = {0};
	hyp_error err = {0};
	write_conf(text);
	cr_assert_eq(hyp_ini_parse_file(path, record, &rec, &err), 0, "%s", err.msg);
	cr_expect_str_eq(rec.log, want);
}

static void expect_error(const char *text, int code, const char *want_msg)
{
	struct recorder rec = {0};
	hyp_error err = {0};
	write_conf(text);
	cr_assert_eq(hyp_ini_parse_file(path, record, &rec, &err), code, "'%s': %s", text, err.msg);
	char full[256];
	snprintf(full, sizeof(full), "%s:%s", path, want_msg);
	cr_expect_str_eq(err.msg, full);
}

Test(ini, keys_values_comments_and_blank_lines)
{
	expect_parse("# a comment\n"
	             "\n"
	             "a = 1\n"
	             "   # an indented comment\n"
	             "  b=two words  \n"
	             "\tc\t=\t3\t\n",
	             "|a=1;|b=two words;|c=3;");
}

Test(ini, values_keep_equals_and_hashes)
{
	expect_parse("cmdline = root=/dev/vda rw # not a comment\n",
	             "|cmdline=root=/dev/vda rw # not a comment;");
}

Test(ini, empty_value)
{
	expect_parse("housekeeping_cpus =\nx = \n", "|housekeeping_cpus=;|x=;");
}

Test(ini, crlf_and_missing_final_newline)
{
	expect_parse("a = 1\r\nb = 2", "|a=1;|b=2;");
}

Test(ini, sections_end_after_their_keys)
{
	expect_parse("top = 1\n"
	             "[image a]\n"
	             "kind = disk\n"
	             "[ image  b ]\n"
	             "[image c]\n"
	             "x = y\n",
	             "|top=1;image a|kind=disk;image a|END;image  b|END;image c|x=y;image c|END;");
}

Test(ini, empty_file)
{
	expect_parse("", "");
	expect_parse("# only a comment\n\n", "");
}

Test(ini, syntax_errors_name_file_and_line)
{
	expect_error("a = 1\n[image a\n", -EINVAL,
	             "2: header '[image a' does not end with ']' (comments go on lines of their "
	             "own)");
	expect_error("[image a] # the default\n", -EINVAL,
	             "1: header '[image a] # the default' does not end with ']' (comments go on "
	             "lines of their own)");
	expect_error("[]\n", -EINVAL, "1: bad header '[]' (expected [TYPE NAME])");
	expect_error("[a]]\n", -EINVAL, "1: bad header '[a]]' (expected [TYPE NAME])");
	expect_error("\n\njust words\n", -EINVAL,
	             "3: expected 'key = value' or '[header]', got 'just words'");
	expect_error("two words = 1\n", -EINVAL,
	             "1: bad key 'two words' (letters, digits, '_', '-' and '.' only)");
	expect_error(" = 1\n", -EINVAL, "1: bad key '' (letters, digits, '_', '-' and '.' only)");
}

Test(ini, nul_byte_is_an_error)
{
	struct recorder rec = {0};
	hyp_error err = {0};
	write_bytes("a = 1\nb = x\0y\n", 14);
	cr_assert_eq(hyp_ini_parse_file(path, record, &rec, &err), -EINVAL);
	cr_expect(strstr(err.msg, ":2: line holds a NUL byte"), "%s", err.msg);
}

Test(ini, callback_errors_get_file_and_line_and_stop_the_parse)
{
	struct recorder rec = {.fail_key = "b"};
	hyp_error err = {0};
	write_conf("a = 1\n\nb = 2\nc = 3\n");
	cr_assert_eq(hyp_ini_parse_file(path, record, &rec, &err), -EINVAL);
	char want[256];
	snprintf(want, sizeof(want), "%s:3: refused 'b'", path);
	cr_expect_str_eq(err.msg, want);
	cr_expect_eq(rec.calls, 2, "no call after the failure");
}

Test(ini, section_errors_name_the_header_line)
{
	struct recorder rec = {.fail_key = "END"};
	hyp_error err = {0};
	write_conf("# catalog\n[image a]\nkind = disk\n\n");
	cr_assert_eq(hyp_ini_parse_file(path, record, &rec, &err), -EINVAL);
	char want[256];
	snprintf(want, sizeof(want), "%s:2: refused 'section'", path);
	cr_expect_str_eq(err.msg, want);
}

Test(ini, missing_file)
{
	struct recorder rec = {0};
	hyp_error err = {0};
	char missing[160];
	snprintf(missing, sizeof(missing), "%s/nope.conf", dir);
	cr_assert_eq(hyp_ini_parse_file(missing, record, &rec, &err), -ENOENT);
	cr_expect(strstr(err.msg, missing) && strstr(err.msg, "No such file or directory"), "%s",
	          err.msg);
}

Test(ini, directory_is_an_error)
{
	struct recorder rec = {0};
	hyp_error err = {0};
	cr_assert_lt(hyp_ini_parse_file(dir, record, &rec, &err), 0);
	cr_expect(strstr(err.msg, dir), "%s", err.msg);
}

Test(parse, booleans)
{
	const char *yes[] = {"yes", "true", "on", "1", "YES", "True", "On"};
	const char *no[] = {"no", "false", "off", "0", "NO", "False", "OFF"};
	hyp_error err = {0};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		bool v = false, w = true;
		cr_expect_eq(hyp_parse_bool("k", yes[i], &v, &err), 0, "%s", yes[i]);
		cr_expect(v, "%s", yes[i]);
		cr_expect_eq(hyp_parse_bool("k", no[i], &w, &err), 0, "%s", no[i]);
		cr_expect(!w, "%s", no[i]);
	}
}

Test(parse, bad_boolean_names_key_value_and_choices)
{
	hyp_error err = {0};
	const char *bad[] = {"maybe", "", "2", "yes ", "y"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool v = true;
		cr_expect_eq(hyp_parse_bool("use_it", bad[i], &v, &err), -EINVAL, "'%s'", bad[i]);
		cr_expect(v, "output written on failure");
	}
	hyp_parse_bool("use_it", "maybe", &(bool){0}, &err);
	cr_expect_str_eq(
	    err.msg, "use_it: bad value 'maybe' (allowed: yes, no, true, false, on, off, 1, 0)");
}

Test(parse, unsigned_numbers)
{
	hyp_error err = {0};
	unsigned long long v;
	cr_expect_eq(hyp_parse_uint("k", "0", 0, 10, &v, &err), 0);
	cr_expect_eq(v, 0);
	cr_expect_eq(hyp_parse_uint("k", "42", 0, 100, &v, &err), 0);
	cr_expect_eq(v, 42);
	cr_expect_eq(hyp_parse_uint("k", "007", 0, 100, &v, &err), 0);
	cr_expect_eq(v, 7);
	cr_expect_eq(hyp_parse_uint("k", "100", 1, 100, &v, &err), 0, "max is inclusive");
	cr_expect_eq(hyp_parse_uint("k", "1", 1, 100, &v, &err), 0, "min is inclusive");
	cr_expect_eq(hyp_parse_uint("k", "18446744073709551615", 0, ~0ULL, &v, &err), 0);
	cr_expect_eq(v, ~0ULL);
}

Test(parse, bad_unsigned_numbers)
{
	const char *bad[] = {"",
	                     "-1",
	                     "+1",
	                     " 1",
	                     "1 ",
	                     "1x",
	                     "0x10",
	                     "1.5",
	                     "18446744073709551616",
	                     "99999999999999999999999",
	                     "101"};
	hyp_error err = {0};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned long long v = 4242;
		cr_expect_eq(hyp_parse_uint("k", bad[i], 0, 100, &v, &err), -EINVAL, "'%s'",
		             bad[i]);
		cr_expect_eq(v, 4242, "'%s': output written on failure", bad[i]);
	}
	unsigned long long v;
	cr_expect_eq(hyp_parse_uint("boot_timeout", "0", 1, 86400, &v, &err), -EINVAL);
	cr_expect_str_eq(err.msg,
	                 "boot_timeout: bad value '0' (allowed: a whole number from 1 to 86400)");
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Another party's text made safe for a terminal: what stays, what becomes \xNN. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_text.h"

static void expect(const char *in, size_t len, const char *want)
{
	char *out = hyp_text_sanitize(in, len);
	cr_assert_not_null(out);
	cr_expect_str_eq(out, want);
	free(out);
}

#define EXPECT(in, want) expect(in, sizeof(in) - 1, want)

Test(text, printable_ascii_newline_and_tab_stay)
{
	EXPECT("exec 'foo': No such file\tor directory\nsecond line",
	       "exec 'foo': No such file\tor directory\nsecond line");
	EXPECT("", "");
}

Test(text, escape_sequences_are_shown_not_sent)
{
	EXPECT("\033[31mred\033[0m", "\\x1b[31mred\\x1b[0m");
	/* OSC 0 (window title), terminated by BEL */
	EXPECT("\033]0;owned\007", "\\x1b]0;owned\\x07");
	EXPECT("a\bb\rc\x7f", "a\\x08b\\x0dc\\x7f");
}

Test(text, crlf_stays_a_lone_cr_does_not)
{
	EXPECT("line\r\nnext\r", "line\r\nnext\\x0d");
}

Test(text, nul_bytes_are_shown)
{
	EXPECT("a\0b", "a\\x00b");
}

Test(text, valid_utf8_stays)
{
	EXPECT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	       "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

Test(text, c1_controls_are_shown)
{
	/* U+009B is CSI on terminals that take 8-bit controls in UTF-8 */
	EXPECT("\xc2\x9b"
	       "31m",
	       "\\xc2\\x9b31m");
	EXPECT("\xc2\x85", "\\xc2\\x85");
}

Test(text, invalid_utf8_is_shown_byte_by_byte)
{
	EXPECT("\x9b"
	       "31m",
	       "\\x9b31m");                        /* a lone continuation byte: 8-bit CSI */
	EXPECT("\xc0\xaf", "\\xc0\\xaf");          /* overlong '/' */
	EXPECT("\xe0\x80\xaf", "\\xe0\\x80\\xaf"); /* overlong, 3 bytes */
	EXPECT("\xed\xa0\x80", "\\xed\\xa0\\x80"); /* a surrogate */
	EXPECT("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* above U+10FFFF */
	EXPECT("\xe2\x82", "\\xe2\\x82");                   /* cut off */
	EXPECT("\xe2(", "\\xe2(");                          /* resynchronises */
	EXPECT("\xff\xfe", "\\xff\\xfe");
}

Test(text, worst_case_fits)
{
	char in[256];
	for (int i = 0; i < 256; i++)
		in[i] = (char)0x1b;
	char *out = hyp_text_sanitize(in, sizeof(in));
	cr_assert_not_null(out);
	cr_expect_eq(strlen(out), 4 * sizeof(in));
	free(out);
}

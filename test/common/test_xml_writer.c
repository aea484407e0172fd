/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The xmlTextWriter layer: the elements it writes, escaping, and a failure
 * that sticks until the end. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_cleanup.h"
#include "hyp_xml_writer.h"

static char *finish(struct hyp_xw *x)
{
	char *text = hyp_xw_steal(x);
	hyp_xw_free(x);
	return text;
}

Test(xml_writer, elements_attributes_and_indent)
{
	struct hyp_xw x;
	cr_assert_eq(hyp_xw_new(&x), 0);
	hyp_xw_open(&x, "a", "k", "v", "n", "1", NULL);
	hyp_xw_elem(&x, "b", "text");
	hyp_xw_empty(&x, "c", "x", "y", NULL);
	hyp_xw_start(&x, "d");
	hyp_xw_attrf(&x, "id", "%u", 7u);
	hyp_xw_textf(&x, "%d-%s", 4, "two");
	hyp_xw_end(&x);
	hyp_xw_start_ns(&x, "p", "e", "urn:x");
	hyp_xw_end(&x);
	hyp_xw_end(&x);
	_cleanup_free_ char *text = finish(&x);
	cr_assert_not_null(text);
	cr_expect_str_eq(text, "<a k=\"v\" n=\"1\">\n"
	                       "  <b>text</b>\n"
	                       "  <c x=\"y\"/>\n"
	                       "  <d id=\"7\">4-two</d>\n"
	                       "  <p:e xmlns:p=\"urn:x\"/>\n"
	                       "</a>\n\n");
}

Test(xml_writer, escapes_text_and_attributes)
{
	struct hyp_xw x;
	cr_assert_eq(hyp_xw_new(&x), 0);
	hyp_xw_open(&x, "a", "q", "\"<&>'", NULL);
	hyp_xw_text(&x, "<b>&</b>");
	hyp_xw_end(&x);
	_cleanup_free_ char *text = finish(&x);
	cr_assert_not_null(text);
	cr_expect_not_null(strstr(text, "q=\"&quot;&lt;&amp;&gt;'\""), "%s", text);
	cr_expect_not_null(strstr(text, "&lt;b&gt;&amp;&lt;/b&gt;"), "%s", text);
}

/* Closing more elements than were opened fails; everything after is
 * skipped and the result is NULL. */
Test(xml_writer, first_failure_sticks)
{
	struct hyp_xw x;
	cr_assert_eq(hyp_xw_new(&x), 0);
	hyp_xw_start(&x, "a");
	hyp_xw_end(&x);
	hyp_xw_end(&x);
	cr_expect(x.failed);
	hyp_xw_start(&x, "b");
	cr_expect(x.failed);
	cr_expect_null(finish(&x));
}

Test(xml_writer, free_is_safe_on_zeroed_and_stolen_writers)
{
	struct hyp_xw zero = {0};
	hyp_xw_free(&zero);
	cr_expect_null(hyp_xw_steal(&zero));
	struct hyp_xw x;
	cr_assert_eq(hyp_xw_new(&x), 0);
	hyp_xw_empty(&x, "a", NULL);
	free(hyp_xw_steal(&x));
	hyp_xw_free(&x);
	hyp_xw_free(&x);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Range lists: "0-3,8,10-11" both ways. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_cleanup.h"
#include "hyp_cpulist.h"

static void expect_ids(const char *list, const unsigned *want, size_t nwant)
{
	hyp_error err = {0};
	_cleanup_free_ unsigned *ids = NULL;
	size_t n = 0;
	cr_assert_eq(hyp_cpulist_parse(list, &ids, &n, &err), 0, "'%s': %s", list, err.msg);
	cr_assert_eq(n, nwant, "'%s': %zu ids, want %zu", list, n, nwant);
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(ids[i], want[i], "'%s'[%zu] = %u, want %u", list, i, ids[i], want[i]);
}

#define IDS(...) (unsigned[]){__VA_ARGS__}, sizeof((unsigned[]){__VA_ARGS__}) / sizeof(unsigned)

Test(cpulist, parses_ranges_and_singles)
{
	expect_ids("0-3,8,10-11", IDS(0, 1, 2, 3, 8, 10, 11));
	expect_ids("5", IDS(5));
	expect_ids("0", IDS(0));
	expect_ids("7-7", IDS(7));
}

Test(cpulist, sorts_and_merges)
{
	expect_ids("8,0-3,2,3-4", IDS(0, 1, 2, 3, 4, 8));
	expect_ids("1,1,1", IDS(1));
}

Test(cpulist, ignores_whitespace_around_the_list)
{
	expect_ids(" 0-1,4\n", IDS(0, 1, 4)); /* as read from sysfs */
}

Test(cpulist, accepts_the_largest_id)
{
	expect_ids("8190-8192", IDS(8190, 8191, 8192));
}

static void expect_error(const char *list, const char *part)
{
	hyp_error err = {0};
	unsigned *ids = (unsigned *)&err; /* sentinel: must stay untouched */
	size_t n = 4242;
	cr_assert_eq(hyp_cpulist_parse(list, &ids, &n, &err), -EINVAL, "'%s' accepted", list);
	cr_expect(ids == (unsigned *)&err && n == 4242, "'%s': outputs written on failure", list);
	cr_expect(strstr(err.msg, part), "'%s': message '%s' lacks '%s'", list, err.msg, part);
}

Test(cpulist, rejects_malformed_lists)
{
	expect_error(NULL, "empty cpu list");
	expect_error("", "empty cpu list");
	expect_error("  ", "empty cpu list");
	expect_error("1,", "bad element ''");
	expect_error(",1", "bad element ''");
	expect_error("3-1", "bad element '3-1'");
	expect_error("1-", "bad element '1-'");
	expect_error("-1", "bad element '-1'");
	expect_error("a", "bad element 'a'");
	expect_error("0,x1", "bad element 'x1'");
	expect_error("1 ,2", "bad element '1 '");
	expect_error("0-7:2", "bad element '0-7:2'");
	expect_error("+1", "bad element '+1'");
}

Test(cpulist, rejects_ids_above_the_maximum)
{
	expect_error("8193", "bad element '8193'");
	expect_error("0-8193", "N <= M <= 8192");
	expect_error("99999999999999999999", "bad element");
}

static void expect_format(const unsigned *ids, size_t n, const char *want)
{
	_cleanup_free_ char *s = hyp_cpulist_format(ids, n);
	cr_assert_not_null(s);
	cr_expect_str_eq(s, want);
}

Test(cpulist, formats_compactly)
{
	expect_format(IDS(0, 1, 2, 3, 8, 10, 11), "0-3,8,10-11");
	expect_format(IDS(5), "5");
	expect_format(IDS(0, 1), "0-1");
	expect_format(IDS(0, 2, 4), "0,2,4");
	expect_format(IDS(8192), "8192");
	expect_format(NULL, 0, "");
}

Test(cpulist, round_trips)
{
	const char *lists[] = {"0-3,8,10-11", "1,3,5,7-9", "0-8192", "4095"};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		hyp_error err = {0};
		_cleanup_free_ unsigned *ids = NULL;
		size_t n;
		cr_assert_eq(hyp_cpulist_parse(lists[i], &ids, &n, &err), 0, "%s", err.msg);
		_cleanup_free_ char *s = hyp_cpulist_format(ids, n);
		cr_expect_str_eq(s, lists[i]);
	}
}

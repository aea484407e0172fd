/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Range lists ("0-3,8,10-11") as Slurm, Linux and libvirt write them. The
 * parser is strict (no strides, no spaces inside), except that whitespace
 * around the whole list is ignored: sysfs files end with a newline.
 */
#include "hyp_cpulist.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_cleanup.h"

#define WORD_BITS 64
#define NWORDS    (HYP_CPULIST_MAX / WORD_BITS + 1)

struct idset {
	uint64_t bits[NWORDS];
};

/* One decimal id at *p, advancing *p; false if none or above the maximum. */
static bool parse_id(const char **p, unsigned *ret_id)
{
	const char *s = *p;
	unsigned long v = 0;
	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > HYP_CPULIST_MAX)
			return false;
	}
	*p = s;
	*ret_id = (unsigned)v;
	return true;
}

/* One element "N" or "N-M" spanning exactly [start, end). */
static bool parse_element(const char *start, const char *end, unsigned *ret_lo, unsigned *ret_hi)
{
	const char *p = start;
	unsigned lo, hi;
	if (!parse_id(&p, &lo))
		return false;
	hi = lo;
	if (p < end && *p == '-') {
		p++;
		if (!parse_id(&p, &hi) || hi < lo)
			return false;
	}
	if (p != end)
		return false;
	*ret_lo = lo;
	*ret_hi = hi;
	return true;
}

static void idset_add_range(struct idset *set, unsigned lo, unsigned hi)
{
	for (unsigned i = lo; i <= hi; i++)
		set->bits[i / WORD_BITS] |= UINT64_C(1) << (i % WORD_BITS);
}

static bool idset_has(const struct idset *set, unsigned i)
{
	return set->bits[i / WORD_BITS] & (UINT64_C(1) << (i % WORD_BITS));
}

static int idset_to_array(const struct idset *set, unsigned **ret_ids, size_t *ret_n,
                          hyp_error *err)
{
	size_t n = 0;
	for (unsigned i = 0; i <= HYP_CPULIST_MAX; i++)
		n += idset_has(set, i);
	_cleanup_free_ unsigned *ids = calloc(n, sizeof(*ids));
	if (!ids)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (unsigned i = 0, k = 0; i <= HYP_CPULIST_MAX; i++)
		if (idset_has(set, i))
			ids[k++] = i;
	*ret_ids = steal_pointer(&ids);
	*ret_n = n;
	return 0;
}

/* The list without the whitespace around it (malloc'd). */
static char *trimmed_copy(const char *list)
{
	while (isspace((unsigned char)*list))
		list++;
	size_t len = strlen(list);
	while (len > 0 && isspace((unsigned char)list[len - 1]))
		len--;
	return strndup(list, len);
}

int hyp_cpulist_parse(const char *list, unsigned **ret_ids, size_t *ret_n, hyp_error *err)
{
	_cleanup_free_ char *s = list ? trimmed_copy(list) : NULL;
	if (list && !s)
		return hyp_fail(err, ENOMEM, "out of memory");
	if (!s || !*s)
		return hyp_fail(err, EINVAL, "empty cpu list");

	_cleanup_free_ struct idset *set = calloc(1, sizeof(*set));
	if (!set)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (const char *p = s;;) {
		const char *comma = strchrnul(p, ',');
		unsigned lo, hi;
		if (!parse_element(p, comma, &lo, &hi))
			return hyp_fail(err, EINVAL,
			                "cpu list '%s': bad element '%.*s' (expected N or N-M with "
			                "N <= M <= %u)",
			                s, (int)(comma - p), p, HYP_CPULIST_MAX);
		idset_add_range(set, lo, hi);
		if (!*comma)
			break;
		p = comma + 1;
	}
	return idset_to_array(set, ret_ids, ret_n, err);
}

char *hyp_cpulist_format(const unsigned *ids, size_t n)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && ids[j + 1] == ids[j] + 1)
			j++;
		fprintf(f, "%s%u", i ? "," : "", ids[i]);
		if (j > i)
			fprintf(f, "-%u", ids[j]);
		i = j + 1;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

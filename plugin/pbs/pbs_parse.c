/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PBS's own strings: job ids, sizes, exec_vnode, select, Torque's resources. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pbs.h"

int pbs_job_id(const char *pbs_id, uint32_t *ret_id, hyp_error *err)
{
	size_t n = strspn(pbs_id, "0123456789");
	if (n == 0 || n > 10 || (pbs_id[n] != '\0' && pbs_id[n] != '.'))
		return hyp_fail(err, EINVAL,
		                "job id '%s' is not a PBS job id (array jobs have no VM)", pbs_id);
	unsigned long long seq = strtoull(pbs_id, NULL, 10);
	if (seq >= UINT32_MAX)
		return hyp_fail(err, ERANGE, "job id '%s' is too large for Hyperion", pbs_id);
	*ret_id = (uint32_t)seq + 1;
	return 0;
}

static int unit_shift(const char *unit, unsigned long long *ret_mult)
{
	static const struct {
		const char *name;
		unsigned long long mult;
	} units[] = {{"", 1},
	             {"b", 1},
	             {"w", 8},
	             {"kb", 1ULL << 10},
	             {"kw", 8ULL << 10},
	             {"mb", 1ULL << 20},
	             {"mw", 8ULL << 20},
	             {"gb", 1ULL << 30},
	             {"gw", 8ULL << 30},
	             {"tb", 1ULL << 40},
	             {"tw", 8ULL << 40},
	             {"pb", 1ULL << 50}};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(unit, units[i].name) == 0) {
			*ret_mult = units[i].mult;
			return 0;
		}
	return -EINVAL;
}

int pbs_size_mib(const char *size, unsigned long long *ret_mib, hyp_error *err)
{
	size_t n = strspn(size, "0123456789");
	unsigned long long mult;
	if (n == 0 || n > 15 || unit_shift(size + n, &mult) < 0)
		return hyp_fail(err, EINVAL, "'%s' is not a PBS size (like 512mb)", size);
	unsigned long long v = strtoull(size, NULL, 10);
	if (mult > 1 && v > (1ULL << 62) / mult)
		return hyp_fail(err, ERANGE, "size '%s' is too large", size);
	unsigned long long bytes = v * mult;
	*ret_mib = (bytes + (1ULL << 20) - 1) >> 20;
	return 0;
}

static int parse_count(const char *key, const char *value, unsigned *ret, hyp_error *err)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(value, &end, 10);
	if (!isdigit((unsigned char)value[0]) || *end || errno || v > 65536)
		return hyp_fail(err, EINVAL, "%s '%s' is not a count", key, value);
	*ret = (unsigned)v;
	return 0;
}

/* One "key=value" of a chunk into the share. */
static int add_resource(char *kv, struct pbs_share *s, hyp_error *err)
{
	char *eq = strchr(kv, '=');
	if (!eq)
		return hyp_fail(err, EINVAL, "'%s' is not resource=value", kv);
	*eq = '\0';
	const char *v = eq + 1;
	unsigned n = 0;
	unsigned long long mib = 0;
	int r = 0;
	if (strcmp(kv, "ncpus") == 0 && (r = parse_count(kv, v, &n, err)) >= 0)
		s->ncpus += n;
	else if (strcmp(kv, "ngpus") == 0 && (r = parse_count(kv, v, &n, err)) >= 0)
		s->ngpus += n;
	else if (strcmp(kv, "mem") == 0 && (r = pbs_size_mib(v, &mib, err)) >= 0)
		s->mem_mib += mib;
	return r;
}

static bool vnode_on(const char *vnode, const char *node)
{
	size_t n = strlen(node);
	return strncmp(vnode, node, n) == 0 && (vnode[n] == '\0' || vnode[n] == '[');
}

static int add_chunk(char *chunk, const char *node, struct pbs_share *s, hyp_error *err)
{
	char *save = NULL;
	char *vnode = strtok_r(chunk, ":", &save);
	if (!vnode || !*vnode)
		return hyp_fail(err, EINVAL, "a chunk names no vnode");
	if (!vnode_on(vnode, node))
		return 0;
	s->chunks++;
	int r = 0;
	for (char *kv; r >= 0 && (kv = strtok_r(NULL, ":", &save));)
		r = add_resource(kv, s, err);
	return r;
}

int pbs_exec_vnode_share(const char *exec_vnode, const char *node, struct pbs_share *ret,
                         hyp_error *err)
{
	struct pbs_share s = {0};
	char *copy = strdup(exec_vnode);
	int r = copy ? 0 : hyp_fail(err, ENOMEM, "out of memory");
	char *save = NULL;
	for (char *c = copy ? strtok_r(copy, "+", &save) : NULL; r >= 0 && c;
	     c = strtok_r(NULL, "+", &save)) {
		size_t len = strlen(c);
		if (len < 3 || c[0] != '(' || c[len - 1] != ')') {
			r = hyp_fail(err, EINVAL, "chunk '%s' is not (vnode:resource=value...)", c);
			break;
		}
		c[len - 1] = '\0';
		r = add_chunk(c + 1, node, &s, err);
	}
	free(copy);
	if (r < 0)
		return hyp_error_prefix(err, "exec_vnode '%s'", exec_vnode);
	*ret = s;
	return 0;
}

/* One chunk of a select: "N:key=value:..." (N optional). */
static int chunk_value(char *chunk, const char *key, char *buf, size_t size)
{
	char *save = NULL;
	size_t klen = strlen(key);
	for (char *kv = strtok_r(chunk, ":", &save); kv; kv = strtok_r(NULL, ":", &save))
		if (strncmp(kv, key, klen) == 0 && kv[klen] == '=') {
			if ((size_t)snprintf(buf, size, "%s", kv + klen + 1) >= size)
				return -ENAMETOOLONG;
			return 0;
		}
	return -ENOENT;
}

int pbs_select_value(const char *select, const char *key, char *buf, size_t size, hyp_error *err)
{
	char *copy = strdup(select);
	if (!copy)
		return hyp_fail(err, ENOMEM, "out of memory");
	int r = -ENOENT;
	char *save = NULL;
	for (char *c = strtok_r(copy, "+", &save); r == -ENOENT && c;
	     c = strtok_r(NULL, "+", &save))
		r = chunk_value(c, key, buf, size);
	free(copy);
	if (r == -ENAMETOOLONG)
		return hyp_fail(err, ENAMETOOLONG, "%s in select '%s' is too long", key, select);
	return r;
}

bool pbs_select_every_chunk_has(const char *select, const char *key)
{
	char *copy = strdup(select);
	char buf[8], *save = NULL;
	bool all = copy != NULL;
	for (char *c = copy ? strtok_r(copy, "+", &save) : NULL; all && c;
	     c = strtok_r(NULL, "+", &save))
		all = chunk_value(c, key, buf, sizeof(buf)) != -ENOENT;
	free(copy);
	return all;
}

/* Append chunk `c` without key=... and with key=value to buf. */
static int chunk_with(char *c, const char *key, const char *value, FILE *out)
{
	char *save = NULL;
	size_t klen = strlen(key);
	bool first = true;
	for (char *kv = strtok_r(c, ":", &save); kv; kv = strtok_r(NULL, ":", &save)) {
		if (strncmp(kv, key, klen) == 0 && kv[klen] == '=')
			continue;
		fprintf(out, "%s%s", first ? "" : ":", kv);
		first = false;
	}
	return fprintf(out, "%s%s=%s", first ? "1:" : ":", key, value) < 0 ? -EIO : 0;
}

int pbs_select_with(const char *select, const char *key, const char *value, char **ret,
                    hyp_error *err)
{
	if (strpbrk(value, ":+=,\"' "))
		return hyp_fail(err, EINVAL, "'%s' cannot be a resource value", value);
	char *copy = strdup(select);
	char *buf = NULL;
	size_t size = 0;
	FILE *out = copy ? open_memstream(&buf, &size) : NULL;
	if (!out) {
		free(copy);
		return hyp_fail(err, ENOMEM, "out of memory");
	}
	int r = 0, n = 0;
	char *save = NULL;
	for (char *c = strtok_r(copy, "+", &save); r >= 0 && c; c = strtok_r(NULL, "+", &save)) {
		fputs(n++ ? "+" : "", out);
		r = chunk_with(c, key, value, out);
	}
	if (r >= 0 && n == 0)
		r = chunk_with((char[]){""}, key, value, out);
	if (fclose(out) != 0 || r < 0)
		r = -ENOMEM;
	free(copy);
	if (r < 0) {
		free(buf);
		return hyp_fail(err, ENOMEM, "out of memory");
	}
	*ret = buf;
	return 0;
}

static int torque_item(char *item, struct torque_resources *t, hyp_error *err)
{
	char *eq = strchr(item, '=');
	if (!eq)
		return 0; /* flags such as "naccesspolicy" carry no value we use */
	*eq = '\0';
	const char *v = eq + 1;
	char ppn[16];
	if (strcmp(item, "mem") == 0)
		return pbs_size_mib(v, &t->mem_mib, err);
	if (strcmp(item, "ncpus") == 0 || strcmp(item, "procs") == 0)
		return parse_count(item, v, &t->ncpus, err);
	if (strcmp(item, "vm_image") == 0) {
		if ((size_t)snprintf(t->image, sizeof(t->image), "%s", v) >= sizeof(t->image))
			return hyp_fail(err, ENAMETOOLONG,
			                "vm_image '%.64s...' is too long (at most %zu)", v,
			                sizeof(t->image) - 1);
		return 0;
	}
	/* nodes=1:ppn=2: the cpus per node */
	if (strcmp(item, "nodes") == 0 && pbs_select_value(v, "ppn", ppn, sizeof(ppn), err) == 0)
		return parse_count("ppn", ppn, &t->ncpus, err);
	return 0;
}

int torque_resources_parse(const char *list, struct torque_resources *ret, hyp_error *err)
{
	struct torque_resources t = {0};
	char *copy = strdup(list);
	int r = copy ? 0 : hyp_fail(err, ENOMEM, "out of memory");
	char *save = NULL;
	for (char *c = copy ? strtok_r(copy, ",", &save) : NULL; r >= 0 && c;
	     c = strtok_r(NULL, ",", &save))
		r = torque_item(c, &t, err);
	free(copy);
	if (r < 0)
		return hyp_error_prefix(err, "resource list '%s'", list);
	*ret = t;
	return 0;
}

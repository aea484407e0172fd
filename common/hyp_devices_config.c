/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperion.conf's device keys and [vf_pool NAME] sections. */
#include "hyp_devices_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_cleanup.h"
#include "hyp_ini.h"
#include "hyp_pci.h"

#define POOL_HEADER  "vf_pool "
#define VF_COUNT_MAX 64
#define GPU_MAP_MAX  64

enum { SEEN_GRES = 1, SEEN_MAP = 2, SEEN_DEFAULT = 4, SEEN_PF = 8, SEEN_VLAN = 16, SEEN_MAC = 32 };

static void pool_free(struct hyp_vf_pool *p)
{
	hyp_strv_free(p->pfs);
	p->pfs = NULL;
}

void hyp_devices_config_free(struct hyp_devices_config *dc)
{
	if (!dc)
		return;
	free(dc->gres_conf);
	free(dc->vf_default);
	hyp_strv_free(dc->gpu_map);
	for (size_t i = 0; i < dc->npools; i++)
		pool_free(&dc->pools[i]);
	free(dc->pools);
	memset(dc, 0, sizeof(*dc));
}

int hyp_devices_config_init(struct hyp_devices_config *dc, hyp_error *err)
{
	*dc = (struct hyp_devices_config){0};
	dc->gres_conf = strdup("/etc/slurm/gres.conf");
	dc->vf_default = strdup("");
	dc->gpu_map = calloc(1, sizeof(char *));
	if (!dc->gres_conf || !dc->vf_default || !dc->gpu_map)
		return hyp_fail(err, ENOMEM, "out of memory");
	return 0;
}

const struct hyp_vf_pool *hyp_vf_pool_find(const struct hyp_devices_config *dc, const char *name)
{
	for (size_t i = 0; i < dc->npools; i++)
		if (!strcmp(dc->pools[i].name, name))
			return &dc->pools[i];
	return NULL;
}

/* Split on blanks into canonical PCI addresses (each "FILE=PCI" with map). */
static int parse_list(const char *key, const char *value, bool map, char ***ret, hyp_error *err)
{
	_cleanup_strv_ char **list = calloc(GPU_MAP_MAX + 1, sizeof(char *));
	size_t n = 0;
	if (!list)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (const char *p = value + strspn(value, " \t"); *p; p += strspn(p, " \t")) {
		size_t len = strcspn(p, " \t");
		_cleanup_free_ char *word = strndup(p, len);
		char *eq = word ? strchr(word, '=') : NULL;
		struct hyp_pci_addr a;
		char pci[HYP_PCI_NAME_MAX];
		p += len;
		if (!word)
			return hyp_fail(err, ENOMEM, "out of memory");
		if (map && (!eq || word[0] != '/'))
			return hyp_fail(err, EINVAL, "%s: '%s' is not /dev/FILE=PCI-ADDRESS", key,
			                word);
		if (hyp_pci_addr_parse(map ? eq + 1 : word, &a, err) < 0)
			return hyp_error_prefix(err, "%s", key);
		if (n == GPU_MAP_MAX)
			return hyp_fail(err, EINVAL, "%s: more than %d entries", key, GPU_MAP_MAX);
		hyp_pci_addr_format(&a, pci);
		if (map)
			*eq = '\0';
		if (asprintf(&list[n], "%s%s%s", map ? word : "", map ? "=" : "", pci) < 0) {
			list[n] = NULL;
			return hyp_fail(err, ENOMEM, "out of memory");
		}
		n++;
	}
	*ret = steal_pointer(&list);
	return 0;
}

static int parse_mac_prefix(struct hyp_vf_pool *p, const char *value, hyp_error *err)
{
	unsigned n = 0;
	for (const char *s = value; *s && n < 6;) {
		unsigned v;
		int used = 0;
		if (strspn(s, "0123456789abcdefABCDEF") < 2 || sscanf(s, "%2x%n", &v, &used) != 1 ||
		    used != 2)
			break;
		p->mac_prefix[n++] = (unsigned char)v;
		s += 2;
		if (!*s) {
			p->mac_prefix_len = n;
			if (n > 5 || (p->mac_prefix[0] & 1))
				break;
			return 0;
		}
		if (*s++ != ':')
			break;
	}
	return hyp_fail(err, EINVAL,
	                "mac_prefix: '%s' is not 1 to 5 octets of a unicast MAC (e.g. 52:54:01)",
	                value);
}

static int set_once(unsigned *seen, unsigned bit, const char *key, hyp_error *err)
{
	if (*seen & bit)
		return hyp_fail(err, EINVAL, "'%s' is set twice", key);
	*seen |= bit;
	return 0;
}

static int pool_key(struct hyp_vf_pool *p, unsigned *seen, const char *key, const char *value,
                    hyp_error *err)
{
	unsigned long long v;
	int r;
	if (!strcmp(key, "pf") && (r = set_once(seen, SEEN_PF, key, err)) >= 0) {
		hyp_strv_free(p->pfs);
		p->pfs = NULL;
		r = parse_list(key, value, false, &p->pfs, err);
		return r < 0 ? r : 1;
	}
	if (!strcmp(key, "vlan") && (r = set_once(seen, SEEN_VLAN, key, err)) >= 0) {
		r = hyp_parse_uint(key, value, 1, 4094, &v, err);
		p->vlan = (unsigned)v;
		return r < 0 ? r : 1;
	}
	if (!strcmp(key, "mac_prefix") && (r = set_once(seen, SEEN_MAC, key, err)) >= 0) {
		r = parse_mac_prefix(p, value, err);
		return r < 0 ? r : 1;
	}
	if (strcmp(key, "pf") && strcmp(key, "vlan") && strcmp(key, "mac_prefix"))
		return hyp_fail(err, EINVAL,
		                "unknown key '%s' in [vf_pool %s] (known: pf, vlan, "
		                "mac_prefix)",
		                key, p->name);
	return r;
}

static int pool_name_check(const char *name, hyp_error *err)
{
	size_t len = strlen(name);
	if (!len || len > HYP_VF_POOL_NAME_MAX ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != len)
		return hyp_fail(err, EINVAL,
		                "[vf_pool %s]: a pool name is 1 to %d letters, digits, '_' or '-'",
		                name, HYP_VF_POOL_NAME_MAX);
	return 0;
}

static int pool_start(struct hyp_devices_config *dc, const char *name, hyp_error *err)
{
	int r = pool_name_check(name, err);
	if (r < 0)
		return r;
	if (hyp_vf_pool_find(dc, name))
		return hyp_fail(err, EINVAL, "[vf_pool %s] is defined twice", name);
	if (dc->npools == HYP_VF_POOLS_MAX)
		return hyp_fail(err, EINVAL, "more than %d [vf_pool] sections", HYP_VF_POOLS_MAX);
	struct hyp_vf_pool *p = realloc(dc->pools, (dc->npools + 1) * sizeof(*p));
	if (!p)
		return hyp_fail(err, ENOMEM, "out of memory");
	dc->pools = p;
	p = &dc->pools[dc->npools++];
	*p = (struct hyp_vf_pool){0};
	snprintf(p->name, sizeof(p->name), "%s", name);
	dc->in_pool = true;
	dc->seen &= ~(unsigned)(SEEN_PF | SEEN_VLAN | SEEN_MAC);
	return 0;
}

/* The end of a [vf_pool]: it needs a PF and a MAC scheme of its own. */
static int pool_end(struct hyp_devices_config *dc, hyp_error *err)
{
	struct hyp_vf_pool *p = &dc->pools[dc->npools - 1];
	dc->in_pool = false;
	if (!p->pfs || !p->pfs[0])
		return hyp_fail(err, EINVAL, "[vf_pool %s]: no 'pf' (its physical functions)",
		                p->name);
	if (!p->mac_prefix_len)
		return hyp_fail(err, EINVAL, "[vf_pool %s]: no 'mac_prefix'", p->name);
	for (size_t i = 0; i + 1 < dc->npools; i++)
		if (dc->pools[i].mac_prefix_len == p->mac_prefix_len &&
		    !memcmp(dc->pools[i].mac_prefix, p->mac_prefix, p->mac_prefix_len))
			return hyp_fail(
			    err, EINVAL,
			    "[vf_pool %s]: mac_prefix is also [vf_pool %s]'s: each pool "
			    "needs its own",
			    p->name, dc->pools[i].name);
	return 0;
}

static int top_key(struct hyp_devices_config *dc, const char *key, const char *value,
                   hyp_error *err)
{
	int r;
	if (!strcmp(key, "gres_conf")) {
		if ((r = set_once(&dc->seen, SEEN_GRES, key, err)) < 0)
			return r;
		if (value[0] != '/')
			return hyp_fail(err, EINVAL, "%s: '%s' is not an absolute path", key,
			                value);
		free(dc->gres_conf);
		return (dc->gres_conf = strdup(value)) ? 1 : hyp_fail(err, ENOMEM, "out of memory");
	}
	if (!strcmp(key, "gpu_devices")) {
		if ((r = set_once(&dc->seen, SEEN_MAP, key, err)) < 0)
			return r;
		hyp_strv_free(dc->gpu_map);
		dc->gpu_map = NULL;
		r = parse_list(key, value, true, &dc->gpu_map, err);
		return r < 0 ? r : 1;
	}
	if (!strcmp(key, "vf_default")) {
		if ((r = set_once(&dc->seen, SEEN_DEFAULT, key, err)) < 0)
			return r;
		free(dc->vf_default);
		return (dc->vf_default = strdup(value)) ? 1
		                                        : hyp_fail(err, ENOMEM, "out of memory");
	}
	return 0;
}

int hyp_devices_config_key(struct hyp_devices_config *dc, const char *section, const char *key,
                           const char *value, hyp_error *err)
{
	if (!*section)
		return top_key(dc, key, value, err);
	if (strncmp(section, POOL_HEADER, strlen(POOL_HEADER)) != 0)
		return 0;
	const char *name = section + strlen(POOL_HEADER);
	int r = 0;
	if (!dc->in_pool)
		r = pool_start(dc, name, err);
	if (r < 0)
		return r;
	if (!key)
		return pool_end(dc, err) < 0 ? -EINVAL : 1;
	return pool_key(&dc->pools[dc->npools - 1], &dc->seen, key, value, err);
}

int hyp_vf_request_parse(const struct hyp_devices_config *dc, const char *s,
                         const struct hyp_vf_pool **ret_pool, unsigned *ret_count, hyp_error *err)
{
	char name[HYP_VF_POOL_NAME_MAX + 1];
	const char *colon = strchr(s, ':');
	size_t len = colon ? (size_t)(colon - s) : strlen(s);
	unsigned long long count = 1;
	if (len == 0 || len > HYP_VF_POOL_NAME_MAX)
		return hyp_fail(err, EINVAL, "VF request '%s': expected POOL[:COUNT]", s);
	memcpy(name, s, len);
	name[len] = '\0';
	if (colon && hyp_parse_uint("VF count", colon + 1, 1, VF_COUNT_MAX, &count, err) < 0)
		return hyp_error_prefix(err, "VF request '%s'", s);
	const struct hyp_vf_pool *p = hyp_vf_pool_find(dc, name);
	if (!p) {
		char known[512] = "";
		for (size_t i = 0; i < dc->npools; i++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
			         i ? ", " : "", dc->pools[i].name);
		return hyp_fail(err, EINVAL,
		                "VF request '%s': no pool '%s' on this node (pools: %s)", s, name,
		                known[0] ? known : "none");
	}
	*ret_pool = p;
	*ret_count = (unsigned)count;
	return 0;
}

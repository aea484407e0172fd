/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperion.conf's network keys (hyp_net.h; doc/admin-guide.md lists them). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_ini.h"
#include "hyp_net.h"

typedef int (*net_setter)(struct hyp_net_config *c, const char *key, const char *value,
                          hyp_error *err);

const char *hyp_net_mode_name(enum hyp_net_mode mode)
{
	return mode == HYP_NET_LIBVIRT ? "libvirt" : mode == HYP_NET_NONE ? "none" : "bridge";
}

static int set_mode(struct hyp_net_config *c, const char *key, const char *value, hyp_error *err)
{
	static const enum hyp_net_mode modes[] = {HYP_NET_BRIDGE, HYP_NET_LIBVIRT, HYP_NET_NONE};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(value, hyp_net_mode_name(modes[i]))) {
			c->mode = modes[i];
			return 0;
		}
	return hyp_fail(err, EINVAL, "%s: bad value '%s' (allowed: bridge, libvirt, none)", key,
	                value);
}

static int set_name(char **field, const char *key, const char *value, size_t max, hyp_error *err)
{
	size_t len = strlen(value);
	if (!len || len > max ||
	    value[strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	                        "qrstuvwxyz0123456789._-")])
		return hyp_fail(err, EINVAL, "%s: bad name '%s' (1 to %zu of A-Z a-z 0-9 . _ -)",
		                key, value, max);
	char *copy = strdup(value);
	if (!copy)
		return hyp_fail(err, ENOMEM, "out of memory");
	free(*field);
	*field = copy;
	return 0;
}

static int set_bridge(struct hyp_net_config *c, const char *key, const char *value, hyp_error *err)
{
	return set_name(&c->bridge, key, value, IFNAMSIZ - 1, err);
}

static int set_libvirt(struct hyp_net_config *c, const char *key, const char *value, hyp_error *err)
{
	return set_name(&c->libvirt_network, key, value, 64, err);
}

static int set_uint(unsigned *field, const char *key, const char *value, unsigned min, unsigned max,
                    hyp_error *err)
{
	unsigned long long v;
	int r = hyp_parse_uint(key, value, min, max, &v, err);
	if (r >= 0)
		*field = (unsigned)v;
	return r;
}

static int set_port(struct hyp_net_config *c, const char *key, const char *value, hyp_error *err)
{
	return set_uint(&c->vxlan_port, key, value, 1, 65535, err);
}

static int set_mtu(struct hyp_net_config *c, const char *key, const char *value, hyp_error *err)
{
	if (!strcmp(value, "0"))
		return c->mtu = 0, 0;
	return set_uint(&c->mtu, key, value, 576, 65000, err);
}

/* "A.B.C.D/N", the host bits zero. */
static int set_subnet(struct hyp_net_config *c, const char *key, const char *value, hyp_error *err)
{
	char addr[16];
	const char *slash = strchr(value, '/');
	unsigned prefix;
	struct in_addr in;
	if (!slash || (size_t)(slash - value) >= sizeof(addr) ||
	    set_uint(&prefix, key, slash + 1, 1, 30, err) < 0)
		return hyp_fail(err, EINVAL,
		                "%s: bad value '%s' (an IPv4 subnet such as 10.0.0.0/8)", key,
		                value);
	snprintf(addr, sizeof(addr), "%.*s", (int)(slash - value), value);
	if (inet_pton(AF_INET, addr, &in) != 1)
		return hyp_fail(err, EINVAL, "%s: bad address '%s'", key, addr);
	uint32_t a = ntohl(in.s_addr), mask = ~0U << (32 - prefix);
	if (a & ~mask)
		return hyp_fail(err, EINVAL, "%s: '%s' has host bits set", key, value);
	c->subnet = a;
	c->subnet_prefix = prefix;
	return 0;
}

static int set_job_prefix(struct hyp_net_config *c, const char *key, const char *value,
                          hyp_error *err)
{
	return set_uint(&c->job_prefix, key, value, 8, 30, err);
}

static int set_cluster(struct hyp_net_config *c, const char *key, const char *value, hyp_error *err)
{
	return set_uint(&c->cluster_id, key, value, 0, 63, err);
}

static int set_host_access(struct hyp_net_config *c, const char *key, const char *value,
                           hyp_error *err)
{
	return hyp_parse_bool(key, value, &c->host_access, err);
}

static const struct {
	const char *name;
	net_setter set;
} keys[] = {
    {"network", set_mode},
    {"network_bridge", set_bridge},
    {"network_libvirt", set_libvirt},
    {"network_vxlan_port", set_port},
    {"network_mtu", set_mtu},
    {"network_subnet", set_subnet},
    {"network_job_prefix", set_job_prefix},
    {"network_cluster_id", set_cluster},
    {"network_host_access", set_host_access},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const char *hyp_net_config_keys(void)
{
	return "network, network_bridge, network_libvirt, network_vxlan_port, network_mtu, "
	       "network_subnet, network_job_prefix, network_cluster_id, network_host_access";
}

int hyp_net_config_check(const struct hyp_net_config *c, hyp_error *err)
{
	if (c->job_prefix <= c->subnet_prefix)
		return hyp_fail(err, EINVAL,
		                "network_job_prefix (%u) must be longer than network_subnet's "
		                "prefix (%u)",
		                c->job_prefix, c->subnet_prefix);
	return 0;
}

int hyp_net_config_set(struct hyp_net_config *c, const char *key, const char *value, hyp_error *err)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(key, keys[i].name))
			continue;
		if (c->seen & (1U << i))
			return hyp_fail(err, EINVAL, "'%s' is set twice", key);
		c->seen |= 1U << i;
		int r = keys[i].set(c, key, value, err);
		return r < 0 ? r : 1;
	}
	return 0;
}

int hyp_net_config_defaults(struct hyp_net_config *c, hyp_error *err)
{
	*c = (struct hyp_net_config){
	    .mode = HYP_NET_BRIDGE,
	    .vxlan_port = 4789,
	    .subnet = 10U << 24,
	    .subnet_prefix = 8,
	    .job_prefix = 16,
	};
	c->bridge = strdup("hyperionbr");
	c->libvirt_network = strdup("default");
	if (!c->bridge || !c->libvirt_network)
		return hyp_fail(err, ENOMEM, "out of memory");
	return 0;
}

void hyp_net_config_free(struct hyp_net_config *c)
{
	free(c->bridge);
	free(c->libvirt_network);
	c->bridge = c->libvirt_network = NULL;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest's NIC and the job's host names (agent_net.h). The NIC is
 * configured with the classic ioctls, so that a disk image needs no `ip`;
 * it is found by the MAC the host derived, so other NICs (an SR-IOV VF) are
 * left alone.
 */
#include "agent_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "agent_bootcfg.h"
#include "hyp_cleanup.h"
#include "hyp_hostlist.h"

#define FIND_WAIT_MS 3000
#define FIND_POLL_MS 50

static bool parse_addr(const char *s, size_t len, uint32_t *ret)
{
	char buf[16];
	struct in_addr in;
	if (len == 0 || len >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%.*s", (int)len, s);
	if (inet_pton(AF_INET, buf, &in) != 1)
		return false;
	*ret = ntohl(in.s_addr);
	return true;
}

static bool parse_uint(const char *s, size_t len, unsigned min, unsigned max, unsigned *ret)
{
	char buf[12];
	if (len == 0 || len >= sizeof(buf) || strspn(s, "0123456789") < len)
		return false;
	snprintf(buf, sizeof(buf), "%.*s", (int)len, s);
	unsigned long v = strtoul(buf, NULL, 10);
	if (v < min || v > max)
		return false;
	*ret = (unsigned)v;
	return true;
}

/* MAC,ADDR/PREFIX,MTU */
static bool parse_net(struct agent_net *n, const char *v, size_t len)
{
	char buf[64];
	unsigned m[6];
	int used = 0;
	if (len >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%.*s", (int)len, v);
	if (sscanf(buf, "%2x:%2x:%2x:%2x:%2x:%2x,%n", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5],
	           &used) != 6 ||
	    !used)
		return false;
	const char *a = buf + used, *slash = strchr(a, '/'),
	           *comma = slash ? strchr(slash, ',') : NULL;
	if (!comma || !parse_addr(a, (size_t)(slash - a), &n->addr) ||
	    !parse_uint(slash + 1, (size_t)(comma - slash - 1), 8, 30, &n->prefix) ||
	    !parse_uint(comma + 1, strlen(comma + 1), 576, 65535, &n->mtu))
		return false;
	for (int i = 0; i < 6; i++)
		n->mac[i] = (uint8_t)m[i];
	return n->has_net = true;
}

/* FIRST,NODES */
static bool parse_hosts(struct agent_net *n, const char *v, size_t len)
{
	const char *comma = memchr(v, ',', len);
	if (!comma || !parse_addr(v, (size_t)(comma - v), &n->first) ||
	    !agent_bootcfg_decode(comma + 1, len - (size_t)(comma + 1 - v), n->hosts,
	                          sizeof(n->hosts)))
		return false;
	return n->has_hosts = true;
}

int agent_net_parse(struct agent_net *n, const char *key, const char *v, size_t len)
{
	if (!strcmp(key, "net"))
		return parse_net(n, v, len) ? 1 : -1;
	if (!strcmp(key, "hosts"))
		return parse_hosts(n, v, len) ? 1 : -1;
	return 0;
}

/* The interface with this MAC, waiting a little for its driver. */
static bool find_ifname(int fd, const uint8_t mac[6], char name[IFNAMSIZ])
{
	for (int waited = 0; waited <= FIND_WAIT_MS; waited += FIND_POLL_MS) {
		struct if_nameindex *ifs = if_nameindex();
		bool found = false;
		for (struct if_nameindex *i = ifs; i && i->if_index && !found; i++) {
			struct ifreq ifr = {0};
			snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->if_name);
			found = ioctl(fd, SIOCGIFHWADDR, &ifr) == 0 &&
			        !memcmp(ifr.ifr_hwaddr.sa_data, mac, 6);
			if (found)
				snprintf(name, IFNAMSIZ, "%s", i->if_name);
		}
		if (ifs)
			if_freenameindex(ifs);
		if (found)
			return true;
		nanosleep(&(struct timespec){.tv_nsec = FIND_POLL_MS * 1000000L}, NULL);
	}
	return false;
}

static void set_sin(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(addr)};
	memcpy(sa, &sin, sizeof(sin));
}

static int configure(int fd, const char *name, const struct agent_net *n)
{
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_mtu = (int)n->mtu;
	if (ioctl(fd, SIOCSIFMTU, &ifr) < 0)
		return agent_log("%s: setting MTU %u: %m", name, n->mtu), -1;
	set_sin(&ifr.ifr_addr, n->addr);
	if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
		return agent_log("%s: setting its address: %m", name), -1;
	set_sin(&ifr.ifr_netmask, n->prefix ? ~0U << (32 - n->prefix) : 0);
	if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
		return agent_log("%s: setting its netmask: %m", name), -1;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return agent_log("%s: reading its flags: %m", name), -1;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return agent_log("%s: bringing it up: %m", name), -1;
	return 0;
}

/* Users may ping (ICMP datagram sockets), as most distributions allow. */
static void allow_ping(void)
{
	static const char all[] = "0 2147483647";
	_cleanup_close_ int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, all, sizeof(all) - 1) != (ssize_t)sizeof(all) - 1)
		agent_log("network: allowing ping: %m");
}

void agent_net_apply(const struct agent_net *n)
{
	char name[IFNAMSIZ];
	if (!n || !n->has_net)
		return;
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		agent_log("network: socket: %m");
		return;
	}
	if (!find_ifname(fd, n->mac, name)) {
		agent_log("network: no interface with MAC %02x:%02x:%02x:%02x:%02x:%02x "
		          "(is virtio_net in the image?)",
		          n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
		return;
	}
	if (configure(fd, name, n) == 0)
		allow_ping();
}

void agent_net_apply_when_present(const struct agent_net *n, unsigned wait_ms)
{
	char name[IFNAMSIZ];
	if (!n || !n->has_net)
		return;
	_cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (unsigned waited = 0; fd >= 0 && !find_ifname(fd, n->mac, name) && waited < wait_ms;
	     waited += 100)
		nanosleep(&(struct timespec){.tv_nsec = 100 * 1000000L}, NULL);
	agent_net_apply(n);
}

bool agent_net_names(const struct agent_net *n, const char *self)
{
	char **names;
	size_t count;
	hyp_error ignored;
	if (!n || !n->has_hosts || hyp_hostlist_expand(n->hosts, &names, &count, &ignored) < 0)
		return false;
	bool found = hyp_hostlist_index(names, count, self) >= 0;
	hyp_hostlist_free(names);
	return found;
}

int agent_net_write_hosts(const struct agent_net *n, int fd)
{
	char **names;
	size_t count;
	hyp_error err;
	if (!n || !n->has_hosts)
		return 0;
	if (hyp_hostlist_expand(n->hosts, &names, &count, &err) < 0) {
		agent_log("network: hyperion.hosts: %s", err.msg);
		return -1;
	}
	int r = 0;
	for (size_t i = 0; r == 0 && i < count; i++) {
		char line[HYP_HOSTLIST_NAME_MAX + 32];
		uint32_t a = n->first + (uint32_t)i;
		int len = snprintf(line, sizeof(line), "%u.%u.%u.%u\t%s\n", a >> 24,
		                   (a >> 16) & 255, (a >> 8) & 255, a & 255, names[i]);
		if (write(fd, line, (size_t)len) != len)
			r = -1;
	}
	hyp_hostlist_free(names);
	return r;
}

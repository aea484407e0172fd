/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest's NIC (doc/network.md): virtio, its MAC derived from (cluster,
 * job, node), the segment's MTU. In bridge mode the tap is Hyperion's own
 * (hyp_net_host.c made it, a port of the job's bridge): libvirt opens it
 * and hands it to QEMU, and neither creates nor deletes it
 * (managed='no'). A libvirt network gives libvirt the port. SR-IOV VFs
 * (<interface type='hostdev'>) are another part's.
 */
#include <errno.h>

#include "hyp_domain_xml_parts.h"

int hyp_dxml_interfaces(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	const struct hyp_vm_net *net = &spec->net;
	if (net->mode == HYP_NET_NONE)
		return 0;
	if (net->mtu < 576 || (net->mode == HYP_NET_BRIDGE && !net->tap[0]) ||
	    (net->mode == HYP_NET_LIBVIRT && !net->libvirt_network))
		return hyp_fail(err, EINVAL, "domain XML: incomplete network interface");
	char mac[18];
	hyp_net_mac_format(net->mac, mac);
	if (net->mode == HYP_NET_BRIDGE) {
		hyp_xw_open(x, "interface", "type", "ethernet", NULL);
		hyp_xw_empty(x, "target", "dev", net->tap, "managed", "no", NULL);
	} else {
		hyp_xw_open(x, "interface", "type", "network", NULL);
		hyp_xw_empty(x, "source", "network", net->libvirt_network, NULL);
	}
	hyp_xw_empty(x, "mac", "address", mac, NULL);
	hyp_xw_empty(x, "model", "type", "virtio", NULL);
	hyp_xw_start(x, "mtu");
	hyp_xw_attrf(x, "size", "%u", net->mtu);
	hyp_xw_end(x);
	hyp_xw_end(x);
	return 0;
}

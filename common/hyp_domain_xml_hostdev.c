/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Passed-through devices (hyp_devices.h). Each guest NUMA cell that holds
 * a device gets a PCIe expander bus on that cell (<target><node>), as
 * OpenStack Nova does, and each device a pcie-root-port on it: the guest
 * sees the GPU or VF local to the vCPUs and memory of its host node. A
 * device on none of the guest's host nodes sits on a root port that libvirt
 * places on pcie-root. GPUs are <hostdev managed='yes'> (libvirt binds
 * them to vfio-pci and back), their slot's other functions beside them in
 * one multi-function slot; VFs are <interface type='hostdev'> with the
 * lease's MAC and the pool's VLAN (libvirt sets both on the VF through its
 * PF, and resets the VF when the domain goes).
 */
#include <stdio.h>

#include "hyp_devices.h"
#include "hyp_domain_xml_parts.h"

/* Bus numbers kept for the root ports of each expander bus: up to 15 each,
 * fewer when many cells share the 224 numbers above the root bus's. */
#define PXB_BUS_STRIDE 16
#define PXB_BUS_SPACE  224

static void write_pci_address(struct hyp_xw *x, const char *type, const struct hyp_pci_addr *a,
                              bool multifunction)
{
	hyp_xw_start(x, "address");
	if (type)
		hyp_xw_attr(x, "type", type);
	hyp_xw_attrf(x, "domain", "0x%04x", a->domain);
	hyp_xw_attrf(x, "bus", "0x%02x", a->bus);
	hyp_xw_attrf(x, "slot", "0x%02x", a->slot);
	hyp_xw_attrf(x, "function", "0x%x", a->function);
	if (multifunction)
		hyp_xw_attr(x, "multifunction", "on");
	hyp_xw_end(x);
}

/* Guest cells with a device, in cell order: their expander bus indexes. */
struct layout {
	int pxb_of_cell[64]; /* controller index of cell c's expander bus, 0: none */
	unsigned npxb;
	unsigned next_index;
	unsigned ports_on[64]; /* root ports placed on each expander bus so far */
	unsigned stride;       /* bus numbers of each expander bus */
};

static void write_expanders(struct hyp_xw *x, const struct hyp_devices *d, size_t ncells,
                            struct layout *l)
{
	unsigned used = 0;
	for (size_t c = 0; c < ncells && c < 64; c++)
		for (size_t i = 0; i < d->nslots; i++)
			if (d->slots[i].cell == (int)c && !l->pxb_of_cell[c]) {
				l->pxb_of_cell[c] = -1;
				used++;
			}
	l->next_index = 1;
	unsigned stride =
	    used && PXB_BUS_SPACE / used < PXB_BUS_STRIDE ? PXB_BUS_SPACE / used : PXB_BUS_STRIDE;
	l->stride = stride;
	for (size_t c = 0; c < ncells && c < 64; c++) {
		if (!l->pxb_of_cell[c])
			continue;
		unsigned k = l->npxb++;
		l->pxb_of_cell[c] = (int)l->next_index;
		hyp_xw_open(x, "controller", "type", "pci", "model", "pcie-expander-bus", NULL);
		hyp_xw_attrf(x, "index", "%u", l->next_index++);
		hyp_xw_empty(x, "model", "name", "pxb-pcie", NULL);
		hyp_xw_start(x, "target");
		hyp_xw_attrf(x, "busNr", "%u", 255 - stride * (used - k));
		hyp_xw_start(x, "node");
		hyp_xw_textf(x, "%zu", c);
		hyp_xw_end(x);
		hyp_xw_end(x);
		hyp_xw_end(x);
	}
}

/* A root port for one device: on its cell's expander bus, else on
 * pcie-root where libvirt puts it. Returns the port's controller index. */
static unsigned write_root_port(struct hyp_xw *x, const struct hyp_dev_slot *s, struct layout *l)
{
	unsigned index = l->next_index++;
	hyp_xw_open(x, "controller", "type", "pci", "model", "pcie-root-port", NULL);
	hyp_xw_attrf(x, "index", "%u", index);
	/* an expander bus with no bus number left: the root bus */
	if (s->cell >= 0 && s->cell < 64 && l->pxb_of_cell[s->cell] > 0 &&
	    l->ports_on[s->cell] + 1 < l->stride) {
		int pxb = l->pxb_of_cell[s->cell];
		struct hyp_pci_addr a = {.bus = (unsigned)pxb, .slot = l->ports_on[s->cell]++};
		write_pci_address(x, "pci", &a, false);
	}
	hyp_xw_end(x);
	return index;
}

static void write_gpu(struct hyp_xw *x, const struct hyp_dev_slot *s, unsigned port)
{
	for (size_t f = 0; f < s->nfns; f++) {
		struct hyp_pci_addr host, guest = {.bus = port, .function = (unsigned)f};
		hyp_error ignored;
		if (hyp_pci_addr_parse(s->fns[f], &host, &ignored) < 0)
			continue;
		hyp_xw_open(x, "hostdev", "mode", "subsystem", "type", "pci", "managed", "yes",
		            NULL);
		hyp_xw_start(x, "source");
		write_pci_address(x, NULL, &host, false);
		hyp_xw_end(x);
		write_pci_address(x, "pci", &guest, f == 0 && s->nfns > 1);
		hyp_xw_end(x);
	}
}

static void write_vf(struct hyp_xw *x, const struct hyp_dev_slot *s, unsigned port)
{
	struct hyp_pci_addr host, guest = {.bus = port};
	hyp_error ignored;
	if (hyp_pci_addr_parse(s->fns[0], &host, &ignored) < 0)
		return;
	hyp_xw_open(x, "interface", "type", "hostdev", "managed", "yes", NULL);
	hyp_xw_empty(x, "mac", "address", s->mac, NULL);
	hyp_xw_start(x, "source");
	write_pci_address(x, "pci", &host, false);
	hyp_xw_end(x);
	if (s->vlan) {
		hyp_xw_start(x, "vlan");
		hyp_xw_start(x, "tag");
		hyp_xw_attrf(x, "id", "%u", s->vlan);
		hyp_xw_end(x);
		hyp_xw_end(x);
	}
	write_pci_address(x, "pci", &guest, false);
	hyp_xw_end(x);
}

int hyp_dxml_hostdevs(struct hyp_xw *x, const struct hyp_vm_spec *spec, hyp_error *err)
{
	(void)err;
	const struct hyp_devices *d = spec->devices;
	if (!d || !d->nslots)
		return 0;
	struct layout l = {0};
	write_expanders(x, d, spec->placement.ncells, &l);
	for (size_t i = 0; i < d->nslots; i++) {
		unsigned port = write_root_port(x, &d->slots[i], &l);
		if (d->slots[i].vf)
			write_vf(x, &d->slots[i], port);
		else
			write_gpu(x, &d->slots[i], port);
	}
	return 0;
}

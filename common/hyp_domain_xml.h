/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libvirt domain XML for a spec, written with libxml2's xmlTextWriter. */
#ifndef HYP_DOMAIN_XML_H
#define HYP_DOMAIN_XML_H

#include "hyp_error.h"
#include "hyp_spec.h"

int hyp_domain_xml(const struct hyp_vm_spec *spec, char **ret_xml, hyp_error *err);

#endif

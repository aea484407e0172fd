/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hyperion.conf: node-wide settings (doc/admin-guide.md lists every key). */
#ifndef HYP_CONFIG_H
#define HYP_CONFIG_H

#include <stdbool.h>

#include "hyp_build_config.h"
#include "hyp_devices_config.h"
#include "hyp_error.h"
#include "hyp_net.h"

#define HYP_DEFAULT_CONFIG HYP_SYSCONFDIR "/hyperion.conf"

enum hyp_domain_type {
	HYP_DOMAIN_KVM,  /* hardware virtualisation (production) */
	HYP_DOMAIN_QEMU, /* TCG emulation (tests, machines without usable KVM) */
};

struct hyp_config {
	char *libvirt_uri;                /* libvirt_uri = qemu:///system */
	enum hyp_domain_type domain_type; /* domain_type = kvm | qemu */
	char *state_dir;                  /* state_dir = /run/hyperion */
	unsigned vmm_reserve_mb;   /* vmm_reserve_mb = 128: taken from the allocation for QEMU */
	unsigned boot_timeout_s;   /* boot_timeout = 60 */
	char *image_catalog;       /* images = HYP_SYSCONFDIR/images.d (directory of *.conf) */
	unsigned spare_exec_ports; /* spare_exec_ports = 4: exec ports beyond one per vCPU */
	char *cpu_model;           /* cpu_model = host-passthrough (kvm only) */
	char *housekeeping_cpus;   /* housekeeping_cpus = (empty): emulator threads' cpus, else the
	                              allocation's */
	char *hugepages_allowed;   /* hugepages_allowed = none,2M,1G: sizes users may ask for */
	char *hugepages_default;   /* hugepages = none */
	bool numa_bind;  /* numa_bind = yes: guest memory strictly on the host nodes of its cells */
	char **shares;   /* shares = /home /scratch: directories jobs may share (NULL-terminated,
	                    normalised; empty: none) */
	char *virtiofsd; /* virtiofsd = /usr/lib/qemu/virtiofsd */
	char **guest_commands; /* guest_commands = absolute paths a guest may run on the host
	                          (hyp_guest_commands.h; default: Slurm's commands found) */
	/* console logs of guests that failed to boot (hyp_console.h) */
	char *console_keep_dir;      /* console_keep_dir = /var/log/hyperion/consoles */
	unsigned console_keep_kib;   /* console_keep_kib = 256: the last KiB of each */
	unsigned console_keep_days;  /* console_keep_days = 7 */
	unsigned console_keep_files; /* console_keep_files = 100 */
	/* user-supplied images (--vm-image=/path, hyp_image_user.h) */
	bool user_images;                  /* user_images = no */
	char *user_image_boot;             /* user_image_boot = default: the catalog image whose
	                                      kernel, initrd and cmdline boot them */
	struct hyp_devices_config devices; /* GPUs and VF pools (hyp_devices_config.h) */
	struct hyp_net_config net;         /* network, network_*: hyp_net.h */
};

/* Load `path` (NULL: HYP_DEFAULT_CONFIG, where a missing file means all
 * defaults). Unknown keys and bad values are errors naming file and line. */
int hyp_config_load(const char *path, struct hyp_config *ret_cfg, hyp_error *err);
void hyp_config_free(struct hyp_config *cfg);

const char *hyp_domain_type_name(enum hyp_domain_type t);

#endif

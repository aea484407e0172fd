/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The GPUs Slurm allocated to a job on this node, as PCI functions.
 *
 * slurmd gives the job prolog SLURM_JOB_GPUS: the indexes of the GPUs in
 * its own device list (gres_common.c, gres_device->index), which comes from
 * gres.conf: the File= entries of Name=gpu lines for this node, in file
 * order, or with AutoDetect=nvml and no File=, NVML's order (PCI bus order).
 * The user's environment (CUDA_VISIBLE_DEVICES, SLURM_JOB_GPUS of a step)
 * is never read. doc/devices.md says which gres.conf forms are handled.
 */
#ifndef HYP_GPU_H
#define HYP_GPU_H

#include "hyp_devices_config.h"
#include "hyp_error.h"

/* Where the host's files are: NULL members mean the real ones. */
struct hyp_hostfs {
	const char *sys;     /* "/sys" */
	const char *proc;    /* "/proc" (NVIDIA's /proc/driver/nvidia/gpus) */
	const char *modules; /* "/lib/modules" */
};

/* The GPUs' device files for `node` in slurmd's index order; an empty list
 * with *ret_nvml set when gres.conf leaves them to AutoDetect=nvml. */
int hyp_gres_gpu_files(const char *gres_conf, const char *node, char ***ret_files, bool *ret_nvml,
                       hyp_error *err);

/* The PCI function behind a GPU device file: gpu_devices first, then
 * /dev/nvidiaN through /proc/driver/nvidia/gpus/<pci>/information, then
 * /dev/dri/{cardN,renderDN} through /sys/class/drm/<name>/device. */
int hyp_gpu_file_pci(const struct hyp_devices_config *dc, const struct hyp_hostfs *fs,
                     const char *file, char ret_pci[16], hyp_error *err);

/* SLURM_JOB_GPUS ("0,2") -> PCI addresses (NULL-terminated, sorted as given). */
int hyp_gpu_from_gres(const struct hyp_devices_config *dc, const struct hyp_hostfs *fs,
                      const char *node, const char *indexes, char ***ret_pcis, hyp_error *err);

#endif

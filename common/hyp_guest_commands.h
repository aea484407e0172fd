/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guest_commands in hyperion.conf: the host commands a guest may run through
 * its session (srun, squeue... typed in the VM), as absolute paths. A guest
 * names a command by its base name; only these run, as the job user.
 */
#ifndef HYP_GUEST_COMMANDS_H
#define HYP_GUEST_COMMANDS_H

#include "hyp_error.h"

#define HYP_GUEST_COMMANDS_MAX 64
/* The default list: these names, where they are found at load time. */
#define HYP_GUEST_COMMANDS_DEFAULT                                                                 \
	"srun sbatch salloc scancel squeue scontrol sinfo sacct sstat sattach"
#define HYP_GUEST_COMMANDS_DIRS "/usr/local/bin:/usr/bin:/bin:/opt/slurm/bin"

/* "/usr/bin/srun /opt/x/squeue": absolute paths, one base name each.
 * An empty value allows none. */
int hyp_guest_commands_parse(const char *key, const char *value, char ***ret, hyp_error *err);
/* HYP_GUEST_COMMANDS_DEFAULT resolved in `dirs` (colon-separated). */
int hyp_guest_commands_default(const char *dirs, char ***ret, hyp_error *err);
/* The absolute path allowed for `name` (a base name, no '/'), or NULL. */
const char *hyp_guest_command_find(char *const *list, const char *name);

#endif

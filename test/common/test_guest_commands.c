/* SPDX-License-Identifier: GPL-2.0-or-later */
/* guest_commands (hyp_guest_commands.h): parsing, the default list, lookup. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_guest_commands.h"

Test(guest_commands, parse_and_find)
{
	char **list = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_guest_commands_parse("k", " /usr/bin/srun\t/opt/x/squeue ", &list, &err),
	             0, "%s", err.msg);
	cr_assert_str_eq(hyp_guest_command_find(list, "srun"), "/usr/bin/srun");
	cr_assert_str_eq(hyp_guest_command_find(list, "squeue"), "/opt/x/squeue");
	cr_assert_null(hyp_guest_command_find(list, "ls"));
	cr_assert_null(hyp_guest_command_find(list, "/usr/bin/srun"), "a path is not a name");
	cr_assert_null(hyp_guest_command_find(list, ""));
	cr_assert_null(hyp_guest_command_find(list, "bin/srun"));
	hyp_strv_free(list);
	cr_assert_eq(hyp_guest_commands_parse("k", "", &list, &err), 0);
	cr_assert_null(list[0], "empty: none allowed");
	cr_assert_null(hyp_guest_command_find(list, "srun"));
	hyp_strv_free(list);
}

Test(guest_commands, bad_values)
{
	char **list = NULL;
	hyp_error err = {0};
	cr_assert_eq(hyp_guest_commands_parse("guest_commands", "srun", &list, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "guest_commands: 'srun' is not an absolute path to a command");
	cr_assert_eq(hyp_guest_commands_parse("guest_commands", "/a/srun /b/srun", &list, &err),
	             -EINVAL);
	cr_assert_str_eq(err.msg, "guest_commands: two commands named 'srun'");
	cr_assert_eq(hyp_guest_commands_parse("guest_commands", "/usr/bin/", &list, &err), -EINVAL);
}

Test(guest_commands, default_is_what_is_found)
{
	char dir[] = "/tmp/hyp-guest-commands.XXXXXX", path[64];
	char **list = NULL;
	hyp_error err = {0};
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/squeue", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fclose(f);
	chmod(path, 0755);
	cr_assert_eq(hyp_guest_commands_default(dir, &list, &err), 0, "%s", err.msg);
	cr_assert_str_eq(list[0], path);
	cr_assert_null(list[1], "only what exists");
	hyp_strv_free(list);
	unlink(path);
	rmdir(dir);
}

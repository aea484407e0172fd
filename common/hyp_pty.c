/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pseudo-terminals (hyp_pty.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "hyp_cleanup.h"
#include "hyp_pty.h"

int hyp_pty_open(uint16_t rows, uint16_t cols, int *ret_master, int *ret_slave, hyp_error *err)
{
	char name[128];
	_cleanup_close_ int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (master < 0)
		return hyp_fail_errno(err, "opening a pseudo-terminal (is /dev/pts mounted?)");
	if (grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)))
		return hyp_fail_errno(err, "setting up a pseudo-terminal");
	int flags = fcntl(master, F_GETFL);
	if (flags < 0 || fcntl(master, F_SETFL, flags | O_NONBLOCK) < 0)
		return hyp_fail_errno(err, "making the pseudo-terminal non-blocking");
	int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return hyp_fail_errno(err, "opening '%s'", name);
	hyp_pty_resize(master, rows, cols);
	*ret_master = take_fd(&master);
	*ret_slave = slave;
	return 0;
}

void hyp_pty_resize(int fd, uint16_t rows, uint16_t cols)
{
	struct winsize ws = {.ws_row = rows, .ws_col = cols};
	if (rows && cols)
		ioctl(fd, TIOCSWINSZ, &ws);
}

int hyp_pty_take(int slave)
{
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return -errno;
	for (int i = 0; i < 3; i++)
		if (slave != i && dup2(slave, i) < 0)
			return -errno;
	return 0;
}

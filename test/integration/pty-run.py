#!/usr/bin/env python3
"""pty-run.py OUTPUT COMMAND [ARG]...: run COMMAND on a new pseudo-terminal,
as the controlling terminal of a session of its own (an admin's terminal),
copy what it writes there to OUTPUT, and exit with its status (128+N when a
signal killed it). $PTY_INPUT (backslash escapes allowed) is typed on the
terminal after $PTY_DELAY seconds (default 1)."""
import os
import pty
import sys
import time

out = open(sys.argv[1], 'wb')
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
text = os.environ.get('PTY_INPUT')
if text is not None:
    time.sleep(float(os.environ.get('PTY_DELAY', '1')))
    os.write(fd, text.encode().decode('unicode_escape').encode('latin-1'))
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:  # EIO: nothing holds the terminal any more
        break
    if not data:
        break
    out.write(data)
    out.flush()
_, status = os.waitpid(pid, 0)
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))

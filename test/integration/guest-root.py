#!/usr/bin/env python3
"""guest-root.py JOB_DIR COMMAND: run `sh -c COMMAND` as uid 0 in the guest,
as the job's user could with a client of their own: the exec sockets are
theirs, and the agent runs whatever uid the EXEC frame names (the guest is
the user's). Claims a free exec port as hyperion-exec does (flock on
exec.<i>.lock), speaks doc/protocol.md, copies the command's stdout and
stderr, and exits with its status."""
import fcntl
import os
import socket
import struct
import sys

HELLO, EXEC, STDIN_EOF, STDOUT, STDERR, EXIT, ERROR = 1, 4, 6, 7, 8, 11, 12


PROTOCOL_VERSION = 3  # doc/protocol.md
STREAM = 1  # the stream of our EXEC
CREDIT = 15


def frame(kind, payload=b'', stream=0):
    return struct.pack('>IHH', len(payload), kind, stream) + payload


def string(s):
    b = s.encode()
    return struct.pack('>I', len(b)) + b


def read_exact(conn, n):
    data = b''
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            sys.exit('guest-root: the guest closed the connection')
        data += chunk
    return data


def claim(job_dir):
    for i in range(4096):
        path = os.path.join(job_dir, 'exec.%d.lock' % i)
        if not os.path.exists(path):
            break
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd, os.path.join(job_dir, 'exec.%d.sock' % i)
        except BlockingIOError:
            os.close(fd)
    sys.exit('guest-root: no free exec port')


def main():
    job_dir, command = sys.argv[1], sys.argv[2]
    lock, sock_path = claim(job_dir)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(sock_path)
    conn.settimeout(120)  # a test must end, whatever the guest does
    argv = ['sh', '-c', command]
    env = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin']
    payload = struct.pack('>IIIIHHI', 0, 0, 0, 0o022, 0, 0, 0) + string('/')
    payload += struct.pack('>I', len(argv)) + b''.join(string(a) for a in argv)
    payload += struct.pack('>I', len(env)) + b''.join(string(e) for e in env)
    payload += struct.pack('>IQ', 0, 0)  # no limits, no file
    conn.sendall(frame(HELLO, struct.pack('>II', PROTOCOL_VERSION, 262144)) +
                 frame(EXEC, payload, STREAM) + frame(STDIN_EOF, b'', STREAM))
    while True:
        length, kind, _ = struct.unpack('>IHH', read_exact(conn, 8))
        data = read_exact(conn, length)
        if kind in (STDOUT, STDERR):
            out = sys.stdout if kind == STDOUT else sys.stderr
            out.buffer.write(data)
            out.flush()
            # written: its window goes back to the agent
            conn.sendall(frame(CREDIT, struct.pack('>I', len(data)), STREAM))
        elif kind == ERROR:
            code, n = struct.unpack('>II', data[:8])
            sys.stderr.write('guest-root: %s\n' % data[8:8 + n].decode(errors='replace'))
        elif kind == EXIT:
            signaled, _, code = struct.unpack('>BBI', data)
            sys.exit(128 + code if signaled else code)


main()

#!/usr/bin/env python3
"""fake-agent.py SOCKET MODE [ARG]: a hostile guest agent on the host. It
listens on the unix socket SOCKET (an exec port), serves one connection
and exits. It answers the host's HELLO with its own, waits for EXEC, then
per MODE:
  exit-signal N   EXIT "killed by signal N", whatever N is
  error TEXT      ERROR (ENOENT) with TEXT, then EXIT 127
  hello-error TEXT  ERROR with TEXT instead of HELLO
TEXT may hold backslash escapes (\\033...). Frames: doc/protocol.md."""
import os
import socket
import struct
import sys

HELLO, EXEC, EXIT, ERROR = 1, 4, 11, 12


def frame(kind, payload=b'', stream=0):
    return struct.pack('>IHH', len(payload), kind, stream) + payload


def read_exact(conn, n):
    data = b''
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            sys.exit(0)  # the host went away
        data += chunk
    return data


def read_frame(conn):
    length, kind, _ = struct.unpack('>IHH', read_exact(conn, 8))
    return kind, read_exact(conn, length)


def error(text, stream=0):
    data = text.encode().decode('unicode_escape').encode('latin-1')
    return frame(ERROR, struct.pack('>II', 2, len(data)) + data, stream)


def main():
    path, mode = sys.argv[1], sys.argv[2]
    arg = sys.argv[3] if len(sys.argv) > 3 else ''
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(path):
        os.unlink(path)
    srv.bind(path)
    srv.listen(1)
    conn, _ = srv.accept()
    read_frame(conn)  # the host's HELLO
    if mode == 'hello-error':
        conn.sendall(error(arg))
    else:
        conn.sendall(frame(HELLO, struct.pack('>II', 3, 262144)))  # protocol version 3
        while read_frame(conn)[0] != EXEC:
            pass
        if mode == 'exit-signal':
            conn.sendall(frame(EXIT, struct.pack('>BBI', 1, 0, int(arg)), 1))
        else:
            conn.sendall(error(arg, 1) + frame(EXIT, struct.pack('>BBI', 0, 0, 127), 1))
    # until the host closes
    while conn.recv(4096):
        pass


main()

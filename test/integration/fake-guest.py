#!/usr/bin/env python3
"""fake-guest.py SOCKET MODE [ARG...]: a guest agent on the host that sends
guest requests (REQUEST, doc/protocol.md) to the real hyperion-exec. It
listens on the unix socket SOCKET (an exec port), serves one connection,
answers HELLO, waits for the host's EXEC (stream 1), then per MODE:
  run ARGV...     one REQUEST on stream 2, $FAKE_STDIN (if set) as its stdin;
                  prints what came back on stream 1 as
                  "out=<stdout> err=<stderr> exit=<code>|signal=<n> error=<text>"
  signal N ARGV...  as run, and sends SIGNAL N once the command wrote a line
  window ARGV...  as run, but credits nothing: prints how much came (at most
                  one window), then credits the rest and prints the exit
  flood N ARGV... N REQUESTs at once on streams 2, 4, ...; prints how many
                  ran (EXIT 0), were refused with EAGAIN, EPERM, or other
  tty R C R2 C2 ARGV...  one REQUEST in TTY mode with a window of R rows and
                  C columns; once the command wrote READY, a WINCH to R2xC2
                  and "go" typed on its terminal; prints what it wrote there
  streams N       N REQUESTs of a command the host refuses, one after the
                  other on new streams; prints the count refused
  bad KIND        a malformed or misplaced stream frame (KIND: host-stream,
                  past-window, big-credit, unknown-type); prints nothing
The result goes to the host as STDOUT on stream 1, then EXIT 0 on stream 1,
so hyperion-exec prints it and exits 0 unless the session broke."""
import os
import socket
import struct
import sys

HELLO, EXEC, STDIN, STDIN_EOF, STDOUT, STDERR, SIGNAL, WINCH = 1, 4, 5, 6, 7, 8, 9, 10
EXIT, ERROR, CREDIT, REQUEST = 11, 12, 15, 0x100
WINDOW = 262144


def frame(kind, payload=b'', stream=0):
    return struct.pack('>IHH', len(payload), kind, stream) + payload


def string(s):
    b = s.encode()
    return struct.pack('>I', len(b)) + b


def request(argv, stream, tty=None):
    env = ['FAKE_GUEST=1', 'SLURM_JOB_ID=666']  # the task's SLURM_ stays
    flags, rows, cols = (1,) + tty if tty else (0, 0, 0)
    p = struct.pack('>IHH', flags, rows, cols) + string(os.getcwd())
    p += struct.pack('>I', len(argv)) + b''.join(string(a) for a in argv)
    p += struct.pack('>I', len(env)) + b''.join(string(e) for e in env)
    return frame(REQUEST, p, stream)


class Conn:
    def __init__(self, conn):
        self.conn = conn
        self.buf = b''

    def read_frame(self):
        while True:
            if len(self.buf) >= 8:
                length, kind, stream = struct.unpack('>IHH', self.buf[:8])
                if len(self.buf) >= 8 + length:
                    data = self.buf[8:8 + length]
                    self.buf = self.buf[8 + length:]
                    return kind, stream, data
            chunk = self.conn.recv(1 << 16)
            if not chunk:
                sys.exit(0)  # the host went away
            self.buf += chunk

    def send(self, data):
        self.conn.sendall(data)


def finish(c, text):
    data = text.encode()
    for i in range(0, len(data), 32768):
        c.send(frame(STDOUT, data[i:i + 32768], 1))
    c.send(frame(EXIT, struct.pack('>BBI', 0, 0, 0), 1))


def collect(c, stream, credit=True, signal_at_line=None):
    """Frames of `stream` until its EXIT: (out, err, status, error)."""
    out, err, error, status = b'', b'', '', ''
    while True:
        kind, s, data = c.read_frame()
        if s != stream:
            continue
        if kind in (STDOUT, STDERR):
            if kind == STDOUT:
                out += data
            else:
                err += data
            if credit:
                c.send(frame(CREDIT, struct.pack('>I', len(data)), stream))
            if signal_at_line and b'\n' in out:
                c.send(frame(SIGNAL, struct.pack('>I', signal_at_line), stream))
                signal_at_line = None
        elif kind == ERROR:
            code, n = struct.unpack('>II', data[:8])
            error = data[8:8 + n].decode(errors='replace')
        elif kind == EXIT:
            signaled, _, code = struct.unpack('>BBI', data)
            status = ('signal=%d' if signaled else 'exit=%d') % code
            return out, err, status, error


def run(c, argv, signo=None):
    c.send(request(argv, 2))
    data = os.environ.get('FAKE_STDIN', '').encode()
    for i in range(0, len(data), 32768):
        c.send(frame(STDIN, data[i:i + 32768], 2))
    c.send(frame(STDIN_EOF, b'', 2))
    out, err, status, error = collect(c, 2, signal_at_line=signo)
    return 'out=%s err=%s %s error=%s\n' % (out.decode(errors='replace').strip(),
                                            err.decode(errors='replace').strip(), status, error)


def tty(c, size, resize, argv):
    c.send(request(argv, 2, size))
    out = b''
    while b'READY' not in out:
        kind, s, data = c.read_frame()
        if s == 2 and kind == STDOUT:
            out += data
            c.send(frame(CREDIT, struct.pack('>I', len(data)), 2))
        elif s == 2 and kind in (STDERR, EXIT):
            return 'not on a terminal: kind %d %r\n' % (kind, data)
    c.send(frame(WINCH, struct.pack('>HH', *resize), 2) + frame(STDIN, b'go\r', 2))
    rest, err, status, error = collect(c, 2)
    text = (out + rest).decode(errors='replace').replace('\r\n', '|')
    return 'tty=%s err=%s %s error=%s\n' % (text, err.decode(errors='replace'), status, error)


def window(c, argv):
    c.send(request(argv, 2) + frame(STDIN_EOF, b'', 2))
    got = 0
    c.conn.settimeout(2)
    try:
        while True:
            kind, s, data = c.read_frame()
            if s == 2 and kind == STDOUT:
                got += len(data)
    except socket.timeout:
        pass
    c.conn.settimeout(None)
    c.send(frame(CREDIT, struct.pack('>I', got), 2))
    out, _, status, _ = collect(c, 2)
    return 'stalled at %d, then %d more, %s\n' % (got, len(out), status)


def flood(c, n, argv):
    c.send(b''.join(request(argv, 2 * (i + 1)) + frame(STDIN_EOF, b'', 2 * (i + 1))
                    for i in range(n)))
    counts = {'ran': 0, 'EAGAIN': 0, 'EPERM': 0, 'other': 0}
    pending = set(2 * (i + 1) for i in range(n))
    errors = {}
    while pending:
        kind, s, data = c.read_frame()
        if kind == ERROR:
            errors[s] = struct.unpack('>I', data[:4])[0]
        elif kind in (STDOUT, STDERR):
            c.send(frame(CREDIT, struct.pack('>I', len(data)), s))
        elif kind == EXIT:
            pending.discard(s)
            code = errors.get(s)
            key = 'ran' if code is None else {11: 'EAGAIN', 1: 'EPERM'}.get(code, 'other')
            counts[key] += 1
    return ' '.join('%s=%d' % kv for kv in sorted(counts.items())) + '\n'


def streams(c, n):
    refused = 0
    for i in range(n):
        stream = 2 * (i % 30000 + 1)
        c.send(request(['not-allowed-%d' % i], stream))
        while True:
            kind, s, data = c.read_frame()
            if s == stream and kind == EXIT:
                refused += 1
                break
    return 'refused=%d\n' % refused


def bad(c, kind):
    if kind == 'host-stream':  # a request on a stream only the host opens
        c.send(request(['true'], 3))
    elif kind == 'past-window':
        c.send(request(['sleep', '5'], 2))
        # sleep's stdin pipe (64 KiB) takes some, and its credit may come
        # back: past the window whatever the timing
        chunk = b'x' * 32768
        c.send(b''.join(frame(STDIN, chunk, 2) for _ in range((WINDOW + 65536) // 32768 + 1)))
    elif kind == 'big-credit':
        c.send(request(['sleep', '5'], 2) + frame(CREDIT, struct.pack('>I', 1), 2))
    elif kind == 'unknown-type':
        c.send(frame(0x1ff, b'', 2))
    while True:  # until the host gives up
        c.read_frame()


def main():
    path, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(path):
        os.unlink(path)
    srv.bind(path)
    srv.listen(1)
    conn, _ = srv.accept()
    c = Conn(conn)
    c.read_frame()  # the host's HELLO
    c.send(frame(HELLO, struct.pack('>II', 3, 262144)))
    while c.read_frame()[0] != EXEC:
        pass
    if mode == 'run':
        finish(c, run(c, args))
    elif mode == 'signal':
        finish(c, run(c, args[1:], int(args[0])))
    elif mode == 'tty':
        n = [int(a) for a in args[:4]]
        finish(c, tty(c, (n[0], n[1]), (n[2], n[3]), args[4:]))
    elif mode == 'window':
        finish(c, window(c, args))
    elif mode == 'flood':
        finish(c, flood(c, int(args[0]), args[1:]))
    elif mode == 'streams':
        finish(c, streams(c, int(args[0])))
    else:
        bad(c, args[0])
    while conn.recv(4096):  # until the host closes
        pass


main()

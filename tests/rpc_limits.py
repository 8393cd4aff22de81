#!/usr/bin/env python3
"""rpc_limits.py - the control socket's limits against a running ecnode
(PROTOCOL 16.1 "Limits"); driven by tests/daemon_rpc_limits.sh.

Usage: rpc_limits.py BUILD TMPDIR

One daemon with the default limits (a 2 s idle timeout so that the test is
short) takes, in turn:
  - 1,000 connections opened and left idle,
  - 500 connections each sending a 1 MB line without a newline, sent
    round-robin in 16 KiB pieces so that many are partial at once,
  - one connection sending 5,000 requests without reading the answers,
then every answer is read back.  Throughout, `ecctl status` must answer,
and the daemon's peak resident memory (VmHWM in /proc/PID/status) must stay
under its resident memory at start plus BOUND_MIB.  A second daemon with
--rpc-line-max 1048576 (a 1 MB line is legal there) takes the same 500 x
1 MB and must stay under the same bound: the total-buffer cap holds it.
Also checked: each limit answers with a JSON-RPC error line (-32005) that
names it, the counters in `ecctl status` (rpc.*), and the idle timeout.
"""
import atexit
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time

BUILD, TMP = sys.argv[1], sys.argv[2]
ECNODE = os.path.join(BUILD, "ecnode")
ECCTL = os.path.join(BUILD, "ecctl")
# The socket's memory with the defaults is at most 4 MiB of held input, 64
# connections x (64 KiB of unread answers + one answer), a 64 KiB read
# buffer and the connection records: about 9 MiB.  The bound leaves room
# for the allocator (and a sanitizer build's own allocator, which holds
# freed memory in a quarantine).
BOUND_MIB = int(os.environ.get("RPC_RSS_BOUND_MIB", "32"))
LIMIT = -32005
STARTED = []


@atexit.register
def _stop_all():
    for p in STARTED:  # only the daemons started here, by their pid
        if p.poll() is None:
            p.kill()
            p.wait()


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def mem(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) // 1024  # MiB
    return out


def ctl(sock, *args):
    r = subprocess.run([ECCTL, *args, "--rpc", sock, "--json"], capture_output=True,
                       text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def status(sock, what):
    rc, out, err = ctl(sock, "status")
    if rc != 0:
        fail("ecctl status did not answer %s: rc %d %s" % (what, rc, err.strip()))
    return json.loads(out)


class Node:
    def __init__(self, name, *flags):
        self.dir = os.path.join(TMP, name)
        self.sock = os.path.join(self.dir, "ecnode.sock")
        subprocess.run([ECNODE, "--init", "--data", self.dir, "--pow", "test", "--network",
                        "9"], check=True, capture_output=True)
        self.log = open(os.path.join(TMP, name + ".log"), "w")
        self.p = subprocess.Popen([ECNODE, "--data", self.dir, "--listen", "127.0.0.1:0",
                                   "--pow", "test", "--network", "9", "--log-level", "warn",
                                   *flags], stderr=self.log)
        STARTED.append(self.p)
        for _ in range(100):
            if ctl(self.sock, "status")[0] == 0:
                break
            time.sleep(0.1)
        else:
            fail("%s did not start" % name)
        self.base = mem(self.p.pid)["VmRSS"]

    def check(self, what):
        if self.p.poll() is not None:
            fail("the daemon died %s (exit %s)" % (what, self.p.returncode))
        m = mem(self.p.pid)
        print("  %-40s VmRSS %3d MiB  VmHWM %3d MiB  (start %d MiB)" %
              (what, m["VmRSS"], m["VmHWM"], self.base))
        if m["VmHWM"] > self.base + BOUND_MIB:
            fail("peak RSS %d MiB over the bound %d + %d MiB %s" %
                 (m["VmHWM"], self.base, BOUND_MIB, what))
        return m

    def stop(self):
        self.p.terminate()
        try:
            rc = self.p.wait(20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            fail("the daemon did not stop on SIGTERM")
        if rc != 0:  # a sanitizer's report (leaks, errors) also ends here
            self.log.flush()
            with open(self.log.name) as f:
                sys.stderr.write(f.read()[-3000:])
            fail("the daemon exited %d on SIGTERM" % rc)


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)  # blocking: waits while the listen backlog is full
    s.settimeout(30)
    return s


def error_lines(s):
    """The JSON-RPC error objects the daemon sent on s before closing it."""
    s.setblocking(False)
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except (BlockingIOError, ConnectionResetError):
        pass
    out = []
    for line in data.split(b"\n"):
        if line.strip():
            e = json.loads(line).get("error")
            if e:
                out.append(e)
    return out


def flood(node, n, size, what):
    """n connections each sending `size` bytes with no newline, round-robin
    in 16 KiB pieces; returns the limit errors they received."""
    conns = [connect(node.sock) for _ in range(n)]
    for s in conns:
        s.setblocking(False)
    sent = [0] * n
    piece = b"x" * 16384
    live = set(range(n))
    rounds = 0
    while live:
        for i in list(live):
            try:
                k = conns[i].send(piece[:min(16384, size - sent[i])])
                sent[i] += k
            except BlockingIOError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                live.discard(i)
                continue
            if sent[i] >= size:
                live.discard(i)
        rounds += 1
        if rounds % 16 == 0:
            status(node.sock, "during " + what)
            node.check("during " + what)
    time.sleep(0.3)
    errs = []
    for s in conns:
        errs += error_lines(s)
        s.close()
    return errs, sum(sent)


def main():
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    a = Node("a", "--rpc-idle-timeout", "2000")
    print("daemon a (default limits, idle timeout 2 s): start %d MiB" % a.base)

    # 1,000 idle connections
    conns = []
    for i in range(1000):
        conns.append(connect(a.sock))
        if i % 250 == 249:
            st = status(a.sock, "with %d idle connections open" % (i + 1))
            if st["rpc"]["clients"] > st["rpc"]["max_clients"]:
                fail("%d connections held, cap %d" % (st["rpc"]["clients"],
                                                      st["rpc"]["max_clients"]))
    a.check("1,000 idle connections open")
    st = status(a.sock, "after 1,000 idle connections")
    cap = st["rpc"]["max_clients"]
    if cap != 64:
        fail("default connection cap %d, want 64" % cap)
    if st["rpc"]["closed_connection_limit"] < 1000 - cap:
        fail("only %d connections closed by the cap" % st["rpc"]["closed_connection_limit"])
    errs = []
    for s in conns:
        errs += error_lines(s)
        s.close()
    if len(errs) < 1000 - cap or any(e["code"] != LIMIT for e in errs) or \
            "connection limit (64)" not in errs[0]["message"]:
        fail("idle connections over the cap: %d errors, first %r" % (len(errs), errs[:1]))
    print("  %d of 1,000 idle connections closed with: %s" % (len(errs), errs[0]["message"]))

    # 500 x 1 MB without a newline
    errs, total = flood(a, 500, 1 << 20, "500 x 1 MB lines")
    a.check("after 500 x 1 MB lines")
    st = status(a.sock, "after 500 x 1 MB lines")["rpc"]
    if st["closed_line_limit"] + st["closed_buffer_limit"] < 1 or \
            not any("request line over 65536 bytes" in e["message"] for e in errs):
        fail("oversized lines not refused: %r %r" % (st, errs[:1]))
    print("  %d bytes sent; closed: line limit %d, buffer limit %d, connection limit %d" %
          (total, st["closed_line_limit"], st["closed_buffer_limit"],
           st["closed_connection_limit"]))

    # answers not read: 5,000 requests, then read them all
    n = 5000
    s = connect(a.sock)
    reqs = b"".join(b'{"jsonrpc":"2.0","id":%d,"method":"status"}\n' % i for i in range(n))
    t = threading.Thread(target=s.sendall, args=(reqs,))
    t.start()
    time.sleep(1.0)
    a.check("5,000 answers unread")
    status(a.sock, "while a client does not read")
    got, buf = 0, b""
    while got < n:
        b = s.recv(1 << 16)
        if not b:
            fail("connection closed after %d of %d answers" % (got, n))
        buf += b
        lines = buf.split(b"\n")
        buf = lines.pop()
        for line in lines:
            if "result" not in json.loads(line):
                fail("answer %d is an error: %s" % (got, line[:200]))
            got += 1
    t.join()
    s.close()
    if status(a.sock, "after the unread answers")["rpc"]["paused"] < 1:
        fail("the unread answers never paused the connection")
    print("  5,000 pipelined requests answered in order once read (reading paused meanwhile)")

    # idle timeout, and a line over the limit
    s = connect(a.sock)
    time.sleep(2.6)
    errs = error_lines(s)
    if not errs or "idle for 2000 ms" not in errs[0]["message"]:
        fail("idle connection not closed with an error: %r" % errs)
    s.close()
    s = connect(a.sock)
    s.sendall(b'{"method":"status","params":{"x":"' + b"y" * 70000 + b'"}}\n')
    time.sleep(0.3)
    errs = error_lines(s)
    if not errs or errs[0]["code"] != LIMIT or "request line over" not in errs[0]["message"]:
        fail("oversized line: %r" % errs)
    s.close()
    m = a.check("at the end")
    st = status(a.sock, "at the end")["rpc"]
    if st["closed_idle"] < 1 or st["clients"] != 1 or st["buffered_bytes"] != 0:  # 1: ecctl
        fail("counters at the end: %r" % st)
    a.stop()
    peak_a = m["VmHWM"] - a.base

    # a 1 MB line is legal: the total-buffer cap bounds 500 of them
    b_ = Node("b", "--rpc-line-max", "1048576", "--rpc-buffer-total", "8388608")
    print("daemon b (--rpc-line-max 1048576 --rpc-buffer-total 8388608): start %d MiB" % b_.base)
    errs, total = flood(b_, 500, 1 << 20, "500 x 1 MB lines")
    m = b_.check("after 500 x 1 MB lines")
    st = status(b_.sock, "after 500 x 1 MB lines")["rpc"]
    if st["closed_buffer_limit"] < 1 or \
            not any("input buffers full" in e["message"] for e in errs):
        fail("total-buffer cap never closed a connection: %r" % st)
    print("  closed: buffer limit %d, connection limit %d, line limit %d" %
          (st["closed_buffer_limit"], st["closed_connection_limit"], st["closed_line_limit"]))
    b_.stop()
    print("rpc_limits: ok (peak over start: %d MiB default limits, %d MiB with 1 MiB lines;"
          " bound %d MiB)" % (peak_a, m["VmHWM"] - b_.base, BOUND_MIB))


main()

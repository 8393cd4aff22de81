#!/usr/bin/env python3
"""notify_listen.py SOCKET OUT TIMEOUT -- stands in for systemd's notification
socket (sd_notify(3)): binds a Unix datagram socket at SOCKET and appends
each message received to OUT, one message per record, records separated by
a line '--', until STOPPING=1 arrives or TIMEOUT seconds pass."""
import os
import socket
import sys
import time

path, out, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
end = time.monotonic() + timeout
with open(out, "a") as f:
    f.write("listening\n--\n")
    f.flush()
    while time.monotonic() < end:
        s.settimeout(max(0.1, end - time.monotonic()))
        try:
            msg = s.recv(65536).decode("utf-8", "replace")
        except socket.timeout:
            break
        f.write(msg.rstrip("\n") + "\n--\n")
        f.flush()
        if "STOPPING=1" in msg.split("\n"):
            break
os.unlink(path)

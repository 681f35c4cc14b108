#!/usr/bin/env python3
"""a proxy-listen listener waiting for the rest of a PROXY header costs no
cpu, and the completed header then carries the client's address."""
import os
import re
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from gemtest import Server, Tap, client_context, free_port  # noqa

t = Tap()
pp = free_port()
with Server(top='proxy-listen = {"127.0.0.1:%d"}\nrequest-timeout = 5\n'
            % pp) as srv:
    time.sleep(0.3)

    def cpu_ticks():
        total = 0
        for pid in srv.pids():
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total

    before = cpu_ticks()
    s = socket.create_connection(("127.0.0.1", pp), timeout=10)
    s.sendall(b"PROXY TCP4 192.0.2")
    time.sleep(2)
    spent = cpu_ticks() - before
    print("# cpu ticks (10 ms) spent in 2 s on a half header: %d" % spent)
    t.ok(spent <= 20, "a half PROXY header does not spin the worker")
    s.sendall(b".7 127.0.0.1 40000 1965\r\n")
    tls = client_context().wrap_socket(s, server_hostname="localhost")
    tls.sendall(b"gemini://localhost/\r\n")
    data = b""
    try:
        while True:
            chunk = tls.recv(4096)
            if not chunk:
                break
            data += chunk
    except (OSError, ssl.SSLError):
        pass
    t.ok(data.startswith(b"20 "), "the completed header is served",
         data[:80])
    t.ok(srv.wait_log('192.0.2.7 localhost "/" 20'),
         "the logged client is the one from the header")
t.done()

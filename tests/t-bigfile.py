#!/usr/bin/env python3
"""large files over gemini (issue 20, lever 4): a file body goes out from a
mapping of the file, a window at a time.

- files around the window (1 MB) and chunk (64 KB) sizes arrive whole and
  byte for byte, with close_notify;
- a file cut short while it is being sent (a slow reader, the file
  truncated meanwhile) costs that response only: it ends without
  close_notify, nothing of it is served past the cut but zeros, the
  worker lives on (same pid) and answers the next request, and the log
  says why.
"""
import hashlib
import os
import socket
import ssl
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from gemtest import Tap, Server, request, client_context  # noqa: E402

t = Tap()
root = tempfile.mkdtemp(prefix="capsule-big-")
os.chmod(root, 0o755)
with open(os.path.join(root, "index.gmi"), "w") as f:
    f.write("# Home\n")
sizes = {"a.bin": 16 * 1024 + 1, "b.bin": 1024 * 1024,
         "c.bin": 1024 * 1024 + 65536 + 7, "d.bin": 3 * 1024 * 1024 - 1}
data = {}
for name, size in sizes.items():
    data[name] = os.urandom(size)
    with open(os.path.join(root, name), "wb") as f:
        f.write(data[name])
CUT = os.path.join(root, "cut.bin")
CUT_SIZE = 48 * 1024 * 1024

srv = Server(root=root, workers=1)
try:
    srv.start()
    for name in sorted(sizes):
        r = request(srv.port, srv.url("/" + name), timeout=20)
        body = r.raw.split(b"\r\n", 1)[1] if b"\r\n" in r.raw else b""
        t.ok(r.status == 20 and r.close_notify and
             hashlib.sha256(body).digest() ==
             hashlib.sha256(data[name]).digest(),
             "%s (%d bytes) arrives whole, with close_notify" %
             (name, sizes[name]), (r.status, len(body), r.error))

    # a slow reader: a small receive window, so most of the file is still
    # on the server's side when it is cut
    with open(CUT, "wb") as f:
        for _ in range(CUT_SIZE // (1024 * 1024)):
            f.write(b"\xa5" * (1024 * 1024))
    pid = srv.worker_pid()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    s.settimeout(20)
    s.connect(("127.0.0.1", srv.port))
    tls = client_context().wrap_socket(s, server_hostname="localhost",
                                       suppress_ragged_eofs=False)
    tls.sendall(srv.url("/cut.bin").encode() + b"\r\n")
    got = b""
    while len(got) < 200000:
        got += tls.recv(65536)
    os.truncate(CUT, 1000)
    clean = False
    err = None
    try:
        while True:
            chunk = tls.recv(65536)
            if not chunk:
                clean = True
                break
            got += chunk
    except (OSError, ssl.SSLError) as e:
        err = repr(e)
    tls.close()
    body = got.split(b"\r\n", 1)[1]
    t.ok(not clean and len(body) < CUT_SIZE,
         "the cut response ends without close_notify, short",
         (clean, len(body), err))
    t.ok(set(body) <= {0xa5, 0}, "and holds nothing but the file's bytes "
         "(and zeros past the cut)", sorted(set(body))[:8])
    r = request(srv.port, srv.url("/a.bin"))
    t.ok(r.status == 20 and r.close_notify, "the next request is served",
         r)
    t.eq(srv.worker_pid(), pid, "by the same worker: it did not die")
    t.ok(srv.wait_log("file shrank while it was sent"),
         "the log says why the response was cut", srv.log()[-600:])
finally:
    srv.cleanup()
    for name in list(sizes) + ["cut.bin", "index.gmi"]:
        try:
            os.unlink(os.path.join(root, name))
        except OSError:
            pass
    os.rmdir(root)
t.done()

#!/usr/bin/env python3
"""the system calls a tls request costs the worker, traced with strace
(issue 20): the first bytes are not peeked (the handshake's own first read
shows them, and a PROXY header on a listener that takes none is still
answered 59), no read is tried while the server's handshake flight is
still unsent (the peer cannot have answered it), and a log line is one
write, without the fstat and lseek dprintf makes."""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from gemtest import Server, Tap, plain_request, request  # noqa

t = Tap()
if shutil.which("strace") is None:
    t.skip("strace is not installed (contrib/deps.sh test)")
    t.done()


def traced(srv, what):
    """the worker's recv, send, fstat and lseek calls while what() runs"""
    out = os.path.join(srv.dir, "strace.out")
    st = subprocess.Popen(
        ["strace", "-f", "-qq", "-o", out, "-e",
         "trace=recvfrom,recvmsg,read,sendto,sendmsg,write,newfstatat,"
         "fstat,lseek", "-p", str(srv.worker_pid())],
        stderr=subprocess.DEVNULL)
    time.sleep(1.0)     # attached (strace says nothing with -qq)
    what()
    time.sleep(0.5)     # the log line after the close
    st.terminate()
    st.wait(timeout=10)
    with open(out) as f:
        return [re.sub(r"^\d+\s+", "", l) for l in f.read().splitlines()]


with Server() as srv:
    r = request(srv.port, srv.url("/"))
    t.eq(r.status, 20, "a request is served before tracing")
    calls = []

    def one():
        calls.append(request(srv.port, srv.url("/")))

    lines = traced(srv, one)
    t.eq(calls[0].status, 20, "the traced request is served")
    recvs = [i for i, l in enumerate(lines) if l.startswith("recvfrom(")]
    sends = [i for i, l in enumerate(lines) if l.startswith("sendto(")]
    t.ok(recvs and sends, "strace saw the request's reads and sends",
         "\n".join(lines[:20]))
    t.ok(not any("MSG_PEEK" in l for l in lines),
         "the first bytes are not peeked",
         "\n".join(l for l in lines if "MSG_PEEK" in l))
    if recvs and sends:
        # the client hello, then the server's flight goes out: no read
        # between them, which could only say EAGAIN
        first = next(i for i in recvs if not re.search(r"= -1 ", lines[i]))
        between = [l for l in lines[first + 1:sends[0]]
                   if l.startswith("recvfrom(")]
        t.ok(not between, "no read while the handshake flight is unsent",
             "\n".join(between))
    writes = [l for l in lines if l.startswith("write(2,")]
    t.ok(writes, "the log line is written to stderr",
         "\n".join(lines[-10:]))
    t.ok(not any(re.match(r"(newfstatat|fstat|lseek)\(2,", l)
                 for l in lines),
         "a log line costs no fstat or lseek of its descriptor",
         "\n".join(l for l in lines if "(2," in l))

    # a PROXY header on a listener that takes none: still 59, before tls
    for name, hdr in (("v1", b"PROXY TCP4 127.0.0.9 127.0.0.1 4444 1965\r\n"),
                      ("v2", b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" +
                       bytes([127, 0, 0, 9, 127, 0, 0, 1, 17, 92, 7, 173]))):
        try:
            out = plain_request(srv.port, hdr)
        except OSError as e:    # a reset: the header was left unread
            out = repr(e).encode()
        t.ok(out.startswith(b"59 "), "a PROXY %s header on a plain listener "
             "is answered 59, the header read (no reset)" % name, repr(out))
    t.ok(srv.wait_log('127.0.0.1 - "-" 59 '), "the refusals are logged",
         srv.log()[-500:])
    r = request(srv.port, srv.url("/"))
    t.eq(r.status, 20, "requests are served after the refusals")
t.done()

#!/usr/bin/env python3
"""resource exhaustion against the real capsuled over loopback (issue 8):
a low open-file limit, a thousand idle connections and slowloris clients
with short timeouts, and the max-connections cap. what the server holds is
read from its worker's /proc/PID/fd; the figures go out as '# ...' lines.

every connection here comes from 127.0.0.1: the servers run with
max-connections-per-address = 0, since the limits under test are the
others (t-addrcap.py tests that one)."""
import os
import resource
import selectors
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import gemtest  # noqa: E402
from gemtest import Tap, Server, request, wait_port  # noqa: E402

t = Tap()

# the clients below need more than the usual 1024 descriptors
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
if soft < want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
IDLE = 1000 if want >= 1200 else want - 200
SLOW = 20       # of each kind of slowloris
NOCAP = "max-connections-per-address = 0\n"


class LimitedServer(Server):
    """a Server whose processes start with a low open-file limit"""

    def __init__(self, nofile, **kw):
        Server.__init__(self, **kw)
        self.nofile = nofile

    def start(self, wait=True):
        n = self.nofile
        self.errf = open(self.logfile, "ab")
        self.proc = subprocess.Popen(
            [gemtest.CAPSULED, "-f", "-c", self.conf], stdout=self.errf,
            stderr=subprocess.STDOUT, cwd=self.dir,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                  (n, n)))
        if wait and not wait_port(self.port):
            raise RuntimeError("capsuled did not start:\n" + self.log())
        return self


def sockets_of(pid):
    """sockets the process holds now; -1 when it cannot be read"""
    n = 0
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) \
                        .startswith("socket:"):
                    n += 1
            except OSError:
                pass
    except OSError:
        return -1
    return n


def fds_of(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def open_conns(port, n, first=b""):
    """n nonblocking loopback connections, each sending `first` once up"""
    conns = []
    for _ in range(n):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        conns.append(c)
    if first:
        end = time.time() + 10
        pending = list(conns)
        while pending and time.time() < end:
            rest = []
            for c in pending:
                try:
                    c.send(first)
                except (BlockingIOError, OSError):
                    rest.append(c)
            pending = rest
            if pending:
                time.sleep(0.02)
    return conns


def close_all(conns):
    for c in conns:
        try:
            c.close()
        except OSError:
            pass


def closed_by_peer(c):
    """True when the server closed the connection (eof or reset)"""
    try:
        return c.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


# ---- (a) a low open-file limit, more connections than it allows ----

NOFILE = 64
with LimitedServer(NOFILE, workers=1,
                   top="request-timeout = 60\nconnection-timeout = 120\n"
                   + NOCAP) as srv:
    wpid = srv.worker_pid()
    conns = open_conns(srv.port, 3 * NOFILE, b"\x16")
    said = srv.wait_log("out of file descriptors", timeout=10)
    t.ok(said, "at %d descriptors the worker says it ran out" % NOFILE,
         srv.log()[-2000:])
    time.sleep(3)       # the worker retries every second meanwhile
    full = fds_of(wpid)
    during = request(srv.port, srv.url("/"), timeout=1.5)
    log = srv.log()
    lines = log.count("out of file descriptors")
    print("# low fd limit: %d connections opened, the worker held %d of %d "
          "descriptors; a request meanwhile: %s" % (
              len(conns), full, NOFILE,
              "answered" if during.status else "waiting"))
    print("# low fd limit: %d 'out of file descriptors' line(s) in %d s "
          "of exhaustion" % (lines, 3))
    t.ok(full >= NOFILE - 2, "the worker used up its descriptors "
         "(%d of %d)" % (full, NOFILE))
    t.eq(lines, 1, "the condition is logged once per interval, not per "
         "connection")
    t.ok(srv.proc.poll() is None and wpid in srv.pids(),
         "master and worker keep running while out of descriptors")

    close_all(conns)
    start = time.time()
    r = request(srv.port, srv.url("/"), timeout=10)
    took = time.time() - start
    print("# low fd limit: answered %.2f s after the connections closed"
          % took)
    t.eq(r.status, 20, "answers again once the connections close")
    r = request(srv.port, srv.url("/"), timeout=10)
    t.eq(r.status, 20, "and goes on answering")
    t.ok("exited" not in srv.log() and "killed" not in srv.log(),
         "no worker died", srv.log()[-2000:])

# ---- (b) a thousand idle connections and slowloris clients ----


def tls_slowloris(port, result, i):
    """a finished handshake, then the request one byte a second"""
    ctx = gemtest.client_context()
    start = time.time()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s = ctx.wrap_socket(s, server_hostname="localhost")
        s.settimeout(1.0)
        for b in b"gemini://localhost/" + b"x" * 100:
            s.send(bytes([b]))
            try:
                if s.recv(100) == b"":
                    break
            except socket.timeout:
                continue
        else:
            result[i] = None        # never closed
            return
    except (OSError, ssl.SSLError):
        pass
    result[i] = time.time() - start


# (b1) while the worker holds them all. idle connections send nothing, so
# the kernel (TCP_DEFER_ACCEPT) hands them to the worker only a second or
# more after they connect, spread over time: with a short request timeout
# the first are closed before the last arrive, and how many are held at
# once depended on the machine's load (731 of 1,000 once). here nothing
# closes them (60 s) before they are all held, which the test waits for
# (bounded), so what it asserts no longer depends on timing.

with Server(workers=1, top="request-timeout = 60\n"
            "connection-timeout = 120\n" + NOCAP) as srv:
    wpid = srv.worker_pid()
    base = sockets_of(wpid)
    idle = open_conns(srv.port, IDLE)
    held = 0
    end = time.time() + 30
    while time.time() < end:
        held = sockets_of(wpid) - base
        if held >= len(idle):
            break
        time.sleep(0.1)
    print("# idle: %d connections sending nothing, the worker holds %d"
          % (len(idle), held))
    # the bar the timing-dependent version had: nine in ten
    t.ok(held >= len(idle) * 9 // 10, "the worker holds the idle "
         "connections (%d of %d)" % (held, len(idle)))
    answered = 0
    for _ in range(5):
        if request(srv.port, srv.url("/"), timeout=5).status == 20:
            answered += 1
    held_at_answer = sockets_of(wpid) - base
    t.eq(answered, 5, "normal requests are answered while the worker holds "
         "%d idle connections" % held)
    t.ok(held_at_answer >= held, "and still holds them after (%d)"
         % held_at_answer)
    close_all(idle)

# (b2) with short timeouts: every idle and slowloris connection is closed,
# and normal requests are answered meanwhile

with Server(workers=1, top="request-timeout = 2\n"
            "connection-timeout = 60\n" + NOCAP) as srv:
    wpid = srv.worker_pid()
    base = sockets_of(wpid)
    t0 = time.time()
    idle = open_conns(srv.port, IDLE)
    raw = open_conns(srv.port, SLOW)
    tls_result = [None] * SLOW
    threads = [threading.Thread(target=tls_slowloris,
                                args=(srv.port, tls_result, i), daemon=True)
               for i in range(SLOW)]
    for th in threads:
        th.start()

    sel = selectors.DefaultSelector()
    for i, c in enumerate(idle):
        sel.register(c, selectors.EVENT_READ, ("idle", i))
    for i, c in enumerate(raw):
        sel.register(c, selectors.EVENT_READ, ("raw", i))
    closed = {"idle": {}, "raw": {}}
    hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64
    answered = asked = 0
    held_at_answer = 0
    latencies = []
    last_trickle = 0
    end = time.time() + 30
    while time.time() < end and (
            len(closed["idle"]) < len(idle) or
            len(closed["raw"]) < len(raw) or
            any(th.is_alive() for th in threads)):
        now = time.time()
        if now - last_trickle >= 1.0:
            last_trickle = now
            for i, c in enumerate(raw):
                if i not in closed["raw"]:
                    k = int(now - t0) % len(hello)
                    try:
                        c.send(hello[k:k + 1])
                    except OSError:
                        pass
        for key, _ in sel.select(0.1):
            kind, i = key.data
            if closed_by_peer(key.fileobj):
                closed[kind][i] = time.time() - t0
                sel.unregister(key.fileobj)
        # a normal request now and then, with what the worker holds
        if asked < 200 and int((time.time() - t0) * 4) > asked:
            asked += 1
            held = sockets_of(wpid) - base
            q = time.time()
            r = request(srv.port, srv.url("/"), timeout=5)
            if r.status == 20:
                answered += 1
                latencies.append(time.time() - q)
                held_at_answer = max(held_at_answer, held)
    for th in threads:
        th.join(timeout=5)
    idle_t = sorted(closed["idle"].values())
    raw_t = sorted(closed["raw"].values())
    tls_t = sorted(x for x in tls_result if x is not None)

    def spread(ts):
        if not ts:
            return "none"
        return "first %.1f s, median %.1f s, last %.1f s" % (
            ts[0], ts[len(ts) // 2], ts[-1])
    print("# idle: %d connections sending nothing, %d closed by the "
          "server (%s)" % (len(idle), len(idle_t), spread(idle_t)))
    print("# slowloris: %d raw one byte a second, %d closed (%s); %d tls "
          "one request byte a second, %d closed (%s)" % (
              len(raw), len(raw_t), spread(raw_t), SLOW, len(tls_t),
              spread(tls_t)))
    print("# meanwhile %d of %d normal requests answered, the worker "
          "holding up to %d connections at an answer; slowest %.0f ms"
          % (answered, asked, held_at_answer,
             1000 * max(latencies) if latencies else -1))
    t.eq(len(idle_t), len(idle), "every idle connection is closed by the "
         "request timeout")
    t.eq(len(raw_t), len(raw), "every raw slowloris connection is closed")
    t.eq(len(tls_t), SLOW, "every tls slowloris connection is closed")
    t.ok(answered == asked and answered > 0, "normal requests are answered "
         "meanwhile (%d of %d)" % (answered, asked))
    t.eq(request(srv.port, srv.url("/")).status, 20,
         "and after they are gone")
    close_all(idle + raw)

# ---- (c) the max-connections cap ----

CAP = 10
with Server(workers=1, top="max-connections = %d\nrequest-timeout = 60\n"
            "connection-timeout = 120\n" % CAP + NOCAP) as srv:
    wpid = srv.worker_pid()
    base = sockets_of(wpid)
    conns = open_conns(srv.port, 4 * CAP, b"\x16")
    most = 0
    end = time.time() + 3
    while time.time() < end:
        most = max(most, sockets_of(wpid) - base)
        time.sleep(0.05)
    print("# max-connections %d: %d connections opened, the worker held "
          "at most %d" % (CAP, len(conns), most))
    t.eq(most, CAP, "the worker holds max-connections and no more")
    during = request(srv.port, srv.url("/"), timeout=1.5)
    t.ok(during.status is None, "a request beyond the cap waits")
    close_all(conns)
    r = request(srv.port, srv.url("/"), timeout=10)
    t.eq(r.status, 20, "answered once the connections close")
    t.ok(srv.proc.poll() is None and wpid in srv.pids(),
         "the worker kept running")

t.done()

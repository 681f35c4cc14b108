#!/usr/bin/env python3
"""max-connections-per-address (issue 14, item 6): one client address can
no longer hold every slot.

- one greedy address (127.0.0.2) opens more slow connections than
  workers x max-connections; the server keeps exactly the cap of them
  and closes the rest at once, and a normal client from another
  loopback address (127.0.0.1) is still served meanwhile;
- the cap holds across worker processes: with two workers of
  max-connections 5 and a cap of 8, the first worker fills up (5) and
  the second takes only 3 more of the greedy address;
- behind proxy-listen the address counted is the one the PROXY header
  gives: one claimed source is capped, many claimed sources through the
  same proxy address are not, and another claimed source is served;
- 0 turns the cap off; a bad value is refused by -n with its line.
"""
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import gemtest  # noqa: E402
from gemtest import Tap, Server, request  # noqa: E402

t = Tap()
GREEDY = "127.0.0.2"
NORMAL = "127.0.0.1"


def slow_conns(port, n, source, prefix=b""):
    """n connections from source, each sending prefix and the first byte
    of a tls handshake, then nothing more (held until request-timeout)"""
    conns = []
    for _ in range(n):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.bind((source, 0))
        c.settimeout(5)
        c.connect(("127.0.0.1", port))
        c.sendall(prefix + b"\x16")
        c.setblocking(False)
        conns.append(c)
    return conns


def closed_by_peer(c):
    try:
        return c.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def settle(conns, want_open, timeout=10.0):
    """wait (bounded) until at most want_open are still open; the number
    still open then, after a moment more for stragglers"""
    closed = set()
    end = time.time() + timeout
    while time.time() < end:
        for i, c in enumerate(conns):
            if i not in closed and closed_by_peer(c):
                closed.add(i)
        if len(conns) - len(closed) <= want_open:
            break
        time.sleep(0.05)
    time.sleep(0.5)
    for i, c in enumerate(conns):
        if i not in closed and closed_by_peer(c):
            closed.add(i)
    return len(conns) - len(closed)


def close_all(conns):
    for c in conns:
        c.close()


def v1_header(src, dst_port):
    return ("PROXY TCP4 %s 127.0.0.1 40000 %d\r\n" % (src, dst_port)) \
        .encode()


# ---- one greedy address, more than workers x max-connections ----

CAP = 8
MAXC = 20
with Server(workers=1, top="max-connections = %d\n"
            "max-connections-per-address = %d\nrequest-timeout = 30\n"
            "connection-timeout = 60\n" % (MAXC, CAP)) as srv:
    greedy = slow_conns(srv.port, 5 * MAXC, GREEDY)
    held = settle(greedy, CAP)
    print("# greedy %s: %d slow connections, %d held by the server"
          % (GREEDY, len(greedy), held))
    t.eq(held, CAP, "the server holds max-connections-per-address (%d) of "
         "one address's %d slow connections" % (CAP, len(greedy)))
    r = request(srv.port, srv.url("/"), source=NORMAL, timeout=5)
    t.eq(r.status, 20, "a client from another address is served meanwhile")
    r = request(srv.port, srv.url("/"), source=GREEDY, timeout=5)
    t.eq(r.status, None, "a further connection from the greedy address is "
         "closed")
    t.ok("over max-connections-per-address" in srv.log(),
         "the refusal is logged", srv.log()[-1000:])
    close_all(greedy)
    # what the greedy address held is given back when it closes
    ok = False
    end = time.time() + 10
    while time.time() < end and not ok:
        ok = request(srv.port, srv.url("/"), source=GREEDY,
                     timeout=5).status == 20
        if not ok:
            time.sleep(0.1)
    t.ok(ok, "once its connections close, the greedy address is served "
         "again")

# ---- across workers ----

with Server(workers=2, top="max-connections = 5\n"
            "max-connections-per-address = %d\nrequest-timeout = 30\n"
            "connection-timeout = 60\n" % CAP) as srv:
    end = time.time() + 10
    while time.time() < end and len(srv.pids()) < 3:
        time.sleep(0.05)
    greedy = slow_conns(srv.port, 20, GREEDY)
    held = settle(greedy, CAP)
    print("# two workers of max-connections 5, cap %d: %d of %d greedy "
          "connections held" % (CAP, held, len(greedy)))
    # two workers accepting at the same instant may each pass the count
    t.ok(CAP <= held <= CAP + 1, "the cap holds across two workers (%d "
         "held, %d each would allow %d)" % (held, CAP, 10))
    r = request(srv.port, srv.url("/"), source=NORMAL, timeout=5)
    t.eq(r.status, 20, "and a client from another address is served")
    close_all(greedy)

# ---- behind proxy-listen: the address the PROXY header gives ----

srv = Server(workers=1, config=(
    'proxy-listen = {"127.0.0.1:{port}"}\n'
    'state-dir = "{state}"\n' +
    ('user = "nobody"\n' if os.geteuid() == 0 else "") +
    'log-level = "debug"\nworkers = 1\n'
    'max-connections-per-address = %d\nrequest-timeout = 30\n'
    'connection-timeout = 60\n'
    'server "localhost" {\n  aliases = {"127.0.0.1"}\n'
    '  root = "{root}"\n}\n' % CAP))
try:
    srv.start()
    greedy = slow_conns(srv.port, 3 * CAP, NORMAL,
                        v1_header("192.0.2.7", srv.port))
    held = settle(greedy, CAP)
    t.eq(held, CAP, "behind the proxy, one claimed source keeps %d of %d"
         % (CAP, len(greedy)))
    r = request(srv.port, srv.url("/"), source=NORMAL,
                prefix=v1_header("198.51.100.9", srv.port), timeout=5)
    t.eq(r.status, 20, "another claimed source through the same proxy "
         "address is served")
    r = request(srv.port, srv.url("/"), source=NORMAL,
                prefix=v1_header("192.0.2.7", srv.port), timeout=5)
    t.eq(r.status, None, "the capped claimed source is closed")
    many = []
    for i in range(2 * CAP):
        many += slow_conns(srv.port, 1, NORMAL,
                           v1_header("203.0.113.%d" % (i + 1), srv.port))
    t.eq(settle(many, len(many), timeout=1.0), len(many),
         "%d claimed sources through one proxy address are all held: the "
         "proxy's own address is not what is counted" % len(many))
    close_all(greedy + many)
finally:
    srv.cleanup()

# ---- 0 turns it off; bad values ----

with Server(workers=1, top="max-connections-per-address = 0\n"
            "request-timeout = 30\nconnection-timeout = 60\n") as srv:
    greedy = slow_conns(srv.port, 3 * CAP, GREEDY)
    t.eq(settle(greedy, len(greedy), timeout=1.0), len(greedy),
         "max-connections-per-address = 0: no cap")
    close_all(greedy)

srv = Server(top="max-connections-per-address = -1\n")
try:
    p = subprocess.run([gemtest.CAPSULED, "-n", "-c", srv.conf],
                       capture_output=True, text=True)
    line = srv.config_text.splitlines().index(
        "max-connections-per-address = -1") + 1
    t.ok(p.returncode == 1 and "%s:%d: max-connections-per-address"
         % (srv.conf, line) in p.stderr,
         "a negative cap is refused with its file and line", p.stderr)
finally:
    srv.cleanup()

t.done()

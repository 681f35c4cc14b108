#!/usr/bin/env python3
"""Scale-out: a real HAProxy (contrib/haproxy/haproxy.cfg, with loopback
addresses and free ports put in) in front of two capsuled instances on
proxy-listen ports. Both instances serve (round robin), their access logs
show the client's address from the PROXY v2 header (the client connects
from 127.0.0.2, HAProxy from 127.0.0.1), HAProxy's Gemini health checks
pass through the PROXY header, a proxy-listen listener refuses a connection
without a header, and a plain listener answers one with status 59."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from gemtest import (TOP, Tap, Server, free_port,  # noqa
                     request, wait_port)

t = Tap()

HAPROXY = shutil.which("haproxy")
if HAPROXY is None:
    t.skip("haproxy is not installed (Debian package haproxy)")
    t.done()
with open(os.path.join(TOP, "src", "conf.c")) as f:
    if "proxy-listen" not in f.read():
        t.skip("capsuled has no proxy-listen yet")
        t.done()

V2SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def have_v6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def gemini_from(src, port, url, dst="127.0.0.1", timeout=10.0):
    """a gemini request from a chosen source address; (status, header)"""
    r = request(port, url, host=dst, source=src, timeout=timeout)
    return r.status, r.header if r.header is not None else r.error


def gemini_after(header, host, port, url):
    """raw bytes (a PROXY header), then TLS and a request on the same
    connection; (status, header)"""
    r = request(port, url, host=host, prefix=header)
    return r.status, r.header if r.header is not None else r.error


def plain_exchange(port, data, host="127.0.0.1", timeout=5.0):
    """raw bytes to a listener; what comes back before it closes"""
    s = socket.create_connection((host, port), timeout=timeout)
    out = b""
    try:
        s.sendall(data)
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    finally:
        s.close()
    return out


def access_lines(srv):
    try:
        with open(srv.accesslog) as f:
            return [l.split() for l in f if l.strip()]
    except OSError:
        return []


def clients(srv, path):
    """client addresses logged for requests of path"""
    return [l[1] for l in access_lines(srv)
            if len(l) >= 4 and l[3] == '"%s"' % path]


def wait_for(cond, timeout=8.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def make_instance(n, ip, pport):
    """a capsuled with a plain listener on 127.0.0.1 and a proxy-listen one
    on its own loopback address, all instances on the same port as in
    contrib/haproxy/haproxy.cfg"""
    srv = Server(config="")
    srv.accesslog = os.path.join(srv.dir, "access.log")
    user = 'user = "nobody"\n' if os.geteuid() == 0 else ""
    text = ('listen = {"127.0.0.1:{port}"}\n'
            'proxy-listen = {"%s:%d"}\n' % (ip, pport) +
            'state-dir = "{state}"\n' + user +
            'log-level = "debug"\nworkers = 1\n'
            'access-log = "%s"\n' % srv.accesslog +
            'server "localhost" {\n'
            '  aliases = {"127.0.0.1", "::1"}\n'
            '  root = "{root}"\n}\n')
    srv.config_text = text.replace("{port}", str(srv.port)) \
        .replace("{root}", srv.root).replace("{state}", srv.state)
    with open(srv.conf, "w") as f:
        f.write(srv.config_text)
    # the access log is opened, and reopened, by the master (root), which
    # refuses a directory anyone can write (issue 14, item 5)
    os.chmod(srv.dir, 0o755)
    srv.ip = ip
    srv.pport = pport
    srv.name = "capsuled%d" % n
    return srv


def common_port(ips):
    """a port free on every one of these addresses"""
    for _ in range(50):
        p = free_port(host=ips[0])
        try:
            for ip in ips[1:]:
                s = socket.socket()
                s.bind((ip, p))
                s.close()
            return p
        except OSError:
            continue
    raise RuntimeError("no common free port")


def haproxy_config(hport, backends, sock, v6):
    """contrib/haproxy/haproxy.cfg with this test's addresses"""
    with open(os.path.join(TOP, "contrib", "haproxy", "haproxy.cfg")) as f:
        cfg = f.read()
    cfg = re.sub(r"(?m)^\tlog /dev/log local0$",
                 "\tlog stdout format raw local0\n"
                 "\tstats socket %s mode 600 level admin" % sock, cfg)
    bind = "\tbind 127.0.0.1:%d" % hport
    if v6:
        bind += "\n\tbind [::1]:%d" % hport
    cfg, n1 = re.subn(r"(?m)^\tbind :1965$", bind, cfg)
    cfg = re.sub(r"(?m)^\tmaxconn \d+$", "\tmaxconn 256", cfg)
    # the health check asks for the capsule at the backend's own port
    cfg = cfg.replace("inter 5s", "inter 1s")
    servers = "\n".join("\tserver %s %s:%d" % (b.name, b.ip, b.pport)
                        for b in backends)
    cfg, n3 = re.subn(r"gemini://localhost:1966/",
                      "gemini://localhost:%d/" % backends[0].pport, cfg)
    cfg, n2 = re.subn(r"(?m)(^\tserver capsuled\d 192\.0\.2\.\d+:1966\n?)+",
                      servers + "\n", cfg)
    if n1 != 1 or n2 != 1 or n3 != 1:
        raise RuntimeError("contrib/haproxy/haproxy.cfg changed shape: "
                           "bind %d, servers %d, check %d" % (n1, n2, n3))
    return cfg


def haproxy_stat(sock):
    """{server: status} from the stats socket"""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(sock)
        s.sendall(b"show stat\n")
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except OSError:
        return {}
    finally:
        s.close()
    lines = out.decode().splitlines()
    if not lines or not lines[0].startswith("# "):
        return {}
    cols = lines[0][2:].split(",")
    res = {}
    for l in lines[1:]:
        row = dict(zip(cols, l.split(",")))
        if row.get("pxname") == "capsuled" and \
                row.get("svname", "").startswith("capsuled"):
            res[row["svname"]] = (row.get("status"), row.get("check_status"))
    return res


V6 = have_v6()
tmp = tempfile.mkdtemp(prefix="haproxy-test-")
hap = None
backs = []
try:
    ips = ["127.0.0.11", "127.0.0.12"]
    pport = common_port(ips)
    backs = [make_instance(i + 1, ip, pport) for i, ip in enumerate(ips)]
    for b in backs:
        b.start()
        t.ok(wait_port(b.pport, host=b.ip),
             "%s listens on its proxy-listen port" % b.name, b.log())

    hport = free_port()
    sock = os.path.join(tmp, "haproxy.sock")
    cfgpath = os.path.join(tmp, "haproxy.cfg")
    with open(cfgpath, "w") as f:
        f.write(haproxy_config(hport, backs, sock, V6))
    chk = subprocess.run([HAPROXY, "-c", "-f", cfgpath],
                         capture_output=True, text=True)
    t.ok(chk.returncode == 0, "haproxy -c accepts the test config",
         chk.stdout + chk.stderr)
    hlog = open(os.path.join(tmp, "haproxy.log"), "wb")
    hap = subprocess.Popen([HAPROXY, "-db", "-f", cfgpath], stdout=hlog,
                           stderr=subprocess.STDOUT, cwd=tmp)
    t.ok(wait_port(hport), "haproxy listens")

    # 1. HAProxy's health checks (a gemini request after a PROXY v2 LOCAL
    # header) find both instances up
    up = wait_for(lambda: all(v[0] == "UP" and v[1] == "L7OK" for v in
                              haproxy_stat(sock).values())
                  and len(haproxy_stat(sock)) == 2, timeout=15)
    t.ok(up, "haproxy's gemini health checks pass on both instances",
         "%r" % haproxy_stat(sock))

    # 2. requests through HAProxy from 127.0.0.2: every one served, both
    # instances take some, and each logs 127.0.0.2, not HAProxy's address
    n = 8
    statuses = []
    for i in range(n):
        st, head = gemini_from("127.0.0.2", hport,
                               "gemini://localhost:%d/index.gmi" % hport)
        statuses.append(st)
    t.eq(statuses, [20] * n, "%d requests through haproxy all answered 20"
         % n)
    got = wait_for(lambda: sum(len(clients(b, "/index.gmi"))
                               for b in backs) >= n)
    per = [clients(b, "/index.gmi") for b in backs]
    t.ok(got, "every request is in an access log", "%r" % per)
    for b, c in zip(backs, per):
        t.ok(len(c) > 0, "%s served some of them (round robin)" % b.name,
             "%r" % per)
    t.ok(all(a == "127.0.0.2" for c in per for a in c) and
         sum(len(c) for c in per) == n,
         "both access logs show the client's address 127.0.0.2",
         "%r" % per)

    # 3. over IPv6 to HAProxy: the v6 client address crosses in the header
    if V6:
        st, head = gemini_from("::1", hport,
                               "gemini://localhost:%d/principles.gmi" % hport,
                               dst="::1")
        t.eq(st, 20, "a request to haproxy over IPv6 is answered 20")
        wait_for(lambda: sum(len(clients(b, "/principles.gmi"))
                             for b in backs) >= 1)
        got6 = [a for b in backs for a in clients(b, "/principles.gmi")]
        t.eq(got6, ["::1"], "the IPv6 client address is logged")
    else:
        t.skip("no ::1 here: the IPv6 client through haproxy not tried")

    b = backs[0]
    # 4. a proxy-listen listener refuses a connection with no PROXY header
    st, head = gemini_from("127.0.0.1", b.pport,
                           "gemini://localhost:%d/no-header" % b.pport,
                           dst=b.ip)
    t.ok(st is None, "proxy-listen refuses a TLS connection with no PROXY "
         "header", head)
    out = plain_exchange(b.pport, b"gemini://localhost/\r\n", host=b.ip)
    t.eq(out, b"", "proxy-listen closes a plain request with no PROXY "
         "header, answering nothing")
    out = plain_exchange(b.pport, b"PROXY TCP4 1.2.3.4 127.0.0.1 01 1965\r\n",
                         host=b.ip)
    t.eq(out, b"", "proxy-listen closes on a malformed PROXY header")
    t.ok(clients(b, "/no-header") == [],
         "nothing is logged as served without a header")

    # 5. PROXY v1 straight to a proxy-listen listener (send-proxy)
    st, head = gemini_after(b"PROXY TCP4 127.0.0.7 127.0.0.1 5555 1965\r\n",
                            b.ip, b.pport, "gemini://localhost/about.txt")
    t.eq(st, 20, "a PROXY v1 header then TLS is served")
    wait_for(lambda: clients(b, "/about.txt"))
    t.eq(clients(b, "/about.txt"), ["127.0.0.7"],
         "the v1 header's source address is logged")
    # the header's destination port is the one requests must name
    st, head = gemini_after(b"PROXY TCP4 127.0.0.7 127.0.0.1 5555 1965\r\n",
                            b.ip, b.pport, "gemini://localhost:%d/" % b.pport)
    t.eq(st, 53, "a request naming the backend's own port, not the "
         "header's, is refused (53)")

    # 6. a plain listener answers a PROXY header with 59 and never takes
    # the address from it
    for name, hdr in (("v1", b"PROXY TCP4 127.0.0.9 127.0.0.1 4444 1965\r\n"),
                      ("v2", V2SIG + b"\x21\x11\x00\x0c" +
                       bytes([127, 0, 0, 9, 127, 0, 0, 1, 17, 92, 7, 173]))):
        out = plain_exchange(b.port, hdr)
        t.ok(out.startswith(b"59 "), "a plain listener answers a PROXY %s "
             "header with 59" % name, repr(out))
    time.sleep(0.5)
    t.ok(all(l[1] != "127.0.0.9" for bb in backs for l in access_lines(bb)),
         "no address from a header on a plain listener is ever logged")
    r = request(b.port, "gemini://localhost:%d/" % b.port)
    t.eq(r.status, 20, "the plain listener still serves normal requests")

    t.ok(hap.poll() is None, "haproxy kept running")
finally:
    if hap is not None:
        hap.terminate()
        try:
            hap.wait(timeout=10)
        except subprocess.TimeoutExpired:
            hap.kill()
            hap.wait()
    for b in backs:
        if t.failed:
            for line in b.log().splitlines()[-15:]:
                print("# %s: %s" % (b.name, line))
        b.cleanup()
    if t.failed:
        try:
            with open(os.path.join(tmp, "haproxy.log")) as f:
                for line in f.read().splitlines()[-15:]:
                    print("# haproxy: %s" % line)
        except OSError:
            pass
    shutil.rmtree(tmp, ignore_errors=True)
t.done()

#!/usr/bin/env python3
"""issue 14's defects on the plain-text side, end to end: one line must
not take a worker down (URL: selectors, empty pages), a URL: selector
answers its own page and nothing else, a file name cannot write a link
line, and a hard link is not a way out of the root. real clients: curl
for gopher, netcat for finger, python's ssl for gemini."""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from gemtest import (TOP, Server, Tap, client_context, free_port,  # noqa
                     plain_request, request)

t = Tap()
work = tempfile.mkdtemp(prefix="plain-defects-")
os.chmod(work, 0o755)
root = os.path.join(work, "root")
subprocess.run(["cp", "-a", os.path.join(TOP, "capsule"), root], check=True)
os.makedirs(root + "/list")
os.makedirs(root + "/void")


def write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


write(root + "/empty.gmi", b"")
write(root + "/empty.bin", b"")
write(root + "/big.bin", os.urandom(8 * 1024 * 1024))
write(root + "/list/ok.gmi", "# Ok\n")
evil = "evil\n=> https:evil.example Click here to log in"
write(root + "/list/" + evil, "x\n")
write(root + "/list/tab\there.gmi", "# Tab\n")
write(root + "/list/bell\x07.gmi", "# Bell\n")
write(root + "/list/esc\x1b[31m.txt", "red\n")
write(root + "/list/c1\u0085.gmi", "# C1\n")
# a directory so named: asked for by its encoded url, its listing heading
os.makedirs(root + "/d\n=> https:evil.example x")
write(root + "/d\n=> https:evil.example x/f.gmi", "# F\n")
# hard links: to a file outside the root, and between two names inside
write(work + "/secret.txt", "outside the root: hard-linked\n")
os.link(work + "/secret.txt", root + "/passwd.txt")
os.link(work + "/secret.txt", root + "/list/passwd.gmi")
write(root + "/twin.gmi", "# Twin\n")
write(root + "/twin-link.gmi", "# Links\n\n=> twin.gmi Twin\n")
os.link(root + "/twin.gmi", root + "/twin2.gmi")
for dirpath, dirs, files in os.walk(work):
    os.chmod(dirpath, 0o755)
    for name in files:
        os.chmod(os.path.join(dirpath, name), 0o644)

gport, fport = free_port(), free_port()
srv = Server(root=root, workers=1, server="auto-index = true\n",
             top='gopher-listen = {"127.0.0.1:%d"}\n'
             'finger-listen = {"127.0.0.1:%d"}\n' % (gport, fport))
srv.start()


def gopher(selector, itemtype="1"):
    out = subprocess.run(
        ["curl", "-s", "--max-time", "10",
         "gopher://127.0.0.1:%d/%s%s" % (gport, itemtype, selector)],
        capture_output=True, timeout=20)
    return out.stdout


def finger(query):
    out = subprocess.run(["nc", "-N", "-w", "10", "127.0.0.1", str(fport)],
                         input=query, capture_output=True, timeout=20)
    return out.stdout


def killed():
    return re.findall(r"worker \d+ killed by signal \d+", srv.log())


# --- 1. one line must not take a worker down
worker = srv.worker_pid()
# a gemini download in flight on the same (only) worker
ctx = client_context()
raw = socket.create_connection(("127.0.0.1", srv.port), timeout=20)
dl = ctx.wrap_socket(raw, server_hostname="localhost")
dl.sendall(srv.url("/big.bin").encode() + b"\r\n")
got = dl.recv(65536)
html = plain_request(gport, b"URL:https://example.org/\r\n")
t.ok(b'href="https://example.org/"' in html and
     html.startswith(b"<!DOCTYPE html>"),
     "URL: selector answers the html page pointing at it", html[:300])
t.eq(finger(b"empty\r\n"), b"", "finger for an empty page: empty answer")
t.eq(plain_request(gport, b"/empty.bin\r\n"), b"",
     "gopher for an empty binary file: empty answer")
t.ok(plain_request(gport, b"/empty.gmi\r\n").endswith(b".\r\n"),
     "gopher for an empty page: a menu")
t.ok(b"mailto:enquiries@rmet.org" in
     plain_request(gport, b"URL:mailto:enquiries@rmet.org\r\n"),
     "the capsule's own mailto item answers")
try:
    while True:
        chunk = dl.recv(1 << 20)
        if not chunk:
            break
        got += chunk
except (OSError, socket.timeout) as e:
    t.ok(False, "the download was cut: %r" % e)
dl.close()
head, _, body = got.partition(b"\r\n")
t.eq((head, len(body)), (b"20 application/octet-stream", 8 * 1024 * 1024),
     "a gemini download on the same worker completes")
t.eq(killed(), [], "no worker was killed")
t.eq(srv.worker_pid(), worker, "the worker is the one that started")

# the access log records what was sent
log = srv.log()
t.ok(re.search(r'gopher "https://example\.org/" 20 %d ' % len(html), log),
     "the URL: request is logged with status 20 and its size", log[-2000:])
t.ok(re.search(r'finger "empty" 20 0 ', log),
     "the empty finger page is logged as 20 with 0 bytes")

# --- 2. a URL: selector is stripped once and nothing leaks between clients
leaks = 0
for _ in range(6):
    plain_request(gport, b"URL:ABCDhttps://victim.example/?session=SECRET"
                  b"\r\n")
    b = plain_request(gport, b"URL:a\r\n")
    if b"SECRET" in b or b"victim" in b:
        leaks += 1
    last = b
t.eq(leaks, 0, "one client's URL: selector never reaches another")
t.ok(b'href="a"' in last and b">a</a>" in last and last.count(b"href") == 1,
     "URL:a points at \"a\" and nothing else", last[:300])
b = plain_request(gport, b"URL:ABCDhttps://victim.example/\r\n")
t.ok(b'href="ABCDhttps://victim.example/"' in b,
     "URL: is stripped once, not twice", b[:300])
b = plain_request(gport, b'URL:https://e.org/?a=<b>&c="d"\'\r\n')
t.ok(b'href="https://e.org/?a=&lt;b&gt;&amp;c=&quot;d&quot;&#39;"' in b
     and b"<b>" not in b, "the url is html-escaped", b[:400])
b = plain_request(gport, b"URL:ftp://files.example/x\r\n")
t.ok(b'href="ftp://files.example/x"' in b, "any scheme gets its page")
t.eq(killed(), [], "still no worker killed")

# --- 3. a file name cannot write gemtext, a menu line or finger text
r = request(srv.port, srv.url("/list/"))
lines = r.body.decode("utf-8", "replace").split("\n")
t.eq(r.status, 20, "the auto-index listing is served")
t.ok(not any(l.startswith("=> https:evil.example") for l in lines),
     "a name with a newline does not become a link line", r.body)
t.ok(not re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", r.body.replace(b"\n", b""))
     and b"\xc2\x85" not in r.body,
     "no control character from a name reaches the listing", r.body)
t.ok(b"ok.gmi" in r.body, "ordinary names are still listed")
menu = gopher("/list/")
t.ok(b"evil" not in menu and b"\x1b" not in menu and b"\x07" not in menu
     and b"\xc2\x85" not in menu, "nor the gopher menu", menu)
t.ok(b"\tOk\t" in menu or b"Ok\t/list/ok.gmi" in menu,
     "the gopher menu still lists ordinary pages", menu)
r = request(srv.port, srv.url("/d%0A=%3E%20https:evil.example%20x/"))
t.ok(r.status == 20 and b"f.gmi" in r.body and
     not any(l.startswith(b"=> https:evil") for l in r.body.split(b"\n")),
     "a requested path cannot write a line into the listing heading",
     r.body)
t.ok(b"evil" not in request(srv.port, srv.url("/")).body and
     b"evil" not in plain_request(gport, b"/\r\n"),
     "nor is such a directory named in its parent")

# with auto-index on, the gopher root is still the home page as a menu
top = plain_request(gport, b"\r\n")
t.ok(top.startswith(b"iThe Teaching School") and
     b"\t/principles.gmi\t" in top and b"/big.bin" not in top,
     "gopher root: index.gmi as a menu, not a file list", top[:300])
# and a menu does not offer an item that would not be served
twin = plain_request(gport, b"/twin-link.gmi\r\n")
t.ok(b"\t/twin.gmi\t" not in twin and b"<twin.gmi>" in twin,
     "a link to a hard-linked page is an info line, not an item", twin)

# --- 8. an empty directory listed (qsort(NULL, 0) is undefined behaviour:
# the sanitizer build's worker aborted here)
r = request(srv.port, srv.url("/void/"))
t.eq((r.status, r.body), (20, b"# Index of /void/\n\n"),
     "gemini: an empty directory is an empty listing")
t.eq(plain_request(gport, b"/void/\r\n"), b".\r\n",
     "gopher: an empty directory is an empty menu")

# --- 7. hard links are not served
for proto, got, refused in (
        ("gemini", request(srv.port, srv.url("/passwd.txt")), None),
        ("gemini (listing dir)", request(srv.port,
                                         srv.url("/list/passwd.gmi")), None),
        ("gemini (both inside)", request(srv.port, srv.url("/twin.gmi")),
         None)):
    t.ok(got.status == 51 and b"outside" not in got.raw,
         "%s: a hard-linked file is not served" % proto, got)
g = plain_request(gport, b"/passwd.txt\r\n")
t.ok(g.startswith(b"3") and b"outside" not in g,
     "gopher: a hard-linked file is not served", g)
g = plain_request(gport, b"/list/passwd.txt\r\n")
t.ok(g.startswith(b"3") and b"outside" not in g,
     "gopher: nor its plain-text rendering", g)
f = finger(b"passwd\r\n")
t.ok(f.startswith(b"no such page") and b"outside" not in f,
     "finger: a hard-linked file is not served", f)
t.ok(srv.wait_log("passwd.txt") and
     re.search(r"passwd\.txt.*(hard )?link", srv.log()),
     "the refusal is logged naming the path", srv.log()[-1500:])

srv.cleanup()
subprocess.run(["rm", "-rf", work])
t.done()

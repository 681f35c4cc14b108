#!/usr/bin/env python3
"""what a stranger's capsule holds, seen through every listing: a gemini
auto-index, a gopher directory menu and the finger list offer only what
asking for would serve. fifos, devices, hard links, symlinks out of the
root or in a loop, unreadable files and directories are not offered; every
item that is offered answers. real clients: python's ssl for gemini, raw
sockets for gopher and finger."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from gemtest import TOP, Server, Tap, free_port, plain_request, request  # noqa

t = Tap()
work = tempfile.mkdtemp(prefix="plain-attack-")
os.chmod(work, 0o755)
root = os.path.join(work, "root")
subprocess.run(["cp", "-a", os.path.join(TOP, "capsule"), root], check=True)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


odd = root + "/odd"
os.makedirs(odd + "/empty")
os.makedirs(root + "/sub")
write(root + "/sub/index.gmi", "# Sub\n")
write(odd + "/ok.gmi", "# Ok page\n")
write(odd + "/plain.txt", "plain\n")
write(odd + "/with space.gmi", "# Spaced\n")
write(odd + "/pct%41.txt", "percent\n")
# over gopher's 8 MB plain-text limit, still served over gemini
write(odd + "/big.gmi", b"# Big\n" + (b"x" * 79 + b"\n") * (9 * 1024 * 1024
                                                       // 80))
subprocess.run(["cp", odd + "/big.gmi", root + "/huge.gmi"], check=True)
os.mkfifo(odd + "/pipe.gmi")
os.mkfifo(odd + "/pipe.txt")
os.mkfifo(root + "/pipe.gmi")           # a finger name too
if os.geteuid() == 0:
    os.mknod(odd + "/null.txt", 0o666 | 0o020000, os.makedev(1, 3))
write(work + "/outside.txt", "outside the root\n")
os.link(work + "/outside.txt", odd + "/hard.gmi")
os.link(work + "/outside.txt", root + "/hard.txt")
os.symlink("/etc", odd + "/etc-out")
os.symlink("/etc/passwd", odd + "/passwd.txt")
os.symlink("loop-b", odd + "/loop-a")
os.symlink("loop-a", odd + "/loop-b")
os.symlink("../sub", odd + "/sub-in")   # a symlink to a directory inside
write(odd + "/locked.txt", "locked\n")
os.makedirs(odd + "/shut")
write(odd + "/shut/x.txt", "x\n")
for dirpath, dirs, files in os.walk(work):
    os.chmod(dirpath, 0o755)
    for name in files:
        p = os.path.join(dirpath, name)
        if not os.path.islink(p):
            os.chmod(p, 0o644)
os.chmod(odd + "/locked.txt", 0)
os.chmod(odd + "/shut", 0)

# a page linking to renderings whose .gmi would not be served
write(root + "/links.gmi", "# Links\n\n=> odd/hard.txt Hard\n"
      "=> huge.txt Huge\n=> odd/pipe.txt Pipe\n=> odd/ok.txt Ok text\n"
      "=> odd/ok.gmi Ok\n=> odd/sub-in/ Sub\n=> odd/shut/ Shut\n")
REFUSED = ["pipe.gmi", "pipe.txt", "null.txt", "hard.gmi", "etc-out",
           "passwd.txt", "loop-a", "loop-b", "locked.txt", "shut"]
SERVED = ["ok.gmi", "plain.txt", "with space.gmi", "pct%41.txt", "empty"]

gport, fport = free_port(), free_port()
srv = Server(root=root, workers=1, server="auto-index = true\n",
             top='gopher-listen = {"127.0.0.1:%d"}\n'
             'finger-listen = {"127.0.0.1:%d"}\n' % (gport, fport))
srv.start()


def killed():
    return re.findall(r"worker \d+ killed by signal \d+", srv.log())


try:
    # --- gemini: the auto-index
    r = request(srv.port, srv.url("/odd/"))
    links = [l.split(" ", 2)[1] for l in r.text().split("\n")
             if l.startswith("=> ")]
    t.eq(r.status, 20, "gemini: the listing is served")
    t.eq(sorted(n for n in REFUSED if n in links or n + "/" in links), [],
         "gemini: the listing offers no fifo, device, hard link, symlink "
         "out or in a loop, unreadable file or directory")
    t.ok(all(n in links or n + "/" in links or n.replace(" ", "%20") in
             links or n.replace("%", "%25") in links for n in SERVED) and
         "big.gmi" in links, "gemini: what is served is still listed",
         links)
    t.ok("sub-in/" in links,
         "gemini: a symlink to a directory inside is listed as one", links)
    bad = []
    for link in links:
        got = request(srv.port, srv.url("/odd/" + link))
        if got.status != 20:
            bad.append((link, got.status))
    t.eq(bad, [], "gemini: every listed link answers 20")

    # --- gopher: the directory menu
    menu = plain_request(gport, b"/odd/\r\n")
    items = [l.split(b"\t") for l in menu.split(b"\r\n")
             if l and l != b"." and not l.startswith(b"i")]
    sels = [i[1].decode() for i in items if len(i) == 4]
    t.ok(menu.endswith(b".\r\n") and len(sels) == len(items),
         "gopher: the menu is well formed", menu)
    t.eq(sorted(n for n in REFUSED + ["big.gmi"]
                if "/odd/" + n in sels or "/odd/" + n + "/" in sels), [],
         "gopher: the menu offers nothing refused, nor a page over the "
         "plain-text limit")
    t.ok(all("/odd/" + n in sels or "/odd/" + n + "/" in sels
             for n in SERVED), "gopher: what is served is still offered",
         sels)
    t.ok(any(i[1] == b"/odd/sub-in/" and i[0][:1] == b"1" for i in items),
         "gopher: a symlink to a directory inside is a menu item", menu)
    bad = []
    for it in items:
        got = plain_request(gport, it[1] + b"\r\n")
        if got.startswith(b"3"):
            bad.append((it[0][:1] + it[1], got[:60]))
    t.eq(bad, [], "gopher: every item offered answers, none with an error")

    # a page's links: an item only where asking for it serves
    menu = plain_request(gport, b"/links.gmi\r\n")
    items = [l.split(b"\t") for l in menu.split(b"\r\n")
             if l and l != b"." and not l.startswith(b"i")]
    sels = sorted(i[1] for i in items)
    t.eq(sels, [b"/links.txt", b"/odd/ok.gmi", b"/odd/ok.txt",
                b"/odd/sub-in/"],
         "gopher: a page's links to refused or oversized pages (or their "
         ".txt renderings) are info lines, not items")
    bad = [i[1] for i in items
           if plain_request(gport, i[1] + b"\r\n").startswith(b"3")]
    t.eq(bad, [], "gopher: every item of the page answers")

    # --- finger: the list of names
    lst = plain_request(fport, b"\r\n").decode("utf-8", "replace")
    names = [l.split()[0] for l in lst.split("\r\n")[2:] if l.strip()]
    t.ok("about" in names and "pipe" not in names and "hard" not in names,
         "finger: the list offers no fifo or hard link", lst)
    bad = [n for n in names
           if plain_request(fport, n.encode() + b"\r\n").startswith(
               b"no such page")]
    t.eq(bad, [], "finger: every name listed answers")
    # a page over the 8 MB finger serves from memory is not "missing":
    # the answer matches the 50 the log records
    got = plain_request(fport, b"huge\r\n")
    t.ok(got.startswith(b"cannot serve that page: huge") and
         got.count(b"\r\n") == 1, "finger: a page too large is not "
         "called missing", got[:100])
    t.ok(srv.wait_log('finger "huge" 50 '), "finger: logged as 50")
    t.ok(plain_request(fport, b"nosuch\r\n") == b"no such page: nosuch\r\n"
         and srv.wait_log('finger "nosuch" 51 '),
         "finger: a missing page is still \"no such page\", logged 51")

    # --- the access log: what a stranger sends arrives as printable utf-8
    plain_request(gport, b"/\xff\x9b\xc2\x9b31m\r\n")
    # the selector's closing quote: a duration like "31ms" matches "31m"
    srv.wait_log('31m" ')
    with open(srv.logfile, "rb") as f:
        raw = f.read()
    t.ok(b'gopher "/\\xff\\x9b\\xc2\\x9b31m" 51 ' in raw,
         "log: raw 8-bit bytes and c1 controls in a selector are escaped",
         [l for l in raw.split(b"\n") if b"31m" in l])
    try:
        raw.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    t.ok(utf8, "log: the whole log is still utf-8 text")
    t.eq(killed(), [], "no worker was killed")
finally:
    srv.cleanup()
    os.chmod(odd + "/shut", 0o755)
    subprocess.run(["rm", "-rf", work])
t.done()

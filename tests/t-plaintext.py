#!/usr/bin/env python3
"""the capsule over gopher (curl) and finger (netcat): every page as a
menu and as text, links that work, nothing outside the root."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from gemtest import TOP, Server, Tap, free_port, plain_request  # noqa

t = Tap()
capsule = os.path.join(TOP, "capsule")
work = tempfile.mkdtemp(prefix="plaintext-")
os.chmod(work, 0o755)
root = os.path.join(work, "root")
subprocess.run(["cp", "-a", capsule, root], check=True)
os.chmod(root, 0o755)
os.makedirs(root + "/sub")
os.makedirs(root + "/noindex")
with open(root + "/noindex/a.gmi", "w") as f:
    f.write("# A\n")
with open(root + "/sub/index.gmi", "w") as f:
    f.write("# Sub\n\n=> ../index.gmi Back home\n")
with open(root + "/dots.gmi", "w") as f:
    f.write("# Dots\n\n.starts with a dot\n..two dots\n")
with open(root + "/notes.txt", "w") as f:
    f.write(".hidden line start\nplain\n")
with open(root + "/.secret.gmi", "w") as f:
    f.write("# Secret\n")
# two pages whose names differ only in case: each is reached by its own
# exact name, so the finger list must offer both
with open(root + "/Case.gmi", "w") as f:
    f.write("# Upper case\n")
with open(root + "/case.gmi", "w") as f:
    f.write("# Lower case\n")
outside = os.path.join(work, "outside.txt")
with open(outside, "w") as f:
    f.write("outside the root\n")
os.symlink(outside, root + "/escape.txt")
os.symlink(outside, root + "/escape.gmi")
for dirpath, dirs, files in os.walk(work):
    os.chmod(dirpath, 0o755)
    for name in files:
        os.chmod(os.path.join(dirpath, name), 0o644)

gport, fport = free_port(), free_port()
srv = Server(root=root, top='gopher-listen = {"127.0.0.1:%d"}\n'
             'finger-listen = {"127.0.0.1:%d"}\nrequest-timeout = 2\n'
             % (gport, fport))
srv.start()


def gopher(selector, itemtype="1"):
    """curl, the real client: gopher://host:port/<type><selector>"""
    out = subprocess.run(
        ["curl", "-s", "--max-time", "10",
         "gopher://127.0.0.1:%d/%s%s" % (gport, itemtype, selector)],
        capture_output=True, timeout=20)
    return out.stdout


def finger(query):
    out = subprocess.run(["nc", "-N", "-w", "10", "127.0.0.1",
                          str(fport)], input=query, capture_output=True,
                         timeout=20)
    return out.stdout


def menu_items(data):
    items = []
    for line in data.decode("utf-8", "replace").split("\r\n"):
        if line in ("", "."):
            continue
        fields = line[1:].split("\t")
        items.append((line[0], fields[0], fields[1] if len(fields) > 1
                      else "", fields[2:]))
    return items


# the root menu is index.gmi as a menu (auto-index is off here), not a
# list of files: its heading as an info line, its links as items
top = gopher("/")
items = menu_items(top)
with open(os.path.join(capsule, "index.gmi")) as f:
    index_src = f.read()
h1 = re.search(r"^# (.*)$", index_src, re.M).group(1)
t.ok(items and items[0][0] == "i" and items[0][1] == h1,
     "the root menu starts with the home page's heading", top[:300])
for target, label in re.findall(r"^=> (\S+)\s+(.*)$", index_src, re.M):
    typ = "0" if target.endswith(".txt") else "1"
    t.ok((typ, label, "/" + target) in
         [(ty, d, sel) for ty, d, sel, _ in items],
         "the root menu has index.gmi's link to %s" % target)
t.ok(not any(sel in ("/dots.gmi", "/notes.txt", "/sub/")
             for typ, d, sel, _ in items),
     "the root menu is not a list of the root's files")
t.ok(top.endswith(b".\r\n"), "the menu ends with a lone dot")
t.ok(all(len(rest) >= 2 and rest[0] == "localhost" and
         rest[1] == str(gport) for typ, d, s, rest in items if typ != "i"),
     "items name the server and the gopher port")
# a directory is its index page as a menu; without one (and without
# auto-index) it is not found, as on gemini
sub = menu_items(gopher("/sub/"))
t.ok(("1", "Back home", "/index.gmi") in [(ty, d, sel) for ty, d, sel, _
                                          in sub],
     "a directory is its index page as a menu, links resolved from it")
t.eq(menu_items(gopher("/sub"))[:3], sub[:3],
     "a directory without its slash is the same menu")
data = plain_request(gport, b"/noindex/\r\n")
t.ok(data.startswith(b"3") and b"a.gmi" not in data,
     "a directory without an index is not listed (auto-index off)", data)

# every page as a menu and as text
# every link inside the capsule works
pages = sorted(p for p in os.listdir(capsule) if p.endswith(".gmi"))
for page in pages:
    data = gopher("/" + page)
    t.ok(data.endswith(b".\r\n") and not data.startswith(b"3"),
         "/%s is a menu" % page)
    its = menu_items(data)
    t.ok(its and its[-1][0] == "0" and
         its[-1][2] == "/" + page[:-4] + ".txt",
         "/%s ends with a plain-text item" % page)
    for typ, disp, sel, rest in its:
        if typ in "01" and rest and rest[0] == "localhost":
            got = gopher(sel, typ)
            t.ok(got and not got.startswith(b"3"),
                 "link %r on /%s works (%s)" % (sel, page, typ))
        if typ == "h":
            t.ok(sel.startswith("URL:"), "external link %r is a URL: "
                 "item" % sel)
    text = gopher("/" + page[:-4] + ".txt", "0")
    with open(os.path.join(capsule, page)) as f:
        h1 = next((l[2:].strip() for l in f if l.startswith("# ")), "")
    t.ok(text.startswith(h1.encode()) and text.endswith(b"\r\n.\r\n"),
         "/%s as plain text starts with its heading, ends with ." %
         page[:-4])
    t.ok(b"=> " not in text, "no gemtext link syntax in the text of %s"
         % page)
    # links to this capsule are gopher urls a gopher client follows
    t.ok(b"gemini://localhost/" not in text,
         "the text of %s has no gemini url to this capsule" % page)
    for url in re.findall(rb"gopher://localhost:%d/\S+" % gport, text):
        got = subprocess.run(["curl", "-s", "--max-time", "10", url],
                             capture_output=True, timeout=20).stdout
        t.ok(got and not got.startswith(b"3"),
             "text of %s: %s can be followed" % (page, url.decode()))

# a real .txt is served as it is, dot-stuffed
t.ok(gopher("/about.txt", "0").startswith(
    open(os.path.join(capsule, "about.txt"), "rb").read()[:40]),
    "a real .txt file is served")
t.eq(gopher("/notes.txt", "0"), b"..hidden line start\r\nplain\r\n.\r\n",
     "dot-stuffing: a line starting with . gets another")
t.ok(b"\r\n..starts with a dot" in gopher("/dots.txt", "0"),
     "dot-stuffing in rendered text")
enq = gopher("/enquiries.gmi")
t.ok(b"URL:mailto:enquiries@rmet.org" in enq,
     "the mailto link is an h item with a URL: selector")

# refused: traversal, dot-files, symlinks out, long or bad selectors
for sel in ("/../etc/passwd", "/sub/../../etc/passwd", "/..",
            "/escape.txt", "/escape.gmi", "/.secret.gmi",
            "/missing.gmi"):
    data = plain_request(gport, sel.encode() + b"\r\n")
    t.ok(data.startswith(b"3") and b"outside the root" not in data and
         data.endswith(b".\r\n"), "gopher %s gets a type-3 error" % sel,
         data[:200])
data = plain_request(gport, b"/" + b"a" * 300 + b"\r\n")
t.ok(data.startswith(b"3"), "a selector over 255 bytes is an error")
data = plain_request(gport, b"/index.gmi\x01\r\n")
t.ok(data.startswith(b"3"), "a control byte in a selector is an error")
data = plain_request(gport, b"/about.txt\tsearch terms\r\n")
t.ok(data.startswith(b"The"), "anything after a tab is ignored")
data = plain_request(gport, b"/about.txt\n")
t.ok(data.startswith(b"The"), "a bare LF ends the selector")

# finger
listing = finger(b"\r\n")
names = [l.split()[0].decode() for l in listing.split(b"\r\n")[2:] if l]
t.ok(listing.startswith(b"Pages here: finger NAME@localhost") and
     "principles" in names and "index" in names and "about" in names,
     "finger @host lists the page names one can finger", listing[:400])
t.ok(re.search(rb"\r\nprinciples +Our Core Principles\r\n", listing),
     "a page is listed with its title", listing)
t.ok("escape" not in names and "secret" not in names and
     ".secret" not in names, "names that are not served are not listed",
     names)
t.eq(finger(b"/W\r\n"), listing, "/W alone lists them too")
t.ok(all(not finger(n.encode() + b"\r\n").startswith(b"no such page")
         for n in names), "every listed name can be fingered")
t.ok(b"\r\n" in listing and b"\n" not in listing.replace(b"\r\n", b""),
     "finger lines end in CRLF")
idx = finger(b"index\r\n")
t.ok(idx.startswith(b"The Teaching School") and b"=> " not in idx,
     "finger index@host gives the home page as plain text", idx[:200])
p = finger(b"principles\r\n")
t.ok(p.startswith(b"Our Core Principles"), "finger principles@host")
t.eq(finger(b"PRINCIPLES\r\n"), p, "finger names are case-insensitive")
t.eq(finger(b"Principles.gmi\r\n"), p, "the file name works too")
t.eq(finger(b"/W principles\r\n"), p, "/W is accepted and ignored")
about = finger(b"about\r\n")
t.ok(about.startswith(b"The Teaching School"),
     "finger NAME falls back to NAME.txt")
t.ok(b"principles.gmi" not in about and b"finger principles@" in about,
     "about.txt tells finger readers the names that work")
t.ok(b"refused" in finger(b"principles@example.org\r\n"),
     "forwarding is refused")
for q in (b"nosuchpage\r\n", b"../etc/passwd\r\n", b"escape\r\n",
          b".secret\r\n", b"sub/index\r\n"):
    got = finger(q)
    t.ok(got.startswith(b"no such page") and got.count(b"\r\n") == 1,
         "finger %r: one line, no such page" % q, got[:100])

# a silent client is closed by the request timeout
import socket, time  # noqa
s = socket.create_connection(("127.0.0.1", gport), timeout=10)
start = time.time()
t.ok(s.recv(10) == b"" and time.time() - start < 8,
     "a silent gopher client is closed by the timeout")
s.close()
lst = finger(b"\r\n").decode("utf-8", "replace")
t.ok(re.search(r"^Case +Upper case\r?$", lst, re.M) and
     re.search(r"^case +Lower case\r?$", lst, re.M),
     "the finger list offers both names that differ only in case", lst)
t.ok(b"Lower case" in finger(b"case\r\n") and
     b"Upper case" in finger(b"Case\r\n"),
     "and each name reaches its own page")
log = srv.log()
t.ok(re.search(r'127\.0\.0\.1 gopher "/about\.txt" 20 \d+', log),
     "gopher requests are logged like gemini ones")
t.ok(re.search(r'127\.0\.0\.1 finger "principles" 20 \d+', log),
     "finger requests are logged")
srv.cleanup()
subprocess.run(["rm", "-rf", work])
t.done()

#!/usr/bin/env python3
"""location blocks through real clients: redirects of a moved directory
($path, relative and absolute targets, 30 and 31), status 52 and a 4x/5x
with its meta, per-path auto-index, lang and default-type, client
certificates (none, a fresh self-signed one, an expired one, a listed one,
listed in either hex case with colons) over python's ssl, a certificate
request only from the servers that have a client-cert location (openssl
s_client), the same rules over gopher and finger, and configuration
errors on their own lines (capsuled -n)."""
import datetime
import ssl
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from gemtest import (CAPSULED, Server, Tap, client_context, free_port,  # noqa
                     plain_request, request)

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
except ImportError:
    print("not ok - python3-cryptography is missing (contrib/deps.sh test)")
    sys.exit(1)

t = Tap()
work = tempfile.mkdtemp(prefix="location-")
os.chmod(work, 0o755)


def write(rel, text):
    path = os.path.join(work, "root", rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def make_cert(name, days_from, days_to):
    """a self-signed ec certificate valid from now+days_from to now+days_to:
    (certfile, keyfile, sha-256 of its der)"""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject)
            .issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=days_from))
            .not_valid_after(now + datetime.timedelta(days=days_to))
            .sign(key, hashes.SHA256()))
    certfile = os.path.join(work, name + ".crt")
    keyfile = os.path.join(work, name + ".key")
    with open(certfile, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(keyfile, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return certfile, keyfile, cert.fingerprint(hashes.SHA256()).hex()


def with_cert(cert):
    ctx = client_context()
    ctx.load_cert_chain(cert[0], cert[1])
    return ctx


def colons(hexfp):
    return ":".join(hexfp[i:i + 2] for i in range(0, len(hexfp), 2))


listed = make_cert("listed", -1, 30)
listed_upper = make_cert("listed-upper", -1, 30)
fresh = make_cert("fresh", -1, 30)
expired = make_cert("expired", -30, -1)
future = make_cert("future", 10, 40)

write("index.gmi", "# Home\n\n=> diary.gmi My diary\n=> new/a.gmi A\n")
write("new/a.gmi", "# Page A\n\nNEW A\n")
write("new/sub/b.gmi", "# Page B\n\nNEW B\n")
write("new/index.gmi", "# New\n\nNEW INDEX\n")
write("private/secret.gmi", "# Secret\n\nTOP SECRET\n")
write("members/list.gmi", "# Members\n\nMEMBERS ONLY\n")
write("pub/a.gmi", "# Pub a\n")
write("pub/data.xyz", "some data\n")
write("list/open.gmi", "# Open\n\nOPEN PAGE\n")
write("list/secret.gmi", "# List secret\n\nLIST SECRET\n")
write("list/gone.gmi", "# Gone\n\nGONE PAGE\n")
write("diary.gmi", "# Diary\n\nDEAR DIARY\n")
write("moved.gmi", "# Moved\n\nOLD CONTENT\n")
write("oldnews.gmi", "# Old news\n\nOLD NEWS\n")
write("welcome.gmi", "# Welcome\n\nWELCOME\n")
# symbolic links leading into guarded places under other names
os.symlink("private", os.path.join(work, "root", "public-link"))
os.symlink("private/secret.gmi", os.path.join(work, "root", "peek.gmi"))
os.symlink("../private/secret.gmi", os.path.join(work, "root", "list",
                                                 "peek.gmi"))
os.symlink("oldnews.gmi", os.path.join(work, "root", "news-link.gmi"))
os.symlink("welcome.gmi", os.path.join(work, "root", "hello.gmi"))
for dirpath, dirs, files in os.walk(work):
    os.chmod(dirpath, 0o755)
    for n in files:
        os.chmod(os.path.join(dirpath, n), 0o644)

LOCATIONS = """
  location "/old/*" { redirect = "/new/$path" permanent = true }
  location "/rel/*.gmi" { redirect = "../new/a.gmi" }
  location "/here/*.txt" { redirect = "page.gmi" }
  location "/away" { redirect = "gemini://elsewhere.example/page" }
  location "/hop" { redirect = "/old/a.gmi" }
  location "/gone.gmi" { status = 52 }
  location "/maint/*" {
    status = 41
    meta = "back at noon"
  }
  location "/members/*" { client-cert = "required" }
  location "/private/*" {
    client-cert = "required"
    allow = {"sha256:%s", "SHA256:%s"}
  }
  location "/pub/*" {
    auto-index = true
    lang = "fr"
    default-type = "text/x-capsule"
  }
  location "/list/secret.gmi" { client-cert = "required" }
  location "/list/gone.gmi" { status = 52 }
  location "/list/*" { auto-index = true }
  location "/diary.gmi" { client-cert = "required" }
  location "/moved.gmi" { redirect = "/new/a.gmi" }
  location "/oldnews.gmi" { status = 52 }
""" % (listed[2], colons(listed_upper[2].upper()))

gport, fport = free_port(), free_port()
srv = Server(root=os.path.join(work, "root"), server=LOCATIONS,
             top='gopher-listen = {"127.0.0.1:%d"}\n'
                 'finger-listen = {"127.0.0.1:%d"}\n' % (gport, fport))
srv.start()
port = srv.port


def get(path, ctx=None, host="localhost"):
    return request(port, "gemini://%s:%d%s" % (host, port, path), ctx=ctx)


# 1. redirects: the path asked for, the status and the target (None: the
# server's own host and port go before a path)
HERE = "gemini://localhost:%d" % port
for path, status, where, name in [
        ("/old/a.gmi", 31, "/new/a.gmi",
         "a moved directory: 31 to the same page under /new/"),
        ("/old/sub/b.gmi", 31, "/new/sub/b.gmi",
         "$path keeps the whole rest of the path"),
        ("/old/", 31, "/new/", "the directory itself moves too"),
        ("/old/a%20b.gmi", 31, "/new/a%20b.gmi", "$path is encoded again"),
        ("/ol%64/../old/./a.gmi", 31, "/new/a.gmi",
         "the pattern sees the clean, decoded path"),
        ("/OLD/a.gmi", 51, None, "patterns are case-sensitive"),
        ("/old", 51, None, "/old/* is not /old"),
        ("/rel/x.gmi", 30, "/new/a.gmi",
         "a relative target with .. resolves against the request: 30"),
        ("/here/x/y.txt", 30, "/here/x/page.gmi",
         "a relative target goes on from the request's directory"),
        ("/away", 30, "gemini://elsewhere.example/page",
         "an absolute target is kept as written")]:
    r = get(path)
    meta = "not found" if where is None else \
        where if where.startswith("gemini:") else HERE + where
    t.eq((r.status, r.meta), (status, meta), name)
r = get("/new/a.gmi")
t.ok(r.status == 20 and "NEW A" in r.text(), "the target is served", r)
r = request(port, "gemini://127.0.0.1:%d/old/a.gmi" % port)
t.eq(r.meta, "gemini://127.0.0.1:%d/new/a.gmi" % port,
     "the redirect keeps the host the request named")

# 2. statuses
r = get("/gone.gmi")
t.eq((r.status, r.meta), (52, "gone"), "status 52 without a file")
r = get("/maint/x.gmi")
t.eq((r.status, r.meta), (41, "back at noon"), "a 4x with its meta line")

# 3. per-path options
r = get("/pub/")
t.ok(r.status == 20 and "=> a.gmi" in r.text() and
     "=> data.xyz" in r.text(), "auto-index in one directory only", r)
t.eq(r.meta, "text/gemini; lang=fr", "lang for that directory")
r = get("/new/")
t.eq(r.meta, "text/gemini; lang=en-GB", "the server's lang elsewhere")
r = get("/pub/data.xyz")
t.eq(r.meta, "text/x-capsule", "default-type for a name mime does not know")
r = get("/pub/a.gmi")
t.eq(r.meta, "text/gemini; lang=fr", "a known type keeps its own")
r = get("/")
t.ok(r.status == 20 and "Home" in r.text(), "the root is untouched", r)

# 4. client certificates
r = get("/private/secret.gmi")
t.eq(r.status, 60, "no certificate: 60")
t.ok("TOP SECRET" not in r.text(), "and nothing of the page")
r = get("/private/secret.gmi", with_cert(fresh))
t.eq(r.status, 61, "a fresh self-signed certificate not listed: 61")
r = get("/private/secret.gmi", with_cert(expired))
t.eq(r.status, 62, "an expired certificate: 62")
r = get("/private/secret.gmi", with_cert(future))
t.eq(r.status, 62, "a certificate not valid yet: 62")
r = get("/private/secret.gmi", with_cert(listed))
t.ok(r.status == 20 and "TOP SECRET" in r.text(),
     "a listed certificate (lower-case hex): served", r)
r = get("/private/secret.gmi", with_cert(listed_upper))
t.ok(r.status == 20 and "TOP SECRET" in r.text(),
     "a listed certificate (upper-case hex with colons): served", r)
r = get("/private/../private/secret.gmi", with_cert(fresh))
t.eq(r.status, 61, "a dotted path is cleaned before it is matched")
r = get("/private", with_cert(fresh))
t.eq(r.status, 31, "the directory without its slash: add it first")
r = get("/members/list.gmi")
t.eq(r.status, 60, "an area for any certificate: 60 without one")
r = get("/members/list.gmi", with_cert(fresh))
t.ok(r.status == 20 and "MEMBERS ONLY" in r.text(),
     "and any certificate in its dates opens it", r)
r = get("/members/list.gmi", with_cert(expired))
t.eq(r.status, 62, "but not an expired one")
r = get("/new/a.gmi", with_cert(fresh))
t.eq(r.status, 20, "a certificate elsewhere changes nothing")
# a resumed session keeps the certificate it was made with (tls 1.2:
# tls 1.3 tickets are off by default, tls13-tickets)
ctx = with_cert(listed)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
r1 = request(port, srv.url("/private/secret.gmi"), ctx=ctx,
             want_session=True)
r2 = request(port, srv.url("/private/secret.gmi"), ctx=ctx,
             session=getattr(r1, "session", None), want_session=True)
t.ok(r1.status == 20 and r2.status == 20 and
     getattr(r2, "session_reused", False),
     "a resumed session keeps its certificate", (r1, r2))

# symbolic links: where a path really leads is guarded too
r = get("/public-link/secret.gmi")
t.eq(r.status, 60, "a symlinked directory into a guarded one: 60")
t.ok("TOP SECRET" not in r.text(), "and nothing of the page")
r = get("/public-link/secret.gmi", with_cert(fresh))
t.eq(r.status, 61, "with a certificate not listed: 61")
r = get("/public-link/secret.gmi", with_cert(listed))
t.ok(r.status == 20 and "TOP SECRET" in r.text(),
     "with a listed one: served", r)
r = get("/public-link/")
t.eq(r.status, 60, "the symlinked directory itself: 60")
r = get("/peek.gmi")
t.eq(r.status, 60, "a symlinked file into a guarded directory: 60")
r = get("/news-link.gmi")
t.eq(r.status, 52, "a symlink to a page with a status: that status")
r = get("/hello.gmi")
t.ok(r.status == 20 and "WELCOME" in r.text(),
     "a symlink to an open page is served as before", r)

# 5. gopher and finger
def gopher(selector):
    return plain_request(gport, selector.encode() + b"\r\n") \
        .decode("utf-8", "replace")


def finger(query):
    return plain_request(fport, query.encode() + b"\r\n") \
        .decode("utf-8", "replace")


menu = gopher("/list/")
t.ok("open.gmi" in menu and "Open" in menu, "a gopher menu lists the open "
     "page", menu)
t.ok("/list/secret.gmi" not in menu and "/list/gone.gmi" not in menu,
     "but neither the protected nor the blocked one", menu)
t.ok("LIST SECRET" not in gopher("/list/secret.gmi"),
     "a protected page is not served over gopher")
t.ok("GONE PAGE" not in gopher("/list/gone.gmi"),
     "nor a blocked one")
t.ok("TOP SECRET" not in gopher("/private/secret.gmi"),
     "nor one only a listed certificate opens")
t.ok("TOP SECRET" not in gopher("/public-link/secret.gmi") and
     "TOP SECRET" not in gopher("/peek.gmi"),
     "nor one reached through a symbolic link")
t.ok("peek.gmi" not in menu, "a menu leaves out a link into a guarded "
     "place", menu)
t.ok("WELCOME" in gopher("/hello.gmi"), "a symlink to an open page is "
     "served over gopher")
t.ok("NEW A" in gopher("/old/a.gmi"),
     "a redirect inside the capsule is followed over gopher")
t.ok("NEW A" not in gopher("/hop"),
     "but only once (/hop -> /old/a.gmi -> /new/a.gmi is not)")
t.ok("no such selector" in gopher("/away"),
     "a redirect out of the capsule is not served")
root_menu = gopher("/")
t.ok("\t/diary.gmi\t" not in root_menu,
     "a page's link to a protected page is no gopher item", root_menu)
t.ok("\t/new/a.gmi\t" in root_menu, "its other links are")
listing = finger("")
t.ok("welcome" in listing, "the finger list names an open page", listing)
t.ok("diary" not in listing and "oldnews" not in listing and
     "moved" not in listing,
     "but no protected, blocked or redirected one", listing)
t.ok("DEAR DIARY" not in finger("diary"),
     "finger does not serve a protected page")
t.ok("OLD NEWS" not in finger("oldnews"), "nor a blocked one")
t.ok("TOP SECRET" not in finger("peek") and "OLD NEWS" not in
     finger("news-link"), "nor one a symbolic link leads to")
t.ok("peek" not in listing and "news-link" not in listing,
     "and the finger list leaves them out", listing)
t.ok("WELCOME" in finger("hello"), "a symlink to an open page is fingered")
out = finger("moved")
t.ok("NEW A" in out and "OLD CONTENT" not in out,
     "finger follows a redirect inside the capsule", out)
t.ok(srv.proc.poll() is None, "the server is still running")
srv.cleanup()


# 6. a certificate request only from servers with a client-cert location
def asks_for_cert(port_, sni):
    """1 when the handshake for sni carries a certificate request"""
    p = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port_,
         "-servername", sni, "-ign_eof"],
        input=b"gemini://%s:%d/\r\n" % (sni.encode(), port_),
        capture_output=True, timeout=20)
    out = p.stdout.decode("utf-8", "replace")
    return ("Requested Signature Algorithms" in out or
            "Acceptable client certificate CA names" in out), out


def two_servers(asking_first):
    """first.test has a client-cert location, second.test none; the
    server that comes first in the file is the handshake's default"""
    asking = ('server "first.test" {\n  root = "{root}"\n'
              '  location "/p/*" { client-cert = "required" }\n}\n')
    other = 'server "second.test" {\n  root = "{root}"\n}\n'
    return ('listen = {"127.0.0.1:{port}"}\nstate-dir = "{state}"\n' +
            ('user = "nobody"\n' if os.geteuid() == 0 else "") +
            (asking + other if asking_first else other + asking))


for asking_first in (True, False):
    order = "asking server %s" % ("first" if asking_first else "second")
    s2 = Server(root=os.path.join(work, "root"),
                config=two_servers(asking_first))
    s2.start()
    asked, out = asks_for_cert(s2.port, "first.test")
    t.ok(asked, "%s: the server with a client-cert location asks" % order,
         out[-800:])
    asked, out = asks_for_cert(s2.port, "second.test")
    t.ok(not asked, "%s: the other server does not" % order, out[-800:])
    r = request(s2.port, "gemini://first.test:%d/p/x" % s2.port,
                sni="first.test")
    t.eq(r.status, 60, "%s: its area answers 60" % order)
    s2.cleanup()


# 7. configuration errors on their own lines
def check(text):
    path = os.path.join(work, "bad.conf")
    with open(path, "w") as f:
        f.write(text.replace("{root}", os.path.join(work, "root")))
    p = subprocess.run([CAPSULED, "-n", "-c", path], capture_output=True,
                       text=True, timeout=20)
    return p.returncode, p.stdout + p.stderr, path


rc, out, path = check(
    'listen = {"127.0.0.1:1965"}\n'
    '# a comment\n'
    'server "localhost" {\n'
    '  root = "{root}"\n'
    '  location "/a/*" { redirect = "/b/$path" }\n'
    '  # another\n'
    '  location "/b/*" {\n'
    '    redirect = "gemini://localhost/a/$path"\n'
    '  }\n'
    '}\n')
t.ok(rc != 0 and "%s:5:" % path in out and "redirect loop" in out and
     "/a/x -> /b/x -> /a/x" in out,
     "capsuled -n refuses a redirect loop on the location's line", out)
rc, out, path = check(
    'listen = {"127.0.0.1:1965"}\n'
    'server "localhost" {\n'
    '  root = "{root}"\n'
    '  location "/x" {\n'
    '    client-cert = "required"\n'
    '    allow = {"sha256:1234"}\n'
    '  }\n'
    '}\n')
t.ok(rc != 0 and "%s:6:" % path in out and "allow" in out,
     "a short fingerprint on its own line", out)
rc, out, path = check(
    'listen = {"127.0.0.1:1965"}\n'
    'server "localhost" {\n'
    '  root = "{root}"\n'
    '  location "/x" {\n'
    '    status = 31\n'
    '  }\n'
    '}\n')
t.ok(rc != 0 and "%s:5:" % path in out and "status" in out,
     "a status that is no failure on its own line", out)
subprocess.run(["rm", "-rf", work])
t.done()

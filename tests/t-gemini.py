#!/usr/bin/env python3
"""capsuled over real TLS: every request rule of the Gemini specification,
the root it cannot leave, certificates, SNI, reload, config errors."""
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from gemtest import (CAPSULED, Server, Tap, client_context, free_port,  # noqa
                     request)

t = Tap()
base = tempfile.mkdtemp(prefix="capsule-root-")
os.chmod(base, 0o755)
root = os.path.join(base, "root")
secret_dir = os.path.join(base, "outside")
for d in (root, secret_dir, root + "/sub", root + "/empty", root + "/.git",
          root + "/.well-known", root + "/listing", root + "/listing/inner"):
    os.makedirs(d)
    os.chmod(d, 0o755)


def write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)


write(root + "/index.gmi", "# Home\n=> sub/ Sub\n")
write(root + "/sub/index.gmi", "# Sub index\n")
write(root + "/page.txt", "plain text\n")
write(root + "/logo.png", b"\x89PNG\r\n\x1a\n")
write(root + "/data.bin", b"\x00\x01")
write(root + "/notes.md", "# md\n")
write(root + "/doc.custom", "custom\n")
write(root + "/caf\u00e9.gmi", "# Caf\u00e9\n")
write(root + "/.git/config", "secret\n")
write(root + "/.hidden.gmi", "hidden\n")
write(root + "/.well-known/security.txt", "Contact: mailto:x@example.org\n")
write(root + "/listing/a.gmi", "# a\n")
write(root + "/listing/.secret", "no\n")
write(secret_dir + "/secret.txt", "outside the root\n")
write(root + "/big.bin", os.urandom(300 * 1024))
os.symlink(secret_dir + "/secret.txt", root + "/escape.txt")
os.symlink("../outside/secret.txt", root + "/escape-rel.txt")
os.symlink(secret_dir, root + "/escape-dir")
os.symlink("page.txt", root + "/inside-link.txt")
os.mkfifo(root + "/fifo.gmi")

srv = Server(root=root, top='request-timeout = 2\n'
             'mime "text/x-custom" { extensions = {"custom"} }\n',
             ipv6=True)
srv.start()
P = srv.port


def get(path, **kw):
    return request(P, srv.url(path), **kw)


# --- what is served
r = get("/")
t.eq((r.status, r.meta), (20, "text/gemini; lang=en-GB"), "root index")
t.ok(r.body == b"# Home\n=> sub/ Sub\n", "root index body")
t.ok(r.close_notify, "response ends with close_notify", r.error)
r = get("/page.txt")
t.eq(r.meta, "text/plain; charset=utf-8", "txt is text/plain utf-8")
t.ok(r.close_notify, "text response ends with close_notify", r.error)
t.eq(get("/logo.png").meta, "image/png", "png mime")
t.eq(get("/data.bin").meta, "application/octet-stream", "unknown mime")
t.eq(get("/notes.md").meta, "text/markdown; charset=utf-8", "md mime")
t.eq(get("/doc.custom").meta, "text/x-custom", "mime from the config")
t.eq(get("/caf%C3%A9.gmi").status, 20, "percent-encoded utf-8 name")
t.eq(get("/caf\u00e9.gmi").status, 20, "raw utf-8 (iri) name")
r = get("/big.bin")
t.ok(r.status == 20 and len(r.body) == 300 * 1024 and r.close_notify,
     "a 300 KB file arrives whole with close_notify", r)
t.eq(get("/inside-link.txt").status, 20, "a symlink inside the root works")
t.eq(get("/.well-known/security.txt").status, 20, ".well-known is served")

# --- directories
r = get("/sub")
t.eq((r.status, r.meta), (31, srv.url("/sub/")), "/sub redirects to /sub/")
r = get("/sub?q=1")
t.eq((r.status, r.meta), (31, srv.url("/sub/?q=1")),
     "the redirect keeps the query")
r = request(P, r.meta)
t.eq(r.status, 20, "following the redirect serves the index (no loop)")
t.eq(get("/sub/").body, b"# Sub index\n", "/sub/ serves its index")
t.eq(get("/empty/").status, 51, "a directory without index is 51")
t.eq(get("/page.txt/").status, 51, "a file with a trailing slash is 51")

# --- the root cannot be left
t.eq(get("/../etc/passwd").status, 59, "../ above the root is 59")
t.eq(get("/sub/../../etc/passwd").status, 59, "deeper ../ is 59")
t.eq(get("/%2e%2e/etc/passwd").status, 59, "encoded .. is 59")
t.eq(get("/%2E%2E%2Fetc%2Fpasswd").status, 59, "encoded ../ is 59")
t.eq(get("/sub/%2e%2e/page.txt").status, 20, "encoded .. inside is fine")
for name in ("/escape.txt", "/escape-rel.txt", "/escape-dir/secret.txt"):
    r = get(name)
    t.ok(r.status == 51 and b"outside" not in r.raw,
         "symlink escape %s is refused (51)" % name, r)
t.eq(get("/.git/config").status, 51, "dot-directories are not served")
t.eq(get("/.hidden.gmi").status, 51, "dot-files are not served")
t.eq(get("/fifo.gmi").status, 51, "a fifo is not served and does not hang")
t.eq(get("/missing.gmi").status, 51, "a missing file is 51")

# --- the request line
url1024 = srv.url("/") + "a" * (1024 - len(srv.url("/")))
r = request(P, url1024)
t.ok(len(url1024) == 1024 and r.status == 51,
     "a 1024-byte url is read and answered (51: no such file)", r)
r = request(P, url1024 + "a")
t.eq(r.status, 59, "a 1025-byte url is 59")
t.eq(request(P, raw=b"x" * 3000).status, 59,
     "3000 bytes without crlf are 59")
t.eq(request(P, "gemini://user@localhost:%d/" % P).status, 59,
     "userinfo is 59")
t.eq(request(P, srv.url("/#frag")).status, 59, "a fragment is 59")
t.eq(request(P, "/index.gmi").status, 59, "a relative url is 59")
t.eq(request(P, raw=srv.url("/").encode() + b"\xff\xfe\r\n").status, 59,
     "invalid utf-8 is 59")
t.eq(request(P, raw=b"\xef\xbb\xbf" + srv.url("/").encode() +
             b"\r\n").status, 59, "a bom is 59")
t.eq(request(P, raw=srv.url("/").encode() + b"\x00\r\n").status, 59,
     "a nul byte is 59")
t.eq(request(P, srv.url("/a b")).status, 59, "a raw space is 59")
r = request(P, raw=srv.url("/page.txt").encode() + b"\r\nextra bytes\r\n")
t.eq((r.status, r.body), (20, b"plain text\n"),
     "bytes after the crlf are ignored")
t.eq(request(P, "gemini://example.org:%d/" % P).status, 53,
     "another host is 53")
t.eq(request(P, "gemini://localhost:%d/" % (P + 1)).status, 53,
     "another port is 53")
t.eq(request(P, "gemini://localhost/").status, 53,
     "no port means 1965, which is not this listener: 53")
t.eq(request(P, "https://localhost:%d/" % P).status, 53,
     "another scheme is 53")
t.eq(request(P, "GEMINI://LOCALHOST:%d/" % P).status, 20,
     "scheme and host compare case-insensitively")
t.eq(request(P, "gemini://127.0.0.1:%d/" % P).status, 20,
     "an alias is served")
r = request(srv.port6, "gemini://[::1]:%d/" % srv.port6, host="::1")
t.eq(r.status, 20, "ipv6 listener and [::1] host")

# a line that never ends waits for the timeout, then closes
s = socket.create_connection(("127.0.0.1", P), timeout=10)
tls = client_context().wrap_socket(s, server_hostname="localhost")
tls.sendall(b"gemini://localhost/no-crlf")
start = time.time()
try:
    data = tls.recv(100)
except (OSError, ssl.SSLError):
    data = b""
took = time.time() - start
t.ok(data == b"" and 1.0 <= took < 8,
     "an unterminated line is closed after the timeout, unanswered "
     "(%.1fs)" % took)
tls.close()

# --- tls
out = subprocess.run(
    ["openssl", "s_client", "-connect", "127.0.0.1:%d" % P, "-tls1_1",
     "-cipher", "DEFAULT@SECLEVEL=0"], input=b"", capture_output=True,
    timeout=10)
t.ok(b"alert protocol version" in out.stdout + out.stderr,
     "tls 1.1 is refused with a protocol_version alert")
r = request(P, srv.url("/"), ctx=client_context(
    ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2))
t.eq(r.status, 20, "tls 1.2 works")
out = subprocess.run(
    ["gnutls-cli", "--insecure", "--port", str(P), "--sni-hostname",
     "localhost", "127.0.0.1"], input=srv.url("/").encode() + b"\r\n",
    capture_output=True, timeout=10)
t.ok(b"20 text/gemini" in out.stdout, "gnutls-cli reads the page",
     out.stderr[-300:])

# session resumption with the derived ticket keys: tls 1.2 tickets; tls
# 1.3 tickets are off unless tls13-tickets = true (below, with sni)
rctx = client_context(max_version=ssl.TLSVersion.TLSv1_2)
r1 = request(P, srv.url("/"), ctx=rctx, want_session=True)
r2 = request(P, srv.url("/"), ctx=rctx, session=r1.session,
             want_session=True)
t.ok(r2.status == 20 and r2.session_reused, "tls 1.2 session resumes")
ctx13 = client_context(min_version=ssl.TLSVersion.TLSv1_3)
r = request(P, srv.url("/"), ctx=ctx13, want_session=True)
t.ok(r.status == 20 and not r.session.has_ticket,
     "tls 1.3: no session ticket by default", r)
r2 = request(P, srv.url("/"), ctx=ctx13, session=r.session,
             want_session=True)
t.ok(r2.status == 20 and not r2.session_reused,
     "tls 1.3: the next connection is a full handshake")

# --- the log: one line per request, escaped
request(P, srv.url("/inject%0Afake%20line"))
time.sleep(0.3)
log = srv.log()
t.ok(re.search(r'127\.0\.0\.1 localhost "/page\.txt" 20 11 \d+ms', log),
     "a log line has client, host, path, status, bytes, duration",
     log[-500:])
t.ok("\\x0afake" in log and "\nfake" not in log,
     "a newline in the path cannot forge a log line")

# --- certificates: generated once, reused, names cover the aliases
crt = os.path.join(srv.state, "localhost.crt")
key = os.path.join(srv.state, "localhost.key")
t.ok(os.path.exists(crt) and os.stat(key).st_mode & 0o777 == 0o600,
     "certificate generated in state-dir with the key at 0600")
text = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-text"],
                      capture_output=True, text=True).stdout
t.ok("DNS:localhost" in text and "IP Address:127.0.0.1" in text and
     "IP Address:0:0:0:0:0:0:0:1" in text and "prime256v1" in text,
     "ecdsa p-256 certificate names the server and its aliases",
     text[:800])
fp1 = subprocess.run(["openssl", "x509", "-in", crt, "-noout",
                      "-fingerprint"], capture_output=True).stdout

# --- reload
pids = srv.pids()
t.ok(len(pids) >= 2, "a master and workers run")
if os.geteuid() == 0:
    for pid in pids[1:]:
        st = open("/proc/%d/status" % pid).read()
        uid = re.search(r"Uid:\s+(\d+)", st).group(1)
        t.ok(uid != "0" and re.search(r"NoNewPrivs:\s+1", st),
             "worker %d runs unprivileged with no_new_privs" % pid)
held = socket.create_connection(("127.0.0.1", P), timeout=10)
held_tls = client_context().wrap_socket(held, server_hostname="localhost")
with open(srv.conf) as f:
    conf = f.read()
with open(srv.conf, "w") as f:
    f.write(conf.replace('lang = "en-GB"', 'lang = "cy"'))
srv.reload()
ok = False
for _ in range(50):
    if get("/").meta == "text/gemini; lang=cy":
        ok = True
        break
    time.sleep(0.1)
t.ok(ok, "sighup loads the new configuration")
held_tls.sendall(srv.url("/page.txt").encode() + b"\r\n")
data = b""
try:
    while True:
        c = held_tls.recv(4096)
        if not c:
            break
        data += c
except (OSError, ssl.SSLError) as e:
    data += repr(e).encode()
t.ok(data.startswith(b"20 text/plain"),
     "a connection opened before the reload is still answered", data[:200])
with open(srv.conf, "w") as f:
    f.write(conf.replace("workers = 1", "workers = 1\nbogus-key = 1"))
srv.reload()
t.ok(srv.wait_log("reload failed"), "a broken reload is logged")
t.ok(re.search(r"reload failed.*capsuled\.conf:\d+:", srv.log()),
     "the reload error names file:line")
t.eq(get("/").meta, "text/gemini; lang=cy",
     "the running configuration stays after a broken reload")
# a root or certificate that cannot be opened: named on the line that
# set it, not without a line (libconfuse keeps none for an option)
lines = conf.splitlines()
rootline = next(i for i, l in enumerate(lines) if "root =" in l) + 1
for what, repl in (("root", '  root = "/nonexistent/capsule"'),
                   ("cert", '  root = "%s" cert = "/nonexistent/c.pem" '
                    'key = "/nonexistent/k.pem"' % srv.root)):
    bad = list(lines)
    bad[rootline - 1] = repl
    with open(srv.conf, "w") as f:
        f.write("\n".join(bad) + "\n")
    want = "capsuled.conf:%d: server \"localhost\": " % rootline
    before = srv.log().count(want)
    srv.reload()
    end = time.time() + 5
    while srv.log().count(want) == before and time.time() < end:
        time.sleep(0.05)
    t.ok(srv.log().count(want) > before,
         "a reload with a missing %s names file:%d" % (what, rootline),
         srv.log()[-300:])
    t.eq(get("/").meta, "text/gemini; lang=cy",
         "the running configuration stays after a missing %s" % what)
srv.stop()

# restart: the same certificate again
with open(srv.conf, "w") as f:
    f.write(conf)
srv.start()
fp2 = subprocess.run(["openssl", "x509", "-in", crt, "-noout",
                      "-fingerprint"], capture_output=True).stdout
t.ok(fp1 == fp2 and fp1, "the certificate is reused after a restart")
r3 = request(P, srv.url("/"), ctx=rctx, session=r1.session,
             want_session=True)
t.ok(r3.session_reused, "a ticket from before the restart still resumes")
srv.cleanup()

# --- sni and two virtual hosts
other = os.path.join(base, "other")
os.makedirs(other)
os.chmod(other, 0o755)
write(other + "/index.gmi", "# Other\n")
two = Server(root=root, top='', server='}\nserver "other.test" {\n'
             ' root = "%s"\n tls13-tickets = true\n' % other)
two.start()
r = request(two.port, "gemini://other.test:%d/" % two.port,
            sni="other.test")
t.eq(r.body, b"# Other\n", "sni picks the second server")
r = request(two.port, "gemini://localhost:%d/" % two.port, sni="localhost")
t.eq(r.body, b"# Home\n=> sub/ Sub\n", "sni picks the first server")
r = request(two.port, "gemini://other.test:%d/" % two.port, sni="localhost")
t.eq(r.status, 53, "a url host that differs from the sni is 53")
r = request(two.port, "gemini://localhost:%d/" % two.port, sni=None)
t.eq(r.status, 20, "a client without sni gets the first server")
# tls13-tickets is the chosen server's: on for other.test only
for host, want in (("other.test", True), ("localhost", False)):
    ctx13 = client_context(min_version=ssl.TLSVersion.TLSv1_3)
    url = "gemini://%s:%d/" % (host, two.port)
    r1 = request(two.port, url, sni=host, ctx=ctx13, want_session=True)
    r2 = request(two.port, url, sni=host, ctx=ctx13, session=r1.session,
                 want_session=True)
    t.ok(r1.status == 20 and r1.session.has_ticket == want and
         r2.status == 20 and r2.session_reused == want,
         "tls 1.3 ticket and resumption %s for %s" %
         ("issued" if want else "not issued", host),
         (r1.status, r1.session.has_ticket, r2.status, r2.session_reused))
crt2 = os.path.join(two.state, "other.test.crt")
t.ok(os.path.exists(crt2), "each server gets its own certificate")
two.cleanup()

# --- a configured chain is sent as the file holds it (leaf, intermediate)
chaindir = os.path.join(base, "chain")
os.makedirs(chaindir)


def ossl(*args):
    subprocess.run(["openssl"] + list(args), capture_output=True,
                   check=True, cwd=chaindir)


ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
write(os.path.join(chaindir, "ca.ext"), "basicConstraints=critical,CA:TRUE\n")
write(os.path.join(chaindir, "leaf.ext"), "subjectAltName=DNS:localhost\n")
ossl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt",
     "-subj", "/CN=test root", "-days", "2")
ossl("req", *ec, "-keyout", "int.key", "-out", "int.csr",
     "-subj", "/CN=test intermediate")
ossl("x509", "-req", "-in", "int.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
     "-CAcreateserial", "-out", "int.crt", "-days", "2",
     "-extfile", "ca.ext")
ossl("req", *ec, "-keyout", "leaf.key", "-out", "leaf.csr",
     "-subj", "/CN=localhost")
ossl("x509", "-req", "-in", "leaf.csr", "-CA", "int.crt", "-CAkey",
     "int.key", "-CAcreateserial", "-out", "leaf.crt", "-days", "2",
     "-extfile", "leaf.ext")
with open(os.path.join(chaindir, "full.crt"), "w") as f:
    for part in ("leaf.crt", "int.crt"):
        with open(os.path.join(chaindir, part)) as g:
            f.write(g.read())
for crtfile, want in (("full.crt", ["localhost", "test intermediate"]),
                      ("leaf.crt", ["localhost"])):
    cs = Server(root=root, server=' cert = "%s"\n key = "%s"\n' % (
        os.path.join(chaindir, crtfile), os.path.join(chaindir, "leaf.key")))
    cs.start()
    out = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % cs.port,
         "-servername", "localhost", "-showcerts"], input=b"",
        capture_output=True, timeout=10).stdout.decode("utf-8", "replace")
    cs.cleanup()
    sent = re.findall(r"^ *\d+ s:.*?CN ?= ?([^,/\n]+)", out, re.M)
    t.eq(sent, want, "%s: the chain sent is the file's" % crtfile)

# --- the command line
good = os.path.join(base, "good.conf")
write(good, 'listen = {"127.0.0.1:%d"}\nserver "localhost" {\n'
      ' root = "%s"\n}\n' % (free_port(), root))
out = subprocess.run([CAPSULED, "-n", "-c", good], capture_output=True,
                     text=True)
t.eq(out.returncode, 0, "-n accepts a good configuration")
# -n warns about keys dearer than ecdsa p-256 or ed25519, on the key's line
for kind, newkey, warn in (
        ("p-256", ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"], None),
        ("ed25519", ["ed25519"], None),
        ("p-384", ["ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
         "is an ECDSA P-384 key: a full handshake with it costs the server "
         "more than 4 times"),
        ("rsa-2048", ["rsa:2048"], "is an RSA-2048 key: a full handshake "
         "with it costs the server about 3 times")):
    kp = os.path.join(base, kind + ".key")
    cp = os.path.join(base, kind + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey"] + newkey +
                   ["-nodes", "-keyout", kp, "-out", cp, "-days", "2",
                    "-subj", "/CN=localhost"], capture_output=True,
                   check=True)
    kconf = os.path.join(base, kind + ".conf")
    write(kconf, 'listen = {"127.0.0.1:%d"}\nserver "localhost" {\n'
          ' root = "%s"\n cert = "%s"\n\n key = "%s"\n}\n' %
          (free_port(), root, cp, kp))
    out = subprocess.run([CAPSULED, "-n", "-c", kconf], capture_output=True,
                         text=True)
    if warn is None:
        t.ok(out.returncode == 0 and out.stderr == "",
             "-n: no warning for the %s key" % kind, out.stderr)
    else:
        t.ok(out.returncode == 0 and out.stderr.startswith(
             '%s:6: server "localhost": warning: key %s %s' %
             (kconf, kp, warn)), "-n warns about the %s key, on its line, "
             "and accepts it" % kind, out.stderr)
badconf = os.path.join(base, "bad.conf")
write(badconf, 'listen = {"127.0.0.1:1965"}\n\nserver "localhost" {\n'
      '  root = "%s"\n  langg = "en"\n}\n' % root)
out = subprocess.run([CAPSULED, "-n", "-c", badconf], capture_output=True,
                     text=True)
t.ok(out.returncode == 1 and out.stderr.startswith(badconf + ":5:"),
     "-n names file:line of a broken configuration", out.stderr)
out = subprocess.run([CAPSULED, "-f", "-c", badconf], capture_output=True,
                     text=True, timeout=10)
t.ok(out.returncode == 1 and badconf + ":5:" in out.stderr,
     "starting with a broken configuration fails with file:line")
out = subprocess.run([CAPSULED, "-V"], capture_output=True, text=True)
t.ok(out.returncode == 0 and out.stdout.startswith("capsuled "),
     "-V prints the version")
if os.geteuid() == 0:
    norun = os.path.join(base, "noroot.conf")
    write(norun, 'listen = {"127.0.0.1:%d"}\nstate-dir = "%s/st"\n'
          'server "localhost" {\n root = "%s"\n}\n' % (free_port(), base,
                                                      root))
    out = subprocess.run([CAPSULED, "-f", "-c", norun], capture_output=True,
                         text=True, timeout=10)
    t.ok(out.returncode == 1 and "does not serve as root" in out.stderr,
         "as root with no user to drop to, it refuses to serve")

subprocess.run(["rm", "-rf", base])
t.done()

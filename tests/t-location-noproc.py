#!/usr/bin/env python3
"""without /proc (a container that mounts none) the real place of a path
behind a symbolic link cannot be told: such a file is refused, never
served past its location's client-cert rule. The test runs itself again
in a private mount namespace with an empty tmpfs over /proc."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from gemtest import Server, Tap, free_port, plain_request, request  # noqa

t = Tap()
if os.environ.get("NOPROC_INSIDE") != "1":
    try:
        rc = subprocess.call(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             'mount -t tmpfs none /proc && exec "$0" "$@"', sys.executable,
             os.path.abspath(__file__)],
            env=dict(os.environ, NOPROC_INSIDE="1"), timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        t.skip("no private mount namespace here (%s)" % e)
        t.done()
    if rc == 77:
        t.skip("no private mount namespace here (needs root)")
        t.done()
    sys.exit(rc)
if os.path.exists("/proc/self"):
    sys.exit(77)

work = tempfile.mkdtemp(prefix="noproc-")
root = os.path.join(work, "root")
for d in (work, root, os.path.join(root, "private"),
          os.path.join(root, "open")):
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
with open(os.path.join(root, "private", "secret.gmi"), "w") as f:
    f.write("TOP SECRET\n")
os.chmod(os.path.join(root, "private", "secret.gmi"), 0o644)
os.symlink("../private/secret.gmi", os.path.join(root, "open", "peek.gmi"))

gport = free_port()
with Server(root=root,
            server='location "/private/*" { client-cert = "required" }',
            top='gopher-listen = {"127.0.0.1:%d"}\n' % gport) as srv:
    r = request(srv.port, srv.url("/private/secret.gmi"))
    t.eq(r.status, 60, "the guarded path asks for a certificate")
    r = request(srv.port, srv.url("/open/peek.gmi"))
    t.ok(r.status != 20 and "TOP SECRET" not in r.text(),
         "a link into it is not served without /proc", r)
    out = plain_request(gport, b"/open/peek.gmi\r\n")
    t.ok(b"TOP SECRET" not in out, "nor over gopher", out)
t.done()

#!/usr/bin/env python3
"""capsuled's state directory and access log (issue 14, items 4 and 5).

- a reload whose configuration is rejected (a new state-dir with a root
  that does not exist; a new state-dir with a listener that cannot bind)
  changes nothing: the rejected state-dir stays empty, and tickets issued
  before it still resume on a worker forked after it (the master's ticket
  secret did not change); tried with tls 1.2 tickets (always issued) and
  with tls 1.3 tickets on a server with tls13-tickets = true;
- a state-dir, key, certificate or ticket file that someone other than
  root or the server user could write, or that is a symbolic link, is
  refused at start with a message naming it, and on reload (which then
  changes nothing); the normal case works;
- the access log the master opens: a symbolic link, a second hard link
  and a directory anyone can write are refused;
- item 8: when renaming the new ticket.key into place fails (made to fail
  with tests/lib/failrename.c under LD_PRELOAD: nothing on disk reaches
  it), start-up fails with the file named, its descriptor is closed once
  (strace shows no close() failing with EBADF), and nothing is left in the
  state-dir: no temp file, no certificate or key.
"""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import gemtest  # noqa: E402
from gemtest import Tap, Server, request, client_context  # noqa: E402

t = Tap()
ROOT = os.geteuid() == 0
OTHER_UID = 4242        # neither root nor the server user (nobody)


def sessions(srv, ctx, n=6):
    """n fresh sessions, each from its own full handshake"""
    out = []
    for _ in range(n):
        r = request(srv.port, srv.url("/"), ctx=ctx, want_session=True)
        if r.status == 20:
            out.append(r.session)
    return out


def resumed(srv, ctx, sess):
    n = 0
    for s in sess:
        r = request(srv.port, srv.url("/"), ctx=ctx, session=s,
                    want_session=True)
        if r.status == 20 and r.session_reused:
            n += 1
    return n


def reload_and_wait(srv, needle):
    before = srv.log().count(needle)
    srv.reload()
    end = time.time() + 10
    while time.time() < end:
        if srv.log().count(needle) > before:
            return True
        time.sleep(0.05)
    return False


def respawn_worker(srv):
    """SIGKILL the worker; the master forks a new one from its memory"""
    old = srv.worker_pid()
    os.kill(old, signal.SIGKILL)
    end = time.time() + 10
    while time.time() < end:
        kids = srv.pids()[1:]
        if kids and old not in kids:
            return True
        time.sleep(0.05)
    return False


def listing(d):
    try:
        return sorted(os.listdir(d))
    except FileNotFoundError:
        return None


def start_fails(srv):
    """run capsuled on srv's config: (exit status, output) when it exits
    within 10 s, (None, output) when it keeps running (then stopped)"""
    outpath = os.path.join(srv.dir, "start.out")
    with open(outpath, "wb") as outf:
        p = subprocess.Popen([gemtest.CAPSULED, "-f", "-c", srv.conf],
                             stdout=outf, stderr=subprocess.STDOUT,
                             cwd=srv.dir)
        try:
            rc = p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            rc = None
            p.terminate()       # the master stops its workers
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    with open(outpath, "rb") as f:
        return rc, f.read().decode("utf-8", "replace")


# ---- item 4: a rejected reload changes nothing ----

# the ticket secret carries tls 1.2 tickets always, and tls 1.3 tickets
# when the server issues them (tls13-tickets = true): both are tried


def tls12_context():
    return client_context(max_version=ssl.TLSVersion.TLSv1_2)


def item4(server_lines, new_ctx, what):
    srv = Server(workers=1, server=server_lines)
    try:
        srv.start()
        ctx = new_ctx()
        sess = sessions(srv, ctx)
        t.eq(len(sess), 6,
             "six sessions from six full handshakes (%s)" % what)
        t.eq(resumed(srv, ctx, sess), 6,
             "before any reload: 6 of 6 resume (%s)" % what)
        good = srv.config_text

        # a) a new state-dir, and a root that does not exist
        newstate = os.path.join(srv.dir, "state-new")
        os.mkdir(newstate, 0o755)
        with open(srv.conf, "w") as f:
            f.write(good.replace(srv.state, newstate)
                    .replace(srv.root,
                             os.path.join(srv.dir, "no-such-root")))
        t.ok(reload_and_wait(srv, "reload failed"),
             "a reload with a missing root is rejected", srv.log()[-1500:])
        t.eq(listing(newstate), [], "the rejected state-dir stays empty")

        # b) a state-dir that does not exist yet, and a listener that cannot
        # bind: the last thing checked
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        newstate2 = os.path.join(srv.dir, "state-new2")
        os.mkdir(newstate2, 0o755)
        with open(srv.conf, "w") as f:
            f.write(good.replace(srv.state, newstate2) +
                    'gopher-listen = {"127.0.0.1:%d"}\n' %
                    busy.getsockname()[1])
        t.ok(reload_and_wait(srv, "reload failed"),
             "a reload with a listener that cannot bind is rejected",
             srv.log()[-1500:])
        busy.close()
        t.eq(listing(newstate2), [], "the rejected state-dir stays empty")

        # c) a state-dir that does not exist yet, and a missing root
        newstate3 = os.path.join(srv.dir, "state-unmade")
        with open(srv.conf, "w") as f:
            f.write(good.replace(srv.state, newstate3)
                    .replace(srv.root,
                             os.path.join(srv.dir, "no-such-root")))
        t.ok(reload_and_wait(srv, "reload failed"),
             "a reload with a missing root and a new state-dir is rejected",
             srv.log()[-1500:])
        t.eq(listing(newstate3), None,
             "the rejected state-dir is not created")

        # the master's ticket secret is what new workers get
        t.ok(respawn_worker(srv), "a killed worker is replaced")
        t.eq(resumed(srv, ctx, sess), 6, "after the rejected reloads, on a "
             "worker forked since: 6 of 6 old tickets resume (%s)" % what)

        # and a good reload still works, with the same secret
        with open(srv.conf, "w") as f:
            f.write(good)
        t.ok(reload_and_wait(srv, "configuration reloaded"),
             "the original configuration reloads", srv.log()[-1500:])
        time.sleep(0.3)
        t.eq(resumed(srv, ctx, sess), 6,
             "after a good reload: 6 of 6 resume (%s)" % what)
        t.eq(listing(srv.state), ["localhost.crt", "localhost.key",
                                  "ticket.key"],
             "the state-dir in force holds the pair and the ticket secret")
    finally:
        srv.cleanup()


item4("", tls12_context, "tls 1.2")
item4("  tls13-tickets = true", client_context, "tls 1.3, tls13-tickets on")

# ---- item 5: the state-dir is not trusted blindly ----


def fresh_state(srv):
    """start once so the state files exist, then stop"""
    srv.start()
    srv.stop()
    return listing(srv.state)


srv = Server(workers=1)
try:
    files = fresh_state(srv)
    t.eq(files, ["localhost.crt", "localhost.key", "ticket.key"],
         "the normal case: capsuled starts and makes its state files")
    st = os.stat(os.path.join(srv.state, "localhost.key"))
    t.eq(st.st_mode & 0o777, 0o600, "the generated key is mode 0600")

    # a state-dir anyone can write (sticky or not)
    os.chmod(srv.state, 0o1777)
    rc, out = start_fails(srv)
    t.ok(rc not in (None, 0) and srv.state in out and
         "writable by every user" in out,
         "a 1777 state-dir is refused at start, naming it", out[-800:])
    p = subprocess.run([gemtest.CAPSULED, "-n", "-c", srv.conf],
                       capture_output=True, text=True, cwd=srv.dir)
    t.ok(p.returncode == 1 and srv.state in p.stderr and
         "writable by every user" in p.stderr,
         "and capsuled -n says so", p.stdout + p.stderr)
    os.chmod(srv.state, 0o755)

    # a symbolic link planted for the ticket secret
    tk = os.path.join(srv.state, "ticket.key")
    planted = os.path.join(srv.dir, "planted.key")
    with open(planted, "wb") as f:
        f.write(b"P" * 32)
    saved = os.path.join(srv.dir, "ticket.saved")
    os.rename(tk, saved)
    os.symlink(planted, tk)
    rc, out = start_fails(srv)
    t.ok(rc not in (None, 0) and tk in out and "symbolic link" in out,
         "a symlinked ticket.key is refused at start, naming it",
         out[-800:])
    p = subprocess.run([gemtest.CAPSULED, "-n", "-c", srv.conf],
                       capture_output=True, text=True, cwd=srv.dir)
    t.ok(p.returncode == 1 and tk in p.stderr and
         "symbolic link" in p.stderr, "and capsuled -n says so",
         p.stdout + p.stderr)
    os.unlink(tk)
    os.rename(saved, tk)

    # a symlinked key
    key = os.path.join(srv.state, "localhost.key")
    os.rename(key, saved)
    shutil.copy(saved, planted)
    os.symlink(planted, key)
    rc, out = start_fails(srv)
    t.ok(rc not in (None, 0) and key in out and "symbolic link" in out,
         "a symlinked key is refused at start, naming it", out[-800:])
    os.unlink(key)
    os.rename(saved, key)

    # the state-dir itself a symbolic link
    real = srv.state + ".real"
    os.rename(srv.state, real)
    os.symlink(real, srv.state)
    rc, out = start_fails(srv)
    t.ok(rc not in (None, 0) and srv.state in out and "symbolic link" in out,
         "a symlinked state-dir is refused at start, naming it", out[-800:])
    os.unlink(srv.state)
    os.rename(real, srv.state)

    # a key group- or world-writable
    os.chmod(key, 0o602)
    rc, out = start_fails(srv)
    t.ok(rc not in (None, 0) and key in out and "writable" in out,
         "a world-writable key is refused at start", out[-800:])
    os.chmod(key, 0o600)

    if ROOT:
        crt = os.path.join(srv.state, "localhost.crt")
        os.chown(crt, OTHER_UID, OTHER_UID)
        rc, out = start_fails(srv)
        t.ok(rc not in (None, 0) and crt in out and
             "owned by uid %d" % OTHER_UID in out,
             "a certificate owned by another user is refused at start",
             out[-800:])
        os.chown(crt, 0, 0)
        os.chown(srv.state, OTHER_UID, OTHER_UID)
        rc, out = start_fails(srv)
        t.ok(rc not in (None, 0) and srv.state in out and
             "owned by uid %d" % OTHER_UID in out,
             "a state-dir owned by another user is refused at start",
             out[-800:])
        os.chown(srv.state, 0, 0)
    else:
        t.skip("not root: files owned by another user not tried")

    # all put back: it starts again, with the same files
    p = subprocess.run([gemtest.CAPSULED, "-n", "-c", srv.conf],
                       capture_output=True, text=True, cwd=srv.dir)
    t.eq(p.returncode, 0, "capsuled -n accepts the files put back")
    srv.start()
    r = request(srv.port, srv.url("/"))
    t.eq(r.status, 20, "with the files put back it starts and serves")

    # on reload: a state-dir anyone can write is refused, nothing changes
    ctx = tls12_context()
    sess = sessions(srv, ctx, 2)
    bad = os.path.join(srv.dir, "state-open")
    os.mkdir(bad)
    os.chmod(bad, 0o1777)
    good = srv.config_text
    with open(srv.conf, "w") as f:
        f.write(good.replace(srv.state, bad))
    t.ok(reload_and_wait(srv, "reload failed") and
         "writable by every user" in srv.log(),
         "a reload into a 1777 state-dir is rejected", srv.log()[-1000:])
    t.eq(listing(bad), [], "and nothing is written into it")
    t.ok(respawn_worker(srv), "a killed worker is replaced")
    t.eq(resumed(srv, ctx, sess), 2, "old tickets still resume")
finally:
    srv.cleanup()

# ---- item 5: the access log ----


def log_server(path):
    return Server(workers=1, top='access-log = "%s"\n' % path)


srv = log_server("LOGPATH")
try:
    logdir = os.path.join(srv.dir, "logs")
    os.mkdir(logdir, 0o755)
    logf = os.path.join(logdir, "access.log")
    with open(srv.conf, "w") as f:
        f.write(srv.config_text.replace("LOGPATH", logf))
    srv.config_text = srv.config_text.replace("LOGPATH", logf)

    os.chmod(logdir, 0o1777)
    rc, out = start_fails(srv)
    t.ok(rc not in (None, 0) and logdir in out and
         "writable by every user" in out,
         "an access log in a 1777 directory is refused at start",
         out[-800:])
    t.eq(listing(logdir), [], "and not created")
    os.chmod(logdir, 0o755)

    target = os.path.join(srv.dir, "not-a-log")
    with open(target, "w") as f:
        f.write("precious\n")
    if os.path.lexists(logf):
        os.unlink(logf)
    os.symlink(target, logf)
    rc, out = start_fails(srv)
    t.ok(rc not in (None, 0) and logf in out and "symbolic link" in out,
         "a symlinked access log is refused at start", out[-800:])
    os.unlink(logf)

    os.link(target, logf)
    rc, out = start_fails(srv)
    t.ok(rc not in (None, 0) and logf in out and "hard links" in out,
         "an access log with a second hard link is refused at start",
         out[-800:])
    os.unlink(logf)
    with open(target) as f:
        t.eq(f.read(), "precious\n", "the linked file was not written")

    srv.start()
    r = request(srv.port, srv.url("/"))
    t.eq(r.status, 20, "a trusted access log: it starts and serves")
    end = time.time() + 5
    while time.time() < end and not (os.path.exists(logf) and
                                     os.path.getsize(logf) > 0):
        time.sleep(0.05)
    with open(logf) as f:
        t.ok('"/"' in f.read(), "and logs the request there")
finally:
    srv.cleanup()

# ---- item 8: a rename that fails, under strace ----

cc = shutil.which("cc")
strace = shutil.which("strace")


def shim(srv, name):
    """tests/lib/NAME.c built as a preloadable library in srv's dir"""
    so = os.path.join(srv.dir, name + ".so")
    subprocess.run([cc, "-shared", "-fPIC", "-o", so, os.path.join(
        gemtest.TOP, "tests", "lib", name + ".c"), "-ldl"], check=True)
    return so


if cc is None or strace is None:
    t.skip("cc or strace missing: the failing rename is not tried")
else:
    srv = Server(workers=1)
    try:
        so = shim(srv, "failrename")
        trace = os.path.join(srv.dir, "trace")
        env = dict(os.environ, LD_PRELOAD=so)
        # a sanitized build (make test SANITIZE=1): its leak checker
        # cannot run under ptrace, so not under strace
        if "ASAN_OPTIONS" in env:
            env["ASAN_OPTIONS"] += ":detect_leaks=0"
        p = subprocess.run([strace, "-f", "-o", trace, "-e",
                            "trace=openat,close,rename,renameat,renameat2",
                            gemtest.CAPSULED, "-f", "-c", srv.conf],
                           capture_output=True, text=True, env=env,
                           cwd=srv.dir, timeout=30)
        with open(trace) as f:
            tr = f.read()
        tk = os.path.join(srv.state, "ticket.key")
        t.ok(p.returncode != 0 and tk + ": cannot write" in p.stderr,
             "a failing rename of ticket.key stops start-up, naming it",
             p.stderr[-800:])
        m = re.search(r'ticket\.key\.tmp".*= (\d+)$', tr, re.M)
        t.ok(m is not None, "the temp file was opened", tr[-1500:])
        bad = [ln for ln in tr.splitlines()
               if "close(" in ln and "EBADF" in ln]
        t.eq(bad, [], "no descriptor is closed twice (no close() fails "
             "with EBADF)")
        t.eq(listing(srv.state), None, "nothing is left behind: no temp "
             "file, no key, not even the state-dir it made")
    finally:
        srv.cleanup()

# a reload that runs out of memory while converting its configuration is
# refused like any other, and the master lives on (it used to call fatal)
def sanitized():
    try:
        with open(os.path.join(gemtest.TOP, "build", ".flavour")) as f:
            return f.read().strip() == "sanitize"
    except OSError:
        return False


if cc is None:
    t.skip("cc missing: the failing strdup is not tried")
elif sanitized():
    # the sanitizer's own strdup is bound before any LD_PRELOAD
    t.skip("a sanitized build: the failing strdup cannot be preloaded")
else:
    srv = Server(workers=1)
    try:
        so = shim(srv, "failstrdup")
        os.environ["LD_PRELOAD"] = so
        try:
            srv.start()
        finally:
            del os.environ["LD_PRELOAD"]
        t.eq(request(srv.port, srv.url("/")).status, 20,
             "served before the reload")
        with open(srv.conf, "w") as f:
            f.write(srv.config_text.replace('aliases = {',
                                            'aliases = {"nomem.invalid", '))
        t.ok(reload_and_wait(srv, "out of memory"),
             "a reload out of memory is refused, saying so", srv.log()[-800:])
        time.sleep(0.5)
        t.ok(srv.proc.poll() is None, "the master lives on",
             srv.log()[-800:])
        t.eq(request(srv.port, srv.url("/")).status, 20,
             "and serves as before")
    finally:
        srv.cleanup()

t.done()

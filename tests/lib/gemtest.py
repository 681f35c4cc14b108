"""Helpers for capsuled integration tests: start the real daemon with a
throwaway config on free loopback ports, talk to it with real clients, and
report "ok - ..." / "not ok - ..." lines for tests/run.sh.

    from gemtest import Tap, Server, request
    t = Tap()
    with Server(root=some_dir) as srv:
        r = request(srv.port, srv.url("/"))
        t.ok(r.status == 20, "root page is served")
    t.done()
"""
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

TOP = os.environ.get("TOP") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
CAPSULED = os.path.join(TOP, "build", "capsuled")


class Tap:
    """counts checks; prints one line each"""

    def __init__(self):
        self.failed = 0
        self.passed = 0

    def ok(self, cond, name, detail=None):
        if cond:
            self.passed += 1
            print("ok - %s" % name, flush=True)
        else:
            self.failed += 1
            print("not ok - %s" % name, flush=True)
            if detail is not None:
                for line in str(detail).splitlines()[:20]:
                    print("#   %s" % line, flush=True)
        return bool(cond)

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got  %r\nwant %r" % (got, want))

    def skip(self, why):
        print("skip - %s" % why, flush=True)

    def done(self):
        sys.exit(1 if self.failed else 0)


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, host="127.0.0.1", timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class Response:
    def __init__(self, raw, close_notify, error=None):
        self.raw = raw
        self.close_notify = close_notify
        self.error = error
        head, sep, body = raw.partition(b"\r\n")
        self.header = head.decode("utf-8", "replace") if sep else None
        self.body = body
        self.status = None
        self.meta = None
        if self.header is not None and len(self.header) >= 2 \
                and self.header[:2].isdigit():
            self.status = int(self.header[:2])
            self.meta = self.header[3:]

    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "Response(%r, %r, close_notify=%r, error=%r)" % (
            self.status, self.meta, self.close_notify, self.error)


def client_context(min_version=None, max_version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if min_version is not None:
        ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


def request(port, url=None, raw=None, sni="localhost", host="127.0.0.1",
            ctx=None, timeout=10.0, session=None, want_session=False,
            source=None, prefix=None):
    """one gemini request over a fresh tls connection. raw: exact bytes to
    send (no CRLF added). source: the local address to connect from;
    prefix: bytes sent in the clear before the handshake (a PROXY header).
    returns a Response (status None on failure)."""
    ctx = ctx or client_context()
    data = raw if raw is not None else url.encode("utf-8") + b"\r\n"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    out = b""
    close_notify = False
    err = None
    tls = None
    try:
        if source is not None:
            s.bind((source, 0))
        s.connect((host, port))
        if prefix is not None:
            s.sendall(prefix)
        tls = ctx.wrap_socket(s, server_hostname=sni,
                              suppress_ragged_eofs=False, session=session)
        tls.sendall(data)
        while True:
            chunk = tls.recv(65536)
            if not chunk:
                close_notify = True     # a clean tls close
                break
            out += chunk
    except ssl.SSLEOFError as e:
        err = "eof without close_notify: %s" % e
    except (OSError, ssl.SSLError) as e:
        err = repr(e)
    r = Response(out, close_notify, err)
    if want_session and tls is not None:
        r.session = tls.session
        r.session_reused = tls.session_reused
    try:
        (tls or s).close()
    except OSError:
        pass
    return r


def plain_request(port, data, host="127.0.0.1", timeout=10.0):
    """bytes over plain tcp (gopher, finger): everything until eof"""
    s = socket.create_connection((host, port), timeout=timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    finally:
        s.close()
    return out


class Server:
    """a capsuled started on free loopback ports with a throwaway config.

    root: the capsule directory (default: the bundled capsule/)
    top: extra top-level config lines; server: extra lines in the server
    block; config: a whole config text instead ({port}, {root}, {state}
    are filled in)."""

    def __init__(self, root=None, top="", server="", config=None,
                 name="localhost", aliases=("127.0.0.1", "::1"),
                 workers=1, ipv6=False):
        self.dir = tempfile.mkdtemp(prefix="capsuled-test-")
        os.chmod(self.dir, 0o755)
        self.root = root or os.path.join(TOP, "capsule")
        self.state = os.path.join(self.dir, "state")
        self.port = free_port()
        self.port6 = free_port(socket.AF_INET6, "::1") if ipv6 else None
        self.conf = os.path.join(self.dir, "capsuled.conf")
        self.logfile = os.path.join(self.dir, "stderr.log")
        self.proc = None
        user = 'user = "nobody"\n' if os.geteuid() == 0 else ""
        if config is None:
            listen = '"127.0.0.1:%d"' % self.port
            if ipv6:
                listen += ', "[::1]:%d"' % self.port6
            al = ", ".join('"%s"' % a for a in aliases)
            config = (
                'listen = {%s}\n' % listen +
                'state-dir = "{state}"\n' + user +
                'log-level = "debug"\n' + 'workers = %d\n' % workers +
                top + "\n" +
                'server "%s" {\n' % name +
                '  aliases = {%s}\n' % al +
                '  root = "{root}"\n  lang = "en-GB"\n' + server + "\n}\n")
        self.config_text = config.replace("{port}", str(self.port)) \
            .replace("{root}", self.root).replace("{state}", self.state)
        with open(self.conf, "w") as f:
            f.write(self.config_text)

    def url(self, path="/", host="localhost"):
        return "gemini://%s:%d%s" % (host, self.port, path)

    def start(self, wait=True):
        self.errf = open(self.logfile, "ab")
        self.proc = subprocess.Popen(
            [CAPSULED, "-f", "-c", self.conf], stdout=self.errf,
            stderr=subprocess.STDOUT, cwd=self.dir)
        if wait and not wait_port(self.port):
            raise RuntimeError("capsuled did not start:\n" + self.log())
        return self

    def log(self):
        try:
            with open(self.logfile, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, needle, timeout=5.0):
        end = time.time() + timeout
        while time.time() < end:
            if needle in self.log():
                return True
            time.sleep(0.05)
        return False

    def signal(self, sig):
        self.proc.send_signal(sig)

    def reload(self):
        self.signal(signal.SIGHUP)

    def pids(self):
        """the master and its workers"""
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)],
                             capture_output=True, text=True).stdout
        return [self.proc.pid] + [int(p) for p in out.split()]

    def worker_pid(self):
        """the first worker, once one has started (within 5 s), or None"""
        for _ in range(100):
            kids = self.pids()[1:]
            if kids:
                return kids[0]
            time.sleep(0.05)
        return None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.errf.close()
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

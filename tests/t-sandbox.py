#!/usr/bin/env python3
"""capsuled's sandbox, seen from outside the running daemon (issue 8).

- the workers have a non-root uid and gid (when started as root), no
  capabilities and NoNewPrivs: 1, read from /proc/PID/status;
- a symlink inside the root pointing outside it cannot be read: 51, and
  the outside file's content never appears;
- landlock: proc shows nothing of it, so the test asks the running worker
  itself. it stops the worker with ptrace and makes it call openat() on
  absolute paths: a world-readable file outside the roots must fail with
  EACCES (a process of the worker's uid without landlock reads it), a file
  inside the root must open, and creating a file in a directory the
  worker's uid may write must fail. the same injection into a capsuled
  started where landlock_create_ruleset fails with ENOSYS (as on a kernel
  without landlock: a seccomp filter in the test says so) opens the
  outside file, so the refusal is landlock's and not the method's;
- which of the two is in force is in the log;
- seccomp: the worker's status says Seccomp: 2, and the injected calls
  socket(AF_INET), execve and unshare(CLONE_NEWUSER) fail with EPERM while
  socket(AF_UNIX) works; the same calls in the master (no filter) give an
  inet socket and ENOENT for the missing program.
"""
import ctypes
import errno
import os
import platform
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import gemtest  # noqa: E402
from gemtest import Tap, Server, request, wait_port  # noqa: E402

t = Tap()
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                        ctypes.c_void_p]
libc.syscall.restype = ctypes.c_long
X86_64 = platform.machine() == "x86_64"
SYS_LANDLOCK_CREATE_RULESET = 444
ROOT = os.geteuid() == 0


def kernel_landlock_abi():
    if not X86_64:
        return -1
    v = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                     ctypes.c_uint32(1))
    return v if v > 0 else 0


# ---- seccomp: landlock's syscalls fail with ENOSYS, as on old kernels ----

def no_landlock():
    """preexec_fn: a seccomp filter answering landlock_* with ENOSYS"""
    def ins(code, jt, jf, k):
        return struct.pack("HBBI", code, jt, jf, k)
    prog = b"".join([
        ins(0x20, 0, 0, 4),             # a = arch
        ins(0x15, 0, 4, 0xc000003e),    # x86_64? else allow
        ins(0x20, 0, 0, 0),             # a = nr
        ins(0x35, 0, 2, 444),           # nr >= landlock_create_ruleset
        ins(0x25, 1, 0, 446),           # nr > landlock_restrict_self: allow
        ins(0x06, 0, 0, 0x00050000 | errno.ENOSYS),
        ins(0x06, 0, 0, 0x7fff0000),    # allow
    ])
    buf = ctypes.create_string_buffer(prog)
    fprog = struct.pack("HxxxxxxQ", len(prog) // 8, ctypes.addressof(buf))
    fbuf = ctypes.create_string_buffer(fprog)
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(
            22, 2, ctypes.c_void_p(ctypes.addressof(fbuf)), 0, 0) != 0:
        os._exit(99)


class SeccompServer(Server):
    def start(self, wait=True):
        self.errf = open(self.logfile, "ab")
        self.proc = subprocess.Popen(
            [gemtest.CAPSULED, "-f", "-c", self.conf], stdout=self.errf,
            stderr=subprocess.STDOUT, cwd=self.dir, preexec_fn=no_landlock)
        if wait and not wait_port(self.port):
            raise RuntimeError("capsuled did not start:\n" + self.log())
        return self


# ---- ptrace: make a stopped worker run one system call ----

PTRACE_GETREGS, PTRACE_SETREGS = 12, 13
PTRACE_PEEKDATA, PTRACE_POKEDATA = 2, 5
PTRACE_SINGLESTEP, PTRACE_DETACH = 9, 17
PTRACE_SEIZE, PTRACE_INTERRUPT = 0x4206, 0x4207
REGS = ["r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
        "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs",
        "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"]
SYS_OPENAT, SYS_CLOSE = 257, 3
SYS_SOCKET, SYS_EXECVE, SYS_UNSHARE = 41, 59, 272
CLONE_NEWUSER = 0x10000000
NOWHERE = "/nonexistent/t-sandbox"
AT_FDCWD = -100


class Regs(ctypes.Structure):
    _fields_ = [(n, ctypes.c_ulonglong) for n in REGS]


def _pt(req, pid, addr=0, data=0):
    ctypes.set_errno(0)
    r = libc.ptrace(req, pid, ctypes.c_void_p(addr), ctypes.c_void_p(data))
    e = ctypes.get_errno()
    if r == -1 and e != 0:
        raise OSError(e, "ptrace %d: %s" % (req, os.strerror(e)))
    return r


def _wait(pid):
    _, status = os.waitpid(pid, 0x40000000)         # __WALL
    if not os.WIFSTOPPED(status):
        raise OSError(errno.ECHILD, "tracee did not stop: %#x" % status)


class Injector:
    """attach to pid, stopped in a system call; run calls; detach"""

    def __init__(self, pid):
        self.pid = pid

    def __enter__(self):
        for _ in range(40):
            _pt(PTRACE_SEIZE, self.pid)
            _pt(PTRACE_INTERRUPT, self.pid)
            _wait(self.pid)
            self.saved = Regs()
            _pt(PTRACE_GETREGS, self.pid, 0, ctypes.addressof(self.saved))
            word = _pt(PTRACE_PEEKDATA, self.pid, self.saved.rip - 2) \
                & 0xffff
            if word == 0x050f:          # stopped just after a syscall
                return self
            _pt(PTRACE_DETACH, self.pid)
            time.sleep(0.05)
        raise OSError(errno.EAGAIN, "worker never stopped in a syscall")

    def __exit__(self, *exc):
        _pt(PTRACE_SETREGS, self.pid, 0, ctypes.addressof(self.saved))
        _pt(PTRACE_DETACH, self.pid)

    def syscall(self, nr, *args, data=b""):
        """nr(args) in the tracee; data is put on its stack (below the red
        zone) and its address replaces the string "DATA" among args"""
        r = Regs.from_buffer_copy(self.saved)
        addr = (self.saved.rsp - 1024) & ~15
        data = data + b"\0" * (8 - len(data) % 8)
        old = []
        for off in range(0, len(data), 8):
            old.append(_pt(PTRACE_PEEKDATA, self.pid, addr + off))
            _pt(PTRACE_POKEDATA, self.pid, addr + off,
                struct.unpack("Q", data[off:off + 8])[0])
        vals = [addr if a == "DATA" else a for a in args]
        vals += [0] * (4 - len(vals))
        r.rax, r.orig_rax = nr, (1 << 64) - 1   # no restart of the old call
        r.rdi, r.rsi, r.rdx, r.r10 = [v & ((1 << 64) - 1) for v in vals]
        r.rip = self.saved.rip - 2
        _pt(PTRACE_SETREGS, self.pid, 0, ctypes.addressof(r))
        _pt(PTRACE_SINGLESTEP, self.pid)
        _wait(self.pid)
        out = Regs()
        _pt(PTRACE_GETREGS, self.pid, 0, ctypes.addressof(out))
        for i, w in enumerate(old):
            _pt(PTRACE_POKEDATA, self.pid, addr + 8 * i, w & ((1 << 64) - 1))
        v = out.rax
        return v - (1 << 64) if v >= 1 << 63 else v

    def fd_call(self, nr, *args, data=b""):
        """a call returning a descriptor: 'opened' (then closed again)
        or the errno name"""
        fd = self.syscall(nr, *args, data=data)
        if fd >= 0:
            self.syscall(SYS_CLOSE, fd)
            return "opened"
        return errno.errorcode.get(-fd, str(-fd))

    def call(self, nr, *args, data=b""):
        """'ok' or the errno name"""
        r = self.syscall(nr, *args, data=data)
        return "ok" if r >= 0 else errno.errorcode.get(-r, str(-r))

    def open(self, path, flags=os.O_RDONLY, mode=0):
        """openat() in the tracee: 'opened' (then closed again) or the
        errno name"""
        fd = self.syscall(SYS_OPENAT, AT_FDCWD, "DATA", flags, mode,
                          data=path.encode())
        if fd >= 0:
            self.syscall(SYS_CLOSE, fd)
            return "opened"
        return errno.errorcode.get(-fd, str(-fd))


def ptrace_failed(e):
    if e.errno == errno.EPERM and not ROOT:
        t.skip("ptrace is not permitted here (yama?): %s" % e)
    else:
        t.ok(False, "ptrace: %s" % e)


def as_uid_reads(uid, gid, path):
    """can a process of uid:gid, without landlock, read path?"""
    def drop():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    r = subprocess.run(["cat", path], capture_output=True,
                       preexec_fn=drop if ROOT else None)
    return r.returncode == 0


def status_of(pid):
    with open("/proc/%d/status" % pid) as f:
        st = f.read()

    def field(name):
        m = re.search(r"^%s:\s*(.*)$" % name, st, re.M)
        return m.group(1).split() if m else []
    return field


def seccomp_calls(srv, wpid, mpid):
    """what the filter refuses the worker, against the master, which has
    no filter, as the control"""
    try:
        got = {}
        for who, pid in (("worker", wpid), ("master", mpid)):
            with Injector(pid) as inj:
                got[who] = (
                    inj.fd_call(SYS_SOCKET, socket.AF_INET,
                                socket.SOCK_STREAM, 0),
                    inj.fd_call(SYS_SOCKET, socket.AF_UNIX,
                                socket.SOCK_DGRAM, 0),
                    inj.call(SYS_EXECVE, "DATA", 0, 0, data=NOWHERE.encode()),
                    inj.call(SYS_UNSHARE, CLONE_NEWUSER
                             if who == "worker" else 0))
        print("# socket(inet), socket(unix), execve, unshare: worker %s, "
              "master %s" % (got["worker"], got["master"]))
        w, m = got["worker"], got["master"]
        t.eq(m[0], "opened", "the master (no filter) opens an inet socket")
        t.eq(w[0], "EPERM", "the worker cannot create an inet socket")
        t.eq(w[1], "opened", "but can an AF_UNIX one, for syslog")
        t.eq(m[2], "ENOENT", "the master's execve of a missing file says "
             "ENOENT")
        t.eq(w[2], "EPERM", "the worker's execve is refused before that")
        t.eq(w[3], "EPERM", "the worker cannot unshare a user namespace")
    except OSError as e:
        ptrace_failed(e)
    t.eq(request(srv.port, srv.url("/")).status, 20,
         "master and worker serve on after the check")


# ---- a root with ways out, and a secret beside it ----

top = tempfile.mkdtemp(prefix="t-sandbox-")
os.chmod(top, 0o755)
root = os.path.join(top, "root")
outside = os.path.join(top, "outside")
os.mkdir(root)
os.mkdir(outside)
SECRET = "TOP-SECRET-%d" % os.getpid()
secret = os.path.join(outside, "secret.gmi")
with open(secret, "w") as f:
    f.write("# %s\n" % SECRET)
os.chmod(secret, 0o644)
with open(os.path.join(root, "index.gmi"), "w") as f:
    f.write("# inside\n")
os.symlink(secret, os.path.join(root, "abs.gmi"))
os.symlink("../outside/secret.gmi", os.path.join(root, "rel.gmi"))
os.symlink(outside, os.path.join(root, "dir"))
os.symlink("/etc/passwd", os.path.join(root, "passwd.gmi"))
writable = os.path.join(top, "writable")
os.mkdir(writable)
os.chmod(writable, 0o1777)

abi = kernel_landlock_abi()
print("# kernel landlock abi: %s" % (abi if abi >= 0 else "unknown"))

try:
    with Server(root=root, workers=1) as srv:
        wpid = srv.worker_pid()
        field = status_of(wpid)
        if ROOT:
            uids, gids = field("Uid"), field("Gid")
            t.ok(uids and all(u != "0" for u in uids),
                 "worker uids are not root (%s)" % " ".join(uids))
            t.ok(gids and all(g != "0" for g in gids),
                 "worker gids are not root (%s)" % " ".join(gids))
            t.ok("0" not in field("Groups"), "no root supplementary group")
            t.eq(field("CapEff"), ["0000000000000000"],
                 "worker has no effective capabilities")
            t.eq(field("CapPrm"), ["0000000000000000"],
                 "nor permitted ones")
        else:
            t.skip("not root: the privilege drop is not exercised")
        t.eq(field("NoNewPrivs"), ["1"], "worker has NoNewPrivs: 1")
        mpid = srv.proc.pid
        t.ok(int(status_of(mpid)("Uid")[0]) == os.geteuid(),
             "the master keeps its uid to reload and respawn")

        # symlinks out of the root
        for name in ("abs.gmi", "rel.gmi", "dir/secret.gmi", "passwd.gmi"):
            r = request(srv.port, srv.url("/" + name))
            t.eq(r.status, 51, "symlink /%s out of the root: 51" % name)
            t.ok(SECRET.encode() not in r.raw and b"root:" not in r.raw,
                 "and nothing of the outside file in the answer")
        t.eq(request(srv.port, srv.url("/")).status, 20,
             "the root itself is served")

        log = srv.log()
        in_force = re.search(r"landlock abi (\d+) in force", log)
        fallback = "landlock is not available" in log
        if abi > 0:
            t.ok(in_force and not fallback,
                 "the log says landlock is in force", log[-1500:])
        elif abi == 0:
            t.ok(fallback and not in_force,
                 "the log says landlock is not available", log[-1500:])

        # ask the worker itself
        if not X86_64:
            t.skip("the ptrace check is written for x86_64")
        elif abi <= 0:
            t.skip("no landlock on this kernel to check")
        else:
            st = status_of(wpid)
            wuid, wgid = int(st("Uid")[0]), int(st("Gid")[0])
            t.ok(as_uid_reads(wuid, wgid, secret),
                 "uid %d without landlock can read the outside file" % wuid)
            try:
                with Injector(wpid) as inj:
                    got_out = inj.open(secret)
                    got_etc = inj.open("/etc/passwd")
                    got_in = inj.open(os.path.join(root, "index.gmi"))
                    got_new = inj.open(os.path.join(writable, "new"),
                                       os.O_WRONLY | os.O_CREAT, 0o644)
                print("# worker %d asked to open: outside file %s, "
                      "/etc/passwd %s, inside the root %s, a new file %s"
                      % (wpid, got_out, got_etc, got_in, got_new))
                t.eq(got_in, "opened", "the worker opens a file in its "
                     "root by absolute path")
                t.eq(got_out, "EACCES", "landlock refuses the worker "
                     "the outside file by absolute path")
                t.eq(got_etc, "EACCES", "and /etc/passwd")
                t.eq(got_new, "EACCES", "and creating a file where its "
                     "uid may write")
                t.ok(not os.path.exists(os.path.join(writable, "new")),
                     "no file was created")
            except OSError as e:
                ptrace_failed(e)
            time.sleep(0.2)
            r = request(srv.port, srv.url("/"))
            t.eq(r.status, 20, "the worker serves on after the check")
            t.ok(wpid in srv.pids(), "the same worker")

        # seccomp: the kernel's word, then the worker's calls
        field = status_of(wpid)
        t.eq(field("Seccomp"), ["2"], "worker is under a seccomp filter")
        t.ok("seccomp filter in force" in srv.log(),
             "the log says the seccomp filter is in force")
        if X86_64:
            seccomp_calls(srv, wpid, mpid)

    # the fallback: landlock_create_ruleset says ENOSYS
    if abi > 0 and X86_64:
        with SeccompServer(root=root, workers=1) as srv:
            wpid = srv.worker_pid()
            t.ok(srv.wait_log("landlock is not available", 5),
                 "without landlock the fallback is logged", srv.log()[-1500:])
            t.ok(not re.search(r"landlock abi \d+ in force", srv.log()),
                 "and landlock is not claimed")
            t.eq(status_of(wpid)("NoNewPrivs"), ["1"],
                 "the worker still has NoNewPrivs: 1")
            t.eq(status_of(wpid)("Seccomp"), ["2"],
                 "and its seccomp filter")
            t.eq(request(srv.port, srv.url("/")).status, 20,
                 "and serves")
            t.eq(request(srv.port, srv.url("/abs.gmi")).status, 51,
                 "the symlink out is still refused (openat2)")
            try:
                with Injector(wpid) as inj:
                    got = inj.open(secret)
                print("# worker %d without landlock asked to open the "
                      "outside file: %s" % (wpid, got))
                t.eq(got, "opened", "the same check opens the outside file "
                     "without landlock: the refusal above was landlock's")
            except OSError as e:
                ptrace_failed(e)
            t.eq(request(srv.port, srv.url("/")).status, 20,
                 "the worker serves on after the check")
finally:
    import shutil
    shutil.rmtree(top, ignore_errors=True)

t.done()

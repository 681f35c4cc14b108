#!/usr/bin/env python3
"""The access log under logrotate: contrib/logrotate/capsuled (its paths
put in a temporary directory, its postrotate signalling our capsuled)
rotates the file, capsuled reopens it on SIGUSR1, and no request line is
lost or written to the rotated file. Lines follow the documented format
TIME CLIENT HOST "PATH" STATUS BYTES DURATIONms."""
import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
from gemtest import TOP, Tap, Server, request  # noqa: E402

t = Tap()
LINE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \S+ \S+ "[^"]*" '
                  r'\d\d \d+ \d+ms$')


def lines(path):
    try:
        with open(path) as f:
            return [l.rstrip("\n") for l in f]
    except OSError:
        return []


def wait_for(cond, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


srv = Server(top="")
logdir = os.path.join(srv.dir, "log")
os.mkdir(logdir)
os.chmod(srv.dir, 0o755)
os.chmod(logdir, 0o755)
# as under systemd, the log directory belongs to the user capsuled runs as
# (the test's Server drops to nobody when started as root)
if os.geteuid() == 0:
    pw = pwd.getpwnam("nobody")
    os.chown(logdir, pw.pw_uid, pw.pw_gid)
    su = "su nobody %s" % grp.getgrgid(pw.pw_gid).gr_name
else:
    su = None
access = os.path.join(logdir, "access.log")
srv.config_text = srv.config_text.replace(
    'log-level = "debug"\n', 'log-level = "debug"\naccess-log = "%s"\n' % access)
with open(srv.conf, "w") as f:
    f.write(srv.config_text)

try:
    srv.start()
    r = request(srv.port, srv.url("/principles.gmi"))
    t.eq(r.status, 20, "a request before the rotation is served")
    t.ok(wait_for(lambda: any('"/principles.gmi"' in l
                              for l in lines(access))),
         "it is in the access log", srv.log())
    first = lines(access)
    t.ok(first and all(LINE.match(l) for l in first),
         "access log lines follow the documented format", "\n".join(first))
    fields = first[-1].split() if first else []
    t.ok(len(fields) == 7 and fields[1] == "127.0.0.1" and
         fields[2] == "localhost" and fields[4] == "20",
         "client, host and status are where the manual says", first)

    # rotate with the shipped logrotate file, pointed at our log and pid
    with open(os.path.join(TOP, "contrib", "logrotate", "capsuled")) as f:
        conf = f.read()
    conf = conf.replace("/var/log/capsuled/access.log", access)
    conf, n = re.subn(r"(?m)^\t\tsystemctl kill .*$",
                      "\t\t/bin/kill -USR1 %d" % srv.proc.pid, conf)
    t.ok(n == 1, "contrib/logrotate/capsuled signals capsuled in postrotate")
    conf, n = re.subn(r"(?m)^\tsu capsuled capsuled$",
                      "\t" + su if su else "", conf)
    t.ok(n == 1, "contrib/logrotate/capsuled rotates as the capsuled user")
    rconf = os.path.join(srv.dir, "logrotate.conf")
    with open(rconf, "w") as f:
        f.write(conf)
    rotated = access + ".1"
    lr = shutil.which("logrotate")
    if lr:
        p = subprocess.run([lr, "-f", "-s", os.path.join(srv.dir, "lr.state"),
                            rconf], capture_output=True, text=True)
        t.ok(p.returncode == 0, "logrotate -f rotates the access log",
             p.stdout + p.stderr)
    else:
        t.skip("logrotate not installed: rotating by hand as it would")
        os.rename(access, rotated)
        srv.signal(signal.SIGUSR1)
    t.ok(wait_for(lambda: "access log reopened" in srv.log() or
                  os.path.exists(access)),
         "capsuled reopens the log on SIGUSR1", srv.log())

    r = request(srv.port, srv.url("/strategy.gmi"))
    t.eq(r.status, 20, "a request after the rotation is served")
    t.ok(wait_for(lambda: any('"/strategy.gmi"' in l
                              for l in lines(access))),
         "it is in the new access log", srv.log())
    t.ok(any('"/principles.gmi"' in l for l in lines(rotated)),
         "the earlier line is in the rotated file")
    t.ok(not any('"/strategy.gmi"' in l for l in lines(rotated)),
         "nothing was written to the rotated file after the rotation")
    t.ok(srv.proc.poll() is None, "capsuled kept running")
finally:
    srv.cleanup()
t.done()

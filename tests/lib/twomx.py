#!/usr/bin/env python3
"""the SMTP side of tests/t-store-two-mx.sh: send enquiries to two mail
exchangers, and read what reached the sink.

  twomx.py send PORT_A PORT_B N SENDERS BOTH KILLFILE
      N enquiries, enquiry j from sender s(j % SENDERS)@example.org; the
      first BOTH are sent to both hosts at the same moment (a barrier),
      the rest to one host each (even j to A, odd to B). a 4xx or a lost
      connection is tried again, as an MTA would, for up to 120 s.
      KILLFILE is created once half the enquiries are in.
  twomx.py tempfail PORT_A PORT_B PREFIX N
      N enquiries from PREFIXi@example.org, once each, no retry: prints
      how many were answered 4xx
  twomx.py retry PORT_A PORT_B PREFIX N
      the same, tried again until taken
  twomx.py check SINKDIR N SENDERS DUPS [PREFIX M]
      ok / not ok lines about the routed copies and acknowledgements
"""
import os
import re
import smtplib
import sys
import threading
import time

STAFF = "staff@rmet.org"
ENQ = "enquiries@rmet.org"


def message(j, sender):
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: enquiry %s\r\n"
            "Message-ID: <enq.%s@example.org>\r\n\r\n"
            "Hello, this is enquiry %s.\r\n" % (sender, ENQ, j, j, j))


def send_once(port, sender, msg):
    """0 taken, 4 tempfail, 5 refused, -1 no answer"""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
            s.sendmail(sender, [ENQ], msg)
        return 0
    except smtplib.SMTPResponseException as e:
        return 4 if 400 <= e.smtp_code < 500 else 5
    except smtplib.SMTPRecipientsRefused as e:
        codes = [c for c, _ in e.recipients.values()]
        return 4 if all(400 <= c < 500 for c in codes) else 5
    except (OSError, smtplib.SMTPException):
        return -1


def send_retry(port, sender, msg, deadline):
    while time.time() < deadline:
        rc = send_once(port, sender, msg)
        if rc == 0:
            return True
        if rc == 5:
            return False
        time.sleep(0.3)
    return False


def cmd_send(pa, pb, n, senders, both, killfile):
    deadline = time.time() + 120
    lock = threading.Lock()
    done = [0]
    failed = []

    def finished(ok, j):
        with lock:
            done[0] += 1
            if not ok:
                failed.append(j)
            if done[0] == n // 2:
                open(killfile, "w").close()

    jobs = list(range(n))
    jlock = threading.Lock()

    def next_job():
        with jlock:
            return jobs.pop(0) if jobs else None

    def worker():
        while True:
            j = next_job()
            if j is None:
                return
            sender = "s%d@example.org" % (j % senders)
            msg = message(j, sender)
            if j < both:
                # the same message to both hosts at the same moment
                bar = threading.Barrier(2)
                res = [False, False]

                def one(i, port):
                    bar.wait()
                    res[i] = send_retry(port, sender, msg, deadline)
                ts = [threading.Thread(target=one, args=(0, pa)),
                      threading.Thread(target=one, args=(1, pb))]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
                finished(all(res), j)
            else:
                port = pa if j % 2 == 0 else pb
                finished(send_retry(port, sender, msg, deadline), j)

    ws = [threading.Thread(target=worker) for _ in range(8)]
    for w in ws:
        w.start()
    for w in ws:
        w.join()
    print("sent %d, failed %d %s" % (n - len(failed), len(failed),
                                     sorted(failed)[:10]))
    return 0 if not failed else 1


def cmd_once(pa, pb, prefix, n, retry):
    deadline = time.time() + 60
    temp = taken = 0
    for i in range(n):
        sender = "%s%d@example.org" % (prefix, i)
        msg = message("%s%d" % (prefix, i), sender)
        port = pa if i % 2 == 0 else pb
        if retry:
            taken += send_retry(port, sender, msg, deadline)
        else:
            rc = send_once(port, sender, msg)
            temp += rc == 4
            taken += rc == 0
    print("%d %d" % (temp, taken))
    return 0


def read_sink(sinkdir):
    routed = {}     # enquiry j -> [references]
    acks = {}       # address -> count
    for root, _, files in os.walk(sinkdir):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                text = fh.read().decode("utf-8", "replace")
            head = text.split("\r\n\r\n", 1)[0].split("\n\n", 1)[0]
            rcpts = re.findall(r"^X-Rcpt-Args: <([^>]*)>", head, re.M | re.I)
            subj = re.search(r"^Subject: (.*)$", head, re.M)
            subj = subj.group(1).strip() if subj else ""
            if STAFF in rcpts:
                m = re.search(r"enquiry (\S+)$", subj)
                ref = re.search(r"^X-Enquiry-Reference: (\S+)", head, re.M)
                key = m.group(1) if m else "?"
                routed.setdefault(key, []).append(
                    ref.group(1) if ref else None)
            elif re.search(r"^Auto-Submitted: auto-replied", head, re.M):
                for r in rcpts:
                    acks[r] = acks.get(r, 0) + 1
    return routed, acks


def ok(cond, what):
    print("%s - %s" % ("ok" if cond else "not ok", what))
    return 0 if cond else 1


def cmd_check(sinkdir, n, senders, dups, prefix=None, m=0):
    routed, acks = read_sink(sinkdir)
    bad = 0
    keys = [str(j) for j in range(n)]
    copies = sum(len(routed.get(k, [])) for k in keys)
    bad += ok(copies == n + dups, "routed copies: %d of %d (%d sent to both "
              "hosts)" % (copies, n + dups, dups))
    onep = [k for k in keys if len(set(routed.get(k, []))) != 1 or
            None in routed.get(k, [])]
    bad += ok(not onep, "every enquiry has one reference, on both hosts "
              "(%d without: %s)" % (len(onep), onep[:5]))
    refs = set(r for k in keys for r in routed.get(k, []))
    bad += ok(len(refs) == n, "%d distinct references for %d enquiries" %
              (len(refs), n))
    want = set("ENQ-%s-%06d" % (time.strftime("%Y", time.gmtime()), i)
               for i in range(1, n + 1))
    bad += ok(refs == want, "the references are 1 to %d: no gaps, "
              "no duplicates" % n)
    senders_l = ["s%d@example.org" % i for i in range(senders)]
    one = [s for s in senders_l if acks.get(s, 0) != 1]
    bad += ok(not one, "one acknowledgement per sender, %d senders "
              "(others: %s)" % (senders, [(s, acks.get(s, 0))
                                          for s in one[:5]]))
    if prefix:
        ks = ["%s%d" % (prefix, i) for i in range(m)]
        got = [k for k in ks if len(routed.get(k, [])) == 1 and
               routed[k][0]]
        bad += ok(len(got) == m, "after the outage: %d of %d delivered "
                  "with a reference" % (len(got), m))
        a = [k for k in ks if acks.get("%s@example.org" % k, 0) == 1]
        bad += ok(len(a) == m, "after the outage: %d of %d acknowledged "
                  "once" % (len(a), m))
    return 1 if bad else 0


def main():
    a = sys.argv[1:]
    if a[0] == "send":
        return cmd_send(int(a[1]), int(a[2]), int(a[3]), int(a[4]),
                        int(a[5]), a[6])
    if a[0] in ("tempfail", "retry"):
        return cmd_once(int(a[1]), int(a[2]), a[3], int(a[4]),
                        a[0] == "retry")
    if a[0] == "check":
        return cmd_check(a[1], int(a[2]), int(a[3]), int(a[4]),
                         a[5] if len(a) > 5 else None,
                         int(a[6]) if len(a) > 6 else 0)
    return 2


if __name__ == "__main__":
    sys.exit(main())

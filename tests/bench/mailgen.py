#!/usr/bin/env python3
"""push N messages of about 2 KB into an SMTP server, one per connection,
from N distinct senders, over S parallel sessions: the load for the
"every enquiry acknowledged" mail row. usage: mailgen.py PORT N S RCPT TAG"""
import smtplib
import sys
import threading

port, n, sessions, rcpt, tag = (int(sys.argv[1]), int(sys.argv[2]),
                                int(sys.argv[3]), sys.argv[4], sys.argv[5])
body = "\r\n".join("%02d " % i + "x" * 75 for i in range(25)) + "\r\n"
lock = threading.Lock()
state = {"next": 0, "errors": 0}


def worker():
    while True:
        with lock:
            i = state["next"]
            if i >= n:
                return
            state["next"] = i + 1
        sender = "parent%s.%d@example.org" % (tag, i)
        msg = ("From: Parent %d <%s>\r\nTo: <%s>\r\nSubject: enquiry %d\r\n"
               "Message-ID: <%s.%d@example.org>\r\n\r\n%s"
               % (i, sender, rcpt, i, tag, i, body))
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
                s.sendmail(sender, [rcpt], msg)
        except (OSError, smtplib.SMTPException):
            with lock:
                state["errors"] += 1


threads = [threading.Thread(target=worker) for _ in range(sessions)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if state["errors"]:
    print("mailgen: %d errors" % state["errors"], file=sys.stderr)
    sys.exit(1)

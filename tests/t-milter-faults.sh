#!/bin/sh
# enquiry-milter under faults (issue 8), through a real throwaway Postfix
# with milter_default_action = tempfail, counted in smtp-sink:
#   1. the milter is killed (SIGKILL) in the middle of a load of enquiries
#      and restarted: once the queue drains, every enquiry reached
#      governance exactly once and every sender got exactly one
#      acknowledgement;
#   2. the relay that takes acknowledgements is down: they wait in the
#      spool and all go out, once each, when it returns;
#   3. the state directory is full, then unwritable: the milter tempfails
#      (4xx) what it cannot account for and says why; once space returns the
#      retried mail goes through with references and acknowledgements.
#
# Mail path: the enquirers' client -> Postfix smtpd on $PF_PORT (no milter;
# it queues, like the sender's MTA would, and retries what is deferred)
# -> transport to smtpd on $IN_PORT (with the milter) -> relayhost, the
# sink ($PF_SINK). Acknowledgements: milter -> a second sink on $ACK_PORT.
# The state directory is a small tmpfs (as root, where mount works).
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
BIN=${ENQUIRY_MILTER:-$TOP/build/enquiry-milter}
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/milter.sh"

milter_require postfix

GOV=rachelle.stevens@rmet.org
NLOAD=${FAULT_ENQUIRIES:-200}	# phase 1: enquiries ...
NSEND=${FAULT_SENDERS:-50}	# ... from this many senders
KILL_AT=${FAULT_KILL_AT:-40}	# SIGKILL once this many reached governance
NDOWN=20			# phase 2: enquiries while the relay is down
NFULL=5				# phase 3: enquiries per path while full

failed=0
mpid="" mexit=0 apid="" lpid="" mounted=""
# wait_until SECONDS command...: poll every 0.1 s
wait_until() {
	_t=$1; shift
	_i=0
	while [ $_i -lt $((_t * 10)) ]; do
		"$@" && return 0
		sleep 0.1; _i=$((_i + 1))
	done
	"$@"
}

acksink_stop() {
	[ -n "$apid" ] || return 0
	kill "$apid" 2>/dev/null
	wait "$apid" 2>/dev/null
	apid=""
}
cleanup() {
	milter_stop
	[ -z "$lpid" ] || { kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null; }
	acksink_stop
	pf_stop
	[ -z "$mounted" ] || umount "$STATE" 2>/dev/null
	pf_cleanup
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pf_init || { echo "not ok - set up postfix"; exit 1; }
M=$PF_DIR/milter
STATE=$M/state
SOCK=$M/milter.sock
SOCK2=$M/later.sock
ACKS=$PF_DIR/acks/a
mkdir -p "$STATE" "$PF_DIR/acks" && chmod 755 "$M" &&
    chown postfix "$PF_DIR/acks"
IN_PORT=$(pf_other_port "$PF_PORT" "$PF_SINK_PORT")
ACK_PORT=$(pf_other_port "$PF_PORT" "$PF_SINK_PORT" "$IN_PORT")

# a full state directory needs a filesystem of its own: a small tmpfs
if mount -t tmpfs -o size=8m,mode=0755 tmpfs "$STATE" 2>/dev/null; then
	mounted=1
fi

cat >"$M/m.conf" <<EOF
socket         = "unix:$SOCK"
socket-mode    = "0660"
socket-group   = "postfix"
state-dir      = "$STATE"
user           = "nobody"
submit         = "127.0.0.1:$ACK_PORT"
submit-timeout = "5s"
submit-retry-max = "1s"
submit-connections = 3
hostname       = "milter.rmet.test"
enquiry "enquiries@rmet.org" {
	route-to       = {"$GOV"}
	reference      = "ENQ"
	ack-from       = "Rushey Mead Educational Trust <enquiries@rmet.org>"
	ack-template   = "$TOP/etc/templates/enquiry-ack.txt"
	ack-interval   = "7d"
	bounce-address = "enquiries-bounces@rmet.org"
}
EOF

acksink_start() { # [smtp-sink options]
	smtp-sink -u postfix -R "$PF_DIR/acks" -d "a/%H%M%S." "$@" \
	    "127.0.0.1:$ACK_PORT" 64 >>"$PF_DIR/acksink.log" 2>&1 &
	apid=$!
	wait_until 5 python3 -c "import socket; socket.create_connection(('127.0.0.1', $ACK_PORT), 1).close()" 2>/dev/null
}

# enquiries go to the milter's smtpd through the queue of the first one;
# that smtpd gets another name, or Postfix's client sees a loop. no cached
# connections: an smtpd session that began while the milter was down
# answers 451 to every message it is given until it ends (seen: 17 s of
# retries after the restart), where a sender's fresh session gets through
pf_config "milter_protocol = 6" "milter_default_action = tempfail" \
    "milter_connect_timeout = 5s" "smtp_connection_cache_on_demand = no" \
    "transport_maps = inline:{enquiries@rmet.org=smtp:[127.0.0.1]:$IN_PORT}" \
    || { echo "not ok - postfix config"; exit 1; }
postconf -c "$PF_DIR/etc" -Me "127.0.0.1:$IN_PORT/inet = 127.0.0.1:$IN_PORT inet n - n - - smtpd -o smtpd_milters=unix:$SOCK,unix:$SOCK2 -o myhostname=inside.rmet.test" ||
    { echo "not ok - postfix master.cf"; exit 1; }

# a second milter after ours, which tempfails the first end of message of
# every enquiry whose subject has a token in FIRST..LAST: ours has recorded
# the enquiry and spooled its acknowledgement, the MTA then keeps nothing.
# the window a crash between our commit and the MTA's commit opens, made
# every time. (the milter protocol: length, command, data; we ask for
# every step and answer each "continue", and "tempfail" at that end)
cat >"$PF_DIR/later.py" <<'EOF'
import os, re, socket, socketserver, struct, sys, threading
path, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seen, lock = set(), threading.Lock()
def readn(f, n):
    b = f.read(n)
    if len(b) != n: raise EOFError
    return b
class H(socketserver.StreamRequestHandler):
    def handle(self):
        tok = None
        try:
            while True:
                n = struct.unpack("!I", readn(self.rfile, 4))[0]
                data = readn(self.rfile, n)
                cmd, data = data[:1], data[1:]
                if cmd == b"O":
                    self.send(b"O", struct.pack("!III", 6, 0, 0))
                elif cmd in (b"D", b"A"):
                    tok = None if cmd == b"A" else tok
                elif cmd == b"Q":
                    return
                elif cmd == b"K":
                    tok = None
                elif cmd == b"L":
                    name, _, val = data.partition(b"\0")
                    m = re.search(rb"T(\d{4})", val)
                    if name.lower() == b"subject" and m:
                        tok = int(m.group(1))
                    self.send(b"c")
                elif cmd == b"E":
                    r = b"c"
                    if tok is not None and first <= tok <= last:
                        with lock:
                            if tok not in seen:
                                seen.add(tok)
                                r = b"t"
                                print("tempfail T%04d" % tok, flush=True)
                    tok = None
                    self.send(r)
                else:
                    self.send(b"c")
        except (EOFError, OSError):
            pass
    def send(self, cmd, data=b""):
        self.wfile.write(struct.pack("!I", len(data) + 1) + cmd + data)
        self.wfile.flush()
class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
if os.path.exists(path): os.unlink(path)
srv = S(path, H)
os.chmod(path, 0o666)
srv.serve_forever()
EOF

# the enquirers: THREADS sessions, enquiry i has token T<first+i> in its
# subject and Message-ID, and comes from s<base + i * nsenders // n>@example.org:
# a sender's enquiries follow each other, so acknowledgements are due all
# through the load, and the sessions race with the same sender's others
cat >"$PF_DIR/send.py" <<'EOF'
import smtplib, sys, threading, time
port, first, n, nsenders, base, threads, gap = map(float, sys.argv[1:8])
port, first, n, nsenders, base, threads = map(int, (port, first, n, nsenders, base, threads))
nomsgid = sys.argv[8:9] == ["nomsgid"]
failures = []
def work(k):
    s = None
    for i in range(k, n, threads):
        tok = "T%04d" % (first + i)
        snd = "s%d@example.org" % (base + i * nsenders // n)
        msg = ("From: Sender %d <%s>\r\nTo: enquiries@rmet.org\r\n"
               "Subject: Enquiry %s\r\n" % (base + i * nsenders // n, snd, tok))
        if not nomsgid:
            msg += "Message-ID: <%s.faults@example.org>\r\n" % tok
        msg += ("Date: Wed, 25 Nov 2026 12:00:00 +0000\r\n\r\n"
                "Hello, a question about admissions (%s).\r\n" % tok)
        for attempt in range(3):
            try:
                if s is None:
                    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
                s.sendmail(snd, ["enquiries@rmet.org"], msg)
                break
            except Exception as e:
                s = None
                if attempt == 2:
                    failures.append("%s: %s" % (tok, e))
        time.sleep(gap)
    if s is not None:
        try: s.quit()
        except Exception: pass
ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
for f in failures: print("# send failed: " + f)
sys.exit(1 if failures else 0)
EOF

# counts over both sinks: governance copies by token, acknowledgements by
# recipient. prints name=value pairs for the shell
cat >"$PF_DIR/count.py" <<'EOF'
import os, re, sys, collections
govdir, ackdir, gov = sys.argv[1], sys.argv[2], sys.argv[3].lower()
def msgs(d):
    if not os.path.isdir(d): return
    for f in sorted(os.listdir(d)):
        try:
            with open(os.path.join(d, f), "rb") as fh:
                yield fh.read().decode("utf-8", "replace").replace("\r\n", "\n")
        except OSError:
            pass
def head(t):
    h = t.split("\n\n", 1)[0]
    return h
tok = collections.Counter(); refs = {}; noref = 0; gtotal = 0
for t in msgs(govdir):
    h = head(t)
    if "x-rcpt-args: <%s>" % gov not in h.lower(): continue
    gtotal += 1
    m = re.search(r"^Subject: .*?(T\d{4})", h, re.M)
    tok[m.group(1) if m else "none"] += 1
    r = re.search(r"^X-Enquiry-Reference: (ENQ-\d{4}-\d{6})$", h, re.M)
    if r: refs.setdefault(r.group(1), set()).add(m.group(1) if m else "none")
    else: noref += 1
per = collections.Counter(); atotal = 0; bad = 0; mismatch = 0
govref = {}
for r, ts in refs.items():
    for k in ts: govref.setdefault(k, set()).add(r)
for t in msgs(ackdir):
    h = head(t)
    atotal += 1
    # the reference the sender was given is the one governance has
    r = re.search(r"^Subject: Re: \[(ENQ-\d{4}-\d{6})\] .*?(T\d{4})", h, re.M)
    if not (r and govref.get(r.group(2)) == {r.group(1)}):
        mismatch += 1
    r = re.search(r"^X-Rcpt-Args: <([^>]*)>", h, re.M)
    per[r.group(1).lower() if r else "none"] += 1
    if not (re.search(r"^X-Mail-Args: <>", h, re.M) and
            re.search(r"^Auto-Submitted: auto-replied$", h, re.M) and
            re.search(r"^Subject: Re: \[ENQ-\d{4}-\d{6}\]", h, re.M)):
        bad += 1
print("gov=%d tokens=%d govdup=%d noref=%d refs=%d refshared=%d "
      "acks=%d ackrcpts=%d ackmax=%d ackdup=%d ackbad=%d refmismatch=%d" % (
    gtotal, len(tok), sum(1 for v in tok.values() if v > 1), noref,
    len(refs), sum(1 for v in refs.values() if len(v) > 1),
    atotal, len(per), max(per.values()) if per else 0,
    sum(1 for v in per.values() if v > 1), bad, mismatch))
for want in sys.argv[4:]:
    # FIRST-LAST: every token in the range present exactly once?
    a, b = map(int, want.split("-"))
    miss = [k for k in range(a, b + 1) if tok["T%04d" % k] != 1]
    print("range_%d_%d_bad=%d" % (a, b, len(miss)))
EOF

# sets gov tokens govdup noref refs refshared acks ackrcpts ackmax ackdup
# ackbad (and range_A_B_bad for each range asked)
count() {
	eval "$(python3 "$PF_DIR/count.py" "$PF_SINK" "$ACKS" "$GOV" "$@")"
}
spool_new() { find "$STATE/spool/new" -type f 2>/dev/null | wc -l; }
spool_tmp() { find "$STATE/spool/tmp" -type f 2>/dev/null | wc -l; }
db_rows() { "$BIN" -c "$M/m.conf" -l 100000 2>/dev/null | grep -c '^ENQ-'; }
log_count() { grep -c -e "$1" "$M/milter.log" 2>/dev/null; }
gov_count() { sink_for_rcpt "$GOV" | grep -c .; }
ack_count() { find "$ACKS" -type f 2>/dev/null | wc -l; }
drained() { [ "$(pf_queue_count)" -eq 0 ] && [ "$(spool_new)" -eq 0 ]; }
# flush the queue and wait until it and the ack spool are empty and the
# sinks hold N governance copies and A acknowledgements
drain() { # drain N A SECONDS
	_i=0
	while [ $_i -lt $(($3 * 2)) ]; do
		pf_flush
		if drained && [ "$(gov_count)" -ge "$1" ] &&
		    [ "$(ack_count)" -ge "$2" ]; then
			sleep 0.3	# a straggler, if there were one
			drained && return 0
		fi
		sleep 0.5; _i=$((_i + 1))
	done
	return 1
}

T0=$(date +%s)
TP=$T0
took() { echo "# $1 took $(( $(date +%s) - TP )) s"; TP=$(date +%s); }
sink_start || { echo "not ok - smtp-sink"; exit 1; }
acksink_start || { echo "not ok - acknowledgement sink"; exit 1; }
check "milter started" milter_start
python3 "$PF_DIR/later.py" "$SOCK2" 4001 4999 >"$PF_DIR/later.log" 2>&1 &
lpid=$!
check "second milter started" wait_until 10 test -S "$SOCK2"
pf_start || { echo "not ok - postfix start"; exit 1; }
took "set-up"
ok "throwaway postfix: enquirers on $PF_PORT, milter smtpd on $IN_PORT, sinks on $PF_SINK_PORT (routed) and $ACK_PORT (acks)"
[ -n "$mounted" ] && ok "state directory on an 8 MB tmpfs" ||
    echo "# no tmpfs (mount refused): the full-disk case is skipped"

### 1. SIGKILL in the middle of a load
python3 "$PF_DIR/send.py" "$PF_PORT" 1 "$NLOAD" "$NSEND" 1 4 0.03 \
    >"$PF_DIR/send1.out" 2>&1 &
spid=$!
wait_until 30 sh -c "[ \$(grep -l -r -i -F 'X-Rcpt-Args: <$GOV>' '$PF_SINK' 2>/dev/null | wc -l) -ge $KILL_AT ]"
count
kill -KILL "$mpid"; wait "$mpid" 2>/dev/null; mpid=""
g0=$gov a0=$acks
echo "# before the kill: $gov of $NLOAD enquiries at governance ($tokens distinct), $acks acknowledgements, $(db_rows) recorded"
check "SIGKILL came in the middle of the load ($g0 of $NLOAD routed)" \
    [ "$g0" -lt "$NLOAD" ]
sleep 1
count
echo "# 1 s after the kill (milter down): $gov at governance, $acks acknowledgements, $(db_rows) recorded, queue $(pf_queue_count), spool tmp $(spool_tmp) new $(spool_new)"
check "the enquirers' sessions all handed their mail to the queue" \
    wait_until 40 sh -c "! kill -0 $spid 2>/dev/null"
wait "$spid"; src=$?
check "all $NLOAD enquiries accepted by the first Postfix (send.py exit $src)" \
    [ "$src" -eq 0 ]
check "milter restarted" milter_start
drain "$NLOAD" "$NSEND" 40
count 1-$NLOAD
deferred=$(grep -c 'status=deferred' "$PF_DIR/maillog")
dups=$(log_count 'ack=duplicate')
echo "# after restart and drain: $gov at governance ($tokens distinct tokens, $govdup twice or more), $acks acknowledgements to $ackrcpts senders (most to one: $ackmax), $(db_rows) recorded"
echo "# deliveries deferred by the kill: $deferred; retries the milter knew already (same reference, no second ack): $dups; spool tmp $(spool_tmp) new $(spool_new)"
eval "rbad=\$range_1_${NLOAD}_bad"
checke "every enquiry at governance exactly once ($tokens of $NLOAD tokens, $rbad not once)" \
    '[ "$gov" -eq "$NLOAD" ] && [ "$rbad" -eq 0 ]'
checke "each routed copy has its own reference ($refs references, $noref without, $refshared shared)" \
    '[ "$refs" -eq "$NLOAD" ] && [ "$noref" -eq 0 ] && [ "$refshared" -eq 0 ]'
checke "every sender acknowledged exactly once ($acks acks, $ackrcpts senders, $ackdup twice)" \
    '[ "$acks" -eq "$NSEND" ] && [ "$ackrcpts" -eq "$NSEND" ] && [ "$ackmax" -eq 1 ]'
checke "acknowledgements: null return path, Auto-Submitted, the reference governance has ($ackbad bad, $refmismatch other reference)" \
    '[ "$ackbad" -eq 0 ] && [ "$refmismatch" -eq 0 ]'
check "each enquiry recorded once ($(db_rows) rows)" [ "$(db_rows)" -eq "$NLOAD" ]
check "queue and spool empty" drained
EXP_GOV=$NLOAD EXP_ACK=$NSEND

took "phase 1 (SIGKILL)"

### 1b. our commit, then the MTA keeps nothing: the second milter tempfails
# the first attempt of each after ours recorded it and spooled its ack.
# NB come through the queue (their Message-IDs); NBX straight to the
# milter's smtpd with no Message-ID, each sent again by the client after
# its 451 (then only what the retry carries tells it is the same enquiry)
NB=20 NBX=5
dup0=$(log_count 'ack=duplicate')
python3 "$PF_DIR/send.py" "$PF_PORT" 4001 "$NB" "$NB" 4001 2 0 \
    >"$PF_DIR/send1b.out" 2>&1
check "$NB enquiries from $NB new senders sent" [ $? -eq 0 ]
python3 "$PF_DIR/send.py" "$IN_PORT" 4501 "$NBX" "$NBX" 4501 1 0 nomsgid \
    >"$PF_DIR/send1bx.out" 2>&1
check "$NBX enquiries without a Message-ID taken on their second attempt" \
    [ $? -eq 0 ]
EXP_GOV=$((EXP_GOV + NB + NBX)) EXP_ACK=$((EXP_ACK + NB + NBX))
drain "$EXP_GOV" "$EXP_ACK" 30
count 4001-$((4000 + NB)) 4501-$((4500 + NBX))
later=$(grep -c '^tempfail' "$PF_DIR/later.log")
dups=$(( $(log_count 'ack=duplicate') - dup0 ))
eval "rbad=\$range_4001_$((4000 + NB))_bad rbadx=\$range_4501_$((4500 + NBX))_bad"
echo "# commit then MTA tempfail: $later first attempts refused after our commit; retries found recorded: $dups; $gov at governance ($rbad of the $NB and $rbadx of the $NBX without Message-ID not exactly once), $acks acknowledgements (most to one sender: $ackmax, $refmismatch with another reference than governance's), $(db_rows) recorded"
check "the MTA dropped each first attempt after our commit ($later of $((NB + NBX)))" \
    [ "$later" -eq $((NB + NBX)) ]
check "each retry found its record, by Message-ID or content, and sender ($dups)" \
    [ "$dups" -eq $((NB + NBX)) ]
checke "each at governance exactly once, with the reference first given ($rbad, $rbadx wrong)" \
    '[ "$rbad" -eq 0 ] && [ "$rbadx" -eq 0 ] && [ "$gov" -eq "$EXP_GOV" ] && [ "$refs" -eq "$gov" ]'
checke "each acknowledged exactly once, with that reference ($acks acks, $refmismatch other)" \
    '[ "$acks" -eq "$EXP_ACK" ] && [ "$ackmax" -eq 1 ] && [ "$refmismatch" -eq 0 ]'
check "each recorded once ($(db_rows) rows)" [ "$(db_rows)" -eq "$EXP_GOV" ]

took "phase 1b (commit, then MTA tempfail)"

### 2. the acknowledgement relay is down for a while
acksink_stop
retries0=$(log_count 'will retry')
python3 "$PF_DIR/send.py" "$PF_PORT" 1001 "$NDOWN" "$NDOWN" 1001 2 0 \
    >"$PF_DIR/send2.out" 2>&1
check "$NDOWN enquiries from $NDOWN new senders sent while the relay is down" \
    [ $? -eq 0 ]
EXP_GOV=$((EXP_GOV + NDOWN))
gov_is() { [ "$(gov_count)" -ge "$1" ]; }
check "all routed while the relay is down" wait_until 20 gov_is "$EXP_GOV"
spool_is() { [ "$(spool_new)" -eq "$1" ]; }
wait_until 10 spool_is "$NDOWN"
check "their $NDOWN acknowledgements wait in the spool ($(spool_new) in new/)" \
    spool_is "$NDOWN"
sleep 3	# the worker keeps trying meanwhile
count
retries=$(( $(log_count 'will retry') - retries0 ))
echo "# relay down 3 s: $gov at governance, $(spool_new) acknowledgements in the spool, $acks delivered, $retries failed attempts"
check "none delivered while the relay is down ($acks acks)" [ "$acks" -eq "$EXP_ACK" ]
check "the worker retried meanwhile ($retries attempts)" [ "$retries" -ge 2 ]
# back, but slow: it answers each message 1 s after DATA, so one
# connection at a time would take $NDOWN s; the worker keeps
# submit-connections (3) transactions open at once
check "acknowledgement relay back (slow: 1 s per message)" acksink_start -w 1
# the milter's established connections to the relay, now: only its own
# sockets count (another process's connection whose ephemeral port
# happens to equal the relay's port would otherwise count too)
ackconns() {
	_inodes=$(for _f in /proc/"$mpid"/fd/*; do readlink "$_f"; done \
	    2>/dev/null | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | tr '\n' ' ')
	awk -v p="$(printf ':%04X' "$ACK_PORT")" -v ino=" $_inodes" \
	    '$4 == "01" && substr($3, length($3) - 4) == p &&
	    index(ino, " " $10 " ") { n++ } END { print n + 0 }' \
	    /proc/net/tcp
}
EXP_ACK=$((EXP_ACK + NDOWN))
t0=$(date +%s)
maxconn=0 _i=0
while [ $_i -lt 150 ] && [ "$(find "$STATE/spool/new" -type f | wc -l)" -gt 0 ]; do
	_n=$(ackconns)
	[ "$_n" -gt "$maxconn" ] && maxconn=$_n
	sleep 0.1; _i=$((_i + 1))
done
t1=$(date +%s)
echo "# slow relay: $NDOWN acknowledgements out in $((t1 - t0)) s, at most $maxconn connections at once"
checke "sent over several connections at once, no more than submit-connections ($maxconn of 3)" \
    '[ "$maxconn" -ge 2 ] && [ "$maxconn" -le 3 ]'
drain "$EXP_GOV" "$EXP_ACK" 20
acksink_stop
acksink_start	# at full speed again for what follows
count 1001-$((1000 + NDOWN))
echo "# relay back: $acks acknowledgements to $ackrcpts senders (most to one: $ackmax), spool new $(spool_new)"
check "all $NDOWN went out when it returned ($acks of $EXP_ACK)" [ "$acks" -eq "$EXP_ACK" ]
checke "none twice ($ackdup senders with two or more, $refmismatch with another reference)" \
    '[ "$ackmax" -eq 1 ] && [ "$ackrcpts" -eq "$EXP_ACK" ] && [ "$refmismatch" -eq 0 ]'
checke "spool empty" '[ "$(spool_new)" -eq 0 ] && [ "$(spool_tmp)" -eq 0 ]'
# sent files are kept (up to 128) to be written again, not unlinked: a new
# file costs ext4 an inode allocation; none of them is ever sent again
nfree=$(find "$STATE/spool/free" -type f 2>/dev/null | wc -l)
checke "sent spool files wait in free/ for reuse ($nfree, at most 128)" \
    '[ "$nfree" -gt 0 ] && [ "$nfree" -le 128 ]'

took "phase 2 (relay down)"

### 3. the state directory full, then unwritable
# swaks, straight to the milter's smtpd: sees the reply itself
swaks_send() { # swaks_send N OUT [SENDER]
	_tok=$(printf 'T%04d' "$1")
	swaks --server "127.0.0.1:$IN_PORT" --from "${3:-s$1@example.org}" \
	    --to enquiries@rmet.org --h-Subject "Enquiry $_tok" \
	    --h-Message-Id "<$_tok.faults@example.org>" \
	    --body "Hello, a question ($_tok)." --timeout 30 >"$2" 2>&1
}
fault_phase() { # fault_phase NAME FIRST: NFULL by swaks, NFULL queued
	_name=$1 _first=$2
	_g=$(gov_count) _a=$(ack_count) _r=$(db_rows)
	PH_G=$_g PH_A=$_a	# for fault_recover
	_tf0=$(log_count 'tempfail')
	_d0=$(grep -c 'status=deferred.*4.3.0' "$PF_DIR/maillog")
	_i=0 _4xx=0
	while [ $_i -lt "$NFULL" ]; do
		swaks_send $((_first + _i)) "$PF_DIR/swaks.$_i"
		grep -q '^<\*\* *4[0-9][0-9] ' "$PF_DIR/swaks.$_i" &&
		    _4xx=$((_4xx + 1))
		_i=$((_i + 1))
	done
	python3 "$PF_DIR/send.py" "$PF_PORT" $((_first + NFULL)) "$NFULL" \
	    "$NFULL" $((_first + NFULL)) 1 0 >"$PF_DIR/send3.out" 2>&1
	# the queued ones are tried and deferred
	wait_until 15 sh -c "[ \$(grep -c 'status=deferred.*4.3.0' '$PF_DIR/maillog') -ge $((_d0 + NFULL)) ]"
	sleep 0.5
	_tf=$(( $(log_count 'tempfail') - _tf0 ))
	echo "# $_name: $_4xx of $NFULL swaks got 4xx; governance $_g -> $(gov_count), acks $_a -> $(ack_count), recorded $_r -> $(db_rows), queue $(pf_queue_count), milter tempfails $_tf"
	check "$_name: every direct enquiry tempfailed ($_4xx of $NFULL saw 4xx)" \
	    [ "$_4xx" -eq "$NFULL" ]
	# (a file moving between queue directories may be counted twice)
	queue_is() { [ "$(pf_queue_count)" -eq "$1" ]; }
	wait_until 5 queue_is "$NFULL"
	check "$_name: the queued ones wait in the queue ($(pf_queue_count))" \
	    queue_is "$NFULL"
	checke "$_name: nothing accepted, acknowledged or recorded meanwhile" \
	    '[ "$(gov_count)" -eq "$_g" ] && [ "$(ack_count)" -eq "$_a" ] &&
	    [ "$(db_rows)" -eq "$_r" ]'
	check "$_name: the milter logged each tempfail with its reason ($_tf)" \
	    [ "$_tf" -ge $((2 * NFULL)) ]
}
fault_recover() { # fault_recover NAME FIRST [EXTRA routed since]
	_name=$1 _first=$2
	# from the counts before the fault: Postfix retries the queued
	# ones by itself as soon as they can go
	_n=$(( PH_G + 2 * NFULL + ${3:-0} ))
	_a=$(( PH_A + 2 * NFULL ))
	_i=0 _ok=0
	while [ $_i -lt "$NFULL" ]; do	# the senders' retries
		swaks_send $((_first + _i)) "$PF_DIR/swaks.$_i" && _ok=$((_ok + 1))
		_i=$((_i + 1))
	done
	check "$_name: the retried direct enquiries accepted ($_ok of $NFULL)" \
	    [ "$_ok" -eq "$NFULL" ]
	drain "$_n" "$_a" 20
	count "$_first-$((_first + 2 * NFULL - 1))"
	eval "_bad=\$range_${_first}_$((_first + 2 * NFULL - 1))_bad"
	echo "# $_name, after: $gov at governance ($tokens distinct, $noref without reference), $acks acknowledgements (most to one sender: $ackmax), $(db_rows) recorded"
	checke "$_name: all $((2 * NFULL)) retried enquiries at governance once, with references" \
	    '[ "$_bad" -eq 0 ] && [ "$govdup" -eq 0 ] && [ "$noref" -eq 0 ] &&
	    [ "$refs" -eq "$gov" ] && [ "$gov" -eq "$_n" ]'
	checke "$_name: and acknowledged once each ($acks acks, $ackrcpts senders, $refmismatch with another reference)" \
	    '[ "$acks" -eq "$_a" ] && [ "$ackrcpts" -eq "$acks" ] &&
	    [ "$ackmax" -eq 1 ] && [ "$ackbad" -eq 0 ] && [ "$refmismatch" -eq 0 ]'
	check "$_name: recorded ($(db_rows) rows)" [ "$(db_rows)" -eq "$gov" ]
}

if [ -n "$mounted" ]; then
	# the worst case: no sent spool file left to write a new one into
	# (a reused one needs no new space), then no space
	rm -f "$STATE"/spool/free/*
	dd if=/dev/zero of="$STATE/filler" bs=4k count=4096 2>/dev/null
	avail=$(df -k --output=avail "$STATE" | tail -n 1 | tr -d ' ')
	echo "# state directory filled: ${avail} KB free"
	# a sender acknowledged already needs no spool file, only the
	# database (whose log may still have room): taken with its
	# reference and recorded, or tempfailed; never taken unrecorded
	g=$(gov_count) r=$(db_rows)
	swaks_send 2901 "$PF_DIR/swaks.probe" s1@example.org
	if grep -q '^<- *250 .*queued as' "$PF_DIR/swaks.probe"; then
		wait_until 10 gov_is $((g + 1))
		f=$(grep -l -r -F 'Enquiry T2901' "$PF_SINK" | head -n 1)
		echo "# disk full, s1 (acknowledged before): accepted; governance $g -> $(gov_count), recorded $r -> $(db_rows)"
		checke "disk full: an enquiry needing no ack, accepted, is routed with its reference and recorded" \
		    '[ "$(gov_count)" -eq $((g + 1)) ] && [ "$(db_rows)" -eq $((r + 1)) ] && grep -q "^X-Enquiry-Reference: ENQ-" "$f"'
	else
		sleep 0.5
		echo "# disk full, s1 (acknowledged before): tempfailed; governance $g -> $(gov_count), recorded $r -> $(db_rows)"
		checke "disk full: an enquiry needing no ack, tempfailed, left nothing behind" \
		    '[ "$(gov_count)" -eq "$g" ] && [ "$(db_rows)" -eq "$r" ]'
		check "disk full: the log says why (sqlite: database or disk is full)" \
		    grep -q 'sqlite: database or disk is full' "$M/milter.log"
	fi
	fault_phase "disk full" 2001
	grep -q 'No space left on device' "$M/milter.log" &&
	    ok "disk full: the log says why (No space left on device)" ||
	    notok "disk full: the log says why"
	rm -f "$STATE/filler"
	extra=0
	if ! grep -q '^<- *250 .*queued as' "$PF_DIR/swaks.probe"; then
		check "disk full: s1's enquiry taken on its retry" \
		    swaks_send 2901 "$PF_DIR/swaks.probe" s1@example.org
		extra=1
	fi
	fault_recover "disk full" 2001 "$extra"
else
	echo "skip - disk full: no tmpfs"
fi
chmod 0 "$STATE/spool/tmp"
fault_phase "spool unwritable" 3001
grep -q 'Permission denied' "$M/milter.log" &&
    ok "spool unwritable: the log says why (Permission denied)" ||
    notok "spool unwritable: the log says why"
chmod 0750 "$STATE/spool/tmp"
fault_recover "spool unwritable" 3001

took "phase 3 (full, unwritable)"

### 4. leftovers of a crash in spool/tmp, swept at start-up: a committed
# acknowledgement never moved to new/ goes out; an uncommitted one (here a
# follow-up, which reuses its enquiry's reference) and a half-written one
# are removed once old; a young one waits (its transaction may be open)
milter_stop
now=$(date +%s) old=$(( $(date +%s) - 1000 ))
f1=$(grep -l -r -F 'Enquiry T0001' "$PF_SINK" | head -n 1)
ref1=$(sed -n 's/^X-Enquiry-Reference: //p' "$f1" | tr -d '\r')
ack_msg() { # ack_msg REF TOKEN RCPT
	printf 'rcpt %s\nref %s\n\n' "$3" "$1"
	printf 'From: <enquiries@rmet.org>\r\nTo: <%s>\r\n' "$3"
	printf 'Subject: Re: [%s] Enquiry %s\r\n' "$1" "$2"
	printf 'Message-ID: <%s.crash@milter.rmet.test>\r\n' "$1"
	printf 'In-Reply-To: <%s.faults@example.org>\r\n' "$2"
	printf 'Auto-Submitted: auto-replied\r\n\r\nThank you.\r\n'
}
T=$STATE/spool/tmp
ack_msg ENQ-2026-900001 T5001 crash1@example.org >"$T/$old.ENQ-2026-900001"
ack_msg "$ref1" T0001 s1@example.org >"$T/$old.$ref1"
ack_msg ENQ-2026-900002 T5002 crash2@example.org >"$T/$now.ENQ-2026-900002"
printf 'rcpt crash3@exam' >"$T/$old.ENQ-2026-900003"
touch -d "@$old" "$T/$old.ENQ-2026-900001" "$T/$old.$ref1" \
    "$T/$old.ENQ-2026-900003"
chown nobody "$T"/*
# the row the crashed transaction committed with its file, as milter_eom
# writes it, written as the milter's user (with a python it can run)
pysys=/usr/bin/python3
[ -x "$pysys" ] || pysys=python3
setpriv --reuid=nobody --regid=nogroup --clear-groups "$pysys" - \
    "$STATE/enquiries.db" "$old" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT INTO enquiry(reference, time, queue_id, enquiry, sender, "
    "subject, category, message_id, recipients, ack) VALUES(?, ?, 'CRASH', "
    "'enquiries@rmet.org', 'crash1@example.org', 'Enquiry T5001', "
    "'general', '<T5001.faults@example.org>', ?, 'sent')",
    ("ENQ-2026-900001", int(sys.argv[2]), "rachelle.stevens@rmet.org"))
db.commit()
PY
prc=$?
checke "crash leftovers planted (4 in tmp/, committed row for one)" \
    '[ "$(spool_tmp)" -eq 4 ] && [ "$prc" -eq 0 ]'
removed0=$(log_count 'never committed, removed')
check "milter restarted" milter_start
acks_to() { grep -l -r -i -F "X-Rcpt-Args: <$1>" "$ACKS" 2>/dev/null | grep -c .; }
acked_crash1() { [ "$(acks_to crash1@example.org)" -ge 1 ] && [ "$(spool_tmp)" -le 1 ]; }
wait_until 15 acked_crash1
sleep 0.5
removed=$(( $(log_count 'never committed, removed') - removed0 ))
echo "# crash leftovers: crash1 (committed) acks $(acks_to crash1@example.org), s1 (uncommitted follow-up $ref1) acks $(acks_to s1@example.org), crash2 (young) acks $(acks_to crash2@example.org), removed $removed, left in tmp/ $(spool_tmp)"
check "the committed leftover went out, once" [ "$(acks_to crash1@example.org)" -eq 1 ]
check "the uncommitted follow-up did not: s1 still has one acknowledgement" \
    [ "$(acks_to s1@example.org)" -eq 1 ]
check "the old uncommitted and the half-written leftover removed ($removed)" \
    [ "$removed" -eq 2 ]
checke "the young leftover waits in tmp/, unsent" \
    '[ "$(spool_tmp)" -eq 1 ] && [ -f "$T/$now.ENQ-2026-900002" ] && [ "$(acks_to crash2@example.org)" -eq 0 ]'
rm -f "$T/$now.ENQ-2026-900002"

took "phase 4 (crash leftovers)"

### nothing left behind
milter_stop_checked "$M/milter.log"
check "queue empty" [ "$(pf_queue_count)" -eq 0 ]
echo "# took $(( $(date +%s) - T0 )) s"
if [ $failed -ne 0 ]; then
	echo "# milter log:"; grep -v ': submitted to\|: enquiry ' "$M/milter.log" | sed 's/^/#   /' | tail -40
	echo "# postfix log:"; sed 's/^/#   /' "$PF_DIR/maillog" | tail -20
fi
[ $failed -eq 0 ]

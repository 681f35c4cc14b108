#!/bin/sh
# the case register as mail passes through a real (throwaway) Postfix with
# the milter attached: cases opened with the sender's display name, staff
# replies marking a case answered (straight to the enquirer, and with the
# enquiries address in copy) while the reply itself goes on untouched,
# strangers' mail with a case's tag marking nothing, a closed case
# reopened by its enquirer and by no one else, and the daily run: the
# digest arrives once with what it should say, not again after a restart
# the same day, not at all when there is nothing to say, and the
# retention purge.
#
# the daily run's time: the milter reads ENQUIRY_MILTER_CLOCK_SKEW
# (seconds added to its daily thread's clock, and to nothing else; see
# src/milter/daily.h), so the test puts that clock a few seconds before
# digest-time, or after it, on a day of its choosing, instead of waiting
# for a real day to pass. the register is read with python's sqlite3,
# read-only, as the milter's user.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
BIN=${ENQUIRY_MILTER:-$TOP/build/enquiry-milter}
ENQ=${ENQUIRIES:-$TOP/build/enquiries}
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/milter.sh"

milter_require postfix
milter_pf_setup

{ milter_pf_conf; cat <<EOF
authserv-id  = "mx.rmet.test"
staff        = {"head@rmet.org"}
reply-within = "1d"
retention    = "1d"
digest-to    = "governance@rmet.org"
digest-time  = "23:00"
enquiry "enquiries@rmet.org" {
	route-to       = {"rachelle.stevens@rmet.org"}
	reference      = "ENQ"
	ack-from       = "Rushey Mead Educational Trust <enquiries@rmet.org>"
	ack-template   = "$TOP/etc/templates/enquiry-ack.txt"
	ack-interval   = "7d"
}
EOF
} >"$M/m.conf"
DB=$M/state/enquiries.db

# skew DAY TIME: the seconds that put the daily clock at local DAY TIME
skew() {
	echo $(( $(date -d "$1 $2" +%s) - $(date +%s) ))
}
yesterday=$(date -d yesterday +%F)
later=$(date -d '+3 days' +%F)

# one value from the register: q "SQL" (rows "a|b", one a line); from
# postgresql when the test runs on it (MILTER_STORE=postgresql)
q() {
	if [ -n "$PG_URL" ]; then
		# its booleans as sqlite's 1 and 0
		pg_psql enquiries -c "$1" | sed -e 's/^t$/1/;s/^f$/0/' \
		    -e 's/^t|/1|/;s/^f|/0|/;s/|t$/|1/;s/|f$/|0/' \
		    -e 's/|t|/|1|/g;s/|f|/|0|/g'
		return
	fi
	runuser -u nobody -- python3 - "$DB" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
for row in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
PY
}
status() { q "SELECT status FROM enq_case WHERE reference = '$1'"; }
events() { q "SELECT what FROM case_event WHERE reference = '$1' ORDER BY id" | tr '\n' ' '; }

send() { # send FROM TO SUBJECT [swaks options...]
	_f=$1 _t=$2 _s=$3; shift 3
	swaks --server "127.0.0.1:$PF_PORT" --from "$_f" --to "$_t" \
	    --h-Subject "$_s" --body "About $_s." \
	    --timeout 30 "$@" >"$PF_DIR/swaks.out" 2>&1
}
# the sink files for recipient $1 whose Subject holds $2
sink_subject() {
	for _f in $(sink_for_rcpt "$1"); do
		grep -i '^Subject:' "$_f" | grep -q -F -e "$2" && echo "$_f"
	done 2>/dev/null
}
# wait until the sink holds N messages, then a moment for any more
settle() { sink_wait "$1" 30 >/dev/null; sleep 1; }
# the reference of the routed copy whose subject holds $1
ref_of() {
	sed -n 's/^X-Enquiry-Reference: //p' "$(sink_subject \
	    rachelle.stevens@rmet.org "$1" | head -n 1)" | tr -d '\r'
}
# wait (up to 10 s) until the milter's log has a line with $1
log_wait() {
	_i=0
	while ! grep -q -F -e "$1" "$M/milter.log" && [ $_i -lt 100 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	grep -q -F -e "$1" "$M/milter.log"
}
msgid_of() {
	sed -n 's/^[Mm]essage-[Ii][Dd]: *//p' "$1" | tr -d '\r' | head -n 1
}

# 1. started after digest-time yesterday, on an empty register: the run
# catches up, and says nothing
export ENQUIRY_MILTER_CLOCK_SKEW=$(skew "$yesterday" 23:10)
milter_pf_start
check "an empty register: the log says there was nothing to say" \
    log_wait "digest $yesterday: nothing to say"
sleep 1
check "an empty register: the catch-up run sends no digest" \
    [ -z "$(sink_for_rcpt governance@rmet.org)" ]

# 2. enquiries: cases with the sender's display name and address
check "jane's enquiry sent" send web+4f2a@forms.example enquiries@rmet.org \
    "Visit in June" --h-From "Jane Smith <jane@example.org>"
check "omar's enquiry sent" send omar@example.org enquiries@rmet.org \
    "Admissions question" --h-From "Omar Haddad <omar@example.org>"
check "zoe's enquiry sent" send zoe@example.org enquiries@rmet.org \
    "A complaint" --h-From "Zoe Brown <zoe@example.org>"
check "ann's enquiry sent" send ann@example.org enquiries@rmet.org \
    "Term dates" --h-From "ann@example.org"
settle 8
R1=$(ref_of "Visit in June") R2=$(ref_of "Admissions question")
R3=$(ref_of "A complaint") R4=$(ref_of "Term dates")
checke "four cases: $R1 $R2 $R3 $R4" \
    '[ -n "$R1" ] && [ -n "$R2" ] && [ -n "$R3" ] && [ -n "$R4" ]'
check "case $R1: the From: address and display name, not the envelope's" \
    [ "$(q "SELECT sender, sender_name, status FROM enq_case WHERE reference = '$R1'")" = \
    "jane@example.org|Jane Smith|new" ]
check "case $R1: its subject" \
    [ "$(q "SELECT subject FROM enq_case WHERE reference = '$R1'")" = "Visit in June" ]
check "its message: display name, From: address and a size" \
    [ "$(q "SELECT sender_name, from_addr, size > 200 FROM enquiry WHERE reference = '$R1'")" = \
    "Jane Smith|jane@example.org|1" ]
check "a case without a display name: none recorded" \
    [ "$(q "SELECT sender, COALESCE(sender_name, 'NULL') FROM enq_case WHERE reference = '$R4'")" = \
    "ann@example.org|NULL" ]
check "each case has its event 'opened'" [ "$(events "$R2")" = "opened " ]

# 3. a governance reply straight to jane (no enquiries address): the case
# is answered by In-Reply-To, and the reply goes on untouched
copy1=$(sink_subject rachelle.stevens@rmet.org "[$R1] Visit in June")
id1=$(msgid_of "$copy1")
check "rachelle replies to jane directly" send rachelle.stevens@rmet.org \
    jane@example.org "Re: Visit in June" \
    --h-From "Rachelle Stevens <rachelle.stevens@rmet.org>" \
    --add-header "In-Reply-To: $id1" --add-header "References: $id1"
settle 9
reply=$(sink_subject jane@example.org "Re: Visit in June")
check "case $R1 answered by the direct reply" [ "$(status "$R1")" = answered ]
check "its history: opened, answered" [ "$(events "$R1")" = "opened answered " ]
check "first answer and answer times set" \
    [ "$(q "SELECT first_answer > 0 AND answered = first_answer FROM enq_case WHERE reference = '$R1'")" = 1 ]
check "the answer is by rachelle" \
    [ "$(q "SELECT actor FROM case_event WHERE reference = '$R1' AND what = 'answered'")" = \
    rachelle.stevens@rmet.org ]
check "jane gets the reply once" [ "$(echo "$reply" | grep -c .)" -eq 1 ]
check "the reply's subject is not tagged" grep -q '^Subject: Re: Visit in June' "$reply"
check "the reply carries no X-Enquiry- header" \
    sh -c "! grep -q -i '^X-Enquiry-' '$reply'"
check "the reply's envelope is unchanged: sender" \
    grep -q '^X-Mail-Args: <rachelle.stevens@rmet.org>' "$reply"
check "the reply's envelope is unchanged: jane alone" \
    [ "$(grep -c '^X-Rcpt-Args:' "$reply")" -eq 1 ]
check "nobody else got the reply" \
    [ "$(grep -l -r 'Subject: Re: Visit in June' "$PF_SINK" | grep -c .)" -eq 1 ]

# 4. the head of governance (staff list) answers omar with enquiries@ in
# copy, by the subject tag alone
check "head replies to omar, enquiries@ in copy" send head@rmet.org \
    omar@example.org,enquiries@rmet.org "Re: [$R2] Admissions question" \
    --h-From "Head of Governance <head@rmet.org>" \
    --add-header "Cc: enquiries@rmet.org"
settle 11
check "case $R2 answered by the reply in copy" [ "$(status "$R2")" = answered ]
check "answered by head@rmet.org" \
    [ "$(q "SELECT actor FROM case_event WHERE reference = '$R2' AND what = 'answered'")" = \
    head@rmet.org ]
checke "both staff replies logged with the case they answer" \
    'grep -q ": staff reply from <rachelle.stevens@rmet.org> answers $R1\$" "$M/milter.log" &&
    grep -q ": staff reply from <head@rmet.org> answers $R2\$" "$M/milter.log"'

# 5. strangers with zoe's tag mark nothing, whatever they claim
check "a stranger writes to zoe with her tag" send mallory@example.net \
    zoe@example.org "Re: [$R3] A complaint" \
    --h-From "mallory@example.net"
check "a stranger's From: claims the head" send mallory@example.net \
    zoe@example.org "Re: [$R3] A complaint (2)" \
    --h-From "Head of Governance <head@rmet.org>"
check "both addresses forged, spf fail by our MTA" send head@rmet.org \
    zoe@example.org "Re: [$R3] A complaint (3)" \
    --h-From "Head of Governance <head@rmet.org>" \
    --add-header "Authentication-Results: mx.rmet.test; spf=fail smtp.mailfrom=head@rmet.org"
check "a stranger with enquiries@ in copy" send mallory@example.net \
    zoe@example.org,enquiries@rmet.org "Re: [$R3] A complaint (4)" \
    --h-From "mallory@example.net"
settle 16
check "case $R3 still new after four strangers" [ "$(status "$R3")" = new ]
check "case $R3 has no answer" \
    [ "$(q "SELECT COALESCE(first_answer, 0) FROM enq_case WHERE reference = '$R3'")" = 0 ]
check "the strangers' mail reached zoe" \
    [ "$(sink_for_rcpt zoe@example.org | xargs grep -l -e '^X-Mail-Args: <mallory@example.net>' \
    -e '^X-Mail-Args: <head@rmet.org>' | grep -c .)" -eq 4 ]

# 6. closed cases: jane writes again and reopens hers; neither a
# stranger's mail in ann's thread nor ann's own out-of-office reopens ann's
if [ -x "$ENQ" ]; then
	close() { "$ENQ" -c "$M/m.conf" close "$1" >/dev/null; }
else
	close() { echo "# $ENQ not built"; false; }
fi
check "$R1 closed (enquiries close)" close "$R1"
check "$R4 closed (enquiries close)" close "$R4"
ack1=$(sink_subject web+4f2a@forms.example "Re: [$R1] Visit in June")
ackid=$(msgid_of "$ack1")
check "jane answers the acknowledgement" send web+77aa@forms.example \
    enquiries@rmet.org "Re: [$R1] Visit in June" \
    --h-From "Jane Smith <jane@example.org>" \
    --add-header "In-Reply-To: $ackid"
copy4=$(sink_subject rachelle.stevens@rmet.org "[$R4] Term dates")
check "a stranger replies in ann's thread" send mallory@example.net \
    enquiries@rmet.org "Re: Term dates" --h-From "mallory@example.net" \
    --add-header "In-Reply-To: $(msgid_of "$copy4")"
check "ann's out-of-office answers in her own thread" send ann@example.org \
    enquiries@rmet.org "Auto: Re: [$R4] Term dates" \
    --h-From "ann@example.org" --add-header "Auto-Submitted: auto-replied"
settle 19
check "jane's case $R1 reopened" [ "$(status "$R1")" = new ]
check "its history: opened answered closed reopened message" \
    [ "$(events "$R1")" = "opened answered closed reopened message " ]
check "ann's case $R4 stays closed: an automatic reply reopens nothing" \
    [ "$(status "$R4")" = closed ]
checke "the stranger's and the automatic message are in ann's case's log, not its history" \
    '[ "$(q "SELECT count(*) FROM enquiry WHERE reference = '"'$R4'"'")" = 3 ] &&
    [ "$(events "$R4")" = "opened closed " ]'

# 7. the digest: the daily clock three days on, five seconds before
# digest-time: the thread wakes up at the time, the retention run purges
# ann's closed case, the digest goes to governance once
n0=$(sink_count)
milter_stop
export ENQUIRY_MILTER_CLOCK_SKEW=$(skew "$later" 22:59:55)
check "milter restarted before digest-time" milter_start
sleep 1
check "no digest before the time" [ -z "$(sink_for_rcpt governance@rmet.org)" ]
n=$(sink_wait $((n0 + 1)) 30)
sleep 2
dg=$(sink_for_rcpt governance@rmet.org)
check "one digest at governance@ ($n in the sink)" [ "$(echo "$dg" | grep -c .)" -eq 1 ]
check "the digest has a null return path" grep -q '^X-Mail-Args: <>' "$dg"
# five cases: the stranger's mail to enquiries@ with zoe's tag opened
# one of its own (a tag from a stranger is not honoured); overdue: zoe's,
# the stranger's and jane's reopened one; omar's answered, ann's closed
check "the digest's subject: the day and its counts" \
    grep -q "^Subject: Enquiries digest $later: 3 overdue, 5 new, 4 open" "$dg"
check "the digest is automatic mail" grep -q '^Auto-Submitted: auto-generated' "$dg"
body=$(tr -d '\r' <"$dg")
line() { echo "$body" | grep -n -F "$1" | head -n 1 | cut -d: -f1; }
checke "overdue: zoe's $R3 (waiting longest) then jane's $R1, first" \
    '[ "$(line "$R3")" -lt "$(line "$R1")" ] &&
    [ "$(line "$R1")" -lt "$(line "New since")" ]'
checke "new since the last digest: the empty one of $yesterday 23:10" \
    'echo "$body" | grep -q "New: *5 (since the last digest, $yesterday 23:10)"'
checke "the digest names senders with display names" \
    '[ "$(echo "$body" | grep -c -e "From: Jane Smith <jane@example.org>" \
    -e "From: Zoe Brown <zoe@example.org>" \
    -e "From: Omar Haddad <omar@example.org>")" -eq 3 ]'
checke "the digest lists the subjects" \
    '[ "$(echo "$body" | grep -c -e "Subject: Visit in June" \
    -e "Subject: A complaint" -e "Subject: Admissions question")" -eq 3 ]'
checke "omar's answered case is listed as answered" \
    'echo "$body" | grep -F "$R2" | grep -q " answered "'
checke "ann's case, closed since the last digest, is listed as closed" \
    'echo "$body" | grep -F "$R4" | grep -q " closed "'
check "the retention run purged ann's closed case" \
    [ "$(q "SELECT COALESCE(sender, 'NULL'), purged > 0 FROM enq_case WHERE reference = '$R4'")" = "NULL|1" ]
check "and deleted its messages" \
    [ "$(q "SELECT count(*) FROM enquiry WHERE reference = '$R4'")" = 0 ]
check "open cases are not purged" \
    [ "$(q "SELECT sender FROM enq_case WHERE reference = '$R3'")" = zoe@example.org ]

# 8. a restart later the same day: no second digest
milter_stop
export ENQUIRY_MILTER_CLOCK_SKEW=$(skew "$later" 23:20)
check "milter restarted after digest-time, the same day" milter_start
check "the log says it went before" log_wait "digest $later: sent before"
sleep 1
check "no second digest the same day" \
    [ "$(sink_for_rcpt governance@rmet.org | grep -c .)" -eq 1 ]

milter_stop_checked "$M/milter.log"
check "spool empty" [ -z "$(find "$M/state/spool/new" "$M/state/spool/tmp" -type f)" ]
milter_done "$M/milter.log"

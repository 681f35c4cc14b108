#!/bin/sh
# the enquiries command against the register of a real enquiry-milter,
# running beside it:
#   1. the milter starts on tests/fixtures/enquiries-v1.db (written by the
#      schema-1 milter) and migrates it in place; mail then goes through
#      it with miltertest, so its spool holds acknowledgements;
#   2. list: table, CSV and JSON (escaping read back by python's csv and
#      json), every filter, bad dates;
#   3. show; close, reopen, note; what fails (unknown or malformed
#      reference, a closed case closed again) says so, exits non-zero and
#      changes nothing;
#   4. stats;
#   5. a locked database: reading goes on, a change waits -w and says so;
#      a database of a newer schema is refused naming both versions;
#   6. export, erasure and retention: afterwards the address is in neither
#      the database, its WAL nor the spool.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
BIN=${ENQUIRY_MILTER:-$TOP/build/enquiry-milter}
ENQ=${ENQUIRIES:-$TOP/build/enquiries}
. "$TOP/tests/lib/milter.sh"
milter_require miltertest
[ -x "$ENQ" ] || { echo "not ok - $ENQ not built"; exit 1; }
# dates as the tests write them
export TZ=UTC

milter_tmpdir t-enquiries
S=$T/state
cp "$TOP/etc/templates/enquiry-ack.txt" "$T/ack.txt" && chmod 644 "$T/ack.txt"
mkconf() { # mkconf FILE STATEDIR [EXTRA LINE...]
	_f=$1 _s=$2; shift 2
	{
		echo "socket    = \"unix:$T/milter.sock\""
		echo "state-dir = \"$_s\""
		echo "user      = \"$user\""
		echo "submit    = \"127.0.0.1:$deadport\""
		echo "hostname  = \"milter.test\""
		# the fixture's cases are minutes old or more: all overdue
		echo 'reply-within = "1m"'
		for _l in "$@"; do echo "$_l"; done
		echo 'enquiry "enquiries@rmet.org" {'
		echo '	route-to     = {"head@rmet.org"}'
		echo "	ack-template = \"$T/ack.txt\""
		echo '	ack-interval = "0"'
		echo '	category "visit" {'
		echo '		keywords = {"visit"}'
		echo '		route-to = {"visits@rmet.org"}'
		echo '	}'
		echo '}'
		echo 'enquiry "admissions@rmet.org" {'
		echo '	route-to     = {"admissions-team@rmet.org"}'
		echo '	reference    = "ADM"'
		echo "	ack-template = \"$T/ack.txt\""
		echo '}'
	} >"$_f"
	chmod 644 "$_f"
}
mkconf "$T/m.conf" "$S" 'retention = "1d"'
# what sqlite3 says of the database, from python (no sqlite3 tool needed)
sql() { python3 -c 'import sqlite3,sys
c = sqlite3.connect(sys.argv[1], timeout=10)
for r in c.execute(sys.argv[2]): print("|".join("" if v is None else str(v) for v in r))' "$S/enquiries.db" "$1"; }
# run enquiries: stdout in $out, stderr in $err, status in $rc
enq() { "$ENQ" -c "$T/m.conf" "$@" >"$T/out" 2>"$T/err"; rc=$?
	out=$(cat "$T/out"); err=$(cat "$T/err"); }

# 1. the schema-1 register, as the milter's user, migrated at start
mkdir -p "$S" && cp "$TOP/tests/fixtures/enquiries-v1.db" "$S/enquiries.db"
chown -R "$user" "$S" 2>/dev/null; chmod 750 "$S"; chmod 640 "$S/enquiries.db"
check "milter started on the schema-1 register" milter_start "$T/m.conf" \
    "$T/milter.log" "$T/milter.sock"
checke "migrated in place at start: schema version 2, four cases" \
    '[ "$(sql "PRAGMA user_version")" = 2 ] &&
    [ "$(sql "SELECT count(*) FROM enq_case")" = 4 ]'
checke "the milter logs the upgrade" \
    'grep -q "database upgraded from schema version 1 to 2" "$T/milter.log"'
cat >"$T/mail.lua" <<'EOF'
dofile(dir .. "/lib.lua")
for _, m in ipairs({
    { "<jane.t@example.org>", "Jane Taylor <jane.t@example.org>", "Parking on the visit day" },
    { "<zoe@example.org>", "Zoe <zoe@example.org>", "Lost property" } }) do
	local conn, r = send({ from = m[1], rcpts = { "<enquiries@rmet.org>" },
	    headers = { { "From", m[2] }, { "Subject", m[3] } } })
	check(accepted(r) and ref_of(conn) ~= nil, "mail from " .. m[1])
	mt.disconnect(conn)
end
done()
EOF
out=$(miltertest -D sock="unix:$T/milter.sock" -D spool="$S/spool" \
    -D dir="$TOP/tests/milter" -s "$T/mail.lua" 2>&1)
echo "$out" | grep -E '^(ok|not ok) - '
failed=$((failed + $(echo "$out" | grep -c '^not ok - ')))
checke "jane's new acknowledgement waits in the spool (the relay is down)" \
    'grep -r -l -i "jane.t@example.org" "$S/spool/new" >/dev/null'

# 2. list
enq list
checke "list: a table of the migrated cases, a header first" \
    '[ $rc -eq 0 ] && echo "$out" | head -1 | grep -q "^REFERENCE  *STATUS" &&
    echo "$out" | grep -q "^ENQ-2026-000001  *overdue .*jane.t@example.org  *A visit in July"'
enq list --csv
echo "$out" >"$T/list.csv"
checke "list --csv: RFC 4180, read back by python's csv" \
    '[ $rc -eq 0 ] && python3 -c "import csv,sys
rows = list(csv.DictReader(open(sys.argv[1], newline=\"\")))
by = {r[\"reference\"]: r for r in rows}
assert by[\"ENQ-2026-000002\"][\"subject\"] == \"Complaint about the \\\"late\\\" bus, Year 8\", by
assert by[\"ENQ-2026-000001\"][\"overdue\"] == \"yes\"
assert by[\"ADM-2026-000001\"][\"enquiry\"] == \"admissions@rmet.org\"
assert len(rows) >= 4" "$T/list.csv"'
enq list --json --search '"LATE"'
echo "$out" >"$T/list.json"
checke "list --json --search: any case, quotes in the text, valid JSON" \
    '[ $rc -eq 0 ] && python3 -c "import json,sys
v = json.load(open(sys.argv[1]))
assert [c[\"reference\"] for c in v] == [\"ENQ-2026-000002\"], v
assert v[0][\"subject\"] == \"Complaint about the \\\"late\\\" bus, Year 8\"
assert v[0][\"overdue\"] is True and v[0][\"first_answer\"] is None" "$T/list.json"'
enq list --category visit --csv
echo "$out" >"$T/visit.csv"
# (jane's new mail is a visit too, a case of its own where the milter
# opens cases)
checke "list --category: jane's case, and only visits" \
    '[ $rc -eq 0 ] && python3 -c "import csv,sys
rows = list(csv.DictReader(open(sys.argv[1], newline=\"\")))
assert \"ENQ-2026-000001\" in [r[\"reference\"] for r in rows], rows
assert {r[\"category\"] for r in rows} == {\"visit\"}, rows" "$T/visit.csv"'
enq list --since 2999-01-01 --csv
checke "list --since a later day: the header alone" \
    '[ $rc -eq 0 ] && [ "$(echo "$out" | wc -l)" -eq 1 ]'
for bad in 2026-02-30 2026-13-01 yesterday 26-01-01; do
	enq list --since "$bad"
	checke "list --since $bad: refused, status 2, says why" \
	    '[ $rc -eq 2 ] && [ -z "$out" ] && echo "$err" | grep -q "\"$bad\" is not a date (YYYY-MM-DD)"'
done
enq list --open --closed
checke "list --open --closed: refused" '[ $rc -eq 2 ] && [ -n "$err" ]'

# 3. show, close, reopen, note
enq show enq-2026-000001
checke "show: the case, its three messages in order, its history" \
    '[ $rc -eq 0 ] && echo "$out" | head -1 | grep -q "^ENQ-2026-000001  overdue" &&
    echo "$out" | grep -q "subject *A visit in July" &&
    [ "$(echo "$out" | grep -c -E "^  2026-[0-9-]+ [0-9:]+  (new|follow-up|automatic) ")" -eq 3 ] &&
    echo "$out" | grep -q "ack *null-sender" &&
    echo "$out" | grep -q -E "  opened +jane.t@example.org"'
enq show ENQ-2026-000001 --json
checke "show --json: valid, messages and history" \
    '[ $rc -eq 0 ] && echo "$out" | python3 -c "import json,sys
v = json.load(sys.stdin)
assert v[\"case\"][\"reference\"] == \"ENQ-2026-000001\"
assert [m[\"kind\"] for m in v[\"messages\"]] == [\"new\", \"follow-up\", \"automatic\"]
assert v[\"history\"][0][\"what\"] == \"opened\""'
events=$(sql "SELECT count(*) FROM case_event")
state=$(sql "SELECT group_concat(reference || status, ',') FROM enq_case")
enq show ENQ-2026-999999
checke "show an unknown reference: status 1, says so" \
    '[ $rc -eq 1 ] && [ -z "$out" ] && [ "$err" = "enquiries: show: no case ENQ-2026-999999" ]'
for cmd in "close ENQ-2026-999999" "reopen ENQ-2026-999999" "note ENQ-2026-999999 hello"; do
	enq $cmd
	checke "$cmd: status 1, no case" '[ $rc -eq 1 ] && echo "$err" | grep -q "no case ENQ-2026-999999"'
done
enq close "ENQ-2026-1"
checke "a malformed reference: status 2, says what one looks like" \
    '[ $rc -eq 2 ] && echo "$err" | grep -q "is not a case reference (like ENQ-2026-000042)"'
enq show -ENQ-2026-000001
checke "a reference with a leading dash: the option is named as typed" \
    '[ $rc -eq 2 ] && echo "$err" | grep -q -F "show: -E is not one of its options"'
enq note ENQ-2026-000001 ""
checke "an empty note is refused" '[ $rc -eq 2 ]'
checke "what failed changed nothing" \
    '[ "$(sql "SELECT count(*) FROM case_event")" = "$events" ] &&
    [ "$(sql "SELECT group_concat(reference || status, \",\") FROM enq_case")" = "$state" ]'
enq close ENQ-2026-000001 --note "visit booked for 3 July"
checke "close with a note" '[ $rc -eq 0 ] && [ "$out" = "ENQ-2026-000001 closed" ]'
enq close ENQ-2026-000001
checke "closing it again: status 1, already closed" \
    '[ $rc -eq 1 ] && echo "$err" | grep -q "already is closed"'
enq list --overdue --csv
o=$out
enq list --closed --csv
checke "closed: in --closed, no longer in --overdue" \
    'echo "$out" | grep -q "^ENQ-2026-000001,closed," && ! echo "$o" | grep -q "^ENQ-2026-000001,"'
enq show ENQ-2026-000001
checke "show: the close and the note in the history, by enquiries" \
    'echo "$out" | grep -q -E "closed +enquiries" &&
    echo "$out" | grep -q -E "note +enquiries  visit booked for 3 July"'
enq reopen ENQ-2026-000001
checke "reopen" '[ $rc -eq 0 ] && [ "$(sql "SELECT status FROM enq_case WHERE reference = '"'ENQ-2026-000001'"'")" = new ]'
enq note ENQ-2026-000003 "called back"
checke "note" '[ $rc -eq 0 ] && [ "$(sql "SELECT text FROM case_event WHERE what = '"'note'"' AND reference = '"'ENQ-2026-000003'"'")" = "called back" ]'

# 4. stats
enq stats --json
checke "stats --json: cases per month and category, overdue, answer times" \
    '[ $rc -eq 0 ] && echo "$out" | python3 -c "import json,sys
v = json.load(sys.stdin)
assert v[\"cases\"] >= 4 and v[\"overdue\"] >= 3, v
assert v[\"first_answer_median_seconds\"] is None
assert {\"month\": \"2026-12\", \"category\": \"transport\", \"cases\": 1} in v[\"months\"], v"'
enq stats
checke "stats: a table" '[ $rc -eq 0 ] && echo "$out" | grep -q "^cases opened: " &&
    echo "$out" | grep -q -E "^2026-12  +transport +1$"'

# 5. locks and versions: a writer holds the database until told (10 s at
# most)
python3 -c 'import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
for i in range(100):
	if os.path.exists(sys.argv[3]):
		break
	time.sleep(0.1)
c.execute("ROLLBACK")' "$S/enquiries.db" "$T/locked" "$T/release" &
lockpid=$!
i=0; while [ ! -e "$T/locked" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
enq list --csv
checke "a locked database can still be read" '[ $rc -eq 0 ] && echo "$out" | grep -q "^ENQ-2026-000003,"'
start=$(date +%s)
"$ENQ" -c "$T/m.conf" -w 1 close ENQ-2026-000003 >"$T/out" 2>"$T/err"; rc=$?
waited=$(( $(date +%s) - start ))
checke "a change waits (-w 1), then says the database is locked: status 1" \
    '[ $rc -eq 1 ] && [ $waited -ge 1 ] && grep -q "the database is locked by another program (waited 1 s); nothing was changed" "$T/err"'
touch "$T/release"
wait "$lockpid"
checke "and nothing was changed" \
    '[ "$(sql "SELECT status FROM enq_case WHERE reference = '"'ENQ-2026-000003'"'")" = new ]'
mkdir -p "$T/newer" && cp "$S/enquiries.db" "$T/newer/enquiries.db"
python3 -c 'import sqlite3,sys; c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA user_version = 3"); c.commit()' "$T/newer/enquiries.db"
chown -R "$user" "$T/newer" 2>/dev/null
mkconf "$T/newer.conf" "$T/newer"
"$ENQ" -c "$T/newer.conf" list >"$T/out" 2>"$T/err"; rc=$?
checke "a database of a newer schema is refused, naming both versions" \
    '[ $rc -eq 1 ] && grep -q "schema version 3, newer than this program.s 2" "$T/err"'
checke "and is left as it was" \
    '[ "$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"PRAGMA user_version\").fetchone()[0])" "$T/newer/enquiries.db")" = 3 ]'
# a wrong option is named as typed, a missing value as such
for a in "--help|unknown option \"--help\"" "-xV|unknown option \"-x\"" \
    "-w|-w needs a value" "-c|-c needs a value"; do
	"$ENQ" ${a%%|*} >/dev/null 2>"$T/err"; rc=$?
	checke "enquiries ${a%%|*}: status 2, says: ${a#*|}" \
	    '[ $rc -eq 2 ] && grep -q -F -- "enquiries: ${a#*|} (" "$T/err"'
done
enq migrate --to
checke "migrate --to with no URL: status 2, needs a value" \
    '[ $rc -eq 2 ] && echo "$err" | grep -q -F "migrate: --to needs a value"'
"$ENQ" -c "$T/nonexistent.conf" list >/dev/null 2>"$T/err"; rc=$?
checke "a missing configuration: status 1, named" '[ $rc -eq 1 ] && grep -q "nonexistent.conf" "$T/err"'

# 6. export, erasure, retention
enq export --address Jane.T@example.org
checke "export: everything about her, as JSON" \
    '[ $rc -eq 0 ] && echo "$out" | python3 -c "import json,sys
v = json.load(sys.stdin)
assert v[\"address\"] == \"Jane.T@example.org\"
assert \"ENQ-2026-000001\" in [c[\"reference\"] for c in v[\"case\"]], v
assert len(v[\"message\"]) >= 3 and v[\"acknowledgement\"], v"'
holds() { grep -r -l -i -F "$1" "$S"/enquiries.db* "$S/spool" 2>/dev/null; }
checke "before the erasure the address is in the files" '[ -n "$(holds jane.t@example.org)" ]'
enq purge --address jane.t@example.org
checke "purge --address: says what went" \
    '[ $rc -eq 0 ] && echo "$out" | grep -q -E "^purged jane.t@example.org: [1-9][0-9]* cases, [1-9][0-9]* messages, [0-9]+ other rows, [1-9][0-9]* spooled mails$"'
left=$(holds jane.t@example.org)
checke "after it the address is in neither the database, its WAL nor the spool" \
    '[ -z "$left" ]'
[ -z "$left" ] || echo "# still in: $left"
checke "nor her subject" '! grep -q -F "A visit in July" "$S/enquiries.db"'
checke "(the check can see what stays)" '[ -n "$(holds zoe@example.org)" ]'
enq show ENQ-2026-000001
checke "her case stays for the figures, without her" \
    '[ $rc -eq 0 ] && echo "$out" | grep -q "from *(purged)" && echo "$out" | grep -q "purged  *2"'
enq export --address jane.t@example.org
checke "an export after the erasure holds nothing about her" \
    '[ $rc -eq 0 ] && echo "$out" | python3 -c "import json,sys
v = json.load(sys.stdin)
assert set(v) == {\"address\", \"exported\"}, v"'
# retention 1d: sam's case, as if all of it were two days old and closed,
# goes; zoe's, open, stays
enq close ADM-2026-000001
python3 -c 'import sqlite3,sys; c = sqlite3.connect(sys.argv[1], timeout=10)
d = 2 * 86400
c.execute("UPDATE enq_case SET closed = closed - ?, opened = opened - ?, waiting_since = waiting_since - ? WHERE reference = ?", (d, d, d, "ADM-2026-000001"))
c.execute("UPDATE enquiry SET time = time - ? WHERE sender = ?", (d, "sam@example.com"))
c.execute("UPDATE case_event SET time = time - ? WHERE reference = ?", (d, "ADM-2026-000001"))
c.execute("UPDATE ack SET last = last - ? WHERE sender = ?", (d, "sam@example.com"))
c.execute("UPDATE autoreply SET time = time - ? WHERE address = ?", (d, "sam@example.com"))
c.commit()' "$S/enquiries.db"
enq purge --expired
checke "purge --expired: the case closed before the retention" \
    '[ $rc -eq 0 ] && echo "$out" | grep -q "^purged the personal data of 1 cases closed before "'
left=$(holds sam@example.com)
checke "sam's address is gone from the database and its WAL" '[ -z "$left" ]'
checke "an open case keeps its data" '[ -n "$(holds zoe@example.org)" ]'
enq stats --json
checke "stats still count the purged cases" \
    'echo "$out" | python3 -c "import json,sys; v = json.load(sys.stdin); assert v[\"cases\"] >= 4, v"'
if [ "$(id -u)" -eq 0 ]; then
	checke "as root it worked as $user: no file of the register is root's" \
	    '[ -z "$(find "$S" -user root)" ]'
fi

milter_stop_checked "$T/milter.log"
milter_done "$T/milter.log"

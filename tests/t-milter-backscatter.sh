#!/bin/sh
# enquiry-milter against backscatter and automatic mail (issue 15 items 6,
# 9, 14, 15, 16, 17), driven by miltertest (tests/milter/backscatter.lua):
# the real binary on a unix socket, auto-reply-limit = 3, authserv-id set,
# replies to a closed port so they stay in the spool to be counted. Then a
# reload that changes state-dir (item 17).
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
BIN=${ENQUIRY_MILTER:-$TOP/build/enquiry-milter}
. "$TOP/tests/lib/milter.sh"
milter_require miltertest

milter_tmpdir t-backscatter
mkdir -p "$T/lists"
printf 'jane@example.org\nbob@example.org\ncarol@example.net\n' >"$T/lists/partners.txt"
printf 'gov1@example.org\n' >"$T/lists/mod.txt"
chown -R "$user" "$T/lists"
cp "$TOP/etc/templates/enquiry-ack.txt" "$T/ack.txt" && chmod 644 "$T/ack.txt"

{ milter_spool_conf; cat <<CONF
submit-timeout = "2s"
hostname  = "milter.test"
auto-reply-limit = 3
authserv-id = "mx.rmet.org"
enquiry "enquiries@rmet.org" {
	route-to     = {"rachelle.stevens@rmet.org"}
	ack-template = "$T/ack.txt"
	ack-interval = "0s"
}
list "partners@rmet.org" {
	name    = "Teaching school partners"
	members = "$T/lists/partners.txt"
	posting = "members"
	owners  = {"rachelle.stevens@rmet.org"}
	archive = true
}
list "mod@rmet.org" {
	members = "$T/lists/mod.txt"
	posting = "moderated"
	owners  = {"clerk@rmet.org", "chair@rmet.org"}
}
CONF
} >"$T/m.conf"
chmod 644 "$T/m.conf"

milter_start "$T/m.conf" "$T/milter.log" "$T/milter.sock"
if [ -S "$T/milter.sock" ]; then ok "milter listening on its socket"
else notok "milter listening on its socket"; cat "$T/milter.log"; exit 1; fi

out=$(miltertest -D sock="unix:$T/milter.sock" -D spool="$T/state/spool" \
    -D state="$T/state" -D dir="$TOP/tests/milter" -D tmp="$T" \
    -D lists="$T/lists" -s "$TOP/tests/milter/backscatter.lua" 2>&1)
rc=$?
echo "$out" | grep -E '^(ok|not ok|skip|#) '
nf=$(echo "$out" | grep -c '^not ok - ')
failed=$((failed + nf))
if [ $rc -ne 0 ] && [ "$nf" -eq 0 ]; then
	notok "backscatter.lua: miltertest exited $rc: $(echo "$out" | tail -3)"
fi

# item 6: every acknowledgement logged as sent is a file in the spool
nsent=$(grep -c ' ack=sent ' "$T/milter.log")
nfiles=$(grep -l -r '^ref ENQ-' "$T/state/spool/new" "$T/state/spool/tmp" \
    "$T/state/spool/failed" 2>/dev/null | wc -l)
checke "every ack=sent is in the spool ($nsent logged, $nfiles files)" \
    '[ "$nsent" -gt 0 ] && [ "$nsent" -eq "$nfiles" ]'

# item 17: a reload that changes state-dir keeps the old one, and says so;
# the archive goes on where it was
sed "s|^state-dir .*|state-dir = \"$T/state2\"|" "$T/m.conf" >"$T/m2.conf" &&
    cp "$T/m2.conf" "$T/m.conf"
kill -USR1 "$mpid"
i=0
while ! grep -q "configuration reloaded" "$T/milter.log" && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1))
done
checke "reload: state-dir stays, with a log line that says so" \
    'grep -q "reload: state-dir stays \"$T/state\" until a restart (the file says \"$T/state2\")" "$T/milter.log"'
before=$(ls "$T/state/archive/partners@rmet.org/new" 2>/dev/null | wc -l)
cat >"$T/post.lua" <<'LUA'
dofile(dir .. "/list_lib.lua")
local conn, r, at = lsend({ from = "<jane@example.org>",
    rcpts = { "<partners@rmet.org>" },
    headers = { { "From", "jane@example.org" }, { "Subject", "After the reload" } } })
check(accepted(r) and at == "eom", "a post after the reload accepted")
mt.disconnect(conn)
done()
LUA
miltertest -D sock="unix:$T/milter.sock" -D spool="$T/state/spool" \
    -D state="$T/state" -D dir="$TOP/tests/milter" -D tmp="$T" \
    -D lists="$T/lists" -s "$T/post.lua" 2>&1 | grep -E '^(ok|not ok) ' |
    tee "$T/post.out"
grep -q '^not ok' "$T/post.out" && failed=$((failed + 1))
after=$(ls "$T/state/archive/partners@rmet.org/new" 2>/dev/null | wc -l)
checke "after the reload the post is archived under the old state-dir" \
    '[ "$after" -eq $((before + 1)) ] && [ ! -e "$T/state2" ]'

milter_stop_checked "$T/milter.log"
milter_done "$T/milter.log"

#!/bin/sh
# enquiry-milter as a mailing-list agent, driven by miltertest: the real
# binary on a unix socket in a throwaway directory with lists of every
# posting policy; the Lua scripts tests/milter/list_*.lua print ok / not ok
# lines. replies (confirmations, help, moderation notices) go to a closed
# port, so they stay in the spool where the scripts read them.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
BIN=${ENQUIRY_MILTER:-$TOP/build/enquiry-milter}
. "$TOP/tests/lib/milter.sh"
milter_require miltertest

milter_tmpdir t-list

# the members files, writable by the milter's user (its directory too:
# edits rename a new file into place)
mkdir -p "$T/lists"
printf '# teaching school partners\njane@example.org\nBob@Example.ORG     # head of science\ncarol@example.net\n' \
    >"$T/lists/partners.txt"
printf 'governor1@example.org\ngovernor2@example.org\n' >"$T/lists/governors.txt"
printf 'reader1@example.org\nreader2@example.org\n' >"$T/lists/open.txt"
printf '# staff\nstaff1@example.org\n' >"$T/lists/news.txt"
printf 'cohort1@example.org\n' >"$T/lists/cohort.txt"
printf 'rachelle.stevens@rmet.org\nclerk@rmet.org\n' >"$T/lists/governance.txt"
chown -R "$user" "$T/lists"

{ milter_spool_conf; cat <<CONF
submit-timeout = "2s"
log-level = "info"
hostname  = "milter.test"
enquiry "enquiries@rmet.org" {
	route-to      = {"governance@rmet.org"}
	reference     = "ENQ"
	ack-template  = "$TOP/etc/templates/enquiry-ack.txt"
}
list "partners@rmet.org" {
	name        = "Teaching school partners"
	members     = "$T/lists/partners.txt"
	posting     = "members"
	owners      = {"rachelle.stevens@rmet.org"}
	subject-tag = "[Partners]"
	reply-to    = "list"
	subscribe   = "confirm"
	archive     = true
	unsubscribe-url = "https://lists.rmet.org/unsubscribe/partners"
	help-text   = "Questions: write to rachelle.stevens@rmet.org."
}
list "governors-list@rmet.org" {
	name     = "Governors"
	members  = "$T/lists/governors.txt"
	posting  = "moderated"
	owners   = {"clerk@rmet.org", "chair@rmet.org"}
}
list "open@rmet.org" {
	members  = "$T/lists/open.txt"
	posting  = "open"
	exclude-sender = true
	reply-to = "sender"
}
list "news@rmet.org" {
	members   = "$T/lists/news.txt"
	posting   = "owners"
	owners    = {"head@rmet.org"}
	subscribe = "closed"
}
list "cohort@rmet.org" {
	members        = "$T/lists/cohort.txt"
	token-lifetime = "2s"
}
list "governance@rmet.org" {
	members  = "$T/lists/governance.txt"
	posting  = "owners"
	owners   = {"rachelle.stevens@rmet.org"}
}
CONF
} >"$T/m.conf"

# 1. configuration: list blocks checked, errors with file:line (a
# problem with a whole block names the line that closes it)
if "$BIN" -n -c "$T/m.conf" >/dev/null 2>&1; then ok "-n accepts the list config"
else notok "-n accepts the list config: $("$BIN" -n -c "$T/m.conf" 2>&1)"; fi
milter_check_shipped "$TOP/etc/enquiry-milter.conf" \
    "the shipped config with its list"
badconf() { # badconf WANT; the config on stdin
	cat >"$T/bad.conf"
	out=$("$BIN" -n -c "$T/bad.conf" 2>&1); rc=$?
	if [ $rc -eq 1 ] && [ "$out" = "$1" ]; then ok "refused: $1"
	else notok "refused with \"$1\" (rc $rc: $out)"; fi
}
printf 'list "l@rmet.org" {\n\tmembers = "%s"\n\tposting = "everyone"\n}\n' "$T/lists/open.txt" |
    badconf "$T/bad.conf:3: posting: \"everyone\" is not one of members | open | moderated | owners"
printf 'list "l@rmet.org" {\n\tposting = "open"\n}\n' |
    badconf "$T/bad.conf:3: list \"l@rmet.org\": members (a file) is missing"
printf '\nlist "m@rmet.org" {\n\tmembers = "%s"\n\tposting = "moderated"\n}\n' "$T/lists/open.txt" |
    badconf "$T/bad.conf:5: list \"m@rmet.org\": posting = \"moderated\" needs owners"
printf 'list "l@rmet.org" {\n\tmembers = "%s"\n}\n' "$T/none.txt" |
    badconf "$T/bad.conf:2: members \"$T/none.txt\": No such file or directory"
printf 'ok@example.org\nnot an address\n' >"$T/badmembers.txt"
printf 'list "l@rmet.org" {\n\tmembers = "%s"\n}\n' "$T/badmembers.txt" |
    badconf "$T/badmembers.txt:2: not a mail address"
printf 'list "l@rmet.org" {\n\tmembers = "%s"\n\tunsubscribe-url = "mailto:x@rmet.org"\n}\n' "$T/lists/open.txt" |
    badconf "$T/bad.conf:3: unsubscribe-url: \"mailto:x@rmet.org\" is not an http(s) URL"
printf 'list "l@rmet.org" {\n\tmembers = "%s"\n\ttoken-lifetime = "forever"\n}\n' "$T/lists/open.txt" |
    badconf "$T/bad.conf:3: token-lifetime: \"forever\" is not a duration (like 30s, 10m, 7d)"
printf 'list "a/b@rmet.org" {\n\tmembers = "%s"\n}\n' "$T/lists/open.txt" |
    badconf "$T/bad.conf:3: list \"a/b@rmet.org\": a list address may not start with '.' or hold a '/'"
printf 'list "not-an-address" {\n\tmembers = "%s"\n}\n' "$T/lists/open.txt" |
    badconf "$T/bad.conf:3: list \"not-an-address\": not a mail address"

# 2. the daemon
milter_start "$T/m.conf" "$T/milter.log" "$T/milter.sock"
if [ -S "$T/milter.sock" ]; then ok "milter listening on its socket"
else notok "milter listening on its socket"; cat "$T/milter.log"; exit 1; fi

for s in list_post list_loop list_request; do
	out=$(miltertest -D sock="unix:$T/milter.sock" -D spool="$T/state/spool" \
	    -D state="$T/state" -D dir="$TOP/tests/milter" -D tmp="$T" \
	    -D lists="$T/lists" -D pid="$mpid" -s "$TOP/tests/milter/$s.lua" 2>&1)
	rc=$?
	echo "$out" | grep -E '^(ok|not ok|skip|#) '
	nf=$(echo "$out" | grep -c '^not ok - ')
	failed=$((failed + nf))
	if [ $rc -ne 0 ] && [ "$nf" -eq 0 ]; then
		notok "$s.lua: miltertest exited $rc: $(echo "$out" | tail -3)"
	fi
done

# 3. stop cleanly
milter_stop_checked "$T/milter.log"
milter_done "$T/milter.log" 60

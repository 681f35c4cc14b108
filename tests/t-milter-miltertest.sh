#!/bin/sh
# enquiry-milter driven by miltertest (the Debian package): the real binary
# on a unix socket in a throwaway directory; the Lua scripts in tests/milter/
# print ok / not ok lines. acknowledgements go to a closed port, so they stay
# in the spool where the scripts can read them.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
BIN=${ENQUIRY_MILTER:-$TOP/build/enquiry-milter}
. "$TOP/tests/lib/milter.sh"
milter_require miltertest

milter_tmpdir t-milter

# the template is re-read on SIGUSR1 as the unprivileged user: keep a copy
# where it can read it, whatever the checkout's permissions
cp "$TOP/etc/templates/enquiry-ack.txt" "$T/ack.txt" && chmod 644 "$T/ack.txt"

{ milter_spool_conf; cat <<EOF
submit-timeout = "2s"
submit-retry-max = "2s"
log-level = "info"
hostname  = "milter.test"
enquiry "enquiries@rmet.org" {
	route-to      = {"rachelle.stevens@rmet.org"}
	reference     = "ENQ"
	ack-from      = "Rushey Mead Educational Trust <enquiries@rmet.org>"
	ack-template  = "$T/ack.txt"
	ack-interval  = "7d"
	bounce-address = "enquiries-bounces@rmet.org"
	category "visit" {
		keywords = {"visit", "tour"}
		route-to = {"visits@rmet.org"}
	}
}
enquiry "admissions@rmet.org" {
	route-to      = {"admissions-team@rmet.org"}
	keep-original = true
	reference     = "ADM"
	ack-template  = "$T/ack.txt"
}
EOF
} >"$T/m.conf"
cat >"$T/extra.conf" <<EOF
enquiry "governors@rmet.org" {
	route-to     = {"clerk@rmet.org"}
	reference    = "GOV"
	ack-template = "$T/ack.txt"
}
EOF

# 1. command line
if "$BIN" -V | grep -q '^enquiry-milter [0-9]'; then ok "-V prints the version"
else notok "-V prints the version"; fi
if "$BIN" -n -c "$T/m.conf" >/dev/null 2>&1; then ok "-n accepts the test config"
else notok "-n accepts the test config"; fi
milter_check_shipped "$TOP/etc/enquiry-milter.conf" "the shipped config"
printf 'enquiry "enquiries@rmet.org" {\n route-to = {"a@b"}\n ack-interval = "soon"\n}\n' >"$T/bad.conf"
out=$("$BIN" -n -c "$T/bad.conf" 2>&1); rc=$?
if [ $rc -eq 1 ] && [ "$out" = "$T/bad.conf:3: ack-interval: \"soon\" is not a duration (like 30s, 10m, 7d)" ]; then
	ok "-n refuses a broken config with file:line"
else notok "-n refuses a broken config with file:line (rc $rc: $out)"; fi
printf 'submit-connections = 0\nenquiry "enquiries@rmet.org" {\n route-to = {"a@b"}\n}\n' >"$T/bad.conf"
out=$("$BIN" -n -c "$T/bad.conf" 2>&1); rc=$?
if [ $rc -eq 1 ] && [ "$out" = "$T/bad.conf:1: submit-connections: 0 is not 1 to 32" ]; then
	ok "-n refuses submit-connections out of range, with file:line"
else notok "-n refuses submit-connections out of range (rc $rc: $out)"; fi

# 2. the daemon
milter_start "$T/m.conf" "$T/milter.log" "$T/milter.sock"
if [ -S "$T/milter.sock" ]; then ok "milter listening on its socket"
else notok "milter listening on its socket"; cat "$T/milter.log"; exit 1; fi
if [ "$(id -u)" -eq 0 ]; then
	u=$(ps -o user= -p "$mpid" | tr -d ' ')
	if [ "$u" = "nobody" ]; then ok "started as root, runs as $u"
	else notok "started as root, runs as nobody (got $u)"; fi
fi
# the key that marks our own acknowledgements: made once, the milter
# user's alone
k=$(stat -c '%U %a %s' "$T/state/ack.key" 2>&1)
if [ "$k" = "$user 600 32" ]; then ok "state-dir/ack.key: 32 bytes, mode 0600, owned by $user"
else notok "state-dir/ack.key: 32 bytes, mode 0600, owned by $user (got $k)"; fi

for s in route noack untouched thread tempfail reload; do
	out=$(miltertest -D sock="unix:$T/milter.sock" -D spool="$T/state/spool" \
	    -D state="$T/state" -D dir="$TOP/tests/milter" -D tmp="$T" \
	    -D pid="$mpid" -D conf="$T/m.conf" -D bin="$BIN" \
	    -s "$TOP/tests/milter/$s.lua" 2>&1)
	rc=$?
	echo "$out" | grep -E '^(ok|not ok|skip) - '
	nf=$(echo "$out" | grep -c '^not ok - ')
	failed=$((failed + nf))
	if [ $rc -ne 0 ] && [ "$nf" -eq 0 ]; then
		notok "$s.lua: miltertest exited $rc: $(echo "$out" | tail -3)"
	fi
done

# 3. the relay was down all along: the spooled acknowledgements wait, and
# all go out once it listens, none twice
spooled=$(find "$T/state/spool/new" -type f | wc -l)
if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$T/sink" && chown postfix "$T/sink" 2>/dev/null
	sinkuser="-u postfix -R $T/sink"
	sinkdir=$T/sink/m
else
	sinkuser=""
	sinkdir=$T/m
fi
if command -v smtp-sink >/dev/null 2>&1 || [ -x /usr/sbin/smtp-sink ]; then
	PATH=$PATH:/usr/sbin smtp-sink $sinkuser -d "m/%H%M%S." \
	    "127.0.0.1:$deadport" 64 >"$T/sink.log" 2>&1 &
	sinkpid=$!
	i=0
	while [ -n "$(find "$T/state/spool/new" -type f)" ] && [ $i -lt 300 ]; do
		sleep 0.1; i=$((i + 1))
	done
	sleep 0.5
	got=$(find "$sinkdir" -type f 2>/dev/null | wc -l)
	nullrp=$(grep -l -r '^X-Mail-Args: <>' "$sinkdir" 2>/dev/null | wc -l)
	kill "$sinkpid" 2>/dev/null; wait "$sinkpid" 2>/dev/null
	if [ "$spooled" -gt 0 ] && [ "$got" -eq "$spooled" ] && [ "$nullrp" -eq "$got" ]; then
		ok "relay back: all $spooled waiting acknowledgements sent once, MAIL FROM:<>"
	else
		notok "relay back: $spooled waiting, $got arrived, $nullrp with <>"
	fi
else
	echo "skip - smtp-sink not installed"
fi

# 4. the log for the governance team
out=$("$BIN" -c "$T/m.conf" -l 3 2>&1)
n=$(echo "$out" | grep -c -E '^(ENQ|ADM|GOV)-[0-9]{4}-[0-9]{6} ')
if [ "$n" -eq 3 ] && echo "$out" | head -1 | grep -q '^REFERENCE'; then
	ok "-l 3 lists the last three enquiries"
else notok "-l 3 lists the last three enquiries: $out"; fi
# the columns line up whatever the reference: AUTO- markers are longer
# than case references. the offset where each line's 2nd column (KIND)
# and, in the rows, its 5th (SENDER, after the date and time) start
out=$("$BIN" -c "$T/m.conf" -l 1000 2>&1)
cols=$(echo "$out" | awk 'function skip(n,  l, o, i) { l = $0; o = 0
		for (i = 0; i < n; i++) { match(l, /^[^ ]+ +/); o += RLENGTH; l = substr(l, RLENGTH + 1) }
		return o }
	NR == 1 { print "kind " skip(1); next }
	{ print "kind " skip(1); print "sender " skip(4) }' | sort -u | wc -l)
nauto=$(echo "$out" | grep -c '^AUTO-ENQ-')
if [ "$nauto" -gt 0 ] && [ "$cols" -eq 2 ]; then
	ok "-l columns line up with $nauto AUTO- markers among the rows"
else notok "-l columns line up with AUTO- markers ($nauto, $cols offsets): $out"; fi
if "$BIN" -c "$T/m.conf" -l 1000 | grep -q 'Visit in June'; then
	ok "-l shows subjects"
else notok "-l shows subjects"; fi

# 5. stop: libmilter's SIGTERM, cleanly, within its 5 s poll
milter_stop_checked "$T/milter.log"

# 6. restart: references carry on, a stale socket is replaced
"$BIN" -f -c "$T/m.conf" >"$T/milter2.log" 2>&1 &
mpid=$!
i=0
while ! grep -q "listening" "$T/milter2.log" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
cat >"$T/one.lua" <<'EOF'
dofile(dir .. "/lib.lua")
local conn, r = send({ from = "<after@example.org>", rcpts = { "<enquiries@rmet.org>" } })
print("REF " .. tostring(ref_of(conn)))
mt.disconnect(conn)
EOF
out=$(miltertest -D sock="unix:$T/milter.sock" -D spool="$T/state/spool" \
    -D dir="$TOP/tests/milter" -D tmp="$T" -s "$T/one.lua" 2>&1)
last=$("$BIN" -c "$T/m.conf" -l 100 | grep -o '^ENQ-[0-9-]*' | sort | tail -2 | head -1)
new=$(echo "$out" | sed -n 's/^REF //p')
if [ -n "$new" ] && [ "$new" != "nil" ] && [ "$(printf '%s\n%s\n' "$last" "$new" | sort | tail -1)" = "$new" ] && [ "$new" != "$last" ]; then
	ok "after a restart references carry on ($last -> $new)"
else notok "after a restart references carry on ($last -> $new): $out"; fi

[ $failed -eq 0 ]

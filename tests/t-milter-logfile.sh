#!/bin/sh
# enquiry-milter's log-file: lines go to the file, and SIGUSR1 (its reload
# signal) reopens it after logrotate has moved it away.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
BIN=${ENQUIRY_MILTER:-$TOP/build/enquiry-milter}
[ -x "$BIN" ] || { echo "not ok - $BIN not built"; exit 1; }

T=$(mktemp -d /tmp/t-milterlog.XXXXXX) || exit 1
chmod 755 "$T"
. "$TOP/tests/lib/milter.sh"
cleanup() {
	milter_stop
	rm -rf "$T"
}
trap cleanup EXIT
wait_for() {	# file pattern: up to 5 s
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	grep -q "$2" "$1" 2>/dev/null
}

if [ "$(id -u)" -eq 0 ]; then user=nobody; else user=$(id -un); fi
mkdir "$T/log" && chown "$user" "$T/log"
cp "$TOP/etc/templates/enquiry-ack.txt" "$T/ack.txt" && chmod 644 "$T/ack.txt"
cat >"$T/m.conf" <<EOF
socket    = "unix:$T/milter.sock"
state-dir = "$T/state"
user      = "$user"
log-file  = "$T/log/milter.log"
enquiry "enquiries@rmet.org" {
	route-to     = {"rachelle.stevens@rmet.org"}
	ack-from     = "enquiries@rmet.org"
	ack-template = "$T/ack.txt"
}
EOF
chmod 644 "$T/m.conf"

milter_start "$T/m.conf" "$T/stderr" "$T/milter.sock" ||
    notok "the milter listens on its socket"
pid=$mpid
kill -USR1 "$pid"
if wait_for "$T/log/milter.log" "configuration reloaded"; then
	ok "log lines go to log-file"
else
	notok "log lines go to log-file"; cat "$T/stderr"
fi
mv "$T/log/milter.log" "$T/log/milter.log.1"
n1=$(wc -l < "$T/log/milter.log.1")
kill -USR1 "$pid"
if wait_for "$T/log/milter.log" "reopened"; then
	ok "SIGUSR1 reopens the log file after rotation"
else
	notok "SIGUSR1 reopens the log file after rotation"
fi
sleep 0.2
n2=$(wc -l < "$T/log/milter.log.1")
if [ "$n1" -eq "$n2" ]; then
	ok "nothing more is written to the rotated file"
else
	notok "nothing more is written to the rotated file ($n1 -> $n2 lines)"
fi
if kill -0 "$pid" 2>/dev/null; then
	ok "the milter is still running"
else
	notok "the milter is still running"
fi
[ "$failed" -eq 0 ]

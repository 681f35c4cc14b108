#!/bin/sh
# the mail row of `make bench`: messages arriving in smtp-sink per second
# through a throwaway Postfix on loopback, with enquiry-milter attached and
# without it, the same number of messages from smtp-source, interleaved in
# one run. With the milter every message is an enquiry: a routed copy
# arrives for each, plus the acknowledgements (both count).
#   tests/bench/mail.sh [MESSAGES] [SESSIONS] [ROUNDS] [SENDERS]
# SENDERS > 1 runs that many smtp-source processes with distinct senders,
# so that many acknowledgements are due, not one. SENDERS=all uses
# tests/bench/mailgen.py instead: every message from its own sender, so
# every enquiry is acknowledged (the same generator for both runs).
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$PWD
BIN=${ENQUIRY_MILTER:-$TOP/build/enquiry-milter}
N=${1:-${BENCH_MAIL_MESSAGES:-1000}}
S=${2:-20}
ROUNDS=${3:-2}
SENDERS=${4:-1}
. "$TOP/tests/lib/postfix.sh"

if why=$(pf_unavailable); then echo "mail bench skipped: $why"; exit 0; fi
command -v smtp-source >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
[ -x "$BIN" ] || { echo "mail bench: $BIN not built"; exit 1; }

mpid=""
cleanup() {
	if [ -n "$mpid" ]; then
		kill -TERM "$mpid" 2>/dev/null
		_i=0
		while kill -0 "$mpid" 2>/dev/null && [ $_i -lt 150 ]; do
			sleep 0.1; _i=$((_i + 1))
		done
		kill -KILL "$mpid" 2>/dev/null
	fi
	pf_cleanup
}
trap cleanup EXIT

pf_init || exit 1
M=$PF_DIR/milter
mkdir -p "$M" && chmod 755 "$M"
{
	echo "socket       = \"unix:$M/milter.sock\""
	echo "socket-group = \"postfix\""
	echo "state-dir    = \"$M/state\""
	echo "user         = \"nobody\""
	echo "submit       = \"127.0.0.1:$PF_PORT\""
	echo "log-level    = \"warning\""
	echo "enquiry \"enquiries@rmet.org\" {"
	echo "	route-to     = {\"rachelle.stevens@rmet.org\"}"
	echo "	ack-template = \"$TOP/etc/templates/enquiry-ack.txt\""
	echo "	ack-interval = \"7d\""
	echo "}"
} >"$M/m.conf"
"$BIN" -f -c "$M/m.conf" >"$M/milter.log" 2>&1 &
mpid=$!
_i=0
while [ ! -S "$M/milter.sock" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
pf_config "milter_protocol = 6" "milter_default_action = tempfail"
sink_start || exit 1
pf_start || exit 1

now() { date +%s.%N; }
# cpu time of the milter so far, in clock ticks
mcpu() { awk '{ print $14 + $15 }' "/proc/$mpid/stat"; }

# one run: push N messages, wait for the arrivals; prints count, time, rate
run() { # run MILTER(0|1) ROUND
	if [ "$1" -eq 1 ]; then
		pf_config "smtpd_milters = unix:$M/milter.sock"
	else
		pf_config "smtpd_milters ="
	fi
	pf_reload
	sleep 2
	rm -rf "$PF_DIR/sink/m"
	if [ "$SENDERS" = all ]; then
		want=$N
		[ "$1" -eq 1 ] && [ -z "${BENCH_RCPT:-}" ] && want=$((N * 2))
	else
		per=$((N / SENDERS))
		want=$((per * SENDERS))
		[ "$1" -eq 1 ] && [ -z "${BENCH_RCPT:-}" ] && want=$((want + SENDERS))
	fi
	pids=""
	c0=$(mcpu)
	t0=$(now)
	k=0
	if [ "$SENDERS" = all ]; then
		python3 "$TOP/tests/bench/mailgen.py" "$PF_PORT" "$N" "$S" \
		    "${BENCH_RCPT:-enquiries@rmet.org}" "r$2m$1" &
		pids=$!
		k=$SENDERS
	fi
	while [ "$SENDERS" != all ] && [ $k -lt "$SENDERS" ]; do
		smtp-source -s $(( (S + SENDERS - 1) / SENDERS )) -m "$per" \
		    -l 2048 -f "parent$2x$1x$k@example.org" \
		    -t "${BENCH_RCPT:-enquiries@rmet.org}" "127.0.0.1:$PF_PORT" &
		pids="$pids $!"
		k=$((k + 1))
	done
	for p in $pids; do wait "$p"; done
	got=$(sink_wait "$want" 300)
	t1=$(now)
	c1=$(mcpu)
	python3 -c "import sys, os; n=int(sys.argv[1]); t=float(sys.argv[3])-float(sys.argv[2]); print('%d %.3f %.1f %.0f' % (n, t, n / t, (int(sys.argv[5]) - int(sys.argv[4])) * 1e6 / os.sysconf('SC_CLK_TCK') / $N))" \
	    "$got" "$t0" "$t1" "$c0" "$c1"
}

if [ "$SENDERS" = all ]; then gen="mailgen.py, a sender per message"; else gen="smtp-source, $SENDERS sender(s)"; fi
echo "mail: $N messages of 2 KB, $S sessions ($gen), $ROUNDS round(s)"
plain_sum=0 milter_sum=0
r=1
while [ $r -le "$ROUNDS" ]; do
	set -- $(run 0 "$r")
	echo "  round $r without milter: $1 arrived in $2 s = $3 msg/s"
	plain_sum=$(python3 -c "print($plain_sum + $3)")
	set -- $(run 1 "$r")
	echo "  round $r with milter:    $1 arrived in $2 s = $3 msg/s (milter cpu $4 us/message)"
	milter_sum=$(python3 -c "print($milter_sum + $3)")
	r=$((r + 1))
done
python3 -c "
p = $plain_sum / $ROUNDS; m = $milter_sum / $ROUNDS
print('mail row: postfix alone %.1f msg/s, with enquiry-milter %.1f msg/s, ratio %.2f' % (p, m, m / p))"
echo "  milter tempfails: $(grep -c 'tempfail' "$M/milter.log")"

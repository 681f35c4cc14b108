#!/bin/sh
# the mail row of `make bench`: messages arriving in smtp-sink per second
# through a throwaway Postfix on loopback, with enquiry-milter attached and
# without it, the same number of messages pushed by mailblast (one SMTP
# session per message), interleaved round by round in one run. with the
# milter every message is an enquiry: a routed copy arrives for each, plus
# the acknowledgements (both count).
#   tests/bench/mail.sh [MESSAGES] [SESSIONS] [ROUNDS] [SENDERS]
# SENDERS: "all" (every enquiry from its own sender, so every one is
# acknowledged), "one" (one sender, acknowledged once a round, the rest
# within ack-interval) or "both" (default: a row for each).
# BENCH_RCPT=addr sends to another address (no enquiry, nothing counted
# but the messages themselves).
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$PWD
BIN=${ENQUIRY_MILTER:-$TOP/build/enquiry-milter}
N=${1:-${BENCH_MAIL_MESSAGES:-2000}}
S=${2:-20}
ROUNDS=${3:-${BENCH_MAIL_ROUNDS:-4}}
SENDERS=${4:-both}
BLAST=${MAILBLAST:-$TOP/build/mailblast}
case $SENDERS in
all|one|both) ;;
1) SENDERS=one ;;
*) echo "mail bench: SENDERS is all, one or both" >&2; exit 2 ;;
esac
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/milter.sh"

if why=$(pf_unavailable); then echo "mail bench skipped: $why"; exit 0; fi
PATH=$PATH:/usr/sbin
[ -x "$BIN" ] || { echo "mail bench: $BIN not built"; exit 1; }
[ -x "$BLAST" ] || { echo "mail bench: $BLAST not built"; exit 1; }

cleanup() {
	milter_stop
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
milter_start "$M/m.conf" "$M/milter.log" "$M/milter.sock" ||
    { echo "mail bench: the milter did not start"; exit 1; }
pf_config "milter_protocol = 6" "milter_default_action = tempfail"
# the sink only counts (smtp-sink -c): no file per message to write and
# no directory to scan while a run is timed, for the generator and the sink
# share the two cores with what is measured
smtp-sink -u postfix -c "127.0.0.1:$PF_SINK_PORT" 256 \
    >"$PF_DIR/sink.count" 2>&1 &
PF_SINK_PID=$!
_i=0
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $PF_SINK_PORT), 1).close()" 2>/dev/null; do
	_i=$((_i + 1))
	[ $_i -lt 50 ] || { echo "mail bench: smtp-sink did not start" >&2; exit 1; }
	sleep 0.1
done
pf_start || exit 1

now() { date +%s.%N; }
# messages the sink has taken so far (its last "... mesg=N" counter line)
sink_mesg() {
	_m=$(tail -c 200 "$PF_DIR/sink.count" | tr '\r' '\n' |
	    sed -n 's/.*mesg=\([0-9][0-9]*\).*/\1/p' | tail -n 1)
	echo "${_m:-0}"
}
# wait until N more than $1 have arrived, for up to T seconds; the count
sink_more() { # sink_more BASE N T
	_i=0
	while [ $(( $(sink_mesg) - $1 )) -lt "$2" ] && [ $_i -lt $(($3 * 20)) ]; do
		sleep 0.05; _i=$((_i + 1))
	done
	echo $(( $(sink_mesg) - $1 ))
}
# cpu time of the milter so far, in clock ticks
mcpu() { awk '{ print $14 + $15 }' "/proc/$mpid/stat"; }

# one run: push N messages, wait for the arrivals; prints count, time,
# rate and the milter's cpu per message pushed
run() { # run MILTER(0|1) ROUND SENDERS(all|one)
	if [ "$1" -eq 1 ]; then
		pf_config "smtpd_milters = unix:$M/milter.sock"
	else
		pf_config "smtpd_milters ="
	fi
	pf_reload
	sleep 2
	m0=$(sink_mesg)
	# senders differ from round to round: ack-interval must not hide
	# one round's acknowledgements behind an earlier round's
	if [ "$3" = all ]; then
		from="parent.$3r$2m$1.%d@example.org" acks=$N
	else
		from="parent.$3r$2m$1@example.org" acks=1
	fi
	want=$N
	[ "$1" -eq 1 ] && [ -z "${BENCH_RCPT:-}" ] && want=$((N + acks))
	c0=$(mcpu)
	t0=$(now)
	"$BLAST" -p "$PF_PORT" -n "$N" -c "$S" -f "$from" \
	    -t "${BENCH_RCPT:-enquiries@rmet.org}" -T "r$2m$1$3" \
	    >"$PF_DIR/blast.out" 2>&1 ||
	    echo "mail bench: mailblast: $(cat "$PF_DIR/blast.out")" >&2
	got=$(sink_more "$m0" "$want" 300)
	t1=$(now)
	c1=$(mcpu)
	python3 -c "import sys, os; n=int(sys.argv[1]); t=float(sys.argv[3])-float(sys.argv[2]); print('%d %.3f %.1f %.0f' % (n, t, n / t, (int(sys.argv[5]) - int(sys.argv[4])) * 1e6 / os.sysconf('SC_CLK_TCK') / $N))" \
	    "$got" "$t0" "$t1" "$c0" "$c1"
}

# one row: ROUNDS interleaved pairs, then the means, their ratio, and the
# ratio of each round (the machine is noisy; one round says little)
row() { # row SENDERS(all|one)
	kind=$1
	if [ "$kind" = all ]; then
		what="every enquiry from a new sender, each acknowledged"
	else
		what="one sender, acknowledged once a round"
	fi
	echo "mail: $N messages of 2 KB, $S sessions, $ROUNDS rounds; $what"
	plain="" milter=""
	r=1
	while [ $r -le "$ROUNDS" ]; do
		set -- $(run 0 "$r" "$kind")
		echo "  round $r without milter: $1 arrived in $2 s = $3 msg/s"
		plain="$plain $3"
		set -- $(run 1 "$r" "$kind")
		echo "  round $r with milter:    $1 arrived in $2 s = $3 msg/s" \
		    "(milter cpu $4 us/message)"
		milter="$milter $3"
		r=$((r + 1))
	done
	python3 -c '
import statistics, sys
kind = sys.argv[1]
p = [float(x) for x in sys.argv[2].split()]
m = [float(x) for x in sys.argv[3].split()]
ratios = sorted(b / a for a, b in zip(p, m))
print("mail row (%s): postfix alone %.1f msg/s, with enquiry-milter %.1f "
      "msg/s, ratio %.2f (by round %s; median %.2f)"
      % ({"all": "every sender new", "one": "one sender"}[kind],
         statistics.mean(p), statistics.mean(m),
         statistics.mean(m) / statistics.mean(p),
         " ".join("%.2f" % r for r in ratios), statistics.median(ratios)))
' "$kind" "$plain" "$milter"
}

# a warm-up, not counted: Postfix starts its processes on first use, and
# the first timed run would pay for that alone
_n=$N
N=$(( N / 5 > 0 ? N / 5 : 1 ))
run 0 0 one >/dev/null
run 1 0 one >/dev/null
N=$_n

if [ "$SENDERS" = both ]; then
	row all
	row one
else
	row "$SENDERS"
fi
echo "  milter tempfails: $(grep -c 'tempfail' "$M/milter.log")"

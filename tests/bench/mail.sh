#!/bin/sh
# the mail row of `make bench`: messages arriving in smtp-sink per second
# through a throwaway Postfix on loopback, with enquiry-milter attached and
# without it, the same number of messages pushed by mailblast (one SMTP
# session per message). the same Postfix listens twice: on one port with
# the milter (smtpd_milters), on another without, so a round switches ports
# and nothing restarts between runs. with the milter every message is an
# enquiry: a routed copy arrives for each, plus the acknowledgements (both
# count), which the milter submits to the port it sits on.
#
# the runs of a round alternate in order (without first, then with first)
# so that whatever drifts during a bench (this machine's ext4 has no
# journal: each new file costs more while many were recently deleted)
# weighs on both alike. each run also prints the CPU time the whole
# machine spent per message pushed, a figure the wall clock's noise
# (other guests on the host) moves less.
#   tests/bench/mail.sh [MESSAGES] [SESSIONS] [ROUNDS] [SENDERS]
# SENDERS: "all" (every enquiry from its own sender, so every one is
# acknowledged), "pg" (the same with the register in PostgreSQL), "stores"
# (all and pg, one after the other), "one"
# (one sender, acknowledged once a round, the rest within ack-interval),
# "floor" (the two floor rows below, one sender) or "both" (default: all,
# pg, one and floor).
#
# the pg row: a second enquiry-milter, the same config but database = a
# throwaway PostgreSQL (tests/lib/pg.sh, fsync on, as sqlite's
# synchronous=full) on a Unix socket, behind its own smtpd port.
#
# the floor rows put build/nullmilter where enquiry-milter was: a libmilter
# filter that asks for the same steps and macros and reads every header and
# body chunk, but keeps nothing; then the same with the five changes an
# enquiry gets (two headers, the subject, a recipient in, one out). what
# they cost is what any libmilter filter doing that costs this Postfix.
# BENCH_RCPT=addr sends to another address (no enquiry, nothing counted
# but the messages themselves). BENCH_MAIL_WAIT: seconds a run waits for
# its arrivals (300); BENCH_MAIL_SETTLE: seconds between runs (1).
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$PWD
BIN=${ENQUIRY_MILTER:-$TOP/build/enquiry-milter}
N=${1:-${BENCH_MAIL_MESSAGES:-1000}}
S=${2:-20}
ROUNDS=${3:-${BENCH_MAIL_ROUNDS:-8}}
SENDERS=${4:-both}
BLAST=${MAILBLAST:-$TOP/build/mailblast}
NULLM=${NULLMILTER:-$TOP/build/nullmilter}
case $SENDERS in
all|pg|stores|one|floor|both) ;;
1) SENDERS=one ;;
*) echo "mail bench: SENDERS is all, pg, stores, one, floor or both" >&2; exit 2 ;;
esac
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/milter.sh"
. "$TOP/tests/lib/pg.sh"

if why=$(pf_unavailable); then echo "mail bench skipped: $why"; exit 0; fi
PATH=$PATH:/usr/sbin
[ -x "$BIN" ] || { echo "mail bench: $BIN not built"; exit 1; }
[ -x "$BLAST" ] || { echo "mail bench: $BLAST not built"; exit 1; }
[ -x "$NULLM" ] || { echo "mail bench: $NULLM not built"; exit 1; }

NPID_NULL= NPID_NULLM= PGMPID=
cleanup() {
	milter_stop
	for p in $NPID_NULL $NPID_NULLM $PGMPID; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pf_cleanup
	pg_cleanup
}
trap cleanup EXIT

pf_init || exit 1
M=$PF_DIR/milter
MPORT=$(pf_other_port "$PF_PORT" "$PF_SINK_PORT")
NPORT=$(pf_other_port "$PF_PORT" "$PF_SINK_PORT" "$MPORT")
NMPORT=$(pf_other_port "$PF_PORT" "$PF_SINK_PORT" "$MPORT" "$NPORT")
PPORT=$(pf_other_port "$PF_PORT" "$PF_SINK_PORT" "$MPORT" "$NPORT" "$NMPORT")
mkdir -p "$M" && chmod 755 "$M"
{
	echo "socket       = \"unix:$M/milter.sock\""
	echo "socket-group = \"postfix\""
	echo "state-dir    = \"$M/state\""
	echo "user         = \"nobody\""
	echo "submit       = \"127.0.0.1:$MPORT\""
	echo "log-level    = \"warning\""
	echo "enquiry \"enquiries@rmet.org\" {"
	echo "	route-to     = {\"rachelle.stevens@rmet.org\"}"
	echo "	ack-template = \"$TOP/etc/templates/enquiry-ack.txt\""
	echo "	ack-interval = \"7d\""
	echo "}"
} >"$M/m.conf"
# the pg row's milter: the same config, its register in postgresql
PGROW=
case $SENDERS in
pg|stores|both)
	if why=$(pg_unavailable); then
		echo "mail bench: no postgresql row: $why"
	elif PG_FSYNC=on pg_init && pg_start && pg_createdb bench; then
		PGROW=1
		MP=$PF_DIR/milterpg
		mkdir -p "$MP" && chmod 755 "$MP"
		sed -e "s|$M/milter.sock|$MP/milter.sock|" \
		    -e "s|127.0.0.1:$MPORT|127.0.0.1:$PPORT|" \
		    -e "s|$M/state|$MP/state|" "$M/m.conf" >"$MP/m.conf"
		echo "database     = \"$PG_URL\"" >>"$MP/m.conf"
		milter_start "$MP/m.conf" "$MP/milter.log" "$MP/milter.sock" ||
		    { echo "mail bench: the postgresql milter did not start"; exit 1; }
		PGMPID=$mpid
	else
		echo "mail bench: no postgresql row: the server did not start"
	fi ;;
esac
milter_start "$M/m.conf" "$M/milter.log" "$M/milter.sock" ||
    { echo "mail bench: the milter did not start"; exit 1; }
pf_config "milter_protocol = 6" "milter_default_action = tempfail" \
    "smtpd_milters ="
for pm in "$MPORT:$M/milter.sock" "$NPORT:$M/null.sock" \
    "$NMPORT:$M/nullm.sock" ${PGROW:+"$PPORT:$MP/milter.sock"}; do
	postconf -c "$PF_DIR/etc" -Me "127.0.0.1:${pm%%:*}/inet = 127.0.0.1:${pm%%:*} inet n - n - - smtpd -o smtpd_milters=unix:${pm#*:}" ||
	    exit 1
done
# the floor filters, on sockets Postfix may use
"$NULLM" -p "unix:$M/null.sock" 2>>"$M/null.log" &
NPID_NULL=$!
"$NULLM" -m -p "unix:$M/nullm.sock" 2>>"$M/null.log" &
NPID_NULLM=$!
_i=0
until [ -S "$M/null.sock" ] && [ -S "$M/nullm.sock" ]; do
	_i=$((_i + 1))
	[ $_i -lt 50 ] || { echo "mail bench: nullmilter did not start"; exit 1; }
	sleep 0.1
done
chgrp postfix "$M/null.sock" "$M/nullm.sock"
chmod 660 "$M/null.sock" "$M/nullm.sock"
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
# cpu time of the filter measured (CPID) so far, in clock ticks
CPID=
mcpu() { awk '{ print $14 + $15 }' "/proc/$CPID/stat"; }

# cpu time of the whole machine so far (user, nice, system, irq, softirq),
# in clock ticks
scpu() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# one run: push N messages, wait for the arrivals; prints count, time,
# rate, the milter's cpu per message pushed and the machine's
run() { # run MILTER(0|1) ROUND SENDERS(all|one|null|nullm)
	port=$PF_PORT
	[ "$1" -eq 1 ] && port=$WPORT
	m0=$(sink_mesg)
	# senders differ from round to round: ack-interval must not hide
	# one round's acknowledgements behind an earlier round's
	if [ "$3" = all ] || [ "$3" = pg ]; then
		from="parent.$3r$2m$1.%d@example.org" acks=$N
	else
		from="parent.$3r$2m$1@example.org" acks=1
	fi
	want=$N
	[ "$1" -eq 1 ] && [ -z "${BENCH_RCPT:-}" ] && [ "$WACKS" = yes ] &&
	    want=$((N + acks))
	c0=$(mcpu)
	s0=$(scpu)
	t0=$(now)
	"$BLAST" -p "$port" -n "$N" -c "$S" -f "$from" \
	    -t "${BENCH_RCPT:-enquiries@rmet.org}" -T "r$2m$1$3" \
	    >"$PF_DIR/blast.out" 2>&1 ||
	    echo "mail bench: mailblast: $(cat "$PF_DIR/blast.out")" >&2
	got=$(sink_more "$m0" "$want" "${BENCH_MAIL_WAIT:-300}")
	t1=$(now)
	c1=$(mcpu)
	s1=$(scpu)
	python3 -c "import sys, os; n=int(sys.argv[1]); t=float(sys.argv[3])-float(sys.argv[2]); tick=1e6/os.sysconf('SC_CLK_TCK'); print('%d %.3f %.1f %.0f %.0f' % (n, t, n / t, (int(sys.argv[5]) - int(sys.argv[4])) * tick / $N, (int(sys.argv[7]) - int(sys.argv[6])) * tick / n))" \
	    "$got" "$t0" "$t1" "$c0" "$c1" "$s0" "$s1"
	# the queue settles (deferred work, process exits) before the next
	sleep "${BENCH_MAIL_SETTLE:-1}"
}

# one row: ROUNDS rounds of a run without and a run with the milter, in
# alternating order; then the means, their ratio, the ratio of each round
# (the machine is noisy; one round says little) and the machine's cpu per
# arrival both ways
row() { # row all|one|null|nullm
	kind=$1
	WPORT=$MPORT WACKS=yes CPID=$mpid
	case $kind in
	all) what="every enquiry from a new sender, each acknowledged" ;;
	pg)	what="the same, the register in postgresql"
		WPORT=$PPORT CPID=$PGMPID ;;
	one) what="one sender, acknowledged once a round" ;;
	null)	what="floor: nullmilter, reads the message, changes nothing"
		WPORT=$NPORT WACKS=no CPID=$NPID_NULL ;;
	nullm)	what="floor: nullmilter -m, the five changes and nothing else"
		WPORT=$NMPORT WACKS=no CPID=$NPID_NULLM ;;
	esac
	echo "mail: $N messages of 2 KB, $S sessions, $ROUNDS rounds; $what"
	plain="" milter="" pcpu="" mcpus=""
	r=1
	while [ $r -le "$ROUNDS" ]; do
		if [ $((r % 2)) -eq 1 ]; then order="0 1"; else order="1 0"; fi
		for mode in $order; do
			set -- $(run "$mode" "$r" "$kind")
			if [ "$mode" -eq 0 ]; then
				echo "  round $r without milter: $1 arrived in $2 s =" \
				    "$3 msg/s (machine cpu $5 us/arrival)"
				plain="$plain $3" pcpu="$pcpu $5"
			else
				echo "  round $r with filter:    $1 arrived in $2 s =" \
				    "$3 msg/s (machine cpu $5 us/arrival," \
				    "filter $4 us/message)"
				milter="$milter $3" mcpus="$mcpus $5"
			fi
		done
		r=$((r + 1))
	done
	python3 -c '
import statistics, sys
kind = sys.argv[1]
p = [float(x) for x in sys.argv[2].split()]
m = [float(x) for x in sys.argv[3].split()]
pc = [float(x) for x in sys.argv[4].split()]
mc = [float(x) for x in sys.argv[5].split()]
ratios = sorted(b / a for a, b in zip(p, m))
print("mail row (%s): with %s %.1f msg/s, postfix alone %.1f "
      "msg/s, ratio %.2f (by round %s; median %.2f)"
      % ({"all": "every sender new", "one": "one sender",
          "pg": "every sender new, postgresql",
          "null": "floor, reads only", "nullm": "floor, five changes"}[kind],
         "nullmilter" if kind.startswith("null") else "enquiry-milter",
         statistics.mean(m), statistics.mean(p),
         statistics.mean(m) / statistics.mean(p),
         " ".join("%.2f" % r for r in ratios), statistics.median(ratios)))
print("  machine cpu per arrival: %.0f us alone, %.0f us with the filter "
      "(medians); ratio %.2f" % (statistics.median(pc), statistics.median(mc),
      statistics.median(pc) / statistics.median(mc)))
' "$kind" "$plain" "$milter" "$pcpu" "$mcpus"
}

# a warm-up, not counted: Postfix starts its processes on first use, and
# the first timed run would pay for that alone
_n=$N
N=$(( N / 5 > 0 ? N / 5 : 1 ))
WPORT=$MPORT WACKS=yes CPID=$mpid
run 0 0 one >/dev/null
run 1 0 one >/dev/null
for WPORT in $NPORT $NMPORT; do WACKS=no; run 1 0 one >/dev/null; done
[ -z "$PGROW" ] || { WPORT=$PPORT WACKS=yes CPID=$PGMPID; run 1 0 one >/dev/null; }
N=$_n

case $SENDERS in
both)	row all; [ -z "$PGROW" ] || row pg; row one; row null; row nullm ;;
floor)	row null; row nullm ;;
pg)	[ -z "$PGROW" ] || row pg ;;
stores)	row all; [ -z "$PGROW" ] || row pg ;;
*)	row "$SENDERS" ;;
esac
echo "  milter tempfails: $(grep -c 'tempfail' "$M/milter.log")"
[ -z "$PGROW" ] ||
    echo "  postgresql milter tempfails: $(grep -c 'tempfail' "$MP/milter.log")"

#!/bin/sh
# two mail exchangers, one register: two throwaway Postfix instances, each
# with its own enquiry-milter, both milters on one throwaway PostgreSQL.
#   1. 500 enquiries from 100 senders over both hosts, the first 250 sent
#      to both at the same moment; one milter is killed (SIGKILL) once
#      half are in, and started again. every enquiry has one reference on
#      both hosts, 500 distinct ones with no gaps, each sender one
#      acknowledgement, nothing lost.
#   2. PostgreSQL stopped: both hosts answer 4xx (the client keeps the
#      mail), each milter says so once; started again: the same mail is
#      taken, routed and acknowledged, without a milter restart.
#   3. the same with PostgreSQL read-only.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
BIN=${ENQUIRY_MILTER:-$TOP/build/enquiry-milter}
N=${TWO_MX_ENQUIRIES:-500}
SENDERS=${TWO_MX_SENDERS:-100}
BOTH=$((N / 2))
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/milter.sh"
. "$TOP/tests/lib/pg.sh"
milter_require postfix
if why=$(pg_unavailable); then echo "skip - $why"; exit 0; fi

A_DIR= B_DIR= A_PID= B_PID= SINK_PID=
cleanup() {
	for p in $A_PID $B_PID; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for d in $A_DIR $B_DIR; do
		PF_DIR=$d
		pf_stop
	done
	PF_SINK_PID=$SINK_PID
	sink_stop
	pg_cleanup
	[ -n "${KEEP:-}" ] || rm -rf $A_DIR $B_DIR
}
trap cleanup EXIT

pg_init && pg_start && pg_createdb enquiries ||
    { echo "not ok - a throwaway postgresql"; exit 1; }

# host conf HOST: a Postfix (PF_* of its own) with its milter in $PF_DIR/milter
host_conf() {
	M=$PF_DIR/milter SOCK=$PF_DIR/milter/milter.sock
	mkdir -p "$M" && chmod 755 "$M"
	{ milter_pf_conf; cat <<CONF
hostname = "mx-$1.rmet.test"
database-connections = 4
enquiry "enquiries@rmet.org" {
	route-to     = {"staff@rmet.org"}
	ack-template = "$TOP/etc/templates/enquiry-ack.txt"
	ack-interval = "7d"
}
CONF
	} >"$M/m.conf"
	pf_config "smtpd_milters = unix:$SOCK" "milter_protocol = 6" \
	    "milter_default_action = tempfail" "milter_connect_timeout = 5s" \
	    "relayhost = [127.0.0.1]:$SINK_PORT"
}

# host A holds the sink both relay to
pf_init || { echo "not ok - postfix A"; exit 1; }
A_DIR=$PF_DIR A_PORT=$PF_PORT SINK_PORT=$PF_SINK_PORT SINKDIR=$PF_DIR/sink
host_conf a
sink_start || { echo "not ok - smtp-sink"; exit 1; }
SINK_PID=$PF_SINK_PID
pf_init || { echo "not ok - postfix B"; exit 1; }
B_DIR=$PF_DIR B_PORT=$PF_PORT
host_conf b

# start_milter DIR: its pid in $mpid
start_milter() {
	milter_start "$1/milter/m.conf" "$1/milter/milter.log" \
	    "$1/milter/milter.sock"
}
check "milter A started" start_milter "$A_DIR"; A_PID=$mpid
check "milter B started" start_milter "$B_DIR"; B_PID=$mpid
for hp in "$A_DIR:$A_PORT" "$B_DIR:$B_PORT"; do
	PF_DIR=${hp%:*} PF_PORT=${hp##*:}
	pf_start || { echo "not ok - postfix start"; exit 1; }
done
PF_DIR=$A_DIR PF_SINK=$SINKDIR/m PF_SINK_PID=$SINK_PID
ok "two postfix hosts on $A_PORT and $B_PORT, one postgresql"

# 1. the enquiries, and milter A killed halfway
killfile=$A_DIR/half
python3 tests/lib/twomx.py send "$A_PORT" "$B_PORT" "$N" "$SENDERS" \
    "$BOTH" "$killfile" >"$A_DIR/send.out" 2>&1 &
spid=$!
i=0
while [ ! -f "$killfile" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
checke "half the enquiries in" '[ -f "$killfile" ]'
kill -KILL "$A_PID" 2>/dev/null
wait "$A_PID" 2>/dev/null
ok "milter A killed (SIGKILL) with mail under way"
sleep 1
check "milter A started again" start_milter "$A_DIR"; A_PID=$mpid
wait "$spid"
checke "every enquiry taken by a host ($(cat "$A_DIR/send.out"))" \
    'grep -q "failed 0" "$A_DIR/send.out"'
want=$((N + BOTH + SENDERS))
n=$(sink_wait "$want" 120)
sleep 2	# anything more that must not come
n=$(sink_count)
checke "$n messages in the sink: $((N + BOTH)) routed copies and $SENDERS acknowledgements" \
    '[ "$n" -eq "$want" ]'
python3 tests/lib/twomx.py check "$SINKDIR" "$N" "$SENDERS" "$BOTH" ||
    failed=$((failed + 1))
db=$(pg_psql enquiries -c "SELECT count(DISTINCT reference) FROM enquiry WHERE kind = 'new'")
checke "the register holds $db cases for $N enquiries" '[ "$db" -eq "$N" ]'
db=$(pg_psql enquiries -c "SELECT count(*) FROM enq_case")
checke "and $db rows in the case register" '[ "$db" -eq "$N" ]'
db=$(pg_psql enquiries -c "SELECT count(*) FROM ack")
checke "and $db acknowledgement rows for $SENDERS senders" '[ "$db" -eq "$SENDERS" ]'

# 2. postgresql stopped, then back
pg_stop
out=$(python3 tests/lib/twomx.py tempfail "$A_PORT" "$B_PORT" p 10)
checke "postgresql stopped: all 10 enquiries answered 4xx ($out)" \
    '[ "$out" = "10 0" ]'
python3 tests/lib/twomx.py tempfail "$A_PORT" "$B_PORT" p 10 >/dev/null
for d in A B; do
	eval "log=\$${d}_DIR/milter/milter.log"
	c=$(grep -c 'store unavailable' "$log")
	checke "milter $d says the store is unavailable once: $c" '[ "$c" -eq 1 ]'
done
pg_start || { echo "not ok - postgresql start again"; exit 1; }
out=$(python3 tests/lib/twomx.py retry "$A_PORT" "$B_PORT" p 10)
checke "postgresql back: all 10 taken, no milter restarted ($out)" \
    '[ "$out" = "0 10" ]'
want=$((want + 20))
n=$(sink_wait "$want" 60)
checke "$n in the sink: the 10 routed and acknowledged" '[ "$n" -eq "$want" ]'
# the lines about the mail of the outage (the rest were checked above)
out=$(python3 tests/lib/twomx.py check "$SINKDIR" "$N" "$SENDERS" "$BOTH" p 10)
echo "$out" | grep 'after the outage'
echo "$out" | grep -q '^not ok' && failed=$((failed + 1))
for d in A B; do
	eval "log=\$${d}_DIR/milter/milter.log"
	checke "milter $d says the store is back" \
	    'grep -q "available again" "$log"'
done
# 3. postgresql read-only (a standby, or a full disk's refusal): 4xx as
# well, said once per milter; writable again: taken, no restart
want=$(sink_count)
pg_psql postgres -c "ALTER SYSTEM SET default_transaction_read_only = on" \
    -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
out=$(python3 tests/lib/twomx.py tempfail "$A_PORT" "$B_PORT" r 4)
checke "postgresql read-only: all 4 enquiries answered 4xx ($out)" \
    '[ "$out" = "4 0" ]'
for d in A B; do
	eval "log=\$${d}_DIR/milter/milter.log"
	c=$(grep -c 'store unavailable' "$log")
	checke "milter $d says so once more: $c outages logged" '[ "$c" -eq 2 ]'
	checke "naming the read-only transaction" \
	    'grep "store unavailable" "$log" | tail -n 1 | grep -q "read-only"'
done
pg_psql postgres -c "ALTER SYSTEM RESET default_transaction_read_only" \
    -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
out=$(python3 tests/lib/twomx.py retry "$A_PORT" "$B_PORT" r 4)
checke "writable again: all 4 taken ($out)" '[ "$out" = "0 4" ]'
want=$((want + 8))
n=$(sink_wait "$want" 60)
checke "$n in the sink: the 4 routed and acknowledged" '[ "$n" -eq "$want" ]'
checke "both milters still the ones started" \
    'kill -0 "$A_PID" && kill -0 "$B_PID"'
if [ "$failed" -ne 0 ]; then
	for d in $A_DIR $B_DIR; do
		echo "# $d milter log:"; tail -n 15 "$d/milter/milter.log" | sed 's/^/#   /'
	done
fi
[ "$failed" -eq 0 ]

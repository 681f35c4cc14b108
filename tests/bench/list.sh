#!/bin/sh
# how long expanding a large list takes: one post to a list of MEMBERS
# (default 5000) through a throwaway Postfix with enquiry-milter attached,
# ROUNDS times. Prints, per round: the milter's own time for the post
# (members read, headers, 5000 smfi_addrcpt, logged as "expanded in"),
# the client's time from connect to the 250 after DATA (Postfix's cleanup
# applies every added recipient before it answers), and the time until
# every member's copy is in smtp-sink. It measures and asserts nothing.
#   tests/bench/list.sh [MEMBERS] [ROUNDS]
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$PWD
BIN=${ENQUIRY_MILTER:-$TOP/build/enquiry-milter}
N=${1:-5000}
ROUNDS=${2:-3}
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/milter.sh"

if why=$(pf_unavailable); then echo "list bench skipped: $why"; exit 0; fi
command -v swaks >/dev/null 2>&1 || { echo "list bench: swaks missing"; exit 0; }
[ -x "$BIN" ] || { echo "list bench: $BIN not built"; exit 1; }

cleanup() {
	milter_stop
	pf_cleanup
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pf_init || exit 1
M=$PF_DIR/milter
mkdir -p "$M/lists" && chmod 755 "$M"
SOCK=$M/milter.sock
i=1
while [ $i -le "$N" ]; do
	echo "member$i@school$((i % 50)).example.org"
	i=$((i + 1))
done >"$M/lists/big.txt"
chown -R nobody "$M/lists"
cat >"$M/m.conf" <<EOF
socket       = "unix:$SOCK"
socket-group = "postfix"
state-dir    = "$M/state"
user         = "nobody"
submit       = "127.0.0.1:$PF_PORT"
hostname     = "milter.rmet.test"
log-level    = "info"
list "big@rmet.org" {
	members = "$M/lists/big.txt"
	posting = "open"
	subject-tag = "[Big]"
}
EOF
milter_start || { echo "list bench: the milter did not start"; exit 1; }
pf_config "smtpd_milters = unix:$SOCK" "milter_protocol = 6" \
    "milter_default_action = tempfail"
sink_start || exit 1
pf_start || exit 1

now() { date +%s.%N; }
rcpts_in_sink() { grep -rh '^X-Rcpt-Args:' "$PF_SINK" 2>/dev/null | wc -l; }

echo "# one post to a list of $N members, $ROUNDS rounds (2 cores, loopback)"
printf '%-6s %14s %16s %16s\n' round "milter (ms)" "client 250 (s)" "all in sink (s)"
r=1
while [ $r -le "$ROUNDS" ]; do
	base=$(rcpts_in_sink)
	t0=$(now)
	swaks --server "127.0.0.1:$PF_PORT" --from poster@example.org \
	    --to big@rmet.org --h-Subject "round $r" --body "post $r" \
	    --timeout 120 >"$PF_DIR/swaks.out" 2>&1 ||
	    { echo "round $r: swaks failed"; tail -5 "$PF_DIR/swaks.out"; exit 1; }
	t1=$(now)
	i=0
	while [ "$(rcpts_in_sink)" -lt $((base + N)) ] && [ $i -lt 1200 ]; do
		sleep 0.1; i=$((i + 1))
	done
	t2=$(now)
	ms=$(grep 'list big@rmet.org post' "$M/milter.log" | tail -1 |
	    sed 's/.*expanded in \([0-9.]*\) ms.*/\1/')
	printf '%-6s %14s %16.2f %16.2f\n' "$r" "$ms" \
	    "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t0" | bc)"
	[ "$(rcpts_in_sink)" -ge $((base + N)) ] ||
	    echo "# round $r: only $(($(rcpts_in_sink) - base)) of $N arrived"
	r=$((r + 1))
done

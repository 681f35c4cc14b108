#!/bin/sh
# make bench (and make bench-register): the case register at size.
#   1. enquiries on a register of N cases (default 100,000, written by
#      build/regfill through the store's own calls): list --open (table
#      and CSV), list --search, show, stats; each run R times, the wall
#      time and the CPU time (user + system) of the whole command, its
#      start-up and configuration included; the target is 100 ms.
#   2. the milter's own cost per enquiry on a register of 1,000 and of N
#      cases: M enquiries through miltertest, one connection each, the
#      milter's CPU time (from /proc) and the wall time per enquiry.
# it measures and asserts nothing.
#   tests/bench/register.sh [N] [R] [M]
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$PWD
N=${1:-100000}
R=${2:-7}
M=${3:-300}
ENQ=$TOP/build/enquiries
BIN=$TOP/build/enquiry-milter
FILL=$TOP/build/regfill
for b in "$ENQ" "$BIN" "$FILL"; do
	[ -x "$b" ] || { echo "bench: $b missing (make all build/regfill)" >&2; exit 1; }
done
. "$TOP/tests/lib/milter.sh"
milter_tmpdir bench-register
cp "$TOP/etc/templates/enquiry-ack.txt" "$T/ack.txt" && chmod 644 "$T/ack.txt"
mkconf() { # mkconf STATEDIR
	cat <<EOF
socket    = "unix:$T/milter.sock"
state-dir = "$1"
user      = "$user"
submit    = "127.0.0.1:$deadport"
submit-retry-max = "1h"
hostname  = "milter.test"
log-level = "warning"
enquiry "enquiries@rmet.org" {
	route-to     = {"head@rmet.org"}
	ack-template = "$T/ack.txt"
}
EOF
}

# a register of n cases in DIR, as the milter's user; prints the
# reference of its middle case
fill() { # fill DIR N
	mkdir -p "$1" && chmod 750 "$1"
	_ref=$("$FILL" "$1/enquiries.db" "$2") || exit 1
	chown -R "$user" "$1" 2>/dev/null
	echo "$_ref"
}

echo "# the case register: $N cases (build/regfill), $R runs each, times in ms"
start=$(date +%s)
mid=$(fill "$T/big" "$N")
mkconf "$T/big" >"$T/big.conf"
echo "# filled in $(( $(date +%s) - start )) s: $(du -h "$T/big/enquiries.db" | cut -f1)" \
    "($(stat -c %s "$T/big/enquiries.db") bytes)"
# a surname of the generator's, and the middle case's reference
run() { # run LABEL ARGS...: wall and cpu, min and median, rows written
	python3 - "$@" <<'EOF'
import resource, subprocess, sys, time
label, args = sys.argv[1], sys.argv[2:]
walls, cpus = [], []
rows = 0
for i in range(int(__import__("os").environ["R"])):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s = time.perf_counter()
    p = subprocess.run(args, stdout=subprocess.PIPE, check=True)
    walls.append((time.perf_counter() - s) * 1000)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000)
    rows = p.stdout.count(b"\n")
walls.sort(); cpus.sort()
m = len(walls) // 2
print("%-32s %8.1f %8.1f %8.1f %8.1f %8d" % (label, walls[0], walls[m],
    cpus[0], cpus[m], rows))
EOF
}
export R
printf '%-32s %8s %8s %8s %8s %8s\n' "command" "wall min" "wall med" \
    "cpu min" "cpu med" "lines"
E="$ENQ -c $T/big.conf"
run "list --open" $E list --open
run "list --open --csv" $E list --open --csv
run "list --overdue" $E list --overdue
run "list --search o'brien" $E list --search "o'brien"
run "list --search $mid" $E list --search "$mid"
run "list --search nothing-matches" $E list --search nothing-matches
run "show $mid" $E show "$mid"
run "stats" $E stats
run "stats --since 2026-01-01" $E stats --since 2026-01-01

# 2. the milter per enquiry, at 1,000 and N cases
cat >"$T/load.lua" <<EOF
dofile(dir .. "/lib.lua")
for i = 1, $M do
	local conn, r = send({ from = "<bench" .. i .. "@example.org>",
	    rcpts = { "<enquiries@rmet.org>" },
	    headers = { { "From", "Bench " .. i .. " <bench" .. i .. "@example.org>" },
		{ "Subject", "bench enquiry " .. i } } })
	if not accepted(r) then error("not accepted") end
	mt.disconnect(conn)
end
EOF
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
echo "# the milter per enquiry: $M enquiries through miltertest (one" \
    "connection each), acknowledgements spooled (the relay is down)"
printf '%-10s %14s %16s\n' "register" "cpu ms/enq" "wall ms/enq"
fill "$T/small" 1000 >/dev/null
mkconf "$T/small" >"$T/small.conf"
for size in 1000 "$N"; do
	if [ "$size" = 1000 ]; then c=$T/small.conf; else c=$T/big.conf; fi
	milter_start "$c" "$T/milter.log" "$T/milter.sock" || {
		echo "bench: the milter did not start"; cat "$T/milter.log"; exit 1; }
	# one message first: the page cache and the milter warm
	sed "s/for i = 1, $M do/for i = 0, 0 do/" "$T/load.lua" >"$T/warm.lua"
	miltertest -D sock="unix:$T/milter.sock" -D spool="$T/x" \
	    -D dir="$TOP/tests/milter" -s "$T/warm.lua" >/dev/null 2>&1
	t0=$(cputicks "$mpid")
	s=$(python3 -c 'import time; print(time.time())')
	miltertest -D sock="unix:$T/milter.sock" -D spool="$T/x" \
	    -D dir="$TOP/tests/milter" -s "$T/load.lua" >"$T/load.out" 2>&1 ||
	    { echo "bench: miltertest failed"; tail -5 "$T/load.out"; }
	e=$(python3 -c 'import time; print(time.time())')
	t1=$(cputicks "$mpid")
	milter_stop
	python3 -c 'import sys
size, m, t0, t1, hz, s, e = sys.argv[1:]
m = int(m)
print("%-10s %14.3f %16.3f" % (size, (int(t1) - int(t0)) * 1000.0 / int(hz) / m,
    (float(e) - float(s)) * 1000 / m))' "$size" "$M" "$t0" "$t1" "$HZ" "$s" "$e"
done
echo "# (cpu from /proc in ticks of $((1000 / HZ)) ms, summed over $M enquiries)"

#!/bin/sh
# make bench: capsuled against molly-brown, same files, same load, cells
# interleaved. prints a table; asserts nothing (a benchmark measures).
#
# rows: a ~1 KB gemtext page with full handshakes, the same page with TLS 1.3
# resumption, a 1 MB file; each at 1 and 32 requests in flight. then N idle
# tls connections held open: the server's memory and one request's latency.
#
# server cpu is utime+stime (+ reaped children) of the server's whole process
# tree from /proc, before and after each cell, in clock ticks (10 ms).
#
# BENCH_SECONDS (per cell, default 4), BENCH_IDLE (default 5000),
# CAPSULED (the binary to measure, default build/capsuled),
# BENCH_SERVER_EXTRA (lines for capsuled's server block, such as a
# location with client-cert = "required": what asking for a certificate
# costs)
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$PWD
GB=$TOP/build/gembench
SECS=${BENCH_SECONDS:-4}
IDLE=${BENCH_IDLE:-5000}
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)

[ -x "$GB" ] || { echo "bench: $GB missing (make build/gembench)" >&2; exit 1; }

# every idle connection is a descriptor, in the generator and the servers
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE + 100)) ]
then
	echo "bench: open file limit $(ulimit -n) is below $IDLE idle" \
	    "connections; idle row uses $(( $(ulimit -n) - 100 ))" >&2
	IDLE=$(( $(ulimit -n) - 100 ))
fi

TMPD=$(mktemp -d /tmp/capsuled-bench.XXXXXX) || exit 1
# the document root must be readable once capsuled drops to nobody
chmod 755 "$TMPD"
CAPS_PID= MOLLY_PID= HOLDER_PID=
cleanup() {
	[ -n "$HOLDER_PID" ] && kill "$HOLDER_PID" 2>/dev/null
	bench_stop "$CAPS_PID"
	bench_stop "$MOLLY_PID"
	rm -rf "$TMPD"
}
. "$TOP/tests/bench/servers.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

# the files: a small gemtext page (about 1 KB) and a 1 MB file
DOCS=$TMPD/docs
mkdir -p "$DOCS"
{
	echo "# Benchmark page"
	echo
	i=1
	while [ $i -le 13 ]; do
		printf 'A line of gemtext, number %02d, as a capsule page has it.\n' $i
		echo "=> /big.bin link $i"
		i=$((i + 1))
	done
} >"$DOCS/small.gmi"
printf '# Index\n=> small.gmi small page\n' >"$DOCS/index.gmi"
head -c 1048576 /dev/urandom >"$DOCS/big.bin"
chmod -R a+rX "$DOCS"
SMALL_BYTES=$(wc -c <"$DOCS/small.gmi")

echo "bench: $(nproc) cores, $SECS s per cell, small page $SMALL_BYTES bytes," \
    "file 1048576 bytes, $(openssl version)"

servers=
if bench_start_capsuled "$DOCS"; then
	servers="$servers capsuled"
	echo "bench: capsuled pid $CAPS_PID on 127.0.0.1:$CAPS_PORT"
else
	echo "bench: capsuled not measured (see above); going on without it"
fi
if bench_start_molly "$DOCS"; then
	servers="$servers molly-brown"
	echo "bench: molly-brown pid $MOLLY_PID on port $MOLLY_PORT" \
	    "($(dpkg-query -W -f='${Version}' molly-brown 2>/dev/null))"
else
	echo "bench: molly-brown not measured (see above)"
fi
[ -n "$servers" ] || { echo "bench: no server to measure" >&2; exit 1; }

for s in $servers; do
	[ "$s" = capsuled ] && port=$CAPS_PORT || port=$MOLLY_PORT
	probe=$("$GB" -p "$port" -u "gemini://localhost:$port/small.gmi" -n 1 \
	    -t 5 2>/dev/null)
	echo "bench: $s negotiates $(bench_kv cipher "$probe")"
done

server_pid() { [ "$1" = capsuled ] && echo "$CAPS_PID" || echo "$MOLLY_PID"; }
server_port() { [ "$1" = capsuled ] && echo "$CAPS_PORT" || echo "$MOLLY_PORT"; }

RES=$TMPD/results
mkdir -p "$RES"

# one cell: server $1, row $2 (full|resume|file), in flight $3
bench_cell() {
	pid=$(server_pid "$1") port=$(server_port "$1")
	case "$2" in
	full) path=/small.gmi flags= ;;
	resume) path=/small.gmi flags=-r ;;
	file) path=/big.bin flags= ;;
	esac
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "requests=0 ok=0 errors=1 server_dead=1" >"$RES/$1.$2.$3"
		echo "cpu_ticks=0" >>"$RES/$1.$2.$3"
		return
	fi
	s0=$(bench_sys_busy_ticks)
	t0=$(bench_tree_ticks "$pid")
	line=$("$GB" -p "$port" -u "gemini://localhost:$port$path" -d "$SECS" \
	    -c "$3" -t 5 $flags 2>"$RES/$1.$2.$3.err")
	t1=$(bench_tree_ticks "$pid")
	s1=$(bench_sys_busy_ticks)
	echo "$line" >"$RES/$1.$2.$3"
	# cpu of everything else on the machine meanwhile, in % of one core
	other=$(awk -v s=$((s1 - s0)) -v t=$((t1 - t0)) -v hz="$HZ" \
	    -v c="$(bench_kv client_cpu_s "$line")" \
	    -v w="$(bench_kv seconds "$line")" 'BEGIN {
		o = (s - t) / hz - c; if (o < 0) o = 0
		if (w > 0) printf "%.0f", 100 * o / w; else print "-" }')
	echo "cpu_ticks=$((t1 - t0)) other_pct=$other" >>"$RES/$1.$2.$3"
	printf '  %-12s %-7s c=%-3s %s\n' "$1" "$2" "$3" \
	    "$(bench_kv rps "$line") req/s, $(bench_kv errors "$line") errors" >&2
}

# cells interleaved: the two servers alternate, and who goes first flips
nserv=$(echo $servers | wc -w)
echo "bench: measuring (about $(( nserv * (6 * SECS + 15) )) s)" >&2
flip=0
for row in full resume file; do
	for conc in 1 32; do
		if [ $flip -eq 0 ]; then order=$servers; else
			order=
			for s in $servers; do order="$s $order"; done
		fi
		flip=$((1 - flip))
		for s in $order; do
			bench_cell "$s" "$row" "$conc"
		done
	done
done

# idle connections: hold them, read the memory, time a normal request
bench_idle() {
	pid=$(server_pid "$1") port=$(server_port "$1")
	out=$RES/$1.idle
	base=$(bench_tree_pss_kb "$pid")
	"$GB" -p "$port" -I "$IDLE" -r -H 30 -t 10 >"$out.hold" \
	    2>"$out.err" &
	HOLDER_PID=$!
	i=0
	while ! grep -q '^idle ' "$out.hold" 2>/dev/null && [ $i -lt 300 ] &&
	    kill -0 "$HOLDER_PID" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	held=$(bench_tree_pss_kb "$pid")
	req=$("$GB" -p "$port" -u "gemini://localhost:$port/small.gmi" -n 10 \
	    -c 1 -t 5 2>>"$out.err")
	kill "$HOLDER_PID" 2>/dev/null
	wait "$HOLDER_PID" 2>/dev/null
	HOLDER_PID=
	{
		echo "base_kb=$base held_kb=$held"
		grep '^idle' "$out.hold"
		echo "$req"
	} >"$out"
	printf '  %-12s idle    %s\n' "$1" "$(head -n 2 "$out" | tr '\n' ' ')" >&2
	sleep 1
}
for s in $servers; do
	bench_idle "$s"
done

# the table
val() { bench_kv "$3" "$(cat "$RES/$1.$2" 2>/dev/null)"; }
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || b + 0 == 0) print "-";
		else printf "%.2f", a / b }'
}
pct() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b + 0 == 0) print "-"; else printf "%.0f", 100 * a / b }'
}
cpu_per() {	# server cpu in microseconds per unit ($3: req or mb)
	f=$RES/$1.$2
	ticks=$(bench_kv cpu_ticks "$(tail -n 1 "$f")")
	ok=$(val "$1" "$2" ok) bytes=$(val "$1" "$2" bytes)
	awk -v t="$ticks" -v ok="${ok:-0}" -v b="${bytes:-0}" -v hz="$HZ" \
	    -v u="$3" 'BEGIN {
		us = t * 1e6 / hz
		if (u == "req") { if (ok > 0) printf "%.0f", us / ok; else print "-" }
		else { if (b > 0) printf "%.0f", us / (b / 1e6); else print "-" }
	}'
}
rowname() {
	case "$1" in
	full) echo "small page, full handshake" ;;
	resume) echo "small page, resumed" ;;
	file) echo "1 MB file" ;;
	esac
}

echo
printf '%-12s %-27s %4s %9s %8s %8s %8s %6s %6s %10s %9s %7s %7s %6s\n' \
    server row conc req/s MB/s p50_ms p99_ms errors resum% cpu_us/req \
    cpu_us/MB x_req/s x_cpu other%
for row in full resume file; do
	for conc in 1 32; do
		for s in $servers; do
			c="$row.$conc"
			cpr=$(cpu_per "$s" "$c" req)
			cpm=-
			[ "$row" = file ] && cpm=$(cpu_per "$s" "$c" mb)
			xr=- xc=-
			if [ "$s" = capsuled ] && [ -f "$RES/molly-brown.$c" ]; then
				xr=$(ratio "$(val capsuled "$c" rps)" \
				    "$(val molly-brown "$c" rps)")
				xc=$(ratio "$cpr" "$(cpu_per molly-brown "$c" req)")
			fi
			printf '%-12s %-27s %4s %9s %8s %8s %8s %6s %6s %10s %9s %7s %7s %6s\n' \
			    "$s" "$(rowname "$row")" "$conc" "$(val "$s" "$c" rps)" \
			    "$(val "$s" "$c" mbps)" "$(val "$s" "$c" p50_ms)" \
			    "$(val "$s" "$c" p99_ms)" "$(val "$s" "$c" errors)" \
			    "$(pct "$(val "$s" "$c" resumed)" "$(val "$s" "$c" ok)")" \
			    "$cpr" "$cpm" "$xr" "$xc" "$(val "$s" "$c" other_pct)"
		done
	done
done

echo
printf '%-12s %-27s %9s %9s %10s %10s %8s %8s %6s %7s\n' \
    server row opened held base_MB total_MB p50_ms p99_ms errors x_mem
for s in $servers; do
	f=$RES/$s.idle
	[ -f "$f" ] || continue
	kb=$(sed -n 1p "$f")
	ready=$(grep '^idle ' "$f")
	end=$(grep '^idle-end ' "$f")
	req=$(grep '^requests=' "$f")
	xm=-
	if [ "$s" = capsuled ] && [ -f "$RES/molly-brown.idle" ]; then
		xm=$(ratio "$(bench_kv held_kb "$kb")" \
		    "$(bench_kv held_kb "$(sed -n 1p "$RES/molly-brown.idle")")")
	fi
	printf '%-12s %-27s %9s %9s %10s %10s %8s %8s %6s %7s\n' \
	    "$s" "$IDLE idle connections" "$(bench_kv established "$ready")" \
	    "$(bench_kv established "$end")" \
	    "$(awk -v k="$(bench_kv base_kb "$kb")" 'BEGIN { printf "%.1f", k / 1024 }')" \
	    "$(awk -v k="$(bench_kv held_kb "$kb")" 'BEGIN { printf "%.1f", k / 1024 }')" \
	    "$(bench_kv p50_ms "$req")" "$(bench_kv p99_ms "$req")" \
	    "$(bench_kv errors "$req")" "$xm"
done

echo
echo "req/s and MB/s: successful responses (status 2x) per second of wall time;"
echo "MB = 10^6 bytes. cpu_us: the server's cpu (all its processes) per request"
echo "or per MB sent. x_*: capsuled / molly-brown in this run (req/s: higher is"
echo "better; cpu and memory: lower is better). idle: 'opened' = tls handshakes"
echo "completed, 'held' = still open when the request was timed; memory is PSS."
echo "resum%: share of handshakes resumed with a TLS 1.3 ticket."
echo "other%: cpu used by other processes on the machine during the cell, in %"
echo "of one core (the load generator and the server excluded): noise."
# the library's own floor: OpenSSL's server-side work per request with no
# sockets at all, the least any server built on it can spend
TF=$TOP/build/tlsfloor
if [ -x "$TF" ]; then
	echo
	"$TF" -n 2000 2>"$RES/tlsfloor.err" | awk '{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "tls floor, %-8s OpenSSL alone (one process, no sockets): " \
		    "server %s us per request\n", v["mode"], v["server_us"]
	}'
	echo "(handshake, request, 1 KB response and close_notify over a BIO pair;"
	echo "the server is capsuled's own TLS context; the kernel's share comes on top)"
fi
for s in $servers; do
	for f in "$RES/$s".*.err; do
		[ -s "$f" ] || continue
		echo "# $(basename "$f" .err): $(head -n 2 "$f" | tr '\n' ' ')"
	done
done
exit 0

#!/bin/sh
# make bench: capsuled against molly-brown and against the floor, same
# files, same load, cells interleaved. prints one table; asserts nothing
# (a benchmark measures).
#
# rows: a ~1 KB gemtext page with full tls 1.3 handshakes, the same page
# resumed with a tls 1.3 ticket and with a tls 1.2 ticket, a 1 MB file;
# each at 1 and 32 requests in flight. capsuled runs twice: as configured
# by default (no tls 1.3 tickets) and with tls13-tickets = true
# ("capsuled+t13"). then N idle tls connections held open: the server's
# memory and one request's latency.
#
# the floor rows: what no server on this library and kernel can go below.
# build/tlsfloor gives OpenSSL's own server cpu per request for each kind
# of handshake (no sockets), AES-128-GCM's per MB, and OpenSSL's bytes per
# idle connection; the plain-tcp rows are capsuled itself serving the same
# bytes over gopher (no tls) at the same load: the kernel's and the event
# loop's share. a row's floor is the sum of the two, and x_floor its cpu
# (or memory) over that.
#
# server cpu is utime+stime (+ reaped children) of the server's whole
# process tree from /proc, before and after each cell, in clock ticks.
#
# BENCH_SECONDS (per cell, default 3), BENCH_IDLE (default 5000),
# CAPSULED (the binary to measure, default build/capsuled),
# BENCH_SERVER_EXTRA (lines for capsuled's server block, such as a
# location with client-cert = "required": what asking for a certificate
# costs)
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$PWD
GB=$TOP/build/gembench
TF=$TOP/build/tlsfloor
SECS=${BENCH_SECONDS:-3}
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
CAPS_PID= MOLLY_PID= HOLDER_PID= C_PID= T_PID=
cleanup() {
	[ -n "$HOLDER_PID" ] && kill "$HOLDER_PID" 2>/dev/null
	bench_stop "$C_PID"
	bench_stop "$T_PID"
	bench_stop "$MOLLY_PID"
	rm -rf "$TMPD"
}
. "$TOP/tests/bench/servers.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

# the files: a small gemtext page (about 1 KB), the same bytes as a file
# gopher serves as it is (the plain-tcp floor), and a 1 MB file
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
cp "$DOCS/small.gmi" "$DOCS/small.bin"
printf '# Index\n=> small.gmi small page\n' >"$DOCS/index.gmi"
head -c 1048576 /dev/urandom >"$DOCS/big.bin"
chmod -R a+rX "$DOCS"
SMALL_BYTES=$(wc -c <"$DOCS/small.gmi")

echo "bench: $(nproc) cores, $SECS s per cell, small page $SMALL_BYTES bytes," \
    "file 1048576 bytes, $(openssl version)"

RES=$TMPD/results
mkdir -p "$RES"

# the library's floor first, on a quiet machine
if [ -x "$TF" ]; then
	"$TF" -n "${BENCH_FLOOR_N:-1000}" >"$RES/tlsfloor" 2>"$RES/tlsfloor.err"
else
	echo "bench: $TF missing: no floor rows" >&2
	: >"$RES/tlsfloor"
fi
# tlsfloor's value of key $2 for mode $1
tf() {
	awk -v m="mode=$1" -v k="$2" '$2 == m {
		for (i = 3; i <= NF; i++) { split($i, kv, "=");
		    if (kv[1] == k) print kv[2] } }' "$RES/tlsfloor"
}

servers=
GPORT=$(bench_free_port)
if bench_start_capsuled "$DOCS" capsuled "" \
    "gopher-listen = {\"127.0.0.1:$GPORT\"}"; then
	C_PID=$CAPS_PID C_PORT=$CAPS_PORT
	servers="$servers capsuled"
	echo "bench: capsuled pid $C_PID on 127.0.0.1:$C_PORT," \
	    "gopher on $GPORT"
else
	echo "bench: capsuled not measured (see above); going on without it"
fi
if bench_start_capsuled "$DOCS" capsuled-t13 "tls13-tickets = true"; then
	T_PID=$CAPS_PID T_PORT=$CAPS_PORT
	servers="$servers capsuled+t13"
	echo "bench: capsuled+t13 (tls13-tickets = true) pid $T_PID on" \
	    "127.0.0.1:$T_PORT"
else
	echo "bench: capsuled+t13 not measured (this build has no" \
	    "tls13-tickets?)"
fi
if bench_start_molly "$DOCS"; then
	servers="$servers molly-brown"
	echo "bench: molly-brown pid $MOLLY_PID on port $MOLLY_PORT" \
	    "($(dpkg-query -W -f='${Version}' molly-brown 2>/dev/null))"
else
	echo "bench: molly-brown not measured (see above)"
fi
[ -n "$servers" ] || { echo "bench: no server to measure" >&2; exit 1; }

server_pid() {
	case "$1" in
	capsuled|plain) echo "$C_PID" ;;
	capsuled+t13) echo "$T_PID" ;;
	*) echo "$MOLLY_PID" ;;
	esac
}
server_port() {
	case "$1" in
	capsuled) echo "$C_PORT" ;;
	plain) echo "$GPORT" ;;
	capsuled+t13) echo "$T_PORT" ;;
	*) echo "$MOLLY_PORT" ;;
	esac
}
running() { case " $servers " in *" $1 "*) return 0 ;; esac; return 1; }

for s in $servers; do
	port=$(server_port "$s")
	probe=$("$GB" -p "$port" -u "gemini://localhost:$port/small.gmi" -n 1 \
	    -t 5 2>/dev/null)
	echo "bench: $s negotiates $(bench_kv cipher "$probe")"
done

# one cell: server $1 (or plain: capsuled over gopher), row $2
# (full|resume|resume12|file), in flight $3
bench_cell() {
	pid=$(server_pid "$1") port=$(server_port "$1")
	case "$2" in
	full) what="-u gemini://localhost:$port/small.gmi" ;;
	resume) what="-u gemini://localhost:$port/small.gmi -r" ;;
	resume12) what="-u gemini://localhost:$port/small.gmi -r -2" ;;
	file) what="-u gemini://localhost:$port/big.bin" ;;
	esac
	if [ "$1" = plain ]; then
		[ "$2" = file ] && what="-g /big.bin" || what="-g /small.bin"
	fi
	out=$RES/$1.$2.$3
	if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "requests=0 ok=0 errors=1 server_dead=1" >"$out"
		echo "cpu_ticks=0" >>"$out"
		return
	fi
	s0=$(bench_sys_busy_ticks)
	t0=$(bench_tree_ticks "$pid")
	line=$("$GB" -p "$port" $what -d "$SECS" -c "$3" -t 5 2>"$out.err")
	t1=$(bench_tree_ticks "$pid")
	s1=$(bench_sys_busy_ticks)
	echo "$line" >"$out"
	# cpu of everything else on the machine meanwhile, in % of one core
	other=$(awk -v s=$((s1 - s0)) -v t=$((t1 - t0)) -v hz="$HZ" \
	    -v c="$(bench_kv client_cpu_s "$line")" \
	    -v w="$(bench_kv seconds "$line")" 'BEGIN {
		o = (s - t) / hz - c; if (o < 0) o = 0
		if (w > 0) printf "%.0f", 100 * o / w; else print "-" }')
	echo "cpu_ticks=$((t1 - t0)) other_pct=$other" >>"$out"
	printf '  %-12s %-8s c=%-3s %s\n' "$1" "$2" "$3" \
	    "$(bench_kv rps "$line") req/s, $(bench_kv errors "$line") errors" >&2
}

# who takes part in a row: the plain-tcp floor goes with full and file
row_servers() {
	case "$1" in
	full) list="capsuled capsuled+t13 molly-brown plain" ;;
	resume) list="capsuled+t13 molly-brown capsuled" ;;
	resume12) list="capsuled molly-brown" ;;
	file) list="capsuled molly-brown plain" ;;
	esac
	for s in $list; do
		if [ "$s" = plain ]; then
			running capsuled && echo plain
		elif running "$s"; then
			echo "$s"
		fi
	done
}

ROWS="full resume resume12 file"
ncells=0
for row in $ROWS; do
	ncells=$((ncells + 2 * $(row_servers "$row" | wc -l)))
done
echo "bench: measuring $ncells cells (about $((ncells * (SECS + 1) + 60)) s)" >&2
# cells interleaved: the servers alternate, and who goes first flips
flip=0
for row in $ROWS; do
	for conc in 1 32; do
		order=$(row_servers "$row")
		[ $flip -eq 1 ] && order=$(echo "$order" | sed -n '1!G;h;$p')
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
	req=$("$GB" -p "$port" -u "gemini://localhost:$port/small.gmi" -n 200 \
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
for s in capsuled molly-brown; do
	running "$s" && bench_idle "$s"
done

# the table
val() { bench_kv "$3" "$(cat "$RES/$1.$2" 2>/dev/null)"; }
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || a == "-" || b == "" || b == "-" || b + 0 == 0)
			print "-";
		else printf "%.2f", a / b }'
}
pct() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b + 0 == 0) print "-"; else printf "%.0f", 100 * a / b }'
}
sum() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || a == "-" || b == "" || b == "-") print "-";
		else printf "%.0f", a + b }'
}
cpu_per() {	# server cpu in microseconds per unit ($3: req or mb)
	f=$RES/$1.$2
	[ -f "$f" ] || { echo -; return; }
	ticks=$(bench_kv cpu_ticks "$(tail -n 1 "$f")")
	ok=$(val "$1" "$2" ok) bytes=$(val "$1" "$2" bytes)
	awk -v t="${ticks:-0}" -v ok="${ok:-0}" -v b="${bytes:-0}" -v hz="$HZ" \
	    -v u="$3" 'BEGIN {
		us = t * 1e6 / hz
		if (u == "req") { if (ok > 0) printf "%.0f", us / ok; else print "-" }
		else { if (b > 0) printf "%.0f", us / (b / 1e6); else print "-" }
	}'
}
rowname() {
	case "$1" in
	full) echo "small page, full handshake" ;;
	resume) echo "small page, 1.3 resumed" ;;
	resume12) echo "small page, 1.2 resumed" ;;
	file) echo "1 MB file" ;;
	esac
}
# the tlsfloor mode that is the floor of server $1 on row $2: what the
# server does there (molly-brown and capsuled+t13 send tls 1.3 tickets;
# capsuled by default sends none, so a 1.3 client never resumes)
tf_mode() {
	case "$2.$1" in
	full.capsuled|resume.capsuled) echo full ;;
	full.*) echo full-tickets ;;
	resume.*) echo resumed ;;
	resume12.*) echo resumed12 ;;
	esac
}
# the floor of server $1 on row $2 at $3 in flight, in its unit
floor_of() {
	if [ "$2" = file ]; then
		# cpu per MB: plain tcp through capsuled + aes-128-gcm per MB
		# (tlsfloor's figure is per 1 MiB)
		aes=$(tf aes128gcm server_us)
		aes=$(awk -v a="$aes" 'BEGIN { if (a == "") print "-";
		    else printf "%.0f", a / 1.048576 }')
		sum "$(cpu_per plain "file.$3" mb)" "$aes"
	else
		sum "$(cpu_per plain "full.$3" req)" \
		    "$(tf "$(tf_mode "$1" "$2")" server_us)"
	fi
}

line() {
	printf '%-12s %-28s %4s %8s %7s %7s %7s %5s %6s %8s %8s %7s %6s %8s %7s %6s\n' "$@"
}
echo
line server row conc req/s MB/s p50_ms p99_ms errs resum% cpu_us/r \
    cpu_us/MB x_req/s x_cpu floor x_floor other%
for row in $ROWS; do
	for conc in 1 32; do
		for s in $(row_servers "$row"); do
			[ "$s" = plain ] && continue
			c="$row.$conc"
			cpr=$(cpu_per "$s" "$c" req)
			cpm=- fl=$(floor_of "$s" "$row" "$conc")
			if [ "$row" = file ]; then
				cpm=$(cpu_per "$s" "$c" mb)
				xf=$(ratio "$cpm" "$fl")
			else
				xf=$(ratio "$cpr" "$fl")
			fi
			xr=- xc=-
			if [ "$s" != molly-brown ] && [ -f "$RES/molly-brown.$c" ]
			then
				xr=$(ratio "$(val "$s" "$c" rps)" \
				    "$(val molly-brown "$c" rps)")
				if [ "$row" = file ]; then
					xc=$(ratio "$cpm" \
					    "$(cpu_per molly-brown "$c" mb)")
				else
					xc=$(ratio "$cpr" \
					    "$(cpu_per molly-brown "$c" req)")
				fi
			fi
			line "$s" "$(rowname "$row")" "$conc" \
			    "$(val "$s" "$c" rps)" "$(val "$s" "$c" mbps)" \
			    "$(val "$s" "$c" p50_ms)" "$(val "$s" "$c" p99_ms)" \
			    "$(val "$s" "$c" errors)" \
			    "$(pct "$(val "$s" "$c" resumed)" "$(val "$s" "$c" ok)")" \
			    "$cpr" "$cpm" "$xr" "$xc" "$fl" "$xf" \
			    "$(val "$s" "$c" other_pct)"
		done
	done
done
# the floor rows
for m in full full-tickets resumed resumed12; do
	case $m in
	full) d="tls 1.3 full, no ticket" ;;
	full-tickets) d="tls 1.3 full + ticket" ;;
	resumed) d="tls 1.3 resumed + ticket" ;;
	resumed12) d="tls 1.2 resumed" ;;
	esac
	line "floor:tls" "$d" - - - - - - - "$(tf $m server_us | \
	    awk '{ printf "%.0f", $1 }')" - - - - - -
done
aes=$(tf aes128gcm server_us)
line "floor:tls" "aes-128-gcm, 1 MB" - - - - - - - - "$(awk -v a="$aes" \
    'BEGIN { if (a != "") printf "%.0f", a / 1.048576; else print "-" }')" \
    - - - - -
if running capsuled; then
	for row in full file; do
		for conc in 1 32; do
			c="$row.$conc"
			cpm=-
			[ "$row" = file ] && cpm=$(cpu_per plain "$c" mb)
			line "floor:tcp" "$([ $row = file ] && echo "1 MB file" ||
			    echo "small file"), gopher" "$conc" \
			    "$(val plain "$c" rps)" "$(val plain "$c" mbps)" \
			    "$(val plain "$c" p50_ms)" "$(val plain "$c" p99_ms)" \
			    "$(val plain "$c" errors)" - \
			    "$(cpu_per plain "$c" req)" "$cpm" - - - - \
			    "$(val plain "$c" other_pct)"
		done
	done
fi

echo
idle_bytes=$(tf idle idle_bytes)
printf '%-12s %-24s %8s %8s %8s %9s %7s %7s %5s %7s %8s %7s\n' \
    server row opened held base_MB total_MB p50_ms p99_ms errs x_mem \
    floor_MB x_floor
for s in capsuled molly-brown; do
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
	# the floor: the server's own base + openssl's bytes per idle
	# connection for every connection held
	fmb=$(awk -v k="$(bench_kv base_kb "$kb")" \
	    -v n="$(bench_kv established "$ready")" -v b="$idle_bytes" 'BEGIN {
		if (b == "") print "-"; else printf "%.1f", (k * 1024 + n * b) / 1048576 }')
	tmb=$(awk -v k="$(bench_kv held_kb "$kb")" 'BEGIN { printf "%.1f", k / 1024 }')
	printf '%-12s %-24s %8s %8s %8s %9s %7s %7s %5s %7s %8s %7s\n' \
	    "$s" "$IDLE idle connections" "$(bench_kv established "$ready")" \
	    "$(bench_kv established "$end")" \
	    "$(awk -v k="$(bench_kv base_kb "$kb")" 'BEGIN { printf "%.1f", k / 1024 }')" \
	    "$tmb" "$(bench_kv p50_ms "$req")" "$(bench_kv p99_ms "$req")" \
	    "$(bench_kv errors "$req")" "$xm" "$fmb" "$(ratio "$tmb" "$fmb")"
done
if [ -n "$idle_bytes" ]; then
	printf '%-12s %-24s %s\n' "floor:tls" "one idle connection" \
	    "$idle_bytes bytes of heap in OpenSSL"
fi

echo
echo "req/s and MB/s: successful responses (status 2x) per second of wall time;"
echo "MB = 10^6 bytes. cpu_us: the server's cpu (all its processes) per request"
echo "or per MB sent. x_*: the row's server / molly-brown in this run (req/s:"
echo "higher is better; cpu and memory: lower is better). resum%: share of"
echo "handshakes resumed. capsuled: as configured by default (no tls 1.3"
echo "tickets: a 1.3 client never resumes); capsuled+t13: tls13-tickets = true."
echo "floor: the least cpu per request (per MB for the file) the row allows:"
echo "OpenSSL's own server cpu for the same handshake and response"
echo "(floor:tls, build/tlsfloor: one process, no sockets, capsuled's own tls"
echo "context) + capsuled serving the same bytes over plain tcp (gopher) at"
echo "the same load (floor:tcp: kernel, accept, event loop, file). the file's:"
echo "plain tcp per MB + AES-128-GCM per MB. x_floor: cpu / floor (1.00 = at"
echo "the floor). idle: 'opened' = tls handshakes completed, 'held' = still"
echo "open when the request was timed (200 of them, one at a time); memory is"
echo "PSS; its floor is the server's own base + OpenSSL's heap per idle"
echo "connection (tlsfloor) x connections held."
echo "other%: cpu used by other processes on the machine during the cell, in %"
echo "of one core (the load generator and the server excluded): noise."
for s in $servers plain; do
	for f in "$RES/$s".*.err; do
		[ -s "$f" ] || continue
		echo "# $(basename "$f" .err): $(head -n 2 "$f" | tr '\n' ' ')"
	done
done
[ -s "$RES/tlsfloor.err" ] && grep -v 'generated a self-signed' \
    "$RES/tlsfloor.err" | sed 's/^/# tlsfloor: /'
exit 0

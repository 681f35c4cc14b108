#!/bin/sh
# the benchmark's load generator works: 20 requests against a real gemini
# server (molly-brown when installed, else capsuled) all succeed and are
# counted, resumption is counted, and failures are reported as failures.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
GB=$TOP/build/gembench
failed=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; failed=$((failed + 1)); }

make --no-print-directory -s build/gembench >/dev/null || {
	nok "build/gembench builds"
	exit 1
}

TMPD=$(mktemp -d /tmp/t-gembench.XXXXXX) || exit 1
chmod 755 "$TMPD"
CAPS_PID= MOLLY_PID=
. "$TOP/tests/bench/servers.sh"
trap 'bench_stop "$CAPS_PID"; bench_stop "$MOLLY_PID"; rm -rf "$TMPD"' EXIT

DOCS=$TMPD/docs
mkdir -p "$DOCS"
printf '# Index\n=> page.gmi page\n' >"$DOCS/index.gmi"
printf '# Page\nsome text\n' >"$DOCS/page.gmi"
chmod -R a+rX "$DOCS"

if bench_start_molly "$DOCS" 2>"$TMPD/start.log"; then
	name=molly-brown port=$MOLLY_PORT
elif bench_start_capsuled "$DOCS" 2>>"$TMPD/start.log"; then
	name=capsuled port=$CAPS_PORT
else
	sed 's/^/# /' "$TMPD/start.log"
	echo "skip - neither molly-brown nor a working capsuled to run against"
	exit 0
fi
url="gemini://localhost:$port/page.gmi"

line=$("$GB" -p "$port" -u "$url" -n 20 -c 4 -t 5 -T 30 2>"$TMPD/err")
rc=$?
echo "# $name: $line"
if [ $rc -eq 0 ] && [ "$(bench_kv requests "$line")" = 20 ] &&
    [ "$(bench_kv ok "$line")" = 20 ] && [ "$(bench_kv errors "$line")" = 0 ]
then
	ok "20 requests to $name, 20 successes reported"
else
	nok "20 requests to $name, 20 successes reported (rc $rc)"
	sed 's/^/# /' "$TMPD/err"
fi
bytes=$(bench_kv bytes "$line")
if [ "${bytes:-0}" -gt 20 ] && [ "$(bench_kv p50_ms "$line")" != 0.000 ]; then
	ok "bytes ($bytes) and latency counted"
else
	nok "bytes and latency counted"
fi

line=$("$GB" -p "$port" -u "$url" -n 20 -c 1 -r -t 5 -T 30 2>"$TMPD/err")
res=$(bench_kv resumed "$line")
if [ "$name" = molly-brown ]; then
	# molly-brown (Go) issues TLS 1.3 tickets: all but the first resume
	if [ "$(bench_kv ok "$line")" = 20 ] && [ "${res:-0}" -ge 18 ]; then
		ok "session resumption counted ($res of 20 resumed)"
	else
		nok "session resumption counted: $line"
	fi
else
	echo "# resumption against capsuled: $res of 20 resumed"
fi

# a path that does not exist: the status counts as an error
line=$("$GB" -p "$port" -u "gemini://localhost:$port/no-such-page" -n 3 \
    -t 5 -T 30 2>/dev/null)
rc=$?
if [ $rc -eq 1 ] && [ "$(bench_kv bad_status "$line")" = 3 ] &&
    [ "$(bench_kv ok "$line")" = 0 ]; then
	ok "non-2x responses reported as errors (exit 1)"
else
	nok "non-2x responses reported as errors: rc $rc $line"
fi

# nobody listening: connection errors, bounded, exit 1
dead=$(bench_free_port)
line=$("$GB" -p "$dead" -n 5 -c 2 -t 2 -T 10 2>/dev/null)
rc=$?
if [ $rc -eq 1 ] && [ "$(bench_kv connect_err "$line")" = 5 ]; then
	ok "refused connections reported as errors (exit 1)"
else
	nok "refused connections reported as errors: rc $rc $line"
fi

# idle mode holds connections and says so
line=$("$GB" -p "$port" -I 20 -H 0.5 -T 20 2>/dev/null | head -n 1)
if [ "$(bench_kv established "$line")" = 20 ]; then
	ok "idle mode held 20 connections"
else
	nok "idle mode held 20 connections: $line"
fi

# -2: tls 1.2 at most, and its sessions resumed again and again
line=$("$GB" -p "$port" -u "$url" -n 20 -c 1 -r -2 -t 5 -T 30 2>"$TMPD/err")
if [ "$(bench_kv ok "$line")" = 20 ] && [ "$(bench_kv resumed "$line")" -ge 18 ] &&
    case "$(bench_kv cipher "$line")" in TLSv1.2_*) true ;; *) false ;; esac
then
	ok "-2: tls 1.2, $(bench_kv resumed "$line") of 20 resumed"
else
	nok "-2: tls 1.2, 18 or more of 20 resumed: $line"
fi

# -g: plain tcp (the floor rows), against capsuled's gopher listener
gport=$(bench_free_port)
if bench_start_capsuled "$DOCS" capsuled-plain "" \
    "gopher-listen = {\"127.0.0.1:$gport\"}" 2>>"$TMPD/start.log"; then
	line=$("$GB" -p "$gport" -g /page.gmi -n 20 -c 4 -t 5 -T 30 \
	    2>"$TMPD/err")
	rc=$?
	if [ $rc -eq 0 ] && [ "$(bench_kv ok "$line")" = 20 ] &&
	    [ "$(bench_kv bytes "$line")" -gt 20 ]; then
		ok "-g: 20 plain tcp requests answered"
	else
		nok "-g: 20 plain tcp requests answered: rc $rc $line"
	fi
	bench_stop "$CAPS_PID"
	line=$("$GB" -p "$gport" -g /page.gmi -n 3 -t 2 -T 10 2>/dev/null)
	if [ $? -eq 1 ] && [ "$(bench_kv connect_err "$line")" = 3 ]; then
		ok "-g: refused connections reported as errors"
	else
		nok "-g: refused connections reported as errors: $line"
	fi
else
	echo "skip - -g: capsuled with a gopher listener did not start"
fi

[ $failed -eq 0 ]

# shell helpers for the enquiry-milter tests and benches: result lines for
# tests/run.sh, and starting and stopping the milter (its pid in $mpid; its
# exit status lands in $mexit, so a test can check for a clean exit).
failed=0
mpid=""
mexit=0
# MILTER_STORE=postgresql: the test's milter keeps its register in a
# throwaway PostgreSQL (tests/lib/pg.sh) instead of state-dir's sqlite
# file; tests/t-store-pg.sh runs the tests that matter so
MILTER_STORE=${MILTER_STORE:-sqlite}
PG_URL=
milter_pg_start() {
	[ "$MILTER_STORE" = postgresql ] || return 0
	. "$TOP/tests/lib/pg.sh"
	if why=$(pg_unavailable); then echo "skip - $why"; exit 0; fi
	pg_init && pg_start && pg_createdb enquiries ||
	    { echo "not ok - a throwaway postgresql"; exit 1; }
	echo "# store: postgresql"
}
# the config line naming the store, when it is not the default
milter_store_conf() {
	[ -z "$PG_URL" ] || echo "database  = \"$PG_URL\""
}
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }
check() { # check "what" command...
	_what=$1; shift
	if "$@"; then ok "$_what"; else notok "$_what"; fi
}
checke() { # checke "what" 'shell condition' (for && and ||)
	if eval "$2"; then ok "$1"; else notok "$1"; fi
}
# milter_require miltertest|postfix: skip the test (exit 0) where this
# machine lacks the tools it needs, fail it where the milter is not built
# ($BIN). "postfix" wants tests/lib/postfix.sh sourced first.
milter_require() {
	case $1 in
	miltertest)
		if ! command -v miltertest >/dev/null 2>&1; then
			echo "skip - miltertest not installed (contrib/deps.sh test)"
			exit 0
		fi ;;
	postfix)
		if why=$(pf_unavailable); then echo "skip - $why"; exit 0; fi
		if ! command -v swaks >/dev/null 2>&1; then
			echo "skip - swaks not installed (contrib/deps.sh test)"
			exit 0
		fi ;;
	esac
	[ -x "$BIN" ] || { echo "not ok - $BIN not built"; exit 1; }
}
# milter_start [CONF [LOG [SOCKET]]]: $BIN in the foreground on CONF
# (default $M/m.conf), appending to LOG (default $M/milter.log); true once
# SOCKET (default $SOCK) exists, within 10 s. An old socket file is removed
# first, so that only the new milter's counts.
milter_start() {
	_sock=${3:-$SOCK}
	rm -f "$_sock"
	"$BIN" -f -c "${1:-$M/m.conf}" >>"${2:-$M/milter.log}" 2>&1 &
	mpid=$!
	_i=0
	while [ ! -S "$_sock" ] && [ $_i -lt 100 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	[ -S "$_sock" ]
}
milter_stop() {
	[ -n "$mpid" ] || return 0
	kill -TERM "$mpid" 2>/dev/null
	_i=0
	while kill -0 "$mpid" 2>/dev/null && [ $_i -lt 150 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	kill -KILL "$mpid" 2>/dev/null
	wait "$mpid" 2>/dev/null
	mexit=$?
	mpid=""
}
# milter_stop_checked LOG: stop it, and check it exited 0 and left no
# sanitizer report in LOG
milter_stop_checked() {
	milter_stop
	if [ "$mexit" -eq 0 ]; then
		ok "milter stopped cleanly"
	else
		notok "milter stopped cleanly (exit $mexit)"
		tail -n 20 "$1" | sed 's/^/#   /'
	fi
	if grep -q -E 'ERROR: [A-Za-z]+Sanitizer|runtime error:' "$1"; then
		notok "no sanitizer reports from the milter"
		grep -A20 -E 'Sanitizer|runtime error:' "$1" | sed 's/^/#   /' |
		    head -40
	else
		ok "no sanitizer reports from the milter"
	fi
}
# milter_check_shipped CONF WHAT: $BIN -n on a shipped (or installed)
# config. it names user "enquiry-milter", which the package's sysusers
# file creates: where that user exists, -n must accept CONF as it is;
# where it does not, -n must refuse it naming the user (what start-up as
# root would do), and accept a copy that names "nobody" instead.
# Relative paths in CONF stay relative to the working directory.
milter_check_shipped() {
	_u=$(sed -n 's/^[[:space:]]*user[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$1")
	if id "$_u" >/dev/null 2>&1; then
		if _out=$("$BIN" -n -c "$1" 2>&1); then ok "-n accepts $2"
		else notok "-n accepts $2: $_out"; fi
		return
	fi
	_out=$("$BIN" -n -c "$1" 2>&1); _rc=$?
	case "$_out" in
	*"user \"$_u\" does not exist"*)
		[ $_rc -eq 1 ] && ok "-n refuses $2 where user $_u does not exist" ||
		    notok "-n refuses $2 where user $_u does not exist (rc $_rc)" ;;
	*)	notok "-n refuses $2 where user $_u does not exist (rc $_rc: $_out)" ;;
	esac
	_copy=$(mktemp /tmp/shipped-conf.XXXXXX) || return
	sed "s/^\([[:space:]]*user[[:space:]]*=[[:space:]]*\)\"[^\"]*\"/\1\"nobody\"/" \
	    "$1" >"$_copy"
	if _out=$("$BIN" -n -c "$_copy" 2>&1); then
		ok "-n accepts $2 with user nobody"
	else notok "-n accepts $2 with user nobody: $_out"; fi
	rm -f "$_copy"
}
# milter_tmpdir NAME: for a test without Postfix. a throwaway directory $T
# (/tmp/NAME.XXXXXX, mode 755; KEEP=1 keeps it), removed at exit once the
# milter has stopped; $user, the user the milter runs as (nobody as root,
# else whoever runs the test); $deadport, a loopback port nothing listens
# on, so that submitted mail stays in the spool where a test reads it
milter_tmpdir() {
	T=$(mktemp -d "/tmp/$1.XXXXXX") || exit 1
	[ -n "${KEEP:-}" ] && echo "# keeping $T"
	chmod 755 "$T"
	trap 'milter_stop; [ -z "$PG_URL" ] || pg_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
	milter_pg_start
	if [ "$(id -u)" -eq 0 ]; then user=nobody; else user=$(id -un); fi
	deadport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
}
# milter_spool_conf: the first lines of such a test's config (socket and
# state in $T, submissions to $deadport); the test adds its own after them
milter_spool_conf() {
	cat <<CONF
socket    = "unix:$T/milter.sock"
state-dir = "$T/state"
user      = "$user"
submit    = "127.0.0.1:$deadport"
CONF
	milter_store_conf
}
# milter_pf_setup: for a test through Postfix (tests/lib/postfix.sh sourced
# first). a throwaway Postfix ($PF_DIR, pf_init) holding the milter's
# directory $M (mode 755) and socket path $SOCK; the milter, Postfix and
# the sink stop at exit
milter_pf_setup() {
	trap 'milter_stop; pf_cleanup; [ -z "$PG_URL" ] || pg_cleanup' EXIT
	pf_init || { echo "not ok - set up postfix"; exit 1; }
	milter_pg_start
	M=$PF_DIR/milter
	mkdir -p "$M" && chmod 755 "$M"
	SOCK=$M/milter.sock
}
# milter_pf_conf: the first lines of its config: the socket Postfix's smtpd
# reaches, state in $M, acknowledgements submitted back into the Postfix
milter_pf_conf() {
	cat <<CONF
socket       = "unix:$SOCK"
socket-mode  = "0660"
socket-group = "postfix"
state-dir    = "$M/state"
user         = "nobody"
submit       = "127.0.0.1:$PF_PORT"
submit-timeout = "5s"
hostname     = "milter.rmet.test"
CONF
	milter_store_conf
}
# milter_pf_start: Postfix's smtpd calls the milter (tempfail while it is
# down), then the sink, the milter (on $M/m.conf) and Postfix start
milter_pf_start() {
	pf_config "smtpd_milters = unix:$SOCK" "milter_protocol = 6" \
	    "milter_default_action = tempfail" "milter_connect_timeout = 5s"
	sink_start || { echo "not ok - smtp-sink"; exit 1; }
	check "milter started" milter_start
	pf_start || { echo "not ok - postfix start"; exit 1; }
}
# milter_done LOG [LINES]: a test's last line. after a failure, the last
# LINES (40) of the milter's LOG and, where one ran, of Postfix's log; the
# status says whether every check passed
milter_done() {
	if [ "$failed" -ne 0 ]; then
		echo "# milter log:"; sed 's/^/#   /' "$1" | tail -n "${2:-40}"
		if [ -n "${PF_DIR:-}" ] && [ -f "$PF_DIR/maillog" ]; then
			echo "# postfix log:"
			sed 's/^/#   /' "$PF_DIR/maillog" | tail -n "${2:-40}"
		fi
	fi
	[ "$failed" -eq 0 ]
}

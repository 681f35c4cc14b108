# shell helpers for the enquiry-milter tests: result lines for tests/run.sh
# and stopping the milter the test started (its pid in $mpid; its exit
# status lands in $mexit, so a test can check for a clean exit).
failed=0
mpid=""
mexit=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }
check() { # check "what" command...
	_what=$1; shift
	if "$@"; then ok "$_what"; else notok "$_what"; fi
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

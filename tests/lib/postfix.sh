# a throwaway Postfix for tests, sourced by tests/t-*.sh and tests/bench/.
#
# It never touches the system Postfix: a private config_directory,
# queue_directory and data_directory under a mktemp -d directory, started
# with `postfix -c DIR start`, listening on a free loopback port, relaying
# everything to Postfix's smtp-sink on another free loopback port, logging to
# a file. Everything on 127.0.0.1. Needs root (Postfix's master does).
#
#   . tests/lib/postfix.sh
#   pf_init                       # PF_DIR, PF_PORT, PF_SINK_PORT, PF_SINK
#   pf_config "smtpd_milters = unix:$sock" ...   # extra main.cf lines
#   sink_start && pf_start
#   swaks --server 127.0.0.1:$PF_PORT ...
#   sink_wait N 30                # until N messages sit in the sink
#   pf_cleanup                    # stops both, removes PF_DIR
#
# sink files: one per message under $PF_SINK, starting with X-Mail-Args
# (the envelope sender) and one X-Rcpt-Args line per recipient.

PF_DIR= PF_PORT= PF_SINK_PORT= PF_SINK= PF_SINK_PID=

# a free loopback port: bind port 0, read it, close
pf_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# a free loopback port that is none of the given ones (ports handed out
# but not bound yet): pf_other_port "$PF_PORT" "$PF_SINK_PORT" ...
pf_other_port() {
	_p=$(pf_free_port)
	while echo " $* " | grep -q " $_p "; do _p=$(pf_free_port); done
	echo "$_p"
}

# why this machine cannot run the throwaway Postfix, or nothing
pf_unavailable() {
	[ "$(id -u)" -eq 0 ] || { echo "needs root to run a private Postfix"; return 0; }
	for c in postfix postconf smtp-sink python3; do
		command -v $c >/dev/null 2>&1 ||
		    [ -x /usr/sbin/$c ] || { echo "$c not installed"; return 0; }
	done
	id postfix >/dev/null 2>&1 || { echo "no postfix user"; return 0; }
	return 1
}

pf_init() {
	PATH=$PATH:/usr/sbin:/sbin
	PF_DIR=$(mktemp -d /tmp/pf.XXXXXX) || return 1
	chmod 755 "$PF_DIR"
	PF_PORT=$(pf_free_port)
	PF_SINK_PORT=$(pf_other_port "$PF_PORT")
	PF_SINK=$PF_DIR/sink/m
	mkdir -p "$PF_DIR/etc" "$PF_DIR/queue" "$PF_DIR/data" "$PF_DIR/sink"
	chown postfix "$PF_DIR/data" "$PF_DIR/sink"
	cp /etc/postfix/master.cf "$PF_DIR/etc/master.cf"
	cat >"$PF_DIR/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.rmet.test
mydomain = rmet.test
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains =
relayhost = [127.0.0.1]:$PF_SINK_PORT
default_transport = smtp
relay_transport = smtp
smtp_dns_support_level = disabled
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtputf8_enable = no
biff = no
maillog_file = $PF_DIR/maillog
maillog_file_prefixes = $PF_DIR
# fast retries: a test waits for deferred mail, not for the defaults
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
smtp_connect_timeout = 5s
default_destination_concurrency_limit = 50
smtp_destination_concurrency_limit = 50
default_process_limit = 100
EOF
	# no port 25; our own smtpd on the free port; nothing chrooted, so
	# smtpd reaches a milter socket anywhere
	postconf -c "$PF_DIR/etc" -M# smtp/inet
	postconf -c "$PF_DIR/etc" -Me "127.0.0.1:$PF_PORT/inet = 127.0.0.1:$PF_PORT inet n - n - - smtpd"
	postconf -c "$PF_DIR/etc" -F '*/*/chroot = n'
}

# add or change main.cf lines: pf_config "name = value" ...
pf_config() {
	for kv in "$@"; do
		postconf -c "$PF_DIR/etc" -e "$kv" || return 1
	done
}

pf_start() {
	# postfix(1) tells its fatal errors only to syslog or a terminal:
	# check first through script(1) so a broken setup says why
	if ! postfix -c "$PF_DIR/etc" check >/dev/null 2>&1; then
		script -qc "postfix -c $PF_DIR/etc check" /dev/null >&2
		return 1
	fi
	postfix -c "$PF_DIR/etc" start >"$PF_DIR/start.log" 2>&1 || {
		cat "$PF_DIR/start.log" "$PF_DIR/maillog" >&2
		return 1
	}
	# ready when smtpd answers
	_i=0
	while [ $_i -lt 100 ]; do
		if python3 - "$PF_PORT" <<'EOF' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)
s.settimeout(5)
ok = s.recv(512).startswith(b"220")
s.sendall(b"QUIT\r\n")
sys.exit(0 if ok else 1)
EOF
		then return 0; fi
		sleep 0.1; _i=$((_i + 1))
	done
	echo "postfix did not answer on 127.0.0.1:$PF_PORT" >&2
	return 1
}

pf_reload() {
	postfix -c "$PF_DIR/etc" reload >/dev/null 2>&1
}

pf_stop() {
	[ -n "$PF_DIR" ] && [ -f "$PF_DIR/queue/pid/master.pid" ] &&
	    postfix -c "$PF_DIR/etc" stop >/dev/null 2>&1
	# master waits for its children; give it a moment
	_i=0
	while [ -f "$PF_DIR/queue/pid/master.pid" ] &&
	    kill -0 "$(tr -d ' ' <"$PF_DIR/queue/pid/master.pid")" 2>/dev/null &&
	    [ $_i -lt 100 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
}

# ask the queue manager to try deferred mail now
pf_flush() {
	postqueue -c "$PF_DIR/etc" -f >/dev/null 2>&1
}

# messages waiting in the queue (any state)
pf_queue_count() {
	find "$PF_DIR/queue/incoming" "$PF_DIR/queue/active" \
	    "$PF_DIR/queue/deferred" "$PF_DIR/queue/hold" \
	    "$PF_DIR/queue/maildrop" -type f 2>/dev/null | wc -l
}

sink_start() {
	smtp-sink -u postfix -R "$PF_DIR/sink" -d "m/%H%M%S." \
	    "127.0.0.1:$PF_SINK_PORT" 256 >"$PF_DIR/sink.log" 2>&1 &
	PF_SINK_PID=$!
	_i=0
	while [ $_i -lt 50 ]; do
		python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $PF_SINK_PORT), 1).close()" 2>/dev/null && return 0
		sleep 0.1; _i=$((_i + 1))
	done
	echo "smtp-sink did not start" >&2
	return 1
}

sink_stop() {
	[ -n "$PF_SINK_PID" ] && kill "$PF_SINK_PID" 2>/dev/null
	[ -n "$PF_SINK_PID" ] && wait "$PF_SINK_PID" 2>/dev/null
	PF_SINK_PID=
}

sink_count() {
	find "$PF_SINK" -type f 2>/dev/null | wc -l
}

# wait until at least N messages are in the sink, for up to T seconds;
# then the count
sink_wait() {
	_n=$1 _t=${2:-30} _i=0
	while [ "$(sink_count)" -lt "$_n" ] && [ $_i -lt $((_t * 10)) ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	sink_count
}

# the sink files whose envelope recipient is $1 (one path a line)
sink_for_rcpt() {
	grep -l -r -i -F "X-Rcpt-Args: <$1>" "$PF_SINK" 2>/dev/null
}

pf_cleanup() {
	pf_stop
	sink_stop
	if [ -n "$PF_DIR" ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$PF_DIR"
	elif [ -n "$PF_DIR" ]; then
		echo "# kept $PF_DIR" >&2
	fi
}

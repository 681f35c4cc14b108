# shell helpers for the benchmark and the gembench smoke test: start
# capsuled and molly-brown on free loopback ports over one document root,
# and read a server's cpu time and memory from /proc.
# source it with GB (path to gembench) and TMPD (a scratch dir) set.

# a free tcp port on 127.0.0.1 (free when asked; servers retry on a clash)
bench_free_port() {
	"$GB" -F
}

# wait until a gemini server answers on port $1 for url $2, while pid $3
# lives; at most about 5 seconds
bench_wait_ready() {
	i=0
	while [ $i -lt 50 ]; do
		kill -0 "$3" 2>/dev/null || return 1
		if "$GB" -p "$1" -u "$2" -n 1 -t 1 -T 2 >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# the pids of process $1 and all its descendants, one a line
bench_tree_pids() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
	{
		pid = $1
		rest = substr($0, match($0, /\) [A-Za-z] /) + 2)
		split(rest, f, " ")
		ppid[pid] = f[2]
	}
	END {
		want[root] = 1
		do {
			grew = 0
			for (p in ppid)
				if (!(p in want) && (ppid[p] in want)) {
					want[p] = 1
					grew = 1
				}
		} while (grew)
		for (p in want)
			if (p in ppid)
				print p
	}'
}

# cpu clock ticks (utime+stime, plus cutime+cstime for reaped children)
# of process $1 and all its descendants
bench_tree_ticks() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
	{
		pid = $1
		rest = substr($0, match($0, /\) [A-Za-z] /) + 2)
		split(rest, f, " ")
		# fields after "(comm)": f[1] is field 3 (state)
		ppid[pid] = f[2]
		ticks[pid] = f[12] + f[13] + f[14] + f[15]
	}
	END {
		want[root] = 1
		do {
			grew = 0
			for (p in ppid)
				if (!(p in want) && (ppid[p] in want)) {
					want[p] = 1
					grew = 1
				}
		} while (grew)
		sum = 0
		for (p in want)
			sum += ticks[p]
		print sum
	}'
}

# busy cpu clock ticks of the whole machine (all cores) from /proc/stat
bench_sys_busy_ticks() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# proportional set size in kB of process $1 and all its descendants
bench_tree_pss_kb() {
	total=0
	for p in $(bench_tree_pids "$1"); do
		kb=$(awk '/^Pss:/ { print $2; exit }' "/proc/$p/smaps_rollup" \
		    2>/dev/null)
		[ -n "$kb" ] || kb=$(awk '/^VmRSS:/ { print $2; exit }' \
		    "/proc/$p/status" 2>/dev/null)
		total=$((total + ${kb:-0}))
	done
	echo "$total"
}

# a self-signed ECDSA P-256 certificate for localhost in $1
bench_make_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$1/key.pem" -out "$1/cert.pem" -days 30 \
	    -subj /CN=localhost -addext subjectAltName=DNS:localhost \
	    >/dev/null 2>&1
}

# molly-brown over document root $1; sets MOLLY_PID and MOLLY_PORT.
# it binds every address on its port, so a clash means another try.
bench_start_molly() {
	MOLLY_PID= MOLLY_PORT=
	command -v molly-brown >/dev/null 2>&1 || {
		echo "molly-brown is not installed" >&2
		return 1
	}
	mkdir -p "$TMPD/molly" && bench_make_cert "$TMPD/molly" || {
		echo "cannot make a certificate for molly-brown" >&2
		return 1
	}
	for try in 1 2 3; do
		port=$(bench_free_port) || return 1
		cat >"$TMPD/molly/molly.conf" <<-EOF
		Port = $port
		Hostname = "localhost"
		CertPath = "$TMPD/molly/cert.pem"
		KeyPath = "$TMPD/molly/key.pem"
		DocBase = "$1"
		AccessLog = "$TMPD/molly/access.log"
		ErrorLog = "$TMPD/molly/error.log"
		EOF
		molly-brown -c "$TMPD/molly/molly.conf" \
		    >"$TMPD/molly/stderr.log" 2>&1 &
		pid=$!
		if bench_wait_ready "$port" "gemini://localhost:$port/" "$pid"
		then
			MOLLY_PID=$pid MOLLY_PORT=$port
			return 0
		fi
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	echo "molly-brown did not start:" >&2
	tail -n 5 "$TMPD/molly/stderr.log" "$TMPD/molly/error.log" >&2
	return 1
}

# build/capsuled over document root $1; sets CAPS_PID and CAPS_PORT.
# $2: the instance's name (its directory under TMPD, default capsuled);
# $3: extra lines for its server block; $4: extra top-level lines (a
# gopher-listen). extra config lines (connection cap) are dropped if this
# build rejects them; $3 and $4 are not.
bench_start_capsuled() {
	CAPS_PID= CAPS_PORT=
	bin="${CAPSULED:-$TOP/build/capsuled}"
	inst=$TMPD/${2:-capsuled}
	[ -x "$bin" ] || {
		echo "capsuled is not built ($bin missing)" >&2
		return 1
	}
	mkdir -p "$inst/state"
	user_line=
	if [ "$(id -u)" -eq 0 ]; then
		# started as root it drops to an ordinary user
		user_line='user = "nobody"'
		chown nobody "$inst/state" 2>/dev/null
	fi
	port=$(bench_free_port) || return 1
	# the load comes from one address: no per-address cap (older
	# builds know neither key, or only the first)
	for extra in 'max-connections = 10000
		max-connections-per-address = 0' 'max-connections = 10000' ''; do
		cat >"$inst/capsuled.conf" <<-EOF
		listen = {"127.0.0.1:$port"}
		state-dir = "$inst/state"
		$user_line
		$extra
		${4:-}
		server "localhost" {
			aliases = {"127.0.0.1"}
			root = "$1"
			${BENCH_SERVER_EXTRA:-}
			${3:-}
		}
		EOF
		if "$bin" -n -c "$inst/capsuled.conf" \
		    >"$inst/check.log" 2>&1; then
			break
		fi
	done
	if ! "$bin" -n -c "$inst/capsuled.conf" >"$inst/check.log" 2>&1
	then
		echo "capsuled -n rejects the benchmark config:" >&2
		tail -n 5 "$inst/check.log" >&2
		return 1
	fi
	"$bin" -f -c "$inst/capsuled.conf" >"$inst/stderr.log" 2>&1 &
	pid=$!
	if bench_wait_ready "$port" "gemini://localhost:$port/" "$pid"; then
		CAPS_PID=$pid CAPS_PORT=$port
		return 0
	fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	echo "capsuled did not start or does not answer:" >&2
	tail -n 5 "$inst/stderr.log" >&2
	return 1
}

# stop a server started above (by its pid) and wait for it
bench_stop() {
	[ -n "${1:-}" ] || return 0
	kill "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 30 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# value of key $1 in a gembench key=value line $2
bench_kv() {
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

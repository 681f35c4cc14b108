# a throwaway PostgreSQL for tests, sourced by tests/t-*.sh and
# tests/bench/, the way tests/lib/postfix.sh gives a throwaway Postfix.
#
# initdb into a mktemp -d directory (as the postgres user when run as
# root: initdb refuses root), no TCP at all: a Unix socket in that
# directory only, trust for local connections. pg_cleanup stops it
# (pg_ctl stop -m fast) and removes the directory.
#
#   . tests/lib/pg.sh
#   pg_init && pg_start           # PG_DIR, PG_SOCKDIR, PG_USER
#   pg_createdb NAME              # PG_URL: postgresql:///NAME?host=...
#   pg_stop; pg_start             # an outage and its end
#   pg_cleanup
#
# PG_FSYNC=on keeps fsync (the bench); tests run without it.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR= PG_SOCKDIR= PG_URL= PG_USER=

# why this machine cannot run the throwaway PostgreSQL, or nothing
pg_unavailable() {
	for c in initdb pg_ctl postgres; do
		[ -x "$PG_BIN/$c" ] || { echo "$PG_BIN/$c not installed (contrib/deps.sh test: postgresql)"; return 0; }
	done
	if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
		echo "no postgres user to run initdb as"; return 0
	fi
	command -v psql >/dev/null 2>&1 || { echo "psql not installed"; return 0; }
	return 1
}

# as the user that owns the cluster
pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_init() {
	PG_DIR=$(mktemp -d /tmp/pgt.XXXXXX) || return 1
	chmod 755 "$PG_DIR"
	PG_SOCKDIR=$PG_DIR
	if [ "$(id -u)" -eq 0 ]; then
		PG_USER=postgres
		chown postgres "$PG_DIR"
	else
		PG_USER=$(id -un)
	fi
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_USER" -A trust \
	    -E UTF8 --locale=C --no-sync >"$PG_DIR/initdb.log" 2>&1 || {
		cat "$PG_DIR/initdb.log" >&2
		return 1
	}
	{
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$PG_SOCKDIR'"
		echo "unix_socket_permissions = 0777"
		echo "fsync = ${PG_FSYNC:-off}"
		echo "synchronous_commit = ${PG_FSYNC:-off}"
		echo "max_connections = 100"
		echo "shared_buffers = 32MB"
	} >>"$PG_DIR/data/postgresql.conf"
}

pg_start() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 30 \
	    start >/dev/null 2>&1 || { tail -n 20 "$PG_DIR/log" >&2; return 1; }
}

pg_stop() {
	[ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] &&
	    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop \
	    >/dev/null 2>&1
	return 0
}

# psql on database $1 of the throwaway server: pg_psql DB -c "SQL"
pg_psql() {
	_db=$1; shift
	psql -X -q -At -h "$PG_SOCKDIR" -U "$PG_USER" -d "$_db" \
	    -v ON_ERROR_STOP=1 "$@"
}

# a new empty database; PG_URL names it
pg_createdb() {
	pg_psql postgres -c "CREATE DATABASE \"$1\"" || return 1
	PG_URL="postgresql:///$1?host=$PG_SOCKDIR&user=$PG_USER"
}

pg_cleanup() {
	pg_stop
	if [ -n "$PG_DIR" ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$PG_DIR"
	elif [ -n "$PG_DIR" ]; then
		echo "# kept $PG_DIR" >&2
	fi
}

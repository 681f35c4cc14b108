#!/bin/sh
# the same store tests on postgresql as on sqlite: the unit tests of the
# store (build/tests/test_db, which make test also runs on sqlite) against
# a throwaway PostgreSQL, then the milter's miltertest suites (enquiries,
# and mailing lists: tokens, moderation, reply times) with the register
# in PostgreSQL (MILTER_STORE=postgresql, tests/lib/milter.sh), and the
# case register through a real Postfix (t-milter-register.sh). each
# starts and stops a server of its own.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
. "$TOP/tests/lib/pg.sh"
if why=$(pg_unavailable); then echo "skip - $why"; exit 0; fi
[ -x build/tests/test_db ] || { echo "not ok - build/tests/test_db not built"; exit 1; }
failed=0
trap 'pg_cleanup' EXIT

# 1. the store's unit tests, in five empty databases
if pg_init && pg_start && pg_createdb store && url=$PG_URL &&
    pg_createdb old && old=$PG_URL && pg_createdb move &&
    move=$PG_URL && pg_createdb register && reg=$PG_URL &&
    pg_createdb purge; then
	TEST_DB_URL=$url TEST_DB_URL_OLD=$old TEST_DB_URL_MOVE=$move \
	    TEST_DB_URL_REG=$reg TEST_DB_URL_PURGE=$PG_URL build/tests/test_db ||
	    failed=1
	# what the store made: the tables, and references that were asked
	n=$(pg_psql store -c "SELECT count(*) FROM refseq WHERE prefix = 'TWO'")
	[ "$n" = 1 ] && echo "ok - the counter row is in postgresql" ||
	    { echo "not ok - the counter row is in postgresql ($n)"; failed=1; }
else
	echo "not ok - a throwaway postgresql"
	exit 1
fi
pg_cleanup
PG_DIR=

# 2. enquiries migrate: the register the schema-1 milter wrote
# (tests/fixtures), moved from sqlite into postgresql; the command then
# lists the same cases from either; a second move does nothing; a
# database holding a register of its own takes none
ENQ=${ENQUIRIES:-$TOP/build/enquiries}
M=$(mktemp -d /tmp/t-store-pg.XXXXXX) || exit 1
chmod 755 "$M"
trap 'pg_cleanup; rm -rf "$M"' EXIT
if [ "$(id -u)" -eq 0 ]; then user=nobody; else user=$(id -un); fi
mkdir -p "$M/state" && cp tests/fixtures/enquiries-v1.db "$M/state/enquiries.db"
chown -R "$user" "$M/state" 2>/dev/null
mkconf() { # mkconf FILE [EXTRA LINE]
	{
		echo "socket    = \"unix:$M/milter.sock\""
		echo "state-dir = \"$M/state\""
		echo "user      = \"$user\""
		[ -z "${2:-}" ] || echo "$2"
		echo 'enquiry "enquiries@rmet.org" {'
		echo '	route-to     = {"head@rmet.org"}'
		echo "	ack-template = \"$TOP/etc/templates/enquiry-ack.txt\""
		echo '}'
		echo 'enquiry "admissions@rmet.org" {'
		echo '	route-to     = {"admissions-team@rmet.org"}'
		echo '	reference    = "ADM"'
		echo "	ack-template = \"$TOP/etc/templates/enquiry-ack.txt\""
		echo '}'
	} >"$1"
	chmod 644 "$1"
}
ok_if() { # ok_if "what" condition...
	_w=$1; shift
	if "$@"; then echo "ok - $_w"; else echo "not ok - $_w"; failed=1; fi
}
if pg_init && pg_start && pg_createdb register; then
	mkconf "$M/sqlite.conf"
	mkconf "$M/pg.conf" "database = \"$PG_URL\""
	before=$("$ENQ" -c "$M/sqlite.conf" list --csv 2>&1)
	n=$(echo "$before" | grep -c '^[A-Z]*-20[0-9][0-9]-')
	ok_if "the sqlite register lists $n cases" [ "$n" -gt 0 ]
	out=$("$ENQ" -c "$M/sqlite.conf" migrate --to "$PG_URL" 2>&1); rc=$?
	ok_if "enquiries migrate --to: $out" [ $rc -eq 0 ]
	after=$("$ENQ" -c "$M/pg.conf" list --csv 2>&1)
	ok_if "the same cases listed from postgresql" [ "$before" = "$after" ]
	ref=$(echo "$after" | sed -n '2s/,.*//p')
	ok_if "show $ref from postgresql" sh -c \
	    "'$ENQ' -c '$M/pg.conf' show '$ref' | grep -q '$ref'"
	c=$(pg_psql register -c "SELECT count(*) FROM enq_case")
	ok_if "postgresql holds the $n cases ($c)" [ "$c" -eq "$n" ]
	out=$("$ENQ" -c "$M/pg.conf" migrate 2>&1); rc=$?
	ok_if "a second migrate does nothing: $out" \
	    sh -c "[ $rc -eq 0 ] && echo '$out' | grep -q 'nothing to do'"
	c2=$(pg_psql register -c "SELECT count(*) FROM enq_case")
	ok_if "still $c cases" [ "$c2" -eq "$c" ]
	pg_psql register -c "DELETE FROM migration"
	out=$("$ENQ" -c "$M/sqlite.conf" migrate --to "$PG_URL" 2>&1); rc=$?
	ok_if "a database with a register of its own takes none (exit $rc): $out" \
	    sh -c "[ $rc -eq 1 ] && echo '$out' | grep -q 'register of its own'"
	"$ENQ" -c "$M/sqlite.conf" migrate --to "$M/x.db" >/dev/null 2>&1; rc=$?
	ok_if "--to must be a postgresql URL (exit $rc)" [ $rc -eq 2 ]
else
	echo "not ok - a throwaway postgresql"
	failed=1
fi
pg_cleanup
PG_DIR=

# 3. the milter's suites on postgresql
for t in t-milter-miltertest.sh t-list-miltertest.sh t-milter-register.sh; do
	echo "# tests/$t with MILTER_STORE=postgresql"
	MILTER_STORE=postgresql "tests/$t" || failed=1
done
exit $failed

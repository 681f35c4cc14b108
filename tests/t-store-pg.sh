#!/bin/sh
# the same store tests on postgresql as on sqlite: the unit tests of the
# store (build/tests/test_db, which make test also runs on sqlite) against
# a throwaway PostgreSQL, then the milter's miltertest suites (enquiries,
# and mailing lists: tokens, moderation, reply times) with the register
# in PostgreSQL (MILTER_STORE=postgresql, tests/lib/milter.sh). each
# starts and stops a server of its own.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
. "$TOP/tests/lib/pg.sh"
if why=$(pg_unavailable); then echo "skip - $why"; exit 0; fi
[ -x build/tests/test_db ] || { echo "not ok - build/tests/test_db not built"; exit 1; }
failed=0
trap 'pg_cleanup' EXIT

# 1. the store's unit tests, in four empty databases
if pg_init && pg_start && pg_createdb store && url=$PG_URL &&
    pg_createdb old && old=$PG_URL && pg_createdb move &&
    move=$PG_URL && pg_createdb register; then
	TEST_DB_URL=$url TEST_DB_URL_OLD=$old TEST_DB_URL_MOVE=$move \
	    TEST_DB_URL_REG=$PG_URL build/tests/test_db || failed=1
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

# 2. the milter's suites on postgresql
for t in t-milter-miltertest.sh t-list-miltertest.sh; do
	echo "# tests/$t with MILTER_STORE=postgresql"
	MILTER_STORE=postgresql "tests/$t" || failed=1
done
exit $failed

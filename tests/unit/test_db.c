/* reference allocation: unique, monotonic per year and prefix, durable
 * across reopen, safe under threads; ack times; the enquiry log; list
 * tokens and reply times; two stores sharing one database (two milters)
 * deciding one sender's acknowledgement and reply cap once.
 * the same tests run on sqlite (default) and on postgresql: TEST_DB_URL
 * and TEST_DB_URL_OLD name two empty databases (tests/t-db-pg.sh) */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "unit.h"

#define THREADS	4
#define PER	50

static struct db *shared;
static char refs[THREADS][PER][64];

static void *
alloc_many(void *arg)
{
	int t = (int)(long)arg, i;

	for (i = 0; i < PER; i++) {
		if (db_begin(shared) == -1)
			return NULL;
		if (db_ref_next(shared, "ENQ", 2026, refs[t][i],
		    sizeof(refs[t][i])) == -1) {
			db_rollback(shared);
			return NULL;
		}
		db_commit(shared);
	}
	return NULL;
}

static int
ref_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int listed;

/* the schema enquiry-milter 0.1.0 made (user_version 0) */
static const char schema_v0[] =
    "CREATE TABLE refseq ("
    " prefix TEXT NOT NULL, year INTEGER NOT NULL, last INTEGER NOT NULL,"
    " PRIMARY KEY(prefix, year));"
    "CREATE TABLE enquiry ("
    " id INTEGER PRIMARY KEY, reference TEXT NOT NULL, time INTEGER NOT NULL,"
    " queue_id TEXT, enquiry TEXT, sender TEXT, subject TEXT, category TEXT,"
    " message_id TEXT, recipients TEXT, ack TEXT);"
    "CREATE INDEX enquiry_ref ON enquiry(reference);"
    "CREATE INDEX enquiry_msgid ON enquiry(message_id);"
    "CREATE TABLE ack ("
    " sender TEXT NOT NULL, enquiry TEXT NOT NULL, last INTEGER NOT NULL,"
    " PRIMARY KEY(sender, enquiry));"
    "INSERT INTO refseq VALUES('ENQ', 2026, 7);"
    "INSERT INTO enquiry(reference, time, enquiry, sender, subject, "
    " category, message_id, recipients, ack) VALUES('ENQ-2026-000007', 5,"
    " 'enquiries@rmet.org', 'old@example.org', 'before the upgrade',"
    " 'visit', '<old@example.org>', 'visits@rmet.org', 'sent');";

/* one integer from a query on a raw connection, -1 on error */
static long long
raw_int(const char *path, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_open(path, &h) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return v;
}

static const char *old_kind = "unset";

static void
count_only(const struct db_enquiry *e, void *arg)
{
	(void)e;
	(void)arg;
	listed++;
}

static void
find_old(const struct db_enquiry *e, void *arg)
{
	(void)arg;
	if (strcmp(e->reference, "ENQ-2026-000007") == 0)
		old_kind = e->kind;
}

/* sqlite: a database of the first schema upgraded in place; its row is
 * ENQ-2026-000007 */
static struct db *
open_upgraded(const char *dir, char *path, size_t pathsz)
{
	char err[256];
	struct db *db;
	sqlite3 *h;

	snprintf(path, pathsz, "%s/old.db", dir);
	CHECK(sqlite3_open(path, &h) == SQLITE_OK &&
	    sqlite3_exec(h, schema_v0, NULL, NULL, NULL) == SQLITE_OK,
	    "a database of schema 0");
	sqlite3_close(h);
	CHECK(raw_int(path, "PRAGMA user_version") == 0, "schema 0 has "
	    "user_version 0");
	db = db_open(path, err, sizeof(err));
	CHECK(db != NULL, "schema 0 opens: %s", db ? "" : err);
	if (db == NULL)
		return NULL;
	CHECK(raw_int(path, "PRAGMA user_version") == 1,
	    "upgraded: user_version 1");
	CHECK(raw_int(path, "SELECT count(*) FROM pragma_table_info('enquiry') "
	    "WHERE name IN ('kind', 'orig_msgid', 'ack_msgid', 'claimed')") ==
	    4, "upgraded: the four new columns");
	CHECK(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE type = "
	    "'index' AND name IN ('enquiry_orig', 'enquiry_ackid')") == 2,
	    "upgraded: the new indexes");
	CHECK(raw_int(path, "SELECT count(*) FROM enquiry") == 1,
	    "upgraded: the old row kept");
	return db;
}

/* postgresql: the same row, written as the old milter did (no kind) */
static struct db *
open_seeded(const char *url)
{
	char err[256], ref[64];
	struct db_enquiry e;
	struct db *db;
	int i;

	db = db_open(url, err, sizeof(err));
	CHECK(db != NULL, "opens: %s", db ? "" : err);
	if (db == NULL)
		return NULL;
	memset(&e, 0, sizeof(e));
	e.reference = "ENQ-2026-000007";
	e.time = 5;
	e.enquiry = "enquiries@rmet.org";
	e.sender = "old@example.org";
	e.subject = "before the upgrade";
	e.category = "visit";
	e.message_id = "<old@example.org>";
	e.orig_msgid = "<old@example.org>";
	e.recipients = "visits@rmet.org";
	e.ack = "sent";
	db_begin(db);
	for (i = 0; i < 7; i++)
		db_ref_next(db, "ENQ", 2026, ref, sizeof(ref));
	CHECK(db_enquiry_add(db, &e) == 0 && db_commit(db) == 0,
	    "a row without a kind");
	return db;
}

/* cases: threading by message-id, parties, categories, markers; on sqlite
 * an old database upgraded in place */
static void
test_cases(const char *dir, const char *url)
{
	char path[256], ref[64], cat[64], err[256];
	struct db_enquiry e;
	struct db *db;

	/* 1. a database with a row of the first schema */
	db = url ? open_seeded(url) : open_upgraded(dir, path, sizeof(path));
	if (db == NULL)
		return;
	CHECK(db_list(db, 10, find_old, NULL) == 0 && old_kind == NULL,
	    "an old row lists with no kind");
	db_begin(db);
	CHECK(db_thread_msgid(db, "<old@example.org>", "enquiries@rmet.org",
	    ref, sizeof(ref)) == 1, "an old row is found by its message-id");
	CHECK_STR(ref, "ENQ-2026-000007", "old case reference");
	CHECK(db_case_category(db, "ENQ-2026-000007", cat, sizeof(cat)) == 1,
	    "old case category found");
	CHECK_STR(cat, "visit", "old case keeps its category");
	db_ref_next(db, "ENQ", 2026, ref, sizeof(ref));
	CHECK_STR(ref, "ENQ-2026-000008", "the sequence carries on");

	/* 2. a new case, its acknowledgement, a follow-up, automatic mail */
	memset(&e, 0, sizeof(e));
	e.reference = "ENQ-2026-000008";
	e.time = 10;
	e.enquiry = "enquiries@rmet.org";
	e.sender = "jane@example.org";
	e.subject = "a visit";
	e.category = "visit";
	e.message_id = "<content.1@enquiry-milter.invalid>";
	e.orig_msgid = "<20261202.ABC123@mta.example.org>";
	e.ack_msgid = "<ENQ-2026-000008.aa.bb@milter.test>";
	e.recipients = "visits@rmet.org aa@rmet.org";
	e.ack = "sent";
	e.kind = DB_KIND_NEW;
	CHECK(db_enquiry_add(db, &e) == 0, "a new case recorded");
	e.sender = "";
	e.reference = "AUTO-ENQ-2026-000001";
	e.orig_msgid = "<bounce.1@example.org>";
	e.ack_msgid = NULL;
	e.category = "general";
	e.kind = DB_KIND_AUTOMATIC;
	CHECK(db_enquiry_add(db, &e) == 0, "automatic mail recorded");
	CHECK(db_thread_msgid(db, "<20261202.ABC123@mta.example.org>",
	    "enquiries@rmet.org", ref, sizeof(ref)) == 1,
	    "found by the enquiry's own Message-ID");
	CHECK_STR(ref, "ENQ-2026-000008", "its case");
	ref[0] = '\0';
	CHECK(db_thread_msgid(db, "<ENQ-2026-000008.aa.bb@milter.test>",
	    "enquiries@rmet.org", ref, sizeof(ref)) == 1,
	    "found by the acknowledgement's Message-ID");
	CHECK_STR(ref, "ENQ-2026-000008", "the acknowledged case");
	CHECK(db_thread_msgid(db, "<ENQ-2026-000008.aa.bb@milter.test>",
	    "admissions@rmet.org", ref, sizeof(ref)) == 0,
	    "another enquiry address does not share cases");
	CHECK(db_thread_msgid(db, "<bounce.1@example.org>",
	    "enquiries@rmet.org", ref, sizeof(ref)) == 0,
	    "an automatic marker is no case to join");
	CHECK(db_thread_msgid(db, "", "enquiries@rmet.org", ref,
	    sizeof(ref)) == 0, "an empty message-id names nothing");
	CHECK(db_case_party(db, "ENQ-2026-000008", "jane@example.org") == 1,
	    "the sender is a party");
	CHECK(db_case_party(db, "ENQ-2026-000008", "visits@rmet.org") == 1,
	    "a routed-to address is a party");
	CHECK(db_case_party(db, "ENQ-2026-000008", "a@rmet.org") == 0,
	    "a part of a routed-to address is not");
	CHECK(db_case_party(db, "ENQ-2026-000008", "mallory@example.net") ==
	    0, "a stranger is not a party");
	CHECK(db_case_party(db, "ENQ-2026-000008", "") == 0,
	    "the null sender is never a party");
	CHECK(db_case_party(db, "ENQ-2026-999999", "jane@example.org") == 0,
	    "nobody is a party of an unknown case");
	CHECK(db_case_category(db, "ENQ-2026-999999", cat, sizeof(cat)) == 0,
	    "an unknown case has no category");
	e.reference = "ENQ-2026-000008";
	e.sender = "jane@example.org";
	e.category = "general";
	e.kind = DB_KIND_FOLLOWUP;
	db_enquiry_add(db, &e);
	CHECK(db_case_category(db, "ENQ-2026-000008", cat, sizeof(cat)) == 1,
	    "case category after a follow-up");
	CHECK_STR(cat, "visit", "the case keeps the category it opened with");
	/* 3. markers count alone: automatic mail takes no case number */
	db_ref_next(db, "AUTO-ENQ", 2026, ref, sizeof(ref));
	CHECK_STR(ref, "AUTO-ENQ-2026-000001", "the first marker");
	db_ref_next(db, "ENQ", 2026, ref, sizeof(ref));
	CHECK_STR(ref, "ENQ-2026-000009", "markers take no case number");
	CHECK(db_commit(db) == 0, "commit");
	db_close(db);

	/* 4. reopened: nothing to upgrade, the rows stay */
	listed = 0;
	db = db_open(url ? url : path, err, sizeof(err));
	CHECK(db != NULL && db_list(db, 10, count_only, NULL) == 0 &&
	    listed == 4, "reopened: four rows");
	CHECK(url || raw_int(path, "PRAGMA user_version") == 1,
	    "reopened: version 1");
	db_close(db);
}

/* mailing lists: tokens single use, expiring, per list; replies rate
 * limited per sender and kind */
static void
test_list(struct db *db)
{
	char tok[DB_TOKEN_LEN + 1], tok2[DB_TOKEN_LEN + 1];
	char act[32], who[320];
	long long now = time(NULL);

	CHECK(db_token_new(db, "l@x.org", "subscribe",
	    "jane@example.org", now, now + 60, tok, sizeof(tok)) == 0 &&
	    strlen(tok) == DB_TOKEN_LEN, "a token: %s", tok);
	CHECK(db_token_new(db, "l@x.org", "unsubscribe",
	    "bob@example.org", now, now + 60, tok2, sizeof(tok2)) == 0 &&
	    strcmp(tok, tok2) != 0, "tokens differ");
	CHECK(db_token_get(db, "other@x.org", tok, now, act,
	    sizeof(act), who, sizeof(who)) == 0,
	    "a token is for its list only");
	CHECK(db_token_get(db, "l@x.org", tok, now, act, sizeof(act),
	    who, sizeof(who)) == 1 && strcmp(act, "subscribe") == 0 &&
	    strcmp(who, "jane@example.org") == 0, "looked up");
	CHECK(db_token_use(db, "l@x.org", tok) == 1, "used");
	CHECK(db_token_use(db, "l@x.org", tok) == 0 &&
	    db_token_get(db, "l@x.org", tok, now, act, sizeof(act),
	    who, sizeof(who)) == 0, "once only");
	CHECK(db_token_get(db, "l@x.org", tok2, now + 61, act,
	    sizeof(act), who, sizeof(who)) == 0, "expired after its "
	    "lifetime");
	CHECK(db_reply_allowed(db, "a@x.org", "help", now, 600) == 1,
	    "a first reply allowed");
	CHECK(db_reply_allowed(db, "a@x.org", "help", now + 599,
	    600) == 0, "a second within the interval is not");
	CHECK(db_reply_allowed(db, "a@x.org", "subscribe", now + 599,
	    600) == 1, "another kind is");
	CHECK(db_reply_allowed(db, "a@x.org", "help", now + 600,
	    600) == 1, "after the interval it is again");
}

static void
count(const struct db_enquiry *e, void *arg)
{
	(void)arg;
	if (listed == 0)
		CHECK_STR(e->reference, "ENQ-2026-000203", "newest first");
	listed++;
}

/*
 * two stores on one database, as two milters sharing it: threads of both
 * take every sender in turn, each in a transaction that locks the sender,
 * asks when it was last acknowledged, waits a moment (the window two
 * milters would race in) and acknowledges when it never was; and asks
 * the reply cap for one address. one acknowledgement per sender, the cap
 * exact, every reference distinct and none skipped
 */
#define TWO_THREADS	8
#define TWO_SENDERS	10
#define TWO_CAP		3

static struct db *two[2];
static int two_acks, two_allowed, two_errors;
static char two_refs[TWO_THREADS][TWO_SENDERS][64];
static pthread_mutex_t two_mtx = PTHREAD_MUTEX_INITIALIZER;

static void *
two_worker(void *arg)
{
	int t = (int)(long)arg, i, rc, acked, allowed;
	struct db *db = two[t % 2];
	struct timespec pause = { 0, 2000000 };
	char sender[64];
	long long when;

	for (i = 0; i < TWO_SENDERS; i++) {
		/* each thread starts at another sender: they meet */
		snprintf(sender, sizeof(sender), "Sender%d@Example.org",
		    (i + t) % TWO_SENDERS);
		acked = 0;
		if (db_begin(db) == -1)
			goto fail;
		if (db_lock_address(db, sender) == -1 ||
		    (rc = db_ack_last(db, sender, "enquiries@rmet.org",
		    &when)) == -1) {
			db_rollback(db);
			goto fail;
		}
		nanosleep(&pause, NULL);
		if (rc == 0) {
			if (db_ack_set(db, sender, "enquiries@rmet.org",
			    1000) == -1) {
				db_rollback(db);
				goto fail;
			}
			acked = 1;
		}
		if (db_ref_next(db, "TWO", 2026, two_refs[t][i],
		    sizeof(two_refs[t][i])) == -1) {
			db_rollback(db);
			goto fail;
		}
		if (db_commit(db) == -1)
			goto fail;
		if ((allowed = db_autoreply_allow_now(db, "cap@example.org",
		    time(NULL), TWO_CAP)) == -1)
			goto fail;
		pthread_mutex_lock(&two_mtx);
		two_acks += acked;
		two_allowed += allowed;
		pthread_mutex_unlock(&two_mtx);
		continue;
fail:
		pthread_mutex_lock(&two_mtx);
		two_errors++;
		pthread_mutex_unlock(&two_mtx);
	}
	return NULL;
}

static void
test_two(const char *target)
{
	char all[TWO_THREADS * TWO_SENDERS][64], err[256];
	pthread_t th[TWO_THREADS];
	int t, i, n = TWO_THREADS * TWO_SENDERS, uniq = 1;

	two[0] = db_open_pool(target, 4, 0, err, sizeof(err));
	two[1] = db_open_pool(target, 4, 0, err, sizeof(err));
	CHECK(two[0] != NULL && two[1] != NULL, "two stores on one database");
	if (two[0] == NULL || two[1] == NULL)
		return;
	for (t = 0; t < TWO_THREADS; t++)
		pthread_create(&th[t], NULL, two_worker, (void *)(long)t);
	for (t = 0; t < TWO_THREADS; t++)
		pthread_join(th[t], NULL);
	CHECK(two_errors == 0, "two stores, %d threads: no errors (%d)",
	    TWO_THREADS, two_errors);
	CHECK(two_acks == TWO_SENDERS, "one acknowledgement per sender: %d "
	    "for %d senders", two_acks, TWO_SENDERS);
	CHECK(two_allowed == TWO_CAP, "the reply cap holds across stores: "
	    "%d allowed, cap %d", two_allowed, TWO_CAP);
	for (t = 0; t < TWO_THREADS; t++)
		for (i = 0; i < TWO_SENDERS; i++)
			strcpy(all[t * TWO_SENDERS + i], two_refs[t][i]);
	qsort(all, n, sizeof(all[0]), ref_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(all[i], all[i - 1]) == 0 || all[i][0] == '\0')
			uniq = 0;
	CHECK(uniq, "%d references from two stores all distinct", n);
	CHECK_STR(all[n - 1], "TWO-2026-000080", "and none skipped");
	db_close(two[0]);
	db_close(two[1]);
}

static int mig_rows;

static void
mig_count(const struct db_enquiry *e, void *arg)
{
	const char **first = arg;

	if (*first == NULL && e->reference)
		*first = e->kind;
	mig_rows++;
}

/* an sqlite register moved into an empty postgresql database: every row,
 * the numbering carried on; a second move does nothing; a database with
 * a register of its own takes none */
static void
test_migrate(const char *dir, const char *url, const char *busy_url)
{
	char path[256], err[256], ref[64], act[32], who[320];
	char tok[DB_TOKEN_LEN + 1];
	struct db_enquiry e;
	struct db *from, *to;
	long long rows = -1, when;
	const char *first = NULL;
	int i, rc;

	snprintf(path, sizeof(path), "%s/move.db", dir);
	from = db_open(path, err, sizeof(err));
	to = db_open(url, err, sizeof(err));
	CHECK(from != NULL && to != NULL, "an sqlite register and an empty "
	    "postgresql database");
	if (from == NULL || to == NULL)
		return;
	memset(&e, 0, sizeof(e));
	db_begin(from);
	for (i = 0; i < 30; i++) {
		db_ref_next(from, "ENQ", 2026, ref, sizeof(ref));
		e.reference = ref;
		e.time = 100 + i;
		e.sender = "jane@example.org";
		e.enquiry = "enquiries@rmet.org";
		e.subject = "it's \"quoted\"";
		e.kind = i == 0 ? NULL : DB_KIND_NEW;
		e.ack = "sent";
		db_enquiry_add(from, &e);
	}
	db_ack_set(from, "jane@example.org", "enquiries@rmet.org", 129);
	db_autoreply_allow(from, "jane@example.org", time(NULL), 5);
	CHECK(db_commit(from) == 0, "30 enquiries in sqlite");
	db_token_new(from, "l@x.org", "subscribe", "bob@example.org",
	    time(NULL), time(NULL) + 600, tok, sizeof(tok));
	db_reply_allowed(from, "bob@example.org", "help", time(NULL), 600);

	rc = db_migrate(from, to, 1000, &rows, err, sizeof(err));
	CHECK(rc == 1, "moved: %s", rc == 1 ? "" : err);
	/* 30 enquiries, 1 counter, 1 ack, 1 autoreply, 1 token, 1 reply */
	CHECK(rows == 35, "every row moved: %lld", rows);
	mig_rows = 0;
	CHECK(db_list(to, 100, mig_count, &first) == 0 && mig_rows == 30,
	    "30 enquiries in postgresql: %d", mig_rows);
	db_begin(to);
	CHECK(db_ack_last(to, "jane@example.org", "enquiries@rmet.org",
	    &when) == 1 && when == 129, "the ack time moved");
	CHECK(db_autoreply_allow(to, "jane@example.org", time(NULL), 1) == 0,
	    "the hour's automatic replies moved");
	db_ref_next(to, "ENQ", 2026, ref, sizeof(ref));
	CHECK_STR(ref, "ENQ-2026-000031", "the numbering carries on");
	db_rollback(to);
	CHECK(db_token_get(to, "l@x.org", tok, time(NULL), act, sizeof(act),
	    who, sizeof(who)) == 1 && strcmp(who, "bob@example.org") == 0,
	    "a list token moved");
	CHECK(db_reply_allowed(to, "bob@example.org", "help", time(NULL),
	    600) == 0, "a list reply time moved");

	rc = db_migrate(from, to, 2000, &rows, err, sizeof(err));
	CHECK(rc == 0 && rows == 0, "a second move does nothing: %s", err);
	mig_rows = 0;
	CHECK(db_list(to, 100, mig_count, &first) == 0 && mig_rows == 30,
	    "still 30 enquiries: %d", mig_rows);
	db_close(to);

	to = db_open(busy_url, err, sizeof(err));
	rc = to ? db_migrate(from, to, 1000, &rows, err, sizeof(err)) : -2;
	CHECK(rc == -1, "a database with a register of its own takes none: "
	    "%s", err);
	db_close(to);
	rc = db_migrate(from, from, 1000, &rows, err, sizeof(err));
	CHECK(rc == -1, "sqlite to sqlite is refused: %s", err);
	db_close(from);
}

int
main(void)
{
	char dir[] = "/tmp/test_db.XXXXXX", path[256], ref[64], err[256];
	const char *url = getenv("TEST_DB_URL");
	const char *target;
	char all[THREADS * PER][64];
	pthread_t th[THREADS];
	struct db_enquiry e;
	struct db *db;
	long long when;
	int i, t, uniq = 1;

	log_init("test_db", 1);
	log_setlevel(LOG_LVL_ERR);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/enquiries.db", dir);
	target = url ? url : path;
	printf("# store: %s\n", url ? "postgresql" : "sqlite");
	db = db_open(target, err, sizeof(err));
	CHECK(db != NULL, "open %s", err);
	if (db == NULL)
		return 1;

	/* 1. first references of a year, and per prefix */
	db_begin(db);
	CHECK(db_ref_next(db, "ENQ", 2026, ref, sizeof(ref)) == 0, "alloc");
	CHECK_STR(ref, "ENQ-2026-000001", "first reference of the year");
	db_ref_next(db, "ENQ", 2026, ref, sizeof(ref));
	CHECK_STR(ref, "ENQ-2026-000002", "second reference");
	db_ref_next(db, "VIS", 2026, ref, sizeof(ref));
	CHECK_STR(ref, "VIS-2026-000001", "each prefix counts alone");
	db_ref_next(db, "ENQ", 2027, ref, sizeof(ref));
	CHECK_STR(ref, "ENQ-2027-000001", "a new year starts again");
	CHECK(db_commit(db) == 0, "commit");

	/* 2. a rolled-back allocation is given again; nothing half-kept */
	db_begin(db);
	db_ref_next(db, "ENQ", 2026, ref, sizeof(ref));
	CHECK_STR(ref, "ENQ-2026-000003", "third");
	db_rollback(db);
	db_begin(db);
	db_ref_next(db, "ENQ", 2026, ref, sizeof(ref));
	CHECK_STR(ref, "ENQ-2026-000003", "after rollback the same again");
	CHECK(db_ref_next(db, "ENQ", 2026, ref, 8) == -1,
	    "too small a buffer is an error");
	db_commit(db);

	/* 3. durable: a reopened database carries on */
	db_close(db);
	db = db_open(target, err, sizeof(err));
	CHECK(db != NULL, "reopen %s", err);
	db_begin(db);
	db_ref_next(db, "ENQ", 2026, ref, sizeof(ref));
	CHECK_STR(ref, "ENQ-2026-000005", "monotonic across reopen");
	db_commit(db);

	/* 4. threads: every reference unique */
	shared = db;
	for (t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, alloc_many, (void *)(long)t);
	for (t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	for (t = 0; t < THREADS; t++)
		for (i = 0; i < PER; i++)
			strcpy(all[t * PER + i], refs[t][i]);
	qsort(all, THREADS * PER, sizeof(all[0]), ref_cmp);
	for (i = 1; i < THREADS * PER; i++)
		if (strcmp(all[i], all[i - 1]) == 0 || all[i][0] == '\0')
			uniq = 0;
	CHECK(uniq, "%d references from %d threads all unique", THREADS * PER,
	    THREADS);
	CHECK_STR(all[THREADS * PER - 1], "ENQ-2026-000205",
	    "no gaps under threads");

	/* 5. ack times and the log */
	db_begin(db);
	CHECK(db_ack_last(db, "jane@example.org", "enquiries@rmet.org",
	    &when) == 0, "no ack yet");
	db_ack_set(db, "jane@example.org", "enquiries@rmet.org", 1000);
	db_ack_set(db, "jane@example.org", "enquiries@rmet.org", 2000);
	CHECK(db_ack_last(db, "jane@example.org", "enquiries@rmet.org",
	    &when) == 1 && when == 2000, "last ack time kept");
	CHECK(db_ack_last(db, "jane@example.org", "other@rmet.org",
	    &when) == 0, "ack times are per enquiry address");
	memset(&e, 0, sizeof(e));
	e.reference = "ENQ-2026-000202";
	e.time = 1;
	e.sender = "jane@example.org";
	e.subject = "hello";
	e.message_id = "<m1@example.org>";
	e.ack = "sent";
	db_enquiry_add(db, &e);
	e.reference = "ENQ-2026-000203";
	e.message_id = "<m2@example.org>";
	db_enquiry_add(db, &e);
	CHECK(db_find_msgid(db, "<m1@example.org>", "jane@example.org", ref,
	    sizeof(ref)) == 1, "found by message-id");
	CHECK_STR(ref, "ENQ-2026-000202", "message-id gives its reference");
	CHECK(db_find_msgid(db, "<m1@example.org>", "bob@example.org", ref,
	    sizeof(ref)) == 0, "another sender's message-id is not ours");
	CHECK(db_ref_known(db, "ENQ-2026-000203") == 1, "reference known");
	CHECK(db_ref_known(db, "ENQ-2026-999999") == 0, "reference unknown");
	db_commit(db);
	/* the spool sweep asks for the very transaction, not the reference:
	 * a follow-up reuses its enquiry's reference */
	CHECK(db_ack_committed(db, "ENQ-2026-000202", "jane@example.org", 1) ==
	    1, "committed acknowledgement found by reference, sender, time");
	CHECK(db_ack_committed(db, "ENQ-2026-000202", "jane@example.org", 2) ==
	    0, "same reference, another time: not committed");
	CHECK(db_ack_committed(db, "ENQ-2026-000202", "bob@example.org", 1) ==
	    0, "same reference, another sender: not committed");
	CHECK(db_list(db, 10, count, NULL) == 0 && listed == 2, "list %d",
	    listed);
	test_list(db);
	db_close(db);

	test_two(target);
	test_cases(dir, getenv("TEST_DB_URL_OLD"));
	if (getenv("TEST_DB_URL_MOVE") != NULL && url != NULL)
		test_migrate(dir, getenv("TEST_DB_URL_MOVE"), url);

	/* 6. an unwritable place is an error, not a crash */
	CHECK(db_open("/nonexistent/dir/x.db", err, sizeof(err)) == NULL,
	    "open in a missing directory fails: %s", err);
	/* 7. an unreachable server is an outage: the store opens, every
	 * transaction fails within the timeout, and says why once */
	db = db_open_pool("postgresql:///none?host=/nonexistent", 2, 1, err,
	    sizeof(err));
	CHECK(db != NULL, "an unreachable postgresql opens as an outage: %s",
	    db ? "" : err);
	if (db != NULL) {
		CHECK(db_unavailable(db) == 1, "unavailable");
		CHECK(db_begin(db) == -1, "a transaction cannot begin: %s",
		    db_errmsg(db));
		CHECK(db_token_use(db, "l@x.org", "t") == -1,
		    "nor a statement run");
		db_close(db);
	}

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		return 1;
	return UNIT_DONE();
}

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
	CHECK(raw_int(path, "PRAGMA user_version") == DB_SCHEMA_VERSION,
	    "upgraded: user_version %d", DB_SCHEMA_VERSION);
	CHECK(raw_int(path, "SELECT count(*) FROM enq_case WHERE reference = "
	    "'ENQ-2026-000007' AND sender = 'old@example.org' AND status = "
	    "'new' AND opened = 5 AND waiting_since = 5") == 1,
	    "upgraded from schema 0: the old row is a case");
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
	CHECK(url || (raw_int(path, "PRAGMA user_version") == 2 &&
	    raw_int(path, "SELECT count(*) FROM enq_case") == 1),
	    "reopened: version 2, one case (the milter's own db_case_open "
	    "was not called here)");
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

/*
 * schema 2: the case register
 */

/* a copy of a file; 0 or -1 */
static int
copy_file(const char *from, const char *to)
{
	char buf[8192];
	FILE *in, *out;
	size_t n;
	int rc = 0;

	if ((in = fopen(from, "rb")) == NULL)
		return -1;
	if ((out = fopen(to, "wb")) == NULL) {
		fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	fclose(in);
	if (fclose(out) != 0)
		rc = -1;
	return rc;
}

/* one text from a query on a raw connection, "" when none */
static void
raw_text(const char *path, const char *sql, char *out, size_t outsz)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	const char *v;

	out[0] = '\0';
	if (sqlite3_open(path, &h) != SQLITE_OK)
		return;
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    (v = (const char *)sqlite3_column_text(st, 0)) != NULL)
			snprintf(out, outsz, "%s", v);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
}

/* the register the schema-1 milter wrote (tests/fixtures/enquiries-v1.db,
 * made by make-enquiries-v1.sh), migrated in a copy */
static void
test_fixture(const char *dir)
{
	char fixture[512], path[256], err[512], ref[64], buf[256];
	const char *top = getenv("TOP");
	struct db *db;
	long long jane_last;

	snprintf(fixture, sizeof(fixture), "%s/tests/fixtures/enquiries-v1.db",
	    top ? top : ".");
	snprintf(path, sizeof(path), "%s/v1.db", dir);
	CHECK(copy_file(fixture, path) == 0, "a copy of %s", fixture);
	CHECK(raw_int(path, "PRAGMA user_version") == 1,
	    "the fixture is of schema 1");
	jane_last = raw_int(path, "SELECT max(time) FROM enquiry WHERE "
	    "reference = 'ENQ-2026-000001' AND kind <> 'automatic'");
	db = db_open(path, err, sizeof(err));
	CHECK(db != NULL, "the schema-1 register opens: %s", db ? "" : err);
	if (db == NULL)
		return;
	CHECK(raw_int(path, "PRAGMA user_version") == 2, "migrated to 2");
	CHECK(raw_int(path, "SELECT count(*) FROM enquiry") == 9,
	    "all nine messages kept");
	CHECK(raw_int(path, "SELECT count(*) FROM enq_case") == 4,
	    "four cases: the two automatic markers are none");
	raw_text(path, "SELECT group_concat(reference, ' ') FROM (SELECT "
	    "reference FROM enq_case ORDER BY reference)", buf, sizeof(buf));
	CHECK_STR(buf, "ADM-2026-000001 ENQ-2026-000001 ENQ-2026-000002 "
	    "ENQ-2026-000003", "the cases");
	raw_text(path, "SELECT enquiry || '|' || category || '|' || sender || "
	    "'|' || subject || '|' || status FROM enq_case WHERE reference = "
	    "'ENQ-2026-000001'", buf, sizeof(buf));
	CHECK_STR(buf, "enquiries@rmet.org|visit|jane.t@example.org|"
	    "A visit in July|new", "jane's case from her first message");
	CHECK(raw_int(path, "SELECT waiting_since FROM enq_case WHERE "
	    "reference = 'ENQ-2026-000001'") == jane_last && jane_last > 0,
	    "waiting since her follow-up, not the out-of-office");
	raw_text(path, "SELECT group_concat(what, ' ') FROM (SELECT what FROM "
	    "case_event WHERE reference = 'ENQ-2026-000001' ORDER BY id)", buf,
	    sizeof(buf));
	CHECK_STR(buf, "opened message", "her history: opened, a message");
	raw_text(path, "SELECT sender || '|' || subject FROM enq_case WHERE "
	    "reference = 'ENQ-2026-000002'", buf, sizeof(buf));
	CHECK_STR(buf, "forms+9b1e@forms.example|Complaint about the \"late\" "
	    "bus, Year 8", "the form's case keeps its envelope sender (schema "
	    "1 kept no From:)");
	CHECK(raw_int(path, "SELECT count(*) FROM enq_case WHERE first_answer "
	    "IS NOT NULL OR status <> 'new'") == 0,
	    "nothing says they were answered: all new");
	raw_text(path, "SELECT group_concat(name, ' ') FROM (SELECT name FROM "
	    "pragma_table_info('enquiry') WHERE name IN ('sender_name', "
	    "'from_addr', 'size') ORDER BY name)", buf, sizeof(buf));
	CHECK_STR(buf, "from_addr sender_name size", "the message columns of "
	    "schema 2");
	/* the milter's questions work on the migrated rows */
	db_begin(db);
	CHECK(db_case_by_msgid(db, "<jane.2@example.org>", ref,
	    sizeof(ref)) == 1, "a migrated follow-up found by its message-id");
	CHECK_STR(ref, "ENQ-2026-000001", "its case");
	CHECK(db_case_by_msgid(db, "<sam.1@example.com>", ref,
	    sizeof(ref)) == 1, "any enquiry address: admissions too");
	CHECK_STR(ref, "ADM-2026-000001", "sam's case");
	CHECK(db_case_by_msgid(db, "<form.1@forms.example>", ref,
	    sizeof(ref)) == 0, "a message with an automatic marker is no case");
	db_ref_next(db, "ENQ", 2026, ref, sizeof(ref));
	CHECK_STR(ref, "ENQ-2026-000004", "the sequence carries on");
	CHECK(db_case_answered(db, "ENQ-2026-000001", "head@rmet.org",
	    jane_last + 60) == 1, "a migrated case can be answered");
	db_rollback(db);
	db_close(db);
}

/* a database of a newer schema is refused, names both versions, and is
 * left as it was */
static void
test_newer(const char *dir)
{
	char path[256], err[512], want[64];
	struct db *db;
	sqlite3 *h;

	snprintf(path, sizeof(path), "%s/newer.db", dir);
	CHECK(sqlite3_open(path, &h) == SQLITE_OK && sqlite3_exec(h,
	    "CREATE TABLE future(x); PRAGMA user_version = 3", NULL, NULL,
	    NULL) == SQLITE_OK, "a database of schema 3");
	sqlite3_close(h);
	db = db_open(path, err, sizeof(err));
	CHECK(db == NULL, "refused");
	db_close(db);
	snprintf(want, sizeof(want), "schema version 3, newer than this "
	    "program's %d", DB_SCHEMA_VERSION);
	CHECK(strstr(err, want) != NULL && strstr(err, path) != NULL,
	    "the error names the file and both versions: %s", err);
	CHECK(raw_int(path, "PRAGMA user_version") == 3 && raw_int(path,
	    "SELECT count(*) FROM sqlite_master WHERE name = 'enq_case'") == 0,
	    "and nothing was written");
}

static char seen[4096];

static void
seen_case(const struct db_case *c, void *arg)
{
	(void)arg;
	if (seen[0])
		strncat(seen, " ", sizeof(seen) - strlen(seen) - 1);
	strncat(seen, c->reference, sizeof(seen) - strlen(seen) - 1);
}

/* the references db_cases lists for f, or "(error)" when it fails, so
 * an expected empty list cannot pass on an error */
static const char *
cases_listed(struct db *db, const struct db_case_filter *f)
{
	seen[0] = '\0';
	return db_cases(db, f, seen_case, NULL) == 0 ? seen : "(error)";
}

static struct db_case got;
static char got_status[16], got_sender[64];

static void
get_case(const struct db_case *c, void *arg)
{
	(void)arg;
	got = *c;
	snprintf(got_status, sizeof(got_status), "%s", c->status);
	snprintf(got_sender, sizeof(got_sender), "%s", c->sender ? c->sender :
	    "(null)");
	got.status = got_status;
	got.sender = got_sender;
	got.reference = got.enquiry = got.category = got.sender_name =
	    got.subject = NULL;
}

static void
seen_event(const struct db_event *ev, void *arg)
{
	(void)arg;
	if (seen[0])
		strncat(seen, " ", sizeof(seen) - strlen(seen) - 1);
	strncat(seen, ev->what, sizeof(seen) - strlen(seen) - 1);
	if (ev->actor) {
		strncat(seen, ":", sizeof(seen) - strlen(seen) - 1);
		strncat(seen, ev->actor, sizeof(seen) - strlen(seen) - 1);
	}
}

static long long stat_n, stat_answered;

static void
count_stat(const struct db_stat_row *r, void *arg)
{
	(void)arg;
	stat_n++;
	if (r->first_answer)
		stat_answered++;
}

/* a case of sender opened at when, as the milter records it */
static int
open_case(struct db *db, const char *ref, const char *sender,
    const char *subject, const char *category, long long when)
{
	struct db_case_new c = { ref, "enquiries@rmet.org", category, sender,
	    "A Name", subject, when };
	struct db_enquiry e;

	memset(&e, 0, sizeof(e));
	e.reference = ref;
	e.time = when;
	e.enquiry = "enquiries@rmet.org";
	e.sender = sender;
	e.from_addr = sender;
	e.sender_name = "A Name";
	e.subject = subject;
	e.category = category;
	e.kind = DB_KIND_NEW;
	e.orig_msgid = "<x@y>";
	e.size = 1234;
	return db_enquiry_add(db, &e) == 0 ? db_case_open(db, &c) : -1;
}

/* the milter's calls and the commands', on the store target names */
static void
test_register(const char *target)
{
	char err[512], ref[64];
	struct db_case_filter f;
	struct db_enquiry e;
	struct db *db;

	if ((db = db_open(target, err, sizeof(err))) == NULL) {
		CHECK(0, "open %s", err);
		return;
	}
	db_begin(db);
	CHECK(open_case(db, "ENQ-2026-000001", "jane@example.org",
	    "A visit in July", "visit", 1000) == 1, "a case opened");
	CHECK(open_case(db, "ENQ-2026-000001", "x@example.org", "again",
	    "visit", 1001) == 0, "the same reference again opens nothing");
	CHECK(open_case(db, "ENQ-2026-000002", "bob@example.org",
	    "100% sure_thing", "general", 2000) == 1, "a second case");
	CHECK(open_case(db, "ENQ-2026-000003", "zoe@example.org",
	    "Uniform", "general", 3000) == 1, "a third case");
	memset(&e, 0, sizeof(e));
	e.reference = "ENQ-2026-000001";
	e.time = 1500;
	e.enquiry = "enquiries@rmet.org";
	e.sender = "jane@example.org";
	e.ack_msgid = "<ack.1@milter.test>";
	e.message_id = "<copy.1@milter.test>";
	e.kind = DB_KIND_FOLLOWUP;
	db_enquiry_add(db, &e);
	CHECK(db_case_by_msgid(db, "<ack.1@milter.test>", ref,
	    sizeof(ref)) == 1, "found by the acknowledgement's message-id");
	CHECK_STR(ref, "ENQ-2026-000001", "jane's");
	CHECK(db_case_by_msgid(db, "<copy.1@milter.test>", ref,
	    sizeof(ref)) == 1, "found by the routed copy's message-id");
	CHECK(db_case_by_msgid(db, "<none@x>", ref, sizeof(ref)) == 0 &&
	    db_case_by_msgid(db, "", ref, sizeof(ref)) == 0,
	    "an unknown or empty message-id names no case");
	/* a follow-up while new: still waiting since the first */
	CHECK(db_case_inbound(db, "ENQ-2026-000001", "jane@example.org",
	    "more", 1500) == 1, "a follow-up recorded");
	CHECK(db_case_inbound(db, "ENQ-2026-999999", "jane@example.org",
	    "more", 1500) == 0, "a follow-up to no case: 0");
	CHECK(db_case_answered(db, "ENQ-2026-999999", "head@rmet.org",
	    1600) == 0, "an answer to no case: 0");
	CHECK(db_commit(db) == 0, "commit");
	CHECK(db_case_get(db, "ENQ-2026-000001", get_case, NULL) == 1 &&
	    strcmp(got.status, "new") == 0 && got.waiting_since == 1000,
	    "new and waiting since it opened (%lld)", got.waiting_since);

	/* answered; the enquirer writes again; answered again */
	db_begin(db);
	CHECK(db_case_answered(db, "ENQ-2026-000001", "head@rmet.org",
	    2500) == 1, "a staff reply");
	CHECK(db_case_inbound(db, "ENQ-2026-000001", "jane@example.org",
	    "thanks, but", 2600) == 1, "her reply");
	db_commit(db);
	CHECK(db_case_get(db, "ENQ-2026-000001", get_case, NULL) == 1 &&
	    strcmp(got.status, "new") == 0 && got.waiting_since == 2600 &&
	    got.first_answer == 2500, "new again, waiting since her reply, "
	    "first answer kept");
	db_begin(db);
	db_case_answered(db, "ENQ-2026-000001", "visits@rmet.org", 2700);
	db_commit(db);
	CHECK(db_case_get(db, "ENQ-2026-000001", get_case, NULL) == 1 &&
	    strcmp(got.status, "answered") == 0 && got.first_answer == 2500 &&
	    got.answered == 2700, "answered: first answer once, last answer");

	/* the commands */
	CHECK(db_case_close(db, "ENQ-2026-999999", "enquiries", NULL, 2800) ==
	    DB_CASE_UNKNOWN, "close: unknown reference");
	CHECK(db_case_close(db, "ENQ-2026-000001", "enquiries", "done", 2800) ==
	    DB_CASE_DONE, "closed with a note");
	CHECK(db_case_close(db, "ENQ-2026-000001", "enquiries", "again",
	    2801) == DB_CASE_UNCHANGED, "closing a closed case changes "
	    "nothing");
	db_begin(db);
	CHECK(db_case_answered(db, "ENQ-2026-000001", "head@rmet.org",
	    2850) == 1, "a late staff reply to a closed case");
	db_commit(db);
	CHECK(db_case_get(db, "ENQ-2026-000001", get_case, NULL) == 1 &&
	    strcmp(got.status, "closed") == 0 && got.closed == 2800,
	    "stays closed");
	db_begin(db);
	CHECK(db_case_inbound(db, "ENQ-2026-000001", "jane@example.org",
	    "one more thing", 2900) == 1, "the enquirer writes to a closed "
	    "case");
	db_commit(db);
	CHECK(db_case_get(db, "ENQ-2026-000001", get_case, NULL) == 1 &&
	    strcmp(got.status, "new") == 0 && got.closed == 0 &&
	    got.waiting_since == 2900, "reopened by her, waiting since");
	CHECK(db_case_reopen(db, "ENQ-2026-000001", "enquiries", 2950) ==
	    DB_CASE_UNCHANGED, "reopening a new case changes nothing");
	CHECK(db_case_note(db, "ENQ-2026-000001", "enquiries", "phoned her",
	    2960) == DB_CASE_DONE, "a note");
	CHECK(db_case_note(db, "ENQ-2026-999999", "enquiries", "x", 2960) ==
	    DB_CASE_UNKNOWN, "a note on no case");
	CHECK(db_case_close(db, "ENQ-2026-000003", "enquiries", NULL, 3100) ==
	    DB_CASE_DONE && db_case_reopen(db, "ENQ-2026-000003",
	    "enquiries", 3200) == DB_CASE_DONE, "closed and reopened by "
	    "command");
	seen[0] = '\0';
	CHECK(db_case_history(db, "ENQ-2026-000001", seen_event, NULL) == 0,
	    "history");
	CHECK_STR(seen, "opened:jane@example.org message:jane@example.org "
	    "answered:head@rmet.org message:jane@example.org "
	    "answered:visits@rmet.org closed:enquiries note:enquiries "
	    "answered:head@rmet.org reopened:jane@example.org "
	    "message:jane@example.org note:enquiries", "every step in order");

	/* lists */
	memset(&f, 0, sizeof(f));
	seen[0] = '\0';
	CHECK(db_cases(db, &f, seen_case, NULL) == 0, "list all");
	CHECK_STR(seen, "ENQ-2026-000001 ENQ-2026-000002 ENQ-2026-000003",
	    "all, oldest first");
	db_case_close(db, "ENQ-2026-000002", "enquiries", NULL, 3300);
	f.open = 1;
	CHECK_STR(cases_listed(db, &f), "ENQ-2026-000001 ENQ-2026-000003",
	    "--open");
	f.open = 0;
	f.closed = 1;
	CHECK_STR(cases_listed(db, &f), "ENQ-2026-000002", "--closed");
	memset(&f, 0, sizeof(f));
	f.overdue = 1;
	f.overdue_before = 3000;
	CHECK_STR(cases_listed(db, &f), "ENQ-2026-000001", "--overdue: new, "
	    "waiting since before the cut");
	f.overdue_before = 2900;
	CHECK_STR(cases_listed(db, &f), "", "--overdue: waiting since exactly "
	    "the cut is not");
	memset(&f, 0, sizeof(f));
	f.since = 2000;
	f.category = "general";
	CHECK_STR(cases_listed(db, &f), "ENQ-2026-000002 ENQ-2026-000003",
	    "--since and --category");
	memset(&f, 0, sizeof(f));
	f.search = "JANE@";
	CHECK_STR(cases_listed(db, &f), "ENQ-2026-000001", "--search a sender, "
	    "any case");
	f.search = "100%";
	CHECK_STR(cases_listed(db, &f), "ENQ-2026-000002", "--search with a "
	    "literal %%");
	f.search = "jan_@";
	CHECK_STR(cases_listed(db, &f), "", "--search: _ is no wildcard");
	f.search = "2026-000003";
	CHECK_STR(cases_listed(db, &f), "ENQ-2026-000003", "--search a "
	    "reference");
	f.search = "a name";
	f.limit = 2;
	CHECK_STR(cases_listed(db, &f), "ENQ-2026-000001 ENQ-2026-000002",
	    "--search a display name, at most the limit");

	/* digests: claimed once */
	db_begin(db);
	CHECK(db_digest_claim(db, "2026-12-02", 5000) == 1, "a day claimed");
	CHECK(db_digest_claim(db, "2026-12-02", 5001) == 0, "not twice");
	db_rollback(db);
	CHECK(db_digest_claimed(db, "2026-12-02") == 0, "a rolled back claim "
	    "is none");
	db_begin(db);
	db_digest_claim(db, "2026-12-02", 5000);
	db_commit(db);
	CHECK(db_digest_claimed(db, "2026-12-02") == 1 &&
	    db_digest_claimed(db, "2026-12-03") == 0, "claimed after commit, "
	    "that day only");
	long long last = 0;
	CHECK(db_digest_last(db, &last) == 1 && last == 5000, "the last "
	    "digest's time");
	CHECK(db_digest_committed(db, "2026-12-02", 5000) == 1 &&
	    db_digest_committed(db, "2026-12-02", 4999) == 0 &&
	    db_digest_committed(db, "2026-12-01", 5000) == 0, "committed: "
	    "that day with that spool time only");
	CHECK(db_digest_claim_now(db, "2026-12-03", 6000) == 1 &&
	    db_digest_claim_now(db, "2026-12-03", 6001) == 0 &&
	    db_digest_committed(db, "2026-12-03", 6000) == 1, "claimed in a "
	    "transaction of its own, once");
	db_begin(db);
	CHECK(db_case_sender(db, "ENQ-2026-000002", ref, sizeof(ref)) == 1,
	    "the enquirer of a case");
	CHECK_STR(ref, "bob@example.org", "bob's");
	CHECK(db_case_sender(db, "ENQ-2026-999999", ref, sizeof(ref)) == 0,
	    "no enquirer for no case");
	CHECK(db_case_sender(db, "ENQ-2026-000002", ref, 4) == -1,
	    "too small a buffer is an error");
	db_rollback(db);
	db_close(db);
}

/* what a file holds: 1 when needle is in it */
static int
file_has(const char *path, const char *needle)
{
	char buf[65536 + 256];
	size_t n, keep = 0, nl = strlen(needle);
	FILE *fp;
	int found = 0;

	if ((fp = fopen(path, "rb")) == NULL)
		return 0;
	while (!found && (n = fread(buf + keep, 1, 65536, fp)) > 0) {
		n += keep;
		if (memmem(buf, n, needle, nl) != NULL)
			found = 1;
		keep = n < nl ? n : nl - 1;
		memmove(buf, buf + n - keep, keep);
	}
	fclose(fp);
	return found;
}

static int exported[8];

static void
count_export(const struct db_export_row *r, void *arg)
{
	static const char *const t[] = { "case", "message", "event",
	    "acknowledgement", "auto_reply", "list_reply", "list_token" };
	size_t i;

	(void)arg;
	for (i = 0; i < 7; i++)
		if (strcmp(r->table, t[i]) == 0)
			exported[i]++;
}

/* export, erasure and retention: nothing personal left in the files
 * (sqlite's: on postgresql, url, the rows alone are checked) */
static void
test_purge(const char *dir, const char *url)
{
	char path[256], wal[300], err[512], tok[DB_TOKEN_LEN + 1];
	struct db_purge_count pc;
	struct db *db;
	long long now = time(NULL);

	snprintf(path, sizeof(path), "%s/purge.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if ((db = db_open(url ? url : path, err, sizeof(err))) == NULL) {
		CHECK(0, "open %s", err);
		return;
	}
	db_begin(db);
	open_case(db, "ENQ-2026-000001", "erase.me@example.org",
	    "my private matter", "general", 1000);
	open_case(db, "ENQ-2026-000002", "erase.me@example.org",
	    "another matter", "visit", 2000);
	open_case(db, "ENQ-2026-000003", "keep@example.org", "kept", "visit",
	    3000);
	open_case(db, "ENQ-2026-000004", "old@example.org", "long closed",
	    "visit", 100);
	db_ack_set(db, "erase.me@example.org", "enquiries@rmet.org", 1000);
	/* retention: an old acknowledgement time, old automatic mail */
	db_ack_set(db, "old@example.org", "enquiries@rmet.org", 250);
	{
		struct db_enquiry a;

		memset(&a, 0, sizeof(a));
		a.reference = "AUTO-ENQ-2026-000001";
		a.time = 250;
		a.enquiry = "enquiries@rmet.org";
		a.sender = "bulk@example.org";
		a.kind = DB_KIND_AUTOMATIC;
		db_enquiry_add(db, &a);
	}
	db_autoreply_allow(db, "erase.me@example.org", now, 5);
	db_case_inbound(db, "ENQ-2026-000003", "erase.me@example.org",
	    "writing in keep's case", 3500);
	db_case_answered(db, "ENQ-2026-000001", "head@rmet.org", 1200);
	db_commit(db);
	db_token_new(db, "l@rmet.org", "subscribe", "erase.me@example.org",
	    now, now + 60, tok, sizeof(tok));
	db_reply_allowed(db, "erase.me@example.org", "help", now, 60);
	db_case_close(db, "ENQ-2026-000004", "enquiries", NULL, 200);

	CHECK(db_export_address(db, "Erase.Me@example.org", count_export,
	    NULL) == 0, "export");
	CHECK(exported[0] == 2 && exported[1] == 2 && exported[2] == 4 &&
	    exported[3] == 1 && exported[4] == 1 && exported[5] == 1 &&
	    exported[6] == 1, "export: 2 cases, 2 messages, 4 events (her two "
	    "cases' and hers in another), an ack, an auto-reply, a list reply, "
	    "a token (%d %d %d %d %d %d %d)", exported[0], exported[1],
	    exported[2], exported[3], exported[4], exported[5], exported[6]);

	CHECK(db_purge_address(db, "ERASE.ME@example.org", 4000, &pc) == 0,
	    "erasure");
	CHECK(pc.cases == 2 && pc.messages == 2, "her two cases and their "
	    "messages (%lld, %lld)", pc.cases, pc.messages);
	if (url == NULL)
		CHECK(!file_has(path, "erase.me@example.org") &&
		    !file_has(wal, "erase.me@example.org"), "the address is "
		    "in neither the database nor its wal");
	if (url == NULL)
		CHECK(!file_has(path, "my private matter"), "nor her subject");
	if (url == NULL)
		CHECK(file_has(path, "keep@example.org"), "(the check can "
		    "see an address that stays)");
	CHECK(db_case_get(db, "ENQ-2026-000001", get_case, NULL) == 1 &&
	    strcmp(got.sender, "(null)") == 0 && got.purged == 4000 &&
	    strcmp(got.status, "closed") == 0 && got.first_answer == 1200 &&
	    got.opened == 1000, "the case row stays for the figures, closed, "
	    "without her");
	db_begin(db);
	CHECK(db_case_sender(db, "ENQ-2026-000001", err, sizeof(err)) == 0,
	    "a purged case has no enquirer");
	db_rollback(db);
	CHECK(db_case_note(db, "ENQ-2026-000001", "enquiries", "x", 4001) ==
	    DB_CASE_PURGED && db_case_reopen(db, "ENQ-2026-000001",
	    "enquiries", 4001) == DB_CASE_PURGED, "a purged case takes no "
	    "note and no reopening");
	stat_n = stat_answered = 0;
	CHECK(db_stats(db, 0, count_stat, NULL) == 0 && stat_n == 4 &&
	    stat_answered == 1, "stats still count the purged cases");
	memset(exported, 0, sizeof(exported));
	db_export_address(db, "erase.me@example.org", count_export, NULL);
	CHECK(exported[0] + exported[1] + exported[2] + exported[3] +
	    exported[4] + exported[5] + exported[6] == 0, "an export after "
	    "the erasure finds nothing");
	CHECK(db_purge_address(db, "", 4000, &pc) == -1, "no address, no "
	    "erasure");

	/* retention: closed before the cut only */
	CHECK(db_purge_expired(db, 150, 5000, &pc) == 0 && pc.cases == 0,
	    "retention: closed at 200, cut at 150: kept");
	if (url == NULL)
		CHECK(file_has(path, "bulk@example.org") ||
		    file_has(wal, "bulk@example.org"), "(automatic mail is in "
		    "the files before)");
	CHECK(db_purge_expired(db, 300, 5000, &pc) == 0 && pc.cases == 1 &&
	    pc.messages == 2, "retention: cut at 300: one case purged, its "
	    "message and the automatic one (%lld %lld)", pc.cases,
	    pc.messages);
	if (url == NULL)
		CHECK(!file_has(path, "old@example.org") && !file_has(wal,
		    "old@example.org") && !file_has(path, "long closed"),
		    "its sender (in the case and the ack times) and subject "
		    "are gone from both files");
	if (url == NULL)
		CHECK(!file_has(path, "bulk@example.org") &&
		    !file_has(wal, "bulk@example.org"), "automatic mail older "
		    "than the cut is gone");
	CHECK(db_case_get(db, "ENQ-2026-000003", get_case, NULL) == 1 &&
	    strcmp(got.sender, "keep@example.org") == 0 &&
	    strcmp(got.status, "new") == 0, "an open case is untouched");

	/* a reader in the way of the checkpoint: purged all the same, and
	 * told that the wal may still hold it */
	if (url == NULL) {
		sqlite3 *h;
		sqlite3_stmt *st = NULL;

		CHECK(sqlite3_open(path, &h) == SQLITE_OK && sqlite3_exec(h,
		    "BEGIN", NULL, NULL, NULL) == SQLITE_OK &&
		    sqlite3_prepare_v2(h, "SELECT count(*) FROM enq_case", -1,
		    &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW,
		    "a reader holds a snapshot");
		db_set_wait(db, 200);
		CHECK(db_purge_address(db, "keep@example.org", 6000, &pc) ==
		    0 && pc.cases == 1 && pc.wal_kept == 1, "erasure with a "
		    "reader in the way: done, the wal kept (%d)", pc.wal_kept);
		sqlite3_finalize(st);
		sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(h);
		CHECK(db_purge_address(db, "keep@example.org", 6001, &pc) ==
		    0 && pc.wal_kept == 0 && !file_has(wal,
		    "keep@example.org") && !file_has(path, "keep@example.org"),
		    "run again once the reader is gone: the wal is emptied "
		    "and the address is in neither file");
	}
	db_close(db);
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

/* a pool of one held by a transaction: another thread's wait for it
 * ends, at the timeout, in an error that says so */
static struct db *held_db;
static pthread_mutex_t held_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t held_cv = PTHREAD_COND_INITIALIZER;
static int held_state;	/* 1 holding, 2 let go */

static void *
hold_one(void *arg)
{
	(void)arg;
	if (db_begin(held_db) == -1)
		return NULL;
	pthread_mutex_lock(&held_mtx);
	held_state = 1;
	pthread_cond_broadcast(&held_cv);
	while (held_state != 2)
		pthread_cond_wait(&held_cv, &held_mtx);
	pthread_mutex_unlock(&held_mtx);
	db_rollback(held_db);
	return NULL;
}

static void
test_pool_wait(const char *target)
{
	char err[256];
	pthread_t th;
	int rc;

	if ((held_db = db_open_pool(target, 1, 1, err, sizeof(err))) == NULL) {
		CHECK(0, "a pool of one: %s", err);
		return;
	}
	pthread_create(&th, NULL, hold_one, NULL);
	pthread_mutex_lock(&held_mtx);
	while (held_state == 0)
		pthread_cond_wait(&held_cv, &held_mtx);
	pthread_mutex_unlock(&held_mtx);
	rc = db_begin(held_db);
	CHECK(rc == -1 && strstr(db_errmsg(held_db), "no connection free"),
	    "the only connection held: a second transaction gives up at the "
	    "timeout: %s", db_errmsg(held_db));
	if (rc == 0)
		db_rollback(held_db);
	pthread_mutex_lock(&held_mtx);
	held_state = 2;
	pthread_cond_broadcast(&held_cv);
	pthread_mutex_unlock(&held_mtx);
	pthread_join(th, NULL);
	CHECK(db_begin(held_db) == 0, "given back, it serves the next");
	db_rollback(held_db);
	db_close(held_db);
}

/* another store (another milter) holding a sender's lock: the wait for
 * it ends at the timeout (sqlite: the busy timeout on the write lock;
 * postgresql: statement_timeout on the address lock) */
static char lock_err[512];

static void *
lock_other(void *arg)
{
	struct db *b = arg;
	int rc;

	rc = db_begin(b);
	if (rc == 0) {
		rc = db_lock_address(b, "X@example.org");
		/* the lock may only be sent with what follows it */
		if (rc == 0)
			rc = db_ack_committed(b, "none", "x", 0) == -1 ? -1 : 0;
		snprintf(lock_err, sizeof(lock_err), "%s", db_errmsg(b));
		db_rollback(b);
	} else
		snprintf(lock_err, sizeof(lock_err), "%s", db_errmsg(b));
	return (void *)(long)rc;
}

static void
test_lock_wait(const char *target)
{
	struct db *a, *b;
	char err[256];
	pthread_t th;
	void *rc;

	a = db_open_pool(target, 1, 1, err, sizeof(err));
	b = db_open_pool(target, 1, 1, err, sizeof(err));
	CHECK(a != NULL && b != NULL, "two stores, timeout 1 s");
	if (a == NULL || b == NULL)
		return;
	CHECK(db_begin(a) == 0 && db_lock_address(a, "x@example.org") == 0 &&
	    db_ack_set(a, "x@example.org", "e@x.org", 1) == 0 &&
	    db_ack_committed(a, "none", "x", 0) == 0,
	    "one holds the sender's lock");
	pthread_create(&th, NULL, lock_other, b);
	pthread_join(th, &rc);
	CHECK((long)rc == -1, "the other gives up at the timeout: %s",
	    lock_err);
	db_rollback(a);
	pthread_create(&th, NULL, lock_other, b);
	pthread_join(th, &rc);
	CHECK((long)rc == 0, "and has it once it is free");
	db_close(a);
	db_close(b);
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
	test_pool_wait(target);
	test_lock_wait(target);
	test_cases(dir, getenv("TEST_DB_URL_OLD"));
	if (getenv("TEST_DB_URL_MOVE") != NULL && url != NULL)
		test_migrate(dir, getenv("TEST_DB_URL_MOVE"), url);
	/* the schema's migrations and the files' contents are sqlite's;
	 * the register's calls run on either store */
	if (url == NULL) {
		test_fixture(dir);
		test_newer(dir);
	}
	test_purge(dir, url ? getenv("TEST_DB_URL_PURGE") : NULL);
	snprintf(path, sizeof(path), "%s/register.db", dir);
	test_register(getenv("TEST_DB_URL_REG") && url ?
	    getenv("TEST_DB_URL_REG") : path);

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

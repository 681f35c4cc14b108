/* the sqlite engine beneath the store: one file in state-dir, wal and
 * synchronous=full, the schema created or upgraded at open */

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_driver.h"
#include "log.h"

struct db_drv_conn {
	sqlite3		*h;
	int		 rc;		/* of the last failed call */
};

struct db_drv_stmt {
	sqlite3_stmt		*st;
	struct db_drv_conn	*c;
};

static const char sqlite_ddl[] =
    "CREATE TABLE IF NOT EXISTS refseq ("
    " prefix TEXT NOT NULL, year INTEGER NOT NULL, last INTEGER NOT NULL,"
    " PRIMARY KEY(prefix, year));"
    "CREATE TABLE IF NOT EXISTS enquiry ("
    " id INTEGER PRIMARY KEY, reference TEXT NOT NULL, time INTEGER NOT NULL,"
    " queue_id TEXT, enquiry TEXT, sender TEXT, subject TEXT, category TEXT,"
    " message_id TEXT, recipients TEXT, ack TEXT);"
    "CREATE INDEX IF NOT EXISTS enquiry_ref ON enquiry(reference);"
    "CREATE INDEX IF NOT EXISTS enquiry_msgid ON enquiry(message_id);"
    "CREATE TABLE IF NOT EXISTS ack ("
    " sender TEXT NOT NULL, enquiry TEXT NOT NULL, last INTEGER NOT NULL,"
    " PRIMARY KEY(sender, enquiry));"
    /* automatic replies per address (auto-reply-limit): one row each,
     * kept for the hour they count in */
    "CREATE TABLE IF NOT EXISTS autoreply ("
    " address TEXT NOT NULL, time INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS autoreply_addr ON autoreply(address, time);"
    "CREATE INDEX IF NOT EXISTS autoreply_time ON autoreply(time);"
    /* mailing lists: confirmation tokens (single use, expiring) and the
     * times replies to LIST-request went out */
    "CREATE TABLE IF NOT EXISTS list_token ("
    " token TEXT PRIMARY KEY, list TEXT NOT NULL, action TEXT NOT NULL,"
    " address TEXT NOT NULL, created INTEGER NOT NULL,"
    " expires INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS list_reply ("
    " sender TEXT NOT NULL, key TEXT NOT NULL, last INTEGER NOT NULL,"
    " PRIMARY KEY(sender, key));";

/*
 * schema versions (PRAGMA user_version): 0 the first; 1 added what a
 * message is to its case, the message-ids a reply can name, and a tag
 * that was claimed but not honoured; 2 the case register: the From:
 * field's name and address and the size of each message, a row per case,
 * its history, and the digests sent. columns are added where missing and
 * the case rows built from the messages, so an older database is upgraded
 * in place, in one transaction.
 */
static const struct {
	int		 version;
	const char	*name;
	const char	*decl;
} db_enquiry_cols[] = {
	{ 1, "kind", "kind TEXT" },	/* new, follow-up, automatic */
	{ 1, "orig_msgid", "orig_msgid TEXT" },
	{ 1, "ack_msgid", "ack_msgid TEXT" },
	{ 1, "claimed", "claimed TEXT" },
	{ 2, "sender_name", "sender_name TEXT" },
	{ 2, "from_addr", "from_addr TEXT" },
	{ 2, "size", "size INTEGER" },
};
static const char db_index_v1[] =
    "CREATE INDEX IF NOT EXISTS enquiry_orig ON enquiry(orig_msgid);"
    "CREATE INDEX IF NOT EXISTS enquiry_ackid ON enquiry(ack_msgid);";

/* the case register. enq_case keeps a purged case's reference, category,
 * status and times, so the figures stay true without personal data */
static const char db_schema_v2[] =
    "CREATE TABLE IF NOT EXISTS enq_case ("
    " reference TEXT PRIMARY KEY, enquiry TEXT NOT NULL, category TEXT,"
    " opened INTEGER NOT NULL, sender TEXT, sender_name TEXT, subject TEXT,"
    " status TEXT NOT NULL, waiting_since INTEGER, first_answer INTEGER,"
    " answered INTEGER, closed INTEGER, purged INTEGER, search TEXT);"
    /* (opened, reference): a listing's order straight from the index;
     * on opened alone each run of equal times was sorted again */
    "CREATE INDEX IF NOT EXISTS enq_case_opened ON enq_case(opened,"
    " reference);"
    "CREATE INDEX IF NOT EXISTS enq_case_status ON enq_case(status,"
    " waiting_since);"
    "CREATE INDEX IF NOT EXISTS enq_case_sender ON enq_case(sender);"
    "CREATE INDEX IF NOT EXISTS enq_case_open ON enq_case(opened, reference)"
    " WHERE status <> 'closed';"
    "CREATE TABLE IF NOT EXISTS case_event ("
    " id INTEGER PRIMARY KEY, reference TEXT NOT NULL,"
    " time INTEGER NOT NULL, what TEXT NOT NULL, actor TEXT, text TEXT);"
    "CREATE INDEX IF NOT EXISTS case_event_ref ON case_event(reference,"
    " time);"
    "CREATE INDEX IF NOT EXISTS case_event_actor ON case_event(actor);"
    "CREATE TABLE IF NOT EXISTS digest ("
    " day TEXT PRIMARY KEY, spooled INTEGER NOT NULL);";

/* the cases of a database before version 2, from its messages: a case
 * per reference (automatic markers are none), opened by its first message
 * and waiting since its enquirer's last; nothing says whether anyone
 * answered, so every case starts new. its history: "opened", then a
 * "message" per follow-up */
static const char db_migrate_cases_v2[] =
    "INSERT INTO enq_case(reference, enquiry, category, opened, sender,"
    " sender_name, subject, status, waiting_since)"
    " SELECT e.reference, COALESCE(e.enquiry, ''), e.category, e.time,"
    " NULLIF(COALESCE(e.from_addr, e.sender), ''), e.sender_name,"
    " e.subject, 'new', COALESCE((SELECT max(x.time) FROM enquiry x"
    "  WHERE x.reference = e.reference"
    "  AND COALESCE(x.kind, 'new') <> 'automatic'), e.time)"
    " FROM enquiry e WHERE e.reference NOT LIKE 'AUTO-%'"
    " AND e.id = (SELECT min(y.id) FROM enquiry y"
    "  WHERE y.reference = e.reference)"
    " ON CONFLICT(reference) DO NOTHING;"
    "UPDATE enq_case SET search = lower(reference || ' ' ||"
    " COALESCE(subject, '') || ' ' || COALESCE(sender, '') || ' ' ||"
    " COALESCE(sender_name, '')) WHERE purged IS NULL;"
    "INSERT INTO case_event(reference, time, what, actor, text)"
    " SELECT e.reference, e.time, CASE WHEN e.id = (SELECT min(y.id)"
    "  FROM enquiry y WHERE y.reference = e.reference) THEN 'opened'"
    "  ELSE 'message' END,"
    " NULLIF(COALESCE(e.from_addr, e.sender), ''), e.subject"
    " FROM enquiry e WHERE e.reference NOT LIKE 'AUTO-%'"
    " AND (COALESCE(e.kind, 'new') <> 'automatic' OR e.id = (SELECT"
    "  min(y.id) FROM enquiry y WHERE y.reference = e.reference))"
    " ORDER BY e.id;";

static int
sqlite_fail(struct db_drv_conn *c, int rc)
{
	c->rc = rc;
	return -1;
}

static int
sqlite_exec(struct db_drv_conn *c, const char *sql)
{
	int rc;

	if ((rc = sqlite3_exec(c->h, sql, NULL, NULL, NULL)) != SQLITE_OK)
		return sqlite_fail(c, rc);
	return 0;
}

/* 1 when table enquiry has the column, 0 when not, -1 on error */
static int
sqlite_has_column(sqlite3 *h, const char *col)
{
	sqlite3_stmt *st;
	int rc, found = 0;

	if (sqlite3_prepare_v2(h, "SELECT 1 FROM pragma_table_info('enquiry') "
	    "WHERE name = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, col, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		found = 1;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : -1;
}

/* the schema version of the open database, -1 on error */
static int
sqlite_version(sqlite3 *h)
{
	sqlite3_stmt *st;
	int version = -1;

	if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return version;
}

/* bring an older schema up to DB_SCHEMA_VERSION in one transaction; a
 * newer one is refused, naming both versions (in err; else the error is
 * sqlite's) */
static int
sqlite_migrate(struct db_drv_conn *c, char *err, size_t errsz)
{
	char sql[160];
	size_t i;
	int n, version;

	/* up to date: nothing to write (readers open it too) */
	if ((version = sqlite_version(c->h)) == DB_SCHEMA_VERSION)
		return 0;
	if (version > DB_SCHEMA_VERSION) {
		snprintf(err, errsz, "the database is of schema version %d, "
		    "newer than this program's %d: refusing to use it (is an "
		    "older release running?)", version, DB_SCHEMA_VERSION);
		return -1;
	}
	if (sqlite_exec(c, "BEGIN IMMEDIATE") == -1)
		return -1;
	/* another program may have upgraded it while this one waited */
	if ((version = sqlite_version(c->h)) == -1)
		goto fail;
	if (version >= DB_SCHEMA_VERSION) {
		sqlite3_exec(c->h, "ROLLBACK", NULL, NULL, NULL);
		if (version == DB_SCHEMA_VERSION)
			return 0;
		snprintf(err, errsz, "the database is of schema version %d, "
		    "newer than this program's %d", version,
		    DB_SCHEMA_VERSION);
		return -1;
	}
	if (sqlite_exec(c, sqlite_ddl) == -1)
		goto fail;
	for (i = 0; i < sizeof(db_enquiry_cols) / sizeof(db_enquiry_cols[0]);
	    i++) {
		if ((n = sqlite_has_column(c->h, db_enquiry_cols[i].name)) ==
		    -1)
			goto fail;
		if (n == 1)
			continue;
		n = snprintf(sql, sizeof(sql), "ALTER TABLE enquiry ADD "
		    "COLUMN %s", db_enquiry_cols[i].decl);
		if (n < 0 || (size_t)n >= sizeof(sql) ||
		    sqlite_exec(c, sql) == -1)
			goto fail;
	}
	if (sqlite_exec(c, db_index_v1) == -1 ||
	    sqlite_exec(c, db_schema_v2) == -1)
		goto fail;
	if (version < 2 && sqlite_exec(c, db_migrate_cases_v2) == -1)
		goto fail;
	n = snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    DB_SCHEMA_VERSION);
	if (n < 0 || (size_t)n >= sizeof(sql) || sqlite_exec(c, sql) == -1 ||
	    sqlite_exec(c, "COMMIT") == -1)
		goto fail;
	if (version > 0)
		log_info("database upgraded from schema version %d to %d",
		    version, DB_SCHEMA_VERSION);
	return 0;
fail:
	snprintf(err, errsz, "%s", sqlite3_errmsg(c->h));
	sqlite3_exec(c->h, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static struct db_drv_conn *
sqlite_connect(const char *path, int timeout, char *err, size_t errsz)
{
	struct db_drv_conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &c->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s", c->h ? sqlite3_errmsg(c->h) :
		    "out of memory");
		sqlite3_close(c->h);
		free(c);
		return NULL;
	}
	sqlite3_busy_timeout(c->h, timeout * 1000);
	return c;
}

static void
sqlite_disconnect(struct db_drv_conn *c)
{
	if (c == NULL)
		return;
	sqlite3_close(c->h);
	free(c);
}

static int
sqlite_schema(struct db_drv_conn *c, char *err, size_t errsz)
{
	/* wal: readers (the enquiries command) never block the filter;
	 * synchronous=full: a committed reference survives power loss;
	 * secure_delete: a purged address is overwritten, not left in free
	 * pages */
	if (sqlite_exec(c, "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=FULL;PRAGMA secure_delete=ON;") == -1) {
		snprintf(err, errsz, "%s", sqlite3_errmsg(c->h));
		return -1;
	}
	return sqlite_migrate(c, err, errsz);
}

static struct db_drv_stmt *
sqlite_prepare(struct db_drv_conn *c, const char *sql)
{
	struct db_drv_stmt *s;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->c = c;
	if ((rc = sqlite3_prepare_v2(c->h, sql, -1, &s->st, NULL)) !=
	    SQLITE_OK) {
		sqlite_fail(c, rc);
		free(s);
		return NULL;
	}
	return s;
}

static void
sqlite_finalize(struct db_drv_stmt *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->st);
	free(s);
}

static void
sqlite_bind_text(struct db_drv_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s->st, i, v, -1, SQLITE_STATIC);
}

static void
sqlite_bind_int(struct db_drv_stmt *s, int i, long long v)
{
	sqlite3_bind_int64(s->st, i, v);
}

static int
sqlite_step(struct db_drv_stmt *s)
{
	int rc = sqlite3_step(s->st);

	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	sqlite_fail(s->c, rc);
	return DB_ERR;
}

static void
sqlite_bind_int_null(struct db_drv_stmt *s, int i)
{
	sqlite3_bind_null(s->st, i);
}

static int
sqlite_ncols(struct db_drv_stmt *s)
{
	return sqlite3_column_count(s->st);
}

static const char *
sqlite_column_name(struct db_drv_stmt *s, int col)
{
	return sqlite3_column_name(s->st, col);
}

static int
sqlite_column_is_int(struct db_drv_stmt *s, int col)
{
	return sqlite3_column_type(s->st, col) == SQLITE_INTEGER;
}

/* a deferred transaction that only reads: wal gives it one snapshot and
 * takes no lock the milter would wait for */
static int
sqlite_begin_read(struct db_drv_conn *c)
{
	return sqlite_exec(c, "BEGIN");
}

/* the wal copied into the database and emptied, so what was deleted is
 * in neither file (secure_delete overwrote it in the database). a reader
 * in the way is waited for, within the busy time */
static int
sqlite_after_purge(struct db_drv_conn *c)
{
	sqlite3_stmt *st;
	int rc, busy = 1;

	if (sqlite3_prepare_v2(c->h, "PRAGMA wal_checkpoint(TRUNCATE)", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		busy = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW && !busy ? 0 : -1;
}

static void
sqlite_set_wait(struct db_drv_conn *c, int ms)
{
	sqlite3_busy_timeout(c->h, ms);
}

static int
sqlite_locked(struct db_drv_conn *c)
{
	return (c->rc & 0xff) == SQLITE_BUSY || (c->rc & 0xff) ==
	    SQLITE_LOCKED;
}

static int
sqlite_step_later(struct db_drv_stmt *s)
{
	return sqlite_step(s) == DB_ERR ? DB_ERR : DB_DONE;
}

static const char *
sqlite_column_text(struct db_drv_stmt *s, int col)
{
	return (const char *)sqlite3_column_text(s->st, col);
}

static long long
sqlite_column_int(struct db_drv_stmt *s, int col)
{
	return sqlite3_column_int64(s->st, col);
}

static long long
sqlite_changes(struct db_drv_stmt *s)
{
	return sqlite3_changes(s->c->h);
}

static void
sqlite_reset(struct db_drv_stmt *s)
{
	sqlite3_reset(s->st);
	sqlite3_clear_bindings(s->st);
}

/* one writer at a time, from the start: what a transaction read stays
 * true until it commits, across threads and processes alike */
static int
sqlite_begin(struct db_drv_conn *c)
{
	return sqlite_exec(c, "BEGIN IMMEDIATE");
}

static int
sqlite_commit(struct db_drv_conn *c)
{
	return sqlite_exec(c, "COMMIT");
}

static int
sqlite_rollback(struct db_drv_conn *c)
{
	return sqlite_exec(c, "ROLLBACK");
}

static int
sqlite_in_transaction(struct db_drv_conn *c)
{
	return !sqlite3_get_autocommit(c->h);
}

static const char *
sqlite_errmsg(struct db_drv_conn *c)
{
	return sqlite3_errmsg(c->h);
}

static int
sqlite_failure(struct db_drv_conn *c)
{
	switch (c->rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_READONLY:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
		return DB_FAIL_DOWN;
	}
	return DB_FAIL_QUERY;
}

const struct db_driver db_sqlite_driver = {
	.name = "sqlite",
	.dialect = DB_DIALECT_SQLITE,
	.connect = sqlite_connect,
	.disconnect = sqlite_disconnect,
	.schema = sqlite_schema,
	.prepare = sqlite_prepare,
	.finalize = sqlite_finalize,
	.bind_text = sqlite_bind_text,
	.bind_int = sqlite_bind_int,
	.bind_int_null = sqlite_bind_int_null,
	.ncols = sqlite_ncols,
	.column_name = sqlite_column_name,
	.column_is_int = sqlite_column_is_int,
	.begin_read = sqlite_begin_read,
	.after_purge = sqlite_after_purge,
	.set_wait = sqlite_set_wait,
	.locked = sqlite_locked,
	.step = sqlite_step,
	.step_later = sqlite_step_later,
	.column_text = sqlite_column_text,
	.column_int = sqlite_column_int,
	.changes = sqlite_changes,
	.reset = sqlite_reset,
	.exec = sqlite_exec,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.in_transaction = sqlite_in_transaction,
	.errmsg = sqlite_errmsg,
	.failure = sqlite_failure,
};

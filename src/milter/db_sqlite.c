/* the sqlite engine beneath the store: one file in state-dir, wal and
 * synchronous=full, the schema created or upgraded at open */

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_driver.h"

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
 * schema version 1 (PRAGMA user_version; 0 is the first schema): what a
 * message is to its case, the message-ids a reply can name, and a tag that
 * was claimed but not honoured. columns are added where missing, so a
 * database of the first schema is upgraded in place.
 */
#define SQLITE_SCHEMA_VERSION	1
static const struct {
	const char	*name;
	const char	*decl;
} sqlite_enquiry_v1[] = {
	{ "kind", "kind TEXT" },	/* new, follow-up, automatic */
	{ "orig_msgid", "orig_msgid TEXT" },
	{ "ack_msgid", "ack_msgid TEXT" },
	{ "claimed", "claimed TEXT" },
};
static const char sqlite_index_v1[] =
    "CREATE INDEX IF NOT EXISTS enquiry_orig ON enquiry(orig_msgid);"
    "CREATE INDEX IF NOT EXISTS enquiry_ackid ON enquiry(ack_msgid);";

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

/* bring an older schema up to SQLITE_SCHEMA_VERSION in one transaction */
static int
sqlite_migrate(struct db_drv_conn *c)
{
	sqlite3_stmt *st;
	char sql[160];
	size_t i;
	int n, version = -1;

	/* up to date: nothing to write (enquiry-milter -l only reads) */
	if (sqlite3_prepare_v2(c->h, "PRAGMA user_version", -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (version >= SQLITE_SCHEMA_VERSION)
		return 0;
	if (sqlite_exec(c, "BEGIN IMMEDIATE") == -1)
		return -1;
	for (i = 0; i < sizeof(sqlite_enquiry_v1) /
	    sizeof(sqlite_enquiry_v1[0]); i++) {
		if ((n = sqlite_has_column(c->h, sqlite_enquiry_v1[i].name)) ==
		    -1)
			goto fail;
		if (n == 1)
			continue;
		n = snprintf(sql, sizeof(sql), "ALTER TABLE enquiry ADD "
		    "COLUMN %s", sqlite_enquiry_v1[i].decl);
		if (n < 0 || (size_t)n >= sizeof(sql) ||
		    sqlite_exec(c, sql) == -1)
			goto fail;
	}
	n = snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    SQLITE_SCHEMA_VERSION);
	if (n < 0 || (size_t)n >= sizeof(sql) ||
	    sqlite_exec(c, sqlite_index_v1) == -1 ||
	    sqlite_exec(c, sql) == -1 || sqlite_exec(c, "COMMIT") == -1)
		goto fail;
	return 0;
fail:
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
	/* wal: readers (enquiry-milter -l) never block the filter;
	 * synchronous=full: a committed reference survives power loss */
	if (sqlite_exec(c, "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=FULL;") == -1 ||
	    sqlite_exec(c, sqlite_ddl) == -1 || sqlite_migrate(c) == -1) {
		snprintf(err, errsz, "%s", sqlite3_errmsg(c->h));
		return -1;
	}
	return 0;
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

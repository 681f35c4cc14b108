/* the milter's state in sqlite: references, the enquiry log, ack times,
 * list tokens and list reply times */

#include <ctype.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "rnd.h"

enum {
	ST_REF_NEXT, ST_FIND_MSGID, ST_REF_KNOWN, ST_ACK_LAST, ST_ACK_SET,
	ST_ENQ_ADD, ST_ACK_COMMITTED, ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_THREAD_MSGID, ST_CASE_PARTY, ST_CASE_CATEGORY, ST_TOKEN_EXPIRE,
	ST_TOKEN_NEW, ST_TOKEN_GET, ST_TOKEN_USE, ST_REPLY_ALLOWED, ST_MAX
};

static const char *const db_sql[ST_MAX] = {
	[ST_REF_NEXT] = "INSERT INTO refseq(prefix, year, last) "
	    "VALUES(?1, ?2, 1) ON CONFLICT(prefix, year) "
	    "DO UPDATE SET last = last + 1 RETURNING last",
	[ST_FIND_MSGID] = "SELECT reference FROM enquiry "
	    "WHERE message_id = ?1 AND sender = ?2 ORDER BY id LIMIT 1",
	[ST_REF_KNOWN] = "SELECT 1 FROM enquiry WHERE reference = ?1 LIMIT 1",
	[ST_ACK_LAST] = "SELECT last FROM ack WHERE sender = ?1 "
	    "AND enquiry = ?2",
	[ST_ACK_SET] = "INSERT INTO ack(sender, enquiry, last) "
	    "VALUES(?1, ?2, ?3) ON CONFLICT(sender, enquiry) "
	    "DO UPDATE SET last = excluded.last",
	[ST_ENQ_ADD] = "INSERT INTO enquiry(reference, time, queue_id, "
	    "enquiry, sender, subject, category, message_id, recipients, ack, "
	    "kind, orig_msgid, ack_msgid, claimed) "
	    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
	    "?14)",
	[ST_ACK_COMMITTED] = "SELECT 1 FROM enquiry WHERE reference = ?1 "
	    "AND sender = ?2 AND time = ?3 AND ack = 'sent' LIMIT 1",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	/* a case is known by what a reply names: the enquiry's own
	 * message-id, or the acknowledgement's. automatic markers are no
	 * case */
	[ST_THREAD_MSGID] = "SELECT reference FROM enquiry "
	    "WHERE enquiry = ?2 AND (orig_msgid = ?1 OR ack_msgid = ?1 OR "
	    "message_id = ?1) AND reference NOT LIKE 'AUTO-%' "
	    "ORDER BY id LIMIT 1",
	/* a party: sent to the case, or was routed a message of it */
	[ST_CASE_PARTY] = "SELECT 1 FROM enquiry WHERE reference = ?1 "
	    "AND ?2 <> '' AND (sender = ?2 OR "
	    "instr(' ' || recipients || ' ', ' ' || ?2 || ' ') > 0) LIMIT 1",
	/* a case keeps the category of the message that opened it */
	[ST_CASE_CATEGORY] = "SELECT category FROM enquiry "
	    "WHERE reference = ?1 ORDER BY id LIMIT 1",
	/* mailing lists: confirmation tokens and reply times */
	[ST_TOKEN_EXPIRE] = "DELETE FROM list_token WHERE expires < ?1",
	[ST_TOKEN_NEW] = "INSERT INTO list_token(token, list, action, "
	    "address, created, expires) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_TOKEN_GET] = "SELECT action, address FROM list_token "
	    "WHERE token = ?1 AND list = ?2 AND expires >= ?3",
	[ST_TOKEN_USE] = "DELETE FROM list_token WHERE token = ?1 AND "
	    "list = ?2",
	/* one statement: recorded when allowed, untouched when not */
	[ST_REPLY_ALLOWED] = "INSERT INTO list_reply(sender, key, last) "
	    "VALUES(?1, ?2, ?3) ON CONFLICT(sender, key) DO UPDATE "
	    "SET last = excluded.last WHERE last <= excluded.last - ?4 "
	    "RETURNING last",
};

static const char db_schema[] =
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
    " PRIMARY KEY(sender, enquiry));";

/* automatic replies per address (auto-reply-limit): one row each, kept
 * for the hour they count in */
static const char db_schema_autoreply[] =
    "CREATE TABLE IF NOT EXISTS autoreply ("
    " address TEXT NOT NULL, time INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS autoreply_addr ON autoreply(address, time);"
    "CREATE INDEX IF NOT EXISTS autoreply_time ON autoreply(time);";

/* mailing lists: confirmation tokens (single use, expiring) and the
 * times replies to LIST-request went out. a used token must stay used
 * after a crash: synchronous=full, as for the rest */
static const char db_schema_list[] =
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
#define DB_SCHEMA_VERSION	1
static const struct {
	const char	*name;
	const char	*decl;
} db_enquiry_v1[] = {
	{ "kind", "kind TEXT" },	/* new, follow-up, automatic */
	{ "orig_msgid", "orig_msgid TEXT" },
	{ "ack_msgid", "ack_msgid TEXT" },
	{ "claimed", "claimed TEXT" },
};
static const char db_index_v1[] =
    "CREATE INDEX IF NOT EXISTS enquiry_orig ON enquiry(orig_msgid);"
    "CREATE INDEX IF NOT EXISTS enquiry_ackid ON enquiry(ack_msgid);";

struct db {
	sqlite3		*h;
	sqlite3_stmt	*st[ST_MAX];
	pthread_mutex_t	 mtx;
};

/* 1 when table enquiry has the column, 0 when not, -1 on error */
static int
db_has_column(sqlite3 *h, const char *col)
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

/* bring an older schema up to DB_SCHEMA_VERSION in one transaction */
static int
db_migrate(sqlite3 *h, char **msg)
{
	sqlite3_stmt *st;
	char sql[160];
	size_t i;
	int n, version = -1;

	/* up to date: nothing to write (enquiry-milter -l only reads) */
	if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (version >= DB_SCHEMA_VERSION)
		return 0;
	if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, msg) != SQLITE_OK)
		return -1;
	for (i = 0; i < sizeof(db_enquiry_v1) / sizeof(db_enquiry_v1[0]);
	    i++) {
		if ((n = db_has_column(h, db_enquiry_v1[i].name)) == -1)
			goto fail;
		if (n == 1)
			continue;
		n = snprintf(sql, sizeof(sql), "ALTER TABLE enquiry ADD "
		    "COLUMN %s", db_enquiry_v1[i].decl);
		if (n < 0 || (size_t)n >= sizeof(sql) ||
		    sqlite3_exec(h, sql, NULL, NULL, msg) != SQLITE_OK)
			goto fail;
	}
	n = snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    DB_SCHEMA_VERSION);
	if (n < 0 || (size_t)n >= sizeof(sql) ||
	    sqlite3_exec(h, db_index_v1, NULL, NULL, msg) != SQLITE_OK ||
	    sqlite3_exec(h, sql, NULL, NULL, msg) != SQLITE_OK ||
	    sqlite3_exec(h, "COMMIT", NULL, NULL, msg) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

struct db *
db_open(const char *path, char *err, size_t errsz)
{
	struct db *db;
	char *msg = NULL;
	int i;

	if ((db = calloc(1, sizeof(*db))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&db->mtx, NULL);
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(db->h, 10000);
	/* wal: readers (enquiry-milter -l) never block the filter;
	 * synchronous=full: a committed reference survives power loss */
	if (sqlite3_exec(db->h, "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=FULL;", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db->h, db_schema, NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db->h, db_schema_autoreply, NULL, NULL, &msg) !=
	    SQLITE_OK ||
	    sqlite3_exec(db->h, db_schema_list, NULL, NULL, &msg) !=
	    SQLITE_OK || db_migrate(db->h, &msg) == -1) {
		snprintf(err, errsz, "%s: %s", path, msg ? msg :
		    sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		db_close(db);
		return NULL;
	}
	for (i = 0; i < ST_MAX; i++)
		if (sqlite3_prepare_v2(db->h, db_sql[i], -1, &db->st[i],
		    NULL) != SQLITE_OK)
			goto fail;
	return db;
fail:
	snprintf(err, errsz, "%s: %s", path, db->h ? sqlite3_errmsg(db->h) :
	    "out of memory");
	db_close(db);
	return NULL;
}

void
db_close(struct db *db)
{
	int i;

	if (db == NULL)
		return;
	for (i = 0; i < ST_MAX; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close(db->h);
	pthread_mutex_destroy(&db->mtx);
	free(db);
}

const char *
db_errmsg(struct db *db)
{
	return sqlite3_errmsg(db->h);
}

/* run a statement that returns no rows */
static int
db_step_done(struct db *db, int which)
{
	sqlite3_stmt *st = db->st[which];
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		log_warnx("sqlite: %s", sqlite3_errmsg(db->h));
		return -1;
	}
	return 0;
}

int
db_begin(struct db *db)
{
	pthread_mutex_lock(&db->mtx);
	if (db_step_done(db, ST_BEGIN) == -1) {
		pthread_mutex_unlock(&db->mtx);
		return -1;
	}
	return 0;
}

int
db_commit(struct db *db)
{
	int rc = db_step_done(db, ST_COMMIT);

	if (rc == -1 && !sqlite3_get_autocommit(db->h))
		db_step_done(db, ST_ROLLBACK);
	pthread_mutex_unlock(&db->mtx);
	return rc;
}

void
db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		db_step_done(db, ST_ROLLBACK);
	pthread_mutex_unlock(&db->mtx);
}

/* whether the statement answers a row at all: 1 yes, 0 no, -1 on error;
 * reset and cleared for the next caller, as db_row_text */
static int
db_row_exists(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* the one rule for reading a one-row answer: 1 and text column col of
 * the row in out, 0 when there is no row, -1 on error or when it does
 * not fit. a NULL column is "" when nullok, else an error. the statement
 * is reset and its bindings cleared whatever the answer, so it is ready
 * for the next caller */
static int
db_row_text(sqlite3_stmt *st, int col, int nullok, char *out, size_t outsz)
{
	const char *v;
	int rc, ret = 0;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		v = (const char *)sqlite3_column_text(st, col);
		if (v == NULL && nullok)
			v = "";
		if (v != NULL && strlen(v) < outsz) {
			strcpy(out, v);
			ret = 1;
		} else
			ret = -1;
	} else if (rc != SQLITE_DONE)
		ret = -1;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

int
db_ref_next(struct db *db, const char *prefix, int year, char *out,
    size_t outsz)
{
	sqlite3_stmt *st = db->st[ST_REF_NEXT];
	long long last = -1;
	int rc, n;

	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, year);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		last = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE || last < 1) {
		log_warnx("sqlite: reference: %s", sqlite3_errmsg(db->h));
		return -1;
	}
	n = snprintf(out, outsz, "%s-%04d-%06lld", prefix, year, last);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int
db_find_msgid(struct db *db, const char *msgid, const char *sender,
    char *ref, size_t refsz)
{
	sqlite3_stmt *st = db->st[ST_FIND_MSGID];

	sqlite3_bind_text(st, 1, msgid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sender, -1, SQLITE_STATIC);
	/* reference is NOT NULL: a NULL one is damage, not an answer */
	return db_row_text(st, 0, 0, ref, refsz);
}

int
db_ref_known(struct db *db, const char *ref)
{
	sqlite3_stmt *st = db->st[ST_REF_KNOWN];

	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	return db_row_exists(st);
}

int
db_ack_committed(struct db *db, const char *ref, const char *sender,
    long long when)
{
	sqlite3_stmt *st = db->st[ST_ACK_COMMITTED];
	int rc;

	pthread_mutex_lock(&db->mtx);
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sender, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, when);
	rc = db_row_exists(st);
	pthread_mutex_unlock(&db->mtx);
	return rc;
}

int
db_ack_last(struct db *db, const char *sender, const char *enquiry,
    long long *when)
{
	sqlite3_stmt *st = db->st[ST_ACK_LAST];
	int rc, ret = 0;

	sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, enquiry, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*when = sqlite3_column_int64(st, 0);
		ret = 1;
	} else if (rc != SQLITE_DONE)
		ret = -1;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

int
db_ack_set(struct db *db, const char *sender, const char *enquiry,
    long long when)
{
	sqlite3_stmt *st = db->st[ST_ACK_SET];

	sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, enquiry, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, when);
	return db_step_done(db, ST_ACK_SET);
}

int
db_enquiry_add(struct db *db, const struct db_enquiry *e)
{
	sqlite3_stmt *st = db->st[ST_ENQ_ADD];

	sqlite3_bind_text(st, 1, e->reference, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, e->time);
	sqlite3_bind_text(st, 3, e->queue_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e->enquiry, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, e->sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, e->category, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, e->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, e->recipients, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, e->ack, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, e->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, e->orig_msgid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, e->ack_msgid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, e->claimed, -1, SQLITE_STATIC);
	return db_step_done(db, ST_ENQ_ADD);
}

int
db_thread_msgid(struct db *db, const char *msgid, const char *enquiry,
    char *ref, size_t refsz)
{
	sqlite3_stmt *st = db->st[ST_THREAD_MSGID];

	if (msgid[0] == '\0')
		return 0;
	sqlite3_bind_text(st, 1, msgid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, enquiry, -1, SQLITE_STATIC);
	return db_row_text(st, 0, 1, ref, refsz);
}

int
db_case_party(struct db *db, const char *ref, const char *addr)
{
	sqlite3_stmt *st = db->st[ST_CASE_PARTY];

	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, addr, -1, SQLITE_STATIC);
	return db_row_exists(st);
}

int
db_case_category(struct db *db, const char *ref, char *cat, size_t catsz)
{
	sqlite3_stmt *st = db->st[ST_CASE_CATEGORY];

	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	return db_row_text(st, 0, 1, cat, catsz);
}

int
db_list(struct db *db, int n, void (*cb)(const struct db_enquiry *, void *),
    void *arg)
{
	sqlite3_stmt *st = NULL;
	struct db_enquiry e;
	int rc;

	pthread_mutex_lock(&db->mtx);
	if (sqlite3_prepare_v2(db->h, "SELECT reference, time, queue_id, "
	    "enquiry, sender, subject, category, message_id, recipients, ack, "
	    "kind, orig_msgid, ack_msgid, claimed FROM (SELECT * FROM enquiry ORDER BY id DESC LIMIT ?1) "
	    "ORDER BY id DESC", -1, &st, NULL) != SQLITE_OK) {
		pthread_mutex_unlock(&db->mtx);
		return -1;
	}
	sqlite3_bind_int(st, 1, n);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		e.reference = (const char *)sqlite3_column_text(st, 0);
		e.time = sqlite3_column_int64(st, 1);
		e.queue_id = (const char *)sqlite3_column_text(st, 2);
		e.enquiry = (const char *)sqlite3_column_text(st, 3);
		e.sender = (const char *)sqlite3_column_text(st, 4);
		e.subject = (const char *)sqlite3_column_text(st, 5);
		e.category = (const char *)sqlite3_column_text(st, 6);
		e.message_id = (const char *)sqlite3_column_text(st, 7);
		e.recipients = (const char *)sqlite3_column_text(st, 8);
		e.ack = (const char *)sqlite3_column_text(st, 9);
		e.kind = (const char *)sqlite3_column_text(st, 10);
		e.orig_msgid = (const char *)sqlite3_column_text(st, 11);
		e.ack_msgid = (const char *)sqlite3_column_text(st, 12);
		e.claimed = (const char *)sqlite3_column_text(st, 13);
		cb(&e, arg);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->mtx);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
db_autoreply_allow(struct db *db, const char *addr, long long now,
    int limit)
{
	static const char *const sql[] = {
		/* every address's old rows, so the table holds one hour */
		"DELETE FROM autoreply WHERE time <= ?2 AND ?1 IS NOT NULL",
		"SELECT count(*) FROM autoreply WHERE address = ?1",
		"INSERT INTO autoreply(address, time) VALUES(?1, ?2)",
	};
	sqlite3_stmt *st;
	char key[512];
	long long n = 0;
	size_t k;
	int i, rc;

	/* the address as the milter compares them: lower case */
	for (k = 0; addr[k] && k + 1 < sizeof(key); k++)
		key[k] = (char)tolower((unsigned char)addr[k]);
	key[k] = '\0';
	for (i = 0; i < 3; i++) {
		if (sqlite3_prepare_v2(db->h, sql[i], -1, &st, NULL) !=
		    SQLITE_OK)
			return -1;
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, i == 0 ? now - DB_AUTOREPLY_WINDOW :
		    now);
		rc = sqlite3_step(st);
		if (i == 1 && rc == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE && rc != SQLITE_ROW)
			return -1;
		if (i == 1 && n >= limit)
			return 0;
	}
	return 1;
}

int
db_autoreply_allow_now(struct db *db, const char *addr, long long now,
    int limit)
{
	int rc;

	if (db_begin(db) == -1)
		return -1;
	if ((rc = db_autoreply_allow(db, addr, now, limit)) == -1) {
		db_rollback(db);
		return -1;
	}
	if (db_commit(db) == -1)
		return -1;
	return rc;
}

int
db_token_new(struct db *db, const char *list, const char *action,
    const char *addr, long long now, long long expires, char *token,
    size_t tokensz)
{
	sqlite3_stmt *st;
	int rc;

	if (tokensz < DB_TOKEN_LEN + 1 ||
	    rnd_hex(token, tokensz, DB_TOKEN_LEN / 2) == -1)
		return -1;
	pthread_mutex_lock(&db->mtx);
	/* expired tokens go as new ones come */
	st = db->st[ST_TOKEN_EXPIRE];
	sqlite3_bind_int64(st, 1, now);
	sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	st = db->st[ST_TOKEN_NEW];
	sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, expires);
	rc = db_step_done(db, ST_TOKEN_NEW);
	pthread_mutex_unlock(&db->mtx);
	return rc;
}

int
db_token_get(struct db *db, const char *list, const char *token,
    long long now, char *action, size_t actionsz, char *addr,
    size_t addrsz)
{
	sqlite3_stmt *st = db->st[ST_TOKEN_GET];
	const char *a, *d;
	int rc, ret = 0;

	pthread_mutex_lock(&db->mtx);
	sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, list, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		a = (const char *)sqlite3_column_text(st, 0);
		d = (const char *)sqlite3_column_text(st, 1);
		if (a == NULL || d == NULL || strlen(a) >= actionsz ||
		    strlen(d) >= addrsz)
			ret = -1;
		else {
			strcpy(action, a);
			strcpy(addr, d);
			ret = 1;
		}
	} else if (rc != SQLITE_DONE) {
		log_warnx("sqlite: token: %s", sqlite3_errmsg(db->h));
		ret = -1;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	pthread_mutex_unlock(&db->mtx);
	return ret;
}

int
db_token_use(struct db *db, const char *list, const char *token)
{
	sqlite3_stmt *st = db->st[ST_TOKEN_USE];
	int ret;

	pthread_mutex_lock(&db->mtx);
	sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, list, -1, SQLITE_STATIC);
	if ((ret = db_step_done(db, ST_TOKEN_USE)) == 0)
		ret = sqlite3_changes(db->h) == 1;
	pthread_mutex_unlock(&db->mtx);
	return ret;
}

int
db_reply_allowed(struct db *db, const char *sender, const char *key,
    long long now, long long interval)
{
	sqlite3_stmt *st = db->st[ST_REPLY_ALLOWED];
	int rc, ret = -1;

	pthread_mutex_lock(&db->mtx);
	sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, interval);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret = 1;
		rc = sqlite3_step(st);
	} else if (rc == SQLITE_DONE)
		ret = 0;
	if (rc != SQLITE_DONE) {
		log_warnx("sqlite: reply: %s", sqlite3_errmsg(db->h));
		ret = -1;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	pthread_mutex_unlock(&db->mtx);
	return ret;
}

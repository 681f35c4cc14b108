/* the milter's state in sqlite: references, the enquiry log, ack times,
 * list tokens and list reply times */

#include <ctype.h>
#include <limits.h>
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
	ST_TOKEN_NEW, ST_TOKEN_GET, ST_TOKEN_USE, ST_REPLY_ALLOWED,
	ST_CASE_OPEN, ST_EVENT_ADD, ST_CASE_STATE, ST_CASE_INBOUND,
	ST_CASE_BY_MSGID, ST_CASE_ANSWERED, ST_DIGEST_CLAIM, ST_DIGEST_CLAIMED,
	ST_DIGEST_LAST, ST_CASE_CLOSE, ST_CASE_REOPEN, ST_CASES, ST_CASE_GET,
	ST_CASE_EVENTS, ST_CASE_MESSAGES, ST_STATS, ST_PURGE_MESSAGES,
	ST_PURGE_CASE, ST_PURGE_EVENTS, ST_EXPIRED, ST_ADDR_CASES,
	ST_ADDR_MESSAGES, ST_ADDR_EVENTS, ST_ADDR_ACK, ST_ADDR_AUTOREPLY,
	ST_ADDR_LIST_REPLY, ST_ADDR_LIST_TOKEN, ST_EXP_CASES, ST_EXP_MESSAGES,
	ST_EXP_EVENTS, ST_EXP_ACK, ST_EXP_AUTOREPLY, ST_EXP_LIST_REPLY,
	ST_EXP_LIST_TOKEN, ST_BEGIN_READ, ST_CASE_SENDER,
	ST_DIGEST_COMMITTED, ST_OLD_AUTO, ST_OLD_ACK, ST_OLD_AUTOREPLY,
	ST_OLD_LIST_REPLY, ST_OLD_LIST_TOKEN, ST_CASES_OPEN, ST_MAX
};

/* the columns of a case, in struct db_case's order */
#define DB_CASE_COLS "reference, enquiry, category, opened, sender, " \
	"sender_name, subject, status, waiting_since, first_answer, " \
	"answered, closed, purged"
/* the filters of a listing after the first two (db_cases): a condition
 * not asked for is true. ?7 is a LIKE pattern, lower case, its own % and _
 * escaped, matched against search: reference, subject, sender and its
 * name in lower case, kept so (lower() on four columns of every row cost
 * seven times as much) */
#define DB_CASES_REST \
	"AND (?3 = 0 OR status = 'closed') " \
	"AND (?4 = 0 OR (status = 'new' AND waiting_since < ?5)) " \
	"AND (CAST(?6 AS TEXT) IS NULL OR category = ?6) " \
	"AND (CAST(?7 AS TEXT) IS NULL OR search LIKE ?7 ESCAPE '\\') " \
	"ORDER BY opened, reference LIMIT ?8"
/* the columns of a message, in db_row_enquiry's order */
#define DB_ENQ_COLS "reference, time, queue_id, enquiry, sender, subject, " \
	"category, message_id, recipients, ack, kind, orig_msgid, " \
	"ack_msgid, claimed, sender_name, from_addr, size"

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
	[ST_ENQ_ADD] = "INSERT INTO enquiry(" DB_ENQ_COLS ") "
	    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
	    "?14, ?15, ?16, ?17)",
	[ST_ACK_COMMITTED] = "SELECT 1 FROM enquiry WHERE reference = ?1 "
	    "AND sender = ?2 AND time = ?3 AND ack = 'sent' LIMIT 1",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_BEGIN_READ] = "BEGIN",
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

	/* the case register. a statement that changes a case answers a row
	 * when it did (RETURNING), so no engine's change count is needed */
	[ST_CASE_OPEN] = "INSERT INTO enq_case(reference, enquiry, category, "
	    "opened, sender, sender_name, subject, status, waiting_since, "
	    "search) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 'new', ?4, ?8) "
	    "ON CONFLICT(reference) DO NOTHING RETURNING reference",
	[ST_EVENT_ADD] = "INSERT INTO case_event(reference, time, what, "
	    "actor, text) VALUES(?1, ?2, ?3, ?4, ?5)",
	[ST_CASE_STATE] = "SELECT status, purged FROM enq_case "
	    "WHERE reference = ?1",
	/* a case already new keeps the time it has waited since */
	[ST_CASE_INBOUND] = "UPDATE enq_case SET waiting_since = "
	    "CASE WHEN status = 'new' THEN waiting_since ELSE ?2 END, "
	    "status = 'new', closed = NULL "
	    "WHERE reference = ?1 AND purged IS NULL RETURNING reference",
	[ST_CASE_BY_MSGID] = "SELECT reference FROM enquiry "
	    "WHERE (orig_msgid = ?1 OR ack_msgid = ?1 OR message_id = ?1) "
	    "AND reference NOT LIKE 'AUTO-%' ORDER BY id LIMIT 1",
	[ST_CASE_ANSWERED] = "UPDATE enq_case SET status = CASE WHEN "
	    "status = 'closed' THEN 'closed' ELSE 'answered' END, "
	    "first_answer = COALESCE(first_answer, ?2), answered = ?2 "
	    "WHERE reference = ?1 AND purged IS NULL RETURNING reference",
	[ST_DIGEST_CLAIM] = "INSERT INTO digest(day, spooled) VALUES(?1, ?2) "
	    "ON CONFLICT(day) DO NOTHING RETURNING day",
	[ST_DIGEST_CLAIMED] = "SELECT 1 FROM digest WHERE day = ?1",
	[ST_DIGEST_COMMITTED] = "SELECT 1 FROM digest WHERE day = ?1 "
	    "AND spooled = ?2",
	[ST_CASE_SENDER] = "SELECT sender FROM enq_case WHERE reference = ?1 "
	    "AND purged IS NULL AND sender IS NOT NULL",
	[ST_DIGEST_LAST] = "SELECT spooled FROM digest "
	    "ORDER BY spooled DESC LIMIT 1",
	[ST_CASE_CLOSE] = "UPDATE enq_case SET status = 'closed', "
	    "closed = ?2 WHERE reference = ?1 AND status <> 'closed' "
	    "AND purged IS NULL RETURNING reference",
	[ST_CASE_REOPEN] = "UPDATE enq_case SET status = 'new', "
	    "waiting_since = ?2, closed = NULL WHERE reference = ?1 "
	    "AND status <> 'new' AND purged IS NULL RETURNING reference",
	/* a listing: every filter in one statement (DB_CASES_REST) */
	[ST_CASES] = "SELECT " DB_CASE_COLS " FROM enq_case "
	    "WHERE opened >= ?1 AND (?2 = 0 OR status <> 'closed') "
	    DB_CASES_REST,
	/* the open ones alone (?2 is 1): the partial index enq_case_open
	 * holds just them, so the closed majority is never read */
	[ST_CASES_OPEN] = "SELECT " DB_CASE_COLS " FROM enq_case "
	    "WHERE opened >= ?1 AND status <> 'closed' AND ?2 = 1 "
	    DB_CASES_REST,
	[ST_CASE_GET] = "SELECT " DB_CASE_COLS " FROM enq_case "
	    "WHERE reference = ?1",
	[ST_CASE_EVENTS] = "SELECT time, what, actor, text FROM case_event "
	    "WHERE reference = ?1 ORDER BY time, id",
	[ST_CASE_MESSAGES] = "SELECT " DB_ENQ_COLS " FROM enquiry "
	    "WHERE reference = ?1 ORDER BY time, id",
	[ST_STATS] = "SELECT opened, category, status, waiting_since, "
	    "first_answer FROM enq_case WHERE opened >= ?1 ORDER BY opened",
	/* purging one case: its messages, its personal columns, the
	 * personal part of its history */
	[ST_PURGE_MESSAGES] = "DELETE FROM enquiry WHERE reference = ?1",
	[ST_PURGE_CASE] = "UPDATE enq_case SET sender = NULL, "
	    "sender_name = NULL, subject = NULL, search = NULL, purged = ?2, "
	    "status = 'closed', closed = COALESCE(closed, ?2) "
	    "WHERE reference = ?1",
	[ST_PURGE_EVENTS] = "UPDATE case_event SET actor = NULL, text = NULL "
	    "WHERE reference = ?1",
	[ST_EXPIRED] = "SELECT reference FROM enq_case WHERE status = "
	    "'closed' AND closed < ?1 AND purged IS NULL ORDER BY reference",
	/* retention of what is no case's: automatic mail (its markers),
	 * and the times of acknowledgements and replies, long past the
	 * intervals they count in */
	[ST_OLD_AUTO] = "DELETE FROM enquiry WHERE reference LIKE 'AUTO-%' "
	    "AND time < ?1",
	[ST_OLD_ACK] = "DELETE FROM ack WHERE last < ?1",
	[ST_OLD_AUTOREPLY] = "DELETE FROM autoreply WHERE time < ?1",
	[ST_OLD_LIST_REPLY] = "DELETE FROM list_reply WHERE last < ?1",
	[ST_OLD_LIST_TOKEN] = "DELETE FROM list_token WHERE expires < ?1",
	/* erasure of one address (lower case, as the milter keeps them) */
	[ST_ADDR_CASES] = "SELECT reference FROM enq_case WHERE sender = ?1 "
	    "AND purged IS NULL ORDER BY reference",
	[ST_ADDR_MESSAGES] = "DELETE FROM enquiry WHERE sender = ?1 "
	    "OR from_addr = ?1",
	[ST_ADDR_EVENTS] = "UPDATE case_event SET actor = NULL, text = NULL "
	    "WHERE actor = ?1",
	[ST_ADDR_ACK] = "DELETE FROM ack WHERE sender = ?1",
	[ST_ADDR_AUTOREPLY] = "DELETE FROM autoreply WHERE address = ?1",
	[ST_ADDR_LIST_REPLY] = "DELETE FROM list_reply WHERE sender = ?1",
	[ST_ADDR_LIST_TOKEN] = "DELETE FROM list_token WHERE address = ?1",
	/* a subject access request: what is held about one address */
	[ST_EXP_CASES] = "SELECT " DB_CASE_COLS " FROM enq_case "
	    "WHERE sender = ?1 OR reference IN (SELECT reference FROM enquiry "
	    "WHERE sender = ?1 OR from_addr = ?1) ORDER BY opened, reference",
	[ST_EXP_MESSAGES] = "SELECT " DB_ENQ_COLS " FROM enquiry "
	    "WHERE sender = ?1 OR from_addr = ?1 OR reference IN "
	    "(SELECT reference FROM enq_case WHERE sender = ?1) "
	    "ORDER BY time, id",
	[ST_EXP_EVENTS] = "SELECT reference, time, what, actor, text "
	    "FROM case_event WHERE actor = ?1 OR reference IN "
	    "(SELECT reference FROM enq_case WHERE sender = ?1) "
	    "ORDER BY time, id",
	[ST_EXP_ACK] = "SELECT sender, enquiry, last FROM ack "
	    "WHERE sender = ?1",
	[ST_EXP_AUTOREPLY] = "SELECT address, time FROM autoreply "
	    "WHERE address = ?1",
	[ST_EXP_LIST_REPLY] = "SELECT sender, key, last FROM list_reply "
	    "WHERE sender = ?1",
	[ST_EXP_LIST_TOKEN] = "SELECT list, action, address, created, "
	    "expires FROM list_token WHERE address = ?1",
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
    "CREATE INDEX IF NOT EXISTS enq_case_opened ON enq_case(opened);"
    "CREATE INDEX IF NOT EXISTS enq_case_status ON enq_case(status,"
    " waiting_since);"
    "CREATE INDEX IF NOT EXISTS enq_case_sender ON enq_case(sender);"
    "CREATE INDEX IF NOT EXISTS enq_case_open ON enq_case(opened)"
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

/* the schema version of the open database, -1 on error */
static int
db_version(sqlite3 *h)
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
 * newer one is refused, naming both versions. *msg is an sqlite message
 * (sqlite3_free it), or err is filled */
static int
db_migrate(sqlite3 *h, char **msg, char *err, size_t errsz)
{
	char sql[160];
	size_t i;
	int n, version;

	/* up to date: nothing to write (readers open it too) */
	if ((version = db_version(h)) == DB_SCHEMA_VERSION)
		return 0;
	if (version > DB_SCHEMA_VERSION) {
		snprintf(err, errsz, "the database is of schema version %d, "
		    "newer than this program's %d: refusing to use it (is an "
		    "older release running?)", version, DB_SCHEMA_VERSION);
		return -1;
	}
	if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, msg) != SQLITE_OK)
		return -1;
	/* another program may have upgraded it while this one waited */
	if ((version = db_version(h)) == -1)
		goto fail;
	if (version >= DB_SCHEMA_VERSION) {
		sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
		if (version == DB_SCHEMA_VERSION)
			return 0;
		snprintf(err, errsz, "the database is of schema version %d, "
		    "newer than this program's %d", version,
		    DB_SCHEMA_VERSION);
		return -1;
	}
	if (sqlite3_exec(h, db_schema, NULL, NULL, msg) != SQLITE_OK ||
	    sqlite3_exec(h, db_schema_autoreply, NULL, NULL, msg) !=
	    SQLITE_OK ||
	    sqlite3_exec(h, db_schema_list, NULL, NULL, msg) != SQLITE_OK)
		goto fail;
	for (i = 0; i < sizeof(db_enquiry_cols) / sizeof(db_enquiry_cols[0]);
	    i++) {
		if ((n = db_has_column(h, db_enquiry_cols[i].name)) == -1)
			goto fail;
		if (n == 1)
			continue;
		n = snprintf(sql, sizeof(sql), "ALTER TABLE enquiry ADD "
		    "COLUMN %s", db_enquiry_cols[i].decl);
		if (n < 0 || (size_t)n >= sizeof(sql) ||
		    sqlite3_exec(h, sql, NULL, NULL, msg) != SQLITE_OK)
			goto fail;
	}
	if (sqlite3_exec(h, db_index_v1, NULL, NULL, msg) != SQLITE_OK ||
	    sqlite3_exec(h, db_schema_v2, NULL, NULL, msg) != SQLITE_OK)
		goto fail;
	if (version < 2 && sqlite3_exec(h, db_migrate_cases_v2, NULL, NULL,
	    msg) != SQLITE_OK)
		goto fail;
	n = snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    DB_SCHEMA_VERSION);
	if (n < 0 || (size_t)n >= sizeof(sql) ||
	    sqlite3_exec(h, sql, NULL, NULL, msg) != SQLITE_OK ||
	    sqlite3_exec(h, "COMMIT", NULL, NULL, msg) != SQLITE_OK)
		goto fail;
	if (version > 0)
		log_info("database upgraded from schema version %d to %d",
		    version, DB_SCHEMA_VERSION);
	return 0;
fail:
	sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

struct db *
db_open(const char *path, char *err, size_t errsz)
{
	struct db *db;
	char *msg = NULL, why[256] = "";
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
	/* wal: readers (the enquiries command) never block the filter;
	 * synchronous=full: a committed reference survives power loss;
	 * secure_delete: a purged address is overwritten, not left in free
	 * pages */
	if (sqlite3_exec(db->h, "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=FULL;PRAGMA secure_delete=ON;", NULL, NULL,
	    &msg) != SQLITE_OK || db_migrate(db->h, &msg, why,
	    sizeof(why)) == -1) {
		snprintf(err, errsz, "%s: %s", path, why[0] ? why : msg ? msg :
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
db_set_wait(struct db *db, int ms)
{
	sqlite3_busy_timeout(db->h, ms);
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

int
db_locked(struct db *db)
{
	int rc = sqlite3_errcode(db->h);

	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
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
	sqlite3_bind_text(st, 15, e->sender_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 16, e->from_addr, -1, SQLITE_STATIC);
	/* a message has at least a header: 0 is a size nobody set */
	if (e->size > 0)
		sqlite3_bind_int64(st, 17, e->size);
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

/* a message row of DB_ENQ_COLS, valid until the statement steps again */
static void
db_row_enquiry(sqlite3_stmt *st, struct db_enquiry *e)
{
	e->reference = (const char *)sqlite3_column_text(st, 0);
	e->time = sqlite3_column_int64(st, 1);
	e->queue_id = (const char *)sqlite3_column_text(st, 2);
	e->enquiry = (const char *)sqlite3_column_text(st, 3);
	e->sender = (const char *)sqlite3_column_text(st, 4);
	e->subject = (const char *)sqlite3_column_text(st, 5);
	e->category = (const char *)sqlite3_column_text(st, 6);
	e->message_id = (const char *)sqlite3_column_text(st, 7);
	e->recipients = (const char *)sqlite3_column_text(st, 8);
	e->ack = (const char *)sqlite3_column_text(st, 9);
	e->kind = (const char *)sqlite3_column_text(st, 10);
	e->orig_msgid = (const char *)sqlite3_column_text(st, 11);
	e->ack_msgid = (const char *)sqlite3_column_text(st, 12);
	e->claimed = (const char *)sqlite3_column_text(st, 13);
	e->sender_name = (const char *)sqlite3_column_text(st, 14);
	e->from_addr = (const char *)sqlite3_column_text(st, 15);
	e->size = sqlite3_column_type(st, 16) == SQLITE_NULL ? -1 :
	    sqlite3_column_int64(st, 16);
}

int
db_list(struct db *db, int n, void (*cb)(const struct db_enquiry *, void *),
    void *arg)
{
	sqlite3_stmt *st = NULL;
	struct db_enquiry e;
	int rc;

	pthread_mutex_lock(&db->mtx);
	if (sqlite3_prepare_v2(db->h, "SELECT " DB_ENQ_COLS " FROM enquiry "
	    "ORDER BY id DESC LIMIT ?1", -1, &st, NULL) != SQLITE_OK) {
		pthread_mutex_unlock(&db->mtx);
		return -1;
	}
	sqlite3_bind_int(st, 1, n);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		db_row_enquiry(st, &e);
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


/*
 * the case register
 */

/* a time column: 0 when NULL */
static long long
db_col_time(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? 0 :
	    sqlite3_column_int64(st, col);
}

/* a case row of DB_CASE_COLS, valid until the statement steps again */
static void
db_row_case(sqlite3_stmt *st, struct db_case *c)
{
	c->reference = (const char *)sqlite3_column_text(st, 0);
	c->enquiry = (const char *)sqlite3_column_text(st, 1);
	c->category = (const char *)sqlite3_column_text(st, 2);
	c->opened = sqlite3_column_int64(st, 3);
	c->sender = (const char *)sqlite3_column_text(st, 4);
	c->sender_name = (const char *)sqlite3_column_text(st, 5);
	c->subject = (const char *)sqlite3_column_text(st, 6);
	c->status = (const char *)sqlite3_column_text(st, 7);
	c->waiting_since = db_col_time(st, 8);
	c->first_answer = db_col_time(st, 9);
	c->answered = db_col_time(st, 10);
	c->closed = db_col_time(st, 11);
	c->purged = db_col_time(st, 12);
}

/* bind ref and a time as ?1 and ?2 */
static void
db_bind_ref_time(sqlite3_stmt *st, const char *ref, long long when)
{
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, when);
}

/* a line of a case's history */
static int
db_event_add(struct db *db, const char *ref, long long when,
    const char *what, const char *actor, const char *text)
{
	sqlite3_stmt *st = db->st[ST_EVENT_ADD];

	db_bind_ref_time(st, ref, when);
	sqlite3_bind_text(st, 3, what, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, actor && *actor ? actor : NULL, -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 5, text, -1, SQLITE_STATIC);
	return db_step_done(db, ST_EVENT_ADD);
}

/* run one of the statements that change a case: 1 when it changed one
 * (it answers a row), 0 when none, -1 on error */
static int
db_case_change(struct db *db, int which, const char *ref, long long when)
{
	sqlite3_stmt *st = db->st[which];

	db_bind_ref_time(st, ref, when);
	return db_row_exists(st);
}

/* what --search looks in: reference, subject, sender, its name, lower
 * case (ascii, as lower() in sql); malloc'd, NULL out of memory */
static char *
db_search_text(const struct db_case_new *c)
{
	const char *part[] = { c->reference, c->subject, c->sender,
	    c->sender_name };
	size_t i, n = 0, o = 0;
	char *s;

	for (i = 0; i < 4; i++)
		n += (part[i] ? strlen(part[i]) : 0) + 1;
	if ((s = malloc(n)) == NULL)
		return NULL;
	for (i = 0; i < 4; i++) {
		if (i > 0)
			s[o++] = ' ';
		for (const char *p = part[i] ? part[i] : ""; *p; p++)
			s[o++] = (char)tolower((unsigned char)*p);
	}
	s[o] = '\0';
	return s;
}

int
db_case_open(struct db *db, const struct db_case_new *c)
{
	sqlite3_stmt *st = db->st[ST_CASE_OPEN];
	char *search;
	int rc;

	db_bind_ref_time(st, c->reference, c->time);
	sqlite3_bind_text(st, 2, c->enquiry, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->category, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, c->time);
	sqlite3_bind_text(st, 5, c->sender && *c->sender ? c->sender : NULL,
	    -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, c->sender_name && *c->sender_name ?
	    c->sender_name : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, c->subject, -1, SQLITE_STATIC);
	if ((search = db_search_text(c)) == NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return -1;
	}
	sqlite3_bind_text(st, 8, search, -1, SQLITE_STATIC);
	rc = db_row_exists(st);
	free(search);
	if (rc != 1)
		return rc;
	if (db_event_add(db, c->reference, c->time, "opened", c->sender,
	    c->subject) == -1)
		return -1;
	return 1;
}

/* the status of case ref in status (at least 16 bytes) and whether it was
 * purged: 1 found, 0 unknown, -1 error */
static int
db_case_state(struct db *db, const char *ref, char *status, size_t statussz,
    int *purged)
{
	sqlite3_stmt *st = db->st[ST_CASE_STATE];
	const char *v;
	int rc, ret = 0;

	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = (const char *)sqlite3_column_text(st, 0);
		*purged = sqlite3_column_type(st, 1) != SQLITE_NULL;
		ret = v != NULL && strlen(v) < statussz ? 1 : -1;
		if (ret == 1)
			strcpy(status, v);
	} else if (rc != SQLITE_DONE)
		ret = -1;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

int
db_case_inbound(struct db *db, const char *ref, const char *from,
    const char *subject, long long when)
{
	char status[16];
	int purged, rc;

	if ((rc = db_case_state(db, ref, status, sizeof(status),
	    &purged)) != 1)
		return rc;
	if (purged)
		return 0;
	if ((rc = db_case_change(db, ST_CASE_INBOUND, ref, when)) != 1)
		return rc;
	if (strcmp(status, DB_STATUS_CLOSED) == 0 && db_event_add(db, ref,
	    when, "reopened", from, NULL) == -1)
		return -1;
	return db_event_add(db, ref, when, "message", from, subject) == -1 ?
	    -1 : 1;
}

int
db_case_by_msgid(struct db *db, const char *msgid, char *ref, size_t refsz)
{
	sqlite3_stmt *st = db->st[ST_CASE_BY_MSGID];

	if (msgid == NULL || msgid[0] == '\0')
		return 0;
	sqlite3_bind_text(st, 1, msgid, -1, SQLITE_STATIC);
	return db_row_text(st, 0, 0, ref, refsz);
}

int
db_case_answered(struct db *db, const char *ref, const char *by,
    long long when)
{
	int rc;

	if ((rc = db_case_change(db, ST_CASE_ANSWERED, ref, when)) != 1)
		return rc;
	return db_event_add(db, ref, when, "answered", by, NULL) == -1 ?
	    -1 : 1;
}

int
db_digest_claim(struct db *db, const char *day, long long now)
{
	sqlite3_stmt *st = db->st[ST_DIGEST_CLAIM];

	sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	return db_row_exists(st);
}

int
db_digest_claim_now(struct db *db, const char *day, long long now)
{
	int rc;

	if (db_begin(db) == -1)
		return -1;
	if ((rc = db_digest_claim(db, day, now)) == -1) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db) == -1 ? -1 : rc;
}

int
db_digest_committed(struct db *db, const char *day, long long when)
{
	sqlite3_stmt *st = db->st[ST_DIGEST_COMMITTED];
	int rc;

	pthread_mutex_lock(&db->mtx);
	sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, when);
	rc = db_row_exists(st);
	pthread_mutex_unlock(&db->mtx);
	return rc;
}

int
db_case_sender(struct db *db, const char *ref, char *out, size_t outsz)
{
	sqlite3_stmt *st = db->st[ST_CASE_SENDER];

	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	return db_row_text(st, 0, 0, out, outsz);
}

int
db_digest_claimed(struct db *db, const char *day)
{
	sqlite3_stmt *st = db->st[ST_DIGEST_CLAIMED];
	int rc;

	pthread_mutex_lock(&db->mtx);
	sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	rc = db_row_exists(st);
	pthread_mutex_unlock(&db->mtx);
	return rc;
}

int
db_digest_last(struct db *db, long long *when)
{
	sqlite3_stmt *st = db->st[ST_DIGEST_LAST];
	int rc, ret = 0;

	pthread_mutex_lock(&db->mtx);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*when = sqlite3_column_int64(st, 0);
		ret = 1;
	} else if (rc != SQLITE_DONE)
		ret = -1;
	sqlite3_reset(st);
	pthread_mutex_unlock(&db->mtx);
	return ret;
}

/* a command on one case in a transaction of its own: the state is
 * checked, the change made (statement which, unless ST_MAX) and the
 * events added, or nothing at all */
static int
db_case_command(struct db *db, const char *ref, int which, const char *what,
    const char *actor, const char *note, long long when)
{
	char status[16];
	int purged, rc;

	if (db_begin(db) == -1)
		return -1;
	if ((rc = db_case_state(db, ref, status, sizeof(status),
	    &purged)) != 1)
		goto out;
	if (purged && which != ST_CASE_CLOSE) {
		rc = DB_CASE_PURGED;
		goto out;
	}
	if (which != ST_MAX) {
		if ((rc = db_case_change(db, which, ref, when)) == 0)
			rc = DB_CASE_UNCHANGED;
		if (rc != 1)
			goto out;
		if (db_event_add(db, ref, when, what, actor, NULL) == -1)
			goto fail;
	}
	if (note != NULL && db_event_add(db, ref, when, "note", actor,
	    note) == -1)
		goto fail;
	return db_commit(db) == -1 ? -1 : DB_CASE_DONE;
fail:
	rc = -1;
out:
	db_rollback(db);
	return rc;
}

int
db_case_close(struct db *db, const char *ref, const char *actor,
    const char *note, long long when)
{
	return db_case_command(db, ref, ST_CASE_CLOSE, "closed", actor, note,
	    when);
}

int
db_case_reopen(struct db *db, const char *ref, const char *actor,
    long long when)
{
	return db_case_command(db, ref, ST_CASE_REOPEN, "reopened", actor,
	    NULL, when);
}

int
db_case_note(struct db *db, const char *ref, const char *actor,
    const char *text, long long when)
{
	return db_case_command(db, ref, ST_MAX, NULL, actor, text, when);
}

/* step through the rows of a bound statement of the register with
 * rowfn, under the lock; the statement is reset after. 0 or -1 */
static int
db_each(struct db *db, sqlite3_stmt *st, void (*rowfn)(sqlite3_stmt *,
    void *), void *arg)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		rowfn(st, arg);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		log_warnx("sqlite: %s", sqlite3_errmsg(db->h));
		return -1;
	}
	return 0;
}

struct db_case_cb {
	void	(*cb)(const struct db_case *, void *);
	void	 *arg;
	int	  n;
};

static void
db_case_row(sqlite3_stmt *st, void *arg)
{
	struct db_case_cb *c = arg;
	struct db_case k;

	db_row_case(st, &k);
	c->n++;
	c->cb(&k, c->arg);
}

/* text as a LIKE pattern that finds it anywhere: lower case, with % _
 * and the escape character escaped; NULL when it does not fit */
static char *
db_like_pattern(const char *text, char *out, size_t outsz)
{
	size_t o = 0;

	if (outsz < 3)
		return NULL;
	out[o++] = '%';
	for (; *text; text++) {
		if (o + 4 > outsz)
			return NULL;
		if (*text == '%' || *text == '_' || *text == '\\')
			out[o++] = '\\';
		out[o++] = (char)tolower((unsigned char)*text);
	}
	out[o++] = '%';
	out[o] = '\0';
	return out;
}

int
db_cases(struct db *db, const struct db_case_filter *f,
    void (*cb)(const struct db_case *, void *), void *arg)
{
	sqlite3_stmt *st = db->st[f->open ? ST_CASES_OPEN : ST_CASES];
	struct db_case_cb c = { cb, arg, 0 };
	char pat[1024];
	int rc;

	if (f->search != NULL && db_like_pattern(f->search, pat,
	    sizeof(pat)) == NULL)
		return -1;
	pthread_mutex_lock(&db->mtx);
	sqlite3_bind_int64(st, 1, f->since);
	sqlite3_bind_int(st, 2, f->open != 0);
	sqlite3_bind_int(st, 3, f->closed != 0);
	sqlite3_bind_int(st, 4, f->overdue != 0);
	sqlite3_bind_int64(st, 5, f->overdue_before);
	sqlite3_bind_text(st, 6, f->category, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, f->search ? pat : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, f->limit > 0 ? f->limit : LLONG_MAX);
	rc = db_each(db, st, db_case_row, &c);
	pthread_mutex_unlock(&db->mtx);
	return rc;
}

int
db_case_get(struct db *db, const char *ref,
    void (*cb)(const struct db_case *, void *), void *arg)
{
	sqlite3_stmt *st = db->st[ST_CASE_GET];
	struct db_case_cb c = { cb, arg, 0 };
	int rc;

	pthread_mutex_lock(&db->mtx);
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	rc = db_each(db, st, db_case_row, &c);
	pthread_mutex_unlock(&db->mtx);
	return rc == -1 ? -1 : c.n > 0;
}

struct db_event_cb {
	void	(*cb)(const struct db_event *, void *);
	void	 *arg;
};

static void
db_event_row(sqlite3_stmt *st, void *arg)
{
	struct db_event_cb *c = arg;
	struct db_event ev;

	ev.time = sqlite3_column_int64(st, 0);
	ev.what = (const char *)sqlite3_column_text(st, 1);
	ev.actor = (const char *)sqlite3_column_text(st, 2);
	ev.text = (const char *)sqlite3_column_text(st, 3);
	c->cb(&ev, c->arg);
}

int
db_case_history(struct db *db, const char *ref,
    void (*cb)(const struct db_event *, void *), void *arg)
{
	sqlite3_stmt *st = db->st[ST_CASE_EVENTS];
	struct db_event_cb c = { cb, arg };
	int rc;

	pthread_mutex_lock(&db->mtx);
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	rc = db_each(db, st, db_event_row, &c);
	pthread_mutex_unlock(&db->mtx);
	return rc;
}

struct db_enq_cb {
	void	(*cb)(const struct db_enquiry *, void *);
	void	 *arg;
};

static void
db_enq_row(sqlite3_stmt *st, void *arg)
{
	struct db_enq_cb *c = arg;
	struct db_enquiry e;

	db_row_enquiry(st, &e);
	c->cb(&e, c->arg);
}

int
db_case_messages(struct db *db, const char *ref,
    void (*cb)(const struct db_enquiry *, void *), void *arg)
{
	sqlite3_stmt *st = db->st[ST_CASE_MESSAGES];
	struct db_enq_cb c = { cb, arg };
	int rc;

	pthread_mutex_lock(&db->mtx);
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	rc = db_each(db, st, db_enq_row, &c);
	pthread_mutex_unlock(&db->mtx);
	return rc;
}

struct db_stat_cb {
	void	(*cb)(const struct db_stat_row *, void *);
	void	 *arg;
};

static void
db_stat_row(sqlite3_stmt *st, void *arg)
{
	struct db_stat_cb *c = arg;
	struct db_stat_row r;

	r.opened = sqlite3_column_int64(st, 0);
	r.category = (const char *)sqlite3_column_text(st, 1);
	r.status = (const char *)sqlite3_column_text(st, 2);
	r.waiting_since = db_col_time(st, 3);
	r.first_answer = db_col_time(st, 4);
	c->cb(&r, c->arg);
}

int
db_stats(struct db *db, long long since,
    void (*cb)(const struct db_stat_row *, void *), void *arg)
{
	sqlite3_stmt *st = db->st[ST_STATS];
	struct db_stat_cb c = { cb, arg };
	int rc;

	pthread_mutex_lock(&db->mtx);
	sqlite3_bind_int64(st, 1, since);
	rc = db_each(db, st, db_stat_row, &c);
	pthread_mutex_unlock(&db->mtx);
	return rc;
}

/* an address as the milter keeps them: lower case; -1 when too long */
static int
db_addr_key(const char *addr, char *key, size_t keysz)
{
	size_t k;

	for (k = 0; addr[k]; k++) {
		if (k + 1 >= keysz)
			return -1;
		key[k] = (char)tolower((unsigned char)addr[k]);
	}
	key[k] = '\0';
	return 0;
}

/* the references a bound statement answers, copied (the purges change
 * the rows they come from): a NULL-terminated array, NULL on error */
static char **
db_refs(struct db *db, sqlite3_stmt *st, size_t *n)
{
	char **refs = NULL, **nr;
	const char *v;
	size_t cap = 0;
	int rc;

	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((v = (const char *)sqlite3_column_text(st, 0)) == NULL)
			continue;
		if (*n + 1 >= cap) {
			cap = cap ? cap * 2 : 16;
			if ((nr = realloc(refs, cap * sizeof(*refs))) == NULL)
				break;
			refs = nr;
		}
		if ((refs[*n] = strdup(v)) == NULL)
			break;
		refs[++*n] = NULL;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE || refs == NULL) {
		if (rc != SQLITE_DONE)
			log_warnx("sqlite: %s", sqlite3_errmsg(db->h));
		while (*n > 0)
			free(refs[--*n]);
		free(refs);
		return rc == SQLITE_DONE ? calloc(1, sizeof(char *)) : NULL;
	}
	return refs;
}

static void
db_refs_free(char **refs, size_t n)
{
	while (n > 0)
		free(refs[--n]);
	free(refs);
}

/* one statement binding ?1 (and ?2 when when >= 0), no rows: the number
 * of rows it changed added to *count. 0 or -1 */
static int
db_purge_step(struct db *db, int which, const char *key, long long when,
    long long *count)
{
	sqlite3_stmt *st = db->st[which];

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (when >= 0)
		sqlite3_bind_int64(st, 2, when);
	if (db_step_done(db, which) == -1)
		return -1;
	*count += sqlite3_changes(db->h);
	return 0;
}

/* the personal data of one case, in the caller's transaction */
static int
db_purge_case(struct db *db, const char *ref, const char *actor,
    long long when, struct db_purge_count *pc)
{
	long long none = 0;

	if (db_purge_step(db, ST_PURGE_MESSAGES, ref, -1,
	    &pc->messages) == -1 ||
	    db_purge_step(db, ST_PURGE_CASE, ref, when, &none) == -1 ||
	    db_purge_step(db, ST_PURGE_EVENTS, ref, -1, &none) == -1 ||
	    db_event_add(db, ref, when, "purged", actor, NULL) == -1)
		return -1;
	pc->cases++;
	return 0;
}

/* after a purge: the wal copied into the database and emptied, so what
 * was deleted is in neither file (secure_delete overwrote it in the
 * database). a reader in the way is waited for, within the busy time */
static int
db_checkpoint(struct db *db)
{
	sqlite3_stmt *st;
	int rc, busy = 1;

	if (sqlite3_prepare_v2(db->h, "PRAGMA wal_checkpoint(TRUNCATE)", -1,
	    &st, NULL) != SQLITE_OK)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		busy = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW || busy) {
		log_warnx("sqlite: the write-ahead log could not be emptied "
		    "(%s): it may hold purged data until the next checkpoint",
		    busy ? "a reader is in the way" : sqlite3_errmsg(db->h));
		return -1;
	}
	return 0;
}

int
db_purge_address(struct db *db, const char *addr, long long when,
    struct db_purge_count *pc)
{
	static const int other[] = { ST_ADDR_EVENTS, ST_ADDR_ACK,
	    ST_ADDR_AUTOREPLY, ST_ADDR_LIST_REPLY, ST_ADDR_LIST_TOKEN };
	char key[512], **refs;
	size_t i, n;

	memset(pc, 0, sizeof(*pc));
	if (db_addr_key(addr, key, sizeof(key)) == -1 || key[0] == '\0')
		return -1;
	if (db_begin(db) == -1)
		return -1;
	sqlite3_bind_text(db->st[ST_ADDR_CASES], 1, key, -1, SQLITE_STATIC);
	if ((refs = db_refs(db, db->st[ST_ADDR_CASES], &n)) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		if (db_purge_case(db, refs[i], "enquiries", when, pc) == -1)
			break;
	db_refs_free(refs, n);
	if (i < n || db_purge_step(db, ST_ADDR_MESSAGES, key, -1,
	    &pc->messages) == -1)
		goto fail;
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (db_purge_step(db, other[i], key, -1, &pc->other) == -1)
			goto fail;
	if (db_commit(db) == -1)
		return -1;
	pthread_mutex_lock(&db->mtx);
	pc->wal_kept = db_checkpoint(db) == -1;
	pthread_mutex_unlock(&db->mtx);
	return 0;
fail:
	db_rollback(db);
	return -1;
}

int
db_purge_expired(struct db *db, long long before, long long when,
    struct db_purge_count *pc)
{
	static const int old[] = { ST_OLD_AUTO, ST_OLD_ACK, ST_OLD_AUTOREPLY,
	    ST_OLD_LIST_REPLY, ST_OLD_LIST_TOKEN };
	char **refs;
	size_t i, n;
	sqlite3_stmt *st = db->st[ST_EXPIRED];

	memset(pc, 0, sizeof(*pc));
	if (db_begin(db) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, before);
	if ((refs = db_refs(db, st, &n)) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		if (db_purge_case(db, refs[i], "retention", when, pc) == -1)
			break;
	db_refs_free(refs, n);
	if (i < n)
		goto fail;
	for (i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
		st = db->st[old[i]];
		sqlite3_bind_int64(st, 1, before);
		if (db_step_done(db, old[i]) == -1)
			goto fail;
		if (old[i] == ST_OLD_AUTO)
			pc->messages += sqlite3_changes(db->h);
		else
			pc->other += sqlite3_changes(db->h);
	}
	if (db_commit(db) == -1)
		return -1;
	if (pc->cases == 0 && pc->messages == 0 && pc->other == 0)
		return 0;
	pthread_mutex_lock(&db->mtx);
	pc->wal_kept = db_checkpoint(db) == -1;
	pthread_mutex_unlock(&db->mtx);
	return 0;
fail:
	db_rollback(db);
	return -1;
}

struct db_export_cb {
	void		(*cb)(const struct db_export_row *, void *);
	void		 *arg;
	const char	 *table;
};

/* any row as names and text values (the numbers as decimal text) */
static void
db_export_one(sqlite3_stmt *st, void *arg)
{
	struct db_export_cb *c = arg;
	const char *names[24], *values[24];
	int isint[24], i, n = sqlite3_column_count(st);
	struct db_export_row r;

	if (n > 24)
		n = 24;
	for (i = 0; i < n; i++) {
		names[i] = sqlite3_column_name(st, i);
		isint[i] = sqlite3_column_type(st, i) == SQLITE_INTEGER;
		values[i] = (const char *)sqlite3_column_text(st, i);
	}
	r.table = c->table;
	r.n = n;
	r.names = names;
	r.values = values;
	r.isint = isint;
	c->cb(&r, c->arg);
}

int
db_export_address(struct db *db, const char *addr,
    void (*cb)(const struct db_export_row *, void *), void *arg)
{
	static const struct {
		int		 which;
		const char	*table;
	} parts[] = {
		{ ST_EXP_CASES, "case" }, { ST_EXP_MESSAGES, "message" },
		{ ST_EXP_EVENTS, "event" }, { ST_EXP_ACK, "acknowledgement" },
		{ ST_EXP_AUTOREPLY, "auto_reply" },
		{ ST_EXP_LIST_REPLY, "list_reply" },
		{ ST_EXP_LIST_TOKEN, "list_token" },
	};
	struct db_export_cb c = { cb, arg, NULL };
	char key[512];
	size_t i;
	int rc = 0;

	if (db_addr_key(addr, key, sizeof(key)) == -1 || key[0] == '\0')
		return -1;
	/* one read transaction, so the parts agree with each other; it
	 * takes no write lock, the milter goes on */
	pthread_mutex_lock(&db->mtx);
	if (db_step_done(db, ST_BEGIN_READ) == -1) {
		pthread_mutex_unlock(&db->mtx);
		return -1;
	}
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]) && rc == 0; i++) {
		c.table = parts[i].table;
		sqlite3_bind_text(db->st[parts[i].which], 1, key, -1,
		    SQLITE_STATIC);
		rc = db_each(db, db->st[parts[i].which], db_export_one, &c);
	}
	db_step_done(db, ST_ROLLBACK);
	pthread_mutex_unlock(&db->mtx);
	return rc;
}

/* the milter's state: references, the enquiry log, ack times, list
 * tokens and list reply times. the queries and their logic live here,
 * written once; the engine beneath (db_driver.h) is sqlite or postgresql.
 * a pool of connections serves libmilter's threads: a transaction keeps
 * its thread's connection from db_begin to db_commit or db_rollback, and
 * what runs outside one borrows a connection for its own statement */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "db_driver.h"
#include "log.h"
#include "rnd.h"

enum {
	ST_REF_NEXT, ST_FIND_MSGID, ST_REF_KNOWN, ST_ACK_LAST, ST_ACK_SET,
	ST_ENQ_ADD, ST_ACK_COMMITTED, ST_THREAD_MSGID, ST_CASE_PARTY,
	ST_CASE_CATEGORY, ST_TOKEN_EXPIRE, ST_TOKEN_NEW, ST_TOKEN_GET,
	ST_TOKEN_USE, ST_REPLY_ALLOWED,
	ST_CASE_OPEN, ST_EVENT_ADD, ST_CASE_STATE, ST_CASE_INBOUND,
	ST_CASE_BY_MSGID, ST_CASE_ANSWERED, ST_DIGEST_CLAIM, ST_DIGEST_CLAIMED,
	ST_DIGEST_LAST, ST_CASE_CLOSE, ST_CASE_REOPEN, ST_CASES, ST_CASE_GET,
	ST_CASE_EVENTS, ST_CASE_MESSAGES, ST_STATS, ST_PURGE_MESSAGES,
	ST_PURGE_CASE, ST_PURGE_EVENTS, ST_EXPIRED, ST_ADDR_CASES,
	ST_ADDR_MESSAGES, ST_ADDR_EVENTS, ST_ADDR_ACK, ST_ADDR_AUTOREPLY,
	ST_ADDR_LIST_REPLY, ST_ADDR_LIST_TOKEN, ST_EXP_CASES, ST_EXP_MESSAGES,
	ST_EXP_EVENTS, ST_EXP_ACK, ST_EXP_AUTOREPLY, ST_EXP_LIST_REPLY,
	ST_EXP_LIST_TOKEN, ST_CASE_SENDER,
	ST_DIGEST_COMMITTED, ST_OLD_AUTO, ST_OLD_ACK, ST_OLD_AUTOREPLY,
	ST_OLD_LIST_REPLY, ST_OLD_LIST_TOKEN, ST_CASES_OPEN,
	ST_LOCK_ADDR, ST_LIST,
	ST_AUTOREPLY_OLD, ST_AUTOREPLY_COUNT, ST_AUTOREPLY_ADD,
	ST_AUTOREPLY_SWEEP, ST_MIG_DONE, ST_MIG_COUNT, ST_MIG_MARK,
	ST_MIG_REFSEQ_GET, ST_MIG_REFSEQ_PUT, ST_MIG_ENQ_GET, ST_MIG_ACK_GET,
	ST_MIG_AUTOREPLY_GET, ST_MIG_AUTOREPLY_PUT, ST_MIG_TOKEN_GET,
	ST_MIG_TOKEN_PUT, ST_MIG_REPLY_GET, ST_MIG_REPLY_PUT, ST_MIG_CASE_GET,
	ST_MIG_CASE_PUT, ST_MIG_EVENT_GET, ST_MIG_DIGEST_GET, ST_MIG_DIGEST_PUT,
	ST_MAX
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

/* each statement in SQL both engines run (?N placeholders, which the
 * postgresql driver numbers $N); where they differ, the postgresql
 * spelling in db_sql_pg */
static const char *const db_sql[ST_MAX] = {
	/*
	 * references: a counter row per prefix and year, incremented in
	 * the transaction that records the enquiry. its row lock holds
	 * any other milter's increment until this one commits or rolls
	 * back, so no two transactions ever get the same number (in
	 * sqlite, BEGIN IMMEDIATE does the same for the whole file), and
	 * a rolled-back or crashed transaction gives its number back: no
	 * gaps. a postgresql sequence would not wait, but nextval is not
	 * transactional, and every tempfail or crash would leave a gap
	 */
	[ST_REF_NEXT] = "INSERT INTO refseq(prefix, year, last) "
	    "VALUES(?1, ?2, 1) ON CONFLICT(prefix, year) "
	    "DO UPDATE SET last = refseq.last + 1 RETURNING last",
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
	    "SET last = excluded.last WHERE list_reply.last <= "
	    "excluded.last - ?4 RETURNING last",

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
	/* one address's decisions, one transaction at a time: in sqlite
	 * every write transaction already is alone (BEGIN IMMEDIATE) */
	[ST_LOCK_ADDR] = "SELECT ?1",
	[ST_LIST] = "SELECT " DB_ENQ_COLS " FROM enquiry "
	    "ORDER BY id DESC LIMIT ?1",
	/* automatic replies: the address's rows older than the window go,
	 * then the rest are counted */
	[ST_AUTOREPLY_OLD] = "DELETE FROM autoreply WHERE address = ?1 AND "
	    "time <= ?2",
	[ST_AUTOREPLY_COUNT] = "SELECT count(*) FROM autoreply "
	    "WHERE address = ?1",
	[ST_AUTOREPLY_ADD] = "INSERT INTO autoreply(address, time) "
	    "VALUES(?1, ?2)",
	/* and every address's, now and then, so the table holds an hour */
	[ST_AUTOREPLY_SWEEP] = "DELETE FROM autoreply WHERE time <= ?1",
	/* a register moved from sqlite into postgresql (db_migrate): each
	 * table read in full from the one, written to the other */
	[ST_MIG_DONE] = "SELECT source FROM migration LIMIT 1",
	[ST_MIG_COUNT] = "SELECT (SELECT count(*) FROM enquiry) + "
	    "(SELECT count(*) FROM refseq)",
	[ST_MIG_MARK] = "INSERT INTO migration(source, time, rows) "
	    "VALUES(?1, ?2, ?3)",
	[ST_MIG_REFSEQ_GET] = "SELECT prefix, year, last FROM refseq",
	[ST_MIG_REFSEQ_PUT] = "INSERT INTO refseq(prefix, year, last) "
	    "VALUES(?1, ?2, ?3)",
	/* in the order of their ids: the first row of a case stays first */
	[ST_MIG_ENQ_GET] = "SELECT " DB_ENQ_COLS " FROM enquiry ORDER BY id",
	[ST_MIG_CASE_GET] = "SELECT " DB_CASE_COLS ", search FROM enq_case",
	[ST_MIG_CASE_PUT] = "INSERT INTO enq_case(" DB_CASE_COLS ", search) "
	    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
	    "?14)",
	[ST_MIG_EVENT_GET] = "SELECT reference, time, what, actor, text "
	    "FROM case_event ORDER BY id",
	[ST_MIG_DIGEST_GET] = "SELECT day, spooled FROM digest",
	[ST_MIG_DIGEST_PUT] = "INSERT INTO digest(day, spooled) "
	    "VALUES(?1, ?2)",
	[ST_MIG_ACK_GET] = "SELECT sender, enquiry, last FROM ack",
	[ST_MIG_AUTOREPLY_GET] = "SELECT address, time FROM autoreply",
	[ST_MIG_AUTOREPLY_PUT] = "INSERT INTO autoreply(address, time) "
	    "VALUES(?1, ?2)",
	[ST_MIG_TOKEN_GET] = "SELECT token, list, action, address, created, "
	    "expires FROM list_token",
	[ST_MIG_TOKEN_PUT] = "INSERT INTO list_token(token, list, action, "
	    "address, created, expires) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_MIG_REPLY_GET] = "SELECT sender, key, last FROM list_reply",
	[ST_MIG_REPLY_PUT] = "INSERT INTO list_reply(sender, key, last) "
	    "VALUES(?1, ?2, ?3)",
};


/* the tables db_migrate copies: read, write, and the columns' kinds
 * (t text, i integer) */
static const struct {
	int		 get, put;
	const char	*cols;
} db_mig_tables[] = {
	{ ST_MIG_REFSEQ_GET, ST_MIG_REFSEQ_PUT, "tii" },
	{ ST_MIG_ENQ_GET, ST_ENQ_ADD, "ti" "tttttttttttt" "tti" },
	{ ST_MIG_CASE_GET, ST_MIG_CASE_PUT, "ttti" "tttt" "iiiii" "t" },
	{ ST_MIG_EVENT_GET, ST_EVENT_ADD, "tittt" },
	{ ST_MIG_DIGEST_GET, ST_MIG_DIGEST_PUT, "ti" },
	{ ST_MIG_ACK_GET, ST_ACK_SET, "tti" },
	{ ST_MIG_AUTOREPLY_GET, ST_MIG_AUTOREPLY_PUT, "ti" },
	{ ST_MIG_TOKEN_GET, ST_MIG_TOKEN_PUT, "ttttii" },
	{ ST_MIG_REPLY_GET, ST_MIG_REPLY_PUT, "tti" },
};

static const char *const db_sql_pg[ST_MAX] = {
	[ST_CASE_PARTY] = "SELECT 1 FROM enquiry WHERE reference = ?1 "
	    "AND ?2 <> '' AND (sender = ?2 OR "
	    "strpos(' ' || recipients || ' ', ' ' || ?2 || ' ') > 0) LIMIT 1",
	/*
	 * read committed, and a lock per address (a hash of it: two
	 * addresses sharing one only wait for each other) held to the end
	 * of the transaction: two milters given the same sender at the
	 * same moment decide its retry, ack interval and reply cap one
	 * after the other, and the second sees what the first committed
	 * (each statement of read committed reads the latest commit)
	 */
	[ST_LOCK_ADDR] = "SELECT 1 FROM (SELECT "
	    "pg_advisory_xact_lock(hashtextextended(?1, 0))) AS l",
	/* rows another transaction holds are left for the next sweep: the
	 * sweep never waits, so it can never deadlock with one */
	[ST_AUTOREPLY_SWEEP] = "DELETE FROM autoreply WHERE ctid IN ("
	    "SELECT ctid FROM autoreply WHERE time <= ?1 "
	    "FOR UPDATE SKIP LOCKED)",
};

/* the sweep of old automatic-reply rows, at most this often */
#define DB_SWEEP_INTERVAL	60

struct db_conn {
	struct db		*db;
	struct db_drv_conn	*h;		/* NULL: to connect */
	struct db_drv_stmt	*st[ST_MAX];	/* prepared on first use */
	int			 busy;
	unsigned		 gen;		/* db's when it connected */
	int			 wait_ms;	/* set_wait applied, 0 none */
};

struct db {
	const struct db_driver	*drv;
	char			*target;
	const char		*name;		/* what messages call it */
	int			 timeout;	/* seconds, every wait */
	pthread_mutex_t		 mtx;
	pthread_cond_t		 freed;
	struct db_conn		*conns;
	int			 nconns;
	int			 down;		/* an outage, logged once */
	unsigned		 gen;		/* + 1 when one was lost */
	int			 wait_ms;	/* db_set_wait's, 0 the default */
	long long		 swept;
};

/* the calling thread's transaction, and its last error */
static __thread struct db_conn *db_tx;
static __thread char db_lasterr[512];
static __thread int db_lastlocked;

/* a statement borrowed with its connection, for one query */
struct db_q {
	struct db		*db;
	struct db_conn		*c;
	struct db_drv_stmt	*st;
};

static void
db_seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(db_lasterr, sizeof(db_lasterr), fmt, ap);
	va_end(ap);
}

static void
db_drop(struct db_conn *c)
{
	int i;

	for (i = 0; i < ST_MAX; i++) {
		if (c->st[i] != NULL)
			c->db->drv->finalize(c->st[i]);
		c->st[i] = NULL;
	}
	if (c->h != NULL)
		c->db->drv->disconnect(c->h);
	c->h = NULL;
}

/* the store cannot be reached (or written): said once per outage */
static void
db_outage(struct db *db, const char *why)
{
	int first;

	pthread_mutex_lock(&db->mtx);
	first = !db->down;
	db->down = 1;
	pthread_mutex_unlock(&db->mtx);
	if (first)
		log_warnx("store unavailable, mail is deferred until it is "
		    "back: %s", why);
}

static void
db_available(struct db *db)
{
	int was;

	pthread_mutex_lock(&db->mtx);
	was = db->down;
	db->down = 0;
	pthread_mutex_unlock(&db->mtx);
	if (was)
		log_warnx("%s: available again", db->name);
}

/* after a failed call on c: keep its message for db_errmsg, note an
 * outage, and drop a lost connection so the next use reconnects */
static void
db_failed(struct db_conn *c, const char *what)
{
	const struct db_driver *drv = c->db->drv;
	int how;

	if (c->h == NULL)
		return;
	db_seterr("%s: %s%s%s", c->db->name, what ? what : "",
	    what ? ": " : "", drv->errmsg(c->h));
	db_lastlocked = drv->locked(c->h);
	how = drv->failure(c->h);
	if (how != DB_FAIL_QUERY)
		db_outage(c->db, db_lasterr);
	if (how == DB_FAIL_BROKEN) {
		/* the server went (a restart, a failover): the others the
		 * pool holds are as dead, so they are replaced when next
		 * used, not found out one message at a time */
		pthread_mutex_lock(&c->db->mtx);
		c->db->gen++;
		pthread_mutex_unlock(&c->db->mtx);
		db_drop(c);
	}
}

static int
db_connect(struct db_conn *c)
{
	struct db *db = c->db;
	char err[512];

	if ((c->h = db->drv->connect(db->target, db->timeout, err,
	    sizeof(err))) == NULL) {
		db_seterr("%s: %s", db->name, err);
		if (db->drv->dialect != DB_DIALECT_SQLITE)
			db_outage(db, db_lasterr);
		return -1;
	}
	if (db->drv->schema(c->h, err, sizeof(err)) == -1) {
		db_seterr("%s: %s", db->name, err);
		if (db->drv->failure(c->h) != DB_FAIL_QUERY)
			db_outage(db, db_lasterr);
		db_drop(c);
		return -1;
	}
	return 0;
}

/* a connection of the pool, within the timeout: a connected one when
 * one is free */
static struct db_conn *
db_checkout(struct db *db)
{
	struct timespec until;
	struct db_conn *c = NULL;
	int i, rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += db->timeout;
	pthread_mutex_lock(&db->mtx);
	for (;;) {
		for (i = 0; i < db->nconns; i++) {
			if (db->conns[i].busy)
				continue;
			if (c == NULL || db->conns[i].h != NULL)
				c = &db->conns[i];
			if (c->h != NULL)
				break;
		}
		if (c != NULL || rc == ETIMEDOUT)
			break;
		rc = pthread_cond_timedwait(&db->freed, &db->mtx, &until);
	}
	if (c != NULL) {
		c->busy = 1;
		if (c->h != NULL && c->gen != db->gen)
			db_drop(c);
		c->gen = db->gen;
	}
	pthread_mutex_unlock(&db->mtx);
	if (c == NULL) {
		db_seterr("%s: no connection free within %d s", db->name,
		    db->timeout);
		log_warnx("%s", db_lasterr);
		return NULL;
	}
	if (c->h == NULL) {
		c->wait_ms = 0;
		if (db_connect(c) == -1) {
			pthread_mutex_lock(&db->mtx);
			c->busy = 0;
			pthread_cond_signal(&db->freed);
			pthread_mutex_unlock(&db->mtx);
			return NULL;
		}
	}
	if (db->wait_ms != c->wait_ms) {
		db->drv->set_wait(c->h, db->wait_ms);
		c->wait_ms = db->wait_ms;
	}
	return c;
}

static void
db_checkin(struct db_conn *c)
{
	struct db *db = c->db;

	pthread_mutex_lock(&db->mtx);
	c->busy = 0;
	pthread_cond_signal(&db->freed);
	pthread_mutex_unlock(&db->mtx);
}

/* the thread's transaction when it has one on db, else a connection of
 * its own until db_put */
static struct db_conn *
db_get(struct db *db)
{
	if (db_tx != NULL && db_tx->db == db)
		return db_tx;
	return db_checkout(db);
}

static void
db_put(struct db_conn *c, int ok)
{
	if (ok && c->h != NULL && !c->db->drv->in_transaction(c->h))
		db_available(c->db);
	if (c != db_tx)
		db_checkin(c);
}

/* statement which of c, prepared the first time c runs it */
static struct db_drv_stmt *
db_stmt(struct db_conn *c, int which)
{
	const char *sql;

	if (c->st[which] != NULL)
		return c->st[which];
	sql = c->db->drv->dialect == DB_DIALECT_PG && db_sql_pg[which] ?
	    db_sql_pg[which] : db_sql[which];
	if ((c->st[which] = c->db->drv->prepare(c->h, sql)) == NULL)
		db_failed(c, "prepare");
	return c->st[which];
}

/* borrow statement which (and its connection) for one query: bind, then
 * one of the db_row_* / db_step_* helpers runs it and gives both back */
static int
db_q(struct db *db, struct db_q *q, int which)
{
	q->db = db;
	if ((q->c = db_get(db)) == NULL)
		return -1;
	if (q->c->h == NULL || (q->st = db_stmt(q->c, which)) == NULL) {
		if (q->c->h == NULL)
			db_seterr("%s: connection lost", db->name);
		db_put(q->c, 0);
		return -1;
	}
	return 0;
}

static void
db_bind_text(struct db_q *q, int i, const char *v)
{
	q->db->drv->bind_text(q->st, i, v);
}

static void
db_bind_int(struct db_q *q, int i, long long v)
{
	q->db->drv->bind_int(q->st, i, v);
}

/* the end of every query: the statement reset and its bindings cleared
 * for the next caller, an error noted, the connection given back */
static int
db_q_end(struct db_q *q, int rc)
{
	q->db->drv->reset(q->st);
	if (rc == -1)
		db_failed(q->c, NULL);
	db_put(q->c, rc != -1);
	return rc;
}

/* run a statement whose rows (none, or a RETURNING not needed) nobody
 * reads. in a transaction, an error may show only at the next query or
 * at the commit (the postgresql engine sends it with them) */
static int
db_step_done(struct db_q *q)
{
	int rc = q->db->drv->step_later(q->st);

	return db_q_end(q, rc == DB_DONE ? 0 : -1);
}

/* the rows a statement changed, or -1 on error */
static long long
db_step_changes(struct db_q *q)
{
	long long n = -1;

	if (q->db->drv->step(q->st) == DB_DONE)
		n = q->db->drv->changes(q->st);
	return db_q_end(q, n < 0 ? -1 : 0) == -1 ? -1 : n;
}

/* whether the statement answers a row at all: 1 yes, 0 no, -1 on error */
static int
db_row_exists(struct db_q *q)
{
	int rc = q->db->drv->step(q->st);

	return db_q_end(q, rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1);
}

/* 1 and integer column col of the first row in out, 0 when there is no
 * row, -1 on error */
static int
db_row_int(struct db_q *q, int col, long long *out)
{
	int rc = q->db->drv->step(q->st);

	if (rc == DB_ROW)
		*out = q->db->drv->column_int(q->st, col);
	return db_q_end(q, rc == DB_ROW ? 1 : rc == DB_DONE ? 0 : -1);
}

/* the one rule for reading a one-row answer: 1 and text column col of
 * the row in out, 0 when there is no row, -1 on error or when it does
 * not fit. a NULL column is "" when nullok, else an error */
static int
db_row_text(struct db_q *q, int col, int nullok, char *out, size_t outsz)
{
	const char *v;
	int rc, ret = 0;

	rc = q->db->drv->step(q->st);
	if (rc == DB_ROW) {
		v = q->db->drv->column_text(q->st, col);
		if (v == NULL && nullok)
			v = "";
		if (v != NULL && strlen(v) < outsz) {
			strcpy(out, v);
			ret = 1;
		} else {
			db_seterr("%s: an answer that does not fit",
			    q->db->name);
			q->db->drv->reset(q->st);
			db_put(q->c, 1);
			return -1;
		}
	} else if (rc != DB_DONE)
		ret = -1;
	return db_q_end(q, ret);
}

struct db *
db_open_pool(const char *target, int connections, int timeout, char *err,
    size_t errsz)
{
	struct db *db;
	int i;

	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->target = strdup(target)) == NULL) {
		free(db);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&db->mtx, NULL);
	pthread_cond_init(&db->freed, NULL);
	db->timeout = timeout > 0 ? timeout : DB_TIMEOUT_DEFAULT;
	if (db_is_url(target)) {
		db->drv = &db_pg_driver;
		/* never the connection string: it may hold a password */
		db->name = "postgresql";
		db->nconns = connections > 0 ? connections :
		    DB_CONNECTIONS_DEFAULT;
	} else {
		db->drv = &db_sqlite_driver;
		db->name = db->target;
		/* one writer at a time anyway: one connection */
		db->nconns = 1;
	}
	if ((db->conns = calloc(db->nconns, sizeof(*db->conns))) == NULL) {
		snprintf(err, errsz, "out of memory");
		db_close(db);
		return NULL;
	}
	for (i = 0; i < db->nconns; i++)
		db->conns[i].db = db;
	/* the first connection now, and the schema with it. sqlite must
	 * open; an unreachable server is an outage like any later one */
	if (db_connect(&db->conns[0]) == -1) {
		if (db->drv->dialect == DB_DIALECT_SQLITE ||
		    db->conns[0].h != NULL || !db->down) {
			snprintf(err, errsz, "%s", db_lasterr);
			db_close(db);
			return NULL;
		}
	}
	return db;
}

struct db *
db_open(const char *target, char *err, size_t errsz)
{
	return db_open_pool(target, 0, 0, err, errsz);
}

int
db_is_url(const char *target)
{
	return strncmp(target, "postgresql://", 13) == 0 ||
	    strncmp(target, "postgres://", 11) == 0;
}

void
db_close(struct db *db)
{
	int i;

	if (db == NULL)
		return;
	for (i = 0; db->conns != NULL && i < db->nconns; i++)
		db_drop(&db->conns[i]);
	free(db->conns);
	free(db->target);
	pthread_cond_destroy(&db->freed);
	pthread_mutex_destroy(&db->mtx);
	free(db);
}

void
db_set_wait(struct db *db, int ms)
{
	db->wait_ms = ms > 0 ? ms : 1;
}

int
db_locked(struct db *db)
{
	(void)db;
	return db_lastlocked;
}

const char *
db_errmsg(struct db *db)
{
	(void)db;
	return db_lasterr[0] ? db_lasterr : "no error";
}

int
db_unavailable(struct db *db)
{
	int down;

	pthread_mutex_lock(&db->mtx);
	down = db->down;
	pthread_mutex_unlock(&db->mtx);
	return down;
}

int
db_begin(struct db *db)
{
	struct db_conn *c;
	int lost;

	if (db_tx != NULL) {
		db_seterr("%s: a transaction inside a transaction", db->name);
		return -1;
	}
	if ((c = db_checkout(db)) == NULL)
		return -1;
	if (db->drv->begin(c->h) == -1) {
		db_failed(c, "begin");
		lost = c->h == NULL;
		db_checkin(c);
		/* a connection lost while idle: once more, on a new one */
		if (!lost || (c = db_checkout(db)) == NULL)
			return -1;
		if (db->drv->begin(c->h) == -1) {
			db_failed(c, "begin");
			db_checkin(c);
			return -1;
		}
	}
	db_tx = c;
	return 0;
}

/* a read-only transaction, ended by db_rollback */
static int
db_begin_read(struct db *db)
{
	struct db_conn *c;

	if (db_tx != NULL) {
		db_seterr("%s: a transaction inside a transaction", db->name);
		return -1;
	}
	if ((c = db_checkout(db)) == NULL)
		return -1;
	if (db->drv->begin_read(c->h) == -1) {
		db_failed(c, "begin");
		db_checkin(c);
		return -1;
	}
	db_tx = c;
	return 0;
}

/* now and then, after a commit: old automatic-reply rows of every
 * address, in a statement of its own */
static void
db_sweep(struct db *db)
{
	struct db_q q;
	long long now = time(NULL);
	int due;

	pthread_mutex_lock(&db->mtx);
	if ((due = now - db->swept >= DB_SWEEP_INTERVAL))
		db->swept = now;
	pthread_mutex_unlock(&db->mtx);
	if (!due || db_q(db, &q, ST_AUTOREPLY_SWEEP) == -1)
		return;
	db_bind_int(&q, 1, now - DB_AUTOREPLY_WINDOW);
	db_step_done(&q);
}

int
db_commit(struct db *db)
{
	struct db_conn *c = db_tx;
	int rc = -1;

	if (c == NULL || c->db != db)
		return -1;
	db_tx = NULL;
	if (c->h == NULL)
		db_seterr("%s: connection lost", db->name);
	else if ((rc = db->drv->commit(c->h)) == -1) {
		db_failed(c, "commit");
		if (c->h != NULL && db->drv->in_transaction(c->h))
			db->drv->rollback(c->h);
	} else
		db_available(db);
	db_checkin(c);
	if (rc == 0)
		db_sweep(db);
	return rc;
}

void
db_rollback(struct db *db)
{
	struct db_conn *c = db_tx;

	if (c == NULL || c->db != db)
		return;
	db_tx = NULL;
	if (c->h != NULL && db->drv->in_transaction(c->h) &&
	    db->drv->rollback(c->h) == -1)
		db_failed(c, "rollback");
	db_checkin(c);
}

int
db_ref_next(struct db *db, const char *prefix, int year, char *out,
    size_t outsz)
{
	struct db_q q;
	long long last = -1;
	int n;

	if (db_q(db, &q, ST_REF_NEXT) == -1)
		return -1;
	db_bind_text(&q, 1, prefix);
	db_bind_int(&q, 2, year);
	if (db_row_int(&q, 0, &last) != 1 || last < 1) {
		log_warnx("reference: %s", db_errmsg(db));
		return -1;
	}
	n = snprintf(out, outsz, "%s-%04d-%06lld", prefix, year, last);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int
db_lock_address(struct db *db, const char *addr)
{
	struct db_q q;
	char key[512];
	size_t k;

	/* the address as the milter compares them: lower case */
	for (k = 0; addr[k] && k + 1 < sizeof(key); k++)
		key[k] = (char)tolower((unsigned char)addr[k]);
	key[k] = '\0';
	if (db_q(db, &q, ST_LOCK_ADDR) == -1)
		return -1;
	db_bind_text(&q, 1, key);
	return db_step_done(&q);
}

int
db_find_msgid(struct db *db, const char *msgid, const char *sender,
    char *ref, size_t refsz)
{
	struct db_q q;

	if (db_q(db, &q, ST_FIND_MSGID) == -1)
		return -1;
	db_bind_text(&q, 1, msgid);
	db_bind_text(&q, 2, sender);
	/* reference is NOT NULL: a NULL one is damage, not an answer */
	return db_row_text(&q, 0, 0, ref, refsz);
}

int
db_ref_known(struct db *db, const char *ref)
{
	struct db_q q;

	if (db_q(db, &q, ST_REF_KNOWN) == -1)
		return -1;
	db_bind_text(&q, 1, ref);
	return db_row_exists(&q);
}

int
db_ack_committed(struct db *db, const char *ref, const char *sender,
    long long when)
{
	struct db_q q;

	if (db_q(db, &q, ST_ACK_COMMITTED) == -1)
		return -1;
	db_bind_text(&q, 1, ref);
	db_bind_text(&q, 2, sender);
	db_bind_int(&q, 3, when);
	return db_row_exists(&q);
}

int
db_ack_last(struct db *db, const char *sender, const char *enquiry,
    long long *when)
{
	struct db_q q;

	if (db_q(db, &q, ST_ACK_LAST) == -1)
		return -1;
	db_bind_text(&q, 1, sender);
	db_bind_text(&q, 2, enquiry);
	return db_row_int(&q, 0, when);
}

int
db_ack_set(struct db *db, const char *sender, const char *enquiry,
    long long when)
{
	struct db_q q;

	if (db_q(db, &q, ST_ACK_SET) == -1)
		return -1;
	db_bind_text(&q, 1, sender);
	db_bind_text(&q, 2, enquiry);
	db_bind_int(&q, 3, when);
	return db_step_done(&q);
}

int
db_enquiry_add(struct db *db, const struct db_enquiry *e)
{
	struct db_q q;

	if (db_q(db, &q, ST_ENQ_ADD) == -1)
		return -1;
	db_bind_text(&q, 1, e->reference);
	db_bind_int(&q, 2, e->time);
	db_bind_text(&q, 3, e->queue_id);
	db_bind_text(&q, 4, e->enquiry);
	db_bind_text(&q, 5, e->sender);
	db_bind_text(&q, 6, e->subject);
	db_bind_text(&q, 7, e->category);
	db_bind_text(&q, 8, e->message_id);
	db_bind_text(&q, 9, e->recipients);
	db_bind_text(&q, 10, e->ack);
	db_bind_text(&q, 11, e->kind);
	db_bind_text(&q, 12, e->orig_msgid);
	db_bind_text(&q, 13, e->ack_msgid);
	db_bind_text(&q, 14, e->claimed);
	db_bind_text(&q, 15, e->sender_name);
	db_bind_text(&q, 16, e->from_addr);
	/* a message has at least a header: 0 is a size nobody set */
	if (e->size > 0)
		db_bind_int(&q, 17, e->size);
	else
		db->drv->bind_int_null(q.st, 17);
	return db_step_done(&q);
}

int
db_thread_msgid(struct db *db, const char *msgid, const char *enquiry,
    char *ref, size_t refsz)
{
	struct db_q q;

	if (msgid[0] == '\0')
		return 0;
	if (db_q(db, &q, ST_THREAD_MSGID) == -1)
		return -1;
	db_bind_text(&q, 1, msgid);
	db_bind_text(&q, 2, enquiry);
	return db_row_text(&q, 0, 1, ref, refsz);
}

int
db_case_party(struct db *db, const char *ref, const char *addr)
{
	struct db_q q;

	if (db_q(db, &q, ST_CASE_PARTY) == -1)
		return -1;
	db_bind_text(&q, 1, ref);
	db_bind_text(&q, 2, addr);
	return db_row_exists(&q);
}

int
db_case_category(struct db *db, const char *ref, char *cat, size_t catsz)
{
	struct db_q q;

	if (db_q(db, &q, ST_CASE_CATEGORY) == -1)
		return -1;
	db_bind_text(&q, 1, ref);
	return db_row_text(&q, 0, 1, cat, catsz);
}

/* a message row of DB_ENQ_COLS, valid until the statement steps again */
static void
db_row_enquiry(struct db_q *q, struct db_enquiry *e)
{
	const struct db_driver *drv = q->db->drv;

	e->reference = drv->column_text(q->st, 0);
	e->time = drv->column_int(q->st, 1);
	e->queue_id = drv->column_text(q->st, 2);
	e->enquiry = drv->column_text(q->st, 3);
	e->sender = drv->column_text(q->st, 4);
	e->subject = drv->column_text(q->st, 5);
	e->category = drv->column_text(q->st, 6);
	e->message_id = drv->column_text(q->st, 7);
	e->recipients = drv->column_text(q->st, 8);
	e->ack = drv->column_text(q->st, 9);
	e->kind = drv->column_text(q->st, 10);
	e->orig_msgid = drv->column_text(q->st, 11);
	e->ack_msgid = drv->column_text(q->st, 12);
	e->claimed = drv->column_text(q->st, 13);
	e->sender_name = drv->column_text(q->st, 14);
	e->from_addr = drv->column_text(q->st, 15);
	e->size = drv->column_text(q->st, 16) == NULL ? -1 :
	    drv->column_int(q->st, 16);
}

int
db_list(struct db *db, int n, void (*cb)(const struct db_enquiry *, void *),
    void *arg)
{
	struct db_enquiry e;
	struct db_q q;
	int rc;

	if (db_q(db, &q, ST_LIST) == -1)
		return -1;
	db_bind_int(&q, 1, n);
	while ((rc = db->drv->step(q.st)) == DB_ROW) {
		db_row_enquiry(&q, &e);
		cb(&e, arg);
	}
	return db_q_end(&q, rc == DB_DONE ? 0 : -1);
}

int
db_autoreply_allow(struct db *db, const char *addr, long long now,
    int limit)
{
	struct db_q q;
	char key[512];
	long long n = 0;
	size_t k;

	/* the address as the milter compares them: lower case */
	for (k = 0; addr[k] && k + 1 < sizeof(key); k++)
		key[k] = (char)tolower((unsigned char)addr[k]);
	key[k] = '\0';
	if (db_lock_address(db, key) == -1 ||
	    db_q(db, &q, ST_AUTOREPLY_OLD) == -1)
		return -1;
	db_bind_text(&q, 1, key);
	db_bind_int(&q, 2, now - DB_AUTOREPLY_WINDOW);
	if (db_step_done(&q) == -1 || db_q(db, &q, ST_AUTOREPLY_COUNT) == -1)
		return -1;
	db_bind_text(&q, 1, key);
	if (db_row_int(&q, 0, &n) != 1)
		return -1;
	if (n >= limit)
		return 0;
	if (db_q(db, &q, ST_AUTOREPLY_ADD) == -1)
		return -1;
	db_bind_text(&q, 1, key);
	db_bind_int(&q, 2, now);
	return db_step_done(&q) == -1 ? -1 : 1;
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
	struct db_q q;

	if (tokensz < DB_TOKEN_LEN + 1 ||
	    rnd_hex(token, tokensz, DB_TOKEN_LEN / 2) == -1)
		return -1;
	/* expired tokens go as new ones come */
	if (db_q(db, &q, ST_TOKEN_EXPIRE) == -1)
		return -1;
	db_bind_int(&q, 1, now);
	if (db_step_done(&q) == -1 || db_q(db, &q, ST_TOKEN_NEW) == -1)
		return -1;
	db_bind_text(&q, 1, token);
	db_bind_text(&q, 2, list);
	db_bind_text(&q, 3, action);
	db_bind_text(&q, 4, addr);
	db_bind_int(&q, 5, now);
	db_bind_int(&q, 6, expires);
	return db_step_done(&q);
}

int
db_token_get(struct db *db, const char *list, const char *token,
    long long now, char *action, size_t actionsz, char *addr,
    size_t addrsz)
{
	struct db_q q;
	const char *a, *d;
	int rc, ret = 0;

	if (db_q(db, &q, ST_TOKEN_GET) == -1)
		return -1;
	db_bind_text(&q, 1, token);
	db_bind_text(&q, 2, list);
	db_bind_int(&q, 3, now);
	rc = db->drv->step(q.st);
	if (rc == DB_ROW) {
		a = db->drv->column_text(q.st, 0);
		d = db->drv->column_text(q.st, 1);
		if (a == NULL || d == NULL || strlen(a) >= actionsz ||
		    strlen(d) >= addrsz)
			ret = -2;
		else {
			strcpy(action, a);
			strcpy(addr, d);
			ret = 1;
		}
	} else if (rc != DB_DONE)
		ret = -1;
	if (ret == -2) {
		db_seterr("%s: token: an answer that does not fit", db->name);
		db->drv->reset(q.st);
		db_put(q.c, 1);
		return -1;
	}
	if ((ret = db_q_end(&q, ret)) == -1)
		log_warnx("token: %s", db_errmsg(db));
	return ret;
}

int
db_token_use(struct db *db, const char *list, const char *token)
{
	struct db_q q;
	long long n;

	if (db_q(db, &q, ST_TOKEN_USE) == -1)
		return -1;
	db_bind_text(&q, 1, token);
	db_bind_text(&q, 2, list);
	if ((n = db_step_changes(&q)) == -1)
		return -1;
	return n == 1;
}

int
db_reply_allowed(struct db *db, const char *sender, const char *key,
    long long now, long long interval)
{
	struct db_q q;
	int rc;

	if (db_q(db, &q, ST_REPLY_ALLOWED) == -1)
		return -1;
	db_bind_text(&q, 1, sender);
	db_bind_text(&q, 2, key);
	db_bind_int(&q, 3, now);
	db_bind_int(&q, 4, interval);
	if ((rc = db_row_exists(&q)) == -1)
		log_warnx("reply: %s", db_errmsg(db));
	return rc;
}

/*
 * the case register
 */

/* step through the rows of a borrowed query with rowfn; 0 or -1 */
static int
db_each(struct db_q *q, void (*rowfn)(struct db_q *, void *), void *arg)
{
	int rc;

	while ((rc = q->db->drv->step(q->st)) == DB_ROW)
		rowfn(q, arg);
	if ((rc = db_q_end(q, rc == DB_DONE ? 0 : -1)) == -1)
		log_warnx("%s", db_lasterr);
	return rc;
}

static const char *
db_col_text(struct db_q *q, int col)
{
	return q->db->drv->column_text(q->st, col);
}

/* a number or a time column: 0 when NULL */
static long long
db_col_int(struct db_q *q, int col)
{
	return q->db->drv->column_int(q->st, col);
}

/* a case row of DB_CASE_COLS, valid until the statement steps again */
static void
db_row_case(struct db_q *q, struct db_case *c)
{
	c->reference = db_col_text(q, 0);
	c->enquiry = db_col_text(q, 1);
	c->category = db_col_text(q, 2);
	c->opened = db_col_int(q, 3);
	c->sender = db_col_text(q, 4);
	c->sender_name = db_col_text(q, 5);
	c->subject = db_col_text(q, 6);
	c->status = db_col_text(q, 7);
	c->waiting_since = db_col_int(q, 8);
	c->first_answer = db_col_int(q, 9);
	c->answered = db_col_int(q, 10);
	c->closed = db_col_int(q, 11);
	c->purged = db_col_int(q, 12);
}

/* a line of a case's history */
static int
db_event_add(struct db *db, const char *ref, long long when,
    const char *what, const char *actor, const char *text)
{
	struct db_q q;

	if (db_q(db, &q, ST_EVENT_ADD) == -1)
		return -1;
	db_bind_text(&q, 1, ref);
	db_bind_int(&q, 2, when);
	db_bind_text(&q, 3, what);
	db_bind_text(&q, 4, actor && *actor ? actor : NULL);
	db_bind_text(&q, 5, text);
	return db_step_done(&q);
}

/* run one of the statements that change a case (?1 ref, ?2 a time): 1
 * when it changed one (it answers a row), 0 when none, -1 on error */
static int
db_case_change(struct db *db, int which, const char *ref, long long when)
{
	struct db_q q;

	if (db_q(db, &q, which) == -1)
		return -1;
	db_bind_text(&q, 1, ref);
	db_bind_int(&q, 2, when);
	return db_row_exists(&q);
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
	struct db_q q;
	char *search;
	int rc;

	if ((search = db_search_text(c)) == NULL)
		return -1;
	if (db_q(db, &q, ST_CASE_OPEN) == -1) {
		free(search);
		return -1;
	}
	db_bind_text(&q, 1, c->reference);
	db_bind_text(&q, 2, c->enquiry);
	db_bind_text(&q, 3, c->category);
	db_bind_int(&q, 4, c->time);
	db_bind_text(&q, 5, c->sender && *c->sender ? c->sender : NULL);
	db_bind_text(&q, 6, c->sender_name && *c->sender_name ?
	    c->sender_name : NULL);
	db_bind_text(&q, 7, c->subject);
	db_bind_text(&q, 8, search);
	rc = db_row_exists(&q);
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
	struct db_q q;
	const char *v;
	int rc, ret = 0;

	if (db_q(db, &q, ST_CASE_STATE) == -1)
		return -1;
	db_bind_text(&q, 1, ref);
	if ((rc = db->drv->step(q.st)) == DB_ROW) {
		v = db_col_text(&q, 0);
		*purged = db_col_text(&q, 1) != NULL;
		ret = v != NULL && strlen(v) < statussz ? 1 : -1;
		if (ret == 1)
			strcpy(status, v);
		else
			db_seterr("%s: a case's status that does not fit",
			    db->name);
	} else if (rc != DB_DONE)
		ret = -1;
	if (ret == -1 && rc == DB_ROW) {
		db->drv->reset(q.st);
		db_put(q.c, 1);
		return -1;
	}
	return db_q_end(&q, ret);
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
	struct db_q q;

	if (msgid == NULL || msgid[0] == '\0')
		return 0;
	if (db_q(db, &q, ST_CASE_BY_MSGID) == -1)
		return -1;
	db_bind_text(&q, 1, msgid);
	return db_row_text(&q, 0, 0, ref, refsz);
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

/* statement which with a day (?1) and a time (?2): 1 when it answers a
 * row, 0 when not, -1 on error */
static int
db_day_row(struct db *db, int which, const char *day, long long when)
{
	struct db_q q;

	if (db_q(db, &q, which) == -1)
		return -1;
	db_bind_text(&q, 1, day);
	if (when >= 0)
		db_bind_int(&q, 2, when);
	return db_row_exists(&q);
}

int
db_digest_claim(struct db *db, const char *day, long long now)
{
	return db_day_row(db, ST_DIGEST_CLAIM, day, now);
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
	return db_day_row(db, ST_DIGEST_COMMITTED, day, when);
}

int
db_case_sender(struct db *db, const char *ref, char *out, size_t outsz)
{
	struct db_q q;

	if (db_q(db, &q, ST_CASE_SENDER) == -1)
		return -1;
	db_bind_text(&q, 1, ref);
	return db_row_text(&q, 0, 0, out, outsz);
}

int
db_digest_claimed(struct db *db, const char *day)
{
	return db_day_row(db, ST_DIGEST_CLAIMED, day, -1);
}

int
db_digest_last(struct db *db, long long *when)
{
	struct db_q q;

	if (db_q(db, &q, ST_DIGEST_LAST) == -1)
		return -1;
	return db_row_int(&q, 0, when);
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

struct db_case_cb {
	void	(*cb)(const struct db_case *, void *);
	void	 *arg;
	int	  n;
};

static void
db_case_row(struct db_q *q, void *arg)
{
	struct db_case_cb *c = arg;
	struct db_case k;

	db_row_case(q, &k);
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
	struct db_case_cb c = { cb, arg, 0 };
	struct db_q q;
	char pat[1024];

	if (f->search != NULL && db_like_pattern(f->search, pat,
	    sizeof(pat)) == NULL)
		return -1;
	if (db_q(db, &q, f->open ? ST_CASES_OPEN : ST_CASES) == -1)
		return -1;
	db_bind_int(&q, 1, f->since);
	db_bind_int(&q, 2, f->open != 0);
	db_bind_int(&q, 3, f->closed != 0);
	db_bind_int(&q, 4, f->overdue != 0);
	db_bind_int(&q, 5, f->overdue_before);
	db_bind_text(&q, 6, f->category);
	db_bind_text(&q, 7, f->search ? pat : NULL);
	db_bind_int(&q, 8, f->limit > 0 ? f->limit : LLONG_MAX);
	return db_each(&q, db_case_row, &c);
}

int
db_case_get(struct db *db, const char *ref,
    void (*cb)(const struct db_case *, void *), void *arg)
{
	struct db_case_cb c = { cb, arg, 0 };
	struct db_q q;

	if (db_q(db, &q, ST_CASE_GET) == -1)
		return -1;
	db_bind_text(&q, 1, ref);
	return db_each(&q, db_case_row, &c) == -1 ? -1 : c.n > 0;
}

struct db_event_cb {
	void	(*cb)(const struct db_event *, void *);
	void	 *arg;
};

static void
db_event_row(struct db_q *q, void *arg)
{
	struct db_event_cb *c = arg;
	struct db_event ev;

	ev.time = db_col_int(q, 0);
	ev.what = db_col_text(q, 1);
	ev.actor = db_col_text(q, 2);
	ev.text = db_col_text(q, 3);
	c->cb(&ev, c->arg);
}

int
db_case_history(struct db *db, const char *ref,
    void (*cb)(const struct db_event *, void *), void *arg)
{
	struct db_event_cb c = { cb, arg };
	struct db_q q;

	if (db_q(db, &q, ST_CASE_EVENTS) == -1)
		return -1;
	db_bind_text(&q, 1, ref);
	return db_each(&q, db_event_row, &c);
}

struct db_enq_cb {
	void	(*cb)(const struct db_enquiry *, void *);
	void	 *arg;
};

static void
db_enq_row(struct db_q *q, void *arg)
{
	struct db_enq_cb *c = arg;
	struct db_enquiry e;

	db_row_enquiry(q, &e);
	c->cb(&e, c->arg);
}

int
db_case_messages(struct db *db, const char *ref,
    void (*cb)(const struct db_enquiry *, void *), void *arg)
{
	struct db_enq_cb c = { cb, arg };
	struct db_q q;

	if (db_q(db, &q, ST_CASE_MESSAGES) == -1)
		return -1;
	db_bind_text(&q, 1, ref);
	return db_each(&q, db_enq_row, &c);
}

struct db_stat_cb {
	void	(*cb)(const struct db_stat_row *, void *);
	void	 *arg;
};

static void
db_stat_row(struct db_q *q, void *arg)
{
	struct db_stat_cb *c = arg;
	struct db_stat_row r;

	r.opened = db_col_int(q, 0);
	r.category = db_col_text(q, 1);
	r.status = db_col_text(q, 2);
	r.waiting_since = db_col_int(q, 3);
	r.first_answer = db_col_int(q, 4);
	c->cb(&r, c->arg);
}

int
db_stats(struct db *db, long long since,
    void (*cb)(const struct db_stat_row *, void *), void *arg)
{
	struct db_stat_cb c = { cb, arg };
	struct db_q q;

	if (db_q(db, &q, ST_STATS) == -1)
		return -1;
	db_bind_int(&q, 1, since);
	return db_each(&q, db_stat_row, &c);
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

struct db_refs {
	char	**refs;
	size_t	  n, cap;
	int	  failed;
};

static void
db_ref_row(struct db_q *q, void *arg)
{
	struct db_refs *r = arg;
	const char *v;
	char **nr;

	if (r->failed || (v = db_col_text(q, 0)) == NULL)
		return;
	if (r->n + 1 >= r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		if ((nr = realloc(r->refs, r->cap * sizeof(*nr))) == NULL) {
			r->failed = 1;
			return;
		}
		r->refs = nr;
	}
	if ((r->refs[r->n] = strdup(v)) == NULL) {
		r->failed = 1;
		return;
	}
	r->refs[++r->n] = NULL;
}

static void
db_refs_free(char **refs, size_t n)
{
	while (n > 0)
		free(refs[--n]);
	free(refs);
}

/* the references a borrowed, bound query answers, copied (the purges
 * change the rows they come from): a NULL-terminated array, NULL on
 * error */
static char **
db_refs(struct db_q *q, size_t *n)
{
	struct db_refs r = { NULL, 0, 0, 0 };

	if (db_each(q, db_ref_row, &r) == -1 || r.failed) {
		db_refs_free(r.refs, r.n);
		*n = 0;
		return NULL;
	}
	*n = r.n;
	return r.refs ? r.refs : calloc(1, sizeof(char *));
}

/* one statement binding ?1 (and ?2 when when >= 0), no rows: the number
 * of rows it changed added to *count. 0 or -1 */
static int
db_purge_step(struct db *db, int which, const char *key, long long when,
    long long *count)
{
	struct db_q q;
	long long n;

	if (db_q(db, &q, which) == -1)
		return -1;
	db_bind_text(&q, 1, key);
	if (when >= 0)
		db_bind_int(&q, 2, when);
	if ((n = db_step_changes(&q)) == -1)
		return -1;
	*count += n;
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

/* every case a borrowed, bound query answers purged, in the caller's
 * transaction. 0 or -1 */
static int
db_purge_cases(struct db *db, struct db_q *q, const char *actor,
    long long when, struct db_purge_count *pc)
{
	char **refs;
	size_t i, n;

	if ((refs = db_refs(q, &n)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (db_purge_case(db, refs[i], actor, when, pc) == -1)
			break;
	db_refs_free(refs, n);
	return i < n ? -1 : 0;
}

/* after a purge: what was deleted gone from the engine's files too (see
 * after_purge). -1 when some may stay for now, and the log says so */
static int
db_scrub(struct db *db)
{
	struct db_conn *c;
	int rc = -1;

	if ((c = db_get(db)) == NULL)
		return -1;
	if (c->h != NULL)
		rc = db->drv->after_purge(c->h);
	db_put(c, 1);
	if (rc == -1)
		log_warnx("%s: what was purged could not be cleared from the "
		    "write-ahead log (a reader is in the way): it may stay "
		    "there until the next checkpoint", db->name);
	return rc;
}

int
db_purge_address(struct db *db, const char *addr, long long when,
    struct db_purge_count *pc)
{
	static const int other[] = { ST_ADDR_EVENTS, ST_ADDR_ACK,
	    ST_ADDR_AUTOREPLY, ST_ADDR_LIST_REPLY, ST_ADDR_LIST_TOKEN };
	char key[512];
	struct db_q q;
	size_t i;

	memset(pc, 0, sizeof(*pc));
	if (db_addr_key(addr, key, sizeof(key)) == -1 || key[0] == '\0')
		return -1;
	if (db_begin(db) == -1)
		return -1;
	if (db_q(db, &q, ST_ADDR_CASES) == -1)
		goto fail;
	db_bind_text(&q, 1, key);
	if (db_purge_cases(db, &q, "enquiries", when, pc) == -1 ||
	    db_purge_step(db, ST_ADDR_MESSAGES, key, -1, &pc->messages) == -1)
		goto fail;
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (db_purge_step(db, other[i], key, -1, &pc->other) == -1)
			goto fail;
	if (db_commit(db) == -1)
		return -1;
	pc->wal_kept = db_scrub(db) == -1;
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
	struct db_q q;
	long long n;
	size_t i;

	memset(pc, 0, sizeof(*pc));
	if (db_begin(db) == -1)
		return -1;
	if (db_q(db, &q, ST_EXPIRED) == -1)
		goto fail;
	db_bind_int(&q, 1, before);
	if (db_purge_cases(db, &q, "retention", when, pc) == -1)
		goto fail;
	for (i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
		if (db_q(db, &q, old[i]) == -1)
			goto fail;
		db_bind_int(&q, 1, before);
		if ((n = db_step_changes(&q)) == -1)
			goto fail;
		if (old[i] == ST_OLD_AUTO)
			pc->messages += n;
		else
			pc->other += n;
	}
	if (db_commit(db) == -1)
		return -1;
	if (pc->cases == 0 && pc->messages == 0 && pc->other == 0)
		return 0;
	pc->wal_kept = db_scrub(db) == -1;
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
db_export_one(struct db_q *q, void *arg)
{
	const struct db_driver *drv = q->db->drv;
	struct db_export_cb *c = arg;
	const char *names[24], *values[24];
	int isint[24], i, n = drv->ncols(q->st);
	struct db_export_row r;

	if (n > 24)
		n = 24;
	for (i = 0; i < n; i++) {
		names[i] = drv->column_name(q->st, i);
		isint[i] = drv->column_is_int(q->st, i);
		values[i] = drv->column_text(q->st, i);
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
	struct db_q q;
	char key[512];
	size_t i;
	int rc = 0;

	if (db_addr_key(addr, key, sizeof(key)) == -1 || key[0] == '\0')
		return -1;
	/* one read transaction, so the parts agree with each other; it
	 * takes no write lock, the milter goes on */
	if (db_begin_read(db) == -1)
		return -1;
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]) && rc == 0; i++) {
		c.table = parts[i].table;
		if ((rc = db_q(db, &q, parts[i].which)) == -1)
			break;
		db_bind_text(&q, 1, key);
		rc = db_each(&q, db_export_one, &c);
	}
	db_rollback(db);
	return rc;
}

/* every row of one table of from written to to (in its transaction):
 * the rows, or -1 */
static long long
db_copy(struct db *from, struct db *to, int get, int put, const char *cols)
{
	struct db_q r, w;
	long long n = 0;
	int rc, i;

	if (db_q(from, &r, get) == -1)
		return -1;
	while ((rc = from->drv->step(r.st)) == DB_ROW) {
		if (db_q(to, &w, put) == -1) {
			rc = DB_ERR;
			break;
		}
		for (i = 0; cols[i]; i++)
			if (from->drv->column_text(r.st, i) == NULL &&
			    cols[i] == 'i')
				to->drv->bind_int_null(w.st, i + 1);
			else if (cols[i] == 'i')
				db_bind_int(&w, i + 1,
				    from->drv->column_int(r.st, i));
			else
				db_bind_text(&w, i + 1,
				    from->drv->column_text(r.st, i));
		if (db_step_done(&w) == -1) {
			rc = DB_ERR;
			break;
		}
		n++;
	}
	if (db_q_end(&r, rc == DB_DONE ? 0 : -1) == -1 || rc != DB_DONE)
		return -1;
	return n;
}

int
db_migrate(struct db *from, struct db *to, long long now, long long *rows,
    char *err, size_t errsz)
{
	char done[512];
	struct db_q q;
	long long n, total = 0;
	size_t i;
	int rc;

	*rows = 0;
	if (from->drv->dialect != DB_DIALECT_SQLITE ||
	    to->drv->dialect != DB_DIALECT_PG) {
		snprintf(err, errsz, "a register moves from sqlite to "
		    "postgresql only");
		return -1;
	}
	/* one move at a time: a second waits, then finds the first's mark */
	if (db_begin(to) == -1)
		goto fail;
	if (db_lock_address(to, "(enquiries migrate)") == -1)
		goto rollback;
	/* 1. moved before: nothing to do */
	if (db_q(to, &q, ST_MIG_DONE) == -1 ||
	    (rc = db_row_text(&q, 0, 1, done, sizeof(done))) == -1)
		goto rollback;
	if (rc == 1) {
		db_rollback(to);
		snprintf(err, errsz, "already moved in from %s", done);
		return 0;
	}
	/* 2. two registers do not mix: their numbers would clash */
	if (db_q(to, &q, ST_MIG_COUNT) == -1 || db_row_int(&q, 0, &n) != 1)
		goto rollback;
	if (n > 0) {
		db_rollback(to);
		snprintf(err, errsz, "%s already holds a register of its own "
		    "(%lld rows): nothing moved", to->name, n);
		return -1;
	}
	/* 3. every table, then the mark, in one transaction */
	for (i = 0; i < sizeof(db_mig_tables) / sizeof(db_mig_tables[0]);
	    i++) {
		if ((n = db_copy(from, to, db_mig_tables[i].get,
		    db_mig_tables[i].put, db_mig_tables[i].cols)) == -1)
			goto rollback;
		total += n;
	}
	if (db_q(to, &q, ST_MIG_MARK) == -1)
		goto rollback;
	db_bind_text(&q, 1, from->name);
	db_bind_int(&q, 2, now);
	db_bind_int(&q, 3, total);
	if (db_step_done(&q) == -1)
		goto rollback;
	if (db_commit(to) == -1)
		goto fail;
	*rows = total;
	return 1;
rollback:
	/* the first failure's message, before the rollback's */
	snprintf(err, errsz, "%s", db_lasterr);
	db_rollback(to);
	return -1;
fail:
	snprintf(err, errsz, "%s", db_lasterr);
	return -1;
}

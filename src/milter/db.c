/* the milter's state: references, the enquiry log, ack times, list
 * tokens and list reply times. the queries and their logic live here,
 * written once; the engine beneath (db_driver.h) is sqlite or postgresql.
 * a pool of connections serves libmilter's threads: a transaction keeps
 * its thread's connection from db_begin to db_commit or db_rollback, and
 * what runs outside one borrows a connection for its own statement */

#include <ctype.h>
#include <errno.h>
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
	ST_TOKEN_USE, ST_REPLY_ALLOWED, ST_LOCK_ADDR, ST_LIST,
	ST_AUTOREPLY_OLD, ST_AUTOREPLY_COUNT, ST_AUTOREPLY_ADD,
	ST_AUTOREPLY_SWEEP, ST_MIG_DONE, ST_MIG_COUNT, ST_MIG_MARK,
	ST_MIG_REFSEQ_GET, ST_MIG_REFSEQ_PUT, ST_MIG_ENQ_GET, ST_MIG_ACK_GET,
	ST_MIG_AUTOREPLY_GET, ST_MIG_AUTOREPLY_PUT, ST_MIG_TOKEN_GET,
	ST_MIG_TOKEN_PUT, ST_MIG_REPLY_GET, ST_MIG_REPLY_PUT, ST_MAX
};

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
	[ST_ENQ_ADD] = "INSERT INTO enquiry(reference, time, queue_id, "
	    "enquiry, sender, subject, category, message_id, recipients, ack, "
	    "kind, orig_msgid, ack_msgid, claimed) "
	    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
	    "?14)",
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
	/* one address's decisions, one transaction at a time: in sqlite
	 * every write transaction already is alone (BEGIN IMMEDIATE) */
	[ST_LOCK_ADDR] = "SELECT ?1",
	[ST_LIST] = "SELECT reference, time, queue_id, enquiry, sender, "
	    "subject, category, message_id, recipients, ack, kind, orig_msgid, "
	    "ack_msgid, claimed FROM (SELECT * FROM enquiry ORDER BY id DESC "
	    "LIMIT ?1) AS e ORDER BY id DESC",
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
	[ST_MIG_ENQ_GET] = "SELECT reference, time, queue_id, enquiry, sender, "
	    "subject, category, message_id, recipients, ack, kind, orig_msgid, "
	    "ack_msgid, claimed FROM enquiry ORDER BY id",
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
	{ ST_MIG_ENQ_GET, ST_ENQ_ADD, "ti" "tttttttttttt" },
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
	long long		 swept;
};

/* the calling thread's transaction, and its last error */
static __thread struct db_conn *db_tx;
static __thread char db_lasterr[512];

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
	if (c->h == NULL && db_connect(c) == -1) {
		pthread_mutex_lock(&db->mtx);
		c->busy = 0;
		pthread_cond_signal(&db->freed);
		pthread_mutex_unlock(&db->mtx);
		return NULL;
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

	if (db_tx != NULL) {
		db_seterr("%s: a transaction inside a transaction", db->name);
		return -1;
	}
	if ((c = db_checkout(db)) == NULL)
		return -1;
	if (db->drv->begin(c->h) == -1) {
		db_failed(c, "begin");
		db_checkin(c);
		/* a connection lost while idle: once more, on a new one */
		if (c->h != NULL || (c = db_checkout(db)) == NULL)
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

/* the enquiry row the statement is on: columns in struct order from col */
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
			if (cols[i] == 'i')
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

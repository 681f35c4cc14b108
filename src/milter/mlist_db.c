/* mailing-list tokens and reply times in sqlite */
#include <sys/random.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mlist_db.h"

static const char mlist_db_schema[] =
    "CREATE TABLE IF NOT EXISTS list_token ("
    " token TEXT PRIMARY KEY, list TEXT NOT NULL, action TEXT NOT NULL,"
    " address TEXT NOT NULL, created INTEGER NOT NULL,"
    " expires INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS list_reply ("
    " sender TEXT NOT NULL, key TEXT NOT NULL, last INTEGER NOT NULL,"
    " PRIMARY KEY(sender, key));";

static pthread_mutex_t mlist_db_mtx = PTHREAD_MUTEX_INITIALIZER;
static sqlite3 *mlist_db_h;

int
mlist_db_open(const char *state_dir, char *err, size_t errsz)
{
	char path[4096], *msg = NULL;
	int n, rc = 0;

	pthread_mutex_lock(&mlist_db_mtx);
	if (mlist_db_h != NULL)
		goto out;
	n = snprintf(path, sizeof(path), "%s/enquiries.db", state_dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(err, errsz, "%s: path too long", state_dir);
		rc = -1;
		goto out;
	}
	if (sqlite3_open_v2(path, &mlist_db_h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path, mlist_db_h ?
		    sqlite3_errmsg(mlist_db_h) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(mlist_db_h, 10000);
	/* a used token must stay used after a crash: synchronous=full */
	if (sqlite3_exec(mlist_db_h, "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=FULL;", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(mlist_db_h, mlist_db_schema, NULL, NULL, &msg) !=
	    SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path, msg ? msg :
		    sqlite3_errmsg(mlist_db_h));
		sqlite3_free(msg);
		goto fail;
	}
	goto out;
fail:
	sqlite3_close(mlist_db_h);
	mlist_db_h = NULL;
	rc = -1;
out:
	pthread_mutex_unlock(&mlist_db_mtx);
	return rc;
}

void
mlist_db_close(void)
{
	pthread_mutex_lock(&mlist_db_mtx);
	sqlite3_close(mlist_db_h);
	mlist_db_h = NULL;
	pthread_mutex_unlock(&mlist_db_mtx);
}

/* a statement on the one connection, under mlist_db_mtx */
static sqlite3_stmt *
prep(const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (mlist_db_h == NULL)
		return NULL;
	if (sqlite3_prepare_v2(mlist_db_h, sql, -1, &st, NULL) != SQLITE_OK) {
		log_warnx("sqlite: %s", sqlite3_errmsg(mlist_db_h));
		return NULL;
	}
	return st;
}

int
mlist_db_token_new(const char *list, const char *action, const char *addr,
    long long now, long long expires, char *token, size_t tokensz)
{
	unsigned char r[MLIST_TOKEN_LEN / 2];
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if (tokensz < MLIST_TOKEN_LEN + 1 ||
	    getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	for (i = 0; i < sizeof(r); i++)
		snprintf(token + 2 * i, 3, "%02x", r[i]);
	pthread_mutex_lock(&mlist_db_mtx);
	/* expired tokens go as new ones come */
	if ((st = prep("DELETE FROM list_token WHERE expires < ?1")) != NULL) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if ((st = prep("INSERT INTO list_token(token, list, action, address, "
	    "created, expires) VALUES(?1, ?2, ?3, ?4, ?5, ?6)")) == NULL) {
		pthread_mutex_unlock(&mlist_db_mtx);
		return -1;
	}
	sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, expires);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		log_warnx("sqlite: token: %s", sqlite3_errmsg(mlist_db_h));
	pthread_mutex_unlock(&mlist_db_mtx);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
mlist_db_token_get(const char *list, const char *token, long long now,
    char *action, size_t actionsz, char *addr, size_t addrsz)
{
	sqlite3_stmt *st;
	const char *a, *d;
	int rc, ret = 1;

	pthread_mutex_lock(&mlist_db_mtx);
	if ((st = prep("SELECT action, address FROM list_token "
	    "WHERE token = ?1 AND list = ?2 AND expires >= ?3")) == NULL) {
		pthread_mutex_unlock(&mlist_db_mtx);
		return -1;
	}
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
			ret = 0;
		}
	} else if (rc != SQLITE_DONE) {
		log_warnx("sqlite: token: %s", sqlite3_errmsg(mlist_db_h));
		ret = -1;
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&mlist_db_mtx);
	return ret;
}

int
mlist_db_token_use(const char *list, const char *token)
{
	sqlite3_stmt *st;
	int rc, ret;

	pthread_mutex_lock(&mlist_db_mtx);
	if ((st = prep("DELETE FROM list_token WHERE token = ?1 AND "
	    "list = ?2")) == NULL) {
		pthread_mutex_unlock(&mlist_db_mtx);
		return -1;
	}
	sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, list, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		log_warnx("sqlite: token: %s", sqlite3_errmsg(mlist_db_h));
		ret = -1;
	} else
		ret = sqlite3_changes(mlist_db_h) == 1 ? 0 : 1;
	sqlite3_finalize(st);
	pthread_mutex_unlock(&mlist_db_mtx);
	return ret;
}

int
mlist_db_reply_allowed(const char *sender, const char *key, long long now,
    long long interval)
{
	sqlite3_stmt *st;
	int rc, ret = -1;

	pthread_mutex_lock(&mlist_db_mtx);
	/* one statement: recorded when allowed, untouched when not */
	if ((st = prep("INSERT INTO list_reply(sender, key, last) "
	    "VALUES(?1, ?2, ?3) ON CONFLICT(sender, key) DO UPDATE "
	    "SET last = excluded.last WHERE last <= excluded.last - ?4 "
	    "RETURNING last")) == NULL) {
		pthread_mutex_unlock(&mlist_db_mtx);
		return -1;
	}
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
		log_warnx("sqlite: reply: %s", sqlite3_errmsg(mlist_db_h));
		ret = -1;
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&mlist_db_mtx);
	return ret;
}

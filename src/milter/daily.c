/* the milter's daily run (see daily.h): the digest, then retention */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf_milter.h"
#include "daily.h"
#include "db.h"
#include "digest.h"
#include "log.h"
#include "rnd.h"
#include "spool.h"

/* a run that failed (database, spool) is tried again this much later */
#define DAILY_RETRY	300
/* the longest sleep: the clock may be set, the machine suspended */
#define DAILY_NAP_MAX	3600

static struct {
	pthread_t	 tid;
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;
	int		 started, stop, wake;
	struct db	*db;
	long long	 skew;	/* DAILY_SKEW_ENV */
} daily = { .mtx = PTHREAD_MUTEX_INITIALIZER,
    .cond = PTHREAD_COND_INITIALIZER };

static time_t
daily_now(void)
{
	return time(NULL) + (time_t)daily.skew;
}

/* digest-time (minutes after midnight, local) on the day of now plus
 * ahead days, and that day as YYYY-MM-DD */
static time_t
daily_at(time_t now, int minutes, int ahead, char *day, size_t daysz)
{
	struct tm tm;
	time_t t;

	localtime_r(&now, &tm);
	tm.tm_mday += ahead;
	tm.tm_hour = minutes / 60;
	tm.tm_min = minutes % 60;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (strftime(day, daysz, "%Y-%m-%d", &tm) == 0)
		day[0] = '\0';
	return t;
}

/* the cases a digest lists, copied out of the store's rows */
struct daily_cases {
	struct digest_case	*v;
	size_t			 n, cap;
	long long		 since, overdue_before;
	int			 failed;
};

static char *
dup_or_null(const char *s, int *failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*failed = 1;
	return d;
}

static void
daily_case_one(const struct db_case *c, void *arg)
{
	struct daily_cases *dc = arg;
	struct digest_case *d, *nv;

	if (dc->failed)
		return;
	if (dc->n == dc->cap) {
		dc->cap = dc->cap ? dc->cap * 2 : 64;
		if ((nv = reallocarray(dc->v, dc->cap, sizeof(*nv))) == NULL) {
			dc->failed = 1;
			return;
		}
		dc->v = nv;
	}
	d = &dc->v[dc->n++];
	memset(d, 0, sizeof(*d));
	d->reference = dup_or_null(c->reference, &dc->failed);
	d->status = dup_or_null(c->status, &dc->failed);
	d->category = dup_or_null(c->category, &dc->failed);
	d->sender = dup_or_null(c->sender, &dc->failed);
	d->sender_name = dup_or_null(c->sender_name, &dc->failed);
	d->subject = dup_or_null(c->subject, &dc->failed);
	if (d->reference == NULL || d->status == NULL)
		dc->failed = 1;
	d->opened = c->opened;
	d->waiting_since = c->waiting_since;
	d->is_open = strcmp(c->status ? c->status : "", DB_STATUS_CLOSED) != 0;
	d->is_new = c->opened > dc->since;
	d->overdue = strcmp(c->status ? c->status : "", DB_STATUS_NEW) == 0 &&
	    c->waiting_since > 0 && c->waiting_since < dc->overdue_before;
}

static void
daily_cases_free(struct daily_cases *dc)
{
	size_t i;

	for (i = 0; i < dc->n; i++) {
		free((char *)dc->v[i].reference);
		free((char *)dc->v[i].status);
		free((char *)dc->v[i].category);
		free((char *)dc->v[i].sender);
		free((char *)dc->v[i].sender_name);
		free((char *)dc->v[i].subject);
	}
	free(dc->v);
}

/*
 * the digest of day: what is open and what is new since the last digest,
 * composed, written to the spool's tmp/, the day claimed and the file
 * committed. nothing to say: the day is claimed, nothing spooled.
 * 0 done (or done before), -1 to be tried again
 */
static int
daily_digest(struct milter_conf *c, const char *day, time_t now)
{
	struct daily_cases dc = { NULL, 0, 0, 0, 0, 0 };
	struct db_case_filter f;
	struct digest_in in;
	struct conf_enquiry *e = c->nenquiries ? &c->enquiries[0] : NULL;
	char ref[64], spool[SPOOL_NAME_MAX], unique[33];
	char *msg = NULL;
	size_t len = 0;
	int rc, first;

	/* 1. done already (a restart the same day)? */
	if ((rc = db_digest_claimed(daily.db, day)) == 1) {
		log_info("digest %s: sent before", day);
		return 0;
	}
	if (rc == -1 || (rc = db_digest_last(daily.db, &dc.since)) == -1) {
		log_warnx("digest %s: database: %s", day,
		    db_errmsg(daily.db));
		return -1;
	}

	/* 2. the cases: open ones, and closed ones opened since the last
	 * digest (the first digest: in the last day), each once */
	if ((first = rc == 0))
		dc.since = (long long)now - 86400;
	dc.overdue_before = (long long)now - c->reply_within;
	memset(&f, 0, sizeof(f));
	f.open = 1;
	if (db_cases(daily.db, &f, daily_case_one, &dc) == -1)
		goto dbfail;
	memset(&f, 0, sizeof(f));
	f.closed = 1;
	f.since = dc.since + 1;
	if (db_cases(daily.db, &f, daily_case_one, &dc) == -1)
		goto dbfail;
	if (dc.failed) {
		log_warnx("digest %s: out of memory", day);
		daily_cases_free(&dc);
		return -1;
	}

	/* 3. composed: from the first enquiry's acknowledgement sender */
	memset(&in, 0, sizeof(in));
	in.day = day;
	in.from = e ? e->ack_from : c->digest_to;
	in.from_name = e ? e->ack_from_name : "";
	in.to = c->digest_to;
	in.loop = e ? e->address : NULL;
	in.hostname = c->hostname;
	in.unique = unique;
	in.now = now;
	in.since = first ? 0 : dc.since;
	in.reply_within = c->reply_within;
	in.cases = dc.v;
	in.ncases = dc.n;
	if (rnd_hex(unique, sizeof(unique), 16) == -1) {
		log_warn("digest %s: random", day);
		daily_cases_free(&dc);
		return -1;
	}
	errno = 0;
	msg = digest_compose(&in, &len);
	rc = errno;
	daily_cases_free(&dc);
	if (msg == NULL && rc != 0) {
		log_warnx("digest %s: cannot compose: %s", day, strerror(rc));
		return -1;
	}

	/* 4. tmp/, the claim, new/: a crash between the claim's commit and
	 * new/ leaves a file the sweep moves on (the claim says so) */
	snprintf(ref, sizeof(ref), "%s%s", DAILY_DIGEST_REF, day);
	if (msg != NULL && spool_tmp(ref, c->digest_to, msg, len, now, spool,
	    sizeof(spool)) == -1) {
		log_warn("digest %s: spool", day);
		free(msg);
		return -1;
	}
	if (db_begin(daily.db) == -1)
		goto spoolfail;
	if ((rc = db_digest_claim(daily.db, day, (long long)now)) == -1) {
		db_rollback(daily.db);
		goto spoolfail;
	}
	if (db_commit(daily.db) == -1)
		goto spoolfail;
	if (msg == NULL) {
		log_info("digest %s: nothing to say, none sent", day);
		return 0;
	}
	free(msg);
	if (rc == 0) {
		/* another run claimed it: not twice */
		spool_discard(spool);
		log_info("digest %s: sent before", day);
		return 0;
	}
	if (spool_commit(spool) == -1)
		log_warn("digest %s: spool %s stays in tmp/ until the sweep",
		    day, spool);
	log_info("digest %s: spooled for %s", day, c->digest_to);
	return 0;
dbfail:
	log_warnx("digest %s: database: %s", day, db_errmsg(daily.db));
	daily_cases_free(&dc);
	return -1;
spoolfail:
	log_warnx("digest %s: database: %s", day, db_errmsg(daily.db));
	if (msg != NULL)
		spool_discard(spool);
	free(msg);
	return -1;
}

/* the retention purge: closed cases closed more than retention ago lose
 * their personal data. 0, or -1 */
static int
daily_retention(struct milter_conf *c, time_t now)
{
	struct db_purge_count n;
	long long before;

	if ((before = conf_milter_retention_before(c, (long long)now)) == -1)
		return 0;
	memset(&n, 0, sizeof(n));
	if (db_purge_expired(daily.db, before, (long long)now, &n) == -1) {
		log_warnx("retention: database: %s", db_errmsg(daily.db));
		return -1;
	}
	if (n.cases > 0)
		log_info("retention: personal data of %lld closed case%s "
		    "removed (%lld messages)", n.cases, n.cases == 1 ? "" : "s",
		    n.messages);
	return 0;
}

static void *
daily_thread(void *arg)
{
	char day[16], done[16] = "", next_day[16];
	struct milter_conf *c;
	struct timespec ts;
	time_t now, at, next;
	int failed;

	(void)arg;
	pthread_mutex_lock(&daily.mtx);
	while (!daily.stop) {
		pthread_mutex_unlock(&daily.mtx);
		failed = 0;
		c = conf_milter_get();
		now = daily_now();
		at = daily_at(now, c->digest_time, 0, day, sizeof(day));
		/* 1. today's run, once: at the time, or late (a start after
		 * it) */
		if (now >= at && strcmp(day, done) != 0) {
			/* the digest first: what closed since the last one
			 * is named before its data go */
			if (c->digest_to != NULL && c->digest_to[0] &&
			    daily_digest(c, day, now) == -1)
				failed = 1;
			if (daily_retention(c, now) == -1)
				failed = 1;
			if (!failed)
				snprintf(done, sizeof(done), "%s", day);
		}
		/* 2. until the next one */
		next = now < at ? at : daily_at(now, c->digest_time, 1,
		    next_day, sizeof(next_day));
		conf_milter_put(c);
		if (failed && next > now + DAILY_RETRY)
			next = now + DAILY_RETRY;
		if (next > now + DAILY_NAP_MAX)
			next = now + DAILY_NAP_MAX;
		pthread_mutex_lock(&daily.mtx);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += next - now;
		while (!daily.stop && !daily.wake &&
		    pthread_cond_timedwait(&daily.cond, &daily.mtx, &ts) == 0)
			;
		daily.wake = 0;
	}
	pthread_mutex_unlock(&daily.mtx);
	return NULL;
}

int
daily_start(struct db *db)
{
	const char *s = getenv(DAILY_SKEW_ENV);
	int rc;

	daily.db = db;
	daily.skew = s ? strtoll(s, NULL, 10) : 0;
	if (daily.skew != 0)
		log_info("daily run: clock skewed by %lld s (%s)", daily.skew,
		    DAILY_SKEW_ENV);
	daily.stop = daily.wake = 0;
	if ((rc = pthread_create(&daily.tid, NULL, daily_thread, NULL)) !=
	    0) {
		errno = rc;
		return -1;
	}
	daily.started = 1;
	return 0;
}

void
daily_wake(void)
{
	pthread_mutex_lock(&daily.mtx);
	daily.wake = 1;
	pthread_cond_signal(&daily.cond);
	pthread_mutex_unlock(&daily.mtx);
}

void
daily_stop(void)
{
	if (!daily.started)
		return;
	pthread_mutex_lock(&daily.mtx);
	daily.stop = 1;
	pthread_cond_signal(&daily.cond);
	pthread_mutex_unlock(&daily.mtx);
	pthread_join(daily.tid, NULL);
	daily.started = 0;
}

/* the submitter: a worker thread sends what the spool holds in new/
 * over smtp with a null return path (libcurl lives here only), up to
 * submit-connections at once, retried with back-off until accepted */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf_milter.h"
#include "log.h"
#include "mailhdr.h"
#include "spool.h"
#include "submit.h"

static struct {
	pthread_t	 thread;
	int		 running;
	pthread_mutex_t	 mtx;		/* wake, stop, multi */
	CURLM		*multi;		/* the worker's transfers */
	int		 wake, stop;
} sub = { .mtx = PTHREAD_MUTEX_INITIALIZER };

/* look at new/ now (a file was committed) */
static void
submit_wake(void)
{
	pthread_mutex_lock(&sub.mtx);
	sub.wake = 1;
	if (sub.multi)
		curl_multi_wakeup(sub.multi);
	pthread_mutex_unlock(&sub.mtx);
}

struct upload {
	const char	*p;
	size_t		 left;
};

static size_t
upload_read(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb;

	if (n > u->left)
		n = u->left;
	memcpy(dst, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

enum { SUBMIT_STARTED, SUBMIT_OK, SUBMIT_LATER, SUBMIT_NEVER };

/* one submission in flight on the worker's multi handle */
struct submit_slot {
	CURL			*easy;		/* kept: its options, not its
						 * connection (the multi's) */
	struct milter_conf	*conf;		/* held while in flight */
	char			*name;		/* new/NAME; NULL: slot free */
	char			*buf;		/* the spool file */
	struct curl_slist	*rcpts;
	struct upload		 u;
	char			 rcpt[MAILHDR_ADDR_MAX + 2];
	char			 errbuf[CURL_ERROR_SIZE];
};

static void
sub_clear(struct submit_slot *s)
{
	curl_multi_remove_handle(sub.multi, s->easy);
	curl_slist_free_all(s->rcpts);
	s->rcpts = NULL;
	free(s->buf);
	s->buf = NULL;
	free(s->name);
	s->name = NULL;
	conf_milter_put(s->conf);
	s->conf = NULL;
}

/* start sending new/NAME in slot s: SUBMIT_STARTED, or SUBMIT_NEVER (the
 * file is unreadable and went to failed/) or SUBMIT_LATER (no memory) */
static int
sub_start(struct submit_slot *s, const char *name)
{
	struct milter_conf *conf;
	char url[512];
	const char *msg;
	size_t msglen;
	int n;

	if (s->easy == NULL && (s->easy = curl_easy_init()) == NULL)
		return SUBMIT_LATER;
	if ((s->buf = spool_read_new(name, s->rcpt, sizeof(s->rcpt),
	    &msg, &msglen)) == NULL) {
		if (errno == EPERM)
			log_warnx("spool %s: not a regular file of the "
			    "milter's own (a link, or someone else's): not "
			    "sent, moved to failed/", name);
		else
			log_warn("spool %s: unreadable, moved to failed/",
			    name);
		spool_failed(name);
		return SUBMIT_NEVER;
	}
	if ((s->conf = conf = conf_milter_get()) == NULL) {
		free(s->buf);
		s->buf = NULL;
		return SUBMIT_LATER;
	}
	n = snprintf(url, sizeof(url), strchr(conf->submit_host, ':') ?
	    "smtp://[%s]:%d/%s" : "smtp://%s:%d/%s", conf->submit_host,
	    conf->submit_port, conf->hostname);
	if (n < 0 || (size_t)n >= sizeof(url) ||
	    (s->rcpts = curl_slist_append(NULL, s->rcpt)) == NULL ||
	    (s->name = strdup(name)) == NULL) {
		sub_clear(s);
		return SUBMIT_LATER;
	}
	s->u.p = msg;
	s->u.left = msglen;
	s->errbuf[0] = '\0';
	curl_easy_reset(s->easy);
	curl_easy_setopt(s->easy, CURLOPT_URL, url);
	/* no CURLOPT_MAIL_FROM: libcurl then says MAIL FROM:<> */
	curl_easy_setopt(s->easy, CURLOPT_MAIL_RCPT, s->rcpts);
	curl_easy_setopt(s->easy, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(s->easy, CURLOPT_READDATA, &s->u);
	curl_easy_setopt(s->easy, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(s->easy, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)msglen);
	curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT,
	    (long)conf->submit_timeout);
	curl_easy_setopt(s->easy, CURLOPT_TIMEOUT,
	    (long)conf->submit_timeout * 2);
	curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
	if (curl_multi_add_handle(sub.multi, s->easy) != CURLM_OK) {
		sub_clear(s);
		return SUBMIT_LATER;
	}
	return SUBMIT_STARTED;
}

/* the relay's answer for slot s, which is free again after */
static int
sub_finish(struct submit_slot *s, CURLcode rc)
{
	const struct milter_conf *conf = s->conf;
	const char *why = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);
	long code = 0;
	int r;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK) {
		if (spool_sent(s->name) == -1)
			log_warn("spool %s: sent but not removed", s->name);
		log_info("ack %s: submitted to %s via %s:%d", s->name,
		    s->rcpt, conf->submit_host, conf->submit_port);
		r = SUBMIT_OK;
	} else if (code >= 500 && code < 600) {
		log_warnx("ack %s: refused by %s:%d (%ld %s), moved to "
		    "failed/", s->name, conf->submit_host, conf->submit_port,
		    code, why);
		spool_failed(s->name);
		r = SUBMIT_NEVER;
	} else {
		log_warnx("ack %s: %s:%d: %s, will retry", s->name,
		    conf->submit_host, conf->submit_port, why);
		r = SUBMIT_LATER;
	}
	sub_clear(s);
	return r;
}

static int
sub_busy(const struct submit_slot *subs, const char *name)
{
	size_t i;

	for (i = 0; i < SUBMIT_CONNECTIONS_MAX; i++)
		if (subs[i].name && strcmp(subs[i].name, name) == 0)
			return 1;
	return 0;
}

/*
 * the submit worker: lists new/ (when woken, every minute, and when a
 * back-off ends), oldest first, and keeps up to submit-connections
 * transactions open at once on one curl multi handle, whose connections
 * stay up between acknowledgements. one transaction at a time could not
 * keep pace with a burst of enquiries: each waits on the relay's replies
 * (and on its own filters and fsync), and the spool grew behind it. a
 * relay that answers 4xx or not at all stops new starts until the back-off
 * ends; a 5xx moves the file to failed/.
 */
static void *
submit_worker(void *arg)
{
	struct submit_slot subs[SUBMIT_CONNECTIONS_MAX];
	struct milter_conf *conf;
	const struct CURLMsg *m;
	struct submit_slot *s;
	time_t backoff = 1, retry_at = 0, scan_at = 0, last_sweep = 0, now;
	time_t max;
	char **pend = NULL;
	size_t npend = 0, ipend = 0, i;
	int busy = 0, rescan = 1, limit, stop, left, running, r;

	(void)arg;
	memset(subs, 0, sizeof(subs));
	for (;;) {
		pthread_mutex_lock(&sub.mtx);
		stop = sub.stop;
		if (sub.wake)
			rescan = 1;
		sub.wake = 0;
		pthread_mutex_unlock(&sub.mtx);
		if (stop || (conf = conf_milter_get()) == NULL)
			break;
		now = time(NULL);
		if (now - last_sweep >= 60) {
			spool_sweep();
			last_sweep = now;
		}
		/* 1. a fresh list once the last one is used up */
		if (ipend == npend && now >= retry_at &&
		    (rescan || now >= scan_at)) {
			spool_list_free(pend, npend);
			if ((pend = spool_list_new(&npend)) == NULL)
				npend = 0;
			ipend = 0;
			rescan = 0;
			scan_at = now + 60;
		}
		/* 2. as many started as there is room for */
		limit = conf->submit_connections;
		while (now >= retry_at && ipend < npend && busy < limit) {
			if (sub_busy(subs, pend[ipend])) {
				ipend++;
				continue;
			}
			for (s = subs; s->name; s++)
				;
			r = sub_start(s, pend[ipend++]);
			if (r == SUBMIT_STARTED)
				busy++;
			else if (r == SUBMIT_LATER) {
				retry_at = now + 1;
				break;
			}
		}
		conf_milter_put(conf);
		/* 3. move the transfers on; take the answers */
		curl_multi_perform(sub.multi, &running);
		while ((m = curl_multi_info_read(sub.multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			s = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    (char **)&s);
			if (s == NULL || s->name == NULL)
				continue;
			max = s->conf->submit_retry_max;
			busy--;
			r = sub_finish(s, m->data.result);
			if (r == SUBMIT_OK)
				backoff = 1;
			else if (r == SUBMIT_LATER &&
			    (now = time(NULL)) >= retry_at) {
				/* 4. back off while the relay fails,
				 * doubling up to a cap; the transactions
				 * still open may finish */
				retry_at = now + backoff;
				backoff = backoff * 2 > max ? max : backoff * 2;
				if (backoff < 1)
					backoff = 1;
				ipend = npend;
				rescan = 1;
			}
		}
		/* 5. go round at once while there is room and work; else
		 * sleep until a transfer moves, a wake-up or a stop, for up
		 * to a second (the back-off counts in seconds) */
		curl_multi_poll(sub.multi, NULL, 0, busy < limit &&
		    time(NULL) >= retry_at && (ipend < npend || rescan) ? 0 :
		    1000, NULL);
	}
	/* stopping: what is in flight stays in new/ for the next start */
	for (i = 0; i < SUBMIT_CONNECTIONS_MAX; i++) {
		if (subs[i].name)
			sub_clear(&subs[i]);
		if (subs[i].easy)
			curl_easy_cleanup(subs[i].easy);
	}
	spool_list_free(pend, npend);
	return NULL;
}

int
submit_init(char *err, size_t errsz)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errsz, "curl_global_init failed");
		return -1;
	}
	spool_on_commit(submit_wake);
	return 0;
}

void
submit_cleanup(void)
{
	spool_on_commit(NULL);
	curl_global_cleanup();
}

int
submit_start(void)
{
	int rc;

	if ((sub.multi = curl_multi_init()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	sub.stop = 0;
	if ((rc = pthread_create(&sub.thread, NULL, submit_worker, NULL)) !=
	    0) {
		curl_multi_cleanup(sub.multi);
		sub.multi = NULL;
		errno = rc;
		return -1;
	}
	sub.running = 1;
	return 0;
}

void
submit_stop(void)
{
	if (!sub.running)
		return;
	pthread_mutex_lock(&sub.mtx);
	sub.stop = 1;
	curl_multi_wakeup(sub.multi);
	pthread_mutex_unlock(&sub.mtx);
	pthread_join(sub.thread, NULL);
	pthread_mutex_lock(&sub.mtx);
	curl_multi_cleanup(sub.multi);
	sub.multi = NULL;
	pthread_mutex_unlock(&sub.mtx);
	sub.running = 0;
}

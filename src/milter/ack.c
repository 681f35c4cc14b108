/* acknowledgements: compose, spool durably, submit with back-off */
#include <sys/stat.h>

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ack.h"
#include "conf_milter.h"
#include "db.h"
#include "log.h"
#include "mailhdr.h"
#include "outmsg.h"
#include "template.h"
#include "xio.h"

#define ACK_SPOOL_MAX	(512 * 1024)
#define ACK_SWEEP_AGE	300	/* an uncommitted tmp file this old is dead */
#define ACK_FREE_MAX	128	/* sent spool files kept for reuse */

static const char *const ack_months[] = { "January", "February", "March",
    "April", "May", "June", "July", "August", "September", "October",
    "November", "December" };
static struct {
	int		 spool_fd;	/* state-dir/spool */
	int		 tmp_fd, new_fd, failed_fd, free_fd;
	struct db	*db;
	pthread_t	 thread;
	int		 running;
	pthread_mutex_t	 mtx;		/* wake, stop, multi */
	CURLM		*multi;		/* the worker's transfers */
	int		 wake, stop;
	/*
	 * sent files wait in free/ to be written again instead of being
	 * unlinked. creating a file allocates an inode, and ext4 (without a
	 * journal) then reads past every recently deleted one: under a
	 * steady stream of acknowledgements that was the costliest step of
	 * spooling one, and it grew as the deletions piled up. names
	 * "f<n>", kept as a stack.
	 */
	pthread_mutex_t	 free_mtx;
	unsigned	 free_names[ACK_FREE_MAX];
	size_t		 nfree;
	unsigned	 free_seq;
} ack = { -1, -1, -1, -1, -1, NULL, 0, 0, PTHREAD_MUTEX_INITIALIZER,
    NULL, 0, 0, PTHREAD_MUTEX_INITIALIZER, { 0 }, 0, 0 };

void
ack_date_text(time_t t, char *buf, size_t bufsz)
{
	struct tm tm;

	localtime_r(&t, &tm);
	snprintf(buf, bufsz, "%d %s %d", tm.tm_mday, ack_months[tm.tm_mon],
	    tm.tm_year + 1900);
}

void
ack_interval_text(time_t t, char *buf, size_t bufsz)
{
	static const struct { long long secs; const char *one, *many; }
	    units[] = { { 86400, "day", "days" }, { 3600, "hour", "hours" },
	    { 60, "minute", "minutes" }, { 1, "second", "seconds" } };
	long long v = (long long)t;
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]) - 1; i++)
		if (v > 0 && v % units[i].secs == 0)
			break;
	v /= units[i].secs;
	snprintf(buf, bufsz, "%lld %s", v, v == 1 ? units[i].one :
	    units[i].many);
}

char *
ack_compose(const struct ack_msg *a, size_t *lenp, char *err, size_t errsz)
{
	const struct conf_enquiry *e = a->enq;
	const struct conf_category *cat = NULL;
	const char *tmpl, *team;
	size_t tmpllen, i;
	char interval[64];
	char date[64], subj[MAILHDR_VALUE_MAX + 128], msgid[MAILHDR_VALUE_MAX];
	char cleansubj[MAILHDR_VALUE_MAX], cleanname[MAILHDR_NAME_MAX];
	char *body = NULL, *msg;
	size_t bodylen;
	struct tmpl_var vars[10];
	struct outmsg m;
	const char *greet;
	int n;

	/* 1. the text, from the template */
	snprintf(cleansubj, sizeof(cleansubj), "%s", a->subject);
	mailhdr_clean(cleansubj);
	snprintf(cleanname, sizeof(cleanname), "%s", a->to_name);
	mailhdr_clean(cleanname);
	greet = cleanname[0] ? cleanname : a->to_addr;
	ack_date_text(a->received, date, sizeof(date));
	vars[0] = (struct tmpl_var){ "reference", a->reference };
	vars[1] = (struct tmpl_var){ "name", greet };
	vars[2] = (struct tmpl_var){ "address", a->to_addr };
	vars[3] = (struct tmpl_var){ "subject", cleansubj[0] ? cleansubj :
	    "(no subject)" };
	vars[4] = (struct tmpl_var){ "date", date };
	vars[5] = (struct tmpl_var){ "category", a->category };
	vars[6] = (struct tmpl_var){ "enquiry_address", e->address };
	vars[7] = (struct tmpl_var){ "capsule", a->capsule_url };
	/* the category the enquiry was filed under speaks for itself: its
	 * template and its team, else the enquiry's */
	for (i = 0; i < e->ncategories && a->category; i++)
		if (strcmp(e->categories[i].name, a->category) == 0)
			cat = &e->categories[i];
	tmpl = e->ack_template;
	tmpllen = e->ack_template_len;
	if (cat && cat->ack_template) {
		tmpl = cat->ack_template;
		tmpllen = cat->ack_template_len;
	}
	team = cat && cat->team && cat->team[0] ? cat->team : e->team ?
	    e->team : "";
	ack_interval_text(e->ack_interval, interval, sizeof(interval));
	vars[8] = (struct tmpl_var){ "team", team };
	vars[9] = (struct tmpl_var){ "ack_interval", interval };
	if ((body = tmpl_expand(tmpl, tmpllen, vars, 10, &bodylen, err,
	    errsz)) == NULL)
		return NULL;

	/* 2. the header: rfc 3834 and rfc 2047, nothing from the sender
	 * unencoded */
	outmsg_init(&m);
	if (outmsg_address(&m, "From", e->ack_from_name, e->ack_from) == -1 ||
	    outmsg_address(&m, "To", cleanname, a->to_addr) == -1)
		goto fail;
	/* "Re: [ENQ-2026-000042] original", the tag once */
	{
		char tag[80];
		int has_re = strncasecmp(cleansubj, "re:", 3) == 0;
		const char *rest = has_re ? cleansubj + 3 : cleansubj;

		while (*rest == ' ')
			rest++;
		snprintf(tag, sizeof(tag), "[%s]", a->reference);
		if (strstr(rest, tag))
			n = snprintf(subj, sizeof(subj), "Re: %s", rest);
		else
			n = snprintf(subj, sizeof(subj), "Re: %s%s%s", tag,
			    rest[0] ? " " : "", rest);
		if (n < 0 || (size_t)n >= sizeof(subj)) {
			errno = E2BIG;
			goto fail;
		}
	}
	if (outmsg_text(&m, "Subject", subj) == -1 ||
	    outmsg_date(&m, a->now) == -1 ||
	    outmsg_msgid(msgid, sizeof(msgid), a->reference, a->token,
	    a->hostname) == -1 ||
	    outmsg_header(&m, "Message-ID", msgid) == -1 ||
	    outmsg_reply(&m, a->message_id, a->references) == -1 ||
	    outmsg_header(&m, "Auto-Submitted", "auto-replied") == -1 ||
	    outmsg_header(&m, "X-Auto-Response-Suppress", "All") == -1 ||
	    outmsg_header(&m, "X-Enquiry-Reference", a->reference) == -1)
		goto fail;

	/* 3. blank line and body */
	if ((msg = outmsg_finish(&m, body, bodylen, lenp)) == NULL)
		goto fail;
	free(body);
	return msg;
fail:
	if (errno == ENOMEM)
		snprintf(err, errsz, "out of memory");
	else
		snprintf(err, errsz, "acknowledgement header too long");
	outmsg_free(&m);
	free(body);
	return NULL;
}

static int
mkdir_at(int dfd, const char *name)
{
	if (mkdirat(dfd, name, 0750) == -1 && errno != EEXIST)
		return -1;
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static char	**spool_list(int, size_t *);
static void	  spool_free(char **, size_t);
static void	  ack_free_clear(void);

/* a sent file from directory dfd: into free/ while there is room, else
 * removed. -1 when it could be neither */
static int
ack_free_put(int dfd, const char *name)
{
	char fname[16];
	unsigned n;

	pthread_mutex_lock(&ack.free_mtx);
	if (ack.nfree < ACK_FREE_MAX) {
		n = ack.free_seq++;
		snprintf(fname, sizeof(fname), "f%u", n);
		if (renameat(dfd, name, ack.free_fd, fname) == 0) {
			ack.free_names[ack.nfree++] = n;
			pthread_mutex_unlock(&ack.free_mtx);
			return 0;
		}
	}
	pthread_mutex_unlock(&ack.free_mtx);
	return unlinkat(dfd, name, 0);
}

/*
 * a free file, cut to nothing, becomes tmp/NAME: its descriptor open for
 * writing, or -1 when there is none to take. cut before it moves, so tmp/
 * never holds an old acknowledgement under a new name: a file there is
 * the new one, whole or in part
 */
static int
ack_free_take(const char *name)
{
	char fname[16];
	int fd = -1;

	pthread_mutex_lock(&ack.free_mtx);
	while (fd == -1 && ack.nfree > 0) {
		snprintf(fname, sizeof(fname), "f%u",
		    ack.free_names[--ack.nfree]);
		/* a name gone from free/ (removed by hand) is passed over */
		if ((fd = openat(ack.free_fd, fname, O_WRONLY | O_TRUNC |
		    O_CLOEXEC)) == -1)
			continue;
		if (renameat2(ack.free_fd, fname, ack.tmp_fd, name,
		    RENAME_NOREPLACE) == -1) {
			close(fd);
			unlinkat(ack.free_fd, fname, 0);
			fd = -1;
		}
	}
	pthread_mutex_unlock(&ack.free_mtx);
	return fd;
}

int
ack_init(const char *state_dir, struct db *db, char *err, size_t errsz)
{
	int sfd;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errsz, "curl_global_init failed");
		return -1;
	}
	if ((sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || (ack.spool_fd = mkdir_at(sfd, "spool")) == -1 ||
	    (ack.tmp_fd = mkdir_at(ack.spool_fd, "tmp")) == -1 ||
	    (ack.new_fd = mkdir_at(ack.spool_fd, "new")) == -1 ||
	    (ack.failed_fd = mkdir_at(ack.spool_fd, "failed")) == -1 ||
	    (ack.free_fd = mkdir_at(ack.spool_fd, "free")) == -1) {
		snprintf(err, errsz, "%s/spool: %s", state_dir,
		    strerror(errno));
		if (sfd != -1)
			close(sfd);
		return -1;
	}
	close(sfd);
	ack.db = db;
	ack_free_clear();
	return 0;
}

void
ack_shutdown(void)
{
	int *fds[] = { &ack.spool_fd, &ack.tmp_fd, &ack.new_fd,
	    &ack.failed_fd, &ack.free_fd };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] != -1) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	curl_global_cleanup();
}

/* 1 when NAME is in tmp/, new/ or failed/ (never written over) */
static int
ack_spool_exists(const char *name)
{
	struct stat st;

	return fstatat(ack.tmp_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	    fstatat(ack.new_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	    fstatat(ack.failed_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int
ack_spool_tmp(const char *ref, const char *rcpt, const char *msg, size_t len,
    time_t now, char *name, size_t namesz)
{
	static unsigned long seq;	/* under ack.free_mtx */
	char head[MAILHDR_ADDR_MAX + 128];
	unsigned long n_seq;
	int fd, n, hn, tries;

	hn = snprintf(head, sizeof(head), "rcpt %s\nref %s\n\n", rcpt, ref);
	if (hn < 0 || (size_t)hn >= sizeof(head) || strchr(ref, '/')) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/*
	 * "TIME.REF.PID-SEQ": unique, so two acknowledgements for one
	 * reference in the same second are two files. a name that exists
	 * anyway (a spool left by an earlier run with the same pid) is
	 * never written over: the next sequence number is tried
	 */
	for (tries = 0; tries < 100; tries++) {
		pthread_mutex_lock(&ack.free_mtx);
		n_seq = seq++;
		pthread_mutex_unlock(&ack.free_mtx);
		n = snprintf(name, namesz, "%lld.%s.%ld-%lu", (long long)now,
		    ref, (long)getpid(), n_seq);
		if (n < 0 || (size_t)n >= namesz) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (ack_spool_exists(name))
			continue;
		/* a sent file reused, or a new one. should the machine stop
		 * before the fsync below, the database has not committed (it
		 * does after this returns), and the sweep removes what is in
		 * tmp/ */
		if ((fd = ack_free_take(name)) != -1)
			break;
		if ((fd = openat(ack.tmp_fd, name, O_WRONLY | O_CREAT |
		    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640)) != -1)
			break;
		if (errno != EEXIST)
			return -1;
	}
	if (tries == 100) {
		errno = EEXIST;
		return -1;
	}
	/* 1. the file and its directory entry reach the disk */
	if (xio_write_all(fd, head, (size_t)hn) == -1 ||
	    xio_write_all(fd, msg, len) == -1 || fsync(fd) == -1) {
		int saved = errno;

		close(fd);
		unlinkat(ack.tmp_fd, name, 0);
		errno = saved;
		return -1;
	}
	if (close(fd) == -1 || fsync(ack.tmp_fd) == -1) {
		int saved = errno;

		unlinkat(ack.tmp_fd, name, 0);
		errno = saved;
		return -1;
	}
	return 0;
}

static void
ack_wake(void)
{
	pthread_mutex_lock(&ack.mtx);
	ack.wake = 1;
	if (ack.multi)
		curl_multi_wakeup(ack.multi);
	pthread_mutex_unlock(&ack.mtx);
}

int
ack_spool_commit(const char *name)
{
	/* no fsync needed: were the rename lost, the sweep finds the
	 * committed file in tmp/ again */
	if (renameat2(ack.tmp_fd, name, ack.new_fd, name,
	    RENAME_NOREPLACE) == -1)
		return -1;
	ack_wake();
	return 0;
}

void
ack_spool_discard(const char *name)
{
	unlinkat(ack.tmp_fd, name, 0);
}

/* read a whole spool file; its recipient and the message */
static char *
spool_read(int dfd, const char *name, char *rcpt, size_t rcptsz,
    const char **msg, size_t *msglen)
{
	struct stat st;
	char *buf, *p, *e;
	ssize_t r;
	size_t got = 0;
	int fd;

	/* only what this milter wrote: a regular file of its user's, one
	 * link, no symbolic link (EPERM otherwise) */
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		if (errno == ELOOP)
			errno = EPERM;
		return NULL;
	}
	if (fstat(fd, &st) == 0 && (!S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || st.st_nlink != 1)) {
		close(fd);
		errno = EPERM;
		return NULL;
	}
	if (fstat(fd, &st) == -1 || st.st_size > ACK_SPOOL_MAX ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	/* "rcpt ADDR\nref REF\n\n" then the message */
	if (strncmp(buf, "rcpt ", 5) != 0 || (e = strchr(buf, '\n')) == NULL ||
	    (size_t)(e - buf - 5) >= rcptsz || (p = strstr(e, "\n\n")) ==
	    NULL) {
		free(buf);
		errno = EINVAL;
		return NULL;
	}
	memcpy(rcpt, buf + 5, (size_t)(e - buf - 5));
	rcpt[e - buf - 5] = '\0';
	*msg = p + 2;
	*msglen = got - (size_t)(p + 2 - buf);
	return buf;
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
struct ack_sub {
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
sub_clear(struct ack_sub *s)
{
	curl_multi_remove_handle(ack.multi, s->easy);
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
sub_start(struct ack_sub *s, const char *name)
{
	struct milter_conf *conf;
	char url[512];
	const char *msg;
	size_t msglen;
	int n;

	if (s->easy == NULL && (s->easy = curl_easy_init()) == NULL)
		return SUBMIT_LATER;
	if ((s->buf = spool_read(ack.new_fd, name, s->rcpt, sizeof(s->rcpt),
	    &msg, &msglen)) == NULL) {
		if (errno == EPERM)
			log_warnx("spool %s: not a regular file of the "
			    "milter's own (a link, or someone else's): not "
			    "sent, moved to failed/", name);
		else
			log_warn("spool %s: unreadable, moved to failed/",
			    name);
		renameat(ack.new_fd, name, ack.failed_fd, name);
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
	if (curl_multi_add_handle(ack.multi, s->easy) != CURLM_OK) {
		sub_clear(s);
		return SUBMIT_LATER;
	}
	return SUBMIT_STARTED;
}

/* the relay's answer for slot s, which is free again after */
static int
sub_finish(struct ack_sub *s, CURLcode rc)
{
	const struct milter_conf *conf = s->conf;
	const char *why = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);
	long code = 0;
	int r;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK) {
		if (ack_free_put(ack.new_fd, s->name) == -1)
			log_warn("spool %s: sent but not removed", s->name);
		log_info("ack %s: submitted to %s via %s:%d", s->name,
		    s->rcpt, conf->submit_host, conf->submit_port);
		r = SUBMIT_OK;
	} else if (code >= 500 && code < 600) {
		log_warnx("ack %s: refused by %s:%d (%ld %s), moved to "
		    "failed/", s->name, conf->submit_host, conf->submit_port,
		    code, why);
		renameat(ack.new_fd, s->name, ack.failed_fd, s->name);
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
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* names in a spool directory, sorted (oldest first) */
static char **
spool_list(int dfd, size_t *n)
{
	char **v = NULL, **nv;
	size_t cap = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	*n = 0;
	if ((fd = dup(dfd)) == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return NULL;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(char *))) == NULL)
				break;
			v = nv;
		}
		if ((v[*n] = strdup(de->d_name)) == NULL)
			break;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(char *), name_cmp);
	return v;
}

static void
spool_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* free/ from an earlier run: its files are garbage, whatever they hold */
static void
ack_free_clear(void)
{
	char **v;
	size_t n, i;

	if ((v = spool_list(ack.free_fd, &n)) == NULL)
		return;
	for (i = 0; i < n; i++)
		unlinkat(ack.free_fd, v[i], 0);
	spool_free(v, n);
}

/* did the transaction that spooled tmp/NAME ("TIME.REF.PID-SEQ", or
 * "TIME.REF" from an older spool; the file's "ref" line names the
 * reference, for rcpt) commit? the enquiry row it wrote says so; the
 * reference alone does not, for a follow-up reuses its enquiry's
 * reference, and a crash between its spool and its rolled-back commit
 * must not send a second acknowledgement.
 * 1 yes, 0 no, -1 cannot tell (database error, file gone) */
static int
ack_committed(const char *name)
{
	char rcpt[MAILHDR_ADDR_MAX + 2], ref[128], *buf, *end, *r, *e;
	const char *msg;
	size_t msglen;
	long long when;
	int rc;

	/* a file cut short was never committed: the commit follows its
	 * fsync */
	errno = 0;
	when = strtoll(name, &end, 10);
	if (errno || end == name || *end != '.')
		return 0;
	if ((buf = spool_read(ack.tmp_fd, name, rcpt, sizeof(rcpt), &msg,
	    &msglen)) == NULL)
		return errno == EINVAL || errno == EPERM ? 0 : -1;
	if ((r = strstr(buf, "\nref ")) == NULL || r > msg ||
	    (e = strchr(r + 5, '\n')) == NULL ||
	    (size_t)(e - r - 5) >= sizeof(ref)) {
		free(buf);
		return 0;
	}
	memcpy(ref, r + 5, (size_t)(e - r - 5));
	ref[e - r - 5] = '\0';
	rc = db_ack_committed(ack.db, ref, rcpt, when);
	free(buf);
	return rc;
}

/* tmp/ files: committed ones move on, dead ones go */
static void
ack_sweep(void)
{
	struct stat st;
	char **v;
	size_t n, i;
	int known;

	if ((v = spool_list(ack.tmp_fd, &n)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		if ((known = ack_committed(v[i])) == 1) {
			log_info("spool %s: committed, recovered from tmp/",
			    v[i]);
			renameat2(ack.tmp_fd, v[i], ack.new_fd, v[i],
			    RENAME_NOREPLACE);
		} else if (known == 0 && fstatat(ack.tmp_fd, v[i], &st, 0) ==
		    0 && st.st_mtime + ACK_SWEEP_AGE < time(NULL)) {
			log_info("spool %s: never committed, removed", v[i]);
			unlinkat(ack.tmp_fd, v[i], 0);
		}
	}
	spool_free(v, n);
}

static int
sub_busy(const struct ack_sub *subs, const char *name)
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
ack_worker(void *arg)
{
	struct ack_sub subs[SUBMIT_CONNECTIONS_MAX];
	struct milter_conf *conf;
	const struct CURLMsg *m;
	struct ack_sub *s;
	time_t backoff = 1, retry_at = 0, scan_at = 0, last_sweep = 0, now;
	time_t max;
	char **pend = NULL;
	size_t npend = 0, ipend = 0, i;
	int busy = 0, rescan = 1, limit, stop, left, running, r;

	(void)arg;
	memset(subs, 0, sizeof(subs));
	for (;;) {
		pthread_mutex_lock(&ack.mtx);
		stop = ack.stop;
		if (ack.wake)
			rescan = 1;
		ack.wake = 0;
		pthread_mutex_unlock(&ack.mtx);
		if (stop || (conf = conf_milter_get()) == NULL)
			break;
		now = time(NULL);
		if (now - last_sweep >= 60) {
			ack_sweep();
			last_sweep = now;
		}
		/* 1. a fresh list once the last one is used up */
		if (ipend == npend && now >= retry_at &&
		    (rescan || now >= scan_at)) {
			spool_free(pend, npend);
			if ((pend = spool_list(ack.new_fd, &npend)) == NULL)
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
		curl_multi_perform(ack.multi, &running);
		while ((m = curl_multi_info_read(ack.multi, &left)) != NULL) {
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
		curl_multi_poll(ack.multi, NULL, 0, busy < limit &&
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
	spool_free(pend, npend);
	return NULL;
}

int
ack_start(void)
{
	int rc;

	if ((ack.multi = curl_multi_init()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	ack.stop = 0;
	if ((rc = pthread_create(&ack.thread, NULL, ack_worker, NULL)) != 0) {
		curl_multi_cleanup(ack.multi);
		ack.multi = NULL;
		errno = rc;
		return -1;
	}
	ack.running = 1;
	return 0;
}

void
ack_stop(void)
{
	if (!ack.running)
		return;
	pthread_mutex_lock(&ack.mtx);
	ack.stop = 1;
	curl_multi_wakeup(ack.multi);
	pthread_mutex_unlock(&ack.mtx);
	pthread_join(ack.thread, NULL);
	pthread_mutex_lock(&ack.mtx);
	curl_multi_cleanup(ack.multi);
	ack.multi = NULL;
	pthread_mutex_unlock(&ack.mtx);
	ack.running = 0;
}

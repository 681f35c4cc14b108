/* the daily digest, composed (see digest.h) */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "digest.h"
#include "mailhdr.h"
#include "outmsg.h"

/* the text, grown as it is written; a failure sticks and is checked once */
struct digest_text {
	char	*buf;
	size_t	 len, cap;
	int	 failed;	/* errno of the first failure */
};

static void
text_add(struct digest_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
text_add(struct digest_text *t, const char *fmt, ...)
{
	va_list ap;
	char *nb;
	size_t ncap;
	int n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ?
		    t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = EINVAL;
			return;
		}
		if (t->buf && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		ncap = t->cap ? t->cap * 2 : 4096;
		while (ncap < t->len + (size_t)n + 1)
			ncap *= 2;
		if ((nb = realloc(t->buf, ncap)) == NULL) {
			t->failed = ENOMEM;
			return;
		}
		t->buf = nb;
		t->cap = ncap;
	}
}

/* a value from outside, made safe for one line of the text */
static void
clean_copy(char *out, size_t outsz, const char *in, const char *none)
{
	snprintf(out, outsz, "%s", in && in[0] ? in : none);
	mailhdr_clean(out);
}

static void
day_text(long long t, char *buf, size_t bufsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, bufsz, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, bufsz, "?");
}

static void
when_text(long long t, char *buf, size_t bufsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, bufsz, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(buf, bufsz, "?");
}

/* "5 days", "12 hours", "30 minutes" */
static void
span_text(long long s, char *buf, size_t bufsz)
{
	long long n;
	const char *unit;

	if (s >= 86400 && s % 86400 == 0) {
		n = s / 86400;
		unit = "day";
	} else if (s >= 3600 && s % 3600 == 0) {
		n = s / 3600;
		unit = "hour";
	} else {
		n = s / 60;
		unit = "minute";
	}
	snprintf(buf, bufsz, "%lld %s%s", n, unit, n == 1 ? "" : "s");
}

/* one case: its reference, status, date and sender, then its subject */
static void
case_lines(struct digest_text *t, const struct digest_case *c, time_t now)
{
	char name[MAILHDR_NAME_MAX], addr[MAILHDR_ADDR_MAX];
	char subj[MAILHDR_VALUE_MAX], when[32], waited[32];

	clean_copy(name, sizeof(name), c->sender_name, "");
	clean_copy(addr, sizeof(addr), c->sender, "(removed)");
	clean_copy(subj, sizeof(subj), c->subject, "(no subject)");
	day_text(c->opened, when, sizeof(when));
	text_add(t, "  %s  %s  opened %s", c->reference, c->status, when);
	/* how long, in whole days (hours under a day) */
	if (c->overdue && c->waiting_since > 0 && now > c->waiting_since) {
		long long w = (long long)now - c->waiting_since;

		span_text(w >= 86400 ? w / 86400 * 86400 : w >= 3600 ?
		    w / 3600 * 3600 : w / 60 * 60, waited, sizeof(waited));
		text_add(t, ", waiting %s", waited);
	}
	if (c->category && c->category[0])
		text_add(t, "  [%s]", c->category);
	text_add(t, "\n    From: ");
	if (name[0])
		text_add(t, "%s <%s>\n", name, addr);
	else
		text_add(t, "%s\n", addr);
	text_add(t, "    Subject: %s\n", subj);
}

/* which section a case is listed in: each case once */
enum { SEC_OVERDUE, SEC_NEW, SEC_OPEN, SEC_NONE };

static int
case_section(const struct digest_case *c)
{
	if (c->overdue)
		return SEC_OVERDUE;
	if (c->is_new)
		return SEC_NEW;
	if (c->is_open)
		return SEC_OPEN;
	return SEC_NONE;
}

/* the order within a section: overdue by how long they waited, the rest
 * by when they opened, oldest first; then by reference */
static int
case_cmp(const void *a, const void *b)
{
	const struct digest_case *x = *(const struct digest_case *const *)a;
	const struct digest_case *y = *(const struct digest_case *const *)b;
	long long kx = x->overdue ? x->waiting_since : x->opened;
	long long ky = y->overdue ? y->waiting_since : y->opened;

	if (kx != ky)
		return kx < ky ? -1 : 1;
	return strcmp(x->reference, y->reference);
}

char *
digest_compose(const struct digest_in *in, size_t *len)
{
	static const char *const title[SEC_NONE] = {
		"Overdue: no answer within %s, longest waiting first",
		"New since the last digest",
		"Other open cases",
	};
	const struct digest_case **v;
	struct digest_text t = { NULL, 0, 0, 0 };
	struct outmsg m;
	char subject[200], msgid[MAILHDR_MSGID_MAX], span[32], since[32];
	size_t count[SEC_NONE] = { 0 }, i, shown;
	size_t n_overdue = 0, n_new = 0, n_open = 0;
	char *msg;
	int s, n;

	for (i = 0; i < in->ncases; i++) {
		if ((s = case_section(&in->cases[i])) != SEC_NONE)
			count[s]++;
		n_overdue += in->cases[i].overdue != 0;
		n_new += in->cases[i].is_new != 0;
		n_open += in->cases[i].is_open != 0;
	}
	if (count[SEC_OVERDUE] + count[SEC_NEW] + count[SEC_OPEN] == 0) {
		errno = 0;	/* nothing to say */
		return NULL;
	}
	if ((v = calloc(in->ncases, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < in->ncases; i++)
		v[i] = &in->cases[i];
	qsort(v, in->ncases, sizeof(*v), case_cmp);

	/* 1. the text: the counts, then a section each */
	span_text(in->reply_within, span, sizeof(span));
	text_add(&t, "Enquiries digest for %s\n\n", in->day);
	text_add(&t, "  Overdue:  %zu (no answer within %s)\n", n_overdue,
	    span);
	if (in->since > 0) {
		when_text(in->since, since, sizeof(since));
		text_add(&t, "  New:      %zu (since the last digest, %s)\n",
		    n_new, since);
	} else
		text_add(&t, "  New:      %zu (in the last day: the first "
		    "digest)\n", n_new);
	text_add(&t, "  Open:     %zu (awaiting an answer, or answered and "
	    "not closed)\n", n_open);
	for (s = 0; s < SEC_NONE; s++) {
		if (count[s] == 0)
			continue;
		text_add(&t, "\n");
		text_add(&t, title[s], span);
		text_add(&t, " (%zu)\n\n", count[s]);
		for (i = 0, shown = 0; i < in->ncases; i++) {
			if (case_section(v[i]) != s)
				continue;
			if (shown++ == DIGEST_SECTION_MAX) {
				text_add(&t, "  ... and %zu more: enquiries "
				    "list\n", count[s] - DIGEST_SECTION_MAX);
				break;
			}
			case_lines(&t, v[i], in->now);
		}
	}
	text_add(&t, "\nThe whole case: enquiries show REFERENCE\n");
	free(v);
	if (t.failed) {
		free(t.buf);
		errno = t.failed;
		return NULL;
	}

	/* 2. the header, as acknowledgements have theirs: an automatic
	 * mail no one should answer automatically */
	n = snprintf(subject, sizeof(subject), "Enquiries digest %s: %zu "
	    "overdue, %zu new, %zu open", in->day, n_overdue, n_new, n_open);
	outmsg_init(&m);
	if (n < 0 || (size_t)n >= sizeof(subject) ||
	    outmsg_address(&m, "From", in->from_name, in->from) == -1 ||
	    outmsg_address(&m, "To", NULL, in->to) == -1 ||
	    outmsg_text(&m, "Subject", subject) == -1 ||
	    outmsg_date(&m, in->now) == -1 ||
	    outmsg_msgid(msgid, sizeof(msgid), "digest", in->unique,
	    in->hostname) == -1 ||
	    outmsg_header(&m, "Message-ID", msgid) == -1 ||
	    outmsg_header(&m, "Auto-Submitted", "auto-generated") == -1 ||
	    outmsg_header(&m, "X-Auto-Response-Suppress", "All") == -1 ||
	    (in->loop && outmsg_header(&m, "X-Loop", in->loop) == -1)) {
		if (errno != ENOMEM)
			errno = E2BIG;
		outmsg_free(&m);
		free(t.buf);
		return NULL;
	}
	msg = outmsg_finish(&m, t.buf, t.len, len);
	free(t.buf);
	return msg;
}

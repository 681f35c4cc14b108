/* outgoing mail, composed: header fields, folding, encoding, dates,
 * Message-IDs and the body; no i/o */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mailhdr.h"
#include "outmsg.h"

/* the References field keeps the last msg-ids that fit in this much */
#define OUTMSG_REFS_MAX	900

static const char *const outmsg_mon3[] = { "Jan", "Feb", "Mar", "Apr",
    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const outmsg_day3[] = { "Sun", "Mon", "Tue", "Wed",
    "Thu", "Fri", "Sat" };

void
outmsg_init(struct outmsg *m)
{
	m->buf = NULL;
	m->len = m->cap = 0;
}

void
outmsg_free(struct outmsg *m)
{
	free(m->buf);
	outmsg_init(m);
}

/* room for need more bytes and a NUL */
static int
outmsg_grow(struct outmsg *m, size_t need)
{
	size_t cap = m->cap ? m->cap : 4096;
	char *nb;

	while (cap < m->len + need + 1)
		cap *= 2;
	if (cap == m->cap)
		return 0;
	if ((nb = realloc(m->buf, cap)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	m->buf = nb;
	m->cap = cap;
	return 0;
}

/* append a header line, folded at white space (rfc 5322 2.1.1: 78
 * characters where it can be, never more than 998: the callers' values
 * have no word that long); the value must already be safe */
int
outmsg_header(struct outmsg *m, const char *name, const char *value)
{
	size_t vl = strlen(value), nl = strlen(name), foldsz = vl * 2 + 16;
	size_t fl;
	char *folded;

	/* at worst every word gets its own line: two bytes more each */
	if ((folded = malloc(foldsz)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (mailhdr_fold(value, nl + 2, "\r\n", folded, foldsz) == -1) {
		free(folded);
		errno = E2BIG;
		return -1;
	}
	fl = strlen(folded);
	if (outmsg_grow(m, nl + fl + 4) == -1) {
		free(folded);
		return -1;
	}
	memcpy(m->buf + m->len, name, nl);
	memcpy(m->buf + m->len + nl, ": ", 2);
	memcpy(m->buf + m->len + nl + 2, folded, fl);
	memcpy(m->buf + m->len + nl + 2 + fl, "\r\n", 3);
	m->len += nl + fl + 4;
	free(folded);
	return 0;
}

int
outmsg_address(struct outmsg *m, const char *name, const char *display,
    const char *addr)
{
	char phrase[MAILHDR_VALUE_MAX * 3], line[MAILHDR_VALUE_MAX * 4];
	int n;

	if (display && display[0]) {
		if (mailhdr_encode_phrase(display, "\r\n ", phrase,
		    sizeof(phrase)) == -1) {
			errno = E2BIG;
			return -1;
		}
		n = snprintf(line, sizeof(line), "%s <%s>", phrase, addr);
	} else
		n = snprintf(line, sizeof(line), "<%s>", addr);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		errno = E2BIG;
		return -1;
	}
	return outmsg_header(m, name, line);
}

int
outmsg_text(struct outmsg *m, const char *name, const char *text)
{
	char enc[MAILHDR_VALUE_MAX * 3];

	if (mailhdr_encode_text(text, "\r\n ", enc, sizeof(enc)) == -1) {
		errno = E2BIG;
		return -1;
	}
	return outmsg_header(m, name, enc);
}

void
outmsg_date_rfc(time_t t, char *buf, size_t bufsz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, bufsz, "%s, %d %s %d %02d:%02d:%02d +0000",
	    outmsg_day3[tm.tm_wday], tm.tm_mday, outmsg_mon3[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int
outmsg_date(struct outmsg *m, time_t t)
{
	char date[64];

	outmsg_date_rfc(t, date, sizeof(date));
	return outmsg_header(m, "Date", date);
}

int
outmsg_msgid(char *buf, size_t bufsz, const char *tag, const char *unique,
    const char *host)
{
	int n = snprintf(buf, bufsz, "<%s.%s@%s>", tag, unique, host);

	if (n < 0 || (size_t)n >= bufsz) {
		errno = E2BIG;
		return -1;
	}
	return 0;
}

int
outmsg_reply(struct outmsg *m, const char *msgid, const char *references)
{
	char line[MAILHDR_VALUE_MAX * 4], refs[MAILHDR_VALUE_MAX];
	int n;

	if (msgid == NULL || msgid[0] == '\0')
		return 0;
	n = snprintf(line, sizeof(line), "%s %s", references ? references :
	    "", msgid);
	if (n < 0 || (size_t)n >= sizeof(line) ||
	    mailhdr_msgids(line, refs, OUTMSG_REFS_MAX) == -1) {
		errno = E2BIG;
		return -1;
	}
	if (outmsg_header(m, "In-Reply-To", msgid) == -1 ||
	    outmsg_header(m, "References", refs) == -1)
		return -1;
	return 0;
}

char *
outmsg_finish(struct outmsg *m, const char *text, size_t textlen,
    size_t *lenp)
{
	char *qp, *msg;
	size_t qplen, len;
	int needed;

	if ((qp = mailhdr_qp_encode(text, textlen, &qplen, &needed)) ==
	    NULL) {
		outmsg_free(m);
		errno = ENOMEM;
		return NULL;
	}
	if (outmsg_header(m, "MIME-Version", "1.0") == -1 ||
	    outmsg_header(m, "Content-Type", "text/plain; charset=utf-8") ==
	    -1 || outmsg_header(m, "Content-Transfer-Encoding", needed ?
	    "quoted-printable" : "7bit") == -1 ||
	    outmsg_grow(m, qplen + 4) == -1) {
		free(qp);
		outmsg_free(m);
		return NULL;
	}
	/* a blank line, the body, and a line end if it has none */
	msg = m->buf;
	len = m->len;
	memcpy(msg + len, "\r\n", 2);
	len += 2;
	memcpy(msg + len, qp, qplen);
	len += qplen;
	if (len < 2 || msg[len - 2] != '\r' || msg[len - 1] != '\n') {
		memcpy(msg + len, "\r\n", 2);
		len += 2;
	}
	msg[len] = '\0';
	free(qp);
	outmsg_init(m);
	*lenp = len;
	return msg;
}

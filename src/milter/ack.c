/* acknowledgements: their text (the template and its variables) and
 * their header, composed with outmsg; spool.c keeps them, submit.c sends
 * them */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ack.h"
#include "conf_milter.h"
#include "daily.h"
#include "db.h"
#include "mailhdr.h"
#include "outmsg.h"
#include "template.h"

static const char *const ack_months[] = { "January", "February", "March",
    "April", "May", "June", "July", "August", "September", "October",
    "November", "December" };

/* "25 November 2026" */
static void
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
	    outmsg_header(&m, "X-Loop", e->address) == -1 ||
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

int
ack_committed(void *db, const char *ref, const char *rcpt, long long when)
{
	/* the enquiry row the transaction wrote says so; the reference
	 * alone does not, for a follow-up reuses its enquiry's reference,
	 * and a crash between its spool and its rolled-back commit must not
	 * send a second acknowledgement */
	if (db == NULL)
		return 0;
	/* a digest: the claim of its day, made with this file's time */
	if (strncmp(ref, DAILY_DIGEST_REF, strlen(DAILY_DIGEST_REF)) == 0)
		return db_digest_committed(db, ref + strlen(DAILY_DIGEST_REF),
		    when);
	return db_ack_committed(db, ref, rcpt, when);
}

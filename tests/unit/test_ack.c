/* the acknowledgement composer (issue 15 items 12 and 13): headers folded
 * at white space, a category's own template and team, the interval in
 * words */
#include <stdlib.h>
#include <string.h>

#include "ack.h"
#include "conf_milter.h"
#include "unit.h"

static char enq_tmpl[] = "T={{team}} I={{ack_interval}} C={{category}}\n";
static char visit_tmpl[] = "VISIT {{team}} {{reference}}\n";

/* the header's unfolded Subject and its longest physical line */
static void
subject_of(const char *msg, char *out, size_t outsz, size_t *longest)
{
	const char *p = strstr(msg, "\r\nSubject: "), *eol;
	size_t o = 0, n;

	*longest = 0;
	out[0] = '\0';
	if (p == NULL)
		return;
	p += 2;
	for (;;) {
		eol = strstr(p, "\r\n");
		n = (size_t)(eol - p);
		if (n > *longest)
			*longest = n;
		if (o + n >= outsz)
			return;
		memcpy(out + o, p, n);
		o += n;
		out[o] = '\0';
		p = eol + 2;
		if (*p != ' ' && *p != '\t')
			break;
	}
	memmove(out, out + strlen("Subject: "), o - 9 + 1);
}

/* the longest line of the message's header */
static size_t
header_longest(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n"), *p = msg, *eol;
	size_t max = 0;

	while (p < end && (eol = strstr(p, "\r\n")) != NULL) {
		if ((size_t)(eol - p) > max)
			max = (size_t)(eol - p);
		p = eol + 2;
	}
	return max;
}

int
main(void)
{
	struct conf_category cats[2];
	struct conf_enquiry e;
	struct ack_msg a;
	char err[256], subj[1100], got[4096], want[4096], buf[64];
	char *msg;
	size_t len, longest, i;

	memset(cats, 0, sizeof(cats));
	cats[0].name = "visit";
	cats[0].team = "the visits team";
	cats[0].ack_template = visit_tmpl;
	cats[0].ack_template_len = strlen(visit_tmpl);
	cats[1].name = "joining";
	cats[1].team = "";
	memset(&e, 0, sizeof(e));
	e.address = "enquiries@rmet.org";
	e.ack_from = "enquiries@rmet.org";
	e.ack_from_name = "Rushey Mead Educational Trust";
	e.ack_template = enq_tmpl;
	e.ack_template_len = strlen(enq_tmpl);
	e.ack_interval = 7 * 86400;
	e.team = "the governance team";
	e.categories = cats;
	e.ncategories = 2;
	memset(&a, 0, sizeof(a));
	a.reference = "ENQ-2026-000042";
	a.to_addr = "jane@example.org";
	a.to_name = "Jane Smith";
	a.subject = "Visit in June";
	a.message_id = "<m1@example.org>";
	a.references = "";
	a.category = "visit";
	a.received = a.now = 1790000000;
	a.token = "0123456789abcdef";
	a.capsule_url = "gemini://localhost/";
	a.hostname = "milter.test";
	a.enq = &e;

	/* 1. item 13: a category's own template and team */
	msg = ack_compose(&a, &len, err, sizeof(err));
	CHECK(msg && strstr(msg, "\r\n\r\nVISIT the visits team "
	    "ENQ-2026-000042\r\n"), "the visit category's template and team");
	free(msg);
	a.category = "joining";
	msg = ack_compose(&a, &len, err, sizeof(err));
	CHECK(msg && strstr(msg, "\r\n\r\nT=the governance team I=7 days "
	    "C=joining\r\n"), "a category without its own: the enquiry's "
	    "template and team");
	free(msg);
	a.category = "general";
	msg = ack_compose(&a, &len, err, sizeof(err));
	CHECK(msg && strstr(msg, "T=the governance team I=7 days "
	    "C=general"), "no category: the enquiry's");
	free(msg);

	/* 2. the interval in words */
	{
		static const struct { time_t t; const char *want; } t[] = {
			{ 7 * 86400, "7 days" }, { 86400, "1 day" },
			{ 3600, "1 hour" }, { 12 * 3600, "12 hours" },
			{ 1800, "30 minutes" }, { 90, "90 seconds" },
			{ 0, "0 seconds" },
		};

		for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			ack_interval_text(t[i].t, buf, sizeof(buf));
			CHECK_STR(buf, t[i].want, "interval %lld",
			    (long long)t[i].t);
		}
	}

	/* 3. item 12: a 1,015-character ascii subject is folded at white
	 * space, lines of at most 78, and unfolds to what it was */
	for (subj[0] = '\0', i = 0; strlen(subj) < 1015; i++)
		snprintf(subj + strlen(subj), sizeof(subj) - strlen(subj),
		    "word%03zu ", i);
	subj[1015] = '\0';
	a.subject = subj;
	msg = ack_compose(&a, &len, err, sizeof(err));
	CHECK(msg != NULL, "compose with a long subject: %s", msg ? "" : err);
	if (msg) {
		subject_of(msg, got, sizeof(got), &longest);
		snprintf(want, sizeof(want), "Re: [ENQ-2026-000042] %s", subj);
		CHECK_STR(got, want, "the long subject unfolds whole");
		CHECK(longest <= 78, "its lines are at most 78 (%zu)",
		    longest);
		CHECK(header_longest(msg) <= 78, "every header line at most "
		    "78 (%zu)", header_longest(msg));
		free(msg);
	}
	/* a long non-ascii subject: encoded words, each line within 78 */
	for (i = 0; i < 300; i++)
		memcpy(subj + 2 * i, "\xc3\xa9", 2);
	subj[600] = '\0';
	msg = ack_compose(&a, &len, err, sizeof(err));
	if (msg) {
		subject_of(msg, got, sizeof(got), &longest);
		CHECK(strncmp(got, "=?UTF-8?B?", 10) == 0 && longest <= 78,
		    "a long utf-8 subject: encoded words, lines of at most "
		    "78 (%zu)", longest);
		free(msg);
	} else
		CHECK(0, "compose with a long utf-8 subject: %s", err);
	return UNIT_DONE();
}

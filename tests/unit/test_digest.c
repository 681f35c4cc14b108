/* the daily digest's composer: nothing to say, the sections and their
 * order, senders with display names, the header of an automatic mail */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "unit.h"

#define DAY	86400LL
#define NOW	1796200000LL	/* 2026-12-02, the digest's time */

static struct digest_in
base(const struct digest_case *cases, size_t n)
{
	struct digest_in in;

	memset(&in, 0, sizeof(in));
	in.day = "2026-12-02";
	in.from = "enquiries@rmet.org";
	in.from_name = "Rushey Mead Educational Trust";
	in.to = "governance@rmet.org";
	in.loop = "enquiries@rmet.org";
	in.hostname = "milter.rmet.test";
	in.unique = "0123456789abcdef";
	in.now = (time_t)NOW;
	in.since = NOW - DAY;
	in.reply_within = 5 * DAY;
	in.cases = cases;
	in.ncases = n;
	return in;
}

/* where s is in msg, or -1 */
static long
at(const char *msg, const char *s)
{
	const char *p = strstr(msg, s);

	return p ? (long)(p - msg) : -1;
}

int
main(void)
{
	struct digest_case c[5];
	struct digest_case many[DIGEST_SECTION_MAX + 3];
	char refs[DIGEST_SECTION_MAX + 3][32];
	struct digest_in in;
	char *msg;
	size_t len, i;
	long o, n, p;

	/* 1. nothing to say: no case at all, or only closed old ones */
	in = base(NULL, 0);
	errno = EINVAL;
	msg = digest_compose(&in, &len);
	CHECK(msg == NULL && errno == 0, "no case: nothing composed, errno 0");
	memset(c, 0, sizeof(c));
	c[0] = (struct digest_case){ "ENQ-2026-000001", "closed", "general",
	    "old@example.org", NULL, "old", NOW - 40 * DAY, 0, 0, 0, 0 };
	in = base(c, 1);
	msg = digest_compose(&in, &len);
	CHECK(msg == NULL && errno == 0,
	    "a closed case not new: nothing to say");

	/* 2. one of each: overdue, new, open (answered) and new closed */
	c[0] = (struct digest_case){ "ENQ-2026-000004", "new", "visit",
	    "jane@example.org", "Jane Smith", "Visit in June", NOW - 9 * DAY,
	    NOW - 9 * DAY, 1, 0, 1 };
	c[1] = (struct digest_case){ "ENQ-2026-000007", "new", "general",
	    "omar@example.org", "Omar Haddad", "Admissions question",
	    NOW - 3600, NOW - 3600, 0, 1, 1 };
	c[2] = (struct digest_case){ "ENQ-2026-000005", "answered", "general",
	    "li@example.org", NULL, "Governors' minutes", NOW - 4 * DAY,
	    NOW - 4 * DAY, 0, 0, 1 };
	c[3] = (struct digest_case){ "ENQ-2026-000008", "closed", "general",
	    "zoe@example.org", "Zo\xc3\xab Brown", "Thanks", NOW - 1800, 0,
	    0, 1, 0 };
	c[4] = (struct digest_case){ "ENQ-2026-000002", "new", "general",
	    NULL, NULL, NULL, NOW - 20 * DAY, NOW - 20 * DAY, 1, 0, 1 };
	in = base(c, 5);
	msg = digest_compose(&in, &len);
	CHECK(msg != NULL, "a digest is composed");
	if (msg == NULL)
		return UNIT_DONE();
	CHECK(strlen(msg) == len, "its length is right");
	CHECK(at(msg, "To: <governance@rmet.org>\r\n") >= 0 ||
	    at(msg, "To: governance@rmet.org\r\n") >= 0, "to digest-to");
	CHECK(at(msg, "Subject: Enquiries digest 2026-12-02: 2 overdue, "
	    "2 new, 4 open\r\n") >= 0, "the subject counts what it lists");
	CHECK(at(msg, "Auto-Submitted: auto-generated\r\n") >= 0,
	    "Auto-Submitted: auto-generated");
	CHECK(at(msg, "X-Loop: enquiries@rmet.org\r\n") >= 0, "X-Loop");
	CHECK(at(msg, "Message-ID: <digest.0123456789abcdef@"
	    "milter.rmet.test>\r\n") >= 0, "its Message-ID");
	/* the order: overdue (longest waiting first), new, open */
	o = at(msg, "ENQ-2026-000002");
	n = at(msg, "ENQ-2026-000004");
	CHECK(o >= 0 && n > o, "overdue: the longest waiting first");
	p = at(msg, "ENQ-2026-000008");
	CHECK(p > n && at(msg, "ENQ-2026-000007") > n,
	    "new cases after the overdue ones");
	CHECK(at(msg, "ENQ-2026-000005") > p &&
	    at(msg, "ENQ-2026-000005") > at(msg, "ENQ-2026-000007"),
	    "other open cases last");
	CHECK(at(msg, "From: Jane Smith <jane@example.org>") > 0,
	    "the sender with display name and address");
	CHECK(at(msg, "From: li@example.org\r\n") > 0,
	    "a sender without a display name: the address");
	CHECK(at(msg, "Subject: Visit in June") > 0, "the case's subject");
	CHECK(at(msg, "waiting 9 days") > 0, "how long an overdue one waited");
	CHECK(at(msg, "From: (removed)") > 0 &&
	    at(msg, "Subject: (no subject)") > 0,
	    "a purged case says so, no crash on NULL");
	CHECK(at(msg, "Content-Transfer-Encoding: quoted-printable") > 0 &&
	    at(msg, "Zo=C3=AB Brown") > 0,
	    "utf-8 names in a quoted-printable body");
	free(msg);

	/* 3. a section too long is cut, and says how many more */
	memset(many, 0, sizeof(many));
	for (i = 0; i < DIGEST_SECTION_MAX + 3; i++) {
		snprintf(refs[i], sizeof(refs[i]), "ENQ-2026-%06zu", i + 1);
		many[i] = (struct digest_case){ refs[i], "new", NULL,
		    "a@example.org", NULL, "s", NOW - 3600 + (long long)i,
		    NOW - 3600, 0, 1, 1 };
	}
	in = base(many, DIGEST_SECTION_MAX + 3);
	msg = digest_compose(&in, &len);
	CHECK(msg != NULL && at(msg, "... and 3 more") > 0 &&
	    at(msg, refs[DIGEST_SECTION_MAX - 1]) > 0 &&
	    at(msg, refs[DIGEST_SECTION_MAX]) < 0,
	    "a long section lists %d and counts the rest",
	    DIGEST_SECTION_MAX);
	free(msg);
	return UNIT_DONE();
}

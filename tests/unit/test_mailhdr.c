/* header parsing, addresses, rfc 2047 both ways, qp, the rfc 3834
 * classifier (each rule both ways) */
#include <stdlib.h>
#include <string.h>

#include "mailhdr.h"
#include "unit.h"

static void
test_envaddr(void)
{
	static const struct { const char *in, *want; int rc; } t[] = {
		{ "<Jane@Example.ORG>", "jane@example.org", 0 },
		{ "jane@example.org", "jane@example.org", 0 },
		{ "<>", "", 0 },
		{ "", "", 0 },
		{ "<@relay.example,@b.example:jane@example.org>",
		    "jane@example.org", 0 },
		{ "<jane@example.org", NULL, -1 },
		{ "<jane>", NULL, -1 },
		{ "<ja ne@example.org>", NULL, -1 },
		{ "<jane@example.org>\r\nRCPT TO:<x@y>", NULL, -1 },
	};
	char out[MAILHDR_ADDR_MAX];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = mailhdr_envaddr(t[i].in, out, sizeof(out));

		CHECK(rc == t[i].rc, "envaddr \"%s\" -> %d", t[i].in, rc);
		if (t[i].want && rc == 0)
			CHECK_STR(out, t[i].want, "envaddr \"%s\"", t[i].in);
	}
}

static void
test_addr_parse(void)
{
	static const struct { const char *in, *addr, *name; int rc; } t[] = {
		{ "Jane Smith <jane@example.org>", "jane@example.org",
		    "Jane Smith", 0 },
		{ "\"Smith, Jane\" <Jane@Example.org>", "jane@example.org",
		    "Smith, Jane", 0 },
		{ "jane@example.org (Jane Smith)", "jane@example.org",
		    "Jane Smith", 0 },
		{ "<jane@example.org>", "jane@example.org", "", 0 },
		{ "  jane@example.org  ", "jane@example.org", "", 0 },
		{ "=?UTF-8?Q?Ren=C3=A9e_Dupr=C3=A9?= <renee@example.fr>",
		    "renee@example.fr", "Ren\xc3\xa9" "e Dupr\xc3\xa9", 0 },
		{ "=?ISO-8859-1?Q?Andr=E9?= <andre@example.fr>",
		    "andre@example.fr", "Andr\xc3\xa9", 0 },
		{ "\"a \\\"q\\\" b\" <q@example.org>", "q@example.org",
		    "a \"q\" b", 0 },
		{ "A <a@example.org>, B <b@example.org>", "a@example.org",
		    "A", 0 },
		{ "Jane (the (nested) one) <jane@example.org>",
		    "jane@example.org", "Jane", 0 },
		{ "no address here", NULL, NULL, -1 },
		{ "Jane <jane@example.org", NULL, NULL, -1 },
		{ "\"unterminated <jane@example.org>", NULL, NULL, -1 },
		{ "Jane <>", NULL, NULL, -1 },
		{ "\"Evil\r\nBcc: x@y\" <e@example.org>", "e@example.org",
		    "Evil Bcc: x@y", 0 },
	};
	char addr[MAILHDR_ADDR_MAX], name[MAILHDR_NAME_MAX];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = mailhdr_addr_parse(t[i].in, addr, sizeof(addr), name,
		    sizeof(name));

		CHECK(rc == t[i].rc, "addr_parse #%zu rc %d", i, rc);
		if (rc == 0 && t[i].addr) {
			CHECK_STR(addr, t[i].addr, "addr_parse #%zu addr", i);
			CHECK_STR(name, t[i].name, "addr_parse #%zu name", i);
		}
	}
}

static void
test_decode(void)
{
	static const struct { const char *in, *want; } t[] = {
		{ "plain subject", "plain subject" },
		{ "folded\r\n\tsubject", "folded subject" },
		{ "=?utf-8?b?Q2Fmw6k=?=", "Caf\xc3\xa9" },
		{ "=?UTF-8?Q?a_b?= =?UTF-8?Q?c?=", "a bc" },
		{ "x =?UTF-8?Q?y?= z", "x y z" },
		{ "=?iso-8859-1?q?=A3100?=", "\xc2\xa3" "100" },
		{ "=?UTF-8*en?Q?hello?=", "hello" },
		{ "=?koi8-r?B?8NLJ18XU?=", "=?koi8-r?B?8NLJ18XU?=" },
		{ "=?UTF-8?Q?bad=G1?=", "=?UTF-8?Q?bad=G1?=" },
		{ "=?UTF-8?X?what?=", "=?UTF-8?X?what?=" },
		{ "=?UTF-8?B?AAo=?=", "  " },		/* NUL LF -> spaces */
		{ "=?UTF-8?Q?a=0D=0ABcc:_x?=", "a  Bcc: x" },
		{ "bad \xff utf8", "bad ? utf8" },
		{ "=?UTF-8?B?", "=?UTF-8?B?" },
		{ "", "" },
	};
	char out[MAILHDR_VALUE_MAX], small[8];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CHECK(mailhdr_decode(t[i].in, out, sizeof(out)) == 0,
		    "decode #%zu", i);
		CHECK_STR(out, t[i].want, "decode #%zu \"%s\"", i, t[i].in);
	}
	CHECK(mailhdr_decode("longer than eight", small, sizeof(small)) ==
	    -1, "decode truncation is an error");
}

static void
test_encode(void)
{
	char out[MAILHDR_VALUE_MAX * 2], back[MAILHDR_VALUE_MAX];
	char longutf[400];
	size_t i;
	char *p, *line;

	CHECK(mailhdr_encode_text("Visit next week", "\r\n ", out,
	    sizeof(out)) == 0, "encode ascii");
	CHECK_STR(out, "Visit next week", "ascii stays as it is");
	CHECK(mailhdr_encode_text("Caf\xc3\xa9", "\r\n ", out, sizeof(out)) ==
	    0, "encode utf-8");
	CHECK_STR(out, "=?UTF-8?B?Q2Fmw6k=?=", "utf-8 becomes a B word");
	CHECK(mailhdr_encode_text("a\r\nBcc: evil@example.org", "\r\n ", out,
	    sizeof(out)) == 0 && strchr(out, '\r') == NULL &&
	    strchr(out, '\n') == NULL, "no CR/LF survives: \"%s\"", out);
	CHECK(mailhdr_encode_text("looks =?like?= a word", "\r\n ", out,
	    sizeof(out)) == 0 && strncmp(out, "=?UTF-8?B?", 10) == 0,
	    "text that looks encoded gets encoded");
	/* a long non-ascii subject: words of at most 75, folded, and it
	 * decodes back to what went in */
	for (i = 0, p = longutf; i < 120; i++) {
		*p++ = (char)0xc3;
		*p++ = (char)0xa9;
	}
	*p = '\0';
	CHECK(mailhdr_encode_text(longutf, "\r\n ", out, sizeof(out)) == 0,
	    "encode long");
	{
		int ok = 1;
		char *save = NULL;
		char copy[sizeof(out)];

		strcpy(copy, out);
		for (line = strtok_r(copy, "\r\n", &save); line;
		    line = strtok_r(NULL, "\r\n", &save))
			if (strlen(line) > 76)
				ok = 0;
		CHECK(ok, "every encoded line is at most 76");
	}
	CHECK(mailhdr_decode(out, back, sizeof(back)) == 0 &&
	    strcmp(back, longutf) == 0, "long subject round-trips");
	CHECK(mailhdr_encode_text(longutf, "\r\n ", out, 20) == -1,
	    "encode truncation is an error");

	CHECK(mailhdr_encode_phrase("Jane Smith", " ", out, sizeof(out)) ==
	    0, "phrase");
	CHECK_STR(out, "Jane Smith", "plain phrase kept");
	mailhdr_encode_phrase("Smith, \"J\"", " ", out, sizeof(out));
	CHECK_STR(out, "\"Smith, \\\"J\\\"\"", "specials quoted");
	mailhdr_encode_phrase("Ren\xc3\xa9" "e", " ", out, sizeof(out));
	CHECK_STR(out, "=?UTF-8?B?UmVuw6ll?=", "non-ascii phrase encoded");
}

static void
test_msgids_tag(void)
{
	char out[64], ref[64];

	mailhdr_msgids(" <a@b>\r\n\t<c@d> junk <e f@g> <h@i>", out,
	    sizeof(out));
	CHECK_STR(out, "<a@b> <c@d> <h@i>", "msg-ids kept, junk dropped");
	mailhdr_msgids("<aaaaaaaaaa@b> <cccccccccc@d> <eeeeeeeeee@f>", out,
	    32);
	CHECK_STR(out, "<cccccccccc@d> <eeeeeeeeee@f>", "newest ids kept");
	mailhdr_msgids("<x@y>\r\nBcc: z", out, sizeof(out));
	CHECK_STR(out, "<x@y>", "nothing injected through references");

	CHECK(mailhdr_find_tag("Re: [ENQ-2026-000042] Visit", "ENQ", ref,
	    sizeof(ref)) == 0, "tag found");
	CHECK_STR(ref, "ENQ-2026-000042", "tag reference");
	CHECK(mailhdr_find_tag("Fwd: Re: [enq-2026-7] x", "ENQ", ref,
	    sizeof(ref)) == 0, "tag found in any case");
	CHECK_STR(ref, "ENQ-2026-7", "tag keeps the configured prefix");
	CHECK(mailhdr_find_tag("[ENQ-26-000042]", "ENQ", ref,
	    sizeof(ref)) == -1, "short year is no tag");
	CHECK(mailhdr_find_tag("[ENQ-2026-]", "ENQ", ref, sizeof(ref)) == -1,
	    "missing number is no tag");
	CHECK(mailhdr_find_tag("[ENQUIRY-2026-1]", "ENQ", ref,
	    sizeof(ref)) == -1, "other prefix is no tag");
}

static void
test_note(void)
{
	struct mailhdr_info h;

	mailhdr_info_init(&h);
	mailhdr_note(&h, "From", "Jane Smith <Jane@Example.org>");
	mailhdr_note(&h, "Subject", "=?UTF-8?Q?Visit_in_June?=");
	mailhdr_note(&h, "Subject", "second subject ignored");
	mailhdr_note(&h, "Message-ID", " <abc@example.org> ");
	mailhdr_note(&h, "References", "<x@y> <z@w>");
	mailhdr_note(&h, "Content-Type", "Multipart/Report; "
	    "report-type=delivery-status");
	mailhdr_note(&h, "Auto-Submitted", " Auto-Replied (vacation)");
	mailhdr_note(&h, "X-Enquiry-Reference", "ENQ-2026-000001");
	mailhdr_note(&h, "x-enquiry-reference", "forged");
	mailhdr_note(&h, "List-Id", "<x.example.org>");
	CHECK_STR(h.from_addr, "jane@example.org", "note from address");
	CHECK_STR(h.from_name, "Jane Smith", "note from name");
	CHECK_STR(h.subject, "Visit in June", "note subject decoded");
	CHECK_STR(h.subject_raw, "=?UTF-8?Q?Visit_in_June?=", "raw subject");
	CHECK_STR(h.message_id, "<abc@example.org>", "note message-id");
	CHECK_STR(h.references, "<x@y> <z@w>", "note references");
	CHECK_STR(h.content_type, "multipart/report", "note content type");
	CHECK_STR(h.auto_submitted, "auto-replied", "note auto-submitted");
	CHECK(h.n_xref == 2 && h.has_list, "counts and list flag");
}

/* the longest line of a header value, counting col before the first */
static size_t
longest_line(const char *v, size_t col)
{
	size_t run = col, max = 0;

	for (; *v; v++) {
		if (*v == '\n') {
			run = 0;
			continue;
		}
		if (*v != '\r' && ++run > max)
			max = run;
	}
	return max > run ? max : run;
}

/* every line break is a fold: followed by a blank */
static int
folds_only(const char *v)
{
	for (; *v; v++)
		if (*v == '\n' && v[1] != ' ' && v[1] != '\t')
			return 0;
	return 1;
}

/* the value with its line breaks removed (unfolding, rfc 5322 2.2.3) */
static void
unfold(const char *v, char *out)
{
	for (; *v; v++)
		if (*v != '\r' && *v != '\n')
			*out++ = *v;
	*out = '\0';
}

/* issue 15 item 12: long subjects folded at white space, cut cleanly,
 * never lost */
static void
test_long_subject(void)
{
	struct mailhdr_info h;
	char subj[1100], big[2100], out[4096], un[4096], want[4096];
	const char *e;
	size_t i, n;

	/* 1. a 1,030-character ascii subject: kept, cut at its buffer */
	for (subj[0] = '\0', i = 0; strlen(subj) < 1030; i++)
		snprintf(subj + strlen(subj), sizeof(subj) - strlen(subj),
		    "word%03zu ", i);
	subj[1030] = '\0';
	mailhdr_info_init(&h);
	mailhdr_note(&h, "Subject", subj);
	CHECK(h.subject_cut && strlen(h.subject_raw) ==
	    sizeof(h.subject_raw) - 1, "a long raw subject is marked cut");
	CHECK(strlen(h.subject) == sizeof(h.subject) - 1 &&
	    strncmp(h.subject, subj, 100) == 0, "a long subject is kept, "
	    "cut at its buffer");

	/* 2. one over-long encoded word (~1.9 KB): the raw text, not "" */
	strcpy(big, "=?UTF-8?B?");
	for (i = strlen(big); i < 1900; i += 4)
		memcpy(big + i, "dmlz", 4);
	strcpy(big + i, "?=");
	mailhdr_info_init(&h);
	mailhdr_note(&h, "Subject", big);
	CHECK(strncmp(h.subject, "=?UTF-8?B?dmlzdmlz", 18) == 0 &&
	    strlen(h.subject) == sizeof(h.subject) - 1, "an over-long "
	    "encoded word stays as written: \"%.24s...\"", h.subject);
	/* many conforming words that decode past the buffer: cut, kept */
	for (big[0] = '\0', i = 0; i < 40; i++)
		strcat(big, "=?UTF-8?Q?Caf=C3=A9_and_a_tour_of_the_school_?= ");
	mailhdr_info_init(&h);
	mailhdr_note(&h, "Subject", big);
	CHECK(strncmp(h.subject, "Caf\xc3\xa9 and a tour", 16) == 0 &&
	    strlen(h.subject) > 1000 && strlen(h.subject) < 1024,
	    "a subject decoding past its buffer is cut, not lost");

	/* 3. folding: lines of at most 78, breaks only before blanks, and
	 * unfolding gives the value back */
	snprintf(want, sizeof(want), "Re: [ENQ-2026-000042] %s", subj);
	CHECK(mailhdr_fold(want, 9, "\r\n", out, sizeof(out)) == 0,
	    "fold a 1,050-character subject");
	CHECK(longest_line(out, 9) <= 78, "folded lines at most 78 (%zu)",
	    longest_line(out, 9));
	CHECK(folds_only(out) && strstr(out, "\r\n ") != NULL,
	    "every break is a fold at white space");
	unfold(out, un);
	CHECK_STR(un, want, "unfolding gives the subject back");
	CHECK(mailhdr_fold("a\r\n\tb\nc  d ", 0, "\n", out,
	    sizeof(out)) == 0, "fold a folded value");
	CHECK_STR(out, "a\tb c  d", "old folds undone, blanks kept");
	memset(big, 'x', 200);
	big[200] = '\0';
	CHECK(mailhdr_fold(big, 9, "\r\n", out, sizeof(out)) == 0 &&
	    strcmp(out, big) == 0, "a word longer than a line stays whole");
	CHECK(mailhdr_fold(subj, 9, "\r\n", out, 100) == -1,
	    "fold into too small a buffer is an error");

	/* 4. a long ascii word (no white space) is encoded, so it folds */
	memset(big, 'y', 950);
	big[950] = '\0';
	CHECK(mailhdr_encode_text(big, "\r\n ", out, sizeof(out)) == 0 &&
	    strncmp(out, "=?UTF-8?B?", 10) == 0 && longest_line(out, 9) <= 78,
	    "a 950-character word is encoded as words");

	/* 5. the tagged subject of the routed copy */
	CHECK(mailhdr_subject_tag(" alpha beta\n\tgam", 1, "[E-1]", "\n",
	    out, sizeof(out)) == 0, "tag a cut subject");
	CHECK_STR(out, "[E-1] alpha beta", "a cut subject ends at white "
	    "space, not mid-fold");
	CHECK(mailhdr_subject_tag("alpha beta\n", 0, "[E-1]", "\n", out,
	    sizeof(out)) == 0, "tag a subject ending in a newline");
	CHECK_STR(out, "[E-1] alpha beta", "no bare newline at the end");
	CHECK(mailhdr_subject_tag("", 0, "[E-1]", "\n", out,
	    sizeof(out)) == 0, "tag an empty subject");
	CHECK_STR(out, "[E-1]", "an empty subject is the tag");
	mailhdr_info_init(&h);
	mailhdr_note(&h, "Subject", subj);
	CHECK(mailhdr_subject_tag(h.subject_raw, h.subject_cut,
	    "[ENQ-2026-000042]", "\n", out, sizeof(out)) == 0,
	    "tag a cut 1,030-character subject");
	n = strlen(out);
	CHECK(n > 0 && out[n - 1] != '\n' && out[n - 1] != ' ' &&
	    folds_only(out) && longest_line(out, 9) <= 78,
	    "folded, no break or blank at the end");
	unfold(out, un);
	e = un + strlen("[ENQ-2026-000042] ");
	CHECK(strncmp(e, subj, strlen(e)) == 0 && strlen(e) < 1023 &&
	    e[strlen(e) - 1] >= '0' && e[strlen(e) - 1] <= '9' &&
	    subj[strlen(e)] == ' ', "cut between words: ...%s",
	    e + strlen(e) - 8);
	CHECK(mailhdr_subject_tag(h.subject_raw, 0, "[ENQ-2026-000042]",
	    "\n", out, 300) == 0 && strlen(out) < 300 &&
	    out[strlen(out) - 1] != ' ' && out[strlen(out) - 1] != '\n',
	    "too long for the buffer: cut at white space to fit");
	memset(big, 'z', 1500);
	big[1500] = '\0';
	mailhdr_info_init(&h);
	mailhdr_note(&h, "Subject", big);
	CHECK(mailhdr_subject_tag(h.subject_raw, h.subject_cut, "[E-1]",
	    "\n", out, sizeof(out)) == 0 && longest_line(out, 9) <= 998,
	    "one giant word: cut so its line stays within 998");
}

/* each rule of rfc 3834 both ways */
static void
test_classify(void)
{
	static const char *own[] = { "enquiries@rmet.org",
	    "rachelle.stevens@rmet.org" };
	static const struct {
		const char *sender, *hname, *hvalue;
		int want;
	} t[] = {
		{ "jane@example.org", NULL, NULL, MAILHDR_ACK },
		{ "", NULL, NULL, MAILHDR_NOACK_NULL_SENDER },
		{ "mailer-daemon@example.org", NULL, NULL,
		    MAILHDR_NOACK_ROLE_SENDER },
		{ "MAILER-DAEMON@example.org", NULL, NULL,
		    MAILHDR_NOACK_ROLE_SENDER },
		{ "postmaster@example.org", NULL, NULL,
		    MAILHDR_NOACK_ROLE_SENDER },
		{ "owner-list@example.org", NULL, NULL,
		    MAILHDR_NOACK_ROLE_SENDER },
		{ "list-request@example.org", NULL, NULL,
		    MAILHDR_NOACK_ROLE_SENDER },
		{ "list-bounces@example.org", NULL, NULL,
		    MAILHDR_NOACK_ROLE_SENDER },
		{ "list-bounces+jane=example.org@example.org", NULL, NULL,
		    MAILHDR_NOACK_ROLE_SENDER },
		{ "noreply@example.org", NULL, NULL,
		    MAILHDR_NOACK_ROLE_SENDER },
		{ "no-reply@example.org", NULL, NULL,
		    MAILHDR_NOACK_ROLE_SENDER },
		{ "do-not-reply@example.org", NULL, NULL,
		    MAILHDR_NOACK_ROLE_SENDER },
		{ "requester@example.org", NULL, NULL, MAILHDR_ACK },
		{ "bob.owner@example.org", NULL, NULL, MAILHDR_ACK },
		{ "jane@example.org", "From", "noreply@example.org",
		    MAILHDR_NOACK_ROLE_SENDER },
		{ "jane@example.org", "Auto-Submitted", "auto-replied",
		    MAILHDR_NOACK_AUTO_SUBMITTED },
		{ "jane@example.org", "Auto-Submitted", "auto-generated",
		    MAILHDR_NOACK_AUTO_SUBMITTED },
		{ "jane@example.org", "Auto-Submitted", "No", MAILHDR_ACK },
		{ "jane@example.org", "Auto-Submitted", "no (a comment)",
		    MAILHDR_ACK },
		{ "jane@example.org", "Precedence", "bulk",
		    MAILHDR_NOACK_PRECEDENCE },
		{ "jane@example.org", "Precedence", "List",
		    MAILHDR_NOACK_PRECEDENCE },
		{ "jane@example.org", "Precedence", "junk",
		    MAILHDR_NOACK_PRECEDENCE },
		{ "jane@example.org", "Precedence", "first-class",
		    MAILHDR_ACK },
		{ "jane@example.org", "List-Id", "<x.example.org>",
		    MAILHDR_NOACK_LIST },
		{ "jane@example.org", "List-Unsubscribe", "<mailto:x@y>",
		    MAILHDR_NOACK_LIST },
		{ "jane@example.org", "Listen", "a header not from a list",
		    MAILHDR_ACK },
		{ "jane@example.org", "X-Auto-Response-Suppress", "All",
		    MAILHDR_NOACK_SUPPRESS },
		{ "jane@example.org", "X-Auto-Response-Suppress",
		    "DR, AutoReply", MAILHDR_NOACK_SUPPRESS },
		{ "jane@example.org", "X-Auto-Response-Suppress", "OOF",
		    MAILHDR_NOACK_SUPPRESS },
		{ "jane@example.org", "X-Auto-Response-Suppress", "DR, RN",
		    MAILHDR_ACK },
		{ "jane@example.org", "Content-Type",
		    "multipart/report; report-type=delivery-status",
		    MAILHDR_NOACK_REPORT },
		{ "jane@example.org", "Content-Type", "multipart/mixed",
		    MAILHDR_ACK },
		{ "enquiries@rmet.org", NULL, NULL, MAILHDR_NOACK_OWN_ADDRESS },
		{ "jane@example.org", "From", "Rachelle <Rachelle.Stevens@"
		    "rmet.org>", MAILHDR_NOACK_OWN_ADDRESS },
		{ "someone@rmet.org", NULL, NULL, MAILHDR_ACK },
		/* rfc 3834: an X-Loop naming one of ours is a loop */
		{ "jane@example.org", "X-Loop", "enquiries@rmet.org",
		    MAILHDR_NOACK_LOOP },
		{ "jane@example.org", "X-Loop", "Enquiries@RMET.org",
		    MAILHDR_NOACK_LOOP },
		{ "jane@example.org", "X-Loop", "<enquiries+x@rmet.org>",
		    MAILHDR_NOACK_LOOP },
		{ "jane@example.org", "X-Loop", "Trust <enquiries@rmet.org>",
		    MAILHDR_NOACK_LOOP },
		{ "jane@example.org", "X-Loop", "helpdesk@example.org",
		    MAILHDR_ACK },
		{ "jane@example.org", "X-Loop", "", MAILHDR_ACK },
	};
	struct mailhdr_info h;
	size_t i;
	int got;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mailhdr_info_init(&h);
		if (t[i].hname)
			mailhdr_note(&h, t[i].hname, t[i].hvalue);
		got = mailhdr_classify(t[i].sender, &h, own, 2);
		CHECK(got == t[i].want, "classify <%s> %s: %s -> %s (want %s)",
		    t[i].sender, t[i].hname ? t[i].hname : "-",
		    t[i].hvalue ? t[i].hvalue : "-", mailhdr_noack_name(got),
		    mailhdr_noack_name(t[i].want));
	}
	CHECK_STR(mailhdr_noack_name(MAILHDR_NOACK_INTERVAL), "interval",
	    "reason names");
	CHECK_STR(mailhdr_noack_name(MAILHDR_NOACK_LOOP), "loop",
	    "loop reason name");
	CHECK_STR(mailhdr_noack_name(99), "unknown", "unknown reason");
	/* ours behind others' X-Loop fields is still ours */
	mailhdr_info_init(&h);
	mailhdr_note(&h, "X-Loop", "helpdesk@example.org");
	mailhdr_note(&h, "X-Loop", "enquiries@rmet.org");
	got = mailhdr_classify("jane@example.org", &h, own, 2);
	CHECK(got == MAILHDR_NOACK_LOOP, "second X-Loop is ours -> %s",
	    mailhdr_noack_name(got));
}

static void
test_qp(void)
{
	char *out;
	size_t len;
	int needed;
	char longline[200];

	out = mailhdr_qp_encode("plain\nascii\n", 12, &len, &needed);
	CHECK(out && !needed, "ascii needs no qp");
	CHECK_STR(out, "plain\r\nascii\r\n", "lines become CRLF");
	free(out);
	out = mailhdr_qp_encode("Caf\xc3\xa9 = ok \n", 12, &len, &needed);
	CHECK(out && needed, "8-bit needs qp");
	CHECK_STR(out, "Caf=C3=A9 =3D ok=20\r\n", "qp escapes and trailing "
	    "space");
	free(out);
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	out = mailhdr_qp_encode(longline, strlen(longline), &len, &needed);
	CHECK(out && needed && strstr(out, "=\r\n") != NULL &&
	    strlen(strtok(out, "\r\n")) <= 76, "long lines get soft breaks");
	free(out);
}

int
main(void)
{
	test_envaddr();
	test_addr_parse();
	test_decode();
	test_encode();
	test_msgids_tag();
	test_note();
	test_long_subject();
	test_classify();
	test_qp();
	return UNIT_DONE();
}

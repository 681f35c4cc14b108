/* the outgoing-mail composer: header fields, folding, encoded words,
 * dates, Message-IDs, references and the body's encoding */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "outmsg.h"
#include "unit.h"

/* the longest line of a composed text, CRLF not counted; 1 when every
 * line ends in CRLF and no CR or LF stands alone */
static int
lines_ok(const char *s, size_t *longest)
{
	const char *p = s, *eol;

	*longest = 0;
	while (*p) {
		if ((eol = strstr(p, "\r\n")) == NULL)
			return 0;
		if ((size_t)(eol - p) > *longest)
			*longest = (size_t)(eol - p);
		if (memchr(p, '\n', (size_t)(eol - p)) ||
		    memchr(p, '\r', (size_t)(eol - p)))
			return 0;
		p = eol + 2;
	}
	return 1;
}

/* the value of header NAME, unfolded (folds removed, as rfc 5322 says) */
static void
value_of(const char *msg, const char *name, char *out, size_t outsz)
{
	char key[64];
	const char *p, *eol;
	size_t o = 0, n;

	out[0] = '\0';
	snprintf(key, sizeof(key), "%s: ", name);
	if (strncmp(msg, key, strlen(key)) == 0)
		p = msg;
	else {
		snprintf(key, sizeof(key), "\r\n%s: ", name);
		if ((p = strstr(msg, key)) == NULL)
			return;
		p += 2;
	}
	p += strlen(name) + 2;
	for (;;) {
		eol = strstr(p, "\r\n");
		n = (size_t)(eol - p);
		if (o + n >= outsz)
			return;
		memcpy(out + o, p, n);
		o += n;
		out[o] = '\0';
		p = eol + 2;
		if (*p != ' ' && *p != '\t')
			break;
	}
}

int
main(void)
{
	struct outmsg m;
	char buf[4096], val[4096], refs[3000], body[400];
	char *msg;
	size_t len, longest;
	int i, rc;

	/* 1. dates: rfc 5322, UTC, english whatever the locale */
	outmsg_date_rfc(0, buf, sizeof(buf));
	CHECK_STR(buf, "Thu, 1 Jan 1970 00:00:00 +0000", "the epoch");
	outmsg_date_rfc(1790000000, buf, sizeof(buf));
	CHECK_STR(buf, "Mon, 21 Sep 2026 14:13:20 +0000",
	    "a date in 2026");
	outmsg_date_rfc(951782400, buf, sizeof(buf));
	CHECK_STR(buf, "Tue, 29 Feb 2000 00:00:00 +0000", "a leap day");

	/* 2. message-ids */
	CHECK(outmsg_msgid(buf, sizeof(buf), "ENQ-2026-000042",
	    "0123abcd.mac", "milter.test") == 0, "a message-id fits");
	CHECK_STR(buf, "<ENQ-2026-000042.0123abcd.mac@milter.test>",
	    "a message-id is <tag.unique@host>");
	errno = 0;
	rc = outmsg_msgid(buf, 20, "list", "0123456789abcdef", "milter.test");
	CHECK(rc == -1 && errno == E2BIG,
	    "a message-id too long for its buffer is an error, not cut");

	/* 3. header fields: addresses, encoded display names, text */
	outmsg_init(&m);
	CHECK(outmsg_address(&m, "From", "Rushey Mead Educational Trust",
	    "enquiries@rmet.org") == 0 &&
	    outmsg_address(&m, "To", "", "jane@example.org") == 0 &&
	    outmsg_address(&m, "Cc", NULL, "bob@example.org") == 0 &&
	    outmsg_address(&m, "Reply-To", "Smith, Jane",
	    "jane@example.org") == 0 &&
	    outmsg_address(&m, "Sender", "J\xc3\xa1ne",
	    "jane@example.org") == 0 &&
	    outmsg_text(&m, "Subject", "Visit in June") == 0 &&
	    outmsg_text(&m, "X-Caf", "caf\xc3\xa9 au lait") == 0 &&
	    outmsg_date(&m, 1790000000) == 0 &&
	    outmsg_header(&m, "Auto-Submitted", "auto-replied") == 0,
	    "header fields added");
	CHECK(strncmp(m.buf, "From: Rushey Mead Educational Trust "
	    "<enquiries@rmet.org>\r\n", 58) == 0, "From first, with its "
	    "name");
	value_of(m.buf, "To", val, sizeof(val));
	CHECK_STR(val, "<jane@example.org>", "no display name: <addr>");
	value_of(m.buf, "Cc", val, sizeof(val));
	CHECK_STR(val, "<bob@example.org>", "NULL display name: <addr>");
	value_of(m.buf, "Reply-To", val, sizeof(val));
	CHECK_STR(val, "\"Smith, Jane\" <jane@example.org>",
	    "a display name with specials is quoted");
	value_of(m.buf, "Sender", val, sizeof(val));
	CHECK(strncmp(val, "=?UTF-8?", 8) == 0 &&
	    strstr(val, "?= <jane@example.org>") != NULL,
	    "an 8-bit display name is an encoded word (%s)", val);
	value_of(m.buf, "Subject", val, sizeof(val));
	CHECK_STR(val, "Visit in June", "ascii text as it is");
	value_of(m.buf, "X-Caf", val, sizeof(val));
	CHECK(strstr(val, "=?UTF-8?") != NULL && strchr(val, '\xc3') == NULL,
	    "8-bit text in encoded words, no raw 8-bit (%s)", val);
	value_of(m.buf, "Date", val, sizeof(val));
	CHECK_STR(val, "Mon, 21 Sep 2026 14:13:20 +0000", "the Date field");
	outmsg_free(&m);

	/* 4. folding: a long value at white space, lines within 78 */
	outmsg_init(&m);
	buf[0] = '\0';
	for (i = 0; i < 40; i++)
		strcat(buf, i ? " word" : "word");
	CHECK(outmsg_header(&m, "X-Long", buf) == 0, "a 199-byte value");
	CHECK(lines_ok(m.buf, &longest) && longest <= 78,
	    "folded to lines of at most 78 (%zu), CRLF ends", longest);
	value_of(m.buf, "X-Long", val, sizeof(val));
	CHECK_STR(val, buf, "unfolded, the value is the same");
	for (i = 0; i < 300; i++)
		memcpy(buf + 2 * i, "\xc3\xa9", 2);
	buf[600] = '\0';
	CHECK(outmsg_text(&m, "Subject", buf) == 0, "a 300-letter utf-8 "
	    "subject");
	CHECK(lines_ok(m.buf, &longest) && longest <= 78,
	    "its encoded words folded within 78 (%zu)", longest);
	outmsg_free(&m);

	/* 5. a text too long for a header is an error, E2BIG */
	outmsg_init(&m);
	memset(val, 'a', 3500);
	val[3500] = '\0';
	errno = 0;
	rc = outmsg_text(&m, "Subject", val);
	CHECK(rc == -1 && errno == E2BIG, "a 3500-byte subject is refused "
	    "(E2BIG)");
	outmsg_free(&m);

	/* 6. replies: In-Reply-To, References keep the latest */
	outmsg_init(&m);
	CHECK(outmsg_reply(&m, NULL, "<a@b>") == 0 &&
	    outmsg_reply(&m, "", "<a@b>") == 0 && m.len == 0,
	    "no message-id: no reply fields");
	CHECK(outmsg_reply(&m, "<m1@example.org>", "<r0@example.org> "
	    "junk <r1@example.org>") == 0, "reply fields");
	value_of(m.buf, "In-Reply-To", val, sizeof(val));
	CHECK_STR(val, "<m1@example.org>", "In-Reply-To is the message-id");
	value_of(m.buf, "References", val, sizeof(val));
	CHECK_STR(val, "<r0@example.org> <r1@example.org> <m1@example.org>",
	    "References: msg-ids only, then the message-id");
	outmsg_free(&m);
	outmsg_init(&m);
	refs[0] = '\0';
	for (i = 0; i < 60; i++)
		snprintf(refs + strlen(refs), sizeof(refs) - strlen(refs),
		    "<ref%d.abcdefgh@example.org> ", i);
	CHECK(outmsg_reply(&m, "<last@example.org>", refs) == 0,
	    "a thread of 60 references");
	value_of(m.buf, "References", val, sizeof(val));
	CHECK(strlen(val) <= 900 && strstr(val, "<ref59.abcdefgh@example.org>"
	    " <last@example.org>") && !strstr(val, "<ref0.abcd"),
	    "References: the latest that fit in 900 bytes (%zu)",
	    strlen(val));
	CHECK(lines_ok(m.buf, &longest) && longest <= 78,
	    "References folded within 78 (%zu)", longest);
	outmsg_free(&m);

	/* 7. the body: 7bit when it can be, quoted-printable when not */
	outmsg_init(&m);
	outmsg_header(&m, "Subject", "x");
	msg = outmsg_finish(&m, "Hello.\nSecond line.", 19, &len);
	CHECK(msg != NULL && m.buf == NULL, "finished; the outmsg is spent");
	if (msg) {
		CHECK(strlen(msg) == len, "its length (%zu)", len);
		CHECK(strstr(msg, "\r\nMIME-Version: 1.0\r\nContent-Type: "
		    "text/plain; charset=utf-8\r\nContent-Transfer-Encoding: "
		    "7bit\r\n\r\nHello.\r\nSecond line.\r\n") != NULL,
		    "ascii: 7bit, CRLF lines, ends in CRLF");
		CHECK(lines_ok(msg, &longest), "every line ends in CRLF");
		free(msg);
	}
	outmsg_init(&m);
	outmsg_header(&m, "Subject", "x");
	snprintf(body, sizeof(body), "Caf\xc3\xa9\r\n");
	msg = outmsg_finish(&m, body, strlen(body), &len);
	CHECK(msg && strstr(msg, "Content-Transfer-Encoding: quoted-"
	    "printable\r\n\r\nCaf=C3=A9\r\n") != NULL,
	    "8-bit text: quoted-printable");
	free(msg);
	outmsg_init(&m);
	memset(body, 'x', 300);
	body[300] = '\0';
	msg = outmsg_finish(&m, body, 300, &len);
	CHECK(msg && strstr(msg, "quoted-printable") &&
	    lines_ok(msg, &longest) && longest <= 76,
	    "a 300-byte line: quoted-printable, soft breaks (%zu)", longest);
	free(msg);
	return UNIT_DONE();
}

/* the body decoder (mime walk, transfer encodings, charsets, html) and
 * whole-word phrase matching */
#include <stdlib.h>
#include <string.h>

#include "mailbody.h"
#include "unit.h"

static struct mailbody mb;

/* the text of a body fed in chunks of `chunk` bytes (0: all at once) */
static const char *
text_of(const char *ctype, const char *cte, const char *body, size_t chunk)
{
	size_t n = strlen(body), i, k;

	mailbody_init(&mb, ctype, cte);
	if (chunk == 0)
		chunk = n ? n : 1;
	for (i = 0; i < n; i += k) {
		k = n - i < chunk ? n - i : chunk;
		mailbody_feed(&mb, body + i, k);
	}
	mailbody_text(&mb, NULL);
	mailbody_free(&mb);
	return mb.text;
}

static int
has(const char *text, const char *phrase)
{
	return mailbody_has_phrase(text, strlen(text), phrase);
}

/* valid utf-8 and no control byte but '\n' */
static int
clean_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l, k;

	while (i < n) {
		if (p[i] < 0x80) {
			if ((p[i] < 0x20 && p[i] != '\n') || p[i] == 0x7f)
				return 0;
			i++;
			continue;
		}
		l = p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : p[i] >= 0xc2 ? 2 : 0;
		if (l == 0 || i + l > n)
			return 0;
		for (k = 1; k < l; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
		i += l;
	}
	return 1;
}

static void
test_words(void)
{
	static const struct { const char *text, *phrase; int want; } t[] = {
		/* issue 15's examples */
		{ "Football tournament fixtures", "tour", 0 },
		{ "A tour of the school", "tour", 1 },
		{ "we would like to visit", "visit", 1 },
		{ "VISIT in June", "visit", 1 },
		{ "Visiting hours", "visit", 0 },
		{ "revisit", "visit", 0 },
		{ "visit2", "visit", 0 },
		{ "the visit's date", "visit", 1 },
		{ "the visit\xe2\x80\x99s date", "visit", 1 },	/* ’ */
		{ "(visit)", "visit", 1 },
		{ "visit", "visit", 1 },
		{ "", "visit", 0 },
		{ "anything", "", 0 },
		{ "anything", "--", 0 },
		/* phrases: the words in order, anything but words between */
		{ "our Open Day is near", "open day", 1 },
		{ "an open-day visit", "open day", 1 },
		{ "open\r\n\tday", "open day", 1 },
		{ "open days", "open day", 0 },
		{ "reopen day", "open day", 0 },
		{ "open the day", "open day", 0 },
		{ "we want to join the trust", "join the trust", 1 },
		{ "join the trustees", "join the trust", 0 },
		{ "open open day", "open day", 1 },
		/* utf-8 letters are word characters; latin-1, greek and
		 * cyrillic capitals fold */
		{ "\xc3\x89" "COLE primaire", "\xc3\xa9" "cole", 1 },
		{ "na\xc3\xafve", "na", 0 },
		{ "caf\xc3\xa9", "caf", 0 },
		{ "\xd0\x92\xd0\x98\xd0\x97\xd0\x98\xd0\xa2", /* ВИЗИТ */
		    "\xd0\xb2\xd0\xb8\xd0\xb7\xd0\xb8\xd1\x82", 1 },
		{ "tour\xc2\xa0" "dates", "tour", 1 },	/* nbsp */
		{ "tour\xe2\x80\x94" "dates", "tour", 1 },	/* em dash */
		{ "bad \xff tour", "tour", 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(has(t[i].text, t[i].phrase) == t[i].want,
		    "\"%s\" %s \"%s\"", t[i].text, t[i].want ? "has" :
		    "has not", t[i].phrase);
}

static void
test_plain(void)
{
	const char *s;

	s = text_of(NULL, NULL, "Hello,\r\nwe would like to visit.\r\n", 0);
	CHECK_STR(s, "Hello,\nwe would like to visit.\n", "plain text, "
	    "no header: text/plain");
	s = text_of("text/plain; charset=us-ascii", "7bit",
	    "Football  tournament\tfixtures\r\n\r\n\r\nnext", 0);
	CHECK_STR(s, "Football tournament fixtures\nnext", "white space "
	    "runs are one");
	/* base64: issue 15's third example */
	s = text_of("text/plain; charset=utf-8", "base64",
	    "d2Ugd291bGQgbGlr\r\nZSB0byB2aXNpdA==\r\n", 0);
	CHECK_STR(s, "we would like to visit", "base64 decoded");
	CHECK(has(s, "visit"), "base64 body matches visit");
	s = text_of("text/plain; charset=\"UTF-8\"", "Base64",
	    "Q2Fmw6k=\r\nIGF0IDk=\r\n", 0);
	CHECK_STR(s, "Caf\xc3\xa9 at 9", "base64 blocks padded apart");
	s = text_of("text/plain; charset=utf-8", "quoted-printable",
	    "we would like to vi=\r\nsit the caf=C3=A9 =3D good=20\r\n"
	    "a=ZZb =\r\n", 0);
	CHECK_STR(s, "we would like to visit the caf\xc3\xa9 = good\n"
	    "a=ZZb ", "quoted-printable: soft breaks, escapes, bad escapes "
	    "kept");
	s = text_of("text/plain; charset=iso-8859-1", "quoted-printable",
	    "caf=E9 na=EFve =93quoted=94", 0);
	CHECK_STR(s, "caf\xc3\xa9 na\xc3\xafve \xe2\x80\x9cquoted"
	    "\xe2\x80\x9d", "iso-8859-1 read as windows-1252");
	s = text_of("text/plain; charset=windows-1252", "8bit",
	    "\x80 100 \x96 fine", 0);
	CHECK_STR(s, "\xe2\x82\xac 100 \xe2\x80\x93 fine", "windows-1252");
	s = text_of("text/plain; charset=iso-8859-15", "8bit",
	    "\xa4 5 \xbd", 0);
	CHECK_STR(s, "\xe2\x82\xac 5 \xc5\x93", "iso-8859-15 through iconv");
	s = text_of("text/plain; charset=koi8-r", "8bit",
	    "\xf7\xe9\xfa\xe9\xf4", 0);	/* ВИЗИТ */
	CHECK_STR(s, "\xd0\x92\xd0\x98\xd0\x97\xd0\x98\xd0\xa2",
	    "koi8-r through iconv");
	s = text_of("text/plain; charset=x-no-such", "8bit",
	    "caf\xc3\xa9 and caf\xe9", 0);
	CHECK_STR(s, "caf\xc3\xa9 and caf\xc3\xa9", "unknown charset: utf-8, "
	    "else windows-1252");
	s = text_of("text/plain; charset=utf-8", NULL,
	    "bad \xc0\xaf \xed\xa0\x80 \xf0\x9f\x98 ok\x01\x7f.", 0);
	CHECK(clean_utf8(s, strlen(s)), "invalid utf-8 comes out clean: %s",
	    s);
	CHECK(has(s, "ok"), "text after invalid utf-8 kept");
}

static void
test_html(void)
{
	const char *s;

	s = text_of("text/html; charset=utf-8", "7bit",
	    "<!DOCTYPE html><html><head><title>A tour</title>\r\n"
	    "<style>p.tour { color: red }</style>\r\n"
	    "<script type=\"text/javascript\">var tour = '</scr' + 'x';"
	    "</script></head>\r\n"
	    "<body><p class=\"a>b\">We would like to <b>vis</b>it</p>"
	    "<p>Fish &amp; chips&nbsp;caf&eacute; &#233; &#x45;&#x;"
	    " &bogus; 1 &lt; 2</p><!-- a tour -- here -->"
	    "<div>tour<br>fixtures</div>a < b</body></html>", 0);
	CHECK(has(s, "visit"), "html: inline tags keep words whole");
	CHECK(!has(s, "p"), "html: tag names are not text");
	CHECK(has(s, "tour fixtures"), "html: block tags break words");
	CHECK(has(s, "tour") && !has(s, "a tour") && !has(s, "color"),
	    "html: script, style and comments dropped");
	CHECK(strstr(s, "Fish & chips caf\xc3\xa9 \xc3\xa9 E&#x; &bogus; "
	    "1 < 2") != NULL, "html: entities decoded, unknown ones kept");
	CHECK(strstr(s, "a < b") != NULL, "html: a lone < is text");
	CHECK(!has(s, "scr"), "html: script text never shown");
	s = text_of("text/html; charset=iso-8859-1", "quoted-printable",
	    "<p>Caf=E9 <i>visit</i></p>", 0);
	CHECK_STR(s, "Caf\xc3\xa9 visit ", "html in iso-8859-1, qp");
}

static const char mixed[] =
    "This is a multi-part message in MIME format. tour\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative;\r\n"
    "\tboundary=\"inner=_b\"\r\n"
    "\r\n"
    "--inner=_b\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Please send the open-day=\r\n"
    " dates.\r\n"
    "--inner=_b\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<p>Please send the <b>open day</b> dates.</p>\r\n"
    "--inner=_b--\r\n"
    "inner epilogue tour\r\n"
    "--outer\r\n"
    "Content-Type: application/pdf; name=\"tour.pdf\"\r\n"
    "Content-Disposition: attachment; filename=\"tour.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "dG91ciB0b3VyIHRvdXI=\r\n"
    "--outer\r\n"
    "Content-Type: text/plain; name=\"notes.txt\"\r\n"
    "Content-Disposition: attachment; filename=\"notes.txt\"\r\n"
    "\r\n"
    "a tour in the attached notes\r\n"
    "--outer\r\n"
    "Content-Type: image/png\r\n"
    "\r\n"
    "tour\r\n"
    "--outer--\r\n"
    "epilogue tour\r\n";

static const char bounce[] =
    "--rep\r\n"
    "Content-Description: Notification\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "This is the mail system at host mx.example.org.\r\n"
    "I'm sorry to have to inform you that your message could not\r\n"
    "be delivered to one or more recipients.\r\n"
    "\r\n"
    "--rep\r\n"
    "Content-Type: message/delivery-status\r\n"
    "\r\n"
    "Reporting-MTA: dns; mx.example.org\r\n"
    "Final-Recipient: rfc822; visit@example.org\r\n"
    "Action: failed\r\n"
    "\r\n"
    "--rep\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "From: Jane <jane@example.org>\r\n"
    "Subject: Re: your visit\r\n"
    "\r\n"
    "About your visit on Tuesday.\r\n"
    "--rep\r\n"
    "Content-Type: text/rfc822-headers\r\n"
    "\r\n"
    "Subject: Re: your visit\r\n"
    "--rep--\r\n";

static void
test_mime(void)
{
	char one[MAILBODY_TEXT_MAX + 1];
	const char *s;
	size_t chunk;

	s = text_of("multipart/mixed; boundary=outer", NULL, mixed, 0);
	CHECK_STR(s, "Please send the open-day dates.\n"
	    "Please send the open day dates.\n", "multipart: the text of "
	    "both alternatives, nothing else");
	CHECK(has(s, "open day") && !has(s, "tour"), "attachments, "
	    "preamble and epilogues skipped");
	snprintf(one, sizeof(one), "%s", s);
	for (chunk = 1; chunk < 40; chunk += 3)
		CHECK_STR(text_of("multipart/mixed; boundary=outer", NULL,
		    mixed, chunk), one, "the same fed %zu bytes at a time",
		    chunk);
	s = text_of("multipart/report; report-type=delivery-status; "
	    "boundary=\"rep\"", "7bit", bounce, 0);
	CHECK(has(s, "delivered"), "bounce: the notification is read");
	CHECK(!has(s, "visit"), "bounce: quoted message and headers are "
	    "not");
	s = text_of("multipart/digest; boundary=d", NULL,
	    "--d\r\n\r\nSubject: visit\r\n\r\nvisit\r\n--d--\r\n", 0);
	CHECK(!has(s, "visit"), "digest parts are messages, not text");
	s = text_of("multipart/mixed", NULL, "--x\r\n\r\nvisit\r\n", 0);
	CHECK_STR(s, "", "a multipart without a boundary is skipped");
	s = text_of("message/rfc822", NULL, "Subject: visit\r\n\r\nvisit", 0);
	CHECK_STR(s, "", "a message/rfc822 body is skipped");
	s = text_of("application/octet-stream", "base64", "dmlzaXQ=", 0);
	CHECK_STR(s, "", "a non-text body is skipped");
	s = text_of("multipart/mixed; boundary=a", NULL,
	    "--a\r\nContent-Type: text/plain\r\n\r\nno closing boundary", 0);
	CHECK_STR(s, "no closing boundary", "an unclosed part still counts");
}

static void
test_bounds(void)
{
	char *big, *deep;
	const char *s;
	size_t i, n = 200000, len;

	/* 1. the text is bounded and stays whole utf-8 */
	if ((big = malloc(n + 1)) == NULL)
		return;
	for (i = 0; i + 2 <= n; i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[i] = '\0';
	mailbody_init(&mb, "text/plain; charset=utf-8", NULL);
	mailbody_feed(&mb, big, strlen(big));
	s = mailbody_text(&mb, &len);
	CHECK(len <= MAILBODY_TEXT_MAX && len > MAILBODY_TEXT_MAX - 4 &&
	    strlen(s) == len, "text bounded at %zu bytes", len);
	CHECK(clean_utf8(s, len), "bounded text ends on a character");
	mailbody_free(&mb);
	mailbody_free(&mb);

	/* 2. a line far longer than the line buffer, the word at its end */
	memset(big, 'x', 5000);
	strcpy(big + 5000, " visit\r\n");
	big[0] = ' ';
	CHECK(has(text_of("text/plain", "quoted-printable", big, 0),
	    "visit"), "a 5000-byte line is read to its end");
	/* a boundary-like line after a long line is still a line of text */
	free(big);

	/* 3. nesting deeper than the bound: no crash, the inner text lost */
	if ((deep = malloc(20 * 64 + 64)) == NULL)
		return;
	deep[0] = '\0';
	for (i = 0; i < 20; i++)
		snprintf(deep + strlen(deep), 64, "--b%zu\r\nContent-Type: "
		    "multipart/mixed; boundary=b%zu\r\n\r\n", i, i + 1);
	strcat(deep, "--b20\r\n\r\ndeep visit\r\n");
	s = text_of("multipart/mixed; boundary=b0", NULL, deep, 0);
	CHECK(!has(s, "visit"), "multiparts nested past %d levels are "
	    "skipped", MAILBODY_DEPTH_MAX);
	free(deep);
}

int
main(void)
{
	test_words();
	test_plain();
	test_html();
	test_mime();
	test_bounds();
	return UNIT_DONE();
}

/* gopher and finger: request parsing and reply framing */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "gemtext.h"
#include "plaintext.h"
#include "unit.h"

#define X50	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define X250	X50 X50 X50 X50 X50

/* a request line made printable for a test name */
static const char *
show(const char *s)
{
	static char out[64];
	size_t i = 0;

	for (; *s != '\0' && i < sizeof(out) - 5; s++) {
		if (*s == '\r' || *s == '\n' || *s == '\t' ||
		    (unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			i += (size_t)snprintf(out + i, 5, "\\x%02x",
			    (unsigned char)*s);
		else
			out[i++] = *s;
	}
	out[i] = '\0';
	return out;
}

static const char *
sel_name(enum gopher_sel s)
{
	static const char *names[] = { "OK", "URL", "NEED_MORE", "TOO_LONG",
	    "BAD" };

	return names[s];
}

static void
test_selector(void)
{
	static const struct {
		const char	*req;
		enum gopher_sel	 want;
		const char	*path;
	} t[] = {
		{ "\r\n", GOPHER_SEL_OK, "/" },
		{ "\n", GOPHER_SEL_OK, "/" },
		{ "/partners.gmi\r\n", GOPHER_SEL_OK, "/partners.gmi" },
		{ "/partners.gmi\n", GOPHER_SEL_OK, "/partners.gmi" },
		{ "partners.gmi\r\n", GOPHER_SEL_OK, "/partners.gmi" },
		{ "/sub/\r\nignored after the line", GOPHER_SEL_OK, "/sub/" },
		{ "/search\tterms here\r\n", GOPHER_SEL_OK, "/search" },
		{ "/page.gmi\t+\r\n", GOPHER_SEL_OK, "/page.gmi" },
		{ "/page.gmi\t$\r\n", GOPHER_SEL_OK, "/page.gmi" },
		{ "/a\tterms\x01with control\r\n", GOPHER_SEL_OK, "/a" },
		{ "/caf\xc3\xa9.gmi\r\n", GOPHER_SEL_OK, "/caf\xc3\xa9.gmi" },
		{ "/../etc/passwd\r\n", GOPHER_SEL_OK, "/../etc/passwd" },
		{ "URL:https://example.org/\r\n", GOPHER_SEL_URL,
		    "https://example.org/" },
		{ "URL:\r\n", GOPHER_SEL_OK, "/URL:" },
		{ "/" X250 "xxxx\r\n", GOPHER_SEL_OK, "/" X250 "xxxx" },
		{ "/" X250 "xxxxx\r\n", GOPHER_SEL_TOO_LONG, NULL },
		{ "/" X250 "xxxxx", GOPHER_SEL_TOO_LONG, NULL },
		{ "/" X250 "xxxx\r", GOPHER_SEL_NEED_MORE, NULL },
		{ "/partial", GOPHER_SEL_NEED_MORE, NULL },
		{ "", GOPHER_SEL_NEED_MORE, NULL },
		{ "/a\rb\r\n", GOPHER_SEL_BAD, NULL },
		{ "/a\x1b[0m\r\n", GOPHER_SEL_BAD, NULL },
		{ "/a\x7f\r\n", GOPHER_SEL_BAD, NULL },
	};
	char path[GOPHER_SELECTOR_MAX + 2];
	enum gopher_sel s;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		s = gopher_selector_parse(t[i].req, strlen(t[i].req), path,
		    sizeof(path));
		CHECK(s == t[i].want, "selector \"%s\": %s (got %s)",
		    show(t[i].req), sel_name(t[i].want), sel_name(s));
		if (t[i].path != NULL && s == t[i].want)
			CHECK_STR(path, t[i].path, "selector \"%s\": path",
			    show(t[i].req));
	}
	/* a NUL inside the line */
	s = gopher_selector_parse("/a\0b\r\n", 6, path, sizeof(path));
	CHECK(s == GOPHER_SEL_BAD, "selector with a NUL: BAD");
	/* a line of 1025 bytes after the tab */
	{
		char req[1100];

		memset(req, 'y', sizeof(req));
		req[0] = '/';
		req[1] = '\t';
		memcpy(req + 1024, "\r\n", 2);
		CHECK(gopher_selector_parse(req, 1026, path, sizeof(path)) ==
		    GOPHER_SEL_OK, "a 1024-byte line is read");
		memcpy(req + 1025, "\r\n", 2);
		CHECK(gopher_selector_parse(req, 1027, path, sizeof(path)) ==
		    GOPHER_SEL_TOO_LONG, "a 1025-byte line is too long");
		CHECK(gopher_selector_parse(req, 1025, path, sizeof(path)) ==
		    GOPHER_SEL_TOO_LONG, "1025 bytes without a line end are "
		    "too long");
	}
	CHECK(gopher_selector_parse("/abcdef\r\n", 9, path, 4) ==
	    GOPHER_SEL_TOO_LONG, "a short path buffer is never overrun");
}

static void
test_types(void)
{
	static const struct {
		const char *in;
		char want;
	} paths[] = {
		{ "/", '1' }, { "/sub/", '1' }, { "/a.gmi", '1' },
		{ "/a.GEMINI", '1' }, { "/about.txt", '0' }, { "/a.png", 'I' },
		{ "/a.gif", 'g' }, { "/a.html", 'h' }, { "/a.pdf", '9' },
		{ "/README", '9' }, { "/v1.2/README", '9' }, { "/a.mp3", 's' },
	}, mimes[] = {
		{ "text/gemini; lang=en-GB", '1' }, { "text/gemini", '1' },
		{ "text/plain; charset=utf-8", '0' }, { "text/html", 'h' },
		{ "image/gif", 'g' }, { "image/png", 'I' }, { "audio/ogg", 's' },
		{ "application/pdf", '9' },
		{ "application/octet-stream", '9' }, { "text/geminix", '0' },
	};
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		CHECK(gopher_type_for_path(paths[i].in) == paths[i].want,
		    "type for path %s: %c", paths[i].in, paths[i].want);
	for (i = 0; i < sizeof(mimes) / sizeof(mimes[0]); i++)
		CHECK(gopher_type_for_mime(mimes[i].in) == mimes[i].want,
		    "type for mime %s: %c", mimes[i].in, mimes[i].want);
}

static void
test_items(void)
{
	struct buf b;

	buf_init(&b, 0);
	CHECK(gopher_item(&b, '1', "A\tB\r\nC\x01", 7, "/a.gmi", 6,
	    "localhost", 7070) == 0, "item: written");
	CHECK_STR(b.data, "1A B  C?\t/a.gmi\tlocalhost\t7070\r\n",
	    "item: tabs and line ends in the display become spaces");
	buf_reset(&b);
	CHECK(gopher_item(&b, '0', "x", 1, "/a\tb", 4, "h", 70) == 1 &&
	    b.len == 0, "item: a selector with a tab is refused");
	CHECK(gopher_item(&b, '0', "x", 1, "/a\nb", 4, "h", 70) == 1 &&
	    b.len == 0, "item: a selector with LF is refused");
	CHECK(gopher_item(&b, '0', "x", 1, "/" X250 "xxxxx", 256, "h",
	    70) == 1 && b.len == 0, "item: a 256-byte selector is refused");
	CHECK(gopher_item(&b, '0', "x", 1, "/" X250 "xxxx", 255, "h",
	    70) == 0, "item: a 255-byte selector is written");
	buf_reset(&b);
	gopher_info(&b, "a\tb", 3);
	CHECK_STR(b.data, "ia b\t\t(null)\t0\r\n", "info line");
	buf_reset(&b);
	gopher_error(&b, "no such\tselector");
	CHECK_STR(b.data, "3no such selector\t\t(null)\t0\r\n.\r\n",
	    "error item and menu end");
	buf_free(&b);
}

static void
test_dotstuff(void)
{
	static const struct {
		const char *name, *in, *want;
	} t[] = {
		{ "lines starting with a dot get another",
		    "a\n.b\n..c\n.\n", "a\r\n..b\r\n...c\r\n..\r\n.\r\n" },
		{ "CRLF kept, LF made CRLF", "a\r\nb\n",
		    "a\r\nb\r\n.\r\n" },
		{ "a last line without LF is ended", "x", "x\r\n.\r\n" },
		{ "empty text", "", ".\r\n" },
		{ "blank lines kept", "\n\n", "\r\n\r\n.\r\n" },
		{ "a dot inside a line is left alone", "a.b\n",
		    "a.b\r\n.\r\n" },
	};
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&b);
		CHECK(gopher_text_dotstuff(&b, t[i].in, strlen(t[i].in)) == 0,
		    "dotstuff: %s: returns 0", t[i].name);
		CHECK_STR(b.data, t[i].want, "dotstuff: %s", t[i].name);
	}

	/* the renderer's output, dot-stuffed: a text line that starts '.' */
	buf_reset(&b);
	{
		struct buf txt;

		buf_init(&txt, 0);
		gemtext_to_text(&txt, "# T\n.hidden\n", 12, NULL);
		gopher_text_dotstuff(&b, txt.data, txt.len);
		CHECK_STR(b.data, "T\r\n=\r\n..hidden\r\n.\r\n",
		    "dotstuff: rendered gemtext");
		buf_free(&txt);
	}
	buf_free(&b);
}

static void
test_url_page(void)
{
	struct buf b;

	buf_init(&b, 0);
	CHECK(gopher_url_page(&b, "https://e.org/?a=1&b=\"<x>\"") == 0,
	    "url page: https written");
	CHECK(strstr(b.data, "href=\"https://e.org/?a=1&amp;b=&quot;&lt;x"
	    "&gt;&quot;\"") != NULL, "url page: the url is html-escaped");
	buf_reset(&b);
	/* any scheme, as gophernicus and pygopherd: escaped, never refused
	 * (a refusal left an empty answer behind) */
	CHECK(gopher_url_page(&b, "javascript:alert(\"x\")") == 0 &&
	    strstr(b.data, "href=\"javascript:alert(&quot;x&quot;)\"") != NULL,
	    "url page: another scheme gets its page, escaped");
	buf_reset(&b);
	CHECK(gopher_url_page(&b, "a") == 0 && strstr(b.data, "href=\"a\">a<")
	    != NULL, "url page: a one-letter url is the whole url");
	buf_reset(&b);
	CHECK(gopher_url_page(&b, "gemini://localhost/") == 0,
	    "url page: gemini written");
	buf_free(&b);
}

static const char *
finger_name(enum finger_query q)
{
	static const char *names[] = { "INDEX", "PAGE", "FORWARD",
	    "NEED_MORE", "TOO_LONG", "BAD" };

	return names[q];
}

static void
test_finger(void)
{
	static const struct {
		const char		*req;
		enum finger_query	 want;
		const char		*name;
	} t[] = {
		{ "\r\n", FINGER_INDEX, NULL },
		{ "\n", FINGER_INDEX, NULL },
		{ "/W\r\n", FINGER_INDEX, NULL },
		{ "/W \r\n", FINGER_INDEX, NULL },
		{ "/w\r\n", FINGER_INDEX, NULL },
		{ "partners\r\n", FINGER_PAGE, "partners" },
		{ "partners\n", FINGER_PAGE, "partners" },
		{ "/W partners\r\n", FINGER_PAGE, "partners" },
		{ "/W   partners  \r\n", FINGER_PAGE, "partners" },
		{ "about.txt\r\n", FINGER_PAGE, "about.txt" },
		{ "a_b-c.9\r\n", FINGER_PAGE, "a_b-c.9" },
		{ X50 "xxxxxxxxxxxxxx\r\n", FINGER_PAGE,
		    X50 "xxxxxxxxxxxxxx" },
		{ X50 "xxxxxxxxxxxxxxx\r\n", FINGER_BAD, NULL },
		{ "partners@localhost\r\n", FINGER_FORWARD, NULL },
		{ "@localhost\r\n", FINGER_FORWARD, NULL },
		{ "user@host1@host2\r\n", FINGER_FORWARD, NULL },
		{ "/W @host\r\n", FINGER_FORWARD, NULL },
		{ "/Wpartners\r\n", FINGER_BAD, NULL },
		{ "/X\r\n", FINGER_BAD, NULL },
		{ "../etc/passwd\r\n", FINGER_BAD, NULL },
		{ ".hidden\r\n", FINGER_BAD, NULL },
		{ "-rf\r\n", FINGER_BAD, NULL },
		{ "sub/page\r\n", FINGER_BAD, NULL },
		{ "two words\r\n", FINGER_BAD, NULL },
		{ "tab\tname\r\n", FINGER_BAD, NULL },
		{ "esc\x1b\r\n", FINGER_BAD, NULL },
		{ "caf\xc3\xa9\r\n", FINGER_BAD, NULL },
		{ "partners", FINGER_NEED_MORE, NULL },
		{ "", FINGER_NEED_MORE, NULL },
	};
	char name[FINGER_NAME_MAX + 1], big[600];
	enum finger_query q;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		q = finger_query_parse(t[i].req, strlen(t[i].req), name,
		    sizeof(name));
		CHECK(q == t[i].want, "finger \"%s\": %s (got %s)",
		    show(t[i].req), finger_name(t[i].want), finger_name(q));
		if (t[i].name != NULL && q == t[i].want)
			CHECK_STR(name, t[i].name, "finger \"%s\": name",
			    show(t[i].req));
	}
	CHECK(finger_query_parse("a\0b\r\n", 5, name, sizeof(name)) ==
	    FINGER_BAD, "finger: a NUL is refused");
	memset(big, 'a', sizeof(big));
	CHECK(finger_query_parse(big, sizeof(big), name, sizeof(name)) ==
	    FINGER_TOO_LONG, "finger: 600 bytes without a line end");
	memcpy(big + 513, "\r\n", 2);
	CHECK(finger_query_parse(big, 515, name, sizeof(name)) ==
	    FINGER_TOO_LONG, "finger: a 513-byte line is too long");
	CHECK(finger_query_parse("abcdef\r\n", 8, name, 4) == FINGER_BAD,
	    "finger: a short name buffer is never overrun");
}

static void
test_finger_text(void)
{
	struct buf b;

	buf_init(&b, 0);
	finger_text(&b, "a\nb\r\nc\x1b[0m\td", 12, 0);
	CHECK_STR(b.data, "a\r\nb\r\nc?[0m\td\r\n",
	    "finger text: CRLF, controls shown as '?', last line ended");
	buf_reset(&b);
	finger_text(&b, "the school\xe2\x80\x99s \xe2\x80\x9cplan\xe2\x80\x9d "
	    "\xe2\x80\x93 \xc2\xa3" "5\xe2\x80\xa6 \xe6\x97\xa5\xff\n", 42, 1);
	CHECK_STR(b.data, "the school's \"plan\" - GBP5... ??\r\n",
	    "finger text, ascii: typography transliterated, the rest '?'");
	buf_reset(&b);
	finger_text(&b, "school\xe2\x80\x99s \xc2\x9b\xff\n", 15, 0);
	CHECK_STR(b.data, "school\xe2\x80\x99s ??\r\n",
	    "finger text, utf-8: kept, C1 and invalid bytes '?'");
	buf_free(&b);
}

int
main(void)
{
	test_selector();
	test_types();
	test_items();
	test_dotstuff();
	test_url_page();
	test_finger();
	test_finger_text();
	return UNIT_DONE();
}

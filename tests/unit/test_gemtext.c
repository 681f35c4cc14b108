/* gemtext: classifier, url resolution, the plain-text and gopher renderers */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gemtext.h"
#include "plaintext.h"
#include "unit.h"
#include "utf8.h"

#define FFFD	UTF8_REPLACEMENT
#define E5	"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"	/* 5 x e-acute */
#define X10	"xxxxxxxxxx"
#define X80	X10 X10 X10 X10 X10 X10 X10 X10

static void
test_classify(void)
{
	static const struct {
		const char		*line;
		int			 pre;
		enum gemtext_type	 type;
		const char		*text;
		const char		*url;
	} t[] = {
		{ "plain words", 0, GEMTEXT_TEXT, "plain words", NULL },
		{ "  indented ", 0, GEMTEXT_TEXT, "  indented ", NULL },
		{ "", 0, GEMTEXT_TEXT, "", NULL },
		{ "=> gemini://a/b Label here ", 0, GEMTEXT_LINK, "Label here",
		    "gemini://a/b" },
		{ "=>\tpage.gmi\t\tTabbed", 0, GEMTEXT_LINK, "Tabbed",
		    "page.gmi" },
		{ "=>page.gmi", 0, GEMTEXT_LINK, "", "page.gmi" },
		{ "=>   ", 0, GEMTEXT_TEXT, "=>   ", NULL },
		{ "=", 0, GEMTEXT_TEXT, "=", NULL },
		{ "# Title", 0, GEMTEXT_H1, "Title", NULL },
		{ "#Title", 0, GEMTEXT_H1, "Title", NULL },
		{ "## Sub", 0, GEMTEXT_H2, "Sub", NULL },
		{ "### Subsub", 0, GEMTEXT_H3, "Subsub", NULL },
		{ "#### Four", 0, GEMTEXT_H3, "# Four", NULL },
		{ "#", 0, GEMTEXT_H1, "", NULL },
		{ "* item", 0, GEMTEXT_LIST, "item", NULL },
		{ "*item", 0, GEMTEXT_TEXT, "*item", NULL },
		{ "> quoted", 0, GEMTEXT_QUOTE, "quoted", NULL },
		{ ">quoted", 0, GEMTEXT_QUOTE, "quoted", NULL },
		{ "```", 0, GEMTEXT_PRE_TOGGLE, "", NULL },
		{ "``` ascii art ", 0, GEMTEXT_PRE_TOGGLE, "ascii art", NULL },
		{ "```closing alt", 1, GEMTEXT_PRE_TOGGLE, "", NULL },
		{ "# not a heading", 1, GEMTEXT_PRE, "# not a heading", NULL },
		{ "=> x y", 1, GEMTEXT_PRE, "=> x y", NULL },
		{ "``", 0, GEMTEXT_TEXT, "``", NULL },
	};
	struct gemtext_line l;
	char text[256], url[256];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		gemtext_classify(t[i].line, strlen(t[i].line), t[i].pre, &l);
		snprintf(text, sizeof(text), "%.*s", (int)l.textlen, l.text);
		CHECK(l.type == t[i].type, "classify \"%s\" (pre %d): type %d",
		    t[i].line, t[i].pre, (int)t[i].type);
		CHECK_STR(text, t[i].text, "classify \"%s\": text", t[i].line);
		if (t[i].url == NULL)
			CHECK(l.url == NULL, "classify \"%s\": no url",
			    t[i].line);
		else {
			snprintf(url, sizeof(url), "%.*s", (int)l.urllen,
			    l.url);
			CHECK_STR(url, t[i].url, "classify \"%s\": url",
			    t[i].line);
		}
	}
}

static void
test_iter(void)
{
	static const char doc[] = "# T\r\n```alt\r\n# in\r\n```\r\n* last";
	static const enum gemtext_type want[] = {
		GEMTEXT_H1, GEMTEXT_PRE_TOGGLE, GEMTEXT_PRE,
		GEMTEXT_PRE_TOGGLE, GEMTEXT_LIST,
	};
	struct gemtext_iter it;
	struct gemtext_line l;
	size_t n = 0, bad = 0;

	gemtext_iter_init(&it, doc, sizeof(doc) - 1);
	while (gemtext_next(&it, &l)) {
		if (n >= 5 || l.type != want[n] ||
		    memchr(l.text, '\r', l.textlen) != NULL)
			bad++;
		n++;
	}
	CHECK(n == 5 && bad == 0, "iterator: CRLF lines, pre state, last "
	    "line without LF (%zu lines, %zu wrong)", n, bad);
	gemtext_iter_init(&it, "a\n", 2);
	n = 0;
	while (gemtext_next(&it, &l))
		n++;
	CHECK(n == 1, "iterator: a final LF does not make an empty line");
}

static void
test_resolve(void)
{
	/* RFC 3986 5.4.1 and 5.4.2, then the capsule's own cases */
	static const struct {
		const char *base, *ref, *want;
	} t[] = {
		{ "http://a/b/c/d;p?q", "g:h", "g:h" },
		{ "http://a/b/c/d;p?q", "g", "http://a/b/c/g" },
		{ "http://a/b/c/d;p?q", "./g", "http://a/b/c/g" },
		{ "http://a/b/c/d;p?q", "g/", "http://a/b/c/g/" },
		{ "http://a/b/c/d;p?q", "/g", "http://a/g" },
		{ "http://a/b/c/d;p?q", "//g", "http://g" },
		{ "http://a/b/c/d;p?q", "?y", "http://a/b/c/d;p?y" },
		{ "http://a/b/c/d;p?q", "g?y", "http://a/b/c/g?y" },
		{ "http://a/b/c/d;p?q", "#s", "http://a/b/c/d;p?q#s" },
		{ "http://a/b/c/d;p?q", "g#s", "http://a/b/c/g#s" },
		{ "http://a/b/c/d;p?q", "g?y#s", "http://a/b/c/g?y#s" },
		{ "http://a/b/c/d;p?q", ";x", "http://a/b/c/;x" },
		{ "http://a/b/c/d;p?q", "g;x", "http://a/b/c/g;x" },
		{ "http://a/b/c/d;p?q", "g;x?y#s", "http://a/b/c/g;x?y#s" },
		{ "http://a/b/c/d;p?q", "", "http://a/b/c/d;p?q" },
		{ "http://a/b/c/d;p?q", ".", "http://a/b/c/" },
		{ "http://a/b/c/d;p?q", "./", "http://a/b/c/" },
		{ "http://a/b/c/d;p?q", "..", "http://a/b/" },
		{ "http://a/b/c/d;p?q", "../", "http://a/b/" },
		{ "http://a/b/c/d;p?q", "../g", "http://a/b/g" },
		{ "http://a/b/c/d;p?q", "../..", "http://a/" },
		{ "http://a/b/c/d;p?q", "../../", "http://a/" },
		{ "http://a/b/c/d;p?q", "../../g", "http://a/g" },
		{ "http://a/b/c/d;p?q", "../../../g", "http://a/g" },
		{ "http://a/b/c/d;p?q", "../../../../g", "http://a/g" },
		{ "http://a/b/c/d;p?q", "/./g", "http://a/g" },
		{ "http://a/b/c/d;p?q", "/../g", "http://a/g" },
		{ "http://a/b/c/d;p?q", "g.", "http://a/b/c/g." },
		{ "http://a/b/c/d;p?q", ".g", "http://a/b/c/.g" },
		{ "http://a/b/c/d;p?q", "g..", "http://a/b/c/g.." },
		{ "http://a/b/c/d;p?q", "..g", "http://a/b/c/..g" },
		{ "http://a/b/c/d;p?q", "./../g", "http://a/b/g" },
		{ "http://a/b/c/d;p?q", "./g/.", "http://a/b/c/g/" },
		{ "http://a/b/c/d;p?q", "g/./h", "http://a/b/c/g/h" },
		{ "http://a/b/c/d;p?q", "g/../h", "http://a/b/c/h" },
		{ "http://a/b/c/d;p?q", "g;x=1/./y", "http://a/b/c/g;x=1/y" },
		{ "http://a/b/c/d;p?q", "g;x=1/../y", "http://a/b/c/y" },
		{ "http://a/b/c/d;p?q", "g?y/./x", "http://a/b/c/g?y/./x" },
		{ "http://a/b/c/d;p?q", "g?y/../x", "http://a/b/c/g?y/../x" },
		{ "http://a/b/c/d;p?q", "g#s/./x", "http://a/b/c/g#s/./x" },
		{ "http://a/b/c/d;p?q", "g#s/../x", "http://a/b/c/g#s/../x" },
		{ "http://a/b/c/d;p?q", "http:g", "http:g" },
		{ "gemini://localhost/partners.gmi", "strategy.gmi",
		    "gemini://localhost/strategy.gmi" },
		{ "gemini://localhost", "index.gmi",
		    "gemini://localhost/index.gmi" },
		{ "gemini://localhost/sub/a.gmi", "../../../x.gmi",
		    "gemini://localhost/x.gmi" },
		{ "/sub/a.gmi", "b.gmi", "/sub/b.gmi" },
		{ "/sub/a.gmi", "../c/./d/", "/c/d/" },
	};
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&b);
		CHECK(gemtext_url_resolve(&b, t[i].base, t[i].ref,
		    strlen(t[i].ref)) == 0, "resolve \"%s\" returns 0",
		    t[i].ref);
		CHECK_STR(b.data ? b.data : "", t[i].want,
		    "resolve \"%s\" against %s", t[i].ref, t[i].base);
	}
	buf_reset(&b);
	gemtext_url_resolve(&b, NULL, "../x.gmi", 8);
	CHECK_STR(b.data, "../x.gmi", "resolve without a base: as written");
	buf_free(&b);
}

/*
 * plain text: input, base url, exact output
 */
static const struct {
	const char *name, *in, *base, *want;
} text_cases[] = {
	{ "headings", "# One\n## Two\n### Three\n",
	    NULL, "One\n===\nTwo\n---\n### Three\n" },
	{ "empty heading", "#\n", NULL, "\n" },
	{ "list and quote", "* first\n*  second\n> said\n>\n",
	    NULL, "  * first\n  * second\n> said\n>\n" },
	{ "text kept, trailing space dropped", "  two  spaces  \n\n",
	    NULL, "  two  spaces\n\n" },
	{ "preformatted verbatim, indented, alt text dropped",
	    "```art\n  /\\_/\\\n\n# no\n\tx  \n```\nafter\n", NULL,
	    "      /\\_/\\\n\n    # no\n    \tx  \nafter\n" },
	{ "unclosed preformatted block", "```\n=> a b", NULL, "    => a b\n" },
	{ "links numbered and listed, resolved",
	    "=> strategy.gmi Our Strategy\n=> mailto:e@rmet.org\n"
	    "=> ../x/ Up\n", "gemini://localhost/partners.gmi",
	    "Our Strategy [1]\nmailto:e@rmet.org [2]\nUp [3]\n\nLinks:\n"
	    "[1] gemini://localhost/strategy.gmi\n[2] mailto:e@rmet.org\n"
	    "[3] gemini://localhost/x/\n" },
	{ "links left relative without a base",
	    "=> strategy.gmi S\n", NULL,
	    "S [1]\n\nLinks:\n[1] strategy.gmi\n" },
	{ "wrap at 72 on word boundaries",
	    "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll "
	    "mmmm nnnn oooo pppp\n", NULL,
	    "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll "
	    "mmmm nnnn\noooo pppp\n" },
	{ "wrap counts code points, never splits a character",
	    E5 " " E5 " " E5 " " E5 " " E5 " " E5 " " E5 " " E5 " " E5 " "
	    E5 " " E5 " " E5 " " E5 "\n", NULL,
	    E5 " " E5 " " E5 " " E5 " " E5 " " E5 " " E5 " " E5 " " E5 " "
	    E5 " " E5 " " E5 "\n" E5 "\n" },
	{ "a word longer than the line stays whole",
	    "short " X80 " end\n", NULL, "short\n" X80 "\nend\n" },
	{ "list items wrap under their text",
	    "* aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll "
	    "mmmm nnnn oooo\n", NULL,
	    "  * aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll"
	    " mmmm\n    nnnn oooo\n" },
	{ "quotes wrap with their marker",
	    "> aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll "
	    "mmmm nnnn oooo\n", NULL,
	    "> aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll "
	    "mmmm nnnn\n> oooo\n" },
	{ "long heading underlined to its widest line",
	    "## " X10 " " X10 " " X10 " " X10 " " X10 " " X10 " " X10 "\n",
	    NULL, X10 " " X10 " " X10 " " X10 " " X10 " " X10 "\n" X10 "\n"
	    "-----------------------------------------------------------------"
	    "\n" },
	{ "tabs in text become spaces", "a\tb\n", NULL, "a b\n" },
	{ "controls and invalid utf-8 replaced",
	    "a\x1b[31mb\xff\xc3\n", NULL,
	    "a" FFFD "[31mb" FFFD FFFD "\n" },
	{ "overlong and surrogate encodings replaced",
	    "\xc0\xaf \xed\xa0\x80\n", NULL,
	    FFFD FFFD " " FFFD FFFD FFFD "\n" },
	{ "C1 control replaced", "a\xc2\x9b" "b\n", NULL, "a" FFFD "b\n" },
	{ "CRLF input", "# T\r\ntext\r\n", NULL, "T\n=\ntext\n" },
	{ "empty document", "", NULL, "" },
};

static void
test_text(void)
{
	struct buf b;
	size_t i;
	int rc;

	buf_init(&b, 0);
	for (i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++) {
		buf_reset(&b);
		rc = gemtext_to_text(&b, text_cases[i].in,
		    strlen(text_cases[i].in), text_cases[i].base);
		CHECK(rc == 0, "text: %s: returns 0", text_cases[i].name);
		CHECK_STR(b.data ? b.data : "", text_cases[i].want, "text: %s",
		    text_cases[i].name);
	}
	buf_free(&b);
}

/*
 * gopher menus
 */
#define I(s)		"i" s "\t\t(null)\t0\r\n"
#define ITEM(t, d, s)	t d "\t" s "\tlocalhost\t70\r\n"
#define END(sel)	I("") ITEM("0", "plain text", sel) ".\r\n"

static char
type_cb(const char *sel, void *arg)
{
	(void)arg;
	if (strcmp(sel, "/missing.gmi") == 0)
		return '\0';
	if (strcmp(sel, "/notes") == 0)
		return '0';
	return gopher_type_for_path(sel);
}

static const struct {
	const char *name, *page, *in, *want;
	int callback;
} gopher_cases[] = {
	{ "text, headings, list, quote as info lines", "/a.gmi",
	    "# Title\n\nSome text.\n## Sub\n* item\n> quote\n",
	    I("Title") I("=====") I("") I("Some text.") I("Sub") I("---")
	    I("  * item") I("> quote") END("/a.txt"), 0 },
	{ "preformatted: tabs expanded", "/a.gmi",
	    "```\n\tx\ty\n```\n",
	    I("            x       y") END("/a.txt"), 0 },
	{ "text wraps under 70 columns", "/a.gmi",
	    "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll "
	    "mmmm nnnn oooo\n",
	    I("aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll "
	    "mmmm nnnn") I("oooo") END("/a.txt"), 0 },
	{ "links inside the capsule, resolved from the page's directory",
	    "/sub/a.gmi",
	    "=> b.gmi Bee\n=> ../c.txt\n=> /d/ Dir\n=> img.png Picture\n"
	    "=> ./e.gemini?q=1#top E\n=> anim.gif G\n=> w.html\n",
	    ITEM("1", "Bee", "/sub/b.gmi") ITEM("0", "../c.txt", "/c.txt")
	    ITEM("1", "Dir", "/d/") ITEM("I", "Picture", "/sub/img.png")
	    ITEM("1", "E", "/sub/e.gemini") ITEM("g", "G", "/sub/anim.gif")
	    ITEM("h", "w.html", "/sub/w.html")
	    END("/sub/a.txt"), 0 },
	{ "gemini links to this capsule become items", "/a.gmi",
	    "=> gemini://localhost/e.gmi E\n"
	    "=> gemini://LOCALHOST:1965/f/../g.gmi G\n"
	    "=> gemini://[::1]/h.gmi H\n=> gemini://localhost\n",
	    ITEM("1", "E", "/e.gmi") ITEM("1", "G", "/g.gmi")
	    ITEM("1", "H", "/h.gmi")
	    ITEM("1", "gemini://localhost", "/") END("/a.txt"), 0 },
	{ "other urls become h items with URL: selectors", "/a.gmi",
	    "=> gemini://example.org/ Elsewhere\n"
	    "=> gemini://localhost:1966/x.gmi Other port\n"
	    "=> gemini://user@localhost/x.gmi Userinfo\n"
	    "=> https://example.org/?a=b Web\n"
	    "=> mailto:enquiries@rmet.org Mail us\n"
	    "=> //other.org/p Net path\n",
	    ITEM("h", "Elsewhere", "URL:gemini://example.org/")
	    ITEM("h", "Other port", "URL:gemini://localhost:1966/x.gmi")
	    ITEM("h", "Userinfo", "URL:gemini://user@localhost/x.gmi")
	    ITEM("h", "Web", "URL:https://example.org/?a=b")
	    ITEM("h", "Mail us", "URL:mailto:enquiries@rmet.org")
	    ITEM("h", "Net path", "URL:gemini://other.org/p")
	    END("/a.txt"), 0 },
	{ "percent-decoded selectors", "/a.gmi",
	    "=> caf%C3%A9.gmi Cafe\n=> a%20b.txt\n",
	    ITEM("1", "Cafe", "/caf\xc3\xa9.gmi")
	    ITEM("0", "a%20b.txt", "/a b.txt") END("/a.txt"), 0 },
	{ "selectors that would hold a tab, CR, NUL or dot segment: "
	    "info lines", "/a.gmi",
	    "=> a%09b.gmi Tab\n=> a%0d%0ab.gmi\n=> x%00.gmi Nul\n"
	    "=> %2e%2e/etc/passwd Up\n",
	    I("Tab <a%09b.gmi>") I("<a%0d%0ab.gmi>") I("Nul <x%00.gmi>")
	    I("Up <%2e%2e/etc/passwd>") END("/a.txt"), 0 },
	{ "labels with tabs or controls are cleaned", "/a.gmi",
	    "=> b.gmi one\ttwo\x1b[0m\n",
	    ITEM("1", "one two" FFFD "[0m", "/b.gmi") END("/a.txt"), 0 },
	{ "the callback types items and drops missing ones", "/a.gmi",
	    "=> missing.gmi Gone\n=> notes Notes\n=> x.pdf PDF\n",
	    I("Gone <missing.gmi>") ITEM("0", "Notes", "/notes")
	    ITEM("9", "PDF", "/x.pdf") END("/a.txt"), 1 },
	{ "fuzz regression: a self link with no path (an empty url buffer "
	    "reached the url splitter as NULL)", "/a.gmi",
	    "=> gemini://[::1]\n=> gemini://localhost:1965\n",
	    ITEM("1", "gemini://[::1]", "/")
	    ITEM("1", "gemini://localhost:1965", "/") END("/a.txt"), 0 },
	{ "a .gemini page and the root's plain text", "/x.gemini", "",
	    END("/x.txt"), 0 },
	{ "a directory page", "/sub/", "", END("/sub/index.txt"), 0 },
};

static void
test_gopher(void)
{
	static const char *const self[] = { "localhost", "::1", NULL };
	struct gemtext_gopher g;
	struct buf b;
	size_t i;
	int rc;

	buf_init(&b, 0);
	for (i = 0; i < sizeof(gopher_cases) / sizeof(gopher_cases[0]); i++) {
		memset(&g, 0, sizeof(g));
		g.host = "localhost";
		g.port = 70;
		g.page = gopher_cases[i].page;
		g.base_url = "gemini://localhost/a.gmi";
		g.self_hosts = self;
		g.item_type = gopher_cases[i].callback ? type_cb : NULL;
		buf_reset(&b);
		rc = gemtext_to_gopher(&b, gopher_cases[i].in,
		    strlen(gopher_cases[i].in), &g);
		CHECK(rc == 0, "gopher: %s: returns 0", gopher_cases[i].name);
		CHECK_STR(b.data ? b.data : "", gopher_cases[i].want,
		    "gopher: %s", gopher_cases[i].name);
	}

	/* a relative network-path link needs the page's url */
	memset(&g, 0, sizeof(g));
	g.host = "bad\thost\r\n";
	g.port = 70;
	g.page = "/a.gmi";
	buf_reset(&b);
	{
		static const char doc[] =
		    "=> //o.org/x O\n=> gemini://localhost/y Y\n";

		gemtext_to_gopher(&b, doc, sizeof(doc) - 1, &g);
	}
	CHECK_STR(b.data, I("O <//o.org/x>")
	    "hY\tURL:gemini://localhost/y\tbadhost\t70\r\n" I("")
	    "0plain text\t/a.txt\tbadhost\t70\r\n.\r\n",
	    "gopher: without base_url or self_hosts; a host cannot break "
	    "the line");

	/* no page given: the root */
	g.host = "localhost";
	g.page = NULL;
	buf_reset(&b);
	gemtext_to_gopher(&b, "=> a.gmi A\n", 11, &g);
	CHECK_STR(b.data, ITEM("1", "A", "/a.gmi") END("/index.txt"),
	    "gopher: page NULL is the root");
	g.page = "/a.gmi";

	/* a selector over 255 bytes is never written */
	{
		char doc[400], want[600];

		snprintf(doc, sizeof(doc), "=> %s%s%s%s x\n", X80, X80, X80,
		    X80);
		snprintf(want, sizeof(want), I("x") I("<%s%s%s%s>"), X80, X80,
		    X80, X80);
		g.host = "localhost";
		buf_reset(&b);
		gemtext_to_gopher(&b, doc, strlen(doc), &g);
		CHECK(strncmp(b.data, want, strlen(want)) == 0,
		    "gopher: a link with a selector over 255 bytes is an info "
		    "line");
	}
	buf_free(&b);
}

static void
test_title(void)
{
	static const char doc[] = "```\n# in pre\n```\n## Two\n#  The\ttitle "
	    "\x1b\n# Second\n";
	struct buf b;

	buf_init(&b, 0);
	CHECK(gemtext_title(&b, doc, sizeof(doc) - 1) == 0,
	    "title: found");
	CHECK_STR(b.data, "The title " FFFD, "title: the first level-1 "
	    "heading outside preformatted text, cleaned");
	buf_reset(&b);
	CHECK(gemtext_title(&b, "## Two\n#\n", 10) == 1 && b.len == 0,
	    "title: none (an empty heading is none)");
	buf_free(&b);
}

static void
test_bounds(void)
{
	struct buf b;
	int rc;

	/* the output bound holds, and a failure leaves the buffer as it was */
	buf_init(&b, 64);
	buf_puts(&b, "kept");
	rc = gemtext_to_text(&b, X80 "\n" X80 "\n", 162, NULL);
	CHECK(rc == -1 && errno == E2BIG, "text: over the bound fails E2BIG");
	CHECK_STR(b.data, "kept", "text: a failed render leaves the buffer");
	buf_free(&b);

	buf_init(&b, 3);
	CHECK(b.data != NULL && b.data[0] == '\0' && b.len == 0,
	    "buf: data is \"\" before the first append, never NULL");
	CHECK(buf_puts(&b, "abc") == 0 && buf_putc(&b, 'd') == -1 &&
	    b.len == 3 && strcmp(b.data, "abc") == 0,
	    "buf: bounded, unchanged on failure");
	CHECK(buf_printf(&b, "%d", 1) == -1 && b.len == 3,
	    "buf: printf bounded");
	buf_reset(&b);
	CHECK(buf_printf(&b, "%s", "xy") == 0 && strcmp(b.data, "xy") == 0,
	    "buf: printf");
	buf_free(&b);
	CHECK(b.data != NULL && b.data[0] == '\0' && b.len == 0,
	    "buf: data is \"\" again after buf_free");
}

static void
test_utf8(void)
{
	uint32_t cp;

	CHECK(utf8_decode("\xc3\xa9", 2, &cp) == 2 && cp == 0xe9,
	    "utf8: two bytes");
	CHECK(utf8_decode("\xf0\x9f\x98\x80", 4, &cp) == 4 && cp == 0x1f600,
	    "utf8: four bytes");
	CHECK(utf8_decode("\xf0\x9f\x98", 3, &cp) == 0, "utf8: truncated");
	CHECK(utf8_decode("\xe0\x80\xaf", 3, &cp) == 0, "utf8: overlong");
	CHECK(utf8_decode("\xf4\x90\x80\x80", 4, &cp) == 0,
	    "utf8: past U+10FFFF");
	CHECK(utf8_width("a\xc3\xa9\xff", 4) == 3,
	    "utf8: width counts code points and invalid bytes");
}

/* type-0 text for gopher: capsule links as the gopher items a menu gives
 * them, the others as absolute urls */
static void
test_gopher_text(void)
{
	static const char *const self[] = { "localhost", NULL };
	static const char doc[] =
	    "# T\n"
	    "=> b.gmi Bee\n"
	    "=> gemini://localhost/sub/ Sub\n"
	    "=> notes.txt Notes\n"
	    "=> my%20page.gmi Spaced\n"
	    "=> q.gmi?x=1 Query\n"
	    "=> https://e.org/ Web\n"
	    "=> other.gmi Other\n";
	struct gemtext_gopher g;
	struct buf b, plain;

	memset(&g, 0, sizeof(g));
	g.host = "localhost";
	g.port = 7070;
	g.page = "/dir/a.gmi";
	g.base_url = "gemini://localhost/dir/a.gmi";
	g.self_hosts = self;
	buf_init(&b, 0);
	CHECK(gemtext_to_gopher_text(&b, doc, sizeof(doc) - 1, &g) == 0,
	    "gopher text: returns 0");
	CHECK_STR(strstr(b.data, "Links:\n"), "Links:\n"
	    "[1] gopher://localhost:7070/1/dir/b.gmi\n"
	    "[2] gopher://localhost:7070/1/sub/\n"
	    "[3] gopher://localhost:7070/0/dir/notes.txt\n"
	    "[4] gopher://localhost:7070/1/dir/my%20page.gmi\n"
	    "[5] gopher://localhost:7070/1/dir/q.gmi\n"
	    "[6] https://e.org/\n"
	    "[7] gopher://localhost:7070/1/dir/other.gmi\n",
	    "gopher text: capsule links are gopher urls, others absolute");
	/* the text itself is gemtext_to_text's */
	buf_init(&plain, 0);
	gemtext_to_text(&plain, doc, sizeof(doc) - 1, g.base_url);
	CHECK(strncmp(b.data, plain.data, (size_t)(strstr(plain.data,
	    "Links:") - plain.data)) == 0,
	    "gopher text: the text above the links is the plain rendering");
	/* an ipv6 gopher host is bracketed */
	g.host = "::1";
	buf_reset(&b);
	gemtext_to_gopher_text(&b, "=> b.gmi B\n", 11, &g);
	CHECK(strstr(b.data, "[1] gopher://[::1]:7070/1/dir/b.gmi\n") != NULL,
	    "gopher text: an ipv6 host in brackets");
	buf_free(&plain);
	buf_free(&b);
}

int
main(void)
{
	test_classify();
	test_iter();
	test_resolve();
	test_text();
	test_gopher();
	test_gopher_text();
	test_title();
	test_bounds();
	test_utf8();
	return UNIT_DONE();
}

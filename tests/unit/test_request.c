/* the request parser and path normaliser, driven by tables */
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "unit.h"

static const struct {
	const char *url;
	int status;
	const char *host;
	int port;
	const char *path;
	int dir;
	const char *query;
} cases[] = {
	{ "gemini://localhost/", 0, "localhost", 0, "", 1, NULL },
	{ "gemini://localhost", 0, "localhost", 0, "", 1, NULL },
	{ "GEMINI://LocalHost:1965/a.gmi", 0, "localhost", 1965, "a.gmi", 0,
	    NULL },
	{ "gemini://localhost:/a", 0, "localhost", 0, "a", 0, NULL },
	{ "gemini://localhost./a", 0, "localhost", 0, "a", 0, NULL },
	{ "gemini://127.0.0.1:1965/x/y/", 0, "127.0.0.1", 1965, "x/y", 1,
	    NULL },
	{ "gemini://[::1]:1965/", 0, "::1", 1965, "", 1, NULL },
	{ "gemini://[::1]/", 0, "::1", 0, "", 1, NULL },
	{ "gemini://h/a/./b", 0, "h", 0, "a/b", 0, NULL },
	{ "gemini://h/a/b/../c", 0, "h", 0, "a/c", 0, NULL },
	{ "gemini://h/a/b/..", 0, "h", 0, "a", 1, NULL },
	{ "gemini://h/a/b/.", 0, "h", 0, "a/b", 1, NULL },
	{ "gemini://h//a///b", 0, "h", 0, "a/b", 0, NULL },
	{ "gemini://h/a/..", 0, "h", 0, "", 1, NULL },
	{ "gemini://h/%61%62c", 0, "h", 0, "abc", 0, NULL },
	{ "gemini://h/a%20b.gmi", 0, "h", 0, "a b.gmi", 0, NULL },
	{ "gemini://h/caf%C3%A9", 0, "h", 0, "caf\xc3\xa9", 0, NULL },
	{ "gemini://h/caf\xc3\xa9", 0, "h", 0, "caf\xc3\xa9", 0, NULL },
	{ "gemini://h/dir?q=1", 0, "h", 0, "dir", 0, "q=1" },
	{ "gemini://h/?", 0, "h", 0, "", 1, "" },
	{ "gemini://h/a?x/../y", 0, "h", 0, "a", 0, "x/../y" },
	{ "gemini://h/a/%2e%2e/b", 0, "h", 0, "b", 0, NULL },
	{ "gemini://h/a%2Fb", 0, "h", 0, "a/b", 0, NULL },
	{ "gemini://h/.well-known/x", 0, "h", 0, ".well-known/x", 0, NULL },
	{ "https://h/", 0, "h", 0, "", 1, NULL },	/* caller says 53 */
	/* malformed: 59 */
	{ "gemini://h/..", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/../etc/passwd", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/a/../../b", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/%2e%2e/x", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/%2E%2E%2Fx", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/..%2f..%2fetc", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://user@h/", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://user:pw@h/", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/#frag", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/a?q#frag", 59, NULL, 0, NULL, 0, NULL },
	{ "//h/", 59, NULL, 0, NULL, 0, NULL },
	{ "/index.gmi", 59, NULL, 0, NULL, 0, NULL },
	{ "index.gmi", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini:/h/", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini:///", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://:1965/", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h:0/", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h:65536/", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h:12a/", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://[::1/", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://[]/", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h%41/", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/a b", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/a\tb", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/a\\b", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/%zz", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/%4", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/%00", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/%C3", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/%C0%AF", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/\xc3", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/\xed\xa0\x80", 59, NULL, 0, NULL, 0, NULL },
	{ "gemini://h/\xf4\x90\x80\x80", 59, NULL, 0, NULL, 0, NULL },
	{ "\xef\xbb\xbfgemini://h/", 59, NULL, 0, NULL, 0, NULL },
	{ "", 59, NULL, 0, NULL, 0, NULL },
	{ "1gemini://h/", 59, NULL, 0, NULL, 0, NULL },
};

static void
test_lengths(void)
{
	struct request r;
	char url[2048];
	size_t prefix = strlen("gemini://h/");

	memcpy(url, "gemini://h/", prefix);
	memset(url + prefix, 'a', sizeof(url) - prefix);
	CHECK(req_parse(url, 1024, &r) == 0, "a 1024-byte url is accepted");
	CHECK(strlen(r.path) == 1024 - prefix, "and its path is whole");
	CHECK(req_parse(url, 1025, &r) == 59, "a 1025-byte url is refused");
	CHECK(req_parse("gemini://h/\0x", 13, &r) == 59,
	    "a nul byte is refused");
}

static void
test_clean(void)
{
	static const struct { const char *in, *out; int dir, rc; } t[] = {
		{ "/", "", 1, 0 },
		{ "", "", 1, 0 },
		{ "/a", "a", 0, 0 },
		{ "a/", "a", 1, 0 },
		{ "/a/b/../../", "", 1, 0 },
		{ "/a/b/../../..", NULL, 0, -1 },
		{ "/./././", "", 1, 0 },
		{ "/a/.hidden/../b", "a/b", 0, 0 },
		{ "/...", "...", 0, 0 },
		{ "/a/..b", "a/..b", 0, 0 },
		/* fuzz find: no leading '/' once overran the end */
		{ "a/c.gmi", "a/c.gmi", 0, 0 },
		{ "a/b/../c", "a/c", 0, 0 },
		{ "a//b/", "a/b", 1, 0 },
	};
	size_t i;
	char buf[64];
	int dir;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", t[i].in);
		int rc = req_clean_path(buf, &dir);

		CHECK(rc == t[i].rc, "clean \"%s\" returns %d", t[i].in,
		    t[i].rc);
		if (rc == 0) {
			CHECK_STR(buf, t[i].out, "clean \"%s\"", t[i].in);
			CHECK(dir == t[i].dir, "clean \"%s\" dir=%d", t[i].in,
			    t[i].dir);
		}
	}
}

static void
test_hidden(void)
{
	CHECK(req_path_hidden(".env"), ".env is hidden");
	CHECK(req_path_hidden("a/.git/config"), "a/.git/config is hidden");
	CHECK(!req_path_hidden(".well-known/security.txt"),
	    ".well-known at the top is served");
	CHECK(req_path_hidden(".well-known/.x"), "dot-files in .well-known "
	    "are not");
	CHECK(req_path_hidden("a/.well-known/x"), ".well-known deeper is "
	    "hidden");
	CHECK(!req_path_hidden("a.b/c"), "a dot inside a name is fine");
}

/* req_path_decode: the one percent-decoder, for requests and
 * capsule-check's links */
static void
test_decode(void)
{
	char out[8];
	size_t n = 99;

	CHECK(req_path_decode("a%20b%2Fc", 9, out, sizeof(out), &n) ==
	    REQ_DECODE_OK && n == 5 && strcmp(out, "a b/c") == 0,
	    "escapes are decoded, %%2F too");
	CHECK(req_path_decode("%41%4a", 6, out, sizeof(out), &n) ==
	    REQ_DECODE_OK && strcmp(out, "AJ") == 0, "either case of hex");
	CHECK(req_path_decode("a%2", 3, out, sizeof(out), &n) ==
	    REQ_DECODE_BAD, "an escape cut short is bad");
	CHECK(req_path_decode("%g0", 3, out, sizeof(out), &n) ==
	    REQ_DECODE_BAD, "a non-hex escape is bad");
	CHECK(req_path_decode("a%00", 4, out, sizeof(out), &n) ==
	    REQ_DECODE_NUL, "%%00 is refused");
	CHECK(req_path_decode("abcdefgh", 8, out, sizeof(out), &n) ==
	    REQ_DECODE_LONG, "what does not fit is refused, not clipped");
	CHECK(req_path_decode("abcdefg", 7, out, sizeof(out), &n) ==
	    REQ_DECODE_OK && n == 7, "what just fits is decoded");
	CHECK(req_path_decode("a%20", 1, out, sizeof(out), &n) ==
	    REQ_DECODE_OK && n == 1 && strcmp(out, "a") == 0,
	    "len bounds the input");
	CHECK(req_path_decode("a%20", 2, out, sizeof(out), &n) ==
	    REQ_DECODE_BAD, "an escape cut by len is bad");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct request r;
		int st = req_parse(cases[i].url, strlen(cases[i].url), &r);

		CHECK(st == cases[i].status, "\"%s\" -> %d (%s)",
		    cases[i].url, cases[i].status, st ? r.error : "ok");
		if (st != 0 || cases[i].status != 0)
			continue;
		CHECK_STR(r.host, cases[i].host, "\"%s\" host", cases[i].url);
		CHECK(r.port == cases[i].port, "\"%s\" port %d",
		    cases[i].url, cases[i].port);
		CHECK_STR(r.path, cases[i].path, "\"%s\" path", cases[i].url);
		CHECK(r.dir == cases[i].dir, "\"%s\" dir=%d", cases[i].url,
		    cases[i].dir);
		CHECK_STR(r.has_query ? r.query : NULL, cases[i].query,
		    "\"%s\" query", cases[i].url);
	}
	test_lengths();
	test_clean();
	test_hidden();
	test_decode();
	return UNIT_DONE();
}

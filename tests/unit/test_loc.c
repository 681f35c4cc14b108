/* location blocks: globs, the first match, $path, targets, certificates,
 * fingerprints and redirect loops (src/capsuled/loc.c, no i/o) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loc.h"
#include "status.h"
#include "unit.h"

static int
glob(const char *pattern, const char *subject)
{
	size_t off, len;

	return loc_glob(pattern, subject, &off, &len);
}

/* what the trailing star took, or "(no match)" */
static const char *
capture(const char *pattern, const char *subject)
{
	static char buf[2048];
	size_t off, len;

	if (!loc_glob(pattern, subject, &off, &len))
		return "(no match)";
	snprintf(buf, sizeof(buf), "%.*s", (int)len, subject + off);
	return buf;
}

static struct location
redirect(const char *pattern, const char *target)
{
	struct location l;

	memset(&l, 0, sizeof(l));
	l.pattern = (char *)pattern;
	l.redirect = (char *)target;
	l.auto_index = -1;
	return l;
}

/* the target for a request path (clean, as request.h gives it) */
static const char *
target(const struct location *locs, size_t n, const char *path, int dir)
{
	static char out[2048];
	struct loc_match m;

	if (loc_find(locs, n, path, dir, &m) == NULL)
		return "(no match)";
	if (loc_target(&m, out, sizeof(out)) == -1)
		return "(too long)";
	return out;
}

static int
ours(const char *host, void *arg)
{
	(void)arg;
	return strcmp(host, "example.org") == 0;
}

static void
test_glob(void)
{
	char longer[LOC_PATTERN_MAX + 8];

	CHECK(glob("/a.gmi", "/a.gmi"), "a literal matches itself");
	CHECK(!glob("/a.gmi", "/a.gmi/"), "and not with a slash after");
	CHECK(!glob("/A.gmi", "/a.gmi"), "case counts");
	CHECK(glob("/", "/"), "/ is the root");
	CHECK(!glob("/", "/a"), "and only the root");
	CHECK(glob("/*", "/"), "a star may match nothing");
	CHECK(glob("/*", "/a/b/c.gmi"), "a star crosses slashes");
	CHECK(glob("/*.gmi", "/docs/a.gmi"), "a star in the middle");
	CHECK(!glob("/*.gmi", "/docs/a.txt"), "and the rest must match");
	CHECK(glob("/a?c", "/abc"), "? is one character");
	CHECK(!glob("/a?c", "/ac"), "not none");
	CHECK(!glob("/a?c", "/abbc"), "nor two");
	CHECK(glob("/caf?", "/caf\xc3\xa9"), "? is one utf-8 character");
	CHECK(glob("/caf\xc3\xa9/*", "/caf\xc3\xa9/x"), "utf-8 literals");
	CHECK(glob("/**", "/x"), "two stars");
	CHECK(glob("/*a*a*a*b", "/aaaaaaaaab"), "many stars");
	CHECK(!glob("/*a*a*a*b", "/aaaaaaaaaa"), "many stars, no match");
	CHECK(glob("/old/*", "/old/"), "a directory's own slash");
	CHECK(!glob("/old/*", "/old"), "/old/* is not /old");
	CHECK(!glob("/old/*", "/older/x"), "nor /older/x");
	CHECK(glob("/[a]", "/[a]"), "brackets are themselves");
	CHECK(!glob("", "/"), "an empty pattern matches nothing");
	memset(longer, 'a', sizeof(longer) - 1);
	longer[0] = '/';
	longer[sizeof(longer) - 1] = '\0';
	CHECK(!glob(longer, longer), "a pattern over 256 bytes never matches");

	CHECK_STR(capture("/old/*", "/old/a/b.gmi"), "a/b.gmi",
	    "$path: what the trailing star took");
	CHECK_STR(capture("/old/*", "/old/"), "", "$path may be empty");
	CHECK_STR(capture("/a*", "/abc"), "bc", "a star right after text");
	CHECK_STR(capture("/*/x*", "/p/x/y/x2"), "/y/x2",
	    "the trailing star takes the most it can");
	CHECK_STR(capture("/*", "/a/b/"), "a/b/", "and a directory's slash");
	CHECK_STR(capture("/a.gmi", "/a.gmi"), "",
	    "no trailing star, no $path");
}

static void
test_find(void)
{
	struct location locs[4];
	struct loc_match m;

	locs[0] = redirect("/docs/*.gmi", "/a");
	locs[1] = redirect("/docs/*", "/b");
	locs[2] = redirect("/docs", "/c");
	locs[3] = redirect("/*", "/d");
	CHECK(loc_find(locs, 4, "docs/x.gmi", 0, &m) == &locs[0],
	    "the first match wins");
	CHECK(loc_find(locs, 4, "docs/x.txt", 0, &m) == &locs[1],
	    "the next when the first does not match");
	CHECK(loc_find(locs, 4, "docs", 1, &m) == &locs[1],
	    "a directory asked for with its slash is /docs/");
	CHECK(loc_find(locs, 4, "docs", 0, &m) == &locs[2],
	    "and without it /docs");
	CHECK(loc_find(locs, 4, "", 1, &m) == &locs[3] &&
	    strcmp(m.subject, "/") == 0, "the root is /");
	CHECK(loc_find(locs, 3, "other", 0, &m) == NULL && m.loc == NULL,
	    "no match: NULL");
	CHECK(loc_find(locs, 0, "docs", 0, &m) == NULL, "no locations");
}

static void
test_target(void)
{
	/* the location's pattern and redirect; the request's path and
	 * whether it named a directory; the target */
	static const struct {
		const char *pattern, *redirect, *path;
		int dir;
		const char *want, *name;
	} t[] = {
		{ "/old/*", "/new/$path", "old/a/b.gmi", 0, "/new/a/b.gmi",
		    "a moved directory keeps the rest of the path" },
		{ "/old/*", "/new/$path", "old", 1, "/new/",
		    "the directory itself goes to the new one" },
		{ "/old/*", "/new/$path", "old/a b?#%.gmi", 0,
		    "/new/a%20b%3F%23%25.gmi", "$path is percent-encoded" },
		{ "/old/*", "/new/$path", "old/caf\xc3\xa9", 0,
		    "/new/caf\xc3\xa9", "utf-8 stays as it is" },
		{ "/old/*", "new/$path", "old/b.gmi", 0, "/old/new/b.gmi",
		    "a relative target goes on from the request's directory" },
		{ "/old/*", "new/$path", "old/a/b.gmi", 0, "/old/a/new/a/b.gmi",
		    "which is the deepest one" },
		{ "/old/*", "../new/$path", "old/a.gmi", 0, "/new/a.gmi",
		    "its dot segments go" },
		{ "/a/b/c.gmi", "../../../../x.gmi", "a/b/c.gmi", 0, "/x.gmi",
		    "'..' above the top stays at the top" },
		{ "/rel/*.gmi", "..//new//a.gmi", "rel/x.gmi", 0, "/new/a.gmi",
		    "empty segments go too (fuzz_conf found \"//\" first)" },
		{ "/page.gmi", "./", "page.gmi", 0, "/",
		    "./ is the directory" },
		{ "/p", "/q?x=1#f", "p", 0, "/q?x=1#f",
		    "a query and fragment are kept" },
		{ "/p/*", "gemini://other.example/$path", "p/z", 0,
		    "gemini://other.example/z", "an absolute target is kept" },
		{ "/p", "https://example.com/a/../b", "p", 0,
		    "https://example.com/a/../b", "as it is written" },
		{ "/p", "//other.example/x", "p", 0, "gemini://other.example/x",
		    "a network-path target gets the gemini scheme" },
	};
	struct location l[1];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		l[0] = redirect(t[i].pattern, t[i].redirect);
		CHECK_STR(target(l, 1, t[i].path, t[i].dir), t[i].want, "%s",
		    t[i].name);
	}
}

static void
test_cert(void)
{
	struct location l;
	struct loc_peer peer;
	unsigned char fps[2][LOC_FP_LEN];
	int i;

	memset(&l, 0, sizeof(l));
	memset(&peer, 0, sizeof(peer));
	CHECK(loc_cert_status(&l, NULL, 1000) == 0, "no client-cert: open");
	CHECK(loc_cert_status(NULL, NULL, 1000) == 0, "no location: open");
	l.client_cert = 1;
	CHECK(loc_cert_status(&l, NULL, 1000) == GEMINI_CERT_REQUIRED,
	    "no certificate: 60");
	CHECK(loc_cert_status(&l, &peer, 1000) == GEMINI_CERT_REQUIRED,
	    "a peer without one: 60");
	peer.present = 1;
	peer.not_before = 500;
	peer.not_after = 2000;
	for (i = 0; i < LOC_FP_LEN; i++)
		peer.sha256[i] = (unsigned char)i;
	CHECK(loc_cert_status(&l, &peer, 1000) == 0,
	    "no allow list: any certificate in its dates");
	CHECK(loc_cert_status(&l, &peer, 2001) == GEMINI_CERT_NOT_VALID,
	    "expired: 62");
	CHECK(loc_cert_status(&l, &peer, 499) == GEMINI_CERT_NOT_VALID,
	    "not yet valid: 62");
	memset(fps, 0xab, sizeof(fps));
	l.allow = fps;
	l.nallow = 2;
	CHECK(loc_cert_status(&l, &peer, 1000) == GEMINI_CERT_NOT_AUTHORISED,
	    "not listed: 61");
	CHECK(loc_cert_status(&l, &peer, 3000) == GEMINI_CERT_NOT_VALID,
	    "not listed and expired: 62 (the dates first)");
	memcpy(fps[1], peer.sha256, LOC_FP_LEN);
	CHECK(loc_cert_status(&l, &peer, 1000) == 0, "listed: open");
}

static void
test_fingerprint(void)
{
	unsigned char fp[LOC_FP_LEN];
	const char *hex = "00112233445566778899aabbccddeeff"
	    "00112233445566778899AABBCCDDEEFF";
	char buf[256];

	snprintf(buf, sizeof(buf), "sha256:%s", hex);
	CHECK(loc_fingerprint(buf, fp) == 0 && fp[0] == 0x00 &&
	    fp[10] == 0xaa && fp[31] == 0xff, "hex in either case");
	CHECK(loc_fingerprint("SHA256:00:11:22:33:44:55:66:77:88:99:AA:BB:"
	    "CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff", fp)
	    == 0 && fp[15] == 0xff, "with colons, SHA256 in capitals");
	CHECK(loc_fingerprint(hex, fp) == -1, "sha256: is needed");
	snprintf(buf, sizeof(buf), "sha256:%.62s", hex);
	CHECK(loc_fingerprint(buf, fp) == -1, "62 digits are too few");
	snprintf(buf, sizeof(buf), "sha256:%s00", hex);
	CHECK(loc_fingerprint(buf, fp) == -1, "66 are too many");
	snprintf(buf, sizeof(buf), "sha256:%.63sg", hex);
	CHECK(loc_fingerprint(buf, fp) == -1, "g is no hex digit");
}

static void
test_errors(void)
{
	CHECK(loc_pattern_error("/a/*") == NULL, "a good pattern");
	CHECK(loc_pattern_error("a/*") != NULL, "a pattern starts with /");
	CHECK(loc_pattern_error("/a\n") != NULL, "no control characters");
	CHECK(loc_redirect_error("/a/*", "/b/$path") == NULL,
	    "$path under a trailing star");
	CHECK(loc_redirect_error("/a/*.gmi", "/b/$path") != NULL,
	    "$path without a trailing star is refused");
	CHECK(loc_redirect_error("/a", "/b/$x") != NULL,
	    "a '$' that is not $path is refused");
	CHECK(loc_redirect_error("/a", "") != NULL, "an empty target");
	CHECK(loc_redirect_error("/a", "/b c") != NULL, "a space");
}

static void
test_loops(void)
{
	struct location l[4];
	char chain[256];

	l[0] = redirect("/a", "/b");
	l[1] = redirect("/b", "/a");
	CHECK(loc_loop(l, 2, ours, NULL, chain, sizeof(chain)) == 0 &&
	    strcmp(chain, "/a -> /b -> /a") == 0, "A -> B -> A: %s", chain);
	l[0] = redirect("/a", "/a");
	CHECK(loc_loop(l, 1, ours, NULL, chain, sizeof(chain)) == 0,
	    "A -> A");
	l[0] = redirect("/old/*", "/new/$path");
	l[1] = redirect("/new/*", "gemini://example.org/old/$path");
	CHECK(loc_loop(l, 2, ours, NULL, chain, sizeof(chain)) == 0,
	    "a loop through an absolute url to this server: %s", chain);
	l[1] = redirect("/new/*", "gemini://elsewhere.example/old/$path");
	CHECK(loc_loop(l, 2, ours, NULL, chain, sizeof(chain)) == -1,
	    "another host ends the chain");
	l[0] = redirect("/old/*", "/new/$path");
	l[1] = redirect("/new/*", "/newer/$path");
	l[2] = redirect("/newer/*", "/newest/$path");
	CHECK(loc_loop(l, 3, ours, NULL, chain, sizeof(chain)) == -1,
	    "a chain without a loop is fine");
	l[0] = redirect("/a/*", "/a/b/$path");
	CHECK(loc_loop(l, 1, ours, NULL, chain, sizeof(chain)) == 0,
	    "a redirect into its own pattern grows forever: a loop");
	l[0] = redirect("/x/", "/y");
	l[1] = redirect("/y", "/z/");
	l[2] = redirect("/z/*", "/x/");
	CHECK(loc_loop(l, 3, ours, NULL, chain, sizeof(chain)) == 0,
	    "through an empty $path: %s", chain);
	l[0] = redirect("/b", "/c");
	l[1] = redirect("/a", "/b");
	l[2] = redirect("/a", "/a");	/* never reached: /a is l[1]'s */
	CHECK(loc_loop(l, 3, ours, NULL, chain, sizeof(chain)) == -1,
	    "a location shadowed by an earlier one loops nowhere");
}

static void
test_guard(void)
{
	struct location l[3];

	l[0] = redirect("/old/*", "/new/$path");
	l[1] = redirect("/private/*", NULL);
	l[1].client_cert = 1;
	l[2] = redirect("/gone.gmi", NULL);
	l[2].status = GEMINI_GONE;
	CHECK(loc_guard(l, 3, "private/x.gmi", 0, NULL) == &l[1],
	    "a real path in a client-cert area is guarded");
	CHECK(loc_guard(l, 3, "private", 1, NULL) == &l[1],
	    "and the area's directory");
	CHECK(loc_guard(l, 3, "gone.gmi", 0, NULL) == &l[2],
	    "a real path with a status is guarded");
	CHECK(loc_guard(l, 3, "private/x.gmi", 0, &l[1]) == NULL,
	    "not again by the location the request already passed");
	CHECK(loc_guard(l, 3, "old/x.gmi", 0, NULL) == NULL,
	    "a redirect guards nothing");
	CHECK(loc_guard(l, 3, "open.gmi", 0, NULL) == NULL,
	    "nor does no location");
}

int
main(void)
{
	test_guard();
	test_glob();
	test_find();
	test_target();
	test_cert();
	test_fingerprint();
	test_errors();
	test_loops();
	return UNIT_DONE();
}

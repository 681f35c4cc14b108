/*
 * libFuzzer harness for the gemtext renderers. beyond memory errors it
 * checks what the listeners rely on: plain text is valid utf-8 with no
 * control bytes but LF and TAB; a gopher menu is CRLF lines of four
 * tab-separated fields, selectors under 256 bytes with no dot segments,
 * ending ".\r\n"; a failed render leaves the buffer as it was.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gemtext.h"
#include "plaintext.h"
#include "utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define ensure(cond)	do { if (!(cond)) abort(); } while (0)

static void
check_text(const char *s, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		k = utf8_decode(s + i, n - i, &cp);
		ensure(k > 0);
		ensure(cp >= 0x20 || cp == '\n' || cp == '\t');
		ensure(cp != 0x7f && (cp < 0x80 || cp >= 0xa0));
		i += k;
	}
}

static void
check_menu(const char *s, size_t n)
{
	const char *p = s, *end = s + n, *crlf, *f[4];
	size_t len, tabs, i, sellen;

	ensure(n >= 3 && memcmp(end - 3, ".\r\n", 3) == 0);
	while (p < end - 3) {
		crlf = memmem(p, (size_t)(end - p), "\r\n", 2);
		ensure(crlf != NULL);
		len = (size_t)(crlf - p);
		ensure(len > 0 && strchr("01gIhs9i", p[0]) != NULL);
		for (i = 0, tabs = 0; i < len; i++) {
			ensure(p[i] != '\r' && p[i] != '\n' && p[i] != '\0');
			if (p[i] == '\t') {
				ensure(tabs < 3);
				f[++tabs] = p + i + 1;
			}
		}
		ensure(tabs == 3);
		sellen = (size_t)(f[2] - f[1]) - 1;
		ensure(sellen <= GOPHER_SELECTOR_MAX);
		/* 'h' is a url, or an html file inside the capsule */
		if (p[0] == 'h' && sellen > 4 && memcmp(f[1], "URL:", 4) == 0)
			;
		else if (p[0] != 'i') {
			ensure(sellen > 0 && f[1][0] == '/');
			ensure(memmem(f[1], sellen, "/../", 4) == NULL);
			ensure(memmem(f[1], sellen, "/./", 3) == NULL);
			ensure(!(sellen >= 3 &&
			    memcmp(f[1] + sellen - 3, "/..", 3) == 0));
		}
		p = crlf + 2;
	}
	ensure(p == end - 3);
}

static char
type_cb(const char *sel, void *arg)
{
	(void)arg;
	return strlen(sel) % 7 == 0 ? '\0' : gopher_type_for_path(sel);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const self[] = { "localhost", "[::1]", NULL };
	const char *doc = (const char *)data;
	struct gemtext_gopher g;
	struct buf b;
	size_t max;
	int rc;

	/* 1. plain text, unbounded and then with a tight bound */
	buf_init(&b, 0);
	rc = gemtext_to_text(&b, doc, size, "gemini://localhost/sub/p.gmi");
	ensure(rc == 0);
	check_text(b.data ? b.data : "", b.len);
	max = b.len / 2 + 1;
	buf_free(&b);
	buf_init(&b, max);
	buf_puts(&b, "x");
	rc = gemtext_to_text(&b, doc, size, NULL);
	ensure(rc == 0 || (b.len == 1 && errno == E2BIG));
	buf_free(&b);

	/* 2. a gopher menu */
	memset(&g, 0, sizeof(g));
	g.host = "localhost";
	g.port = 7070;
	g.page = size > 0 && data[0] & 1 ? "/sub/dir/p.gmi" : "/";
	g.base_url = size > 0 && data[0] & 2 ? NULL :
	    "gemini://localhost/sub/dir/p.gmi";
	g.self_hosts = self;
	g.item_type = size > 0 && data[0] & 4 ? type_cb : NULL;
	buf_init(&b, 0);
	rc = gemtext_to_gopher(&b, doc, size, &g);
	ensure(rc == 0);
	check_menu(b.data, b.len);
	buf_free(&b);

	/* 2b. plain text for gopher: capsule links as gopher urls */
	buf_init(&b, 0);
	rc = gemtext_to_gopher_text(&b, doc, size, &g);
	ensure(rc == 0);
	check_text(b.data, b.len);
	buf_free(&b);

	/* 3. the title, and the document as dot-stuffed gopher text */
	buf_init(&b, 0);
	if (gemtext_title(&b, doc, size) == 0)
		check_text(b.data, b.len);
	buf_reset(&b);
	ensure(gopher_text_dotstuff(&b, doc, size) == 0);
	ensure(b.len >= 3 && memcmp(b.data + b.len - 3, ".\r\n", 3) == 0);
	ensure(memmem(b.data, b.len - 3, "\r\n.\r\n", 5) == NULL &&
	    !(b.len > 3 && memcmp(b.data, ".\r\n", 3) == 0));
	buf_free(&b);
	return 0;
}

/*
 * the plain-text protocols' pure parts: gopher request lines, menu items
 * and dot-stuffed text (RFC 1436); finger queries and replies (RFC 1288)
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "plaintext.h"
#include "utf8.h"

static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* the request line's length without its line end, or -1 when no LF yet */
static long
line_end(const char *req, size_t len, size_t *linelen)
{
	const char *lf;

	if ((lf = memchr(req, '\n', len)) == NULL)
		return -1;
	*linelen = (size_t)(lf - req);
	if (*linelen > 0 && req[*linelen - 1] == '\r')
		(*linelen)--;
	return 0;
}

enum gopher_sel
gopher_selector_parse(const char *req, size_t len, char *path, size_t pathsz)
{
	const char *tab;
	size_t linelen, sellen, i;

	/* 1. the whole line is there, and bounded */
	if (line_end(req, len, &linelen) == -1) {
		tab = memchr(req, '\t', len);
		sellen = tab ? (size_t)(tab - req) : len;
		/* a CR may still be waiting for its LF */
		if (!tab && sellen > 0 && req[sellen - 1] == '\r')
			sellen--;
		if (len > GOPHER_LINE_MAX || sellen > GOPHER_SELECTOR_MAX)
			return GOPHER_SEL_TOO_LONG;
		return GOPHER_SEL_NEED_MORE;
	}
	if (linelen > GOPHER_LINE_MAX)
		return GOPHER_SEL_TOO_LONG;

	/* 2. the selector ends at the first tab; the rest is not ours */
	tab = memchr(req, '\t', linelen);
	sellen = tab ? (size_t)(tab - req) : linelen;
	if (sellen > GOPHER_SELECTOR_MAX)
		return GOPHER_SEL_TOO_LONG;

	/* 3. no NUL, CR or other control byte inside it */
	for (i = 0; i < sellen; i++)
		if (is_ctl((unsigned char)req[i]))
			return GOPHER_SEL_BAD;

	/* 4. "URL:" selectors name a url outside gopher */
	if (sellen > 4 && strncmp(req, "URL:", 4) == 0) {
		if (sellen - 4 >= pathsz)
			return GOPHER_SEL_TOO_LONG;
		memcpy(path, req + 4, sellen - 4);
		path[sellen - 4] = '\0';
		return GOPHER_SEL_URL;
	}

	/* 5. a path: "" is the root, and a missing leading slash is added */
	if (sellen == 0 || req[0] != '/') {
		if (sellen + 1 >= pathsz)
			return GOPHER_SEL_TOO_LONG;
		path[0] = '/';
		memcpy(path + 1, req, sellen);
		path[sellen + 1] = '\0';
	} else {
		if (sellen >= pathsz)
			return GOPHER_SEL_TOO_LONG;
		memcpy(path, req, sellen);
		path[sellen] = '\0';
	}
	return GOPHER_SEL_OK;
}

static const struct {
	const char	*ext;
	char		 type;
} gopher_ext_types[] = {
	{ "gmi", '1' }, { "gemini", '1' },
	{ "txt", '0' }, { "text", '0' }, { "md", '0' }, { "csv", '0' },
	{ "html", 'h' }, { "htm", 'h' },
	{ "gif", 'g' },
	{ "png", 'I' }, { "jpg", 'I' }, { "jpeg", 'I' }, { "webp", 'I' },
	{ "svg", 'I' }, { "bmp", 'I' }, { "ico", 'I' },
	{ "mp3", 's' }, { "ogg", 's' }, { "wav", 's' }, { "flac", 's' },
};

char
gopher_type_for_path(const char *path)
{
	const char *slash, *dot;
	size_t i, len = strlen(path);

	if (len == 0 || path[len - 1] == '/')
		return '1';
	slash = strrchr(path, '/');
	dot = strrchr(path, '.');
	if (dot == NULL || (slash != NULL && dot < slash))
		return '9';
	for (i = 0; i < sizeof(gopher_ext_types) / sizeof(gopher_ext_types[0]);
	    i++)
		if (strcasecmp(dot + 1, gopher_ext_types[i].ext) == 0)
			return gopher_ext_types[i].type;
	return '9';
}

/* does mime's type/subtype (before any parameters) equal want */
static int
mime_is(const char *mime, const char *want)
{
	size_t n = strlen(want);

	return strncasecmp(mime, want, n) == 0 &&
	    (mime[n] == '\0' || mime[n] == ';' || mime[n] == ' ');
}

char
gopher_type_for_mime(const char *mime)
{
	if (mime_is(mime, "text/gemini") || mime_is(mime, "inode/directory"))
		return '1';
	if (mime_is(mime, "text/html"))
		return 'h';
	if (strncasecmp(mime, "text/", 5) == 0)
		return '0';
	if (mime_is(mime, "image/gif"))
		return 'g';
	if (strncasecmp(mime, "image/", 6) == 0)
		return 'I';
	if (strncasecmp(mime, "audio/", 6) == 0)
		return 's';
	return '9';
}

/* a display string: tabs and line ends become spaces, other controls '?' */
static int
put_display(struct buf *b, const char *s, size_t n)
{
	size_t i, run = 0;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (!is_ctl(c))
			continue;
		if (buf_append(b, s + run, i - run) == -1 ||
		    buf_putc(b, c == '\t' || c == '\r' || c == '\n' ? ' ' :
		    '?') == -1)
			return -1;
		run = i + 1;
	}
	return buf_append(b, s + run, n - run);
}

/* a host name: anything that would break the line is dropped */
static int
put_host(struct buf *b, const char *host)
{
	for (; *host != '\0'; host++)
		if (!is_ctl((unsigned char)*host) && buf_putc(b, *host) == -1)
			return -1;
	return 0;
}

int
gopher_item(struct buf *b, char type, const char *display, size_t dlen,
    const char *selector, size_t slen, const char *host, unsigned port)
{
	size_t i, start = b->len;

	if (slen > GOPHER_SELECTOR_MAX)
		return 1;
	for (i = 0; i < slen; i++)
		if (is_ctl((unsigned char)selector[i]))
			return 1;
	if (is_ctl((unsigned char)type))
		return 1;
	if (buf_putc(b, type) == -1 ||
	    put_display(b, display, dlen) == -1 ||
	    buf_putc(b, '\t') == -1 ||
	    buf_append(b, selector, slen) == -1 ||
	    buf_putc(b, '\t') == -1 ||
	    put_host(b, host) == -1 ||
	    buf_printf(b, "\t%u\r\n", port) == -1) {
		buf_truncate(b, start);
		return -1;
	}
	return 0;
}

int
gopher_info(struct buf *b, const char *text, size_t len)
{
	size_t start = b->len;

	if (buf_putc(b, 'i') == -1 ||
	    put_display(b, text, len) == -1 ||
	    buf_puts(b, "\t\t(null)\t0\r\n") == -1) {
		buf_truncate(b, start);
		return -1;
	}
	return 0;
}

int
gopher_error(struct buf *b, const char *msg)
{
	size_t start = b->len;

	if (buf_putc(b, '3') == -1 ||
	    put_display(b, msg, strlen(msg)) == -1 ||
	    buf_puts(b, "\t\t(null)\t0\r\n") == -1 ||
	    gopher_menu_end(b) == -1) {
		buf_truncate(b, start);
		return -1;
	}
	return 0;
}

int
gopher_menu_end(struct buf *b)
{
	return buf_puts(b, ".\r\n");
}

int
gopher_text_dotstuff(struct buf *b, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *lf;
	size_t n, start = b->len;

	while (p < end) {
		lf = memchr(p, '\n', (size_t)(end - p));
		n = lf ? (size_t)(lf - p) : (size_t)(end - p);
		if (lf != NULL && n > 0 && p[n - 1] == '\r')
			n--;
		if ((n > 0 && p[0] == '.' && buf_putc(b, '.') == -1) ||
		    buf_append(b, p, n) == -1 ||
		    buf_puts(b, "\r\n") == -1)
			goto fail;
		p = lf ? lf + 1 : end;
	}
	if (buf_puts(b, ".\r\n") == -1)
		goto fail;
	return 0;
fail:
	buf_truncate(b, start);
	return -1;
}

static int
put_html(struct buf *b, const char *s)
{
	int r = 0;

	for (; *s != '\0' && r == 0; s++) {
		switch (*s) {
		case '&': r = buf_puts(b, "&amp;"); break;
		case '<': r = buf_puts(b, "&lt;"); break;
		case '>': r = buf_puts(b, "&gt;"); break;
		case '"': r = buf_puts(b, "&quot;"); break;
		case '\'': r = buf_puts(b, "&#39;"); break;
		default: r = buf_putc(b, *s); break;
		}
	}
	return r;
}

int
gopher_url_page(struct buf *b, const char *url)
{
	size_t start = b->len;

	/* any scheme, as gophernicus and pygopherd answer: the url is only
	 * ever written html-escaped, so it cannot leave its attribute */
	if (buf_puts(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<title>A link outside gopher</title></head>\n<body><p>This item "
	    "links outside gopher, to <a href=\"") == -1 ||
	    put_html(b, url) == -1 ||
	    buf_puts(b, "\">") == -1 ||
	    put_html(b, url) == -1 ||
	    buf_puts(b, "</a>.</p></body></html>\n") == -1) {
		buf_truncate(b, start);
		return -1;
	}
	return 0;
}

static int
finger_name_char(unsigned char c, int first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return !first && (c == '.' || c == '_' || c == '-');
}

enum finger_query
finger_query_parse(const char *req, size_t len, char *name, size_t namesz)
{
	size_t linelen, i = 0, n;

	/* 1. a whole, bounded line */
	if (line_end(req, len, &linelen) == -1)
		return len > FINGER_LINE_MAX ? FINGER_TOO_LONG :
		    FINGER_NEED_MORE;
	if (linelen > FINGER_LINE_MAX)
		return FINGER_TOO_LONG;
	for (i = 0; i < linelen; i++)
		if (is_ctl((unsigned char)req[i]))
			return FINGER_BAD;

	/* 2. "/W" asks for verbose output: accepted, ignored */
	i = 0;
	if (linelen >= 2 && req[0] == '/' && (req[1] == 'W' || req[1] == 'w')) {
		i = 2;
		if (i < linelen && req[i] != ' ')
			return FINGER_BAD;
	}
	while (i < linelen && req[i] == ' ')
		i++;
	while (linelen > i && req[linelen - 1] == ' ')
		linelen--;

	/* 3. nothing left: the index */
	if (i == linelen)
		return FINGER_INDEX;

	/* 4. "@host" anywhere asks us to forward; RFC 1288 advises against */
	if (memchr(req + i, '@', linelen - i) != NULL)
		return FINGER_FORWARD;

	/* 5. a page name from a safe set, never a path */
	n = linelen - i;
	if (n > FINGER_NAME_MAX || n >= namesz)
		return FINGER_BAD;
	for (; i < linelen; i++)
		if (!finger_name_char((unsigned char)req[i],
		    i == linelen - n))
			return FINGER_BAD;
	memcpy(name, req + linelen - n, n);
	name[n] = '\0';
	return FINGER_PAGE;
}

/* ascii look-alikes for the typography of british english pages */
static const char *
ascii_for(uint32_t cp)
{
	switch (cp) {
	case 0x00a0: return " ";
	case 0x00a3: return "GBP";
	case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2212:
		return "-";
	case 0x2014: return "--";
	case 0x2018: case 0x2019: case 0x201a: case 0x2032: return "'";
	case 0x201c: case 0x201d: case 0x201e: case 0x2033: return "\"";
	case 0x2022: return "*";
	case 0x2026: return "...";
	default: return "?";
	}
}

int
finger_text(struct buf *b, const char *text, size_t len, int ascii)
{
	size_t i = 0, n, start = b->len;
	uint32_t cp;
	unsigned char c;
	int r;

	while (i < len) {
		c = (unsigned char)text[i];
		if (c == '\n') {
			r = buf_puts(b, "\r\n");
			n = 1;
		} else if (c == '\r' && i + 1 < len && text[i + 1] == '\n') {
			r = 0;
			n = 1;
		} else if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
			r = buf_putc(b, c);
			n = 1;
		} else if (c < 0x80) {
			r = buf_putc(b, '?');
			n = 1;
		} else if ((n = utf8_decode(text + i, len - i, &cp)) == 0) {
			r = buf_putc(b, '?');
			n = 1;
		} else if (cp < 0xa0) {
			r = buf_putc(b, '?');	/* C1 controls */
		} else if (ascii)
			r = buf_puts(b, ascii_for(cp));
		else
			r = buf_append(b, text + i, n);
		if (r == -1) {
			buf_truncate(b, start);
			return -1;
		}
		i += n;
	}
	if (len > 0 && text[len - 1] != '\n' && buf_puts(b, "\r\n") == -1) {
		buf_truncate(b, start);
		return -1;
	}
	return 0;
}

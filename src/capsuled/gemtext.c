/*
 * gemtext: classify lines, render as plain text or as a gopher menu.
 * no i/o; every output goes through a bounded struct buf.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "gemtext.h"
#include "plaintext.h"
#include "utf8.h"
#include "hex.h"

#define PRE_INDENT	"    "
#define TAB_STOP	8

static int
is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && is_ws(**s))
		(*s)++, (*n)--;
	while (*n > 0 && is_ws((*s)[*n - 1]))
		(*n)--;
}

void
gemtext_classify(const char *line, size_t len, int pre, struct gemtext_line *l)
{
	size_t i, level;

	l->type = GEMTEXT_TEXT;
	l->text = line;
	l->textlen = len;
	l->url = NULL;
	l->urllen = 0;

	/* 1. a toggle opens or closes a preformatted block */
	if (len >= 3 && memcmp(line, "```", 3) == 0) {
		l->type = GEMTEXT_PRE_TOGGLE;
		l->text = line + 3;
		l->textlen = pre ? 0 : len - 3;
		trim(&l->text, &l->textlen);
		return;
	}
	if (pre) {
		l->type = GEMTEXT_PRE;
		return;
	}
	if (len == 0)
		return;

	/* 2. "=>" [ws] url [ws label] */
	if (len >= 2 && line[0] == '=' && line[1] == '>') {
		for (i = 2; i < len && is_ws(line[i]); i++)
			;
		if (i == len)
			return;		/* no url: plain text */
		l->type = GEMTEXT_LINK;
		l->url = line + i;
		while (i < len && !is_ws(line[i]))
			i++;
		l->urllen = (size_t)(line + i - l->url);
		l->text = line + i;
		l->textlen = len - i;
		trim(&l->text, &l->textlen);
		return;
	}

	/* 3. headings, list items, quotes */
	if (line[0] == '#') {
		for (level = 1; level < 3 && level < len && line[level] == '#';
		    level++)
			;
		l->type = level == 1 ? GEMTEXT_H1 :
		    level == 2 ? GEMTEXT_H2 : GEMTEXT_H3;
		l->text = line + level;
		l->textlen = len - level;
	} else if (len >= 2 && line[0] == '*' && line[1] == ' ') {
		l->type = GEMTEXT_LIST;
		l->text = line + 2;
		l->textlen = len - 2;
	} else if (line[0] == '>') {
		l->type = GEMTEXT_QUOTE;
		l->text = line + 1;
		l->textlen = len - 1;
	} else
		return;
	trim(&l->text, &l->textlen);
}

void
gemtext_iter_init(struct gemtext_iter *it, const char *doc, size_t len)
{
	it->p = doc;
	it->end = doc + len;
	it->pre = 0;
}

int
gemtext_next(struct gemtext_iter *it, struct gemtext_line *l)
{
	const char *lf;
	size_t n;

	if (it->p >= it->end)
		return 0;
	lf = memchr(it->p, '\n', (size_t)(it->end - it->p));
	n = lf ? (size_t)(lf - it->p) : (size_t)(it->end - it->p);
	if (lf != NULL && n > 0 && it->p[n - 1] == '\r')
		n--;
	gemtext_classify(it->p, n, it->pre, l);
	if (l->type == GEMTEXT_PRE_TOGGLE)
		it->pre = !it->pre;
	it->p = lf ? lf + 1 : it->end;
	return 1;
}

/*
 * sanitising: the output is valid utf-8 without control characters, so
 * no terminal escape, line break or tab reaches a reader or a menu field
 */
enum tabs { TABS_SPACE, TABS_KEEP, TABS_EXPAND };

static int
sanitize(struct buf *dst, const char *s, size_t n, enum tabs tabs)
{
	size_t i = 0, k, col = 0;
	uint32_t cp;
	unsigned char c;
	int r;

	while (i < n) {
		/* printable ascii goes in runs */
		for (k = i; k < n && (unsigned char)s[k] >= 0x20 &&
		    (unsigned char)s[k] < 0x7f; k++)
			;
		if (k > i) {
			if (buf_append(dst, s + i, k - i) == -1)
				return -1;
			col += k - i;
			i = k;
			continue;
		}
		c = (unsigned char)s[i];
		k = 1;
		if (c == '\t') {
			if (tabs == TABS_EXPAND) {
				k = TAB_STOP - col % TAB_STOP;
				r = buf_repeat(dst, ' ', k);
				col += k;
				i++;
				if (r == -1)
					return -1;
				continue;
			}
			r = buf_putc(dst, tabs == TABS_KEEP ? '\t' : ' ');
		} else if (c < 0x20 || c == 0x7f)
			r = buf_puts(dst, UTF8_REPLACEMENT);
		else if (c < 0x80)
			r = buf_putc(dst, c);
		else if ((k = utf8_decode(s + i, n - i, &cp)) == 0) {
			k = 1;
			r = buf_puts(dst, UTF8_REPLACEMENT);
		} else if (cp < 0xa0)			/* C1 controls */
			r = buf_puts(dst, UTF8_REPLACEMENT);
		else
			r = buf_append(dst, s + i, k);
		if (r == -1)
			return -1;
		i += k;
		col++;
	}
	return 0;
}

struct render {
	struct buf	*out;
	int		 gopher;
	size_t		 width;
	struct buf	 san;		/* the sanitised text of a line */
	struct buf	 line;		/* the output line being built */
	struct buf	 url;		/* a resolved url */
	struct buf	 sel;		/* a gopher selector */
	struct buf	 links;		/* plain text: the "[N] url" list */
	size_t		 nlinks;
	/* plain text for gopher: links to this capsule as gopher urls */
	const struct gemtext_gopher *g;
};

static int	gopher_local(struct render *, const struct gemtext_line *,
		    const struct gemtext_gopher *, char *type);
static int	gopher_url(struct buf *, const struct gemtext_gopher *,
		    char type, const char *sel, size_t slen);

/* one output line: LF-ended text, or a gopher info item */
static int
emit(struct render *r, const char *s, size_t n, int verbatim)
{
	if (!verbatim)
		while (n > 0 && s[n - 1] == ' ')
			n--;
	if (r->gopher)
		return gopher_info(r->out, s, n);
	if (buf_append(r->out, s, n) == -1 || buf_putc(r->out, '\n') == -1)
		return -1;
	return 0;
}

/*
 * greedy word wrap of sanitised text at r->width code points. the first
 * line keeps the text's own indentation; a word longer than the line
 * stays whole. *maxw gets the widest line.
 */
static int
wrap(struct render *r, const char *s, size_t n, const char *first,
    const char *cont, size_t *maxw)
{
	size_t pos = 0, col, sp, ws, we, ww;
	int firstline = 1, taken;

	while (n > 0 && s[n - 1] == ' ')
		n--;
	*maxw = 0;
	do {
		const char *prefix = firstline ? first : cont;

		buf_reset(&r->line);
		if (buf_puts(&r->line, prefix) == -1)
			return -1;
		col = utf8_width(prefix, strlen(prefix));
		if (!firstline)
			while (pos < n && s[pos] == ' ')
				pos++;
		taken = 0;
		while (pos < n) {
			for (sp = pos; sp < n && s[sp] == ' '; sp++)
				;
			ws = sp;
			for (we = ws; we < n && s[we] != ' '; we++)
				;
			ww = utf8_width(s + ws, we - ws);
			if (taken && col + (ws - pos) + ww > r->width)
				break;
			if (buf_append(&r->line, s + pos, we - pos) == -1)
				return -1;
			col += (ws - pos) + ww;
			pos = we;
			taken = 1;
		}
		if (taken && col > *maxw)
			*maxw = col;
		if (emit(r, r->line.data, r->line.len, 0) == -1)
			return -1;
		firstline = 0;
	} while (pos < n);
	return 0;
}

static int
render_heading(struct render *r, const struct gemtext_line *l)
{
	size_t maxw;

	buf_reset(&r->san);
	if (sanitize(&r->san, l->text, l->textlen, TABS_SPACE) == -1)
		return -1;
	if (l->type == GEMTEXT_H3)
		return wrap(r, r->san.data, r->san.len, "### ", "    ", &maxw);
	if (wrap(r, r->san.data, r->san.len, "", "", &maxw) == -1)
		return -1;
	if (maxw == 0)
		return 0;
	if (maxw > r->width)
		maxw = r->width;
	buf_reset(&r->line);
	if (buf_repeat(&r->line, l->type == GEMTEXT_H1 ? '=' : '-', maxw) == -1)
		return -1;
	return emit(r, r->line.data, r->line.len, 0);
}

static int
render_pre(struct render *r, const struct gemtext_line *l)
{
	buf_reset(&r->line);
	if (l->textlen == 0)
		return emit(r, "", 0, 1);
	if (buf_puts(&r->line, PRE_INDENT) == -1 ||
	    sanitize(&r->line, l->text, l->textlen,
	    r->gopher ? TABS_EXPAND : TABS_KEEP) == -1)
		return -1;
	return emit(r, r->line.data, r->line.len, 1);
}

/*
 * urls (RFC 3986): split into parts, remove dot segments, resolve
 */
struct uref {
	const char	*scheme, *auth, *path, *query, *frag;
	size_t		 schemelen, authlen, pathlen, querylen, fraglen;
	int		 has_scheme, has_auth, has_query, has_frag;
};

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_scheme_char(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '+' ||
	    c == '-' || c == '.';
}

static void
uref_split(const char *s, size_t n, struct uref *u)
{
	size_t i = 0, j;

	memset(u, 0, sizeof(*u));
	if (s == NULL)
		s = "";
	/* 1. scheme ":" */
	if (n > 0 && is_alpha(s[0])) {
		for (j = 1; j < n && is_scheme_char(s[j]); j++)
			;
		if (j < n && s[j] == ':') {
			u->has_scheme = 1;
			u->scheme = s;
			u->schemelen = j;
			i = j + 1;
		}
	}
	/* 2. "//" authority */
	if (n - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
		i += 2;
		for (j = i; j < n && s[j] != '/' && s[j] != '?' && s[j] != '#';
		    j++)
			;
		u->has_auth = 1;
		u->auth = s + i;
		u->authlen = j - i;
		i = j;
	}
	/* 3. path */
	for (j = i; j < n && s[j] != '?' && s[j] != '#'; j++)
		;
	u->path = s + i;
	u->pathlen = j - i;
	/* 4. "?" query */
	if (j < n && s[j] == '?') {
		i = j + 1;
		for (j = i; j < n && s[j] != '#'; j++)
			;
		u->has_query = 1;
		u->query = s + i;
		u->querylen = j - i;
	}
	/* 5. "#" fragment */
	if (j < n && s[j] == '#') {
		u->has_frag = 1;
		u->frag = s + j + 1;
		u->fraglen = n - j - 1;
	}
}

static int
has_prefix(const char *p, size_t n, const char *pfx)
{
	size_t k = strlen(pfx);

	return n >= k && memcmp(p, pfx, k) == 0;
}

static int
equals(const char *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

/* drop the last segment and its slash from out, never before from */
static void
pop_segment(struct buf *out, size_t from)
{
	size_t i = out->len;

	while (i > from && out->data[i - 1] != '/')
		i--;
	if (i > from)
		i--;
	buf_truncate(out, i);
}

/* append remove_dot_segments(a + b) (RFC 3986 5.2.4) to out */
static int
remove_dots(struct buf *out, const char *a, size_t alen, const char *b,
    size_t blen)
{
	size_t n = alen + blen, i = 0, j, from = out->len;
	char *in, *p;
	int r = 0;

	if ((in = malloc(n + 1)) == NULL)
		return -1;
	memcpy(in, a, alen);
	memcpy(in + alen, b, blen);
	in[n] = '\0';
	while (i < n && r == 0) {
		p = in + i;
		if (has_prefix(p, n - i, "../"))		/* A */
			i += 3;
		else if (has_prefix(p, n - i, "./"))
			i += 2;
		else if (has_prefix(p, n - i, "/./"))	/* B */
			i += 2;
		else if (equals(p, n - i, "/."))
			in[++i] = '/';
		else if (has_prefix(p, n - i, "/../")) {	/* C */
			i += 3;
			pop_segment(out, from);
		} else if (equals(p, n - i, "/..")) {
			i += 2;
			in[i] = '/';
			pop_segment(out, from);
		} else if (equals(p, n - i, ".") || equals(p, n - i, ".."))
			i = n;				/* D */
		else {					/* E */
			j = i + (in[i] == '/');
			while (j < n && in[j] != '/')
				j++;
			r = buf_append(out, in + i, j - i);
			i = j;
		}
	}
	free(in);
	return r;
}

int
gemtext_url_resolve(struct buf *out, const char *base, const char *ref,
    size_t reflen)
{
	struct uref b, r;
	const struct uref *auth, *query;
	const char *slash;
	size_t start = out->len;
	int rc = 0;

	if (base == NULL)
		return buf_append(out, ref, reflen);
	uref_split(ref, reflen, &r);
	uref_split(base, strlen(base), &b);

	/* 1. the scheme and authority come from ref when it has them */
	if (r.has_scheme) {
		auth = &r;
		query = &r;
	} else if (r.has_auth) {
		auth = &r;
		query = &r;
	} else {
		auth = &b;
		query = r.pathlen == 0 && !r.has_query ? &b : &r;
	}
	if (r.has_scheme)
		rc = buf_append(out, r.scheme, r.schemelen);
	else if (b.has_scheme)
		rc = buf_append(out, b.scheme, b.schemelen);
	if (rc == 0 && (r.has_scheme || b.has_scheme))
		rc = buf_putc(out, ':');
	if (rc == 0 && auth->has_auth)
		rc = buf_puts(out, "//") == -1 ? -1 :
		    buf_append(out, auth->auth, auth->authlen);

	/* 2. the path: ref's, the base's, or the two merged (5.2.3) */
	if (rc == 0) {
		if (r.has_scheme || r.has_auth || (r.pathlen > 0 &&
		    r.path[0] == '/'))
			rc = remove_dots(out, "", 0, r.path, r.pathlen);
		else if (r.pathlen == 0)
			rc = buf_append(out, b.path, b.pathlen);
		else if (b.has_auth && b.pathlen == 0)
			rc = remove_dots(out, "/", 1, r.path, r.pathlen);
		else {
			slash = b.pathlen ? memrchr(b.path, '/', b.pathlen) :
			    NULL;
			rc = remove_dots(out, b.path,
			    slash ? (size_t)(slash - b.path) + 1 : 0,
			    r.path, r.pathlen);
		}
	}

	/* 3. query and fragment */
	if (rc == 0 && query->has_query)
		rc = buf_putc(out, '?') == -1 ? -1 :
		    buf_append(out, query->query, query->querylen);
	if (rc == 0 && r.has_frag)
		rc = buf_putc(out, '#') == -1 ? -1 :
		    buf_append(out, r.frag, r.fraglen);
	if (rc == -1)
		buf_truncate(out, start);
	return rc;
}

/* plain text: "label [N]" here, "[N] url" in the list under the text */
static int
text_link(struct render *r, const struct gemtext_line *l, const char *base)
{
	size_t maxw;

	r->nlinks++;
	buf_reset(&r->san);
	if (sanitize(&r->san, l->textlen ? l->text : l->url,
	    l->textlen ? l->textlen : l->urllen, TABS_SPACE) == -1 ||
	    buf_printf(&r->san, " [%zu]", r->nlinks) == -1 ||
	    wrap(r, r->san.data, r->san.len, "", "", &maxw) == -1)
		return -1;
	if (buf_printf(&r->links, "[%zu] ", r->nlinks) == -1)
		return -1;
	/* for a gopher reader, a page of this capsule is the item a menu
	 * would give it (gopher_local decides, for both) */
	if (r->g != NULL) {
		char type;
		int rc = gopher_local(r, l, r->g, &type);

		if (rc == -1)
			return -1;
		if (rc == 0)
			return gopher_url(&r->links, r->g, type, r->sel.data,
			    r->sel.len) == -1 ? -1 : buf_putc(&r->links, '\n');
	}
	buf_reset(&r->url);
	if (gemtext_url_resolve(&r->url, base, l->url, l->urllen) == -1 ||
	    sanitize(&r->links, r->url.data, r->url.len, TABS_SPACE) == -1 ||
	    buf_putc(&r->links, '\n') == -1)
		return -1;
	return 0;
}

static int
render_line(struct render *r, const struct gemtext_line *l)
{
	const char *first = "", *cont = "";
	size_t maxw;

	switch (l->type) {
	case GEMTEXT_H1:
	case GEMTEXT_H2:
	case GEMTEXT_H3:
		return render_heading(r, l);
	case GEMTEXT_PRE:
		return render_pre(r, l);
	case GEMTEXT_PRE_TOGGLE:
		return 0;
	case GEMTEXT_LIST:
		first = "  * ";
		cont = "    ";
		break;
	case GEMTEXT_QUOTE:
		first = cont = "> ";
		break;
	case GEMTEXT_TEXT:
	case GEMTEXT_LINK:	/* the callers handle links */
		break;
	}
	buf_reset(&r->san);
	if (sanitize(&r->san, l->text, l->textlen, TABS_SPACE) == -1)
		return -1;
	return wrap(r, r->san.data, r->san.len, first, cont, &maxw);
}

static void
render_init(struct render *r, struct buf *out, int gopher)
{
	memset(r, 0, sizeof(*r));
	r->out = out;
	r->gopher = gopher;
	r->width = gopher ? GEMTEXT_GOPHER_WIDTH : GEMTEXT_TEXT_WIDTH;
	/* scratch buffers share the output's bound */
	buf_init(&r->san, out->max);
	buf_init(&r->line, out->max);
	buf_init(&r->url, out->max);
	buf_init(&r->sel, out->max);
	buf_init(&r->links, out->max);
}

static void
render_free(struct render *r)
{
	buf_free(&r->san);
	buf_free(&r->line);
	buf_free(&r->url);
	buf_free(&r->sel);
	buf_free(&r->links);
}

static int
text_render(struct buf *out, const char *doc, size_t len,
    const char *base_url, const struct gemtext_gopher *g)
{
	struct gemtext_iter it;
	struct gemtext_line l;
	struct render r;
	size_t start = out->len;
	int rc = 0, err;

	render_init(&r, out, 0);
	r.g = g;
	gemtext_iter_init(&it, doc, len);
	while (rc == 0 && gemtext_next(&it, &l))
		rc = l.type == GEMTEXT_LINK ? text_link(&r, &l, base_url) :
		    render_line(&r, &l);
	if (rc == 0 && r.nlinks > 0)
		rc = buf_puts(out, "\nLinks:\n") == -1 ? -1 :
		    buf_append(out, r.links.data, r.links.len);
	err = errno;
	render_free(&r);
	if (rc == -1) {
		buf_truncate(out, start);
		errno = err;
	}
	return rc;
}

int
gemtext_to_text(struct buf *out, const char *doc, size_t len,
    const char *base_url)
{
	return text_render(out, doc, len, base_url, NULL);
}

int
gemtext_to_gopher_text(struct buf *out, const char *doc, size_t len,
    const struct gemtext_gopher *g)
{
	return text_render(out, doc, len, g->base_url, g);
}

int
gemtext_title(struct buf *out, const char *doc, size_t len)
{
	struct gemtext_iter it;
	struct gemtext_line l;
	size_t start = out->len;

	gemtext_iter_init(&it, doc, len);
	while (gemtext_next(&it, &l)) {
		if (l.type != GEMTEXT_H1 || l.textlen == 0)
			continue;
		if (sanitize(out, l.text, l.textlen, TABS_SPACE) == -1) {
			buf_truncate(out, start);
			return -1;
		}
		return 0;
	}
	return 1;
}

/*
 * gopher
 */

/* is authority (host[:port]) one of this capsule's names and its port */
static int
gopher_is_self(const struct gemtext_gopher *g, const char *a, size_t n)
{
	const char *host = a, *rest, *close, *const *self;
	size_t hlen, slen;
	unsigned long port = 0;

	if (g->self_hosts == NULL || memchr(a, '@', n) != NULL)
		return 0;
	/* 1. host, bracketed for ipv6 */
	if (n > 0 && a[0] == '[') {
		if ((close = memchr(a, ']', n)) == NULL)
			return 0;
		host = a + 1;
		hlen = (size_t)(close - host);
		rest = close + 1;
	} else {
		rest = memchr(a, ':', n);
		if (rest == NULL)
			rest = a + n;
		hlen = (size_t)(rest - a);
	}
	/* 2. the port, when given, must be ours */
	if (rest < a + n) {
		if (*rest++ != ':')
			return 0;
		for (; rest < a + n; rest++) {
			if (*rest < '0' || *rest > '9' || port > 65535)
				return 0;
			port = port * 10 + (unsigned long)(*rest - '0');
		}
		if (port != 0 && port != (g->self_port ? g->self_port : 1965))
			return 0;
	}
	/* 3. the name */
	for (self = g->self_hosts; *self != NULL; self++) {
		const char *s = *self;

		slen = strlen(s);
		if (slen >= 2 && s[0] == '[' && s[slen - 1] == ']')
			s++, slen -= 2;
		if (slen == hlen && strncasecmp(s, host, hlen) == 0)
			return 1;
	}
	return 0;
}

/*
 * the selector for a path inside the capsule: percent-decoded, and only
 * when it is safe to send and to resolve: 0 when sel holds it, 1 when the
 * path cannot be a selector, -1 on buffer failure
 */
static int
gopher_selector(struct buf *sel, const char *path, size_t n)
{
	size_t i, seg;
	int hi, lo;
	unsigned char c;

	buf_reset(sel);
	if (n == 0 && buf_putc(sel, '/') == -1)
		return -1;
	for (i = 0; i < n; i++) {
		c = (unsigned char)path[i];
		if (c == '%' && i + 2 < n && (hi = hex_value(path[i + 1])) >= 0
		    && (lo = hex_value(path[i + 2])) >= 0) {
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (buf_putc(sel, c) == -1)
			return -1;
	}
	if (sel->len > GOPHER_SELECTOR_MAX || sel->data[0] != '/')
		return 1;
	/* no control bytes, no "." or ".." segments (decoding can make them) */
	for (i = 0, seg = 1; i <= sel->len; i++) {
		c = (unsigned char)sel->data[i];
		if (i < sel->len && (c < 0x20 || c == 0x7f))
			return 1;
		if (i == sel->len || c == '/') {
			if ((i - seg == 1 && sel->data[seg] == '.') ||
			    (i - seg == 2 && sel->data[seg] == '.' &&
			    sel->data[seg + 1] == '.'))
				return 1;
			seg = i + 1;
		}
	}
	return 0;
}

/* a link that cannot be an item: an info line with its text and url */
static int
gopher_link_info(struct render *r, const struct gemtext_line *l)
{
	size_t maxw;

	buf_reset(&r->san);
	if (l->textlen > 0 && (sanitize(&r->san, l->text, l->textlen,
	    TABS_SPACE) == -1 || buf_putc(&r->san, ' ') == -1))
		return -1;
	if (buf_putc(&r->san, '<') == -1 ||
	    sanitize(&r->san, l->url, l->urllen, TABS_SPACE) == -1 ||
	    buf_putc(&r->san, '>') == -1)
		return -1;
	return wrap(r, r->san.data, r->san.len, "", "", &maxw);
}

/*
 * is the link a page of this capsule (relative, or a gemini url to one of
 * its names), and which item would a menu give it: 0 with its selector in
 * r->sel and its item type in *type; 1 when it is inside but cannot be an
 * item; 2 when it leads elsewhere; -1 on buffer failure
 */
static int
gopher_local(struct render *r, const struct gemtext_line *l,
    const struct gemtext_gopher *g, char *type)
{
	struct uref u, t;
	int rc;

	uref_split(l->url, l->urllen, &u);
	buf_reset(&r->url);
	if (!u.has_scheme && !u.has_auth) {
		if (gemtext_url_resolve(&r->url, g->page ? g->page : "/",
		    l->url, l->urllen) == -1)
			return -1;
		uref_split(r->url.data, r->url.len, &t);
	} else if (u.has_scheme && u.schemelen == 6 &&
	    strncasecmp(u.scheme, "gemini", 6) == 0 && u.has_auth &&
	    gopher_is_self(g, u.auth, u.authlen)) {
		if (remove_dots(&r->url, "", 0, u.path, u.pathlen) == -1)
			return -1;
		uref_split(r->url.data, r->url.len, &t);
	} else
		return 2;

	if ((rc = gopher_selector(&r->sel, t.path, t.pathlen)) != 0)
		return rc;
	*type = g->item_type ? g->item_type(r->sel.data, g->arg) :
	    gopher_type_for_path(r->sel.data);
	return *type == '\0' ? 1 : 0;
}

/* "gopher://host:port/<type><selector>" (RFC 4266), the selector
 * percent-encoded where a url needs it */
static int
gopher_url(struct buf *out, const struct gemtext_gopher *g, char type,
    const char *sel, size_t slen)
{
	static const char keep[] = "-._~/!$&'()*+,;=:@";
	size_t i, start = out->len;
	unsigned char c;
	int v6 = strchr(g->host, ':') != NULL;

	if (buf_printf(out, "gopher://%s%s%s:%u/%c", v6 ? "[" : "", g->host,
	    v6 ? "]" : "", g->port, type) == -1)
		goto fail;
	for (i = 0; i < slen; i++) {
		c = (unsigned char)sel[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c != '\0' && strchr(keep, c))) {
			if (buf_putc(out, c) == -1)
				goto fail;
		} else if (buf_printf(out, "%%%02X", c) == -1)
			goto fail;
	}
	return 0;
fail:
	buf_truncate(out, start);
	return -1;
}

static int
gopher_link(struct render *r, const struct gemtext_line *l,
    const struct gemtext_gopher *g)
{
	struct uref u;
	char type;
	int rc;

	/* 1. the display string: the label, else the url */
	buf_reset(&r->san);
	if (sanitize(&r->san, l->textlen ? l->text : l->url,
	    l->textlen ? l->textlen : l->urllen, TABS_SPACE) == -1)
		return -1;

	/* 2. inside the capsule: relative, or a gemini url to ourselves */
	switch (gopher_local(r, l, g, &type)) {
	case -1:
		return -1;
	case 0:
		rc = gopher_item(r->out, type, r->san.data, r->san.len,
		    r->sel.data, r->sel.len, g->host, g->port);
		return rc == 1 ? gopher_link_info(r, l) : rc;
	case 1:
		return gopher_link_info(r, l);
	default:
		break;
	}

	/* 3. elsewhere: an 'h' item, "URL:" and the absolute url */
	uref_split(l->url, l->urllen, &u);
	if (!u.has_scheme && g->base_url == NULL)
		return gopher_link_info(r, l);
	buf_reset(&r->sel);
	if (buf_puts(&r->sel, "URL:") == -1 ||
	    gemtext_url_resolve(&r->sel, u.has_scheme ? NULL : g->base_url,
	    l->url, l->urllen) == -1)
		return -1;
	rc = gopher_item(r->out, 'h', r->san.data, r->san.len, r->sel.data,
	    r->sel.len, g->host, g->port);
	return rc == 1 ? gopher_link_info(r, l) : rc;
}

/* the page's plain-text selector: a.gmi -> a.txt, dir/ -> dir/index.txt */
static int
gopher_txt_selector(struct buf *sel, const char *page)
{
	size_t n = strlen(page);

	buf_reset(sel);
	if (n >= 4 && strcmp(page + n - 4, ".gmi") == 0)
		n -= 4;
	else if (n >= 7 && strcmp(page + n - 7, ".gemini") == 0)
		n -= 7;
	if (buf_append(sel, page, n) == -1)
		return -1;
	return buf_puts(sel, n > 0 && page[n - 1] == '/' ? "index.txt" :
	    ".txt");
}

int
gemtext_to_gopher(struct buf *out, const char *doc, size_t len,
    const struct gemtext_gopher *g)
{
	struct gemtext_iter it;
	struct gemtext_line l;
	struct render r;
	size_t start = out->len;
	int rc = 0, err;

	render_init(&r, out, 1);
	gemtext_iter_init(&it, doc, len);
	while (rc == 0 && gemtext_next(&it, &l))
		rc = l.type == GEMTEXT_LINK ? gopher_link(&r, &l, g) :
		    render_line(&r, &l);
	if (rc == 0)
		rc = gopher_info(out, "", 0);
	if (rc == 0)
		rc = gopher_txt_selector(&r.sel, g->page ? g->page : "/");
	if (rc == 0 && gopher_item(out, '0', "plain text", 10, r.sel.data,
	    r.sel.len, g->host, g->port) == -1)
		rc = -1;
	if (rc == 0)
		rc = gopher_menu_end(out);
	err = errno;
	render_free(&r);
	if (rc == -1) {
		buf_truncate(out, start);
		errno = err;
	}
	return rc;
}

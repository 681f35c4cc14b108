/* the readable text of a mail body; whole-word phrase matching. pure: no i/o.
 * the body flows through four stages, each a small state machine that
 * keeps its place between chunks:
 *   lines     (mb_feed_byte, mb_line): boundaries and part headers
 *   transfer  (mb_cte): quoted-printable, base64, or as it is
 *   charset   (mb_cs): bytes to whole utf-8 characters
 *   text      (mb_char): html reduced to text, or plain text as it is,
 *             appended (mb_put) while there is room */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "hex.h"
#include "mailbody.h"

enum {
	MB_SKIP,	/* a part that does not count, or the end */
	MB_HEADERS,	/* a part's header */
	MB_PREAMBLE,	/* before a multipart's first boundary */
	MB_TEXT		/* a text part's content */
};
enum { CTE_IDENT, CTE_QP, CTE_B64 };
enum { CS_UTF8, CS_CP1252, CS_ICONV };
enum { H_TEXT, H_OPEN, H_BANG, H_TAG, H_COMMENT, H_ENTITY, H_RAW };

static void	mb_char(struct mailbody *, const char *, size_t);

/* windows-1252's 0x80 to 0x9f as unicode; 0 where it has nothing */
static const unsigned short cp1252[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178
};

/* the html inline elements: no word break where they start or end */
static const char *const inline_tags[] = {
	"a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "del",
	"dfn", "em", "font", "i", "ins", "kbd", "mark", "q", "s", "samp",
	"small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u",
	"var", "wbr"
};

static const struct { const char *name; unsigned int cp; } entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "nbsp", ' ' }, { "ndash", 0x2013 },
	{ "mdash", 0x2014 }, { "lsquo", 0x2018 }, { "rsquo", 0x2019 },
	{ "ldquo", 0x201c }, { "rdquo", 0x201d }, { "hellip", 0x2026 },
	{ "bull", 0x2022 }, { "middot", 0xb7 }, { "copy", 0xa9 },
	{ "reg", 0xae }, { "trade", 0x2122 }, { "pound", 0xa3 },
	{ "euro", 0x20ac }, { "aacute", 0xe1 }, { "agrave", 0xe0 },
	{ "acirc", 0xe2 }, { "auml", 0xe4 }, { "ccedil", 0xe7 },
	{ "eacute", 0xe9 }, { "egrave", 0xe8 }, { "ecirc", 0xea },
	{ "euml", 0xeb }, { "iacute", 0xed }, { "iuml", 0xef },
	{ "ntilde", 0xf1 }, { "oacute", 0xf3 }, { "ouml", 0xf6 },
	{ "uacute", 0xfa }, { "uuml", 0xfc }, { "szlig", 0xdf },
	{ "Eacute", 0xc9 }
};

static size_t
cp_utf8(unsigned int cp, char *s)
{
	if (cp < 0x80) {
		s[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		s[0] = (char)(0xc0 | (cp >> 6));
		s[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		cp = 0xfffd;
	if (cp < 0x10000) {
		s[0] = (char)(0xe0 | (cp >> 12));
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp > 0x10ffff)
		return cp_utf8(0xfffd, s);
	s[0] = (char)(0xf0 | (cp >> 18));
	s[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	s[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	s[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* the code point at *p, which moves past it; an invalid byte is one
 * unit of its own, returned as 0xfffd */
static unsigned int
u8_next(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	unsigned int cp;
	size_t len, i;

	if (p[0] < 0x80) {
		*pp = p + 1;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		goto bad;
	if ((size_t)(end - p) < len)
		goto bad;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			goto bad;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		goto bad;
	*pp = p + len;
	return cp;
bad:
	*pp = p + 1;
	return 0xfffd;
}

/* 4. the text: appended whole characters at a time, white space runs
 * kept as one */
static void
mb_put(struct mailbody *mb, const char *s, size_t n)
{
	char c = s[0];

	if (mb->full)
		return;
	if (n == 1 && ((unsigned char)c < 0x20 || c == 0x7f || c == ' ')) {
		c = c == '\n' ? '\n' : ' ';
		if (mb->textlen == 0 || mb->text[mb->textlen - 1] == ' ' ||
		    mb->text[mb->textlen - 1] == '\n') {
			if (c == '\n' && mb->textlen > 0)
				mb->text[mb->textlen - 1] = '\n';
			return;
		}
		s = &c;
	}
	if (mb->textlen + n > MAILBODY_TEXT_MAX) {
		mb->full = 1;
		return;
	}
	memcpy(mb->text + mb->textlen, s, n);
	mb->textlen += n;
	mb->text[mb->textlen] = '\0';
}

static void
mb_put_cp(struct mailbody *mb, unsigned int cp)
{
	char s[4];

	if (cp == 0 || (cp >= 0x80 && cp < 0xa0))
		cp = ' ';
	mb_put(mb, s, cp_utf8(cp, s));
}

static int
is_inline(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(inline_tags) / sizeof(inline_tags[0]); i++)
		if (strcmp(name, inline_tags[i]) == 0)
			return 1;
	return 0;
}

/* "&name;" or "&#N;" or "&#xN;": decoded, or as it was */
static void
mb_entity(struct mailbody *mb, int terminated)
{
	const char *e = mb->h_ent;
	unsigned long cp = 0;
	size_t i;
	char *end;

	if (terminated && e[0] == '#') {
		/* only digits follow: the name holds letters and digits */
		i = e[1] == 'x' || e[1] == 'X' ? 2 : 1;
		errno = 0;
		if (e[i] != '\0')
			cp = strtoul(e + i, &end, i == 2 ? 16 : 10);
		if (e[i] != '\0' && *end == '\0' && errno == 0 &&
		    cp <= 0x10ffff) {
			mb_put_cp(mb, cp < 0x20 ? ' ' : (unsigned int)cp);
			return;
		}
	} else if (terminated) {
		for (i = 0; i < sizeof(entities) / sizeof(entities[0]); i++)
			if (strcmp(e, entities[i].name) == 0) {
				mb_put_cp(mb, entities[i].cp);
				return;
			}
	}
	mb_put(mb, "&", 1);
	for (i = 0; e[i]; i++)
		mb_put(mb, e + i, 1);
	if (terminated)
		mb_put(mb, ";", 1);
}

/* a tag ended at '>': script, style and title (no part of the text a
 * reader sees) hide what follows; other tags but inline ones break words */
static void
mb_tag_end(struct mailbody *mb)
{
	mb->h_state = H_TEXT;
	if (!mb->h_closing && (strcmp(mb->h_name, "script") == 0 ||
	    strcmp(mb->h_name, "style") == 0 ||
	    strcmp(mb->h_name, "title") == 0)) {
		mb->h_state = H_RAW;
		mb->h_rawmatch = 0;
		return;
	}
	if (!is_inline(mb->h_name))
		mb_put(mb, " ", 1);
}

/* html, one character at a time; only ascii ones steer it */
static void
mb_html(struct mailbody *mb, const char *s, size_t n)
{
	char c = n == 1 ? s[0] : 'x';	/* any other character: a letter */
	char target[16];

again:
	switch (mb->h_state) {
	case H_TEXT:
		if (c == '<' && n == 1) {
			mb->h_state = H_OPEN;
			mb->h_closing = 0;
			mb->h_namelen = 0;
			mb->h_name[0] = '\0';
		} else if (c == '&' && n == 1) {
			mb->h_state = H_ENTITY;
			mb->h_entlen = 0;
			mb->h_ent[0] = '\0';
		} else
			mb_put(mb, s, n);
		return;
	case H_OPEN:
		/* 1. "<" then a name, "/name" or "!": a tag; else text */
		if (n == 1 && isalnum((unsigned char)c)) {
			if (mb->h_namelen + 1 < sizeof(mb->h_name)) {
				mb->h_name[mb->h_namelen++] =
				    (char)tolower((unsigned char)c);
				mb->h_name[mb->h_namelen] = '\0';
			}
			return;
		}
		if (mb->h_namelen == 0 && !mb->h_closing) {
			if (c == '/' && n == 1) {
				mb->h_closing = 1;
				return;
			}
			if (c == '!' && n == 1) {
				mb->h_state = H_BANG;
				mb->h_dash = 0;
				return;
			}
			if (c == '?' && n == 1) {
				mb->h_state = H_TAG;
				mb->h_quote = 0;
				return;
			}
			mb->h_state = H_TEXT;
			mb_put(mb, "<", 1);
			goto again;
		}
		mb->h_state = H_TAG;
		mb->h_quote = 0;
		goto again;
	case H_BANG:
		/* 2. "<!--" opens a comment; "<!DOCTYPE ...>" is a tag */
		if (c == '-' && n == 1 && ++mb->h_dash == 2) {
			mb->h_state = H_COMMENT;
			mb->h_dash = 0;
		} else if (c != '-' || n != 1) {
			mb->h_state = H_TAG;
			mb->h_quote = 0;
			goto again;
		}
		return;
	case H_TAG:
		/* 3. attributes, quoted values may hold '>' */
		if (n != 1)
			return;
		if (mb->h_quote) {
			if (c == mb->h_quote)
				mb->h_quote = 0;
		} else if (c == '"' || c == '\'')
			mb->h_quote = c;
		else if (c == '>')
			mb_tag_end(mb);
		return;
	case H_COMMENT:
		if (c == '>' && n == 1 && mb->h_dash >= 2)
			mb->h_state = H_TEXT;
		else if (c == '-' && n == 1)
			mb->h_dash++;
		else
			mb->h_dash = 0;
		return;
	case H_ENTITY:
		if (c == ';' && n == 1) {
			mb->h_state = H_TEXT;
			mb_entity(mb, 1);
			return;
		}
		if (n == 1 && (isalnum((unsigned char)c) || (c == '#' &&
		    mb->h_entlen == 0)) && mb->h_entlen + 1 <
		    sizeof(mb->h_ent)) {
			mb->h_ent[mb->h_entlen++] = c;
			mb->h_ent[mb->h_entlen] = '\0';
			return;
		}
		mb->h_state = H_TEXT;
		mb_entity(mb, 0);
		goto again;
	case H_RAW:
		/* 4. script, style, title: nothing until their closing tag */
		if (strlen(mb->h_name) + 2 >= sizeof(target))
			return;
		target[0] = '<';
		target[1] = '/';
		strcpy(target + 2, mb->h_name);
		if (n == 1 && tolower((unsigned char)c) ==
		    target[mb->h_rawmatch])
			mb->h_rawmatch++;
		else
			mb->h_rawmatch = c == '<' && n == 1;
		if (target[mb->h_rawmatch] == '\0') {
			mb->h_state = H_TAG;
			mb->h_closing = 1;
			mb->h_quote = 0;
		}
		return;
	}
}

static void
mb_char(struct mailbody *mb, const char *s, size_t n)
{
	if (mb->html)
		mb_html(mb, s, n);
	else
		mb_put(mb, s, n);
}

static void
mb_char_cp(struct mailbody *mb, unsigned int cp)
{
	char s[4];

	mb_char(mb, s, cp_utf8(cp, s));
}

/* a byte that is not utf-8, read as windows-1252 (what most mislabelled
 * mail is) */
static void
mb_cp1252(struct mailbody *mb, unsigned char c)
{
	unsigned int cp = c;

	if (c >= 0x80 && c < 0xa0)
		cp = cp1252[c - 0x80] ? cp1252[c - 0x80] : '?';
	mb_char_cp(mb, cp);
}

/* the pending utf-8 sequence is not one: each byte as windows-1252 */
static void
mb_u8_flush(struct mailbody *mb)
{
	size_t i;

	for (i = 0; i < mb->npend; i++)
		mb_cp1252(mb, mb->pend[i]);
	mb->npend = 0;
	mb->u8need = 0;
}

static void
mb_iconv_run(struct mailbody *mb, int final)
{
	char out[256], *in = (char *)mb->pend, *op;
	size_t inleft = mb->npend, outleft, r;
	const unsigned char *p, *e;

	while (inleft > 0) {
		op = out;
		outleft = sizeof(out);
		r = iconv((iconv_t)mb->cd, &in, &inleft, &op, &outleft);
		/* iconv writes utf-8; read it back as characters */
		for (p = (unsigned char *)out, e = (unsigned char *)op; p < e;)
			mb_char_cp(mb, u8_next(&p, e));
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		if (errno == EINVAL && !final)
			break;	/* an incomplete sequence waits for more */
		in++;
		inleft--;
		mb_char(mb, "?", 1);
	}
	memmove(mb->pend, in, inleft);
	mb->npend = inleft;
}

/* 3. the charset: bytes in, whole characters out */
static void
mb_cs(struct mailbody *mb, unsigned char c)
{
	const unsigned char *p;

	if (mb->cs_kind == CS_CP1252) {
		mb_cp1252(mb, c);
		return;
	}
	if (mb->cs_kind == CS_ICONV) {
		/* converted a buffer at a time; a sequence that never
		 * completes is given up */
		if (mb->npend == sizeof(mb->pend))
			mb_iconv_run(mb, 0);
		if (mb->npend == sizeof(mb->pend))
			mb_iconv_run(mb, 1);
		mb->pend[mb->npend++] = c;
		return;
	}
	if (mb->npend == 0) {
		if (c < 0x80) {
			mb_char(mb, (const char *)&c, 1);
			return;
		}
		mb->u8need = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 &&
		    c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (mb->u8need == 0) {
			mb_cp1252(mb, c);
			return;
		}
		mb->pend[mb->npend++] = c;
		return;
	}
	if ((c & 0xc0) != 0x80) {
		mb_u8_flush(mb);
		mb_cs(mb, c);
		return;
	}
	mb->pend[mb->npend++] = c;
	if (mb->npend < mb->u8need)
		return;
	p = mb->pend;
	u8_next(&p, mb->pend + mb->npend);
	if (p != mb->pend + mb->npend) {	/* overlong, surrogate */
		mb_u8_flush(mb);
		return;
	}
	mb_char(mb, (const char *)mb->pend, mb->npend);
	mb->npend = 0;
	mb->u8need = 0;
}

/* 2. the transfer encoding, undone a byte at a time */
static void
mb_cte(struct mailbody *mb, const char *s, size_t n)
{
	size_t i;
	int c, v;

	for (i = 0; i < n && !mb->full; i++) {
		c = (unsigned char)s[i];
		switch (mb->cte_kind) {
		case CTE_B64:
			if (c == '=') {
				mb->b64_bits = 0;	/* padding: realign */
				break;
			}
			if ((v = base64_value(c)) < 0)
				break;
			mb->b64_acc = (mb->b64_acc << 6) | (unsigned int)v;
			mb->b64_bits += 6;
			if (mb->b64_bits >= 8) {
				mb->b64_bits -= 8;
				mb_cs(mb, (unsigned char)(mb->b64_acc >>
				    mb->b64_bits));
			}
			break;
		case CTE_QP:
			if (mb->qp_state == 0) {
				if (c == '=')
					mb->qp_state = 1;
				else if (c != '\r')
					mb_cs(mb, (unsigned char)c);
			} else if (mb->qp_state == 1) {
				if (hex_value(c) >= 0) {
					mb->qp_hi = c;
					mb->qp_state = 2;
				} else if (c == '\n')
					mb->qp_state = 0;  /* soft break */
				else if (c != '\r' && c != ' ' && c != '\t') {
					mb_cs(mb, '=');	/* not an escape */
					mb_cs(mb, (unsigned char)c);
					mb->qp_state = 0;
				}
			} else {
				mb->qp_state = 0;
				if ((v = hex_value(c)) >= 0)
					mb_cs(mb, (unsigned char)
					    (hex_value(mb->qp_hi) * 16 + v));
				else {
					mb_cs(mb, '=');
					mb_cs(mb, (unsigned char)mb->qp_hi);
					i--;	/* c again, as text */
				}
			}
			break;
		default:
			if (c != '\r')
				mb_cs(mb, (unsigned char)c);
		}
	}
}

/* a header parameter value: token or quoted string; "" when absent */
static void
param(const char *v, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name), o = 0;
	const char *p = v;
	int q;

	out[0] = '\0';
	while ((p = strchr(p, ';')) != NULL) {
		p++;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (strncasecmp(p, name, nl) != 0)
			continue;
		p += nl;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=')
			continue;
		p++;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		q = *p == '"';
		for (p += q; *p; p++) {
			if (q && *p == '\\' && p[1])
				p++;
			else if (q ? *p == '"' : (*p == ';' || *p == ' ' ||
			    *p == '\t' || *p == '\r' || *p == '\n' ||
			    *p == '('))
				break;
			if (o + 1 >= outsz) {
				out[0] = '\0';	/* cut short: no value */
				return;
			}
			out[o++] = *p;
		}
		out[o] = '\0';
		return;
	}
}

/* the first token, lower case: "Text/HTML; charset=x" -> "text/html" */
static void
token(const char *v, char *out, size_t outsz)
{
	size_t o = 0;

	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	while (*v && *v != ';' && *v != ' ' && *v != '\t' && *v != '\r' &&
	    *v != '\n' && *v != '(' && o + 1 < outsz)
		out[o++] = (char)tolower((unsigned char)*v++);
	out[o] = '\0';
}

static void
mb_part_reset(struct mailbody *mb)
{
	mb->ctype[0] = mb->charset[0] = mb->bound[0] = mb->cte[0] = '\0';
	mb->attachment = 0;
	mb->fieldlen = 0;
}

/* one field of a part's header, unfolded or not */
static void
mb_field(struct mailbody *mb)
{
	char *f = mb->field, *v, disp[32];

	f[mb->fieldlen] = '\0';
	mb->fieldlen = 0;
	if ((v = strchr(f, ':')) == NULL)
		return;
	*v++ = '\0';
	if (strcasecmp(f, "Content-Type") == 0) {
		token(v, mb->ctype, sizeof(mb->ctype));
		param(v, "charset", mb->charset, sizeof(mb->charset));
		param(v, "boundary", mb->bound, sizeof(mb->bound));
	} else if (strcasecmp(f, "Content-Transfer-Encoding") == 0) {
		token(v, mb->cte, sizeof(mb->cte));
	} else if (strcasecmp(f, "Content-Disposition") == 0) {
		token(v, disp, sizeof(disp));
		mb->attachment = strcmp(disp, "attachment") == 0;
	}
}

/* what waits in the text part's stages is text after all */
static void
mb_flush(struct mailbody *mb)
{
	if (mb->state != MB_TEXT)
		return;
	if (mb->cs_kind == CS_ICONV)
		mb_iconv_run(mb, 1);
	else if (mb->npend)
		mb_u8_flush(mb);
	if (mb->html && mb->h_state == H_ENTITY) {
		mb->h_state = H_TEXT;
		mb_entity(mb, 0);
	}
}

static void
mb_part_end(struct mailbody *mb)
{
	mb_flush(mb);
	if (mb->cd != NULL) {
		iconv_close((iconv_t)mb->cd);
		mb->cd = NULL;
	}
	mb->npend = 0;
	mb->state = MB_SKIP;
}

static int
charset_is(const char *cs, const char *const *names)
{
	for (; *names; names++)
		if (strcasecmp(cs, *names) == 0)
			return 1;
	return 0;
}

/* the part's header is read: what it is decides what is done with it */
static void
mb_part_begin(struct mailbody *mb)
{
	static const char *const utf8[] = { "", "utf-8", "utf8", "us-ascii",
	    "ascii", "ansi_x3.4-1968", NULL };
	static const char *const cp1252_names[] = { "iso-8859-1", "latin1",
	    "iso8859-1", "iso_8859-1", "l1", "windows-1252", "cp1252",
	    "x-cp1252", NULL };
	int indigest = mb->depth > 0 && mb->digest[mb->depth - 1];
	iconv_t cd;

	/* 1. rfc 2045: no type is text/plain (in a digest message/rfc822) */
	if (mb->ctype[0] == '\0' && !indigest)
		strcpy(mb->ctype, "text/plain");
	mb->state = MB_SKIP;
	if (strncmp(mb->ctype, "multipart/", 10) == 0) {
		/* 2. a multipart with a usable boundary opens a level */
		if (mb->bound[0] == '\0' || mb->depth == MAILBODY_DEPTH_MAX)
			return;
		strcpy(mb->boundary[mb->depth], mb->bound);
		mb->digest[mb->depth] = strcmp(mb->ctype,
		    "multipart/digest") == 0;
		mb->depth++;
		mb->state = MB_PREAMBLE;
		return;
	}
	/* 3. text that a person wrote: plain or html, not attached */
	if ((strcmp(mb->ctype, "text/plain") != 0 &&
	    strcmp(mb->ctype, "text/html") != 0) || mb->attachment)
		return;
	mb->state = MB_TEXT;
	mb->html = strcmp(mb->ctype, "text/html") == 0;
	mb->h_state = H_TEXT;
	mb->cte_kind = strcasecmp(mb->cte, "quoted-printable") == 0 ?
	    CTE_QP : strcasecmp(mb->cte, "base64") == 0 ? CTE_B64 :
	    CTE_IDENT;
	mb->qp_state = 0;
	mb->b64_acc = 0;
	mb->b64_bits = 0;
	mb->npend = 0;
	mb->u8need = 0;
	mb->cs_kind = CS_UTF8;
	if (charset_is(mb->charset, cp1252_names))
		mb->cs_kind = CS_CP1252;
	else if (!charset_is(mb->charset, utf8) &&
	    (cd = iconv_open("UTF-8", mb->charset)) != (iconv_t)-1) {
		mb->cd = cd;
		mb->cs_kind = CS_ICONV;
	}	/* an unknown charset: read as utf-8, what is not as 1252 */
	if (mb->textlen > 0)
		mb_put(mb, "\n", 1);
}

/* the line at the start of l (n bytes, its "\n" included when it has
 * one) a boundary? 1 delimiter, 2 close delimiter, its level in *level */
static int
mb_boundary(const struct mailbody *mb, const char *l, size_t n, int *level)
{
	size_t bl, i;
	int d, close;

	if (n < 3 || l[0] != '-' || l[1] != '-')
		return 0;
	/* the innermost first: an outer boundary closes inner levels too */
	for (d = mb->depth - 1; d >= 0; d--) {
		bl = strlen(mb->boundary[d]);
		if (n < 2 + bl || memcmp(l + 2, mb->boundary[d], bl) != 0)
			continue;
		i = 2 + bl;
		close = n >= i + 2 && l[i] == '-' && l[i + 1] == '-';
		if (close)
			i += 2;
		for (; i < n; i++)
			if (l[i] != ' ' && l[i] != '\t' && l[i] != '\r' &&
			    l[i] != '\n')
				break;
		if (i == n) {
			*level = d;
			return close ? 2 : 1;
		}
	}
	return 0;
}

/* 1. a line, or a piece of a long one (start: it begins a line) */
static void
mb_line(struct mailbody *mb, const char *l, size_t n, int start)
{
	int kind, level;

	if (start && mb->depth > 0 &&
	    (kind = mb_boundary(mb, l, n, &level)) != 0) {
		if (mb->state == MB_HEADERS)
			mb_field(mb);
		mb_part_end(mb);
		if (kind == 2) {
			/* the epilogue of that level is skipped */
			mb->depth = level;
			mb->state = MB_SKIP;
		} else {
			mb->depth = level + 1;
			mb->state = MB_HEADERS;
			mb_part_reset(mb);
		}
		return;
	}
	switch (mb->state) {
	case MB_HEADERS:
		if (start && (n == 1 || (n == 2 && l[0] == '\r')) &&
		    l[n - 1] == '\n') {
			if (mb->fieldlen)
				mb_field(mb);
			mb_part_begin(mb);
			return;
		}
		if (start && l[0] != ' ' && l[0] != '\t' && mb->fieldlen)
			mb_field(mb);
		if (mb->fieldlen + n >= sizeof(mb->field))
			n = sizeof(mb->field) - 1 - mb->fieldlen;
		memcpy(mb->field + mb->fieldlen, l, n);
		mb->fieldlen += n;
		return;
	case MB_TEXT:
		mb_cte(mb, l, n);
		return;
	default:
		return;
	}
}

void
mailbody_init(struct mailbody *mb, const char *content_type,
    const char *transfer_encoding)
{
	memset(mb, 0, sizeof(*mb));
	mb->cd = NULL;
	if (content_type != NULL) {
		token(content_type, mb->ctype, sizeof(mb->ctype));
		param(content_type, "charset", mb->charset,
		    sizeof(mb->charset));
		param(content_type, "boundary", mb->bound, sizeof(mb->bound));
	}
	if (transfer_encoding != NULL)
		token(transfer_encoding, mb->cte, sizeof(mb->cte));
	mb_part_begin(mb);
}

void
mailbody_feed(struct mailbody *mb, const char *chunk, size_t len)
{
	size_t i;

	for (i = 0; i < len && !mb->full; i++) {
		mb->line[mb->linelen++] = chunk[i];
		if (chunk[i] == '\n') {
			mb_line(mb, mb->line, mb->linelen, !mb->midline);
			mb->linelen = 0;
			mb->midline = 0;
		} else if (mb->linelen == sizeof(mb->line)) {
			/* too long for a boundary: handed on in pieces */
			mb_line(mb, mb->line, mb->linelen, !mb->midline);
			mb->linelen = 0;
			mb->midline = 1;
		}
	}
}

const char *
mailbody_text(struct mailbody *mb, size_t *len)
{
	/* a last line without its newline is read too, once */
	if (mb->linelen > 0) {
		mb_line(mb, mb->line, mb->linelen, !mb->midline);
		mb->linelen = 0;
		mb->midline = 1;
	}
	mb_flush(mb);
	mb->text[mb->textlen] = '\0';
	if (len)
		*len = mb->textlen;
	return mb->text;
}

void
mailbody_free(struct mailbody *mb)
{
	if (mb->cd != NULL) {
		iconv_close((iconv_t)mb->cd);
		mb->cd = NULL;
	}
}

/* letters and digits: ascii ones, and any other character outside the
 * punctuation, symbol and space blocks */
static int
is_word(unsigned int cp)
{
	if (cp < 0x80)
		return isalnum((int)cp) != 0;
	if (cp < 0xc0)
		return cp == 0xaa || cp == 0xb5 || cp == 0xba;
	return !(cp == 0xd7 || cp == 0xf7 || cp == 0xfffd ||
	    (cp >= 0x2000 && cp <= 0x2bff) ||	/* punctuation, symbols */
	    (cp >= 0x3000 && cp <= 0x303f) ||	/* cjk punctuation */
	    (cp >= 0xfe30 && cp <= 0xfe4f) || cp == 0xfeff ||
	    (cp >= 0xff00 && cp <= 0xff0f) ||
	    (cp >= 0x1f000 && cp <= 0x1faff));	/* emoji */
}

/* simple case folding: ascii, latin-1, greek and cyrillic capitals */
static unsigned int
fold(unsigned int cp)
{
	if (cp >= 'A' && cp <= 'Z')
		return cp + 32;
	if ((cp >= 0xc0 && cp <= 0xde && cp != 0xd7) ||
	    (cp >= 0x391 && cp <= 0x3ab && cp != 0x3a2) ||
	    (cp >= 0x410 && cp <= 0x42f))
		return cp + 32;
	if (cp >= 0x400 && cp <= 0x40f)
		return cp + 80;
	return cp;
}

static unsigned int
peek(const unsigned char *p, const unsigned char *end)
{
	return u8_next(&p, end);
}

/* the phrase's words from a, a word start in the text */
static int
match_at(const unsigned char *a, const unsigned char *ae,
    const unsigned char *b, const unsigned char *be)
{
	unsigned int ca, cb;

	for (;;) {
		/* 1. one word, character by character */
		while (b < be && is_word(cb = peek(b, be))) {
			if (a == ae)
				return 0;
			ca = u8_next(&a, ae);
			if (!is_word(ca) || fold(ca) != fold(cb))
				return 0;
			u8_next(&b, be);
		}
		/* 2. the text's word ends there too */
		if (a < ae && is_word(peek(a, ae)))
			return 0;
		/* 3. to the next word of each */
		while (b < be && !is_word(peek(b, be)))
			u8_next(&b, be);
		if (b == be)
			return 1;
		while (a < ae && !is_word(peek(a, ae)))
			u8_next(&a, ae);
		if (a == ae)
			return 0;
	}
}

int
mailbody_has_phrase(const char *text, size_t len, const char *phrase)
{
	const unsigned char *t = (const unsigned char *)text, *te = t + len;
	const unsigned char *b = (const unsigned char *)phrase, *s;
	const unsigned char *be = b + strlen(phrase);
	int inword = 0;

	while (b < be && !is_word(peek(b, be)))
		u8_next(&b, be);
	if (b == be)
		return 0;
	while (t < te) {
		s = t;
		if (!is_word(u8_next(&t, te))) {
			inword = 0;
			continue;
		}
		if (!inword && match_at(s, te, b, be))
			return 1;
		inword = 1;
	}
	return 0;
}

/*
 * gemtext (text/gemini): a line classifier and two renderers, to plain
 * text and to a gopher menu. pure: no i/o, bounded output in a struct buf.
 */
#ifndef GEMTEXT_H
#define GEMTEXT_H

#include <stddef.h>

struct buf;

#define GEMTEXT_TEXT_WIDTH	72	/* plain text wraps here (code points) */
#define GEMTEXT_GOPHER_WIDTH	69	/* RFC 1436: display strings under 70 */

enum gemtext_type {
	GEMTEXT_TEXT,
	GEMTEXT_LINK,		/* "=>" url [label] */
	GEMTEXT_H1,
	GEMTEXT_H2,
	GEMTEXT_H3,
	GEMTEXT_LIST,		/* "* " */
	GEMTEXT_QUOTE,		/* ">" */
	GEMTEXT_PRE_TOGGLE,	/* "```" [alt text when it opens a block] */
	GEMTEXT_PRE		/* a line inside a preformatted block */
};

/* one classified line; the pointers point into the document */
struct gemtext_line {
	enum gemtext_type	 type;
	const char		*text;	/* text, heading, item, label, alt */
	size_t			 textlen;
	const char		*url;	/* GEMTEXT_LINK only, else NULL */
	size_t			 urllen;
};

struct gemtext_iter {
	const char	*p;
	const char	*end;
	int		 pre;	/* inside a preformatted block */
};

/*
 * classify one line (no line end). pre says whether the line is inside
 * a preformatted block. text is trimmed of the line-type marker and of
 * surrounding whitespace, except for GEMTEXT_TEXT and GEMTEXT_PRE, which
 * are the line as it is. a "=>" line without a url is GEMTEXT_TEXT.
 */
void	gemtext_classify(const char *line, size_t len, int pre,
	    struct gemtext_line *);
/* walk a document line by line (LF or CRLF), tracking preformatted blocks;
 * gemtext_next returns 1 with a line, 0 at the end */
void	gemtext_iter_init(struct gemtext_iter *, const char *doc, size_t len);
int	gemtext_next(struct gemtext_iter *, struct gemtext_line *);

/* the first level-1 heading, made safe for a menu line (no control bytes,
 * valid utf-8): 0 when found, 1 when there is none, -1 on buffer failure */
int	gemtext_title(struct buf *, const char *doc, size_t len);

/* resolve ref against base (RFC 3986 5.2, dot segments removed) and
 * append the result; -1 on buffer failure */
int	gemtext_url_resolve(struct buf *, const char *base, const char *ref,
	    size_t reflen);

/*
 * plain text: level-1 and level-2 headings underlined with '=' and '-',
 * level 3 as "### ", list items "  * ", quotes "> ", text wrapped at 72
 * code points on spaces (a longer word stays whole), preformatted lines
 * verbatim and indented by four spaces (alt text dropped). each link is
 * a line "label [N]", and a "Links:" list of "[N] url" follows the text.
 * relative links are resolved against base_url (the page's own url, such
 * as "gemini://localhost/partners.gmi"); with base_url NULL they stay as
 * written. the output is valid utf-8 with no control bytes but LF and
 * the TABs of preformatted lines: invalid bytes and controls become
 * U+FFFD. on failure (-1, errno E2BIG or ENOMEM) out is as it was.
 */
int	gemtext_to_text(struct buf *out, const char *doc, size_t len,
	    const char *base_url);

struct gemtext_gopher {
	const char	*host;		/* gopher host and port for items */
	unsigned	 port;
	const char	*page;		/* this page's selector, "/sub/a.gmi";
					 * NULL is "/" */
	const char	*base_url;	/* this page's gemini url, or NULL */
	/* names this capsule answers to ({"localhost", "::1", NULL}, or
	 * NULL): gemini:// links to them become gopher items */
	const char *const *self_hosts;
	unsigned	 self_port;	/* their gemini port; 0 is 1965 */
	/* the item type for a selector inside the capsule, '\0' when there
	 * is no such file (the link becomes an info line); NULL uses
	 * gopher_type_for_path */
	char		(*item_type)(const char *selector, void *arg);
	void		*arg;
};

/*
 * a gopher menu (RFC 1436) for the page: text as wrapped info lines
 * (headings, lists, quotes and preformatted lines as in gemtext_to_text,
 * tabs expanded), links inside the capsule as real items whose selector
 * is the absolute path, percent-decoded, resolved from the page's
 * directory (query and fragment dropped), other links as 'h' items with
 * selector "URL:<absolute url>", then a type-0 "plain text" item for the
 * page's .txt selector (".gmi"/".gemini" replaced, or "index.txt" after
 * a trailing slash), and ".\r\n". no field ever holds a TAB, CR or LF.
 */
int	gemtext_to_gopher(struct buf *out, const char *doc, size_t len,
	    const struct gemtext_gopher *);

/*
 * plain text for a gopher reader (type 0): gemtext_to_text with g's
 * base_url, except that a link to a page of this capsule is listed as the
 * gopher url of the item gemtext_to_gopher gives it,
 * "[N] gopher://host:port/1/partners.gmi", so a gopher client can follow
 * it; links elsewhere keep their absolute url.
 */
int	gemtext_to_gopher_text(struct buf *out, const char *doc, size_t len,
	    const struct gemtext_gopher *);

#endif

/*
 * the plain-text protocols' pure parts: gopher (RFC 1436) and finger
 * (RFC 1288) request parsing and response framing. no i/o: the listeners
 * read the request line, call these, and write the buffer.
 *
 * gopher selectors are raw paths inside the capsule ("/partners.gmi",
 * "/sub/"): they are not percent-decoded, and gemtext_to_gopher writes
 * them the same way.
 */
#ifndef PLAINTEXT_H
#define PLAINTEXT_H

#include <stddef.h>

struct buf;

#define GOPHER_SELECTOR_MAX	255	/* RFC 1436, appendix: "no longer than 255" */
#define GOPHER_LINE_MAX		1024	/* selector, tab, search terms or gopher+ */
#define FINGER_LINE_MAX		512
#define FINGER_NAME_MAX		64

enum gopher_sel {
	GOPHER_SEL_OK,		/* path holds "/..." to resolve under the root */
	GOPHER_SEL_URL,		/* "URL:..." selector: path holds the url */
	GOPHER_SEL_NEED_MORE,	/* no line end yet: read more */
	GOPHER_SEL_TOO_LONG,	/* selector over 255 bytes or line over 1024 */
	GOPHER_SEL_BAD		/* NUL or another control byte */
};

/*
 * parse the request bytes read so far. the line ends at LF (CRLF or a bare
 * LF from netcat); anything after a TAB (search terms, gopher+) is ignored.
 * an empty selector is "/", and "/" is prefixed when missing. on
 * GOPHER_SEL_OK or GOPHER_SEL_URL, path is NUL-terminated; pathsz must be
 * at least GOPHER_SELECTOR_MAX + 2.
 */
enum gopher_sel	gopher_selector_parse(const char *req, size_t len, char *path,
		    size_t pathsz);

/* item types for a mime type ("text/gemini" -> '1', "image/png" -> 'I',
 * "text/plain" -> '0', unknown -> '9') or for a path by its extension
 * ("/sub/" -> '1', "/a.gmi" -> '1', "/a.txt" -> '0') */
char	gopher_type_for_mime(const char *mime);
char	gopher_type_for_path(const char *path);

/*
 * one menu line "<type><display>\t<selector>\t<host>\t<port>\r\n". tabs,
 * CR and LF in display become spaces, other control bytes '?'. a selector
 * holding a control byte or over 255 bytes is refused: returns 1 and
 * writes nothing. returns 0 when written, -1 when the buffer failed.
 */
int	gopher_item(struct buf *, char type, const char *display, size_t dlen,
	    const char *selector, size_t slen, const char *host, unsigned port);
/* "i<text>\t\t(null)\t0\r\n" */
int	gopher_info(struct buf *, const char *text, size_t len);
/* a type-3 error line and the menu end */
int	gopher_error(struct buf *, const char *msg);
/* ".\r\n" */
int	gopher_menu_end(struct buf *);
/*
 * type-0 text for the wire: LF or CRLF line ends become CRLF, a line
 * starting with '.' gets another '.', a last line without LF is ended, and
 * ".\r\n" closes it.
 */
int	gopher_text_dotstuff(struct buf *, const char *text, size_t len);
/* the small html page a "URL:" selector gets from clients that do not
 * know the convention (url without "URL:", any scheme), the url
 * html-escaped; 0, or -1 when the buffer failed */
int	gopher_url_page(struct buf *, const char *url);

enum finger_query {
	FINGER_INDEX,		/* empty query or "/W": the index page */
	FINGER_PAGE,		/* name holds a page name */
	FINGER_FORWARD,		/* "name@host", "@host": forwarding, refused */
	FINGER_NEED_MORE,	/* no line end yet */
	FINGER_TOO_LONG,	/* line over FINGER_LINE_MAX */
	FINGER_BAD		/* anything else: not a page name */
};

/*
 * parse an RFC 1288 {Q1}/{Q2} query: [/W [SP...]] [name] [@host...] CRLF
 * (a bare LF is accepted too). names are 1-64 bytes of [A-Za-z0-9._-],
 * starting with a letter or digit, so they never name a path. on
 * FINGER_PAGE name is NUL-terminated; namesz must exceed FINGER_NAME_MAX.
 */
enum finger_query finger_query_parse(const char *req, size_t len, char *name,
		    size_t namesz);

/*
 * text for a finger reply: CRLF line ends, control bytes but TAB shown as
 * '?', so nothing reaches the user's terminal that it would act on. RFC
 * 1288 has finger programs show only 7-bit ASCII by default: with ascii
 * set, typographic quotes, dashes and ellipses become their ASCII look-alikes
 * and any other non-ASCII character '?'; else valid UTF-8 is kept and
 * invalid bytes become '?'.
 */
int	finger_text(struct buf *, const char *text, size_t len, int ascii);

#endif

/* the readable text of a mail body, for keyword routing; whole-word matching.
 * fed the message's Content-Type and Content-Transfer-Encoding and then the
 * body in chunks of any size, it walks the MIME structure (multiparts by
 * boundary, nested up to MAILBODY_DEPTH_MAX), undoes quoted-printable and
 * base64, converts the charset to utf-8 (us-ascii, utf-8, iso-8859-1 and
 * windows-1252 built in, others through iconv(3)) and reduces text/html to
 * text (tags dropped, common entities decoded, script, style and title
 * dropped). only text/plain and text/html parts that are not attachments
 * count: message parts (message/rfc822, message/delivery-status),
 * text/rfc822-headers (a bounce's quoted headers), attachments and every
 * other type are read past. memory is bounded: the struct holds at most
 * MAILBODY_TEXT_MAX bytes of text; the rest is read and dropped.
 * pure: no i/o, no globals, so unit tests and fuzzers drive it directly.
 *
 * return contract: mailbody_init and mailbody_feed never fail (malformed
 * input is read as well as it can be); mailbody_text, once the body is
 * fed, gives the text: valid utf-8 without control bytes but '\n',
 * NUL-terminated (it may be called again; a line fed across it counts as
 * two); mailbody_free releases what init took (iconv descriptors) and may
 * be called twice. mailbody_has_phrase: 1 when the phrase's words occur in
 * the text as whole words, in order, separated by anything that is not a
 * word character, 0 otherwise (and for a phrase without a word character).
 * word characters are ascii letters and digits and any other character
 * outside the punctuation, symbol and space blocks; case is folded for
 * ascii and the latin-1, greek and cyrillic capitals. */
#ifndef MAILBODY_H
#define MAILBODY_H

#include <stddef.h>

#define MAILBODY_TEXT_MAX	(16 * 1024)	/* decoded text kept */
#define MAILBODY_DEPTH_MAX	8		/* nested multiparts */
#define MAILBODY_BOUNDARY_MAX	70		/* rfc 2046 5.1.1 */
#define MAILBODY_LINE_MAX	1024		/* longer lines are cut */
#define MAILBODY_FIELD_MAX	1024		/* a part's header field */

struct mailbody {
	int		 state;		/* MB_* in mailbody.c */
	int		 depth;		/* open multiparts */
	char		 boundary[MAILBODY_DEPTH_MAX][MAILBODY_BOUNDARY_MAX + 1];
	int		 digest[MAILBODY_DEPTH_MAX];	/* multipart/digest */
	/* the line being read; midline: its start was handed on already */
	char		 line[MAILBODY_LINE_MAX];
	size_t		 linelen;
	int		 midline;
	/* the part whose header is being read */
	char		 field[MAILBODY_FIELD_MAX];
	size_t		 fieldlen;
	char		 ctype[64], charset[40], bound[MAILBODY_BOUNDARY_MAX + 1];
	char		 cte[32];
	int		 attachment;
	/* the text part being decoded */
	int		 cte_kind, qp_state, qp_hi;
	unsigned int	 b64_acc;
	int		 b64_bits;
	int		 cs_kind;
	void		*cd;		/* iconv_t, or NULL */
	unsigned char	 pend[64];	/* bytes waiting for the charset */
	size_t		 npend;
	size_t		 u8need;
	int		 html, h_state, h_closing, h_quote, h_dash;
	char		 h_name[16];
	size_t		 h_namelen, h_rawmatch;
	char		 h_ent[12];
	size_t		 h_entlen;
	/* the text */
	char		 text[MAILBODY_TEXT_MAX + 1];
	size_t		 textlen;
	int		 full;
};

void	 mailbody_init(struct mailbody *, const char *content_type,
	    const char *transfer_encoding);
void	 mailbody_feed(struct mailbody *, const char *chunk, size_t len);
const char *mailbody_text(struct mailbody *, size_t *len);
void	 mailbody_free(struct mailbody *);

int	 mailbody_has_phrase(const char *text, size_t len, const char *phrase);

#endif

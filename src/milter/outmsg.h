/* outgoing mail, composed: header fields folded at white space (rfc 5322
 * 2.1.1), words from outside encoded (rfc 2047), dates, Message-IDs, and a
 * text/plain utf-8 body, quoted-printable when it needs to be. pure: no
 * i/o, no clock, no randomness (the caller gives the time and the unique
 * part of a Message-ID), so acknowledgements, list mail and digests are
 * composed the same way and unit tests drive it directly.
 *
 * the outmsg_* functions that take a struct outmsg return 0, or -1 with
 * errno E2BIG (a value too long for a header) or ENOMEM; after a -1 the
 * message is unusable and only outmsg_free may follow. lines end in CRLF. */
#ifndef OUTMSG_H
#define OUTMSG_H

#include <stddef.h>
#include <time.h>

struct outmsg {
	char	*buf;		/* the header so far, NUL-terminated */
	size_t	 len, cap;
};

void	outmsg_init(struct outmsg *);
void	outmsg_free(struct outmsg *);
/* "Name: value", folded; value is ours or already safe (no CR or LF, no
 * raw 8-bit from outside) */
int	outmsg_header(struct outmsg *, const char *name, const char *value);
/* "Name: Display <addr>", the display name (utf-8) encoded as a phrase,
 * or "Name: <addr>" when display is NULL or "" */
int	outmsg_address(struct outmsg *, const char *name, const char *display,
	    const char *addr);
/* "Name: text", text (utf-8) in encoded words where it needs them */
int	outmsg_text(struct outmsg *, const char *name, const char *text);
/* "Date: " in rfc 5322 form, in UTC */
int	outmsg_date(struct outmsg *, time_t);
/* In-Reply-To: msgid and References: the thread's references then
 * msgid (as many of the last as fit in 900 bytes); references may be
 * NULL. nothing when msgid is NULL or "" */
int	outmsg_reply(struct outmsg *, const char *msgid,
	    const char *references);
/* MIME-Version, Content-Type text/plain utf-8, Content-Transfer-Encoding
 * (7bit, or quoted-printable when the text needs it), a blank line and
 * the text (utf-8, LF or CRLF lines), ending in CRLF. the whole message,
 * malloc'd, its length in *len; the outmsg is spent (freed) either way.
 * NULL with errno on failure */
char	*outmsg_finish(struct outmsg *, const char *text, size_t textlen,
	    size_t *len);

/* an rfc 5322 date, whatever the locale: "Wed, 2 Dec 2026 08:49:24 +0000" */
void	outmsg_date_rfc(time_t, char *buf, size_t bufsz);
/* "<tag.unique@host>"; -1 (E2BIG) when it does not fit in buf */
int	outmsg_msgid(char *buf, size_t bufsz, const char *tag,
	    const char *unique, const char *host);

#endif

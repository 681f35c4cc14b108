/* mail header helpers: parsing, addresses, rfc 2047, the rfc 3834 classifier.
 * pure: no i/o, no globals, so unit tests and fuzzers drive it directly */
#ifndef MAILHDR_H
#define MAILHDR_H

#include <stddef.h>

#define MAILHDR_ADDR_MAX	320	/* rfc 5321: 64 + 1 + 255 */
#define MAILHDR_NAME_MAX	256
#define MAILHDR_VALUE_MAX	1024
#define MAILHDR_MSGID_MAX	256
#define MAILHDR_AR_MAX		8	/* Authentication-Results noted */
#define MAILHDR_XLOOP_MAX	4	/* X-Loop addresses noted */

/* what the milter notes from the header of one message */
struct mailhdr_info {
	char	from_addr[MAILHDR_ADDR_MAX];	/* From: mailbox, lower case */
	char	from_name[MAILHDR_NAME_MAX];	/* display name, utf-8, clean */
	char	subject_raw[MAILHDR_VALUE_MAX];	/* as received */
	char	subject[MAILHDR_VALUE_MAX];	/* decoded utf-8, one line */
	char	message_id[MAILHDR_MSGID_MAX];	/* <...> */
	char	references[MAILHDR_VALUE_MAX];	/* msg-ids, space separated */
	char	auto_submitted[64];
	char	precedence[64];
	char	content_type[128];		/* media type, lower case */
	char	xars[128];			/* X-Auto-Response-Suppress */
	char	enquiry_ref[64];		/* X-Enquiry-Reference seen */
	int	has_subject;
	int	has_auto_submitted;
	int	has_list;			/* any List-* field */
	int	n_xref;				/* X-Enquiry-Reference count */
	int	n_xcat;				/* X-Enquiry-Category count */
	int	truncated;			/* a noted value was too long */
	int	subject_cut;			/* subject_raw is cut short */
	/* the message's own mime fields, as received, for src/mailbody.c */
	char	mime_type[MAILHDR_VALUE_MAX];	/* Content-Type */
	char	mime_cte[64];			/* Content-Transfer-Encoding */
	int	has_autoreply;			/* X-Autoreply, X-Autorespond */
	/* Authentication-Results (rfc 8601): each one's authserv-id and
	 * whether it says spf=fail or dmarc=fail; the topmost
	 * Received-SPF's result (rfc 7208 9.1) */
	struct {
		char	id[128];
		int	fail;
	}	ar[MAILHDR_AR_MAX];
	int	n_ar;
	char	received_spf[16];		/* lower case, "" = none */
	/* X-Loop addresses (rfc 3834 5's loop marker, as list managers
	 * and auto-responders add it), lower case; the first few */
	char	x_loop[MAILHDR_XLOOP_MAX][MAILHDR_ADDR_MAX];
	int	n_xloop;
};

/* why no acknowledgement goes out; MAILHDR_ACK means one may */
enum mailhdr_noack {
	MAILHDR_ACK = 0,
	MAILHDR_NOACK_NULL_SENDER,
	MAILHDR_NOACK_ROLE_SENDER,	/* mailer-daemon, owner-, noreply... */
	MAILHDR_NOACK_AUTO_SUBMITTED,
	MAILHDR_NOACK_PRECEDENCE,
	MAILHDR_NOACK_LIST,
	MAILHDR_NOACK_SUPPRESS,		/* X-Auto-Response-Suppress */
	MAILHDR_NOACK_REPORT,		/* multipart/report */
	MAILHDR_NOACK_OWN_ADDRESS,
	MAILHDR_NOACK_INTERVAL,		/* decided by the caller */
	MAILHDR_NOACK_DUPLICATE,	/* decided by the caller */
	MAILHDR_NOACK_AUTH_FAIL,	/* mailhdr_auth_failed */
	MAILHDR_NOACK_RATE,		/* auto-reply-limit, by the caller */
	MAILHDR_NOACK_LOOP,		/* X-Loop names one of ours */
	MAILHDR_NOACK_MAX
};

void	mailhdr_info_init(struct mailhdr_info *);
/* note one header field; name and value as libmilter hands them over */
void	mailhdr_note(struct mailhdr_info *, const char *name,
	    const char *value);

/* classify for rfc 3834; envfrom is the bare envelope sender ("" = null),
 * own the addresses that are ours (lower case) */
int	mailhdr_classify(const char *envfrom, const struct mailhdr_info *,
	    const char *const *own, size_t nown);
const char *mailhdr_noack_name(int);
/* 1 when the MTA's own checks failed the message: an
 * Authentication-Results whose authserv-id is authserv_id says spf=fail
 * or dmarc=fail, or the topmost Received-SPF (what the MTA added last)
 * says fail. 0 when authserv_id is "" (no MTA results to trust) */
int	mailhdr_auth_failed(const struct mailhdr_info *,
	    const char *authserv_id);
/* 1 when the local part names a role that must never get an auto-reply */
int	mailhdr_is_role_address(const char *addr);

/* "<a@b>" or "a@b" (envelope form) -> bare lower-case address; "" for <> */
int	mailhdr_envaddr(const char *in, char *out, size_t outsz);
/* a mailbox from a header value: display name (decoded, may be empty) and
 * bare lower-case address; the first mailbox of a list */
int	mailhdr_addr_parse(const char *in, char *addr, size_t addrsz,
	    char *name, size_t namesz);
int	mailhdr_addr_valid(const char *addr);
int	mailhdr_addr_eq(const char *a, const char *b);

/* unfold and decode rfc 2047 words into clean one-line utf-8: control
 * bytes become spaces, invalid utf-8 becomes '?'; truncation is an error */
int	mailhdr_decode(const char *in, char *out, size_t outsz);
/* encode unstructured text (a subject) for a header: printable ascii is
 * kept (unless one word is too long to fold), anything else becomes
 * utf-8 'B' encoded-words of at most 64 characters separated by fold
 * ("\r\n " in a message) */
int	mailhdr_encode_text(const char *in, const char *fold, char *out,
	    size_t outsz);
/* the same for a display name (a phrase): quoted when it has specials */
int	mailhdr_encode_phrase(const char *in, const char *fold, char *out,
	    size_t outsz);
/* fold a header value at white space so that no line passes 78
 * characters where that can be helped: a word longer than a line keeps a
 * line of its own. col is what comes before the value on its first line
 * (9 for "Subject: "), eol the line break ("\r\n" in a message, "\n" for
 * the milter library). folds the value had are undone first; a CR or LF
 * that is no fold becomes a space. -1 when out is too small */
int	mailhdr_fold(const char *in, size_t col, const char *eol, char *out,
	    size_t outsz);
/* the Subject value "TAG raw", folded with eol: raw without its leading
 * and trailing white space; when raw is cut short (cut) or does not fit
 * in out, cut at white space (inside a word only when one word is
 * longer than a line may be), never ending in a line break or a fold */
int	mailhdr_subject_tag(const char *raw, int cut, const char *tag,
	    const char *eol, char *out, size_t outsz);
/* copy only msg-id tokens "<...>" of printable ascii, space separated,
 * keeping the last ones when they do not fit */
int	mailhdr_msgids(const char *in, char *out, size_t outsz);

/* find a subject tag "[PREFIX-YYYY-N...]"; 0 and the reference when found */
int	mailhdr_find_tag(const char *subject, const char *prefix, char *ref,
	    size_t refsz);

/* quoted-printable body for text with "\n" or "\r\n" lines; output uses
 * CRLF; *needed tells whether encoding was needed at all (8-bit, long
 * lines); returns a malloc'd buffer or NULL */
char	*mailhdr_qp_encode(const char *in, size_t len, size_t *outlen,
	    int *needed);

/* make a utf-8 string safe for one line: invalid sequences -> '?', control
 * bytes -> ' ', in place */
void	mailhdr_clean(char *s);

#endif

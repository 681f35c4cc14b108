/* the daily digest for governance, composed: what is overdue, what is new
 * since the last digest and what else is open, a line per case with its
 * reference, sender (display name and address) and subject. pure: no i/o
 * and no clock (the caller gives the times and the unique part of the
 * Message-ID), composed with outmsg like acknowledgements and list mail,
 * so unit tests drive it directly. daily.c gathers the cases and spools
 * the result.
 *
 * digest_compose returns the whole message (CRLF lines, malloc'd, its
 * length in *len), or NULL with errno: 0 when there is nothing to say (no
 * case at all), else E2BIG or ENOMEM. */
#ifndef DIGEST_H
#define DIGEST_H

#include <stddef.h>
#include <time.h>

/* at most this many cases a section lists; the rest are counted */
#define DIGEST_SECTION_MAX	200

struct digest_case {
	const char	*reference;
	const char	*status;	/* new | answered | closed */
	const char	*category;	/* or NULL */
	const char	*sender;	/* address, or NULL (purged) */
	const char	*sender_name;	/* display name, or NULL */
	const char	*subject;	/* or NULL */
	long long	 opened;
	long long	 waiting_since;	/* 0 when none */
	int		 overdue;	/* status new, waiting too long */
	int		 is_new;	/* opened since the last digest */
	int		 is_open;	/* not closed */
};

struct digest_in {
	const char	*day;		/* YYYY-MM-DD, the digest's */
	const char	*from;		/* bare address */
	const char	*from_name;	/* or "" */
	const char	*to;		/* digest-to */
	const char	*loop;		/* X-Loop: an enquiry address */
	const char	*hostname;	/* for the Message-ID */
	const char	*unique;	/* its unique part */
	time_t		 now;
	long long	 since;		/* the last digest's time; 0 for the
					 * first (is_new: in the last day) */
	long long	 reply_within;	/* seconds, for the text */
	const struct digest_case *cases;
	size_t		 ncases;
};

char	*digest_compose(const struct digest_in *, size_t *len);

#endif

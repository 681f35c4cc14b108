/*
 * location blocks: which rule a request path falls under, where a redirect
 * goes, and what a client certificate is worth. pure: no i/o, no clock
 * (the caller gives the time), so unit tests and fuzzers drive it.
 *
 * a pattern is a glob on the clean path with a leading '/' (and a trailing
 * '/' for a directory asked for as one): '*' is any run of characters, '/'
 * included, '?' any one character, everything else itself. the first
 * location whose pattern matches wins. what a trailing '*' matched is
 * $path in a redirect target.
 */
#ifndef LOC_H
#define LOC_H

#include <stddef.h>

#include "request.h"

#define LOC_FP_LEN	32		/* sha-256 of a certificate's der */
#define LOC_PATTERN_MAX	256		/* bytes of a pattern */
#define LOC_SUBJECT_MAX	(REQ_MAX_URL + 3)	/* '/' path '/' nul */

struct location {
	char		*pattern;	/* "/old/" and a star */
	int		 line;		/* where it starts, for messages */
	int		 auto_index;	/* -1: the server's */
	char		*index;		/* NULL: the server's, as below */
	char		*lang;
	char		*default_type;	/* for names mime does not know */
	char		*redirect;	/* the target as written, $path in it */
	int		 permanent;	/* 31 rather than 30 */
	int		 status;	/* 0, or a 4x or 5x answered as is */
	char		*meta;		/* its meta line, NULL: a default */
	int		 client_cert;	/* 1: a certificate is required */
	unsigned char	(*allow)[LOC_FP_LEN];	/* none: any certificate */
	size_t		 nallow;
};

/* the client's certificate as the handshake gave it */
struct loc_peer {
	int		 present;
	unsigned char	 sha256[LOC_FP_LEN];
	long long	 not_before, not_after;	/* seconds since the epoch */
};

struct loc_match {
	const struct location *loc;	/* NULL: none matched */
	char		 subject[LOC_SUBJECT_MAX];	/* what was matched */
	size_t		 cap_off, cap_len;	/* the trailing '*': $path */
};

/* 1 when pattern matches all of subject, 0 when not. for a pattern that
 * ends in '*', *cap_off and *cap_len say what that '*' took (the most it
 * can: the rest of the pattern matches as little as it can); else both 0 */
int	loc_glob(const char *pattern, const char *subject, size_t *cap_off,
	    size_t *cap_len);
/* the first of locs[0..n) that matches the clean path (request.h's: no
 * leading '/'; dir when it names a directory): m->loc, or NULL */
const struct location *loc_find(const struct location *locs, size_t n,
	    const char *path, int dir, struct loc_match *m);
/* 0 when the peer may have what loc guards (or loc guards nothing), else
 * GEMINI_CERT_REQUIRED (none), GEMINI_CERT_NOT_VALID (now outside its
 * dates) or GEMINI_CERT_NOT_AUTHORISED (not in the allow list) */
int	loc_cert_status(const struct location *, const struct loc_peer *,
	    long long now);
/* the location guarding a path a request reached through a symbolic
 * link: the first matching real (the clean path the file really has)
 * when it requires a certificate or answers a status and is not asked
 * (the one the request's own path already passed), else NULL */
const struct location *loc_guard(const struct location *locs, size_t n,
	    const char *real, int dir, const struct location *asked);
/* the redirect target of m->loc for m: $path put in (percent-encoded where
 * a url needs it), a relative target resolved against the subject. an
 * absolute url ("scheme:...") is kept; "//host/..." becomes
 * "gemini://host/..."; anything else comes out as a clean absolute path
 * ("/new/page.gmi") for the caller to put after its scheme and host.
 * 0, or -1 when it does not fit in outsz */
int	loc_target(const struct loc_match *m, char *out, size_t outsz);
/* "sha256:HEX" (64 hex digits, either case, colons anywhere) into out;
 * 0 or -1 */
int	loc_fingerprint(const char *text, unsigned char out[LOC_FP_LEN]);
/* why a pattern cannot be used, or NULL */
const char *loc_pattern_error(const char *pattern);
/* why a redirect target cannot be used under pattern, or NULL */
const char *loc_redirect_error(const char *pattern, const char *target);
/*
 * redirect loops that can be seen in locs[0..n) without a request: each
 * redirect location is followed from a path it matches, through the
 * locations the targets fall under, while they stay on this server (a
 * path, or a gemini url whose host ours() says is one of the server's).
 * the index of the first location whose redirects come back round, with
 * the way in chain ("/a -> /b -> /a", clipped to chainsz), or -1
 */
int	loc_loop(const struct location *locs, size_t n,
	    int (*ours)(const char *host, void *arg), void *arg, char *chain,
	    size_t chainsz);
void	loc_free(struct location *locs, size_t n);

#endif

/* gemini request line -> url parts -> clean path (pure, no i/o) */
#ifndef REQUEST_H
#define REQUEST_H

#include <stddef.h>

#define REQ_MAX_URL	1024

struct request {
	char	 scheme[16];	/* lower case */
	char	 host[256];	/* lower case, no brackets */
	int	 port;		/* 0 when absent */
	char	 path[REQ_MAX_URL + 1];	/* decoded, clean, no leading '/' */
	int	 dir;		/* the path ended in '/' (or was empty) */
	char	 query[REQ_MAX_URL + 1];	/* raw, without '?' */
	int	 has_query;
	const char *error;	/* why it was refused */
};

/* parse a request url (without the CRLF). returns 0 when it is a
 * well-formed absolute url, or GEMINI_BAD_REQUEST when it is malformed.
 * the scheme, host and port are for the caller to judge
 * (GEMINI_PROXY_REFUSED). */
int	req_parse(const char *url, size_t len, struct request *);
/* what req_path_decode refused */
enum req_decode {
	REQ_DECODE_OK,
	REQ_DECODE_BAD,		/* '%' without two hex digits */
	REQ_DECODE_NUL,		/* %00 */
	REQ_DECODE_LONG		/* more than outsz - 1 bytes */
};

/* percent-decode len bytes of a url path into out (NUL-terminated),
 * *outlen its length: an enum req_decode */
int	req_path_decode(const char *s, size_t len, char *out, size_t outsz,
	    size_t *outlen);
/* clean a percent-decoded path in place: resolve dot segments, drop empty
 * ones and the leading '/'. -1 when it climbs above the root. sets *dir
 * when the result names a directory (trailing '/'). */
int	req_clean_path(char *path, int *dir);
/* 1 when a path component is hidden (.name), except .well-known at the top */
int	req_path_hidden(const char *cleanpath);

#endif

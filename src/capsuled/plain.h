/* gopher and finger over the capsule: selector -> file -> plain text */
#ifndef PLAIN_H
#define PLAIN_H

#include <stddef.h>

struct buf;
struct srv;

struct plain_result {
	int	 status;	/* enum gemini_status, for the log */
	char	 what[300];	/* the selector or name, for the log */
};

/* answer one request read so far. returns 1 when more bytes are needed,
 * 0 when out holds the whole response (an error answer included), -1
 * when out could not be built (the connection is closed) */
int	plain_gopher(const struct srv *, int port, const char *req,
	    size_t len, struct buf *out, struct plain_result *);
int	plain_finger(const struct srv *, const char *req, size_t len,
	    struct buf *out, struct plain_result *);

#endif

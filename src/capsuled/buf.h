/* a growable, bounded output buffer; always NUL-terminated */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>

/* largest buffer when buf_init is given 0 */
#define BUF_DEFAULT_MAX	(16u * 1024 * 1024)

struct buf {
	char	*data;		/* never NULL: "" until the first append */
	size_t	 len;		/* bytes used, not counting the NUL */
	size_t	 cap;		/* bytes allocated */
	size_t	 max;		/* len never grows past this */
};

void	buf_init(struct buf *, size_t max);
void	buf_free(struct buf *);	/* and ready for use again */
void	buf_reset(struct buf *);	/* len = 0, keeps the memory */
void	buf_truncate(struct buf *, size_t len);
/*
 * hand the bytes to the caller, who frees them with free(): the result is
 * always heap memory (an empty buffer gives a fresh "" too, never the
 * buffer's own static empty string), NUL-terminated, *len bytes long. the
 * buffer is left empty and ready for use again. NULL with errno ENOMEM,
 * the buffer then as it was.
 */
char	*buf_release(struct buf *, size_t *len);
/* these return 0, or -1 with errno ENOMEM (allocation) or E2BIG (bound);
 * on failure the buffer is left as it was */
int	buf_append(struct buf *, const void *, size_t);
int	buf_puts(struct buf *, const char *);
int	buf_putc(struct buf *, int);
int	buf_repeat(struct buf *, int, size_t);
int	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif

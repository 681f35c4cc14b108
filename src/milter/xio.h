/* file i/o helpers shared by the milter's spool, lists and archive */
#ifndef XIO_H
#define XIO_H

#include <stddef.h>

/* write all n bytes, across short writes and EINTR; 0 or -1 with errno */
int	xio_write_all(int fd, const char *p, size_t n);

#endif

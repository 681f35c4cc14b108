/* the whole of a file into memory, read from a descriptor the caller
 * opened (so the caller decides how: openat, O_NOFOLLOW, ...)
 *
 * readfile_fd returns a malloc'd copy of the file's bytes with a NUL
 * after them (not counted in *lenp), or NULL with errno set: EFBIG when
 * it is not a regular file or holds more than max bytes, ENODATA when it
 * ends before the size fstat gave (it shrank while read), or the errno of
 * fstat, read or malloc. the descriptor stays open either way */
#ifndef READFILE_H
#define READFILE_H

#include <stddef.h>

char	*readfile_fd(int fd, size_t max, size_t *lenp);

#endif

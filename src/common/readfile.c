/* the whole of a file into memory: see readfile.h */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "readfile.h"

char *
readfile_fd(int fd, size_t max, size_t *lenp)
{
	struct stat st;
	char *buf;
	size_t got = 0, size;
	ssize_t r;

	if (fstat(fd, &st) == -1)
		return NULL;
	if (!S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (unsigned long long)st.st_size > max) {
		errno = EFBIG;
		return NULL;
	}
	size = (size_t)st.st_size;
	if ((buf = malloc(size + 1)) == NULL)
		return NULL;
	while (got < size) {
		r = read(fd, buf + got, size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			if (r == 0)
				errno = ENODATA;
			return NULL;
		}
		got += (size_t)r;
	}
	buf[got] = '\0';
	*lenp = got;
	return buf;
}

/* file i/o helpers shared by the milter's spool, lists and archive */
#include <errno.h>
#include <unistd.h>

#include "xio.h"

int
xio_write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

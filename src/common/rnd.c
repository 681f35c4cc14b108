/* random bytes from the kernel: see rnd.h */
#include <sys/random.h>

#include <errno.h>

#include "rnd.h"

int
rnd_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t r;

	/* getrandom gives at most 32 MiB a call, and a signal may cut a
	 * large request short */
	while (n > 0) {
		if ((r = getrandom(p, n, 0)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
rnd_hex(char *out, size_t outsz, size_t nbytes)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char r[32];
	size_t i, done, n;

	if (outsz == 0 || nbytes > (outsz - 1) / 2) {
		errno = ERANGE;
		return -1;
	}
	for (done = 0; done < nbytes; done += n) {
		n = nbytes - done < sizeof(r) ? nbytes - done : sizeof(r);
		if (rnd_bytes(r, n) == -1)
			return -1;
		for (i = 0; i < n; i++) {
			out[2 * (done + i)] = digits[r[i] >> 4];
			out[2 * (done + i) + 1] = digits[r[i] & 0xf];
		}
	}
	out[2 * nbytes] = '\0';
	return 0;
}

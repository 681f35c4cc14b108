/* random bytes from the kernel (getrandom), for keys, tokens and unique
 * names. there is no weaker fallback: when the kernel gives none, the
 * caller fails.
 *
 * both return 0, or -1 with errno: getrandom's (ENOSYS, EFAULT, ...), or
 * ERANGE when out cannot hold 2 * nbytes hex digits and their NUL */
#ifndef RND_H
#define RND_H

#include <stddef.h>

/* buf[0..n) filled */
int	rnd_bytes(void *buf, size_t n);
/* out = 2 * nbytes lowercase hex digits of nbytes random bytes, then NUL */
int	rnd_hex(char *out, size_t outsz, size_t nbytes);

#endif

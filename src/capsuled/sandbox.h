/* privilege drop, landlock and seccomp, one function per role */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <sys/types.h>

/* look up the user to drop to; -1 with err when it does not exist */
int	sandbox_user(const char *user, uid_t *uid, gid_t *gid, char *err,
	    size_t errsz);
/* no_new_privs, a landlock ruleset allowing only reads beneath the
 * given directory descriptors (and writes beneath writable ones), then a
 * seccomp filter refusing what a worker never calls. returns 1 when
 * landlock is in force, 0 when the kernel has none (the fallback is
 * logged), -1 on error */
int	sandbox_restrict(const int *readfds, size_t nread,
	    const int *writefds, size_t nwrite);

#endif

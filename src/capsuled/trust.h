/* whether a file capsuled reads its secrets from (or appends its log to)
 * can be trusted: no symbolic link, no second hard link, and nobody but
 * root and the server user able to write it */
#ifndef TRUST_H
#define TRUST_H

#include <sys/stat.h>
#include <sys/types.h>
#include <stddef.h>

/* who may own and write what capsuled trusts: root and this user */
struct trust_owner {
	uid_t	uid;
	gid_t	gid;
};

/* open a directory without following a symbolic link and check it:
 * the descriptor (O_PATH), -1 with err set, or -1 with errno ENOENT and
 * err set when it does not exist */
int	trust_opendir(const char *path, const struct trust_owner *,
	    char *err, size_t errsz);
/* what trust_openat would say of dirfd/name, without opening it: 0 when
 * it is fine, -1 with err set, or -1 with errno ENOENT (err set) when it
 * does not exist */
int	trust_checkat(int dirfd, const char *name, const char *path,
	    const struct trust_owner *, char *err, size_t errsz);
/* openat(dirfd, name, flags | O_NOFOLLOW) a regular file with one link,
 * then check it; path names it in messages. the descriptor, or -1 with
 * err set (errno ENOENT when it does not exist and flags lack O_CREAT) */
int	trust_openat(int dirfd, const char *name, const char *path, int flags,
	    mode_t mode, const struct trust_owner *, char *err, size_t errsz);

#endif

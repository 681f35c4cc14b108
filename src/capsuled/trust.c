/* trust checks on the files capsuled keeps secrets in and logs to */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "trust.h"

/* 0 when st (of path) is writable only by root or the owner given;
 * -1 with "path: what is wrong" in err */
static int
trust_stat(const struct stat *st, const char *path,
    const struct trust_owner *o, char *err, size_t errsz)
{
	/* 1. the owner can always write (chmod): root or the server user */
	if (st->st_uid != 0 && st->st_uid != o->uid) {
		snprintf(err, errsz, "%s: owned by uid %u, not by root or the "
		    "server user (uid %u): refusing to trust it", path,
		    (unsigned)st->st_uid, (unsigned)o->uid);
		return -1;
	}
	/* 2. nobody else, sticky bit or not: a 1777 directory lets anyone
	 * plant a file that is missing */
	if (st->st_mode & S_IWOTH) {
		snprintf(err, errsz, "%s: writable by every user (mode %04o): "
		    "refusing to trust it; chmod o-w", path,
		    (unsigned)(st->st_mode & 07777));
		return -1;
	}
	/* 3. a writable group only when it is root's or the server's */
	if ((st->st_mode & S_IWGRP) && st->st_gid != 0 && st->st_gid != o->gid) {
		snprintf(err, errsz, "%s: writable by group %u (mode %04o), not "
		    "root's or the server user's: refusing to trust it; "
		    "chmod g-w", path, (unsigned)st->st_gid,
		    (unsigned)(st->st_mode & 07777));
		return -1;
	}
	return 0;
}

int
trust_opendir(const char *path, const struct trust_owner *o, char *err,
    size_t errsz)
{
	struct stat st;
	int fd, saved;

	fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		saved = errno;
		if (errno == ENOTDIR && lstat(path, &st) == 0 &&
		    S_ISLNK(st.st_mode))
			snprintf(err, errsz, "%s: a symbolic link: refusing "
			    "to follow it; give the real directory", path);
		else
			snprintf(err, errsz, "%s: %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (trust_stat(&st, path, o, err, errsz) == -1) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* a regular file with one link, trusted as trust_stat says */
static int
trust_file(const struct stat *st, const char *path,
    const struct trust_owner *o, char *err, size_t errsz)
{
	if (S_ISLNK(st->st_mode)) {
		snprintf(err, errsz, "%s: a symbolic link: refusing to "
		    "follow it", path);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errsz, "%s: not a regular file", path);
		return -1;
	}
	/* a hard link can make any file of the same file system look like
	 * this one (and an appended log write into it) */
	if (st->st_nlink != 1) {
		snprintf(err, errsz, "%s: has %lu hard links: refusing to "
		    "trust it", path, (unsigned long)st->st_nlink);
		return -1;
	}
	return trust_stat(st, path, o, err, errsz);
}

int
trust_checkat(int dirfd, const char *name, const char *path,
    const struct trust_owner *o, char *err, size_t errsz)
{
	struct stat st;
	int saved;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		saved = errno;
		snprintf(err, errsz, "%s: %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	if (trust_file(&st, path, o, err, errsz) == -1) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

int
trust_openat(int dirfd, const char *name, const char *path, int flags,
    mode_t mode, const struct trust_owner *o, char *err, size_t errsz)
{
	struct stat st;
	int fd, saved;

	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK, mode);
	if (fd == -1) {
		saved = errno;
		if (saved == ELOOP)
			snprintf(err, errsz, "%s: a symbolic link: refusing "
			    "to follow it", path);
		else
			snprintf(err, errsz, "%s: %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (trust_file(&st, path, o, err, errsz) == -1)
		goto fail;
	/* blocking from here on; O_NONBLOCK only kept a fifo from hanging */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	errno = EPERM;
	return -1;
}

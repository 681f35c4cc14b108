/* LD_PRELOAD fault injection for t-state.py: rename() and renameat() onto
 * a path ending in "ticket.key" fail with EXDEV, as on a file system that
 * fails the rename. no file state reaches that failure for real (a
 * ticket.key that is there is read, never renamed over), so it is made */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int	rename(const char *, const char *);
int	renameat(int, const char *, int, const char *);

static int
failrename_hit(const char *path)
{
	size_t n = strlen(path);

	return n >= 10 && strcmp(path + n - 10, "ticket.key") == 0;
}

int
rename(const char *from, const char *to)
{
	int (*real)(const char *, const char *);

	if (failrename_hit(to)) {
		errno = EXDEV;
		return -1;
	}
	*(void **)&real = dlsym(RTLD_NEXT, "rename");
	return real(from, to);
}

int
renameat(int fromfd, const char *from, int tofd, const char *to)
{
	int (*real)(int, const char *, int, const char *);

	if (failrename_hit(to)) {
		errno = EXDEV;
		return -1;
	}
	*(void **)&real = dlsym(RTLD_NEXT, "renameat");
	return real(fromfd, from, tofd, to);
}

/* readfile_fd: a whole regular file, its bound, and what it refuses */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "readfile.h"

static char dir[] = "/tmp/test_readfile.XXXXXX";
static int dfd = -1;

/* a file of dir with these bytes, opened for reading */
static int
file_with(const char *name, const char *bytes, size_t len)
{
	int fd;

	if ((fd = openat(dfd, name,
	    O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, bytes, len) != (ssize_t)len ||
	    lseek(fd, 0, SEEK_SET) == -1) {
		perror(name);
		exit(2);
	}
	return fd;
}

int
main(void)
{
	size_t len = 99;
	char *s;
	int fd;

	if (mkdtemp(dir) == NULL ||
	    (dfd = open(dir, O_RDONLY | O_DIRECTORY)) == -1) {
		perror(dir);
		return 2;
	}

	fd = file_with("a", "one\0two\n", 8);
	s = readfile_fd(fd, 8, &len);
	CHECK(s != NULL && len == 8 && memcmp(s, "one\0two\n", 8) == 0 &&
	    s[8] == '\0', "a file of exactly max bytes, NULs kept, "
	    "NUL-terminated");
	free(s);
	CHECK(lseek(fd, 0, SEEK_CUR) == 8, "the descriptor stays open");
	close(fd);

	fd = file_with("b", "123456789", 9);
	errno = 0;
	s = readfile_fd(fd, 8, &len);
	CHECK(s == NULL && errno == EFBIG, "one byte past max: EFBIG");
	close(fd);

	fd = file_with("c", "", 0);
	len = 99;
	s = readfile_fd(fd, 8, &len);
	CHECK(s != NULL && len == 0 && s[0] == '\0', "an empty file is \"\"");
	free(s);
	close(fd);

	errno = 0;
	s = readfile_fd(dfd, 1024, &len);
	CHECK(s == NULL && errno == EFBIG, "a directory is not a regular "
	    "file: EFBIG");

	errno = 0;
	s = readfile_fd(-1, 1024, &len);
	CHECK(s == NULL && errno == EBADF, "a bad descriptor: fstat's EBADF");

	unlinkat(dfd, "a", 0);
	unlinkat(dfd, "b", 0);
	unlinkat(dfd, "c", 0);
	close(dfd);
	rmdir(dir);
	return UNIT_DONE();
}

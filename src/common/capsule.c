/* clean path -> open file under a root, kernel-enforced */
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/openat2.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capsule.h"
#include "log.h"
#include "request.h"
#include "status.h"
#include "utf8.h"

int
capsule_open(int rootfd, const char *path, int flags)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	/* openat2 refuses o_noctty beside o_path */
	how.flags = (unsigned long long)(flags | O_CLOEXEC |
	    ((flags & O_PATH) ? 0 : O_NOCTTY));
	/* the kernel refuses "..", absolute symlinks and magic links that
	 * would leave the root; no string check can be talked round */
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, rootfd, path[0] ? path : ".",
	    &how, sizeof(how));
}

/* the path of an open descriptor, as the kernel names it */
static int
capsule_fd_path(int fd, char *out, size_t outsz)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, out, outsz - 1)) == -1) {
		/* the descriptor is open, so ENOENT says /proc is missing,
		 * not the file: callers take ENOENT for "nothing there" and
		 * would serve a guarded file through a symbolic link */
		if (errno == ENOENT)
			errno = EACCES;
		return -1;
	}
	if ((size_t)n >= outsz - 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	out[n] = '\0';
	return 0;
}

int
capsule_real_path(int rootfd, const char *path, char *out, size_t outsz,
    int *dir)
{
	struct open_how how;
	struct stat st;
	char rootp[PATH_MAX], real[PATH_MAX];
	const char *rel;
	size_t rlen;
	int fd, saved;

	/* 1. no symbolic link on the way: the path is its own */
	memset(&how, 0, sizeof(how));
	how.flags = O_PATH | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, rootfd, path[0] ? path : ".", &how,
	    sizeof(how));
	if (fd == -1 && errno != ELOOP)
		return -1;
	if (fd != -1) {
		saved = fstat(fd, &st);
		close(fd);
		if (saved == -1)
			return -1;
		*dir = S_ISDIR(st.st_mode);
		if (snprintf(out, outsz, "%s", path) >= (int)outsz) {
			errno = ENAMETOOLONG;
			return -1;
		}
		return 0;
	}
	/* 2. else where the kernel's own resolution, beneath the root,
	 * took it */
	if ((fd = capsule_open(rootfd, path, O_PATH)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || capsule_fd_path(rootfd, rootp,
	    sizeof(rootp)) == -1 || capsule_fd_path(fd, real, sizeof(real))
	    == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	*dir = S_ISDIR(st.st_mode);
	/* 3. the part after the root's own path */
	rlen = strcmp(rootp, "/") == 0 ? 0 : strlen(rootp);
	if (strncmp(real, rootp, rlen) != 0 ||
	    (real[rlen] != '/' && real[rlen] != '\0')) {
		errno = EXDEV;
		return -1;
	}
	for (rel = real + rlen; *rel == '/'; rel++)
		;
	if (snprintf(out, outsz, "%s", rel) >= (int)outsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
capsule_probe(int rootfd)
{
	int fd = capsule_open(rootfd, ".", O_RDONLY | O_DIRECTORY);

	if (fd == -1)
		return 0;
	close(fd);
	return 1;
}

int
capsule_errno_status(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
	case ELOOP:
	case EXDEV:		/* beneath-resolution refused an escape */
	case EACCES:
	case EPERM:
	case ENAMETOOLONG:
	case ENXIO:
	case EISDIR:
		return GEMINI_NOT_FOUND;
	case EMFILE:
	case ENFILE:
	case ENOMEM:
	case EAGAIN:
	case EINTR:
	case EBUSY:
		return GEMINI_TEMP_FAILURE;
	default:
		return GEMINI_PERM_FAILURE;
	}
}

const char *
capsule_refusal(const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	/* another name for the same inode may live outside the root, where
	 * no resolver can see it: RESOLVE_BENEATH checks the path, not the
	 * file. so a file with more than one link is not served */
	if (st->st_nlink > 1)
		return "a regular file with more than one hard link";
	return NULL;
}

/*
 * the one rule for what may be served, for gemini, gopher and finger
 * alike, given the fstat of the opened file: GEMINI_SUCCESS for a regular
 * file with one link; GEMINI_NOT_FOUND (as for a missing file) for
 * anything else. a regular file with more than one hard link is refused, and a warning names path: its
 * other name may lie outside the root, where no resolver looks.
 */
static int
capsule_servable(const struct stat *st, const char *path)
{
	char name[3 * REQ_MAX_URL + 8];

	if (capsule_refusal(st) == NULL)
		return GEMINI_SUCCESS;
	if (S_ISREG(st->st_mode)) {
		log_escape(name, sizeof(name), path, strlen(path));
		log_warnx("%s: not served: a regular file with %ju hard links "
		    "(capsule-check reports them)", name[0] ? name : ".",
		    (uintmax_t)st->st_nlink);
	}
	return GEMINI_NOT_FOUND;
}

int
capsule_name_shown(const char *name)
{
	size_t i = 0, n = strlen(name), k;
	uint32_t cp;

	while (i < n) {
		if ((k = utf8_decode(name + i, n - i, &cp)) == 0)
			return 0;
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return 0;
		i += k;
	}
	return 1;
}

static int
capsule_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
capsule_entry(int rootfd, const char *path)
{
	struct stat st, st2;
	int fd, kind = 0;

	/* 1. what the name resolves to beneath the root: a dot-file is not
	 * served, a symlink that leaves the root, or loops, is nothing */
	if (req_path_hidden(path) ||
	    (fd = capsule_open(rootfd, path, O_PATH)) == -1)
		return 0;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return 0;
	}
	close(fd);
	/* 2. only a directory or a file capsule_servable lets through; a
	 * fifo or device is never opened for reading here */
	if (!S_ISDIR(st.st_mode) && capsule_refusal(&st) != NULL)
		return 0;
	/* 3. and only what this process can open: mode 000, a directory
	 * without x */
	fd = capsule_open(rootfd, path, S_ISDIR(st.st_mode) ?
	    O_RDONLY | O_DIRECTORY : O_RDONLY | O_NONBLOCK);
	if (fd == -1)
		return 0;
	if (fstat(fd, &st2) == 0 && st2.st_dev == st.st_dev &&
	    st2.st_ino == st.st_ino)
		kind = S_ISDIR(st.st_mode) ? 'd' : 'f';
	close(fd);
	return kind;
}

/* capsule_entry for a name just read from directory d (path is its path
 * from the root): a plain file or directory is opened once, by name,
 * without following anything; a symlink, or a name whose type the file
 * system does not say, takes capsule_entry's way from the root */
static int
capsule_entry_at(int rootfd, const char *path, DIR *d,
    const struct dirent *de)
{
	struct stat st;
	int fd, kind = 0;

	if (de->d_type == DT_LNK || de->d_type == DT_UNKNOWN)
		return capsule_entry(rootfd, path);
	/* a fifo or device is never opened */
	if (de->d_type != DT_REG && de->d_type != DT_DIR)
		return 0;
	fd = capsule_open(dirfd(d), de->d_name, O_NOFOLLOW | (de->d_type ==
	    DT_DIR ? O_RDONLY | O_DIRECTORY : O_RDONLY | O_NONBLOCK));
	if (fd == -1)
		return 0;
	if (fstat(fd, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			kind = 'd';
		else if (capsule_refusal(&st) == NULL)
			kind = 'f';
	}
	close(fd);
	return kind;
}

int
capsule_names(int rootfd, const char *dir, int mark_dirs, char ***namesp,
    size_t *np)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, child[REQ_MAX_URL + 1];
	size_t n = 0, cap = 0;
	int fd, kind, r;

	*namesp = NULL;
	*np = 0;
	if ((fd = capsule_open(rootfd, dir, O_RDONLY | O_DIRECTORY)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t l;

		/* dot-files are not served; a name with a control byte
		 * could write a line of its own in a listing or menu */
		if (de->d_name[0] == '.' || !capsule_name_shown(de->d_name))
			continue;
		/* a name is offered only when asking for it would serve it:
		 * no fifo, device, hard link, symlink out or loop, nothing
		 * unreadable */
		r = snprintf(child, sizeof(child), "%s%s%s", dir,
		    dir[0] ? "/" : "", de->d_name);
		if (r < 0 || (size_t)r >= sizeof(child) ||
		    (kind = capsule_entry_at(rootfd, child, d, de)) == 0)
			continue;
		if (n == cap) {
			char **nn;

			cap = cap ? cap * 2 : 32;
			if ((nn = realloc(names, cap * sizeof(*nn))) == NULL)
				goto fail;
			names = nn;
		}
		l = strlen(de->d_name);
		if ((names[n] = malloc(l + 2)) == NULL)
			goto fail;
		memcpy(names[n], de->d_name, l + 1);
		if (mark_dirs && kind == 'd')
			memcpy(names[n] + l, "/", 2);
		n++;
	}
	closedir(d);
	if (n > 1)		/* qsort(NULL, 0, ...) is undefined */
		qsort(names, n, sizeof(*names), capsule_name_cmp);
	*namesp = names;
	*np = n;
	return 0;
fail:
	capsule_names_free(names, n);
	closedir(d);
	return -1;
}

void
capsule_names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* a name as a url path segment: what would end or bend a link encoded */
static void
capsule_put_encoded(FILE *mem, const char *name)
{
	const unsigned char *c;

	for (c = (const unsigned char *)name; *c; c++) {
		if (*c <= 0x20 || *c == '%' || *c == '?' || *c == '#' ||
		    *c == 0x7f)
			fprintf(mem, "%%%02X", *c);
		else
			fputc(*c, mem);
	}
}

/* a gemtext listing of a directory: no dot-files, sorted, names encoded */
static int
capsule_listing(int rootfd, const char *path, struct capsule_file *cf)
{
	char **names;
	size_t n, i;
	FILE *mem;
	int rc = -1;

	if (capsule_names(rootfd, path, 1, &names, &n) == -1)
		return -1;
	if ((mem = open_memstream(&cf->listing, &cf->listing_len)) == NULL)
		goto out;
	/* the request path may hold a decoded %0A: encoded in the heading
	 * too, so it cannot start a line of its own */
	fputs("# Index of /", mem);
	capsule_put_encoded(mem, path);
	fprintf(mem, "%s\n\n", path[0] ? "/" : "");
	for (i = 0; i < n; i++) {
		fputs("=> ", mem);
		capsule_put_encoded(mem, names[i]);
		/* capsule_names let no control byte through to the label */
		fprintf(mem, " %s\n", names[i]);
	}
	if (fclose(mem) == 0)
		rc = 0;
out:
	capsule_names_free(names, n);
	return rc;
}

static int
capsule_setname(struct capsule_file *cf, const char *path)
{
	const char *base = strrchr(path, '/');
	int n;

	base = base ? base + 1 : path;
	n = snprintf(cf->name, sizeof(cf->name), "%s", base);
	return (n < 0 || (size_t)n >= sizeof(cf->name)) ? -1 : 0;
}

int
capsule_resolve(int rootfd, const char *path, int dir, const char *index,
    int auto_index, struct capsule_file *cf)
{
	struct stat st;
	int fd, ifd;

	memset(cf, 0, sizeof(*cf));
	cf->fd = -1;
	if (req_path_hidden(path))
		return GEMINI_NOT_FOUND;
	/* o_nonblock: a fifo placed in the root must not hang the worker */
	fd = capsule_open(rootfd, path, O_RDONLY | O_NONBLOCK);
	if (fd == -1)
		return capsule_errno_status(errno);
	if (fstat(fd, &st) == -1) {
		close(fd);
		return capsule_errno_status(errno);
	}
	if (S_ISREG(st.st_mode)) {
		if (dir) {		/* "file.gmi/" names nothing */
			close(fd);
			return GEMINI_NOT_FOUND;
		}
		if (capsule_servable(&st, path) != GEMINI_SUCCESS) {
			close(fd);
			return GEMINI_NOT_FOUND;
		}
		if (capsule_setname(cf, path) == -1) {
			close(fd);
			return GEMINI_NOT_FOUND;
		}
		cf->fd = fd;
		cf->size = st.st_size;
		return GEMINI_SUCCESS;
	}
	if (!S_ISDIR(st.st_mode)) {
		close(fd);
		return GEMINI_NOT_FOUND;
	}
	if (!dir) {
		close(fd);
		return GEMINI_REDIRECT;
	}
	ifd = capsule_open(fd, index, O_RDONLY | O_NONBLOCK);
	if (ifd != -1) {
		char ipath[REQ_MAX_URL + 300];

		/* a refused index is as good as a missing one */
		snprintf(ipath, sizeof(ipath), "%s%s%s", path,
		    path[0] ? "/" : "", index);
		if (fstat(ifd, &st) == 0 && capsule_servable(&st, ipath) ==
		    GEMINI_SUCCESS) {
			close(fd);
			cf->fd = ifd;
			cf->size = st.st_size;
			capsule_setname(cf, index);
			return GEMINI_SUCCESS;
		}
		close(ifd);
	} else if (errno != ENOENT) {
		int status = capsule_errno_status(errno);

		close(fd);
		return status;
	}
	if (!auto_index) {
		close(fd);
		return GEMINI_NOT_FOUND;
	}
	if (capsule_listing(rootfd, path, cf) == -1) {
		close(fd);
		return GEMINI_TEMP_FAILURE;
	}
	close(fd);
	snprintf(cf->name, sizeof(cf->name), "index.gmi");
	cf->size = (off_t)cf->listing_len;
	return GEMINI_SUCCESS;
}

int
capsule_resolve_file(int rootfd, const char *path, struct capsule_file *cf)
{
	int status = capsule_resolve(rootfd, path, 0, NULL, 0, cf);

	if (status == GEMINI_REDIRECT) {
		capsule_file_close(cf);
		return GEMINI_NOT_FOUND;
	}
	return status;
}

int
capsule_is_dir(int rootfd, const char *path)
{
	struct stat st;
	int fd = capsule_open(rootfd, path, O_PATH), isdir;

	if (fd == -1)
		return 0;
	isdir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
	close(fd);
	return isdir;
}

void
capsule_file_close(struct capsule_file *cf)
{
	if (cf->fd != -1)
		close(cf->fd);
	cf->fd = -1;
	free(cf->listing);
	cf->listing = NULL;
}

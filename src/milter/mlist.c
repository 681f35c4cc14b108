/* mailing-list members files: parse, cache, locked atomic edits */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "mailhdr.h"
#include "readfile.h"
#include "mlist.h"
#include "xio.h"

#define MLIST_FILE_MAX	(64 * 1024 * 1024)

struct mlist_members {
	int		  refs;		/* under mlist_mtx */
	char		**addrs;	/* sorted, unique, lower case */
	size_t		  n;
	char		 *store;	/* the strings */
};

struct mlist_cached {
	struct mlist_cached	*next;
	char			*path;
	dev_t			 dev;
	ino_t			 ino;
	off_t			 size;
	struct timespec		 mtime;
	struct mlist_members	*members;
};

static pthread_mutex_t mlist_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct mlist_cached *mlist_cache;

static int
addr_cmp(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* one line: -1 bad, 0 empty or comment, 1 an address in out */
static int
parse_line(const char *s, size_t n, char *out, size_t outsz)
{
	char buf[MAILHDR_ADDR_MAX + 4];
	const char *hash = memchr(s, '#', n);

	if (hash)
		n = (size_t)(hash - s);
	while (n > 0 && (s[0] == ' ' || s[0] == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r'))
		n--;
	if (n == 0)
		return 0;
	if (n >= sizeof(buf) || memchr(s, '\0', n))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (mailhdr_envaddr(buf, out, outsz) == -1 || out[0] == '\0')
		return -1;
	return 1;
}

struct mlist_members *
mlist_parse(const char *text, size_t len, const char *path, int strict,
    char *err, size_t errsz)
{
	struct mlist_members *m;
	const char *p = text, *e = text + len, *nl;
	char addr[MAILHDR_ADDR_MAX];
	size_t cap = 0, used = 0, line = 0, i, j, l;
	char **offs = NULL;
	size_t *pos = NULL, *npos;

	if (errsz)
		err[0] = '\0';
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->store = malloc(len + 1)) == NULL)
		goto nomem;
	m->refs = 1;
	/* 1. addresses into store, their offsets into pos */
	while (p < e) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			nl = e;
		switch (parse_line(p, (size_t)(nl - p), addr, sizeof(addr))) {
		case -1:
			if (strict) {
				snprintf(err, errsz, "%s:%zu: not a mail "
				    "address", path, line);
				goto fail;
			}
			log_warnx("%s:%zu: not a mail address, skipped", path,
			    line);
			break;
		case 1:
			l = strlen(addr);
			if (used + l + 1 > len + 1)
				goto nomem;	/* cannot happen */
			if (m->n == cap) {
				cap = cap ? cap * 2 : 64;
				if ((npos = realloc(pos, cap *
				    sizeof(*pos))) == NULL)
					goto nomem;
				pos = npos;
			}
			memcpy(m->store + used, addr, l + 1);
			pos[m->n++] = used;
			used += l + 1;
			break;
		}
		p = nl + 1;
	}
	/* 2. pointers, sorted, duplicates dropped */
	if ((offs = calloc(m->n + 1, sizeof(char *))) == NULL)
		goto nomem;
	for (i = 0; i < m->n; i++)
		offs[i] = m->store + pos[i];
	free(pos);
	pos = NULL;
	if (m->n > 1)
		qsort(offs, m->n, sizeof(char *), addr_cmp);
	for (i = j = 0; i < m->n; i++)
		if (j == 0 || strcasecmp(offs[j - 1], offs[i]) != 0)
			offs[j++] = offs[i];
	m->n = j;
	m->addrs = offs;
	return m;
nomem:
	snprintf(err, errsz, "%s: out of memory", path);
fail:
	free(pos);
	if (m) {
		free(m->store);
		free(m);
	}
	return NULL;
}

struct mlist_members *
mlist_load(const char *path, int strict, char *err, size_t errsz)
{
	struct mlist_members *m;
	size_t len;
	char *text;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (text = readfile_fd(fd, MLIST_FILE_MAX, &len)) == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	close(fd);
	m = mlist_parse(text, len, path, strict, err, errsz);
	free(text);
	return m;
}

static void
members_free(struct mlist_members *m)
{
	free(m->addrs);
	free(m->store);
	free(m);
}

void
mlist_put(struct mlist_members *m)
{
	int last;

	if (m == NULL)
		return;
	pthread_mutex_lock(&mlist_mtx);
	last = --m->refs == 0;
	pthread_mutex_unlock(&mlist_mtx);
	if (last)
		members_free(m);
}

static int
same_file(const struct mlist_cached *c, const struct stat *st)
{
	return c->dev == st->st_dev && c->ino == st->st_ino &&
	    c->size == st->st_size && c->mtime.tv_sec == st->st_mtim.tv_sec &&
	    c->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

struct mlist_members *
mlist_get(const char *path, char *err, size_t errsz)
{
	struct mlist_cached *c;
	struct mlist_members *m, *old = NULL;
	struct stat st;

	if (stat(path, &st) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	pthread_mutex_lock(&mlist_mtx);
	for (c = mlist_cache; c; c = c->next)
		if (strcmp(c->path, path) == 0)
			break;
	if (c && same_file(c, &st)) {
		m = c->members;
		m->refs++;
		pthread_mutex_unlock(&mlist_mtx);
		return m;
	}
	pthread_mutex_unlock(&mlist_mtx);

	/* 1. (re)load outside the lock; the stat taken before the read
	 * makes a change during the read show up as a change next time */
	if ((m = mlist_load(path, 0, err, errsz)) == NULL)
		return NULL;
	log_info("%s: %zu members loaded", path, m->n);
	pthread_mutex_lock(&mlist_mtx);
	for (c = mlist_cache; c; c = c->next)
		if (strcmp(c->path, path) == 0)
			break;
	if (c == NULL && (c = calloc(1, sizeof(*c))) != NULL) {
		if ((c->path = strdup(path)) == NULL) {
			free(c);
			c = NULL;
		} else {
			c->next = mlist_cache;
			mlist_cache = c;
		}
	}
	if (c) {
		old = c->members;
		c->members = m;
		c->dev = st.st_dev;
		c->ino = st.st_ino;
		c->size = st.st_size;
		c->mtime = st.st_mtim;
		m->refs++;	/* the cache's */
	}
	if (old && --old->refs == 0) {
		pthread_mutex_unlock(&mlist_mtx);
		members_free(old);
		return m;
	}
	pthread_mutex_unlock(&mlist_mtx);
	return m;
}

size_t
mlist_count(const struct mlist_members *m)
{
	return m ? m->n : 0;
}

const char *
mlist_addr(const struct mlist_members *m, size_t i)
{
	return m && i < m->n ? m->addrs[i] : NULL;
}

int
mlist_has(const struct mlist_members *m, const char *addr)
{
	if (m == NULL || m->n == 0 || addr == NULL || addr[0] == '\0')
		return 0;
	return bsearch(&addr, m->addrs, m->n, sizeof(char *),
	    addr_cmp) != NULL;
}

/* the directory part of path, "." when there is none */
static int
dir_of(const char *path, char *dir, size_t dirsz)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return snprintf(dir, dirsz, ".") >= (int)dirsz ? -1 : 0;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= dirsz)
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

int
mlist_edit(const char *path, enum mlist_op op, const char *addr,
    int *changed, char *err, size_t errsz)
{
	char lockpath[PATH_MAX], tmppath[PATH_MAX], dir[PATH_MAX];
	char want[MAILHDR_ADDR_MAX], got[MAILHDR_ADDR_MAX];
	char *text = NULL;
	const char *p, *e, *nl;
	size_t len = 0;
	struct stat st;
	mode_t mode = 0640;
	int lockfd = -1, fd = -1, tmpfd = -1, dfd = -1, found = 0, n;
	static unsigned long seq;

	*changed = 0;
	if (mailhdr_envaddr(addr, want, sizeof(want)) == -1 ||
	    want[0] == '\0') {
		snprintf(err, errsz, "\"%s\" is not a mail address", addr);
		return -1;
	}
	n = snprintf(lockpath, sizeof(lockpath), "%s.lock", path);
	if (n < 0 || (size_t)n >= sizeof(lockpath) ||
	    dir_of(path, dir, sizeof(dir)) == -1) {
		snprintf(err, errsz, "%s: path too long", path);
		return -1;
	}
	/* 1. one editor at a time, across processes and threads (each call
	 * has its own open file description, so flock serialises threads) */
	if ((lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0660)) ==
	    -1) {
		snprintf(err, errsz, "%s: %s", lockpath, strerror(errno));
		return -1;
	}
	while (flock(lockfd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			snprintf(err, errsz, "%s: flock: %s", lockpath,
			    strerror(errno));
			goto fail;
		}
	}

	/* 2. the file as it is now, under the lock */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT || op == MLIST_REMOVE) {
			if (errno == ENOENT)
				goto done;	/* nobody to remove */
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
			goto fail;
		}
		text = strdup("");
	} else {
		if (fstat(fd, &st) == 0)
			mode = st.st_mode & 07777;
		text = readfile_fd(fd, MLIST_FILE_MAX, &len);
		close(fd);
		fd = -1;
	}
	if (text == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto fail;
	}
	for (p = text, e = text + len; p < e; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			nl = e;
		if (parse_line(p, (size_t)(nl - p), got, sizeof(got)) == 1 &&
		    strcasecmp(got, want) == 0)
			found = 1;
	}
	if ((op == MLIST_ADD && found) || (op == MLIST_REMOVE && !found))
		goto done;

	/* 3. the new text into a temporary file beside it */
	pthread_mutex_lock(&mlist_mtx);
	seq++;
	n = snprintf(tmppath, sizeof(tmppath), "%s.tmp.%ld.%lu", path,
	    (long)getpid(), seq);
	pthread_mutex_unlock(&mlist_mtx);
	if (n < 0 || (size_t)n >= sizeof(tmppath)) {
		snprintf(err, errsz, "%s: path too long", path);
		goto fail;
	}
	if ((tmpfd = open(tmppath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) == -1) {
		snprintf(err, errsz, "%s: %s", tmppath, strerror(errno));
		goto fail;
	}
	fchmod(tmpfd, mode);	/* whatever the umask said */
	for (p = text, e = text + len; p < e; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			nl = e;
		if (op == MLIST_REMOVE && parse_line(p, (size_t)(nl - p), got,
		    sizeof(got)) == 1 && strcasecmp(got, want) == 0)
			continue;
		if (xio_write_all(tmpfd, p, (size_t)(nl - p)) == -1 ||
		    xio_write_all(tmpfd, "\n", 1) == -1)
			goto wfail;
	}
	if (op == MLIST_ADD && (xio_write_all(tmpfd, want, strlen(want)) == -1 ||
	    xio_write_all(tmpfd, "\n", 1) == -1))
		goto wfail;
	/* 4. on disk, then in place, then the directory entry on disk */
	if (fsync(tmpfd) == -1)
		goto wfail;
	if (close(tmpfd) == -1) {
		tmpfd = -1;
		goto wfail;
	}
	tmpfd = -1;
	if (rename(tmppath, path) == -1)
		goto wfail;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1) {
		snprintf(err, errsz, "%s: fsync: %s", dir, strerror(errno));
		if (dfd != -1)
			close(dfd);
		*changed = 1;	/* renamed: in force, maybe not yet durable */
		goto fail;
	}
	close(dfd);
	*changed = 1;
done:
	free(text);
	close(lockfd);	/* releases the lock */
	return 0;
wfail:
	snprintf(err, errsz, "%s: %s", tmppath, strerror(errno));
	if (tmpfd != -1)
		close(tmpfd);
	unlink(tmppath);
fail:
	free(text);
	if (fd != -1)
		close(fd);
	close(lockfd);
	return -1;
}

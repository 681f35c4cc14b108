/* the outgoing-mail spool: layout in spool.h; durable writes, unique
 * names, owner checks, reuse of sent files, the crash sweep */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mailhdr.h"
#include "readfile.h"
#include "spool.h"
#include "xio.h"

#define SPOOL_FILE_MAX	(512 * 1024)
#define SPOOL_SWEEP_AGE	300	/* an uncommitted tmp file this old is dead */
#define SPOOL_FREE_MAX	128	/* sent spool files kept for reuse */

static struct {
	int		 spool_fd;	/* state-dir/spool */
	int		 tmp_fd, new_fd, failed_fd, free_fd;
	/* asked by the sweep whether a file's transaction committed */
	int		(*committed)(void *, const char *, const char *,
			    long long);
	void		*committed_arg;
	void		(*on_commit)(void);	/* the submitter's wake-up */
	/*
	 * sent files wait in free/ to be written again instead of being
	 * unlinked. creating a file allocates an inode, and ext4 (without a
	 * journal) then reads past every recently deleted one: under a
	 * steady stream of acknowledgements that was the costliest step of
	 * spooling one, and it grew as the deletions piled up. names
	 * "f<n>", kept as a stack.
	 */
	pthread_mutex_t	 free_mtx;
	unsigned	 free_names[SPOOL_FREE_MAX];
	size_t		 nfree;
	unsigned	 free_seq;
} spool = { -1, -1, -1, -1, -1, NULL, NULL, NULL, PTHREAD_MUTEX_INITIALIZER,
    { 0 }, 0, 0 };

static int
mkdir_at(int dfd, const char *name)
{
	if (mkdirat(dfd, name, 0750) == -1 && errno != EEXIST)
		return -1;
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static char	**spool_list_at(int, size_t *);
static void	  spool_free_clear(void);

/* a sent file from directory dfd: into free/ while there is room, else
 * removed. -1 when it could be neither */
static int
spool_free_put(int dfd, const char *name)
{
	char fname[16];
	unsigned n;

	pthread_mutex_lock(&spool.free_mtx);
	if (spool.nfree < SPOOL_FREE_MAX) {
		n = spool.free_seq++;
		snprintf(fname, sizeof(fname), "f%u", n);
		if (renameat(dfd, name, spool.free_fd, fname) == 0) {
			spool.free_names[spool.nfree++] = n;
			pthread_mutex_unlock(&spool.free_mtx);
			return 0;
		}
	}
	pthread_mutex_unlock(&spool.free_mtx);
	return unlinkat(dfd, name, 0);
}

/*
 * a free file, cut to nothing, becomes tmp/NAME: its descriptor open for
 * writing, or -1 when there is none to take. cut before it moves, so tmp/
 * never holds an old acknowledgement under a new name: a file there is
 * the new one, whole or in part
 */
static int
spool_free_take(const char *name)
{
	char fname[16];
	int fd = -1;

	pthread_mutex_lock(&spool.free_mtx);
	while (fd == -1 && spool.nfree > 0) {
		snprintf(fname, sizeof(fname), "f%u",
		    spool.free_names[--spool.nfree]);
		/* a name gone from free/ (removed by hand) is passed over */
		if ((fd = openat(spool.free_fd, fname, O_WRONLY | O_TRUNC |
		    O_CLOEXEC)) == -1)
			continue;
		if (renameat2(spool.free_fd, fname, spool.tmp_fd, name,
		    RENAME_NOREPLACE) == -1) {
			close(fd);
			unlinkat(spool.free_fd, fname, 0);
			fd = -1;
		}
	}
	pthread_mutex_unlock(&spool.free_mtx);
	return fd;
}

int
spool_open(const char *state_dir, int (*committed)(void *, const char *,
    const char *, long long), void *arg, char *err, size_t errsz)
{
	int sfd;

	if ((sfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || (spool.spool_fd = mkdir_at(sfd, "spool")) == -1 ||
	    (spool.tmp_fd = mkdir_at(spool.spool_fd, "tmp")) == -1 ||
	    (spool.new_fd = mkdir_at(spool.spool_fd, "new")) == -1 ||
	    (spool.failed_fd = mkdir_at(spool.spool_fd, "failed")) == -1 ||
	    (spool.free_fd = mkdir_at(spool.spool_fd, "free")) == -1) {
		snprintf(err, errsz, "%s/spool: %s", state_dir,
		    strerror(errno));
		if (sfd != -1)
			close(sfd);
		return -1;
	}
	close(sfd);
	spool.committed = committed;
	spool.committed_arg = arg;
	spool_free_clear();
	return 0;
}

void
spool_close(void)
{
	int *fds[] = { &spool.spool_fd, &spool.tmp_fd, &spool.new_fd,
	    &spool.failed_fd, &spool.free_fd };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] != -1) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

void
spool_on_commit(void (*fn)(void))
{
	spool.on_commit = fn;
}

/* 1 when NAME is in tmp/, new/ or failed/ (never written over) */
static int
spool_exists(const char *name)
{
	struct stat st;

	return fstatat(spool.tmp_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	    fstatat(spool.new_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	    fstatat(spool.failed_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int
spool_tmp(const char *ref, const char *rcpt, const char *msg, size_t len,
    time_t now, char *name, size_t namesz)
{
	static unsigned long seq;	/* under spool.free_mtx */
	char head[MAILHDR_ADDR_MAX * 2 + 32];
	unsigned long n_seq;
	int fd, n, hn, tries;

	hn = snprintf(head, sizeof(head), "rcpt %s\nref %s\n\n", rcpt, ref);
	if (hn < 0 || (size_t)hn >= sizeof(head) || strchr(ref, '/')) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/*
	 * "TIME.REF.PID-SEQ": unique, so two acknowledgements for one
	 * reference in the same second are two files. a name that exists
	 * anyway (a spool left by an earlier run with the same pid) is
	 * never written over: the next sequence number is tried
	 */
	for (tries = 0; tries < 100; tries++) {
		pthread_mutex_lock(&spool.free_mtx);
		n_seq = seq++;
		pthread_mutex_unlock(&spool.free_mtx);
		n = snprintf(name, namesz, "%lld.%s.%ld-%lu", (long long)now,
		    ref, (long)getpid(), n_seq);
		if (n < 0 || (size_t)n >= namesz) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (spool_exists(name))
			continue;
		/* a sent file reused, or a new one. should the machine stop
		 * before the fsync below, the database has not committed (it
		 * does after this returns), and the sweep removes what is in
		 * tmp/ */
		if ((fd = spool_free_take(name)) != -1)
			break;
		if ((fd = openat(spool.tmp_fd, name, O_WRONLY | O_CREAT |
		    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640)) != -1)
			break;
		if (errno != EEXIST)
			return -1;
	}
	if (tries == 100) {
		errno = EEXIST;
		return -1;
	}
	/* 1. the file and its directory entry reach the disk */
	if (xio_write_all(fd, head, (size_t)hn) == -1 ||
	    xio_write_all(fd, msg, len) == -1 || fsync(fd) == -1) {
		int saved = errno;

		close(fd);
		unlinkat(spool.tmp_fd, name, 0);
		errno = saved;
		return -1;
	}
	if (close(fd) == -1 || fsync(spool.tmp_fd) == -1) {
		int saved = errno;

		unlinkat(spool.tmp_fd, name, 0);
		errno = saved;
		return -1;
	}
	return 0;
}

int
spool_commit(const char *name)
{
	/* no fsync needed: were the rename lost, the sweep finds the
	 * committed file in tmp/ again */
	if (renameat2(spool.tmp_fd, name, spool.new_fd, name,
	    RENAME_NOREPLACE) == -1)
		return -1;
	if (spool.on_commit)
		spool.on_commit();
	return 0;
}

void
spool_discard(const char *name)
{
	unlinkat(spool.tmp_fd, name, 0);
}

/* read a whole spool file; its recipient and the message */
static char *
spool_read_at(int dfd, const char *name, char *rcpt, size_t rcptsz,
    const char **msg, size_t *msglen)
{
	struct stat st;
	char *buf, *p, *e;
	size_t got;
	int fd;

	/* only what this milter wrote: a regular file of its user's, one
	 * link, no symbolic link (EPERM otherwise) */
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		if (errno == ELOOP)
			errno = EPERM;
		return NULL;
	}
	if (fstat(fd, &st) == 0 && (!S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || st.st_nlink != 1)) {
		close(fd);
		errno = EPERM;
		return NULL;
	}
	buf = readfile_fd(fd, SPOOL_FILE_MAX, &got);
	close(fd);
	if (buf == NULL)
		return NULL;
	/* "rcpt ADDR\nref REF\n\n" then the message */
	if (strncmp(buf, "rcpt ", 5) != 0 || (e = strchr(buf, '\n')) == NULL ||
	    (size_t)(e - buf - 5) >= rcptsz || (p = strstr(e, "\n\n")) ==
	    NULL) {
		free(buf);
		errno = EINVAL;
		return NULL;
	}
	memcpy(rcpt, buf + 5, (size_t)(e - buf - 5));
	rcpt[e - buf - 5] = '\0';
	*msg = p + 2;
	*msglen = got - (size_t)(p + 2 - buf);
	return buf;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* names in a spool directory, sorted (oldest first) */
static char **
spool_list_at(int dfd, size_t *n)
{
	char **v = NULL, **nv;
	size_t cap = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	*n = 0;
	if ((fd = dup(dfd)) == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return NULL;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(char *))) == NULL)
				break;
			v = nv;
		}
		if ((v[*n] = strdup(de->d_name)) == NULL)
			break;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(char *), name_cmp);
	return v;
}

void
spool_list_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* free/ from an earlier run: its files are garbage, whatever they hold */
static void
spool_free_clear(void)
{
	char **v;
	size_t n, i;

	if ((v = spool_list_at(spool.free_fd, &n)) == NULL)
		return;
	for (i = 0; i < n; i++)
		unlinkat(spool.free_fd, v[i], 0);
	spool_list_free(v, n);
}

/* did the transaction that spooled tmp/NAME ("TIME.REF.PID-SEQ", or
 * "TIME.REF" from an older spool; the file's "ref" line names the
 * reference, for rcpt) commit? the spool's owner answers from its store
 * (for acknowledgements: the enquiry row the transaction wrote).
 * 1 yes, 0 no, -1 cannot tell (database error, file gone) */
static int
spool_committed(const char *name)
{
	char rcpt[MAILHDR_ADDR_MAX + 2], ref[128], *buf, *end, *r, *e;
	const char *msg;
	size_t msglen;
	long long when;
	int rc;

	/* a file cut short was never committed: the commit follows its
	 * fsync */
	errno = 0;
	when = strtoll(name, &end, 10);
	if (errno || end == name || *end != '.')
		return 0;
	if ((buf = spool_read_at(spool.tmp_fd, name, rcpt, sizeof(rcpt), &msg,
	    &msglen)) == NULL)
		return errno == EINVAL || errno == EPERM ? 0 : -1;
	if ((r = strstr(buf, "\nref ")) == NULL || r > msg ||
	    (e = strchr(r + 5, '\n')) == NULL ||
	    (size_t)(e - r - 5) >= sizeof(ref)) {
		free(buf);
		return 0;
	}
	memcpy(ref, r + 5, (size_t)(e - r - 5));
	ref[e - r - 5] = '\0';
	rc = spool.committed ? spool.committed(spool.committed_arg, ref,
	    rcpt, when) : 0;
	free(buf);
	return rc;
}

/* tmp/ files: committed ones move on, dead ones go */
void
spool_sweep(void)
{
	struct stat st;
	char **v;
	size_t n, i;
	int known;

	if ((v = spool_list_at(spool.tmp_fd, &n)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		if ((known = spool_committed(v[i])) == 1) {
			log_info("spool %s: committed, recovered from tmp/",
			    v[i]);
			renameat2(spool.tmp_fd, v[i], spool.new_fd, v[i],
			    RENAME_NOREPLACE);
		} else if (known == 0 && fstatat(spool.tmp_fd, v[i], &st, 0) ==
		    0 && st.st_mtime + SPOOL_SWEEP_AGE < time(NULL)) {
			log_info("spool %s: never committed, removed", v[i]);
			unlinkat(spool.tmp_fd, v[i], 0);
		}
	}
	spool_list_free(v, n);
}

char **
spool_list_new(size_t *n)
{
	return spool_list_at(spool.new_fd, n);
}

char *
spool_read_new(const char *name, char *rcpt, size_t rcptsz,
    const char **msg, size_t *msglen)
{
	return spool_read_at(spool.new_fd, name, rcpt, rcptsz, msg, msglen);
}

int
spool_sent(const char *name)
{
	return spool_free_put(spool.new_fd, name);
}

int
spool_failed(const char *name)
{
	return renameat(spool.new_fd, name, spool.failed_fd, name);
}

/* 1 when c may continue an address's local part or domain, so a match
 * next to it is part of another address (jane@ holds e@) */
static int
spool_addr_char(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '-' || c == '_' || c == '+';
}

/* 1 when the n bytes at p hold the address needle (lower case), any
 * case, as a whole address: not inside a longer one */
static int
spool_holds(const char *p, size_t n, const char *needle)
{
	size_t nl = strlen(needle), i, j;
	unsigned char after;

	for (i = 0; nl > 0 && i + nl <= n; i++) {
		if (i > 0 && spool_addr_char((unsigned char)p[i - 1]))
			continue;
		for (j = 0; j < nl; j++)
			if (tolower((unsigned char)p[i + j]) != needle[j])
				break;
		if (j < nl)
			continue;
		/* a full stop may end the sentence, not the domain */
		after = i + nl < n ? (unsigned char)p[i + nl] : ' ';
		if (after == '.' && i + nl + 1 < n)
			after = (unsigned char)p[i + nl + 1];
		else if (after == '.')
			after = ' ';
		if (!spool_addr_char(after))
			return 1;
	}
	return 0;
}

int
spool_purge_addr(const char *state_dir, const char *addr, size_t *removed)
{
	static const char *const dirs[] = { "new", "failed", "free" };
	char key[MAILHDR_ADDR_MAX], *buf;
	struct dirent *de;
	size_t i, k, len;
	int sfd, dfd, fd, rc = 0;
	DIR *d;

	*removed = 0;
	for (k = 0; addr[k] && k + 1 < sizeof(key); k++)
		key[k] = (char)tolower((unsigned char)addr[k]);
	key[k] = '\0';
	if (k == 0 || addr[k] != '\0') {
		errno = EINVAL;
		return -1;
	}
	if ((dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	sfd = openat(dfd, "spool", O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
	close(dfd);
	if (sfd == -1)
		return errno == ENOENT ? 0 : -1;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if ((dfd = openat(sfd, dirs[i], O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC | O_NOFOLLOW)) == -1) {
			if (errno == ENOENT)
				continue;
			rc = -1;
			break;
		}
		if ((d = fdopendir(dfd)) == NULL) {
			close(dfd);
			rc = -1;
			break;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if ((fd = openat(dfd, de->d_name, O_RDONLY | O_CLOEXEC |
			    O_NOFOLLOW | O_NONBLOCK)) == -1)
				continue;	/* sent meanwhile */
			buf = readfile_fd(fd, SPOOL_FILE_MAX, &len);
			close(fd);
			if (buf == NULL)
				continue;
			if (spool_holds(buf, len, key) &&
			    unlinkat(dfd, de->d_name, 0) == 0)
				(*removed)++;
			free(buf);
		}
		closedir(d);
	}
	close(sfd);
	return rc;
}

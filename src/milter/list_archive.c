/* a list's archive: each post as the members get it, in a maildir under
 * state-dir/archive/LIST/ */
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf_milter.h"
#include "conf_mlist.h"
#include "list_archive.h"
#include "list_mail.h"
#include "rnd.h"
#include "xio.h"

static int
list_archive_mkdir(const char *path)
{
	return mkdir(path, 0750) == -1 && errno != EEXIST ? -1 : 0;
}

/* the post as the members get it, into state-dir/archive/LIST/ (a
 * maildir: written and fsync'd in tmp/, renamed into new/, the directory
 * fsync'd), so a crash leaves a whole message or none. 0 archived, 1 too
 * large to archive (its header or body was too large to keep whole while
 * it was read), -1 error (errno set) */
int
list_archive(const struct milter_conf *c, const struct conf_list *l,
    const struct list_archive_post *post, const char *sender,
    const char *added, const char *subject)
{
	char dir[4096], tmp[4096], new[4096], name[256], rnd[17];
	const char *p, *e, *nl, *colon;
	struct timeval tv;
	int fd = -1, dfd, first_subject = 1, n, rc = -1;
	size_t i;

	/* too large to keep: delivered all the same, not archived */
	if (post->too_large)
		return 1;
	n = snprintf(dir, sizeof(dir), "%s/archive/%s", c->state_dir,
	    l->address);
	if (n < 0 || (size_t)n >= sizeof(dir) || strchr(l->address, '/'))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s/archive", c->state_dir);
	if (list_archive_mkdir(tmp) == -1 || list_archive_mkdir(dir) == -1)
		return -1;
	for (i = 0; i < 3; i++) {
		static const char *const sub[] = { "tmp", "new", "cur" };

		n = snprintf(tmp, sizeof(tmp), "%s/%s", dir, sub[i]);
		if (n < 0 || (size_t)n >= sizeof(tmp) ||
		    list_archive_mkdir(tmp) == -1)
			return -1;
	}
	gettimeofday(&tv, NULL);
	if (rnd_hex(rnd, sizeof(rnd), 8) == -1)
		return -1;
	n = snprintf(name, sizeof(name), "%lld.M%ldP%ldR%s.%s",
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(), rnd,
	    c->hostname);
	if (n < 0 || (size_t)n >= sizeof(name) || strchr(c->hostname, '/'))
		return -1;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir, name) >=
	    sizeof(tmp) || (size_t)snprintf(new, sizeof(new), "%s/new/%s",
	    dir, name) >= sizeof(new))
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) ==
	    -1)
		return -1;
	/* 1. envelope, our header fields, the post's own (but those we
	 * replace), the tagged subject, then the body with LF line ends */
	if (dprintf(fd, "Return-Path: <%s>\n", sender) < 0 ||
	    xio_write_all(fd, added, strlen(added)) == -1)
		goto out;
	for (p = post->hdrs ? post->hdrs : "", e = p + post->hdrlen; p < e;
	    p = nl + 1) {
		/* a field runs to the next line that starts with no blank */
		for (nl = p;; nl++) {
			if ((nl = memchr(nl, '\n', (size_t)(e - nl))) ==
			    NULL) {
				nl = e - 1;
				break;
			}
			if (nl + 1 >= e || (nl[1] != ' ' && nl[1] != '\t'))
				break;
		}
		colon = memchr(p, ':', (size_t)(nl - p));
		if (colon && list_mail_is_replaced(p, (size_t)(colon - p),
		    l->reply_to_list))
			continue;
		if (colon && subject && first_subject &&
		    (size_t)(colon - p) == 7 && strncasecmp(p, "Subject",
		    7) == 0) {
			first_subject = 0;
			if (dprintf(fd, "Subject: %s\n", subject) < 0)
				goto out;
			continue;
		}
		if (xio_write_all(fd, p, (size_t)(nl - p) + 1) == -1)
			goto out;
	}
	if (subject && first_subject && dprintf(fd, "Subject: %s\n",
	    subject) < 0)
		goto out;
	if (xio_write_all(fd, "\n", 1) == -1)
		goto out;
	for (p = post->body ? post->body : "", e = p + post->bodylen; p < e;
	    p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL) {
			if (xio_write_all(fd, p, (size_t)(e - p)) == -1 ||
			    xio_write_all(fd, "\n", 1) == -1)
				goto out;
			break;
		}
		n = nl > p && nl[-1] == '\r';
		if (xio_write_all(fd, p, (size_t)(nl - p) - (size_t)n) == -1 ||
		    xio_write_all(fd, "\n", 1) == -1)
			goto out;
	}
	if (fsync(fd) == -1)
		goto out;
	if (close(fd) == -1) {
		fd = -1;
		goto out;
	}
	fd = -1;
	/* 2. into new/, durably */
	if (rename(tmp, new) == -1)
		goto out;
	n = snprintf(tmp, sizeof(tmp), "%s/new", dir);
	if (n < 0 || (size_t)n >= sizeof(tmp) ||
	    (dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(dfd);
	close(dfd);
	return rc;
out:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}

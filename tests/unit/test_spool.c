/* the outgoing-mail spool: two acknowledgements for one reference spooled
 * in the same second are two files, each whole (issue 15 item 6); the ref
 * line says whose mail it is; sent files wait in free/ and are reused;
 * only the milter's own regular files are read; the crash sweep moves
 * what its owner says was committed and removes old leftovers */
#include <sys/stat.h>
#include <sys/time.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"
#include "log.h"
#include "unit.h"

#define NACK	10

/* the sweep's question, answered as the enquiry store would: only
 * ENQ-2026-000007 to crash@example.org committed */
static int
committed(void *arg, const char *ref, const char *rcpt, long long when)
{
	int *asked = arg;

	(*asked)++;
	return strcmp(ref, "ENQ-2026-000007") == 0 &&
	    strcmp(rcpt, "crash@example.org") == 0 && when > 0;
}

/* write path with text, its times set to when (0: now) */
static int
plant(const char *path, const char *text, time_t when)
{
	struct timeval tv[2];
	FILE *f;

	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(text, f);
	if (fclose(f) != 0)
		return -1;
	if (when == 0)
		return 0;
	tv[0].tv_sec = tv[1].tv_sec = when;
	tv[0].tv_usec = tv[1].tv_usec = 0;
	return utimes(path, tv);
}

static int
exists(const char *base, const char *sub, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/spool/%s/%s", base, sub, name);
	return lstat(path, &st) == 0;
}

static int
count_dir(const char *dir, int *found)
{
	struct dirent *de;
	char path[4096], buf[512];
	DIR *d;
	int n = 0, fd, i;
	ssize_t r;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((fd = open(path, O_RDONLY)) == -1)
			continue;
		r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[r > 0 ? r : 0] = '\0';
		for (i = 0; i < NACK; i++) {
			char want[64];

			snprintf(want, sizeof(want), "body of ack %d\r\n", i);
			if (strstr(buf, want))
				found[i]++;
		}
	}
	closedir(d);
	return n;
}

int
main(void)
{
	char tmpl[] = "/tmp/test_spool.XXXXXX", err[256], name[128];
	char rcpt[64], msg[64], dir[4096], path[4096], got[600];
	char lname[SPOOL_NAME_MAX], **v;
	const char *m;
	char *buf;
	size_t mlen, nv;
	int found[NACK] = { 0 }, i, n, ok = 1, asked = 0;
	time_t now = time(NULL);

	log_init("test_spool", 1);
	if (mkdtemp(tmpl) == NULL || spool_open(tmpl, NULL, NULL, err,
	    sizeof(err)) == -1) {
		printf("not ok - set up the spool: %s\n", err);
		return 1;
	}
	/* ten senders, one reference, one second */
	for (i = 0; i < NACK; i++) {
		snprintf(rcpt, sizeof(rcpt), "sender%d@example.org", i);
		snprintf(msg, sizeof(msg), "body of ack %d\r\n", i);
		if (spool_tmp("ENQ-2026-000001", rcpt, msg, strlen(msg),
		    now, name, sizeof(name)) == -1 ||
		    spool_commit(name) == -1)
			ok = 0;
	}
	CHECK(ok, "%d acknowledgements for one reference spooled and "
	    "committed", NACK);
	snprintf(dir, sizeof(dir), "%s/spool/new", tmpl);
	n = count_dir(dir, found);
	CHECK(n == NACK, "spool/new holds %d files (want %d)", n, NACK);
	for (i = 0, ok = 1; i < NACK; i++)
		if (found[i] != 1)
			ok = 0;
	CHECK(ok, "each acknowledgement is in exactly one file");
	snprintf(dir, sizeof(dir), "%s/spool/tmp", tmpl);
	n = count_dir(dir, found);
	CHECK(n == 0, "nothing left in spool/tmp (%d)", n);

	/* 2. list mail: its ref line is the list's address */
	if (spool_tmp("partners@rmet.org", "jane@example.org",
	    "Subject: x\r\n\r\nhi\r\n", 19, now, lname,
	    sizeof(lname)) == -1 || spool_commit(lname) == -1)
		CHECK(0, "list mail spooled: %s", strerror(errno));
	buf = spool_read_new(lname, got, sizeof(got), &m, &mlen);
	CHECK(buf != NULL && strcmp(got, "jane@example.org") == 0 &&
	    mlen == 19 && memcmp(m, "Subject: x\r\n", 12) == 0,
	    "read back: its recipient and the message whole");
	CHECK(buf && strncmp(buf, "rcpt jane@example.org\nref "
	    "partners@rmet.org\n\n", 45) == 0,
	    "the file starts: rcpt, then ref = the list's address");
	free(buf);
	CHECK(strstr(lname, ".partners@rmet.org.") != NULL,
	    "its name carries the list's address (%s)", lname);

	/* 3. sent: kept in free/, then written again as the next file */
	CHECK(spool_sent(lname) == 0 && !exists(tmpl, "new", lname),
	    "sent: gone from new/");
	snprintf(dir, sizeof(dir), "%s/spool/free", tmpl);
	CHECK(count_dir(dir, found) == 1, "sent: one file waits in free/");
	CHECK(spool_tmp("ENQ-2026-000002", "bob@example.org", "reused\r\n",
	    8, now, name, sizeof(name)) == 0 && count_dir(dir, found) == 0,
	    "the next spool file is the one from free/");
	snprintf(path, sizeof(path), "%s/spool/tmp/%s", tmpl, name);
	{
		struct stat st;

		CHECK(stat(path, &st) == 0 && st.st_size == (off_t)(strlen(
		    "rcpt bob@example.org\nref ENQ-2026-000002\n\n") + 8),
		    "and holds the new mail only (no tail of the old one)");
	}
	spool_discard(name);
	CHECK(!exists(tmpl, "tmp", name), "discarded: gone from tmp/");

	/* 4. only the milter's own regular files: a link is not read */
	snprintf(path, sizeof(path), "%s/spool/new/1.LINK.1-1", tmpl);
	if (symlink("/etc/passwd", path) == -1)
		CHECK(0, "symlink: %s", strerror(errno));
	errno = 0;
	buf = spool_read_new("1.LINK.1-1", got, sizeof(got), &m, &mlen);
	CHECK(buf == NULL && errno == EPERM, "a symbolic link in new/: "
	    "EPERM, not read");
	free(buf);
	CHECK(spool_failed("1.LINK.1-1") == 0 &&
	    exists(tmpl, "failed", "1.LINK.1-1") &&
	    !exists(tmpl, "new", "1.LINK.1-1"), "moved to failed/");
	snprintf(path, sizeof(path), "%s/spool/new/2.BAD.1-1", tmpl);
	plant(path, "no header here\n", 0);
	errno = 0;
	buf = spool_read_new("2.BAD.1-1", got, sizeof(got), &m, &mlen);
	CHECK(buf == NULL && errno == EINVAL, "a file without its rcpt and "
	    "ref lines: EINVAL");
	free(buf);
	unlink(path);
	spool_close();

	/* 5. the sweep, at a new start: committed leftovers go on, old
	 * uncommitted and cut ones go, young ones wait */
	if (spool_open(tmpl, committed, &asked, err, sizeof(err)) == -1) {
		CHECK(0, "spool opened again: %s", err);
		return UNIT_DONE();
	}
	v = spool_list_new(&nv);
	for (i = 0; i < (int)nv; i++)
		spool_sent(v[i]);
	spool_list_free(v, nv);
	snprintf(path, sizeof(path), "%s/spool/tmp/%lld.ENQ-2026-000007",
	    tmpl, (long long)now - 1000);
	plant(path, "rcpt crash@example.org\nref ENQ-2026-000007\n\nx\r\n",
	    now - 1000);
	snprintf(path, sizeof(path), "%s/spool/tmp/%lld.ENQ-2026-000008",
	    tmpl, (long long)now - 1000);
	plant(path, "rcpt other@example.org\nref ENQ-2026-000008\n\nx\r\n",
	    now - 1000);
	snprintf(path, sizeof(path), "%s/spool/tmp/%lld.ENQ-2026-000009",
	    tmpl, (long long)now - 1000);
	plant(path, "rcpt cut@exam", now - 1000);
	snprintf(path, sizeof(path), "%s/spool/tmp/%lld.ENQ-2026-000010",
	    tmpl, (long long)now);
	plant(path, "rcpt young@example.org\nref ENQ-2026-000010\n\nx\r\n",
	    0);
	spool_sweep();
	snprintf(name, sizeof(name), "%lld.ENQ-2026-000007",
	    (long long)now - 1000);
	CHECK(exists(tmpl, "new", name) && !exists(tmpl, "tmp", name),
	    "committed leftover moved to new/");
	snprintf(name, sizeof(name), "%lld.ENQ-2026-000008",
	    (long long)now - 1000);
	CHECK(!exists(tmpl, "tmp", name) && !exists(tmpl, "new", name),
	    "old uncommitted leftover removed");
	snprintf(name, sizeof(name), "%lld.ENQ-2026-000009",
	    (long long)now - 1000);
	CHECK(!exists(tmpl, "tmp", name), "old cut leftover removed");
	snprintf(name, sizeof(name), "%lld.ENQ-2026-000010", (long long)now);
	CHECK(exists(tmpl, "tmp", name), "young leftover waits in tmp/");
	CHECK(asked == 3, "the owner was asked about the whole files only "
	    "(%d)", asked);
	spool_close();

	/* 6. free/ from an earlier run is emptied at start */
	snprintf(path, sizeof(path), "%s/spool/free/f99", tmpl);
	plant(path, "stale", 0);
	if (spool_open(tmpl, NULL, NULL, err, sizeof(err)) == -1)
		CHECK(0, "spool opened a third time: %s", err);
	snprintf(dir, sizeof(dir), "%s/spool/free", tmpl);
	CHECK(count_dir(dir, found) == 0, "free/ emptied at start");
	spool_close();

	/* 7. an erasure takes the mail of that address, not of one that
	 * merely contains it */
	{
		size_t removed = 0;

		snprintf(path, sizeof(path), "%s/spool/new/p1", tmpl);
		plant(path, "To: E@Example.org\r\n\r\nhello\r\n", 0);
		snprintf(path, sizeof(path), "%s/spool/new/p2", tmpl);
		plant(path, "To: jane@example.org\r\n\r\nhello\r\n", 0);
		snprintf(path, sizeof(path), "%s/spool/failed/p3", tmpl);
		plant(path, "To: <e@example.org.uk>\r\n\r\nhi\r\n", 0);
		snprintf(path, sizeof(path), "%s/spool/failed/p4", tmpl);
		plant(path, "To: <e@example.org>\r\n\r\nhi\r\n", 0);
		CHECK(spool_purge_addr(tmpl, "e@example.org", &removed) == 0 &&
		    removed == 2, "purge: two files removed (%zu)", removed);
		CHECK(!exists(tmpl, "new", "p1") && !exists(tmpl, "failed",
		    "p4"), "purge: the address's mail went, any case");
		CHECK(exists(tmpl, "new", "p2") && exists(tmpl, "failed",
		    "p3"), "purge: jane@example.org and e@example.org.uk "
		    "kept");
	}
	snprintf(dir, sizeof(dir), "rm -rf '%s'", tmpl);
	if (system(dir) != 0)
		printf("# could not remove %s\n", tmpl);
	return UNIT_DONE();
}

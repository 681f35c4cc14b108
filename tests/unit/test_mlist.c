/* members files: parsing, the cache, atomic rewrites, and concurrent
 * writers (forked processes and threads) that never lose an edit */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mlist.h"
#include "unit.h"

#define PROCS		6
#define PER_PROC	15
#define THREADS		4
#define PER_THREAD	15

static char dir[64], path[128];

static int
write_text(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static char *
read_text(const char *p)
{
	static char buf[65536];
	FILE *f = fopen(p, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void *
thread_adds(void *arg)
{
	char addr[64], err[256];
	int t = (int)(long)arg, i, changed;

	for (i = 0; i < PER_THREAD; i++) {
		snprintf(addr, sizeof(addr), "thread%d.%d@example.org", t, i);
		if (mlist_edit(path, MLIST_ADD, addr, &changed, err,
		    sizeof(err)) == -1)
			return (void *)1;
	}
	return NULL;
}

/* files left beside the members file that should not be there */
static int
leftovers(void)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".tmp."))
			n++;
	closedir(d);
	return n;
}

int
main(void)
{
	struct mlist_members *m, *m2;
	char err[512], addr[128], *text;
	pthread_t th[THREADS];
	struct stat st;
	pid_t pids[PROCS];
	int i, j, changed, status, bad;
	void *ret;

	log_init("test_mlist", 1);
	log_setlevel(LOG_LVL_ERR);
	snprintf(dir, sizeof(dir), "/tmp/test_mlist.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		printf("not ok - mkdtemp\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/members.txt", dir);

	/* 1. parsing */
	static const char sample[] =
	    "# the partners\n"
	    "jane@example.org\n"
	    "  Bob@Example.ORG   # head of science\n"
	    "\n"
	    "<carol@example.net>\r\n"
	    "jane@EXAMPLE.org\n"
	    "dave@example.com";
	m = mlist_parse(sample, strlen(sample), "x.txt", 1, err, sizeof(err));
	CHECK(m != NULL, "a members file parses: %s", m ? "" : err);
	CHECK(mlist_count(m) == 4, "four members, duplicates once (%zu)",
	    mlist_count(m));
	CHECK(mlist_has(m, "bob@example.org"), "case-insensitive domain");
	CHECK(mlist_has(m, "JANE@example.org"), "and local part");
	CHECK(mlist_has(m, "carol@example.net"), "<addr> form, CRLF line");
	CHECK(mlist_has(m, "dave@example.com"), "last line without newline");
	CHECK(!mlist_has(m, "eve@example.org"), "a stranger is no member");
	CHECK(!mlist_has(m, ""), "the null address is no member");
	CHECK_STR(mlist_addr(m, 0), "bob@example.org", "sorted, lower case");
	mlist_put(m);
	m = mlist_parse("jane@example.org\nnot an address\n", 33, "x.txt", 1,
	    err, sizeof(err));
	CHECK(m == NULL, "strict: a bad line is an error");
	CHECK_STR(err, "x.txt:2: not a mail address", "with file:line");
	m = mlist_parse("jane@example.org\nnot an address\n", 33, "x.txt", 0,
	    err, sizeof(err));
	CHECK(m != NULL && mlist_count(m) == 1, "lenient: skipped");
	mlist_put(m);
	m = mlist_parse("", 0, "x.txt", 1, err, sizeof(err));
	CHECK(m != NULL && mlist_count(m) == 0, "an empty list");
	mlist_put(m);

	/* 2. edits keep comments, are idempotent, leave no temporary file */
	write_text(path, "# partners\njane@example.org # head\nbob@example.org");
	chmod(path, 0640);
	CHECK(mlist_edit(path, MLIST_ADD, "carol@example.net", &changed, err,
	    sizeof(err)) == 0 && changed, "add");
	CHECK(mlist_edit(path, MLIST_ADD, "Carol@Example.NET", &changed, err,
	    sizeof(err)) == 0 && !changed, "adding a member again: no change");
	CHECK(mlist_edit(path, MLIST_REMOVE, "BOB@example.org", &changed, err,
	    sizeof(err)) == 0 && changed, "remove, any case");
	CHECK(mlist_edit(path, MLIST_REMOVE, "eve@example.org", &changed, err,
	    sizeof(err)) == 0 && !changed, "removing a stranger: no change");
	text = read_text(path);
	CHECK_STR(text, "# partners\njane@example.org # head\n"
	    "carol@example.net\n", "comments kept, the file rewritten");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640,
	    "the file's mode kept");
	CHECK(mlist_edit(path, MLIST_ADD, "not an address", &changed, err,
	    sizeof(err)) == -1, "a bad address refused");
	CHECK(leftovers() == 0, "no temporary files left");
	snprintf(addr, sizeof(addr), "%s/new.txt", dir);
	CHECK(mlist_edit(addr, MLIST_ADD, "first@example.org", &changed, err,
	    sizeof(err)) == 0 && changed, "adding creates a missing file");
	CHECK(mlist_edit(addr, MLIST_REMOVE, "x@example.org", &changed, err,
	    sizeof(err)) == 0 && !changed, "removing from it: no change");
	snprintf(addr, sizeof(addr), "%s/none.txt", dir);
	CHECK(mlist_edit(addr, MLIST_REMOVE, "x@example.org", &changed, err,
	    sizeof(err)) == 0 && !changed, "removing from no file: no change");

	/* 3. the cache: the same snapshot until the file changes */
	m = mlist_get(path, err, sizeof(err));
	m2 = mlist_get(path, err, sizeof(err));
	CHECK(m != NULL && m == m2, "cached while unchanged");
	mlist_put(m2);
	mlist_edit(path, MLIST_ADD, "dave@example.com", &changed, err,
	    sizeof(err));
	m2 = mlist_get(path, err, sizeof(err));
	CHECK(m2 != NULL && m2 != m && mlist_has(m2, "dave@example.com") &&
	    !mlist_has(m, "dave@example.com"),
	    "re-read after an edit; the old snapshot stays valid");
	mlist_put(m);
	mlist_put(m2);
	CHECK(mlist_get("/nonexistent/members.txt", err, sizeof(err)) ==
	    NULL, "a missing file is an error: %s", err);

	/* 4. concurrent writers: processes */
	write_text(path, "# concurrent\n");
	for (i = 0; i < PROCS; i++) {
		if ((pids[i] = fork()) == 0) {
			for (j = 0; j < PER_PROC; j++) {
				snprintf(addr, sizeof(addr), "p%d.%d@example.org",
				    i, j);
				if (mlist_edit(path, MLIST_ADD, addr, &changed,
				    err, sizeof(err)) == -1 || !changed)
					_exit(1);
			}
			_exit(0);
		}
	}
	bad = 0;
	for (i = 0; i < PROCS; i++)
		if (pids[i] < 0 || waitpid(pids[i], &status, 0) == -1 ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad++;
	CHECK(bad == 0, "%d processes each added %d members", PROCS,
	    PER_PROC);
	m = mlist_load(path, 1, err, sizeof(err));
	CHECK(m != NULL && mlist_count(m) == PROCS * PER_PROC,
	    "no edit lost: %zu of %d", mlist_count(m), PROCS * PER_PROC);
	mlist_put(m);

	/* 5. threads, while processes remove half of what they added */
	for (i = 0; i < PROCS; i++) {
		if ((pids[i] = fork()) == 0) {
			for (j = 0; j < PER_PROC; j += 2) {
				snprintf(addr, sizeof(addr), "p%d.%d@example.org",
				    i, j);
				if (mlist_edit(path, MLIST_REMOVE, addr,
				    &changed, err, sizeof(err)) == -1 ||
				    !changed)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, thread_adds, (void *)(long)i);
	bad = 0;
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], &ret);
		bad += ret != NULL;
	}
	for (i = 0; i < PROCS; i++)
		if (waitpid(pids[i], &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			bad++;
	CHECK(bad == 0, "threads adding and processes removing at once");
	m = mlist_load(path, 1, err, sizeof(err));
	j = PROCS * (PER_PROC / 2) + THREADS * PER_THREAD;
	CHECK(m != NULL && (int)mlist_count(m) == j,
	    "every add and remove counted: %zu of %d", mlist_count(m), j);
	CHECK(m && !mlist_has(m, "p0.0@example.org") &&
	    mlist_has(m, "p0.1@example.org") &&
	    mlist_has(m, "thread3.14@example.org"), "the right ones");
	mlist_put(m);
	CHECK(leftovers() == 0, "no temporary files left");

	snprintf(err, sizeof(err), "rm -rf '%s'", dir);
	if (system(err) != 0)
		printf("# could not remove %s\n", dir);
	return UNIT_DONE();
}

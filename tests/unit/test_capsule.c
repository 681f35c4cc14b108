/* the capsule resolver over a temporary directory: what a path means and
 * whether it may be served (files, index, directories, dot-files, symlinks
 * out, hard links, empty directories, names with control bytes) */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capsule.h"
#include "log.h"
#include "unit.h"

static char top[] = "/tmp/test_capsule.XXXXXX";
static char root[64];

static void
put(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if ((f = fopen(p, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) == EOF) {
		perror(p);
		exit(1);
	}
}

static void
at(int (*fn)(const char *, const char *), const char *a, const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (fn(a, p) == -1) {
		perror(p);
		exit(1);
	}
}

static void
dir(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (mkdir(p, 0755) == -1) {
		perror(p);
		exit(1);
	}
}

static int
resolve(int rootfd, const char *path, int isdir, int auto_index,
    struct capsule_file *cf)
{
	return capsule_resolve(rootfd, path, isdir, "index.gmi", auto_index,
	    cf);
}

/* 1 when name is among names */
static int
listed(char **names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

static void
cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", top);
}

int
main(void)
{
	struct capsule_file cf;
	char **names, buf[256];
	size_t n;
	int rootfd, st, fd;
	ssize_t got;

	log_init("test_capsule", 1);
	if (mkdtemp(top) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	snprintf(root, sizeof(root), "%s/root", top);
	if (mkdir(root, 0755) == -1) {
		perror(root);
		return 1;
	}
	/* a file outside the root, for links to point at */
	snprintf(buf, sizeof(buf), "%s/outside", top);
	if ((fd = open(buf, O_WRONLY | O_CREAT, 0644)) == -1 ||
	    write(fd, "secret\n", 7) != 7 || close(fd) == -1) {
		perror(buf);
		return 1;
	}
	put("page.gmi", "# page\n");
	put(".hidden", "hidden\n");
	dir(".well-known");
	put(".well-known/security.txt", "contact\n");
	dir("docs");
	put("docs/index.gmi", "# docs\n");
	put("docs/note.txt", "note\n");
	dir("empty");
	put("twin-a", "one file, two names\n");
	at(link, buf, "hard");			/* a hard link to outside */
	at(symlink, "../outside", "up");	/* a symlink out, relative */
	at(symlink, buf, "abs");		/* and absolute */
	at(symlink, "page.gmi", "alias.gmi");	/* one that stays inside */
	at(symlink, "docs", "docs-alias");
	at(symlink, "loop", "loop");
	snprintf(buf, sizeof(buf), "%s/twin-a", root);
	at(link, buf, "twin-b");		/* both names inside */
	snprintf(buf, sizeof(buf), "%s/outside", top);
	put("bad\nname.gmi", "# forged line\n");
	put("c1\xc2\x85name.gmi", "# c1\n");
	put("latin1-\xe9.gmi", "# not utf-8\n");
	put("caf\xc3\xa9.gmi", "# utf-8\n");
	snprintf(buf, sizeof(buf), "%s/fifo", root);
	if (mkfifo(buf, 0644) == -1) {
		perror(buf);
		return 1;
	}

	if ((rootfd = open(root, O_RDONLY | O_DIRECTORY)) == -1) {
		perror(root);
		return 1;
	}
	if (!capsule_probe(rootfd)) {
		printf("skip - openat2 with RESOLVE_BENEATH not available\n");
		return 0;
	}

	/* 1. files */
	st = resolve(rootfd, "page.gmi", 0, 0, &cf);
	CHECK(st == GEMINI_SUCCESS && cf.fd != -1 && cf.size == 7 &&
	    cf.listing == NULL, "a file is served (status %d)", st);
	CHECK_STR(cf.name, "page.gmi", "its name, for the mime type");
	got = cf.fd != -1 ? read(cf.fd, buf, sizeof(buf)) : -1;
	CHECK(got == 7 && memcmp(buf, "# page\n", 7) == 0,
	    "the descriptor reads the file");
	capsule_file_close(&cf);
	CHECK(cf.fd == -1 && cf.listing == NULL, "closing clears the file");
	st = resolve(rootfd, "page.gmi", 1, 0, &cf);
	CHECK(st == GEMINI_NOT_FOUND, "page.gmi/ names nothing (status %d)",
	    st);
	capsule_file_close(&cf);
	st = resolve(rootfd, "missing.gmi", 0, 0, &cf);
	CHECK(st == GEMINI_NOT_FOUND && cf.fd == -1,
	    "a missing file is not found (status %d)", st);
	capsule_file_close(&cf);
	st = resolve(rootfd, "docs/note.txt", 0, 0, &cf);
	CHECK(st == GEMINI_SUCCESS, "a file in a directory (status %d)", st);
	CHECK_STR(cf.name, "note.txt", "its name is the last component");
	capsule_file_close(&cf);

	/* 2. directories and their index */
	st = resolve(rootfd, "docs", 0, 0, &cf);
	CHECK(st == GEMINI_REDIRECT, "a directory without its slash is "
	    "redirected (status %d)", st);
	capsule_file_close(&cf);
	st = resolve(rootfd, "docs", 1, 0, &cf);
	CHECK(st == GEMINI_SUCCESS && cf.fd != -1 && cf.size == 7,
	    "a directory is served as its index (status %d)", st);
	CHECK_STR(cf.name, "index.gmi", "the index's name");
	capsule_file_close(&cf);
	st = resolve(rootfd, "", 1, 0, &cf);
	CHECK(st == GEMINI_NOT_FOUND, "the root without an index or "
	    "listings is not found (status %d)", st);
	capsule_file_close(&cf);
	st = resolve(rootfd, "empty", 1, 0, &cf);
	CHECK(st == GEMINI_NOT_FOUND, "an empty directory without listings "
	    "is not found (status %d)", st);
	capsule_file_close(&cf);
	st = resolve(rootfd, "empty", 1, 1, &cf);
	CHECK(st == GEMINI_SUCCESS && cf.fd == -1 && cf.listing != NULL,
	    "an empty directory with listings gets one (status %d)", st);
	CHECK_STR(cf.listing, "# Index of /empty/\n\n",
	    "an empty listing has its heading only");
	capsule_file_close(&cf);

	/* 3. dot-files: hidden, except /.well-known/ */
	st = resolve(rootfd, ".hidden", 0, 0, &cf);
	CHECK(st == GEMINI_NOT_FOUND, "a dot-file is not served (status %d)",
	    st);
	capsule_file_close(&cf);
	st = resolve(rootfd, ".well-known/security.txt", 0, 0, &cf);
	CHECK(st == GEMINI_SUCCESS, "/.well-known/ is served (status %d)",
	    st);
	capsule_file_close(&cf);

	/* 4. symlinks: beneath the root only */
	st = resolve(rootfd, "up", 0, 0, &cf);
	CHECK(st == GEMINI_NOT_FOUND && cf.fd == -1,
	    "a relative symlink out is not followed (status %d)", st);
	capsule_file_close(&cf);
	st = resolve(rootfd, "abs", 0, 0, &cf);
	CHECK(st == GEMINI_NOT_FOUND && cf.fd == -1,
	    "an absolute symlink is not followed (status %d)", st);
	capsule_file_close(&cf);
	st = resolve(rootfd, "loop", 0, 0, &cf);
	CHECK(st == GEMINI_NOT_FOUND, "a symlink loop is not found "
	    "(status %d)", st);
	capsule_file_close(&cf);
	st = resolve(rootfd, "alias.gmi", 0, 0, &cf);
	CHECK(st == GEMINI_SUCCESS, "a symlink inside the root is followed "
	    "(status %d)", st);
	capsule_file_close(&cf);
	errno = 0;
	fd = capsule_open(rootfd, "../outside", O_RDONLY);
	CHECK(fd == -1 && errno == EXDEV, "capsule_open refuses .. out of "
	    "the root with EXDEV (errno %d)", errno);
	if (fd != -1)
		close(fd);

	/* 5. hard links and what is not a regular file */
	st = resolve(rootfd, "hard", 0, 0, &cf);
	CHECK(st == GEMINI_NOT_FOUND && cf.fd == -1,
	    "a file with two hard links is not served (status %d)", st);
	capsule_file_close(&cf);
	st = resolve(rootfd, "twin-a", 0, 0, &cf);
	CHECK(st == GEMINI_NOT_FOUND && cf.fd == -1, "nor is one whose other "
	    "name is inside the root too (status %d)", st);
	capsule_file_close(&cf);
	st = resolve(rootfd, "fifo", 0, 0, &cf);
	CHECK(st == GEMINI_NOT_FOUND && cf.fd == -1,
	    "a fifo is not served, and does not block (status %d)", st);
	capsule_file_close(&cf);

	/* 6. names: what may be shown in a listing */
	CHECK(capsule_name_shown("caf\xc3\xa9.gmi"), "a utf-8 name is shown");
	CHECK(!capsule_name_shown("bad\nname"), "a name with a newline is not");
	CHECK(!capsule_name_shown("c1\xc2\x85"), "nor one with a c1 control");
	CHECK(!capsule_name_shown("del\x7f"), "nor one with del");
	CHECK(!capsule_name_shown("latin1-\xe9"), "nor invalid utf-8");

	/* 7. capsule_entry: what a listing may offer */
	CHECK(capsule_entry(rootfd, "docs") == 'd', "a directory entry");
	CHECK(capsule_entry(rootfd, "page.gmi") == 'f', "a file entry");
	CHECK(capsule_entry(rootfd, "docs-alias") == 'd',
	    "a symlink to a directory inside is one");
	CHECK(capsule_entry(rootfd, "hard") == 0, "a hard link is no entry");
	CHECK(capsule_entry(rootfd, "up") == 0, "a symlink out is none");
	CHECK(capsule_entry(rootfd, "loop") == 0, "a symlink loop is none");
	CHECK(capsule_entry(rootfd, "fifo") == 0, "a fifo is none");
	CHECK(capsule_entry(rootfd, "missing") == 0, "a missing name is none");
	CHECK(capsule_entry(rootfd, ".hidden") == 0, "a dot-file is none");
	CHECK(capsule_entry(rootfd, ".well-known/security.txt") == 'f',
	    "a file under /.well-known/ is one");

	/* 7b. capsule_real_path: where a path really leads */
	{
		char real[256];
		int dir = -1, rc;

		rc = capsule_real_path(rootfd, "docs/note.txt", real,
		    sizeof(real), &dir);
		CHECK(rc == 0 && strcmp(real, "docs/note.txt") == 0 &&
		    dir == 0, "a path without links is its own real path");
		rc = capsule_real_path(rootfd, "docs-alias/note.txt", real,
		    sizeof(real), &dir);
		CHECK(rc == 0 && strcmp(real, "docs/note.txt") == 0 &&
		    dir == 0, "through a symlinked directory: %s",
		    rc == 0 ? real : "-1");
		rc = capsule_real_path(rootfd, "docs-alias", real,
		    sizeof(real), &dir);
		CHECK(rc == 0 && strcmp(real, "docs") == 0 && dir == 1,
		    "a symlink to a directory is that directory");
		rc = capsule_real_path(rootfd, "alias.gmi", real, sizeof(real),
		    &dir);
		CHECK(rc == 0 && strcmp(real, "page.gmi") == 0,
		    "a symlinked file is its target");
		rc = capsule_real_path(rootfd, "", real, sizeof(real), &dir);
		CHECK(rc == 0 && real[0] == '\0' && dir == 1, "the root");
		CHECK(capsule_real_path(rootfd, "missing", real, sizeof(real),
		    &dir) == -1 && errno == ENOENT, "a missing path: ENOENT");
		CHECK(capsule_real_path(rootfd, "up", real, sizeof(real), &dir)
		    == -1, "a symlink out has no real path beneath the root");
		CHECK(capsule_real_path(rootfd, "loop", real, sizeof(real),
		    &dir) == -1, "nor a loop");
		CHECK(capsule_real_path(rootfd, "docs-alias/note.txt", real, 5,
		    &dir) == -1 && errno == ENAMETOOLONG,
		    "a real path longer than the buffer: ENAMETOOLONG");
	}

	/* 8. a file only, for gopher and finger */
	st = capsule_resolve_file(rootfd, "docs/note.txt", &cf);
	CHECK(st == GEMINI_SUCCESS && cf.fd != -1 && cf.size == 5,
	    "capsule_resolve_file opens a file (status %d)", st);
	capsule_file_close(&cf);
	st = capsule_resolve_file(rootfd, "docs", &cf);
	CHECK(st == GEMINI_NOT_FOUND && cf.fd == -1,
	    "a directory is not a file (status %d)", st);
	capsule_file_close(&cf);
	st = capsule_resolve_file(rootfd, ".hidden", &cf);
	CHECK(st == GEMINI_NOT_FOUND, "nor is a dot-file (status %d)", st);
	capsule_file_close(&cf);
	st = capsule_resolve_file(rootfd, "hard", &cf);
	CHECK(st == GEMINI_NOT_FOUND, "nor a hard link (status %d)", st);
	capsule_file_close(&cf);
	CHECK(capsule_is_dir(rootfd, "docs") && capsule_is_dir(rootfd, "") &&
	    capsule_is_dir(rootfd, "docs-alias"), "directories are");
	CHECK(!capsule_is_dir(rootfd, "page.gmi") &&
	    !capsule_is_dir(rootfd, "missing") && !capsule_is_dir(rootfd, "up"),
	    "files, missing names and symlinks out are not");

	/* 9. the listing of the root offers only what would be served */
	if (capsule_names(rootfd, "", 1, &names, &n) == -1) {
		CHECK(0, "capsule_names of the root");
	} else {
		CHECK(n == 6, "six names listed (%zu)", n);
		CHECK(listed(names, n, "page.gmi") &&
		    listed(names, n, "alias.gmi") &&
		    listed(names, n, "caf\xc3\xa9.gmi"), "files are listed");
		CHECK(listed(names, n, "docs/") && listed(names, n, "empty/") &&
		    listed(names, n, "docs-alias/"),
		    "directories are listed with a slash");
		CHECK(!listed(names, n, ".hidden") &&
		    !listed(names, n, ".well-known/"), "no dot-files");
		CHECK(!listed(names, n, "hard") && !listed(names, n, "twin-a") &&
		    !listed(names, n, "up") && !listed(names, n, "abs") &&
		    !listed(names, n, "loop") && !listed(names, n, "fifo"),
		    "no hard links, symlinks out, loops or fifos");
		CHECK(!listed(names, n, "bad\nname.gmi") &&
		    !listed(names, n, "c1\xc2\x85name.gmi") &&
		    !listed(names, n, "latin1-\xe9.gmi"),
		    "no names with control bytes or invalid utf-8");
		CHECK(n > 1 && strcmp(names[0], names[1]) < 0, "sorted");
		capsule_names_free(names, n);
	}
	st = resolve(rootfd, "", 1, 1, &cf);
	CHECK(st == GEMINI_SUCCESS && cf.listing != NULL &&
	    strstr(cf.listing, "=> docs/ docs/\n") != NULL &&
	    strstr(cf.listing, "=> caf\xc3\xa9.gmi caf\xc3\xa9.gmi\n") != NULL &&
	    strstr(cf.listing, "name") == NULL,
	    "the generated listing links what capsule_names offers");
	capsule_file_close(&cf);

	/* 10. errno to status, in one place */
	CHECK(capsule_errno_status(ENOENT) == GEMINI_NOT_FOUND &&
	    capsule_errno_status(EXDEV) == GEMINI_NOT_FOUND &&
	    capsule_errno_status(ELOOP) == GEMINI_NOT_FOUND &&
	    capsule_errno_status(EACCES) == GEMINI_NOT_FOUND,
	    "a missing, escaping or forbidden file is not found");
	CHECK(capsule_errno_status(EMFILE) == GEMINI_TEMP_FAILURE &&
	    capsule_errno_status(ENOMEM) == GEMINI_TEMP_FAILURE,
	    "running out of descriptors or memory is temporary");
	CHECK(capsule_errno_status(EIO) == GEMINI_PERM_FAILURE,
	    "anything else is a failure");

	close(rootfd);
	return UNIT_DONE();
}

/*
 * capsule-check: check a capsule's files before visitors read them.
 *
 * usage: capsule-check [-A] [-I index] DIR...
 *
 * every file under each DIR is looked at, dot-files included; each problem
 * is printed on stderr as "file:line: problem", and the exit status is 1
 * when there was any problem (2 on a usage error), else 0.
 *
 * what counts as text: .gmi and .gemini are gemtext; .txt, .text, .md,
 * .markdown, .csv, .tsv, .json, .xml, .html, .htm, .css, .svg, .conf, .ini,
 * .asc, .pem and .sh are plain text; a known binary extension (images,
 * audio, video, fonts, archives, pdf) is binary and only has to be a
 * regular file; any other file is text unless its first 8 KiB hold a NUL
 * byte.
 *
 * every text file must be valid UTF-8 (no overlong forms, surrogates or
 * code points above U+10FFFF) without a byte-order mark, have LF line
 * endings, no control characters but tab (C1 ones are usually mojibake) and
 * no trailing whitespace (space, tab or no-break space: invisible, and the
 * no-break kind comes from pasted web pages). trailing whitespace is allowed
 * inside ``` preformatted blocks of gemtext and markdown, where text is
 * shown verbatim and may mean something ("-- " before a signature).
 *
 * gemtext pages must also have a level-1 heading (the title gopher menus
 * show), close every preformatted block, and have well-formed link lines
 * whose relative targets exist under the root.  targets are resolved the
 * way capsuled does: relative to the page's directory (or the root for
 * "/..."), query and fragment dropped, percent-decoded, dot segments
 * applied; climbing above the root is a problem, a dot-file outside
 * /.well-known/ is one (it is not served), a target ending in "/" must be
 * a directory, and a directory needs its index file (-I, default
 * index.gmi) unless -A says the server generates listings.  symlinks are
 * resolved by the kernel with RESOLVE_BENEATH, as the server does
 * (capsule_open: Linux 5.6 or later, as for capsuled), so one that leaves
 * the root, or is absolute, is a problem.
 *
 * a regular file with more than one hard link is a problem (capsuled
 * refuses to serve it: its other name may lie outside the root), and so
 * is a name that holds a control character or invalid UTF-8 (capsuled
 * leaves it out of listings, gopher menus and the finger list); both
 * rules are capsule.c's, the ones capsuled applies.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "capsule.h"
#include "hex.h"
#include "log.h"
#include "readfile.h"
#include "request.h"
#include "utf8.h"

#define CAPCHECK_MAXFILE	(64UL * 1024 * 1024)
#define CAPCHECK_SNIFF		8192
#define CAPCHECK_MAXDEPTH	32

enum capcheck_kind { KIND_BINARY, KIND_TEXT, KIND_GEMTEXT, KIND_MARKDOWN };

struct capcheck {
	int		 rootfd;
	char		 rootname[PATH_MAX];	/* as given, without trailing '/' */
	const char	*index;
	int		 autoindex;
	unsigned long	 files;
	unsigned long	 problems;
};

static void	capcheck_problem(struct capcheck *, const char *, size_t,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static void	capcheck_dir(struct capcheck *, int, const char *, int);

static void
capcheck_problem(struct capcheck *ck, const char *rel, size_t line,
    const char *fmt, ...)
{
	char msg[1024], path[PATH_MAX * 2], name[PATH_MAX * 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* a file name must not forge a line of its own */
	snprintf(path, sizeof(path), "%s%s%s", ck->rootname,
	    rel[0] != '\0' ? "/" : "", rel);
	log_escape(name, sizeof(name), path, strlen(path));
	/* one write per problem, so lines never mix */
	dprintf(STDERR_FILENO, "%s:%zu: %s\n", name, line, msg);
	ck->problems++;
}

/* quote a url or name for a message: control bytes become \xNN */
static const char *
capcheck_quote(char *buf, size_t bufsz, const char *s, size_t len)
{
	log_escape(buf, bufsz, s, len);
	return buf;
}

static int
capcheck_ext(const char *name, const char *const *list)
{
	const char *dot = strrchr(name, '.');

	if (dot == NULL || dot == name)
		return 0;
	for (; *list != NULL; list++)
		if (strcasecmp(dot + 1, *list) == 0)
			return 1;
	return 0;
}

static enum capcheck_kind
capcheck_kind(const char *name, const unsigned char *buf, size_t len)
{
	static const char *const gemtext[] = { "gmi", "gemini", NULL };
	static const char *const markdown[] = { "md", "markdown", NULL };
	static const char *const text[] = { "txt", "text", "csv", "tsv",
	    "json", "xml", "html", "htm", "css", "svg", "conf", "ini", "asc",
	    "pem", "sh", NULL };
	static const char *const binary[] = { "png", "jpg", "jpeg", "gif",
	    "webp", "avif", "bmp", "ico", "tif", "tiff", "pdf", "zip", "gz",
	    "tgz", "xz", "bz2", "zst", "tar", "7z", "mp3", "ogg", "oga", "opus",
	    "flac", "wav", "mp4", "webm", "mkv", "woff", "woff2", "ttf", "otf",
	    "epub", NULL };

	if (capcheck_ext(name, gemtext))
		return KIND_GEMTEXT;
	if (capcheck_ext(name, markdown))
		return KIND_MARKDOWN;
	if (capcheck_ext(name, text))
		return KIND_TEXT;
	if (capcheck_ext(name, binary))
		return KIND_BINARY;
	if (memchr(buf, '\0', len < CAPCHECK_SNIFF ? len : CAPCHECK_SNIFF))
		return KIND_BINARY;
	return KIND_TEXT;
}

static int
capcheck_is_scheme(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || !isalpha((unsigned char)s[0]))
		return 0;
	for (i = 1; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' &&
		    s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

/*
 * the syntax of one link url, without looking at files: returns NULL when
 * it is well-formed, else what is wrong.  *local is set when the url is a
 * relative reference to a path on this capsule.
 */
static const char *
capcheck_url_syntax(const char *url, size_t len, int *local)
{
	static const char *const hier[] = { "gemini", "gopher", "finger",
	    "http", "https", "spartan", "titan", "ftp", NULL };
	const char *rest, *host;
	size_t i, n, slen;

	*local = 0;
	/* 1. bytes a url can never hold */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];

		if (c < 0x20 || c == 0x7f)
			return "control character in URL";
		if (c == 0xc2 && i + 1 < len &&
		    (unsigned char)url[i + 1] == 0xa0)
			return "no-break space in URL (write %20 for a space)";
		if (c == '"' || c == '<' || c == '>' || c == '\\')
			return "character not allowed in a URL (\", <, > or \\)";
		if (c == '%' && (i + 2 >= len || hex_value(url[i + 1]) < 0 ||
		    hex_value(url[i + 2]) < 0))
			return "malformed percent-escape in URL";
	}
	/* 2. a scheme is whatever precedes a ':' that comes before / ? # */
	slen = strcspn(url, ":/?#");
	if (slen < len && url[slen] == ':') {
		if (!capcheck_is_scheme(url, slen))
			return "bad scheme syntax in URL";
		rest = url + slen + 1;
		n = len - slen - 1;
		if (n == 0)
			return "URL has a scheme and nothing else";
		for (i = 0; hier[i] != NULL; i++)
			if (strlen(hier[i]) == slen &&
			    strncasecmp(url, hier[i], slen) == 0)
				break;
		if (hier[i] != NULL) {
			if (n < 2 || rest[0] != '/' || rest[1] != '/')
				return "URL lacks \"//\" after its scheme";
			host = rest + 2;
			if (strcspn(host, "/?#") == 0)
				return "URL has no host";
		}
		if (slen == 6 && strncasecmp(url, "mailto", 6) == 0 &&
		    memchr(rest, '@', strcspn(rest, "?")) == NULL)
			return "mailto: URL without an address";
		return NULL;
	}
	/* 3. a network-path reference names another host */
	if (len >= 2 && url[0] == '/' && url[1] == '/') {
		if (strcspn(url + 2, "/?#") == 0)
			return "URL has no host";
		return NULL;
	}
	*local = 1;
	return NULL;
}

struct capcheck_target {
	char	path[PATH_MAX];	/* root-relative, "." for the root */
	int	wants_dir;	/* the reference ends in "/" */
	int	dotfile;	/* a segment starts with '.', not /.well-known/ */
	int	empty;		/* no path at all: the page itself */
};

/*
 * resolve a relative reference against the page's directory (pure):
 * returns NULL or what is wrong. the dot segments and the dot-file rule
 * are the server's own (req_clean_path, req_path_hidden)
 */
static const char *
capcheck_resolve(const char *pagedir, const char *url, size_t len,
    struct capcheck_target *t)
{
	char dec[PATH_MAX];
	size_t plen, o = 0;
	int n;

	memset(t, 0, sizeof(*t));
	/* 1. the path ends at the query or fragment */
	plen = strcspn(url, "?#");
	if (plen > len)
		plen = len;
	if (plen == 0) {
		t->empty = 1;
		return NULL;
	}
	/* 2. percent-decode, as the server does */
	switch (req_path_decode(url, plen, dec, sizeof(dec), &o)) {
	case REQ_DECODE_OK:
		break;
	case REQ_DECODE_BAD:
		return "malformed percent-escape in URL";
	case REQ_DECODE_NUL:
		return "percent-encoded NUL in URL";
	default:
		return "URL too long";
	}
	/* 3. start from the page's directory unless the path is absolute */
	if (dec[0] == '/')
		n = snprintf(t->path, sizeof(t->path), "%s", dec);
	else
		n = snprintf(t->path, sizeof(t->path), "%s/%s", pagedir, dec);
	if (n < 0 || (size_t)n >= sizeof(t->path))
		return "URL too long";
	/* 4. apply dot segments; never climb above the root */
	if (req_clean_path(t->path, &t->wants_dir) == -1)
		return "link climbs out of the capsule root";
	/* 5. dot-files the server will not serve */
	t->dotfile = req_path_hidden(t->path);
	if (t->path[0] == '\0')
		snprintf(t->path, sizeof(t->path), ".");
	return NULL;
}

static void
capcheck_link(struct capcheck *ck, const char *rel, const char *pagedir,
    size_t lineno, const char *line, size_t len)
{
	struct capcheck_target t;
	struct stat st;
	char q[256], alt[PATH_MAX];
	const char *url, *why;
	size_t i = 2, ulen, lstart, wlen;
	int local, fd, n;

	/* 1. "=>" [whitespace] url [whitespace label] */
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	url = line + i;
	while (i < len && line[i] != ' ' && line[i] != '\t')
		i++;
	ulen = (size_t)(line + i - url);
	if (ulen == 0) {
		capcheck_problem(ck, rel, lineno, "link line with no URL");
		return;
	}
	lstart = i;
	while (lstart < len && (line[lstart] == ' ' || line[lstart] == '\t'))
		lstart++;
	capcheck_quote(q, sizeof(q), url, ulen);
	/* 2. its syntax */
	{
		char ubuf[PATH_MAX];

		if (ulen >= sizeof(ubuf)) {
			capcheck_problem(ck, rel, lineno, "URL too long");
			return;
		}
		memcpy(ubuf, url, ulen);
		ubuf[ulen] = '\0';
		if ((why = capcheck_url_syntax(ubuf, ulen, &local)) != NULL) {
			capcheck_problem(ck, rel, lineno, "%s: \"%s\"", why, q);
			return;
		}
		if (!local)
			return;
		/* 3. where it leads */
		if ((why = capcheck_resolve(pagedir, ubuf, ulen, &t)) != NULL) {
			capcheck_problem(ck, rel, lineno, "%s: \"%s\"", why, q);
			return;
		}
	}
	if (t.empty)
		return;
	if (t.dotfile) {
		capcheck_problem(ck, rel, lineno, "link to a dot-file, which "
		    "the server does not serve: \"%s\"", q);
		return;
	}
	/* 4. does it exist, beneath the root, as what the link expects */
	if ((fd = capsule_open(ck->rootfd, t.path, O_PATH)) == -1) {
		if (errno == EXDEV) {
			capcheck_problem(ck, rel, lineno, "link target leaves "
			    "the root through a symlink: \"%s\"", q);
			return;
		}
		if (errno == ELOOP) {
			capcheck_problem(ck, rel, lineno, "link target is a "
			    "symlink loop: \"%s\"", q);
			return;
		}
		if (errno != ENOENT && errno != ENOTDIR) {
			capcheck_problem(ck, rel, lineno, "link target cannot "
			    "be opened: \"%s\": %s", q, strerror(errno));
			return;
		}
		/* "=> my page.gmi" parses as url "my", label "page.gmi" */
		for (wlen = 0; lstart + wlen < len && line[lstart + wlen] != ' '
		    && line[lstart + wlen] != '\t'; wlen++)
			;
		n = snprintf(alt, sizeof(alt), "%.*s %.*s", (int)ulen, url,
		    (int)wlen, line + lstart);
		if (lstart < len && n > 0 && (size_t)n < sizeof(alt) &&
		    capcheck_resolve(pagedir, alt, (size_t)n, &t) == NULL &&
		    !t.empty && (fd = capsule_open(ck->rootfd, t.path,
		    O_PATH)) != -1) {
			close(fd);
			capcheck_problem(ck, rel, lineno, "link target does "
			    "not exist: \"%s\" (a URL cannot contain spaces: "
			    "write %%20)", q);
			return;
		}
		capcheck_problem(ck, rel, lineno, "link target does not "
		    "exist: \"%s\"", q);
		return;
	}
	if (fstat(fd, &st) == -1) {
		capcheck_problem(ck, rel, lineno, "link target cannot be "
		    "examined: \"%s\": %s", q, strerror(errno));
		close(fd);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		if (!ck->autoindex &&
		    (fstatat(fd, ck->index, &st, 0) == -1 ||
		    !S_ISREG(st.st_mode)))
			capcheck_problem(ck, rel, lineno, "link to a directory "
			    "without %s: \"%s\"", ck->index, q);
	} else if (t.wants_dir)
		capcheck_problem(ck, rel, lineno, "link ends in \"/\" but its "
		    "target is not a directory: \"%s\"", q);
	else if (!S_ISREG(st.st_mode))
		capcheck_problem(ck, rel, lineno, "link target is not a "
		    "regular file: \"%s\"", q);
	close(fd);
}

/* the checks every text file gets, line by line, plus gemtext's own */
static void
capcheck_text(struct capcheck *ck, const char *rel, const char *pagedir,
    enum capcheck_kind kind, const unsigned char *buf, size_t len)
{
	size_t pos = 0, lineno = 0, crlf = 0, crlf_first = 0, pre_line = 0;
	int pre = 0, heading = 0;
	int fenced = kind == KIND_GEMTEXT || kind == KIND_MARKDOWN;

	while (pos < len) {
		const unsigned char *line = buf + pos;
		const unsigned char *nl = memchr(line, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;
		size_t i, col, skip = 0, end;
		uint32_t cp = 0;
		int toggle;

		pos += n + (nl != NULL);
		lineno++;
		if (n > 0 && line[n - 1] == '\r' && nl != NULL) {
			if (crlf++ == 0)
				crlf_first = lineno;
			n--;
		}
		/* 1. a byte-order mark is never wanted */
		if (lineno == 1 && n >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
			capcheck_problem(ck, rel, 1, "byte-order mark (BOM) at "
			    "the start of the file");
			skip = 3;
		}
		/* 2. valid UTF-8 without control characters */
		for (i = skip, col = 1; i < n; col++) {
			size_t k = utf8_decode((const char *)line + i, n - i,
			    &cp);

			if (k == 0) {
				capcheck_problem(ck, rel, lineno, "invalid UTF-8 "
				    "at column %zu: %s", col,
				    utf8_error((const char *)line + i, n - i));
				break;
			}
			if ((cp < 0x20 && cp != '\t') || cp == 0x7f) {
				capcheck_problem(ck, rel, lineno, "control "
				    "character U+%04X at column %zu",
				    (unsigned)cp, col);
				break;
			}
			if (cp >= 0x80 && cp <= 0x9f) {
				capcheck_problem(ck, rel, lineno, "C1 control "
				    "character U+%04X at column %zu (mojibake?)",
				    (unsigned)cp, col);
				break;
			}
			if (cp == 0xfeff) {
				capcheck_problem(ck, rel, lineno, "stray "
				    "byte-order mark U+FEFF at column %zu", col);
				break;
			}
			i += k;
		}
		/* 3. trailing space, tab or no-break space, except in the
		 * verbatim lines between ``` toggles */
		toggle = fenced && n - skip >= 3 &&
		    memcmp(line + skip, "```", 3) == 0;
		end = n;
		if ((!pre || toggle) && end > skip && (line[end - 1] == ' ' ||
		    line[end - 1] == '\t' || (end - skip >= 2 &&
		    line[end - 2] == 0xc2 && line[end - 1] == 0xa0)))
			capcheck_problem(ck, rel, lineno, "trailing whitespace");
		if (toggle) {
			pre = !pre;
			pre_line = lineno;
			continue;
		}
		if (kind != KIND_GEMTEXT || pre)
			continue;
		/* 4. gemtext: headings and links */
		if (n - skip >= 1 && line[skip] == '#' &&
		    (n - skip == 1 || line[skip + 1] != '#')) {
			for (i = skip + 1; i < n && (line[i] == ' ' ||
			    line[i] == '\t'); i++)
				;
			if (i == n)
				capcheck_problem(ck, rel, lineno,
				    "empty level-1 heading");
			else
				heading = 1;
		}
		if (n - skip >= 2 && line[skip] == '=' && line[skip + 1] == '>')
			capcheck_link(ck, rel, pagedir, lineno,
			    (const char *)line + skip, n - skip);
	}
	if (crlf > 0)
		capcheck_problem(ck, rel, crlf_first, "CRLF line ending (%zu "
		    "line%s in all; gemtext and plain text want LF)", crlf,
		    crlf == 1 ? "" : "s");
	if (fenced && pre)
		capcheck_problem(ck, rel, pre_line, "unterminated preformatted "
		    "block (``` opened here is never closed)");
	if (kind == KIND_GEMTEXT && !heading)
		capcheck_problem(ck, rel, 1, "page without a level-1 heading "
		    "(a line \"# Title\" outside preformatted text)");
}

static void
capcheck_file(struct capcheck *ck, int dirfd, const char *name,
    const char *rel, const char *pagedir)
{
	unsigned char *buf;
	size_t got;
	int fd;

	ck->files++;
	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		capcheck_problem(ck, rel, 1, "cannot open: %s", strerror(errno));
		return;
	}
	buf = (unsigned char *)readfile_fd(fd, CAPCHECK_MAXFILE, &got);
	if (buf == NULL) {
		if (errno == ENOMEM)
			fatal("malloc");
		if (errno == EFBIG)
			capcheck_problem(ck, rel, 1, "too large to check (over "
			    "%lu bytes)", CAPCHECK_MAXFILE);
		else
			capcheck_problem(ck, rel, 1, "cannot read: %s",
			    errno == ENODATA ? "file shrank" : strerror(errno));
		close(fd);
		return;
	}
	switch (capcheck_kind(name, buf, got)) {
	case KIND_BINARY:
		break;
	case KIND_TEXT:
		capcheck_text(ck, rel, pagedir, KIND_TEXT, buf, got);
		break;
	case KIND_GEMTEXT:
		capcheck_text(ck, rel, pagedir, KIND_GEMTEXT, buf, got);
		break;
	case KIND_MARKDOWN:
		capcheck_text(ck, rel, pagedir, KIND_MARKDOWN, buf, got);
		break;
	}
	free(buf);
	close(fd);
}

static void
capcheck_symlink(struct capcheck *ck, int dirfd, const char *name,
    const char *rel)
{
	char target[PATH_MAX], q[256];
	ssize_t n;
	int fd;

	n = readlinkat(dirfd, name, target, sizeof(target) - 1);
	if (n == -1) {
		capcheck_problem(ck, rel, 1, "cannot read symlink: %s",
		    strerror(errno));
		return;
	}
	target[n] = '\0';
	capcheck_quote(q, sizeof(q), target, (size_t)n);
	if (target[0] == '/') {
		capcheck_problem(ck, rel, 1, "absolute symlink to \"%s\": the "
		    "server resolves beneath the root and refuses it", q);
		return;
	}
	if ((fd = capsule_open(ck->rootfd, rel, O_PATH)) != -1) {
		close(fd);
		return;
	}
	if (errno == EXDEV)
		capcheck_problem(ck, rel, 1, "symlink to \"%s\" leaves the "
		    "root", q);
	else if (errno == ENOENT || errno == ENOTDIR)
		capcheck_problem(ck, rel, 1, "dangling symlink to \"%s\"", q);
	else
		capcheck_problem(ck, rel, 1, "symlink to \"%s\": %s", q,
		    strerror(errno));
}

static int
capcheck_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* walk one directory in name order; dirfd is consumed */
static void
capcheck_dir(struct capcheck *ck, int dirfd, const char *reldir, int depth)
{
	char **names = NULL, rel[PATH_MAX];
	size_t nnames = 0, cap = 0, i;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int n, sub;

	if ((d = fdopendir(dirfd)) == NULL) {
		capcheck_problem(ck, reldir, 1, "cannot read directory: %s",
		    strerror(errno));
		close(dirfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (nnames == cap) {
			cap = cap ? cap * 2 : 32;
			if ((names = reallocarray(names, cap, sizeof(*names))) == NULL)
				fatal("reallocarray");
		}
		if ((names[nnames++] = strdup(de->d_name)) == NULL)
			fatal("strdup");
	}
	if (nnames > 1)		/* qsort(NULL, 0, ...) is undefined */
		qsort(names, nnames, sizeof(*names), capcheck_cmp);
	for (i = 0; i < nnames; i++) {
		n = snprintf(rel, sizeof(rel), "%s%s%s", reldir,
		    reldir[0] != '\0' ? "/" : "", names[i]);
		if (n < 0 || (size_t)n >= sizeof(rel)) {
			capcheck_problem(ck, reldir, 1, "path too long: %s",
			    names[i]);
			continue;
		}
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == -1) {
			capcheck_problem(ck, rel, 1, "cannot stat: %s",
			    strerror(errno));
			continue;
		}
		/* what capsuled leaves out of listings, menus and finger */
		if (names[i][0] != '.' && !capsule_name_shown(names[i]))
			capcheck_problem(ck, rel, 1, "name with a control "
			    "character or invalid UTF-8: capsuled does not "
			    "list it");
		if (S_ISREG(st.st_mode) && capsule_refusal(&st) != NULL)
			capcheck_problem(ck, rel, 1, "%s (%ju links): capsuled "
			    "does not serve it, since another name for it may "
			    "lie outside the root", capsule_refusal(&st),
			    (uintmax_t)st.st_nlink);
		if (S_ISREG(st.st_mode))
			capcheck_file(ck, dirfd, names[i], rel,
			    reldir[0] != '\0' ? reldir : ".");
		else if (S_ISLNK(st.st_mode))
			capcheck_symlink(ck, dirfd, names[i], rel);
		else if (S_ISDIR(st.st_mode)) {
			if (depth >= CAPCHECK_MAXDEPTH) {
				capcheck_problem(ck, rel, 1, "directories nested "
				    "deeper than %d", CAPCHECK_MAXDEPTH);
				continue;
			}
			sub = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (sub == -1)
				capcheck_problem(ck, rel, 1, "cannot open "
				    "directory: %s", strerror(errno));
			else
				capcheck_dir(ck, sub, rel, depth + 1);
		} else
			capcheck_problem(ck, rel, 1, "not a regular file, "
			    "directory or symlink");
	}
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	closedir(d);
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: capsule-check [-A] [-I index] DIR...\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct capcheck ck;
	unsigned long files = 0, problems = 0;
	size_t len;
	int ch, i, fd;

	log_init("capsule-check", 1);
	memset(&ck, 0, sizeof(ck));
	ck.index = "index.gmi";
	while ((ch = getopt(argc, argv, "AI:")) != -1) {
		switch (ch) {
		case 'A':
			ck.autoindex = 1;
			break;
		case 'I':
			if (optarg[0] == '\0' || strchr(optarg, '/') != NULL)
				usage();
			ck.index = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();

	for (i = 0; i < argc; i++) {
		len = strlen(argv[i]);
		while (len > 1 && argv[i][len - 1] == '/')
			len--;
		if (len >= sizeof(ck.rootname)) {
			fprintf(stderr, "capsule-check: %s: name too long\n",
			    argv[i]);
			problems++;
			continue;
		}
		memcpy(ck.rootname, argv[i], len);
		ck.rootname[len] = '\0';
		ck.files = ck.problems = 0;
		if ((ck.rootfd = open(argv[i], O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1) {
			fprintf(stderr, "capsule-check: %s: %s\n", argv[i],
			    strerror(errno));
			problems++;
			continue;
		}
		/* no weaker fallback: what capsuled refuses to run without
		 * cannot be checked without */
		if (!capsule_probe(ck.rootfd)) {
			fprintf(stderr, "capsule-check: %s: openat2 with "
			    "RESOLVE_BENEATH does not work here (%s); Linux "
			    "5.6 or later is needed\n", argv[i],
			    strerror(errno));
			close(ck.rootfd);
			problems++;
			continue;
		}
		if ((fd = dup(ck.rootfd)) == -1)
			fatal("dup");
		capcheck_dir(&ck, fd, "", 0);
		close(ck.rootfd);
		files += ck.files;
		problems += ck.problems;
	}
	printf("capsule-check: %lu file%s, %lu problem%s\n", files,
	    files == 1 ? "" : "s", problems, problems == 1 ? "" : "s");
	return problems > 0;
}

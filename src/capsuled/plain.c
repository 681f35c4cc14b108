/* gopher and finger over the capsule: selector -> file -> plain text */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "capsule.h"
#include "conf.h"
#include "gemtext.h"
#include "loc.h"
#include "mime.h"
#include "plain.h"
#include "plaintext.h"
#include "request.h"
#include "srv.h"
#include "status.h"

#define PLAIN_FILE_MAX	(8u * 1024 * 1024)	/* served from memory */

/* read a file capsule_resolve opened whole, within gopher's and
 * finger's size limit; the gemini status. the file is closed */
static int
plain_read_file(struct capsule_file *cf, struct buf *b)
{
	char chunk[16384];
	ssize_t n = -1;
	int status = GEMINI_TEMP_FAILURE;

	if ((size_t)cf->size > PLAIN_FILE_MAX)
		status = GEMINI_PERM_FAILURE;
	else {
		while ((n = read(cf->fd, chunk, sizeof(chunk))) > 0)
			if (buf_append(b, chunk, (size_t)n) == -1)
				break;
		if (n == 0)
			status = GEMINI_SUCCESS;
	}
	capsule_file_close(cf);
	return status;
}

/* read a whole file beneath the root, as gemini would serve it
 * (capsule_resolve_file); the gemini status */
static int
plain_read(int rootfd, const char *path, struct buf *b)
{
	struct capsule_file cf;
	int status;

	if ((status = capsule_resolve_file(rootfd, path, &cf)) !=
	    GEMINI_SUCCESS)
		return status;
	return plain_read_file(&cf, b);
}

static int
plain_has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int
plain_gemini_port(const struct srv *s)
{
	size_t i;

	for (i = 0; i < s->nlisteners; i++)
		if (s->listeners[i].kind == LISTEN_GEMINI)
			return s->listeners[i].port;
	return 1965;
}

/* the gemini url of a page, as the base for its relative links */
static void
plain_base_url(const struct srv *s, const char *path, char *url, size_t sz)
{
	int port = plain_gemini_port(s);

	if (port == 1965)
		snprintf(url, sz, "gemini://%s/%s", s->conf->servers[0].name,
		    path);
	else
		snprintf(url, sz, "gemini://%s:%d/%s",
		    s->conf->servers[0].name, port, path);
}

struct plain_ctx {
	const struct srv *srv;
	int		 rootfd;
};

/* where path really leads (through symbolic links), when that is a
 * place another location than asked guards: its status, else 0 (a path
 * whose real place cannot be told is GEMINI_NOT_FOUND) */
static int
plain_guard_real(const struct srv *s, const char *path,
    const struct location *asked)
{
	const struct server_conf *sc = &s->conf->servers[0];
	const struct location *g;
	char real[REQ_MAX_URL + 1];
	int rdir;

	if (!sc->guarded)
		return 0;
	if (capsule_real_path(s->rootfds[0], path, real, sizeof(real), &rdir)
	    == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
		    GEMINI_NOT_FOUND;
	if (strcmp(real, path) == 0 ||
	    (g = loc_guard(sc->locs, sc->nlocs, real, rdir, asked)) == NULL)
		return 0;
	return g->client_cert ? GEMINI_CERT_REQUIRED : g->status;
}

/*
 * the server's locations over gopher and finger, which cannot ask for a
 * certificate nor redirect: 0 with the clean path to serve in out (path
 * itself, or where a redirect inside the capsule goes, followed once) and
 * the location that holds there in *locp (NULL for none); else the status
 * that keeps it back (a client-cert or status location; GEMINI_NOT_FOUND
 * for a redirect that leaves the capsule or lands on another)
 */
static int
plain_locate(const struct srv *s, const char *path, int dir, char *out,
    size_t outsz, int *outdir, const struct location **locp)
{
	const struct server_conf *sc = &s->conf->servers[0];
	const struct location *loc;
	struct loc_match m;
	struct request req;
	char target[REQ_MAX_URL + 300], url[REQ_MAX_URL + 600];
	int n;

	*locp = NULL;
	if (snprintf(out, outsz, "%s", path) >= (int)outsz)
		return GEMINI_NOT_FOUND;
	*outdir = dir;
	if (sc->nlocs == 0 ||
	    (loc = loc_find(sc->locs, sc->nlocs, path, dir, &m)) == NULL)
		return plain_guard_real(s, path, NULL);
	if (loc->client_cert)
		return GEMINI_CERT_REQUIRED;
	if (loc->status != 0)
		return loc->status;
	if (loc->redirect == NULL) {
		*locp = loc;
		return plain_guard_real(s, path, loc);
	}
	/* 1. the target, as a url of this capsule or of elsewhere */
	if (loc_target(&m, target, sizeof(target)) == -1)
		return GEMINI_NOT_FOUND;
	n = target[0] == '/' ? snprintf(url, sizeof(url), "gemini://%s%s",
	    sc->name, target) : snprintf(url, sizeof(url), "%s", target);
	if (n < 0 || (size_t)n >= sizeof(url) ||
	    req_parse(url, (size_t)n, &req) != 0 ||
	    strcmp(req.scheme, "gemini") != 0 ||
	    !conf_server_names(sc, req.host))
		return GEMINI_NOT_FOUND;
	/* 2. once: what the target falls under is served or nothing */
	if ((loc = loc_find(sc->locs, sc->nlocs, req.path, req.dir, &m)) !=
	    NULL && (loc->client_cert || loc->status || loc->redirect))
		return loc->client_cert ? GEMINI_CERT_REQUIRED :
		    loc->status ? loc->status : GEMINI_NOT_FOUND;
	if (snprintf(out, outsz, "%s", req.path) >= (int)outsz)
		return GEMINI_NOT_FOUND;
	*outdir = req.dir;
	*locp = loc;
	return plain_guard_real(s, out, loc);
}

/* 1 when a menu or finger list may offer path: no location keeps it
 * back or sends it elsewhere (its target is offered where it lives) */
static int
plain_offered(const struct srv *s, const char *path, int dir)
{
	const struct server_conf *sc = &s->conf->servers[0];
	const struct location *loc;
	struct loc_match m;

	if (sc->nlocs == 0)
		return 1;
	if ((loc = loc_find(sc->locs, sc->nlocs, path, dir, &m)) != NULL &&
	    (loc->client_cert || loc->status != 0 || loc->redirect != NULL))
		return 0;
	return plain_guard_real(s, path, loc) == 0;
}

/* 1 when the file at path is within gopher's and finger's size limit */
static int
plain_fits(int rootfd, const char *path)
{
	struct stat st;
	int fd, fits;

	if ((fd = capsule_open(rootfd, path, O_PATH)) == -1)
		return 0;
	fits = fstat(fd, &st) == 0 && (size_t)st.st_size <= PLAIN_FILE_MAX;
	close(fd);
	return fits;
}

/* capsule_entry's answer, with gopher's own size limit: 0 for a file
 * over it too */
static int
plain_entry(int rootfd, const char *path)
{
	int kind = capsule_entry(rootfd, path);

	return kind == 'f' && !plain_fits(rootfd, path) ? 0 : kind;
}

/* the item type of a selector inside the capsule; '\0' when asking for
 * it would not serve it (missing, refused, over the size limit) */
static char
plain_item_type(const char *selector, void *arg)
{
	struct plain_ctx *pc = arg;
	const struct location *loc;
	char asked[REQ_MAX_URL + 1], path[REQ_MAX_URL + 1], gmi[REQ_MAX_URL + 1];
	int dir, kind;

	if (snprintf(asked, sizeof(asked), "%s", selector) >=
	    (int)sizeof(asked) || req_clean_path(asked, &dir) == -1 ||
	    plain_locate(pc->srv, asked, dir, path, sizeof(path), &dir, &loc)
	    != 0)
		return '\0';
	if ((kind = plain_entry(pc->rootfd, path)) == 'd')
		return '1';
	if (kind == 'f')
		return gopher_type_for_mime(mime_lookup(pc->srv->conf, path));
	/* a .txt that is only a rendering of its .gmi exists too, when the
	 * .gmi would be served (plain_gopher's fallback) */
	if (plain_has_suffix(path, ".txt") && snprintf(gmi, sizeof(gmi),
	    "%.*s.gmi", (int)(strlen(path) - 4), path) < (int)sizeof(gmi) &&
	    plain_entry(pc->rootfd, gmi) == 'f')
		return '0';
	return '\0';
}

/* a directory as a menu: pages by their title, sub-directories, files;
 * only what asking for would serve (capsule_names, plain_item_type) */
static int
plain_dir_menu(const struct srv *s, int rootfd, const char *path,
    const char *host, int port, struct buf *out)
{
	char **names, sel[REQ_MAX_URL + 8];
	size_t n, i;
	int rc = -1;

	if (capsule_names(rootfd, path, 1, &names, &n) == -1)
		return gopher_error(out, "cannot read the directory");
	for (i = 0; i < n; i++) {
		struct buf page, title;
		char child[REQ_MAX_URL + 1], type;
		const char *display = names[i];
		size_t dlen = strlen(names[i]);
		int r, isdir = names[i][dlen - 1] == '/';

		if (isdir)
			dlen--;
		r = snprintf(child, sizeof(child), "%s%s%.*s", path,
		    path[0] ? "/" : "", (int)dlen, names[i]);
		if (r < 0 || (size_t)r >= sizeof(child) ||
		    !plain_offered(s, child, isdir))
			continue;
		if (isdir)
			type = '1';
		else if (!plain_fits(rootfd, child))
			continue;
		else
			type = gopher_type_for_mime(mime_lookup(s->conf, child));
		r = snprintf(sel, sizeof(sel), "/%s%s", child, isdir ? "/" :
		    "");
		if (r < 0 || (size_t)r >= sizeof(sel))
			continue;
		buf_init(&title, 512);
		if (!isdir && mime_is_gemini(mime_lookup(s->conf, child))) {
			/* a page is listed by its level-1 heading */
			buf_init(&page, PLAIN_FILE_MAX);
			if (plain_read(rootfd, child, &page) ==
			    GEMINI_SUCCESS &&
			    gemtext_title(&title, page.data ? page.data : "",
			    page.len) == 0 && title.len > 0) {
				display = title.data;
				dlen = title.len;
			}
			buf_free(&page);
		}
		r = gopher_item(out, type, display, dlen, sel, strlen(sel),
		    host, (unsigned)port);
		buf_free(&title);
		if (r == -1)
			goto out;
	}
	rc = gopher_menu_end(out);
out:
	capsule_names_free(names, n);
	return rc;
}

/* what gemtext_to_gopher and gemtext_to_gopher_text need to know about
 * the page at selector page (its gemini url in url) */
static void
plain_gopher_ctx(const struct srv *s, int port, const char *host,
    const char *page, const char *url, const char **self,
    struct plain_ctx *pc, struct gemtext_gopher *gg)
{
	const struct server_conf *sc = &s->conf->servers[0];
	size_t i, k = 0;

	self[k++] = sc->name;
	for (i = 0; i < sc->naliases && k < 15; i++)
		self[k++] = sc->aliases[i];
	self[k] = NULL;
	memset(gg, 0, sizeof(*gg));
	gg->host = host;
	gg->port = (unsigned)port;
	gg->page = page;
	gg->base_url = url;
	gg->self_hosts = self;
	gg->self_port = (unsigned)plain_gemini_port(s);
	gg->item_type = plain_item_type;
	gg->arg = pc;
}

/* a gemtext page (path under the root, selector page) as a gopher menu,
 * or with as_text as dot-stuffed type-0 text; -1 when out failed */
static int
plain_gemtext(const struct srv *s, int rootfd, int port, const char *host,
    const char *path, const char *page, const struct buf *file,
    int as_text, struct buf *out)
{
	struct plain_ctx pc = { s, rootfd };
	struct gemtext_gopher gg;
	const char *self[16];
	char url[REQ_MAX_URL + 300];
	struct buf text;
	int rc;

	plain_base_url(s, path, url, sizeof(url));
	plain_gopher_ctx(s, port, host, page, url, self, &pc, &gg);
	if (!as_text)
		return gemtext_to_gopher(out, file->data, file->len, &gg);
	buf_init(&text, PLAIN_FILE_MAX);
	rc = gemtext_to_gopher_text(&text, file->data, file->len, &gg);
	if (rc == 0)
		rc = gopher_text_dotstuff(out, text.data, text.len);
	buf_free(&text);
	return rc;
}

static int
plain_error(struct buf *out, struct plain_result *res, int status,
    const char *msg)
{
	res->status = status;
	buf_reset(out);
	return gopher_error(out, msg) == -1 ? -1 : 0;
}

/* a directory over gopher, as gemini serves it: its index page as a
 * menu, else (auto-index) its files, else not found */
static int
plain_gopher_dir(const struct srv *s, int rootfd, int port, const char *host,
    const char *path, const struct location *loc, struct buf *out,
    struct plain_result *res)
{
	const struct server_conf *sc = &s->conf->servers[0];
	const char *index = loc && loc->index ? loc->index : sc->index;
	struct capsule_file cf;
	char page[GOPHER_SELECTOR_MAX + 4];
	struct buf file;
	int st, rc, n;

	st = capsule_resolve(rootfd, path, 1, index, loc && loc->auto_index !=
	    -1 ? loc->auto_index : sc->auto_index, &cf);
	if (st != GEMINI_SUCCESS)
		return plain_error(out, res, st, st == GEMINI_NOT_FOUND ?
		    "no such selector" : "cannot read that directory");
	if (cf.listing != NULL) {
		capsule_file_close(&cf);
		return plain_dir_menu(s, rootfd, path, host, port, out) == -1 ?
		    -1 : 0;
	}
	/* the index page: relative links resolve from the directory */
	n = snprintf(page, sizeof(page), "/%s%s", path, path[0] ? "/" : "");
	if (n < 0 || (size_t)n >= sizeof(page)) {
		capsule_file_close(&cf);
		return plain_error(out, res, GEMINI_BAD_REQUEST,
		    "selector too long");
	}
	buf_init(&file, PLAIN_FILE_MAX);
	st = plain_read_file(&cf, &file);
	if (st != GEMINI_SUCCESS) {
		buf_free(&file);
		return plain_error(out, res, st, "cannot read that directory");
	}
	if (mime_is_gemini(mime_lookup(s->conf, index)))
		rc = plain_gemtext(s, rootfd, port, host, page + 1, page,
		    &file, 0, out);
	else {
		/* an index that is not gemtext: its text as info lines */
		const char *p = file.data, *end = file.data + file.len, *lf;

		for (rc = 0; rc == 0 && p < end; p = lf ? lf + 1 : end) {
			lf = memchr(p, '\n', (size_t)(end - p));
			rc = gopher_info(out, p, lf ? (size_t)(lf - p) :
			    (size_t)(end - p));
		}
		if (rc == 0)
			rc = gopher_menu_end(out);
	}
	buf_free(&file);
	return rc == -1 ? -1 : 0;
}

/* page.txt is page.gmi's rendering only when page.gmi is offered */
static int
plain_txt_offered(const struct srv *s, const char *path)
{
	char gmi[GOPHER_SELECTOR_MAX + 8];

	return snprintf(gmi, sizeof(gmi), "%.*s.gmi", (int)(strlen(path) - 4),
	    path) < (int)sizeof(gmi) && plain_offered(s, gmi, 0);
}

int
plain_gopher(const struct srv *s, int port, const char *req, size_t len,
    struct buf *out, struct plain_result *res)
{
	const struct server_conf *sc = &s->conf->servers[0];
	const char *host = s->conf->gopher_host ? s->conf->gopher_host :
	    sc->name;
	char sel[GOPHER_SELECTOR_MAX + 2], path[GOPHER_SELECTOR_MAX + 2];
	char asked[GOPHER_SELECTOR_MAX + 2];
	const struct location *loc;
	struct buf file;
	int rootfd = s->rootfds[0], dir, st, rc;

	res->status = GEMINI_SUCCESS;
	switch (gopher_selector_parse(req, len, sel, sizeof(sel))) {
	case GOPHER_SEL_NEED_MORE:
		return 1;
	case GOPHER_SEL_TOO_LONG:
		snprintf(res->what, sizeof(res->what), "(too long)");
		return plain_error(out, res, GEMINI_BAD_REQUEST,
		    "selector too long");
	case GOPHER_SEL_BAD:
		snprintf(res->what, sizeof(res->what), "(bad)");
		return plain_error(out, res, GEMINI_BAD_REQUEST,
		    "bad selector");
	case GOPHER_SEL_URL:
		/* the parser already dropped "URL:": sel is the url itself */
		snprintf(res->what, sizeof(res->what), "%s", sel);
		return gopher_url_page(out, sel) == -1 ? -1 : 0;
	case GOPHER_SEL_OK:
		break;
	}
	snprintf(res->what, sizeof(res->what), "%s", sel);
	/* the same cleaning and kernel-enforced resolver as gemini */
	memcpy(asked, sel, sizeof(asked));
	if (req_clean_path(asked, &dir) == -1)
		return plain_error(out, res, GEMINI_BAD_REQUEST,
		    "selector climbs above the "
		    "root");
	/* what a location keeps back is not there at all; a redirect
	 * inside the capsule is served from where it goes, and relative
	 * links resolve from there */
	if ((st = plain_locate(s, asked, dir, path, sizeof(path), &dir, &loc))
	    != 0)
		return plain_error(out, res, st, "no such selector");
	if (strcmp(asked, path) != 0 && snprintf(sel, sizeof(sel), "/%s%s",
	    path, dir && path[0] ? "/" : "") >= (int)sizeof(sel))
		return plain_error(out, res, GEMINI_NOT_FOUND,
		    "no such selector");
	/* capsule_resolve answers for dot-files, gemini's way */
	if (dir || capsule_is_dir(rootfd, path))
		return plain_gopher_dir(s, rootfd, port, host, path, loc, out,
		    res);

	buf_init(&file, PLAIN_FILE_MAX);
	st = plain_read(rootfd, path, &file);
	if (st == GEMINI_SUCCESS &&
	    mime_is_gemini(mime_lookup(s->conf, path))) {
		rc = plain_gemtext(s, rootfd, port, host, path, sel, &file, 0,
		    out);
	} else if (st == GEMINI_SUCCESS &&
	    gopher_type_for_mime(mime_lookup(s->conf, path)) == '0') {
		rc = gopher_text_dotstuff(out, file.data, file.len);
	} else if (st == GEMINI_SUCCESS) {
		rc = buf_append(out, file.data, file.len);
	} else if (st == GEMINI_NOT_FOUND && plain_has_suffix(path, ".txt") &&
	    plain_txt_offered(s, path)) {
		/* page.txt: the plain-text rendering of page.gmi, its links
		 * to this capsule as gopher items */
		char gmi[GOPHER_SELECTOR_MAX + 8], gsel[GOPHER_SELECTOR_MAX + 16];

		snprintf(gmi, sizeof(gmi), "%.*s.gmi",
		    (int)(strlen(path) - 4), path);
		snprintf(gsel, sizeof(gsel), "/%s", gmi);
		buf_reset(&file);
		if ((st = plain_read(rootfd, gmi, &file)) != GEMINI_SUCCESS) {
			buf_free(&file);
			return plain_error(out, res, st,
			    st == GEMINI_NOT_FOUND ? "no such selector" :
			    "cannot read that file");
		}
		rc = plain_gemtext(s, rootfd, port, host, gmi, gsel, &file, 1,
		    out);
	} else {
		buf_free(&file);
		return plain_error(out, res, st, st == GEMINI_NOT_FOUND ?
		    "no such selector" : "cannot read that file");
	}
	buf_free(&file);
	return rc == -1 ? -1 : 0;
}

/* a page finger can name: a .gmi or .txt file in the root whose stem is
 * a finger name ([A-Za-z0-9._-], starting with a letter or digit) */
struct plain_fpage {
	const char	*file;		/* "principles.gmi" */
	size_t		 stemlen;	/* "principles" */
	int		 text;		/* .txt rather than .gmi */
};

static int
plain_fpage(const char *file, struct plain_fpage *fp)
{
	const char *dot = strrchr(file, '.');
	size_t i, n;

	if (dot == NULL || (strcasecmp(dot, ".gmi") != 0 &&
	    strcasecmp(dot, ".txt") != 0))
		return 0;
	n = (size_t)(dot - file);
	if (n == 0 || n > FINGER_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)file[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') ||
		    (i > 0 && (c == '.' || c == '_' || c == '-'))))
			return 0;
	}
	fp->file = file;
	fp->stemlen = n;
	fp->text = strcasecmp(dot, ".txt") == 0;
	return 1;
}

/* the root's visible names; -1 when it cannot be read */
static int
plain_root_names(const struct srv *s, char ***names, size_t *n)
{
	return capsule_names(s->rootfds[0], "", 1, names, n);
}

/*
 * the file a finger name asks for, into path: NAME.gmi, else NAME.txt,
 * or the whole file name ("principles.gmi"), all without regard to case
 * (an exact match first). 0, or the gemini status
 */
static int
plain_finger_file(const struct srv *s, const char *name, char *path,
    size_t pathsz)
{
	struct plain_fpage fp;
	char **names;
	size_t n, i, len = strlen(name);
	int best = -1, score, best_score = 0;

	if (plain_root_names(s, &names, &n) == -1)
		return capsule_errno_status(errno);
	for (i = 0; i < n; i++) {
		if (!plain_fpage(names[i], &fp))
			continue;
		if (fp.stemlen == len && strncasecmp(names[i], name, len) == 0)
			score = (strncmp(names[i], name, len) == 0 ? 0 : 2) +
			    fp.text;
		else if (strcasecmp(names[i], name) == 0)
			score = (strcmp(names[i], name) == 0 ? 0 : 2) +
			    fp.text;
		else
			continue;
		if (best == -1 || score < best_score) {
			best = (int)i;
			best_score = score;
		}
	}
	if (best != -1)
		snprintf(path, pathsz, "%s", names[best]);
	capsule_names_free(names, n);
	return best == -1 ? GEMINI_NOT_FOUND : 0;
}

static int
plain_fpage_cmp(const void *a, const void *b)
{
	const struct plain_fpage *x = a, *y = b;
	size_t n = x->stemlen < y->stemlen ? x->stemlen : y->stemlen;
	int c = strncasecmp(x->file, y->file, n);

	if (c != 0)
		return c;
	if (x->stemlen != y->stemlen)
		return x->stemlen < y->stemlen ? -1 : 1;
	/* names that differ only in case stay apart: each is reached by
	 * its own exact name (plain_finger_file) */
	if ((c = strncmp(x->file, y->file, n)) != 0)
		return c;
	return x->text - y->text;
}

/* RFC 1288's "list users" slot: the names one can finger, with titles */
static int
plain_finger_list(const struct srv *s, const char *host, struct buf *text)
{
	struct plain_fpage *pages;
	struct capsule_file cf;
	char **names;
	size_t n, i, k = 0;
	int rc = 0, st;

	if (plain_root_names(s, &names, &n) == -1)
		return buf_puts(text, "cannot list the pages here\n");
	if ((pages = calloc(n ? n : 1, sizeof(*pages))) == NULL) {
		capsule_names_free(names, n);
		return -1;
	}
	/* what a location keeps back or sends elsewhere is not listed */
	for (i = 0; i < n; i++)
		if (plain_fpage(names[i], &pages[k]) &&
		    plain_offered(s, names[i], 0))
			k++;
	if (k > 1)
		qsort(pages, k, sizeof(*pages), plain_fpage_cmp);
	rc = buf_printf(text, "Pages here: finger NAME@%s (any case).\n\n",
	    host);
	for (i = 0; rc == 0 && i < k; i++) {
		struct buf file, title;

		/* NAME.gmi hides NAME.txt, as the lookup does; Name.gmi
		 * does not hide name.gmi, which "name" still reaches */
		if (i > 0 && pages[i].stemlen == pages[i - 1].stemlen &&
		    strncmp(pages[i].file, pages[i - 1].file,
		    pages[i].stemlen) == 0)
			continue;
		/* only what a query would serve: no symlink out, no
		 * hard link, no fifo */
		st = capsule_resolve_file(s->rootfds[0], pages[i].file, &cf);
		buf_init(&file, PLAIN_FILE_MAX);
		buf_init(&title, 512);
		if (st != GEMINI_SUCCESS || pages[i].text)
			capsule_file_close(&cf);
		else if ((st = plain_read_file(&cf, &file)) == GEMINI_SUCCESS)
			gemtext_title(&title, file.data, file.len);
		if (st == GEMINI_SUCCESS && title.len > 0)
			rc = buf_printf(text, "%-16.*s %s\n",
			    (int)pages[i].stemlen, pages[i].file, title.data);
		else if (st == GEMINI_SUCCESS)
			rc = buf_printf(text, "%.*s\n",
			    (int)pages[i].stemlen, pages[i].file);
		buf_free(&file);
		buf_free(&title);
	}
	free(pages);
	capsule_names_free(names, n);
	return rc;
}

int
plain_finger(const struct srv *s, const char *req, size_t len,
    struct buf *out, struct plain_result *res)
{
	const struct server_conf *sc = &s->conf->servers[0];
	const char *host = s->conf->gopher_host ? s->conf->gopher_host :
	    sc->name;
	char name[FINGER_NAME_MAX + 1], asked[FINGER_NAME_MAX + 8];
	char url[REQ_MAX_URL + 300], path[REQ_MAX_URL + 1];
	const struct location *loc;
	struct buf file, text;
	int rc, st, dir, kept = 0;

	res->status = GEMINI_SUCCESS;
	switch (finger_query_parse(req, len, name, sizeof(name))) {
	case FINGER_NEED_MORE:
		return 1;
	case FINGER_INDEX:
		snprintf(res->what, sizeof(res->what), "(list)");
		buf_init(&text, PLAIN_FILE_MAX);
		rc = plain_finger_list(s, host, &text);
		if (rc == 0)
			rc = finger_text(out, text.data, text.len, 0);
		buf_free(&text);
		return rc == -1 ? -1 : 0;
	case FINGER_PAGE:
		snprintf(res->what, sizeof(res->what), "%s", name);
		break;
	case FINGER_FORWARD:
		snprintf(res->what, sizeof(res->what), "(forward)");
		res->status = GEMINI_BAD_REQUEST;
		return buf_puts(out, "finger forwarding is refused here\r\n");
	default:
		snprintf(res->what, sizeof(res->what), "(bad)");
		res->status = GEMINI_BAD_REQUEST;
		return buf_puts(out, "no such page\r\n");
	}
	buf_init(&file, PLAIN_FILE_MAX);
	buf_init(&text, PLAIN_FILE_MAX);
	rc = 0;
	/* a page a location keeps back is not there at all */
	if ((st = plain_finger_file(s, name, asked, sizeof(asked))) == 0 &&
	    (st = kept = plain_locate(s, asked, 0, path, sizeof(path), &dir,
	    &loc)) == 0 && (st = plain_read(s->rootfds[0], path, &file)) ==
	    GEMINI_SUCCESS) {
		const char *dot = strrchr(path, '.');

		if (dot != NULL && strcasecmp(dot, ".txt") == 0)
			rc = buf_append(&text, file.data, file.len);
		else {
			plain_base_url(s, path, url, sizeof(url));
			rc = gemtext_to_text(&text, file.data, file.len, url);
		}
	}
	if (st == GEMINI_SUCCESS && rc == 0)
		rc = finger_text(out, text.data, text.len, 0);
	else if (st != GEMINI_SUCCESS) {
		/* the answer says what the log's status says: a page too
		 * large (GEMINI_PERM_FAILURE) or a busy worker
		 * (GEMINI_TEMP_FAILURE) is not a missing one */
		res->status = st;
		rc = buf_printf(out, "%s: %s\r\n",
		    st == GEMINI_NOT_FOUND || kept ? "no such page" :
		    st == GEMINI_TEMP_FAILURE ?
		    "cannot serve that page now, try again" :
		    "cannot serve that page", res->what);
	}
	buf_free(&file);
	buf_free(&text);
	return rc == -1 ? -1 : 0;
}

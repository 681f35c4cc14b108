/* gopher and finger over the capsule: selector -> file -> plain text */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "capsule.h"
#include "conf.h"
#include "gemtext.h"
#include "mime.h"
#include "plain.h"
#include "plaintext.h"
#include "request.h"
#include "server.h"

#define PLAIN_FILE_MAX	(8u * 1024 * 1024)	/* served from memory */

/* read a whole file beneath the root (same kernel-enforced resolver as
 * gemini); the gemini status on failure */
static int
plain_read(int rootfd, const char *path, struct buf *b)
{
	struct stat st;
	char chunk[16384];
	ssize_t n;
	int fd;

	if (req_path_hidden(path))
		return 51;
	if ((fd = capsule_open(rootfd, path, O_RDONLY | O_NONBLOCK)) == -1)
		return capsule_errno_status(errno);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 51;
	}
	if ((size_t)st.st_size > PLAIN_FILE_MAX) {
		close(fd);
		return 50;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(b, chunk, (size_t)n) == -1) {
			close(fd);
			return 40;
		}
	close(fd);
	return n == 0 ? 20 : 40;
}

static int
plain_is_dir(int rootfd, const char *path)
{
	struct stat st;
	int fd = capsule_open(rootfd, path, O_PATH);

	if (fd == -1)
		return 0;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return 0;
	}
	close(fd);
	return S_ISDIR(st.st_mode);
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

/* the item type of a selector inside the capsule; '\0' when missing */
static char
plain_item_type(const char *selector, void *arg)
{
	struct plain_ctx *pc = arg;
	char path[REQ_MAX_URL + 1];
	int dir, fd;
	struct stat st;

	if (snprintf(path, sizeof(path), "%s", selector) >= (int)sizeof(path)
	    || req_clean_path(path, &dir) == -1 || req_path_hidden(path))
		return '\0';
	/* a .txt that is only a rendering of its .gmi exists too */
	if ((fd = capsule_open(pc->rootfd, path, O_PATH)) == -1) {
		if (plain_has_suffix(path, ".txt")) {
			char gmi[REQ_MAX_URL + 1];
			size_t l = strlen(path) - 4;

			snprintf(gmi, sizeof(gmi), "%.*s.gmi", (int)l, path);
			if ((fd = capsule_open(pc->rootfd, gmi, O_PATH)) != -1) {
				close(fd);
				return '0';
			}
		}
		return '\0';
	}
	if (fstat(fd, &st) == -1) {
		close(fd);
		return '\0';
	}
	close(fd);
	if (S_ISDIR(st.st_mode))
		return '1';
	return gopher_type_for_mime(mime_lookup(pc->srv->conf, path));
}

/* a directory as a menu: pages by their title, sub-directories, files */
static int
plain_dir_menu(const struct srv *s, int rootfd, const char *path,
    const char *host, int port, struct buf *out)
{
	char **names, sel[REQ_MAX_URL + 8];
	size_t n, i;
	int fd, rc = -1;

	if ((fd = capsule_open(rootfd, path, O_RDONLY | O_DIRECTORY)) == -1)
		return gopher_error(out, "no such directory");
	if (capsule_names(fd, 0, &names, &n) == -1) {
		close(fd);
		return gopher_error(out, "cannot read the directory");
	}
	close(fd);
	for (i = 0; i < n; i++) {
		struct buf page, title;
		char child[REQ_MAX_URL + 1], type;
		const char *display = names[i];
		size_t dlen = strlen(names[i]);
		int r;

		r = snprintf(child, sizeof(child), "%s%s%s", path,
		    path[0] ? "/" : "", names[i]);
		if (r < 0 || (size_t)r >= sizeof(child))
			continue;
		buf_init(&title, 512);
		if (plain_is_dir(rootfd, child)) {
			type = '1';
			snprintf(sel, sizeof(sel), "/%s/", child);
		} else {
			type = gopher_type_for_mime(mime_lookup(s->conf,
			    child));
			snprintf(sel, sizeof(sel), "/%s", child);
			if (mime_is_gemini(mime_lookup(s->conf, child))) {
				/* a page is listed by its level-1 heading */
				buf_init(&page, PLAIN_FILE_MAX);
				if (plain_read(rootfd, child, &page) == 20 &&
				    gemtext_title(&title, page.data ? page.data
				    : "", page.len) == 0 && title.len > 0) {
					display = title.data;
					dlen = title.len;
				}
				buf_free(&page);
			}
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

static int
plain_error(struct buf *out, struct plain_result *res, int status,
    const char *msg)
{
	res->status = status;
	buf_reset(out);
	return gopher_error(out, msg) == -1 ? -1 : 0;
}

int
plain_gopher(const struct srv *s, int port, const char *req, size_t len,
    struct buf *out, struct plain_result *res)
{
	const struct server_conf *sc = &s->conf->servers[0];
	const char *host = s->conf->gopher_host ? s->conf->gopher_host :
	    sc->name;
	char sel[GOPHER_SELECTOR_MAX + 2], path[GOPHER_SELECTOR_MAX + 2];
	char url[REQ_MAX_URL + 300];
	struct buf file;
	int rootfd = s->rootfds[0], dir, st, rc;

	res->status = 20;
	switch (gopher_selector_parse(req, len, sel, sizeof(sel))) {
	case GOPHER_SEL_NEED_MORE:
		return 1;
	case GOPHER_SEL_TOO_LONG:
		snprintf(res->what, sizeof(res->what), "(too long)");
		return plain_error(out, res, 59, "selector too long");
	case GOPHER_SEL_BAD:
		snprintf(res->what, sizeof(res->what), "(bad)");
		return plain_error(out, res, 59, "bad selector");
	case GOPHER_SEL_URL:
		/* the parser already dropped "URL:": sel is the url itself */
		snprintf(res->what, sizeof(res->what), "%s", sel);
		return gopher_url_page(out, sel) == -1 ? -1 : 0;
	case GOPHER_SEL_OK:
		break;
	}
	snprintf(res->what, sizeof(res->what), "%s", sel);
	/* the same cleaning and kernel-enforced resolver as gemini */
	memcpy(path, sel, sizeof(path));
	if (req_clean_path(path, &dir) == -1)
		return plain_error(out, res, 59, "selector climbs above the "
		    "root");
	if (req_path_hidden(path))
		return plain_error(out, res, 51, "no such selector");
	if (dir || plain_is_dir(rootfd, path))
		return plain_dir_menu(s, rootfd, path, host, port, out) == -1 ?
		    -1 : 0;

	buf_init(&file, PLAIN_FILE_MAX);
	st = plain_read(rootfd, path, &file);
	if (st == 20 && mime_is_gemini(mime_lookup(s->conf, path))) {
		struct plain_ctx pc = { s, rootfd };
		const char *self[16];
		struct gemtext_gopher gg;
		size_t i, k = 0;

		self[k++] = sc->name;
		for (i = 0; i < sc->naliases && k < 15; i++)
			self[k++] = sc->aliases[i];
		self[k] = NULL;
		plain_base_url(s, path, url, sizeof(url));
		memset(&gg, 0, sizeof(gg));
		gg.host = host;
		gg.port = (unsigned)port;
		gg.page = sel;
		gg.base_url = url;
		gg.self_hosts = self;
		gg.self_port = (unsigned)plain_gemini_port(s);
		gg.item_type = plain_item_type;
		gg.arg = &pc;
		rc = gemtext_to_gopher(out, file.data ? file.data : "",
		    file.len, &gg);
	} else if (st == 20 && gopher_type_for_mime(mime_lookup(s->conf,
	    path)) == '0') {
		rc = gopher_text_dotstuff(out, file.data ? file.data : "",
		    file.len);
	} else if (st == 20) {
		rc = buf_append(out, file.data ? file.data : "", file.len);
	} else if (st == 51 && plain_has_suffix(path, ".txt")) {
		/* page.txt: the plain-text rendering of page.gmi */
		struct buf text;
		char gmi[GOPHER_SELECTOR_MAX + 8];

		snprintf(gmi, sizeof(gmi), "%.*s.gmi",
		    (int)(strlen(path) - 4), path);
		buf_reset(&file);
		if ((st = plain_read(rootfd, gmi, &file)) != 20) {
			buf_free(&file);
			return plain_error(out, res, st, "no such selector");
		}
		plain_base_url(s, gmi, url, sizeof(url));
		buf_init(&text, PLAIN_FILE_MAX);
		rc = gemtext_to_text(&text, file.data ? file.data : "",
		    file.len, url);
		if (rc == 0)
			rc = gopher_text_dotstuff(out, text.data ? text.data :
			    "", text.len);
		buf_free(&text);
	} else {
		buf_free(&file);
		return plain_error(out, res, st, st == 51 ?
		    "no such selector" : "cannot read that file");
	}
	buf_free(&file);
	return rc == -1 ? -1 : 0;
}

int
plain_finger(const struct srv *s, const char *req, size_t len,
    struct buf *out, struct plain_result *res)
{
	const struct server_conf *sc = &s->conf->servers[0];
	char name[FINGER_NAME_MAX + 1], path[FINGER_NAME_MAX + 8];
	char url[REQ_MAX_URL + 300];
	struct buf file, text;
	int rc, st;

	res->status = 20;
	switch (finger_query_parse(req, len, name, sizeof(name))) {
	case FINGER_NEED_MORE:
		return 1;
	case FINGER_INDEX:
		snprintf(res->what, sizeof(res->what), "(index)");
		snprintf(name, sizeof(name), "index");
		snprintf(path, sizeof(path), "%s", sc->index);
		break;
	case FINGER_PAGE:
		snprintf(res->what, sizeof(res->what), "%s", name);
		snprintf(path, sizeof(path), "%s.gmi", name);
		break;
	case FINGER_FORWARD:
		snprintf(res->what, sizeof(res->what), "(forward)");
		res->status = 59;
		return buf_puts(out, "finger forwarding is refused here\r\n");
	default:
		snprintf(res->what, sizeof(res->what), "(bad)");
		res->status = 59;
		return buf_puts(out, "no such page\r\n");
	}
	buf_init(&file, PLAIN_FILE_MAX);
	buf_init(&text, PLAIN_FILE_MAX);
	st = plain_read(s->rootfds[0], path, &file);
	if (st == 20) {
		plain_base_url(s, path, url, sizeof(url));
		rc = gemtext_to_text(&text, file.data ? file.data : "",
		    file.len, url);
	} else {
		/* NAME.txt when there is no NAME.gmi */
		snprintf(path, sizeof(path), "%s.txt", name);
		st = plain_read(s->rootfds[0], path, &file);
		rc = st == 20 ? buf_append(&text, file.data ? file.data : "",
		    file.len) : 0;
	}
	if (st == 20 && rc == 0)
		rc = finger_text(out, text.data ? text.data : "", text.len, 0);
	else if (st != 20) {
		res->status = st;
		rc = buf_printf(out, "no such page: %s\r\n", res->what);
	}
	buf_free(&file);
	buf_free(&text);
	return rc == -1 ? -1 : 0;
}

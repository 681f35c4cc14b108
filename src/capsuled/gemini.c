/* a gemini request line -> a response: status, meta line, body source */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "capsule.h"
#include "conf.h"
#include "gemini.h"
#include "loc.h"
#include "mime.h"
#include "request.h"
#include "srv.h"
#include "status.h"
#include "tls.h"

static void
gemini_header(struct response *r, int status, const char *meta)
{
	int n = snprintf(r->header, sizeof(r->header), "%d %s\r\n", status,
	    meta);

	/* the meta line is at most 1024 bytes; anything longer is a bug of
	 * ours, answered as a failure rather than sent */
	if (n < 0 || n > 1024 + 5) {
		status = GEMINI_PERM_FAILURE;
		n = snprintf(r->header, sizeof(r->header), "%d response "
		    "header too long\r\n", status);
	}
	r->status = status;
	r->hlen = (size_t)n;
}

/* the meta line of a status a location answers with, when it gives none */
static const char *
gemini_status_meta(int status)
{
	switch (status) {
	case GEMINI_CERT_REQUIRED:
		return "a client certificate is required here";
	case GEMINI_CERT_NOT_AUTHORISED:
		return "this certificate is not allowed here";
	case GEMINI_CERT_NOT_VALID:
		return "this certificate is expired or not yet valid";
	case GEMINI_GONE:
		return "gone";
	case GEMINI_NOT_FOUND:
		return "not found";
	case GEMINI_SLOW_DOWN:
		return "60";
	case GEMINI_BAD_REQUEST:
		return "bad request";
	case GEMINI_PROXY_REFUSED:
		return "proxy request refused";
	default:
		return status >= GEMINI_PERM_FAILURE ? "refused" :
		    "unavailable, try again later";
	}
}

/* a location's redirect: a path on this server goes after the scheme,
 * host and port the request named */
static void
gemini_redirect(struct response *r, const struct request *req,
    const struct loc_match *m)
{
	char target[REQ_MAX_URL + 300], url[REQ_MAX_URL + 600], port[16] = "";
	int v6 = strchr(req->host, ':') != NULL, n;

	if (loc_target(m, target, sizeof(target)) == -1) {
		gemini_header(r, GEMINI_PERM_FAILURE, "redirect target too long");
		return;
	}
	if (target[0] == '/') {
		if (req->port != 0)
			snprintf(port, sizeof(port), ":%d", req->port);
		n = snprintf(url, sizeof(url), "gemini://%s%s%s%s%s",
		    v6 ? "[" : "", req->host, v6 ? "]" : "", port, target);
	} else
		n = snprintf(url, sizeof(url), "%s", target);
	if (n < 0 || n > REQ_MAX_URL) {
		gemini_header(r, GEMINI_PERM_FAILURE, "redirect target too long");
		return;
	}
	gemini_header(r, m->loc->permanent ? GEMINI_REDIRECT :
	    GEMINI_REDIRECT_TEMP, url);
}

/*
 * a symbolic link may lead into a guarded area under another name: where
 * the path really leads is checked against the locations as well. 1 when
 * that answered (r holds the header), 0 when the request goes on
 */
static int
gemini_guard_real(int rootfd, const struct server_conf *sc,
    const struct request *req, const struct loc_peer *peer,
    const struct location *asked, struct response *r)
{
	const struct location *g;
	char real[REQ_MAX_URL + 1];
	int dir, status;

	if (capsule_real_path(rootfd, req->path, real, sizeof(real), &dir) ==
	    -1) {
		/* nothing there: the resolver says so. a file whose real
		 * place cannot be told is not served */
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		status = capsule_errno_status(errno);
		gemini_header(r, status, status == GEMINI_TEMP_FAILURE ?
		    "temporary failure, try again" : status ==
		    GEMINI_NOT_FOUND ? "not found" : "cannot serve this file");
		return 1;
	}
	if (strcmp(real, req->path) == 0 ||
	    (g = loc_guard(sc->locs, sc->nlocs, real, dir, asked)) == NULL)
		return 0;
	if ((status = loc_cert_status(g, peer, (long long)time(NULL))) != 0)
		gemini_header(r, status, gemini_status_meta(status));
	else if (g->status != 0)
		gemini_header(r, g->status, g->meta ? g->meta :
		    gemini_status_meta(g->status));
	else
		return 0;
	return 1;
}

/* the vhost for the url's host: the one sni chose, or, for clients that
 * sent no sni, any of ours. NULL: not a host we serve
 * (GEMINI_PROXY_REFUSED) */
static const struct tls_vhost *
gemini_vhost(const struct srv *s, const struct tls_vhost *v, int sni,
    const char *host, size_t *idx)
{
	size_t i;

	for (i = 0; i < s->sni.nvhosts; i++) {
		if (!conf_server_names(s->vhosts[i].conf, host))
			continue;
		if (sni && &s->vhosts[i] != v)
			return NULL;
		*idx = i;
		return &s->vhosts[i];
	}
	return NULL;
}

void
gemini_respond(const struct srv *s, const struct tls_vhost *v, int sni,
    int port, const struct loc_peer *peer, const char *line, size_t len,
    struct response *r)
{
	struct request req;
	struct loc_match m;
	const struct tls_vhost *target;
	const struct server_conf *sc;
	const struct location *loc = NULL;
	const char *type, *index, *lang;
	int auto_index;
	char meta[1100];
	size_t idx = 0;
	int status, n;

	/* the whole response: no field may keep an earlier request's value */
	memset(r, 0, sizeof(*r));
	r->file.fd = -1;

	status = req_parse(line, len, &req);
	snprintf(r->host, sizeof(r->host), "%s", req.host);
	/* for the log: the clean path, a '/' marking directories */
	r->path[0] = '/';
	n = snprintf(r->path + 1, sizeof(r->path) - 2, "%s", req.path);
	if (n > 0 && (size_t)n < sizeof(r->path) - 2 && req.dir &&
	    req.path[0] != '\0')
		strcat(r->path, "/");
	if (status != 0) {
		/* what was asked, as sent, for the log */
		snprintf(r->path, sizeof(r->path), "%.*s",
		    (int)(len < sizeof(r->path) ? len : sizeof(r->path) - 1),
		    line);
		gemini_header(r, GEMINI_BAD_REQUEST, req.error);
		return;
	}
	if (strcmp(req.scheme, "gemini") != 0) {
		gemini_header(r, GEMINI_PROXY_REFUSED,
		    "only gemini urls are served here");
		return;
	}
	if ((req.port ? req.port : 1965) != port) {
		gemini_header(r, GEMINI_PROXY_REFUSED,
		    "wrong port for this server");
		return;
	}
	if ((target = gemini_vhost(s, v, sni, req.host, &idx)) == NULL) {
		gemini_header(r, GEMINI_PROXY_REFUSED,
		    "proxy request refused: not a host served here");
		return;
	}
	sc = target->conf;
	index = sc->index;
	auto_index = sc->auto_index;
	lang = sc->lang;
	/* the first location for the path: a certificate, a status or a
	 * redirect answers before any file is looked at */
	if (sc->nlocs > 0 && (loc = loc_find(sc->locs, sc->nlocs, req.path,
	    req.dir, &m)) != NULL) {
		if ((status = loc_cert_status(loc, peer, (long long)time(NULL)))
		    != 0) {
			gemini_header(r, status, gemini_status_meta(status));
			return;
		}
		if (loc->status != 0) {
			gemini_header(r, loc->status, loc->meta ? loc->meta :
			    gemini_status_meta(loc->status));
			return;
		}
		if (loc->redirect != NULL) {
			gemini_redirect(r, &req, &m);
			return;
		}
		if (loc->index != NULL)
			index = loc->index;
		if (loc->auto_index != -1)
			auto_index = loc->auto_index;
		if (loc->lang != NULL)
			lang = loc->lang;
	}
	if (sc->guarded && gemini_guard_real(s->rootfds[idx], sc, &req, peer,
	    loc, r))
		return;
	status = capsule_resolve(s->rootfds[idx], req.path, req.dir,
	    index, auto_index, &r->file);
	switch (status) {
	case GEMINI_SUCCESS:
		type = mime_find(s->conf, r->file.name);
		if (type == NULL)
			type = loc != NULL && loc->default_type != NULL ?
			    loc->default_type : "application/octet-stream";
		if (mime_is_gemini(type) && lang != NULL)
			n = snprintf(meta, sizeof(meta), "%s; lang=%s", type,
			    lang);
		else
			n = snprintf(meta, sizeof(meta), "%s", type);
		if (n < 0 || (size_t)n >= sizeof(meta)) {
			capsule_file_close(&r->file);
			gemini_header(r, GEMINI_PERM_FAILURE,
			    "cannot describe the file");
			return;
		}
		gemini_header(r, GEMINI_SUCCESS, meta);
		return;
	case GEMINI_REDIRECT: {
		/* the url as sent with a '/' after the path: never loops,
		 * since the target names a directory with its slash */
		const char *q = memchr(line, '?', len);
		size_t plen = q ? (size_t)(q - line) : len;

		n = snprintf(meta, sizeof(meta), "%.*s/%.*s", (int)plen, line,
		    (int)(len - plen), line + plen);
		if (n < 0 || n > 1024) {
			gemini_header(r, GEMINI_BAD_REQUEST,
			    "url too long to redirect");
			return;
		}
		gemini_header(r, GEMINI_REDIRECT, meta);
		return;
	}
	case GEMINI_NOT_FOUND:
		gemini_header(r, GEMINI_NOT_FOUND, "not found");
		return;
	case GEMINI_TEMP_FAILURE:
		gemini_header(r, GEMINI_TEMP_FAILURE,
		    "temporary failure, try again");
		return;
	default:
		gemini_header(r, GEMINI_PERM_FAILURE, "cannot serve this file");
		return;
	}
}

void
gemini_response_free(struct response *r)
{
	capsule_file_close(&r->file);
}

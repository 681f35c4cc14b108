/* a gemini request line -> a response: status, meta line, body source */
#include <stdio.h>
#include <string.h>

#include "capsule.h"
#include "conf.h"
#include "gemini.h"
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
    int port, const char *line, size_t len, struct response *r)
{
	struct request req;
	const struct tls_vhost *target;
	const struct server_conf *sc;
	const char *type;
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
	status = capsule_resolve(s->rootfds[idx], req.path, req.dir,
	    sc->index, sc->auto_index, &r->file);
	switch (status) {
	case GEMINI_SUCCESS:
		type = mime_lookup(s->conf, r->file.name);
		if (mime_is_gemini(type) && sc->lang != NULL)
			n = snprintf(meta, sizeof(meta), "%s; lang=%s", type,
			    sc->lang);
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

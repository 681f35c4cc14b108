/* listeners, the worker event loop, per-connection state machine */
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addrcap.h"
#include "capsule.h"
#include "conf.h"
#include "gemini.h"
#include "loc.h"
#include "buf.h"
#include "log.h"
#include "plain.h"
#include "proxy.h"
#include "sandbox.h"
#include "server.h"
#include "status.h"
#include "tls.h"
#include "trust.h"

#define SERVER_CHUNK	(64 * 1024)	/* file bytes per write */
#define SERVER_SMALL	(16 * 1024)	/* bodies sent with the header */
#define SERVER_MAP	(1024 * 1024)	/* file bytes mapped at a time */

enum conn_state {
	CONN_PROXY,		/* reading a proxy protocol header */
	CONN_PEEK,		/* first bytes on a plain listener */
	CONN_HANDSHAKE,
	CONN_READ,		/* the request line */
	CONN_WRITE,
	CONN_SHUTDOWN,		/* sending close_notify */
	CONN_CLOSING,		/* flushing the last bytes */
	CONN_LINGER,		/* reading what the client still sends */
	CONN_PLAIN,		/* a gopher selector or finger query */
	CONN_PLAIN_WRITE,
};

struct conn {
	struct conn	*prev, *next;
	int		 fd;
	struct ssl_st	*ssl;		/* the tls connection (tls.h) */
	const struct listener *l;
	enum conn_state	 state;
	uint32_t	 events;	/* what epoll watches now */
	int		 port;		/* the port the client reached */
	char		 peer[INET6_ADDRSTRLEN + 8];
	struct timespec	 start;
	time_t		 read_deadline, deadline;
	char		*line;		/* the request, once bytes come */
	size_t		 linelen;
	struct server_reply rep;	/* the answer; rep.resp once there is
					   one to log */
	struct tls_out	 tout;		/* tls bytes not yet sent */
	int		 flushing;	/* waiting for the socket to drain */
	size_t		 outoff;	/* rep.out bytes sent */
	int		 counted;	/* holds one of its address's slots */
	unsigned	 capbucket;	/* which (addrcap.h) */
};

struct worker {
	struct srv	*srv;
	char		 scratch[SERVER_LINE + 1];
	int		 epfd;
	int		 sigfd;
	struct conn	*conns;
	int		 nconns;
	int		 accepting;	/* listeners are in the epoll set */
	int		 draining;
	time_t		 resume_at;	/* after emfile */
	time_t		 last_emfile_log;
	unsigned long	 emfile_count;
	time_t		 last_cap_log;
	unsigned long	 cap_count;	/* refused over the address cap */
};

static int
server_listen(const struct listen_conf *lc, char *err, size_t errsz)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, on = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(lc->host, lc->port, &hints, &res)) != 0) {
		snprintf(err, errsz, "listen %s: %s", lc->addr,
		    gai_strerror(rc));
		return -1;
	}
	/* "*:port" takes the v6 wildcard, which also takes v4 */
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (lc->host != NULL || ai->ai_family == AF_INET6)
			break;
	if (ai == NULL)
		ai = res;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errsz, "listen %s: socket: %s", lc->addr,
		    strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ai->ai_family == AF_INET6) {
		int v6only = lc->host != NULL;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
		    sizeof(v6only));
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, 4096) == -1) {
		snprintf(err, errsz, "listen %s: %s", lc->addr,
		    strerror(errno));
		close(fd);
		freeaddrinfo(res);
		return -1;
	}
	/* no accept until the first bytes: idle connections cost nothing */
	setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &on, sizeof(on));
	freeaddrinfo(res);
	return fd;
}

/* prefix err with "file:line: server "name": ", keeping what it said */
static void
server_err_at(char *err, size_t errsz, const char *path, int line,
    const char *name)
{
	char what[512];

	snprintf(what, sizeof(what), "%s", err);
	snprintf(err, errsz, "%s:%d: server \"%s\": %s", path, line, name,
	    what);
}

int
server_prepare(struct config *conf, struct srv *old, struct srv **out,
    char *err, size_t errsz)
{
	struct srv *s;
	size_t i, j;
	int statefd = -1;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	s->conf = conf;
	s->nservers = conf->nservers;
	s->accesslog_fd = -1;
	s->vhosts = calloc(conf->nservers, sizeof(*s->vhosts));
	s->rootfds = calloc(conf->nservers, sizeof(*s->rootfds));
	s->listeners = calloc(conf->nlistens, sizeof(*s->listeners));
	if (s->vhosts == NULL || s->rootfds == NULL || s->listeners == NULL) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	for (i = 0; i < conf->nservers; i++)
		s->rootfds[i] = -1;
	for (i = 0; i < conf->nlistens; i++)
		s->listeners[i].fd = -1;
	s->nlisteners = conf->nlistens;

	/* 1. who serves: started as root, the user to drop to; it and
	 * root are who may own and write the state files */
	if (geteuid() == 0) {
		if (conf->user == NULL) {
			snprintf(err, errsz, "%s: started as root with no user "
			    "to drop to: set user; capsuled does not serve as "
			    "root", conf->path);
			goto fail;
		}
		if (sandbox_user(conf->user, &s->uid, &s->gid, err, errsz)
		    == -1)
			goto fail;
		s->drop_privs = 1;
	} else {
		s->uid = geteuid();
		s->gid = getegid();
	}
	s->owner.uid = s->uid;
	s->owner.gid = s->gid;

	/* 2. the state directory and what is in it, read and checked; what
	 * is missing is made in memory and written by server_commit */
	if ((statefd = trust_opendir(conf->state_dir, &s->owner, err, errsz))
	    == -1 && errno != ENOENT)
		goto fail;
	if (tls_tickets_load(statefd, conf->state_dir, &s->owner, &s->ticket,
	    err, errsz) == -1)
		goto fail;
	for (i = 0; i < conf->nservers; i++) {
		struct server_conf *sc = &conf->servers[i];

		s->rootfds[i] = open(sc->root, O_PATH | O_DIRECTORY |
		    O_CLOEXEC);
		if (s->rootfds[i] == -1) {
			snprintf(err, errsz, "%s:%d: server \"%s\": root %s: "
			    "%s", conf->path, sc->root_line, sc->name, sc->root,
			    strerror(errno));
			goto fail;
		}
		if (!capsule_probe(s->rootfds[i])) {
			snprintf(err, errsz, "root %s: openat2 with "
			    "RESOLVE_BENEATH does not work here (%s); "
			    "Linux 5.6 or later is needed", sc->root,
			    strerror(errno));
			goto fail;
		}
		if (tls_vhost_load(&s->vhosts[i], sc, statefd, conf->state_dir,
		    &s->owner, err, errsz) == -1) {
			/* a configured pair: say where it was configured */
			if (sc->cert != NULL)
				server_err_at(err, errsz, conf->path,
				    sc->cert_line, sc->name);
			goto fail;
		}
	}
	if (statefd != -1)
		close(statefd);
	statefd = -1;
	s->ktls = tls_ktls_available();
	s->sni.vhosts = s->vhosts;
	s->sni.nvhosts = conf->nservers;
	for (i = 0; i < conf->nservers; i++)
		if (conf->servers[i].client_cert)
			s->client_cert = 1;
	tls_sni_setup(&s->sni);

	/* 3. listeners: new sockets only, closed again on failure */
	for (i = 0; i < conf->nlistens; i++) {
		struct listener *l = &s->listeners[i];
		struct listen_conf *lc = &conf->listens[i];

		l->kind = lc->kind;
		l->port = atoi(lc->port);
		l->addr = lc->addr;
		for (j = 0; old != NULL && j < old->nlisteners; j++) {
			if (old->listeners[j].fd != -1 &&
			    old->listeners[j].kind == lc->kind &&
			    strcmp(old->listeners[j].addr, lc->addr) == 0) {
				l->fd = dup(old->listeners[j].fd);
				break;
			}
		}
		if (l->fd == -1 && (l->fd = server_listen(lc, err, errsz))
		    == -1)
			goto fail;
		fcntl(l->fd, F_SETFD, FD_CLOEXEC);
	}
	s->nlisteners = conf->nlistens;
	*out = s;
	return 0;
fail:
	if (statefd != -1)
		close(statefd);
	s->nlisteners = conf->nlistens;
	s->conf = NULL;		/* the caller keeps it on failure */
	server_free(s);
	return -1;
}

int
server_commit(struct srv *s, char *err, size_t errsz)
{
	return tls_commit(s->vhosts, s->nservers, &s->ticket,
	    s->conf->state_dir, &s->owner, err, errsz);
}

void
server_free(struct srv *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; s->listeners != NULL && i < s->nlisteners; i++)
		if (s->listeners[i].fd != -1)
			close(s->listeners[i].fd);
	for (i = 0; s->rootfds != NULL && i < s->nservers; i++)
		if (s->rootfds[i] != -1)
			close(s->rootfds[i]);
	for (i = 0; s->vhosts != NULL && i < s->nservers; i++)
		tls_vhost_free(&s->vhosts[i]);
	free(s->listeners);
	free(s->rootfds);
	free(s->vhosts);
	conf_free(s->conf);
	explicit_bzero(&s->ticket, sizeof(s->ticket));
	free(s);
}

/* ---- the worker ---- */

static time_t
server_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

static void
server_watch(struct worker *w, struct conn *c, uint32_t events)
{
	struct epoll_event ev;

	if (c->events == events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		log_warn("epoll_ctl");
	c->events = events;
}

static void
server_listeners(struct worker *w, int on)
{
	struct epoll_event ev;
	size_t i;

	if (w->accepting == on)
		return;
	for (i = 0; i < w->srv->nlisteners; i++) {
		struct listener *l = &w->srv->listeners[i];

		if (l->fd == -1)
			continue;
		memset(&ev, 0, sizeof(ev));
		/* exclusive: one worker wakes for a new connection */
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.ptr = l;
		epoll_ctl(w->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, l->fd,
		    on ? &ev : NULL);
	}
	w->accepting = on;
}

static int
server_is_listener(struct worker *w, void *p)
{
	struct listener *l = p;

	return l >= w->srv->listeners &&
	    l < w->srv->listeners + w->srv->nlisteners;
}

static void
server_log_access(struct worker *w, struct conn *c)
{
	struct timespec end;
	char line[3 * REQ_MAX_URL + 512], host[300], path[3 * REQ_MAX_URL + 8];
	char stamp[32];
	struct tm tm;
	time_t t;
	long ms;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &end);
	ms = (end.tv_sec - c->start.tv_sec) * 1000 +
	    (end.tv_nsec - c->start.tv_nsec) / 1000000;
	log_escape(host, sizeof(host), c->rep.resp->host,
	    strlen(c->rep.resp->host));
	log_escape(path, sizeof(path), c->rep.resp->path,
	    strlen(c->rep.resp->path));
	t = time(NULL);
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof(line), "%s %s %s \"%s\" %d %zu %ldms\n",
	    stamp, c->peer, host[0] ? host : "-", path, c->rep.resp->status,
	    c->rep.bytes, ms);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (w->srv->accesslog_fd != -1) {
		/* one write below PIPE_BUF is atomic; a full pipe drops
		 * the line rather than stall every client */
		if (write(w->srv->accesslog_fd, line, (size_t)n) == -1 &&
		    errno != EAGAIN)
			log_warn("access log");
	} else {
		line[n - 1] = '\0';
		log_info("%s", line + strlen(stamp) + 1);
	}
}

static void
server_close(struct worker *w, struct conn *c)
{
	if (c->rep.resp != NULL)
		server_log_access(w, c);
	server_reply_free(&c->rep);
	if (c->ssl != NULL)
		tls_conn_free(c->ssl);
	if (c->counted)
		addrcap_release(c->capbucket);
	tls_out_free(&c->tout);
	close(c->fd);
	free(c->line);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
	w->nconns--;
	/* a closed connection frees a descriptor: accept again at once,
	 * even after running out of them */
	w->resume_at = 0;
	if (!w->draining && w->nconns < w->srv->conf->max_connections)
		server_listeners(w, 1);
}

static void
server_peer(struct conn *c, const struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN];
	const void *a;

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		a = &s6->sin6_addr;
		/* v4 clients on a dual-stack socket are logged as v4 */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], host,
			    sizeof(host));
			snprintf(c->peer, sizeof(c->peer), "%s", host);
			return;
		}
		inet_ntop(AF_INET6, a, host, sizeof(host));
	} else if (ss->ss_family == AF_INET) {
		a = &((const struct sockaddr_in *)(const void *)ss)->sin_addr;
		inet_ntop(AF_INET, a, host, sizeof(host));
	} else
		snprintf(host, sizeof(host), "-");
	snprintf(c->peer, sizeof(c->peer), "%s", host);
}

static int
server_sockport(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)ss)
		    ->sin6_port);
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)ss)
		    ->sin_port);
	return 0;
}

static void
server_emfile(struct worker *w)
{
	time_t now = server_now();

	/* stop accepting for a moment; say so once per interval */
	w->emfile_count++;
	server_listeners(w, 0);
	w->resume_at = now + 1;
	if (now - w->last_emfile_log >= 10) {
		log_warnx("out of file descriptors: not accepting for a "
		    "moment (%lu times since last said)", w->emfile_count);
		w->last_emfile_log = now;
		w->emfile_count = 0;
	}
}

/* count the connection against its client's address (the one the PROXY
 * header gave, behind a proxy): 0 counted or not capped, -1 over the cap.
 * said once per interval, not per connection */
static int
server_cap(struct worker *w, struct conn *c,
    const struct sockaddr_storage *ss)
{
	int cap = w->srv->conf->max_conns_per_address;
	time_t now;

	if (cap == 0)
		return 0;
	c->capbucket = addrcap_bucket(ss);
	if (addrcap_take(c->capbucket, cap)) {
		c->counted = 1;
		return 0;
	}
	w->cap_count++;
	now = server_now();
	if (now - w->last_cap_log >= 10) {
		log_warnx("%s: over max-connections-per-address (%d): "
		    "closed (%lu such since last said)", c->peer, cap,
		    w->cap_count);
		w->last_cap_log = now;
		w->cap_count = 0;
	}
	return -1;
}

static void
server_accept(struct worker *w, struct listener *l)
{
	struct sockaddr_storage ss;
	struct epoll_event ev;
	struct conn *c;
	socklen_t sl;
	int fd, i;

	for (i = 0; i < 64; i++) {
		if (w->nconns >= w->srv->conf->max_connections) {
			server_listeners(w, 0);
			return;
		}
		sl = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				server_emfile(w);
			else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept %s", l->addr);
			return;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			server_emfile(w);
			return;
		}
		c->fd = fd;
		c->l = l;
		c->port = l->port;
		server_peer(c, &ss);
		/* behind proxy-listen the address comes with the header */
		if (l->kind != LISTEN_PROXY && server_cap(w, c, &ss) == -1) {
			/* at once, holding nothing: no handshake, no slot */
			close(fd);
			free(c);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &c->start);
		c->read_deadline = server_now() +
		    w->srv->conf->request_timeout;
		c->deadline = server_now() + w->srv->conf->connection_timeout;
		switch (l->kind) {
		case LISTEN_PROXY:
			c->state = CONN_PROXY;
			break;
		case LISTEN_GOPHER:
		case LISTEN_FINGER:
			c->state = CONN_PLAIN;
			break;
		default:
			c->state = CONN_PEEK;
		}
		memset(&ev, 0, sizeof(ev));
		ev.events = c->events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			log_warn("epoll_ctl");
			if (c->counted)
				addrcap_release(c->capbucket);
			close(fd);
			free(c);
			continue;
		}
		c->next = w->conns;
		if (w->conns)
			w->conns->prev = c;
		w->conns = c;
		w->nconns++;
	}
}

static int
server_new_resp(struct server_reply *rp)
{
	if (rp->resp == NULL && (rp->resp = calloc(1, sizeof(*rp->resp)))
	    == NULL)
		return -1;
	rp->resp->file.fd = -1;
	return 0;
}

void
server_reply_free(struct server_reply *rp)
{
	if (rp->resp != NULL) {
		gemini_response_free(rp->resp);
		free(rp->resp);
	}
	if (rp->map != NULL)
		munmap(rp->map, rp->maplen);	/* out points into it */
	else
		free(rp->out);
	memset(rp, 0, sizeof(*rp));
}

/* append request bytes; the buffer is made on the first of them */
static int
server_line_add(struct conn *c, const char *data, size_t n)
{
	if (c->line == NULL && (c->line = malloc(SERVER_LINE + 1)) == NULL)
		return -1;
	if (n > SERVER_LINE - c->linelen)
		n = SERVER_LINE - c->linelen;
	memcpy(c->line + c->linelen, data, n);
	c->linelen += n;
	c->line[c->linelen] = '\0';
	return 0;
}

/* plain-text reply before tls, for a client that sent a proxy header to a
 * listener that takes none: it is a bad request, said in gemini terms */
static void
server_plain_refuse(struct worker *w, struct conn *c, int status,
    const char *meta)
{
	char msg[256];
	int len = snprintf(msg, sizeof(msg), "%d %s\r\n", status, meta);
	ssize_t n = 0;

	if (len > 0 && (size_t)len < sizeof(msg))
		n = write(c->fd, msg, (size_t)len);
	(void)n;
	if (server_new_resp(&c->rep) == -1) {
		server_close(w, c);
		return;
	}
	c->rep.resp->status = status;
	c->rep.resp->host[0] = '\0';
	snprintf(c->rep.resp->path, sizeof(c->rep.resp->path), "-");
	server_close(w, c);
}

static int
server_start_tls(struct worker *w, struct conn *c)
{
	if ((c->ssl = tls_conn_new(&w->srv->vhosts[0], c->fd, &c->tout,
	    w->srv->ktls)) == NULL)
		return -1;
	c->state = CONN_HANDSHAKE;
	return 0;
}

/* proxy protocol: peek, parse, then consume exactly the header */
static int
server_proxy(struct worker *w, struct conn *c)
{
	unsigned char buf[PROXY_MAX_LEN];
	struct proxy_info pi;
	ssize_t n;
	int len;

	n = recv(c->fd, buf, sizeof(buf), MSG_PEEK);
	if (n == -1)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	if (n == 0)
		return -1;
	len = proxy_parse(buf, (size_t)n, &pi);
	if (len == 0 && (size_t)n < sizeof(buf)) {
		/* more to come. the peeked bytes stay unread, so only new
		 * ones may wake us: edge-triggered until the header is whole */
		server_watch(w, c, EPOLLIN | EPOLLET);
		return 0;
	}
	if (len <= 0) {
		log_debug("%s: connection without a valid proxy header "
		    "refused", c->peer);
		return -1;
	}
	if (recv(c->fd, buf, (size_t)len, 0) != len)
		return -1;
	if (!pi.local) {
		server_peer(c, &pi.src);
		c->port = server_sockport(&pi.dst);
		if (server_cap(w, c, &pi.src) == -1)
			return -1;
	}
	return server_start_tls(w, c) == -1 ? -1 : 1;
}

/* a proxy header where none is taken: refused (tls_out.first) */
static const char server_proxy_refusal[] = "PROXY protocol header on a "
    "listener that does not take one";

static int
server_first_bytes(const unsigned char *buf, size_t len)
{
	return proxy_looks_like(buf, len);
}

static int
server_peek(struct worker *w, struct conn *c)
{
	unsigned char buf[16];
	ssize_t n;

	/* through capsuled's own bio the handshake's first read shows the
	 * bytes (server_first_bytes): no recv of its own to peek. a ktls
	 * connection reads the socket itself, so it is peeked first */
	if (!w->srv->ktls) {
		c->tout.first = server_first_bytes;
		return server_start_tls(w, c) == -1 ? -1 : 1;
	}
	n = recv(c->fd, buf, sizeof(buf), MSG_PEEK);
	if (n == -1)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	if (n == 0)
		return -1;
	if (proxy_looks_like(buf, (size_t)n)) {
		server_plain_refuse(w, c, GEMINI_BAD_REQUEST,
		    server_proxy_refusal);
		return 2;
	}
	return server_start_tls(w, c) == -1 ? -1 : 1;
}

/* send what the tls library left in the holding buffer; 0 while the
 * socket is full (then epoll says when it drains), -1 on error */
static int
server_flush(struct worker *w, struct conn *c)
{
	int rc = tls_out_flush(&c->tout);

	if (rc == 0) {
		c->flushing = 1;
		server_watch(w, c, EPOLLOUT);
	} else
		c->flushing = 0;
	return rc;
}

/* the wants of a tls call (enum tls_status): watch for them, or fail
 * the connection */
static int
server_tls_want(struct worker *w, struct conn *c, int status)
{
	int rc;

	switch (status) {
	case TLS_WANT_READ:
		/* the peer will not answer what it has not been sent */
		if ((rc = server_flush(w, c)) != 1)
			return rc;
		/* and the tls library's own buffers, while they are empty */
		tls_conn_idle(c->ssl);
		server_watch(w, c, EPOLLIN);
		return 0;
	case TLS_WANT_WRITE:
		server_watch(w, c, EPOLLOUT);
		return 0;
	default:
		/* an alert may wait in the buffer: give it one try */
		tls_out_flush(&c->tout);
		return -1;
	}
}

int
server_reply_gemini(const struct srv *s, const struct tls_vhost *v, int sni,
    int port, const struct loc_peer *peer, const char *line, size_t len,
    struct server_reply *rp)
{
	const char *crlf = memmem(line, len, "\r\n", 2);
	struct response *r;
	size_t cap;

	if (crlf == NULL) {
		if (len < SERVER_LINE)
			return 1;
		/* 1024 bytes and no crlf: too long */
	} else
		len = (size_t)(crlf - line);
	/* bytes after the crlf are ignored */
	if (server_new_resp(rp) == -1)
		return -1;
	r = rp->resp;
	gemini_respond(s, v, sni, port, peer, line, len, r);
	cap = r->hlen;
	if (r->status == GEMINI_SUCCESS && r->file.listing != NULL)
		cap += r->file.listing_len;
	else if (r->status == GEMINI_SUCCESS && r->file.size <= SERVER_SMALL)
		cap += (size_t)r->file.size;
	if ((rp->out = malloc(cap ? cap : 1)) == NULL)
		return -1;
	memcpy(rp->out, r->header, r->hlen);
	rp->outlen = r->hlen;
	if (r->status == GEMINI_SUCCESS && r->file.listing != NULL) {
		memcpy(rp->out + rp->outlen, r->file.listing,
		    r->file.listing_len);
		rp->outlen += r->file.listing_len;
		rp->bytes = r->file.listing_len;
	} else if (r->status == GEMINI_SUCCESS && r->file.size <= SERVER_SMALL) {
		/* small bodies go out in the header's record */
		ssize_t n = pread(r->file.fd, rp->out + rp->outlen,
		    (size_t)r->file.size, 0);

		if (n < 0)
			return -1;
		rp->outlen += (size_t)n;
		rp->bytes = (size_t)n;
		rp->fileoff = r->file.size;
	}
	return 0;
}

/* a file body still to send */
static int
server_reply_pending(const struct server_reply *rp)
{
	return rp->resp != NULL && rp->resp->status == GEMINI_SUCCESS &&
	    rp->resp->file.fd != -1 && rp->fileoff < rp->resp->file.size;
}

/* a file body is sent from a mapping of it, a window at a time: the
 * bytes go from the page cache into the cipher without a copy of their
 * own (about 3% of the server's cpu per MB against pread into a buffer,
 * issue 20). a file that shrinks while it is sent makes the mapping fault
 * (SIGBUS): the handler swaps in zeros and the reply is abandoned */
static char *volatile server_map_base;
static volatile size_t server_map_len;
static volatile sig_atomic_t server_map_fault;

static void
server_sigbus(int sig, siginfo_t *si, void *uc)
{
	char *a = si->si_addr, *base = server_map_base;

	(void)uc;
	if (base != NULL && a >= base && a < base + server_map_len &&
	    mmap(base, server_map_len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_FIXED, -1, 0) != MAP_FAILED) {
		server_map_fault = 1;
		return;		/* the read is made again, of zeros */
	}
	/* not ours: the default action, when the access is made again */
	signal(sig, SIG_DFL);
}

/* around reading a reply's out: a fault on its mapping is caught, the
 * mapping turned to zeros, and unguard returns -1: the reply must be
 * abandoned. otherwise 0 */
static void
server_map_guard(const struct server_reply *rp)
{
	server_map_len = rp->maplen;
	server_map_base = rp->map;
}

static int
server_map_unguard(void)
{
	server_map_base = NULL;
	if (server_map_fault) {
		server_map_fault = 0;
		return -1;
	}
	return 0;
}

int
server_reply_next(struct server_reply *rp)
{
	off_t size, end;
	size_t n;

	if (!server_reply_pending(rp))
		return 0;
	size = rp->resp->file.size;
	if (rp->map == NULL || rp->fileoff >= rp->mapoff +
	    (off_t)rp->maplen) {
		void *m;

		if (rp->map != NULL)
			munmap(rp->map, rp->maplen);
		else
			free(rp->out);	/* the header's buffer */
		rp->map = NULL;
		rp->out = NULL;
		rp->outlen = 0;
		rp->mapoff = rp->fileoff - rp->fileoff % SERVER_MAP;
		end = size - rp->mapoff > SERVER_MAP ? rp->mapoff +
		    SERVER_MAP : size;
		m = mmap(NULL, (size_t)(end - rp->mapoff), PROT_READ,
		    MAP_PRIVATE | MAP_POPULATE, rp->resp->file.fd, rp->mapoff);
		if (m == MAP_FAILED)
			return -1;
		rp->map = m;
		rp->maplen = (size_t)(end - rp->mapoff);
	}
	n = (size_t)(rp->mapoff + (off_t)rp->maplen - rp->fileoff);
	if (n > SERVER_CHUNK)
		n = SERVER_CHUNK;
	rp->out = rp->map + (rp->fileoff - rp->mapoff);
	rp->outlen = n;
	rp->fileoff += (off_t)n;
	rp->bytes += n;
	return 1;
}

int
server_reply_plain(const struct srv *s, enum listen_kind kind, int port,
    const char *line, size_t len, struct server_reply *rp)
{
	struct plain_result res;
	struct buf out;
	int rc;

	memset(&res, 0, sizeof(res));
	buf_init(&out, 0);
	if (kind == LISTEN_GOPHER)
		rc = plain_gopher(s, port, line, len, &out, &res);
	else
		rc = plain_finger(s, line, len, &out, &res);
	if (rc == 1) {
		buf_free(&out);
		/* a full buffer without a line end: the parsers say too
		 * long before this, so this only guards the buffer */
		return len < SERVER_LINE ? 1 : -1;
	}
	/* the reply owns the bytes now, and frees them */
	if (rc == -1 || (rp->out = buf_release(&out, &rp->outlen)) == NULL) {
		buf_free(&out);
		return -1;
	}
	rp->bytes = rp->outlen;
	if (server_new_resp(rp) == -1)
		return -1;
	rp->resp->status = res.status;
	snprintf(rp->resp->host, sizeof(rp->resp->host), "%s",
	    kind == LISTEN_GOPHER ? "gopher" : "finger");
	snprintf(rp->resp->path, sizeof(rp->resp->path), "%s", res.what);
	return 0;
}

/* gopher and finger: read the line, build the answer, no tls */
static int
server_plain(struct worker *w, struct conn *c)
{
	ssize_t n;
	int rc;

	n = recv(c->fd, w->scratch, SERVER_LINE - c->linelen, 0);
	if (n == -1)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	if (n == 0 || server_line_add(c, w->scratch, (size_t)n) == -1)
		return -1;
	rc = server_reply_plain(w->srv, c->l->kind, c->l->port, c->line,
	    c->linelen, &c->rep);
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	c->outoff = 0;
	c->state = CONN_PLAIN_WRITE;
	server_watch(w, c, EPOLLOUT);
	return 1;
}

/* -1: close now; 0: wait for events */
static int
server_step(struct worker *w, struct conn *c)
{
	struct loc_peer peer;
	size_t got;
	int rc;

	for (;;) {
		/* drain a full buffer before making more; small ones wait to
		 * leave with what follows */
		if (c->flushing || c->tout.len - c->tout.off >= SERVER_CHUNK) {
			if ((rc = server_flush(w, c)) != 1)
				return rc;
		}
		switch (c->state) {
		case CONN_PROXY:
			if ((rc = server_proxy(w, c)) <= 0)
				return rc;
			break;
		case CONN_PEEK:
			if ((rc = server_peek(w, c)) <= 0)
				return rc;
			if (rc == 2)
				return 1;	/* already closed */
			break;
		case CONN_HANDSHAKE:
			if ((rc = tls_handshake(c->ssl)) != TLS_DONE) {
				if (c->tout.refused) {
					server_plain_refuse(w, c,
					    GEMINI_BAD_REQUEST,
					    server_proxy_refusal);
					return 1;	/* already closed */
				}
				return server_tls_want(w, c, rc);
			}
			c->state = CONN_READ;
			break;
		case CONN_READ:
			/* read into the worker's scratch: a connection
			 * that sends nothing holds no line buffer */
			rc = tls_read(c->ssl, w->scratch,
			    SERVER_LINE - c->linelen, &got);
			if (rc != TLS_DONE)
				return server_tls_want(w, c, rc);
			if (server_line_add(c, w->scratch, got) == -1)
				return -1;
			/* the certificate only where a location asks */
			if (w->srv->client_cert)
				tls_peer(c->ssl, &peer);
			rc = server_reply_gemini(w->srv,
			    tls_vhost_of(c->ssl, &w->srv->sni),
			    tls_sni_sent(c->ssl), c->port,
			    w->srv->client_cert ? &peer : NULL,
			    c->line, c->linelen, &c->rep);
			if (rc == -1)
				return -1;
			if (rc == 0)
				c->state = CONN_WRITE;
			break;
		case CONN_WRITE:
			if (c->outoff < c->rep.outlen) {
				server_map_guard(&c->rep);
				rc = tls_write(c->ssl, c->rep.out + c->outoff,
				    c->rep.outlen - c->outoff, &got);
				if (server_map_unguard() == -1) {
					log_warnx("%s: file shrank while it was "
					    "sent: response cut", c->peer);
					return -1;
				}
				if (rc != TLS_DONE)
					return server_tls_want(w, c, rc);
				c->outoff += got;
				break;
			}
			if (server_reply_pending(&c->rep) &&
			    tls_ktls_send(c->ssl)) {
				rc = tls_sendfile(c->ssl,
				    c->rep.resp->file.fd, c->rep.fileoff,
				    SERVER_CHUNK * 4, &got);
				if (rc != TLS_DONE)
					return server_tls_want(w, c, rc);
				c->rep.fileoff += (off_t)got;
				c->rep.bytes += got;
				break;
			}
			if ((rc = server_reply_next(&c->rep)) == -1)
				return -1;
			if (rc == 1) {
				c->outoff = 0;
				break;
			}
			c->state = CONN_SHUTDOWN;
			break;
		case CONN_SHUTDOWN:
			/* close_notify ends every response */
			rc = tls_shutdown(c->ssl);
			if (rc != TLS_DONE)
				return server_tls_want(w, c, rc) == 0 ? 0 : -1;
			/* nothing reads or writes tls after close_notify:
			 * its buffers go now, not after the linger */
			tls_conn_free(c->ssl);
			c->ssl = NULL;
			c->state = CONN_CLOSING;
			break;
		case CONN_CLOSING: {
			int unread = 0;

			if ((rc = server_flush(w, c)) != 1)
				return rc;
			/* nothing more from the client: close at once */
			if (ioctl(c->fd, FIONREAD, &unread) == 0 && unread == 0)
				return -1;
			/* closing with unread input would reset the
			 * connection and could cost the client the tail of
			 * the response: send fin, drain briefly, then close */
			if (shutdown(c->fd, SHUT_WR) == -1)
				return -1;
			c->state = CONN_LINGER;
			c->deadline = server_now() + 2;
			server_watch(w, c, EPOLLIN);
			break;
		}
		case CONN_PLAIN:
			if ((rc = server_plain(w, c)) <= 0)
				return rc;
			break;
		case CONN_PLAIN_WRITE:
			while (c->outoff < c->rep.outlen) {
				ssize_t n = send(c->fd, c->rep.out + c->outoff,
				    c->rep.outlen - c->outoff, MSG_NOSIGNAL);

				if (n == -1)
					return (errno == EAGAIN ||
					    errno == EINTR) ? 0 : -1;
				c->outoff += (size_t)n;
			}
			if (shutdown(c->fd, SHUT_WR) == -1)
				return -1;
			c->state = CONN_LINGER;
			c->deadline = server_now() + 2;
			server_watch(w, c, EPOLLIN);
			break;
		case CONN_LINGER: {
			char scratch[4096];
			ssize_t n = recv(c->fd, scratch, sizeof(scratch), 0);

			if (n > 0)
				break;
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				return 0;
			return -1;
		}
		}
	}
}

static void
server_sweep(struct worker *w)
{
	struct conn *c, *next;
	time_t now = server_now();

	for (c = w->conns; c != NULL; c = next) {
		next = c->next;
		if (now >= c->deadline || ((c->state < CONN_WRITE ||
		    c->state == CONN_PLAIN) && now >= c->read_deadline))
			server_close(w, c);
	}
	if (w->resume_at != 0 && now >= w->resume_at && !w->draining) {
		w->resume_at = 0;
		if (w->nconns < w->srv->conf->max_connections)
			server_listeners(w, 1);
	}
}

static void
server_signal(struct worker *w)
{
	struct signalfd_siginfo si;
	size_t i;

	while (read(w->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			/* finish what is under way, take nothing new */
			w->draining = 1;
			server_listeners(w, 0);
			for (i = 0; i < w->srv->nlisteners; i++) {
				close(w->srv->listeners[i].fd);
				w->srv->listeners[i].fd = -1;
			}
		}
	}
}

void
server_worker(struct srv *s)
{
	struct worker w;
	struct epoll_event evs[256], ev;
	struct sigaction sa;
	sigset_t set;
	time_t last_sweep = 0;
	int i, n;

	memset(&w, 0, sizeof(w));
	w.srv = s;
	if ((w.epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = server_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) == -1)
		fatal("sigaction");
	if ((w.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &w;
	if (epoll_ctl(w.epfd, EPOLL_CTL_ADD, w.sigfd, &ev) == -1)
		fatal("epoll_ctl");
	server_listeners(&w, 1);

	while (!w.draining || w.nconns > 0) {
		n = epoll_wait(w.epfd, evs, 256, 1000);
		if (n == -1 && errno != EINTR)
			fatal("epoll_wait");
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &w)
				server_signal(&w);
			else if (server_is_listener(&w, p))
				server_accept(&w, p);
			else {
				struct conn *c = p;

				if (evs[i].events & (EPOLLERR | EPOLLHUP) &&
				    !(evs[i].events & EPOLLIN)) {
					server_close(&w, c);
					continue;
				}
				if (server_step(&w, c) == -1)
					server_close(&w, c);
			}
		}
		if (server_now() != last_sweep) {
			last_sweep = server_now();
			server_sweep(&w);
		}
	}
	exit(0);
}

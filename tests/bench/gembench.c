/*
 * gembench: a gemini load generator for capsuled's benchmark.
 *
 * every request is a fresh tcp connection and tls handshake (as gemini
 * clients do), N requests in flight, driven by one epoll loop with
 * non-blocking sockets. it reads each response to close_notify or eof,
 * records per-request latency, and prints one key=value line.
 *
 *   gembench -p port [-h host] [-s sni] [-u url] [-n requests | -d seconds]
 *            [-c inflight] [-r] [-t conn-timeout] [-T deadline]
 *            [-2] (tls 1.2 at most)
 *   gembench -p port -g selector [-n requests | -d seconds] [-c inflight]
 *            plain tcp (gopher): the selector, then everything to eof;
 *            the floor under the tls rows, through the same server
 *   gembench -p port -I count [-H hold-seconds] [-c handshakes] [-r]
 *            hold count idle connections (tls handshake done, no request)
 *   gembench -F   print a free tcp port on 127.0.0.1
 *
 * exit status: 0 when every request got a 2x response, 1 otherwise,
 * 2 for usage errors.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define GB_MAX_EVENTS	256
#define GB_SESS_POOL	64	/* tickets kept for resumption */
#define GB_READ_BUF	65536
#define GB_MAX_ERRMSG	5	/* error reasons printed to stderr */

enum gb_state {
	ST_FREE,
	ST_CONNECT,
	ST_HANDSHAKE,
	ST_WRITE,
	ST_READ,
	ST_IDLE,
};

struct gb_conn {
	enum gb_state	 st;
	int		 fd;
	SSL		*ssl;
	uint32_t	 events;	/* current epoll interest */
	double		 started;
	double		 deadline;
	uint64_t	 bytes;
	char		 head[4];	/* first bytes: the status code */
	size_t		 head_len;
};

struct gb_opts {
	const char	*host;
	const char	*port;
	const char	*sni;
	const char	*url;
	long		 requests;
	double		 duration;	/* > 0: run for this long instead */
	long		 inflight;
	int		 resume;
	double		 conn_timeout;
	double		 deadline;
	long		 idle;		/* > 0: idle-holding mode */
	double		 hold;
	const char	*selector;	/* plain tcp (gopher) instead of tls */
	int		 tls12;		/* tls 1.2 at most */
};

struct gb_stats {
	long		 launched;
	long		 ok;
	long		 connect_err;
	long		 tls_err;
	long		 io_err;
	long		 timeouts;
	long		 bad_status;
	long		 aborted;
	long		 resumed;
	long		 unclean;	/* eof without close_notify */
	long		 closed_by_peer;	/* idle mode */
	uint64_t	 bytes;
	double		*lat;		/* ms, successful requests */
	size_t		 nlat, lat_cap;
	long		 errmsgs;
};

static struct gb_opts	 opt;
static struct gb_stats	 st;
static struct gb_conn	*conns;
static long		 nconns;
static long		 inflight;
static int		 epfd = -1;
static SSL_CTX		*ctx;
static struct sockaddr_storage addr;
static socklen_t	 addrlen;
static char		 request[1100];
static size_t		 request_len;
static volatile sig_atomic_t stop_flag;
static char		 cipher[64] = "-";	/* of the first handshake */

/* tls 1.3 tickets from earlier connections, newest last (and tls 1.2
 * sessions, put back after each resumption). a 1.3 ticket is offered
 * once, as openssl clients do (a second offer of a ticket that already
 * resumed a session does not resume again); with none left a connection
 * makes a full handshake, so a server that issues no fresh ticket on
 * resumption shows up in the resumed count */
static SSL_SESSION	*sess_pool[GB_SESS_POOL];
static int		 sess_count;

static double
gb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
gb_errmsg(const char *fmt, ...)
{
	va_list ap;

	if (st.errmsgs++ >= GB_MAX_ERRMSG)
		return;
	fprintf(stderr, "gembench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

static void
gb_usage(void)
{
	fprintf(stderr,
	    "usage: gembench -p port [-h host] [-s sni] [-u url] "
	    "[-n requests | -d seconds]\n"
	    "                [-c inflight] [-r] [-2] [-t conn-timeout] "
	    "[-T deadline]\n"
	    "       gembench -p port -g selector [-n requests | -d seconds] "
	    "[-c inflight]\n"
	    "       gembench -p port -I count [-H hold] [-c handshakes] [-r]\n"
	    "       gembench -F\n");
	exit(2);
}

static int
gb_free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		close(fd);
		return -1;
	}
	printf("%d\n", ntohs(sin.sin_port));
	close(fd);
	return 0;
}

static long
gb_num(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "gembench: bad number '%s' (%ld..%ld)\n",
		    s, min, max);
		exit(2);
	}
	return v;
}

static double
gb_secs(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !(v > 0) || v > 86400) {
		fprintf(stderr, "gembench: bad duration '%s'\n", s);
		exit(2);
	}
	return v;
}

static void
gb_on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int
gb_new_session(SSL *ssl, SSL_SESSION *sess)
{
	(void)ssl;
	if (!SSL_SESSION_is_resumable(sess))
		return 0;
	if (sess_count == GB_SESS_POOL) {
		SSL_SESSION_free(sess_pool[0]);
		memmove(sess_pool, sess_pool + 1,
		    (GB_SESS_POOL - 1) * sizeof(sess_pool[0]));
		sess_count--;
	}
	sess_pool[sess_count++] = sess;
	return 1;	/* we keep the reference */
}

/* a tls 1.2 session stays resumable: the client offers it again, as
 * browsers do, instead of waiting for a new one (openssl announces none
 * on a resumption) */
static void
gb_keep_12(SSL *ssl)
{
	SSL_SESSION *sess;

	if (SSL_version(ssl) > TLS1_2_VERSION ||
	    (sess = SSL_get1_session(ssl)) == NULL)
		return;
	if (!gb_new_session(ssl, sess))
		SSL_SESSION_free(sess);
}

/* the newest unused ticket, or NULL; the caller frees it */
static SSL_SESSION *
gb_take_session(void)
{
	if (sess_count == 0)
		return NULL;
	return sess_pool[--sess_count];
}

static int
gb_tls_init(void)
{
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return -1;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (opt.tls12)
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	/* gemini is trust-on-first-use: no ca verification here */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (opt.resume) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
		    SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(ctx, gb_new_session);
	} else
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return 0;
}

static int
gb_resolve(void)
{
	struct addrinfo hints, *res;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	if ((rc = getaddrinfo(opt.host, opt.port, &hints, &res)) != 0) {
		fprintf(stderr, "gembench: %s:%s: %s\n", opt.host, opt.port,
		    gai_strerror(rc));
		return -1;
	}
	memcpy(&addr, res->ai_addr, res->ai_addrlen);
	addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void
gb_raise_nofile(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max;
		if (rl.rlim_max != RLIM_INFINITY && (long)rl.rlim_max < want)
			fprintf(stderr, "gembench: open file limit %ld < %ld\n",
			    (long)rl.rlim_max, want);
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
gb_lat_add(double ms)
{
	double *n;

	if (st.nlat == st.lat_cap) {
		st.lat_cap = st.lat_cap ? st.lat_cap * 2 : 4096;
		if ((n = realloc(st.lat, st.lat_cap * sizeof(*n))) == NULL) {
			fprintf(stderr, "gembench: out of memory\n");
			exit(1);
		}
		st.lat = n;
	}
	st.lat[st.nlat++] = ms;
}

static int
gb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* nearest-rank percentile of the sorted latencies */
static double
gb_percentile(double q)
{
	size_t rank;

	if (st.nlat == 0)
		return 0;
	rank = (size_t)ceil(q * st.nlat);
	if (rank < 1)
		rank = 1;
	return st.lat[rank - 1];
}

static void
gb_set_events(struct gb_conn *c, uint32_t ev)
{
	struct epoll_event e;

	if (c->events == ev)
		return;
	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.u32 = (uint32_t)(c - conns);
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e) == 0)
		c->events = ev;
}

static void
gb_close(struct gb_conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->fd != -1) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->ssl = NULL;
	c->fd = -1;
	/* idle connections no longer count as handshakes in flight */
	if (c->st != ST_IDLE)
		inflight--;
	c->st = ST_FREE;
}

/* one request is over: account for it */
static void
gb_finish(struct gb_conn *c, long *counter, const char *why)
{
	if (counter != NULL) {
		(*counter)++;
		if (why != NULL)
			gb_errmsg("%s", why);
	} else {
		st.ok++;
		gb_lat_add((gb_now() - c->started) * 1000.0);
	}
	st.bytes += c->bytes;
	gb_close(c);
}

static void
gb_tls_fail(struct gb_conn *c, long *counter, const char *stage, int err)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else if (err == SSL_ERROR_SYSCALL)
		snprintf(buf, sizeof(buf), "%s", errno ? strerror(errno) :
		    "connection closed");
	else
		snprintf(buf, sizeof(buf), "ssl error %d", err);
	ERR_clear_error();
	if (st.errmsgs < GB_MAX_ERRMSG) {
		char msg[320];

		snprintf(msg, sizeof(msg), "%s: %s", stage, buf);
		gb_finish(c, counter, msg);
	} else
		gb_finish(c, counter, NULL);
}

/* an ssl call wants i/o: wait for it; otherwise the call failed */
static int
gb_want(struct gb_conn *c, int err)
{
	if (err == SSL_ERROR_WANT_READ) {
		gb_set_events(c, EPOLLIN);
		return 1;
	}
	if (err == SSL_ERROR_WANT_WRITE) {
		gb_set_events(c, EPOLLOUT);
		return 1;
	}
	return 0;
}

/* the response ended: with close_notify (clean) or a bare eof */
static void
gb_response_end(struct gb_conn *c, int clean)
{
	if (!clean)
		st.unclean++;
	/* an ssl freed without a shutdown marks its session (the ticket we
	 * keep) not resumable; the server has closed, so send nothing */
	SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	if (c->head_len < 2 || c->head[0] != '2') {
		char msg[64];

		snprintf(msg, sizeof(msg), "bad response status '%.*s'",
		    (int)c->head_len, c->head);
		gb_finish(c, &st.bad_status, msg);
	} else
		gb_finish(c, NULL, NULL);
}

static void
gb_read_response(struct gb_conn *c)
{
	static unsigned char buf[GB_READ_BUF];
	int n, err;
	size_t take;

	for (;;) {
		ERR_clear_error();
		n = SSL_read(c->ssl, buf, sizeof(buf));
		if (n > 0) {
			if (c->head_len < sizeof(c->head)) {
				take = sizeof(c->head) - c->head_len;
				if (take > (size_t)n)
					take = (size_t)n;
				memcpy(c->head + c->head_len, buf, take);
				c->head_len += take;
			}
			c->bytes += (uint64_t)n;
			continue;
		}
		err = SSL_get_error(c->ssl, n);
		if (err == SSL_ERROR_ZERO_RETURN) {
			gb_response_end(c, 1);
			return;
		}
		if (gb_want(c, err))
			return;
		if ((err == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING) ||
		    (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 &&
		    errno == 0)) {
			ERR_clear_error();
			gb_response_end(c, 0);
			return;
		}
		gb_tls_fail(c, &st.io_err, "read", err);
		return;
	}
}

/* plain tcp: the answer is everything until eof */
static void
gb_read_plain(struct gb_conn *c)
{
	static unsigned char buf[GB_READ_BUF];
	ssize_t n;

	for (;;) {
		n = read(c->fd, buf, sizeof(buf));
		if (n > 0) {
			if (c->head_len == 0)
				c->head_len = 1;
			c->bytes += (uint64_t)n;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			gb_set_events(c, EPOLLIN);
			return;
		}
		if (n == 0 && c->bytes > 0)
			gb_finish(c, NULL, NULL);
		else
			gb_finish(c, &st.io_err, n == 0 ? "plain: empty answer" :
			    "plain: read failed");
		return;
	}
}

/* plain tcp: send the selector line */
static void
gb_write_plain(struct gb_conn *c)
{
	ssize_t n = send(c->fd, request, request_len, MSG_NOSIGNAL);

	if (n == (ssize_t)request_len) {
		c->st = ST_READ;
		gb_read_plain(c);
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		gb_set_events(c, EPOLLOUT);
		return;
	}
	gb_finish(c, &st.io_err, "plain: short write");
}

/* idle mode: the server may send tickets, or close the connection */
static void
gb_read_idle(struct gb_conn *c)
{
	unsigned char buf[512];
	int n, err;

	for (;;) {
		ERR_clear_error();
		n = SSL_read(c->ssl, buf, sizeof(buf));
		if (n > 0)
			continue;
		err = SSL_get_error(c->ssl, n);
		if (err == SSL_ERROR_WANT_READ) {
			gb_set_events(c, EPOLLIN);
			return;
		}
		if (err == SSL_ERROR_WANT_WRITE) {
			gb_set_events(c, EPOLLOUT);
			return;
		}
		ERR_clear_error();
		st.closed_by_peer++;
		gb_close(c);
		return;
	}
}

/* advance a connection as far as it goes without blocking */
static void
gb_drive(struct gb_conn *c)
{
	int n, err, soerr;
	socklen_t len;

	for (;;) {
		switch (c->st) {
		case ST_FREE:
			return;
		case ST_CONNECT:
			len = sizeof(soerr);
			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr,
			    &len) == -1)
				soerr = errno;
			if (soerr != 0) {
				char msg[128];

				snprintf(msg, sizeof(msg), "connect: %s",
				    strerror(soerr));
				gb_finish(c, &st.connect_err, msg);
				return;
			}
			if (opt.selector != NULL) {
				c->st = ST_WRITE;
				gb_write_plain(c);
				return;
			}
			c->st = ST_HANDSHAKE;
			break;
		case ST_HANDSHAKE:
			ERR_clear_error();
			n = SSL_connect(c->ssl);
			if (n == 1) {
				if (SSL_session_reused(c->ssl)) {
					st.resumed++;
					gb_keep_12(c->ssl);
				}
				if (cipher[0] == '-')
					snprintf(cipher, sizeof(cipher), "%s_%s",
					    SSL_get_version(c->ssl),
					    SSL_get_cipher_name(c->ssl));
				c->st = opt.idle > 0 ? ST_IDLE : ST_WRITE;
				if (c->st == ST_IDLE) {
					inflight--;	/* no longer a handshake */
					gb_set_events(c, EPOLLIN);
					return;
				}
				break;
			}
			err = SSL_get_error(c->ssl, n);
			if (gb_want(c, err))
				return;
			gb_tls_fail(c, &st.tls_err, "handshake", err);
			return;
		case ST_WRITE:
			if (opt.selector != NULL) {
				gb_write_plain(c);
				return;
			}
			ERR_clear_error();
			n = SSL_write(c->ssl, request, (int)request_len);
			if (n > 0) {
				c->st = ST_READ;
				break;
			}
			err = SSL_get_error(c->ssl, n);
			if (gb_want(c, err))
				return;
			gb_tls_fail(c, &st.io_err, "write", err);
			return;
		case ST_READ:
			if (opt.selector != NULL)
				gb_read_plain(c);
			else
				gb_read_response(c);
			return;
		case ST_IDLE:
			gb_read_idle(c);
			return;
		}
	}
}

static struct gb_conn *
gb_free_slot(void)
{
	static long hint;
	long i, j;

	for (i = 0; i < nconns; i++) {
		j = (hint + i) % nconns;
		if (conns[j].st == ST_FREE) {
			hint = j + 1;
			return &conns[j];
		}
	}
	return NULL;
}

/* open a new connection and start it; -1 when out of slots */
static int
gb_launch(void)
{
	struct gb_conn *c;
	struct epoll_event e;
	SSL_SESSION *sess;
	int one = 1;
	double now = gb_now();

	if ((c = gb_free_slot()) == NULL)
		return -1;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->st = ST_CONNECT;
	c->started = now;
	c->deadline = now + opt.conn_timeout;
	inflight++;
	st.launched++;

	c->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		char msg[128];

		snprintf(msg, sizeof(msg), "socket: %s", strerror(errno));
		gb_finish(c, &st.connect_err, msg);
		return 0;
	}
	/* the request follows the client's finished message: no nagle */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&addr, addrlen) == -1 &&
	    errno != EINPROGRESS) {
		char msg[128];

		snprintf(msg, sizeof(msg), "connect: %s", strerror(errno));
		gb_finish(c, &st.connect_err, msg);
		return 0;
	}
	if (opt.selector == NULL && ((c->ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, opt.sni) != 1)) {
		gb_tls_fail(c, &st.tls_err, "setup", 0);
		return 0;
	}
	if (opt.selector == NULL && opt.resume &&
	    (sess = gb_take_session()) != NULL) {
		SSL_set_session(c->ssl, sess);	/* takes its own reference */
		SSL_SESSION_free(sess);
	}
	memset(&e, 0, sizeof(e));
	e.events = EPOLLOUT;
	e.data.u32 = (uint32_t)(c - conns);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e) == -1) {
		char msg[128];

		snprintf(msg, sizeof(msg), "epoll_ctl: %s", strerror(errno));
		gb_finish(c, &st.connect_err, msg);
		return 0;
	}
	c->events = EPOLLOUT;
	return 0;
}

static void
gb_expire(double now)
{
	long i;

	for (i = 0; i < nconns; i++) {
		if (conns[i].st == ST_FREE || conns[i].st == ST_IDLE)
			continue;
		if (now >= conns[i].deadline)
			gb_finish(&conns[i], &st.timeouts, "connection timed out");
	}
}

static void
gb_abort_all(void)
{
	long i;

	for (i = 0; i < nconns; i++) {
		if (conns[i].st == ST_FREE)
			continue;
		if (conns[i].st == ST_IDLE)
			gb_close(&conns[i]);
		else
			gb_finish(&conns[i], &st.aborted, NULL);
	}
}

/* wait for events once and drive the connections they concern */
static void
gb_poll(int timeout_ms)
{
	struct epoll_event ev[GB_MAX_EVENTS];
	int n, i;

	n = epoll_wait(epfd, ev, GB_MAX_EVENTS, timeout_ms);
	for (i = 0; i < n; i++) {
		if (ev[i].data.u32 >= (uint32_t)nconns)
			continue;
		gb_drive(&conns[ev[i].data.u32]);
	}
}

static double
gb_cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return 0;
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int
gb_run_requests(void)
{
	double t0, now, t_end, next_scan, last_done, secs;
	long errors;

	t0 = gb_now();
	t_end = t0 + opt.deadline;
	next_scan = t0;
	for (;;) {
		now = gb_now();
		if (stop_flag || now >= t_end) {
			gb_abort_all();
			break;
		}
		while (inflight < opt.inflight &&
		    (opt.duration > 0 ? now < t0 + opt.duration :
		    st.launched < opt.requests))
			if (gb_launch() == -1)
				break;
		if (inflight == 0)
			break;
		gb_poll(50);
		now = gb_now();
		if (now >= next_scan) {
			gb_expire(now);
			next_scan = now + 0.1;
		}
	}
	last_done = gb_now();

	if (st.nlat > 0)	/* st.lat is null until the first answer */
		qsort(st.lat, st.nlat, sizeof(st.lat[0]), gb_cmp_double);
	errors = st.connect_err + st.tls_err + st.io_err + st.timeouts +
	    st.bad_status + st.aborted;
	if ((secs = last_done - t0) <= 0)
		secs = 1e-9;
	printf("requests=%ld ok=%ld errors=%ld seconds=%.3f rps=%.1f "
	    "mbps=%.2f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f resumed=%ld "
	    "bytes=%llu unclean_eof=%ld connect_err=%ld tls_err=%ld "
	    "io_err=%ld timeouts=%ld bad_status=%ld aborted=%ld "
	    "client_cpu_s=%.3f cipher=%s\n",
	    st.ok + errors, st.ok, errors, secs, st.ok / secs,
	    st.bytes / 1e6 / secs, gb_percentile(0.50), gb_percentile(0.99),
	    st.nlat ? st.lat[st.nlat - 1] : 0.0, st.resumed,
	    (unsigned long long)st.bytes, st.unclean, st.connect_err,
	    st.tls_err, st.io_err, st.timeouts, st.bad_status, st.aborted,
	    gb_cpu_seconds(), cipher);
	return errors == 0 && st.ok > 0 ? 0 : 1;
}

static long
gb_idle_established(void)
{
	long i, n = 0;

	for (i = 0; i < nconns; i++)
		if (conns[i].st == ST_IDLE)
			n++;
	return n;
}

/* open opt.idle connections, opt.inflight handshakes at a time, and hold */
static int
gb_run_idle(void)
{
	double t0, now, next_scan, t_ready = 0, t_end;
	long failed;

	t0 = gb_now();
	next_scan = t0;
	t_end = t0 + opt.deadline;
	for (;;) {
		now = gb_now();
		if (stop_flag || now >= t_end)
			break;
		while (inflight < opt.inflight && st.launched < opt.idle)
			if (gb_launch() == -1)
				break;
		if (t_ready == 0 && st.launched >= opt.idle && inflight == 0) {
			t_ready = now;
			failed = st.connect_err + st.tls_err + st.timeouts;
			printf("idle opened=%ld established=%ld failed=%ld "
			    "resumed=%ld closed_by_peer=%ld seconds=%.3f\n",
			    st.launched, gb_idle_established(), failed,
			    st.resumed, st.closed_by_peer, now - t0);
			fflush(stdout);
			t_end = now + opt.hold;
		}
		gb_poll(50);
		now = gb_now();
		if (now >= next_scan) {
			gb_expire(now);
			next_scan = now + 0.1;
		}
	}
	failed = st.connect_err + st.tls_err + st.timeouts;
	printf("idle-end opened=%ld established=%ld failed=%ld "
	    "closed_by_peer=%ld held_s=%.3f\n", st.launched,
	    gb_idle_established(), failed, st.closed_by_peer,
	    t_ready > 0 ? gb_now() - t_ready : 0.0);
	fflush(stdout);
	gb_abort_all();
	return t_ready > 0 && failed == 0 ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	struct sigaction sa;
	char urlbuf[1100];
	int ch, rc, explicit_inflight = 0;
	long i;

	opt.host = "127.0.0.1";
	opt.sni = "localhost";
	opt.requests = 1000;
	opt.inflight = 1;
	opt.conn_timeout = 10;
	opt.hold = 30;

	while ((ch = getopt(argc, argv, "2c:d:Fg:H:h:I:n:p:rs:T:t:u:")) != -1) {
		switch (ch) {
		case '2':
			opt.tls12 = 1;
			break;
		case 'g':
			opt.selector = optarg;
			break;
		case 'c':
			opt.inflight = gb_num(optarg, 1, 100000);
			explicit_inflight = 1;
			break;
		case 'd':
			opt.duration = gb_secs(optarg);
			break;
		case 'F':
			return gb_free_port() == 0 ? 0 : 1;
		case 'H':
			opt.hold = gb_secs(optarg);
			break;
		case 'h':
			opt.host = optarg;
			break;
		case 'I':
			opt.idle = gb_num(optarg, 1, 1000000);
			break;
		case 'n':
			opt.requests = gb_num(optarg, 1, LONG_MAX / 2);
			break;
		case 'p':
			opt.port = optarg;
			break;
		case 'r':
			opt.resume = 1;
			break;
		case 's':
			opt.sni = optarg;
			break;
		case 'T':
			opt.deadline = gb_secs(optarg);
			break;
		case 't':
			opt.conn_timeout = gb_secs(optarg);
			break;
		case 'u':
			opt.url = optarg;
			break;
		default:
			gb_usage();
		}
	}
	if (optind != argc || opt.port == NULL)
		gb_usage();
	if (opt.deadline == 0)
		opt.deadline = opt.idle > 0 ? opt.hold + 120 :
		    opt.duration > 0 ? opt.duration + opt.conn_timeout + 5 : 120;
	if (opt.idle > 0 && !explicit_inflight)
		opt.inflight = 64;
	if (opt.url == NULL) {
		if (snprintf(urlbuf, sizeof(urlbuf), "gemini://%s:%s/",
		    opt.sni, opt.port) >= (int)sizeof(urlbuf)) {
			fprintf(stderr, "gembench: url too long\n");
			return 2;
		}
		opt.url = urlbuf;
	}
	if (opt.selector != NULL && opt.idle > 0)
		gb_usage();
	if (snprintf(request, sizeof(request), "%s\r\n", opt.selector ?
	    opt.selector : opt.url) >= (int)sizeof(request)) {
		fprintf(stderr, "gembench: url too long\n");
		return 2;
	}
	request_len = strlen(request);

	nconns = opt.idle > 0 ? opt.idle : opt.inflight;
	if ((conns = calloc((size_t)nconns, sizeof(*conns))) == NULL) {
		fprintf(stderr, "gembench: out of memory\n");
		return 1;
	}
	for (i = 0; i < nconns; i++) {
		conns[i].st = ST_FREE;
		conns[i].fd = -1;
	}
	gb_raise_nofile(nconns + 32);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = gb_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (gb_resolve() == -1)
		return 1;
	if (gb_tls_init() == -1) {
		fprintf(stderr, "gembench: cannot create tls context\n");
		return 1;
	}
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("gembench: epoll_create1");
		return 1;
	}
	rc = opt.idle > 0 ? gb_run_idle() : gb_run_requests();

	while (sess_count > 0)
		SSL_SESSION_free(sess_pool[--sess_count]);
	SSL_CTX_free(ctx);
	close(epfd);
	free(conns);
	free(st.lat);
	return rc;
}

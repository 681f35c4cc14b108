/*
 * mailblast: the SMTP load generator for the mail row of `make bench`.
 *
 * pushes N messages of about SIZE bytes into an SMTP server on loopback,
 * one SMTP session per message (as mail from the public arrives), over C
 * sessions in parallel, each a thread with a blocking socket. every reply
 * is read and checked. the sender is fixed, or, when it contains "%d",
 * made from the message number so that every message has its own sender
 * (every enquiry is then due an acknowledgement).
 *
 *   mailblast -p port -n messages -c sessions -f sender -t rcpt
 *             [-s size] [-T tag]
 *
 * prints "sent=N errors=E seconds=S"; exit status 0 when every message
 * was accepted, 1 otherwise, 2 for usage errors.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int port, nmsg, nsess = 20, size = 2048;
static const char *from_fmt, *rcpt, *tag = "mb";
static char *body;
static size_t bodylen;

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static int next_msg, errors;

struct conn {
	int	fd;
	char	buf[4096];
	size_t	len;
};

static int
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
sendf(struct conn *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	return send_all(c->fd, line, (size_t)n);
}

/* one reply, multi-line or not: its code, or -1 */
static int
reply(struct conn *c)
{
	for (;;) {
		char *nl;

		while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
			size_t n = (size_t)(nl - c->buf) + 1;
			int code = -1, last = 0;

			if (n >= 4 && c->buf[0] >= '1' && c->buf[0] <= '5') {
				code = atoi(c->buf);
				last = c->buf[3] != '-';
			}
			memmove(c->buf, c->buf + n, c->len - n);
			c->len -= n;
			if (code == -1)
				return -1;
			if (last)
				return code;
		}
		if (c->len == sizeof(c->buf))
			return -1;
		ssize_t r = recv(c->fd, c->buf + c->len,
		    sizeof(c->buf) - c->len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c->len += (size_t)r;
	}
}

static int
expect(struct conn *c, int want)
{
	int code = reply(c);

	return code / 100 == want / 100 ? 0 : -1;
}

static int
one_message(int i)
{
	struct sockaddr_in sin;
	struct timeval tv = { 60, 0 };
	struct conn c = { .fd = -1 };
	int one = 1;
	char sender[256], date[64], *msg;
	size_t msgsz = bodylen + 1024;
	time_t now = time(NULL);
	struct tm tm;
	int rc = -1, n;

	if ((msg = malloc(msgsz)) == NULL)
		return -1;
	if (strstr(from_fmt, "%d"))
		snprintf(sender, sizeof(sender), from_fmt, i);
	else
		snprintf(sender, sizeof(sender), "%s", from_fmt);
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);

	if ((c.fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		goto out;
	setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* each command and the message go out whole, so Nagle would only
	 * hold the last piece of the message for the server's delayed ack */
	setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c.fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		goto out;
	if (expect(&c, 220) == -1 ||
	    sendf(&c, "EHLO mailblast.example.org\r\n") == -1 ||
	    expect(&c, 250) == -1 ||
	    sendf(&c, "MAIL FROM:<%s>\r\n", sender) == -1 ||
	    expect(&c, 250) == -1 ||
	    sendf(&c, "RCPT TO:<%s>\r\n", rcpt) == -1 ||
	    expect(&c, 250) == -1 ||
	    sendf(&c, "DATA\r\n") == -1 ||
	    expect(&c, 354) == -1)
		goto out;
	/* the header, the body and the final dot in one write */
	n = snprintf(msg, msgsz, "From: Parent %d <%s>\r\nTo: <%s>\r\n"
	    "Subject: enquiry %d\r\nDate: %s\r\n"
	    "Message-ID: <%s.%d.%ld@example.org>\r\n\r\n",
	    i, sender, rcpt, i, date, tag, i, (long)now);
	if (n < 0 || (size_t)n + bodylen + 3 >= msgsz)
		goto out;
	memcpy(msg + n, body, bodylen);
	memcpy(msg + n + bodylen, ".\r\n", 3);
	if (send_all(c.fd, msg, (size_t)n + bodylen + 3) == -1 ||
	    expect(&c, 250) == -1)
		goto out;
	rc = 0;
	/* a polite end; the message is in either way */
	if (sendf(&c, "QUIT\r\n") == 0)
		(void)reply(&c);
out:
	if (c.fd != -1)
		close(c.fd);
	free(msg);
	return rc;
}

static void *
worker(void *arg)
{
	(void)arg;
	for (;;) {
		int i;

		pthread_mutex_lock(&mtx);
		i = next_msg < nmsg ? next_msg++ : -1;
		pthread_mutex_unlock(&mtx);
		if (i == -1)
			return NULL;
		if (one_message(i) == -1) {
			pthread_mutex_lock(&mtx);
			errors++;
			pthread_mutex_unlock(&mtx);
		}
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: mailblast -p port -n messages -c sessions "
	    "-f sender -t rcpt [-s size] [-T tag]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct timespec t0, t1;
	pthread_t *th;
	size_t line;
	int ch, i;

	while ((ch = getopt(argc, argv, "p:n:c:f:t:s:T:")) != -1) {
		switch (ch) {
		case 'p': port = atoi(optarg); break;
		case 'n': nmsg = atoi(optarg); break;
		case 'c': nsess = atoi(optarg); break;
		case 'f': from_fmt = optarg; break;
		case 't': rcpt = optarg; break;
		case 's': size = atoi(optarg); break;
		case 'T': tag = optarg; break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || nmsg <= 0 || nsess <= 0 ||
	    nsess > 1000 || from_fmt == NULL || rcpt == NULL || size < 0 ||
	    size > 10 * 1024 * 1024 || strchr(from_fmt, '%') != strrchr(
	    from_fmt, '%') || (strchr(from_fmt, '%') && !strstr(from_fmt,
	    "%d")))
		usage();
	/* lines of 78 characters and CRLF; no line starts with a dot */
	if ((body = malloc((size_t)size + 81)) == NULL)
		return 1;
	for (line = 0; bodylen < (size_t)size; line++) {
		int n = snprintf(body + bodylen, 81, "%04zu %.*s\r\n", line,
		    73, "the trust's enquiry benchmark: a line of plain text "
		    "to fill the body......");
		bodylen += (size_t)n;
	}
	if ((th = calloc((size_t)nsess, sizeof(*th))) == NULL)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nsess; i++)
		if (pthread_create(&th[i], NULL, worker, NULL) != 0) {
			fprintf(stderr, "mailblast: pthread_create failed\n");
			return 1;
		}
	for (i = 0; i < nsess; i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("sent=%d errors=%d seconds=%.3f\n", nmsg - errors, errors,
	    (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(th);
	free(body);
	return errors ? 1 : 0;
}

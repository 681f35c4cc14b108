/* logging for both daemons: stderr in the foreground, syslog otherwise */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "utf8.h"

static int log_foreground = 1;
static int log_level = LOG_LVL_INFO;
static const char *log_ident = "";
static int log_filefd = -1;

int
log_file_open(const char *path)
{
	int fd;

	if (path == NULL) {
		if (log_filefd != -1)
			close(log_filefd);
		log_filefd = -1;
		return 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	if (log_filefd == -1) {
		log_filefd = fd;
		return 0;
	}
	/* the same descriptor number now names the new file */
	if (dup3(fd, log_filefd, O_CLOEXEC) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return 0;
}

void
log_init(const char *ident, int foreground)
{
	log_ident = ident;
	log_foreground = foreground;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_level_parse(const char *name)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i]) == 0)
			return (int)i;
	if (strcasecmp(name, "warn") == 0)
		return LOG_LVL_WARN;
	return -1;
}

static void
log_vwrite(int level, const char *fmt, va_list ap, int with_errno)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[2048];
	int saved = errno, n;

	if (level > log_level)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (with_errno && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
		    strerror(saved));
	if (log_foreground || log_filefd != -1) {
		struct timespec ts;
		struct tm tm;
		char stamp[32], line[sizeof(msg) + 128];
		ssize_t w;
		int len;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
		/* one write per line, so lines from workers do not mix;
		 * formatted here, as dprintf would ask the descriptor for
		 * its type and offset (fstat, lseek) at every line */
		len = snprintf(line, sizeof(line), "%s %s[%d]: %s\n", stamp,
		    log_ident, (int)getpid(), msg);
		if (len > 0 && (size_t)len >= sizeof(line)) {
			len = sizeof(line) - 1;
			line[len - 1] = '\n';
		}
		if (len > 0) {
			w = write(log_filefd != -1 ? log_filefd :
			    STDERR_FILENO, line, (size_t)len);
			(void)w;
		}
	} else
		syslog(prio[level], "%s", msg);
	errno = saved;
}

#define LOG_FN(name, level, with_errno)			\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
	va_start(ap, fmt);					\
	log_vwrite(level, fmt, ap, with_errno);			\
	va_end(ap);						\
}

LOG_FN(log_warn, LOG_LVL_WARN, 1)
LOG_FN(log_warnx, LOG_LVL_WARN, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_debug, LOG_LVL_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERR, fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERR, fmt, ap, 0);
	va_end(ap);
	exit(1);
}

/* the length of a well-formed utf-8 sequence at s for a printable code
 * point (U+00A0 and up: no C1 control, overlong form or surrogate), else 0 */
static size_t
log_utf8_len(const char *s, size_t len)
{
	uint32_t cp;
	size_t n;

	if ((n = utf8_decode(s, len, &cp)) == 0 || cp < 0xa0)
		return 0;
	return n;
}

void
log_escape(char *dst, size_t dstsz, const char *src, size_t srclen)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0, n;

	if (dstsz == 0)
		return;
	for (i = 0; i < srclen; i += n) {
		unsigned char c = (unsigned char)src[i];

		n = 1;
		/* a raw 8-bit byte or a c1 control is an escape sequence
		 * to some terminals, and invalid utf-8 turns the log into
		 * a "binary file" for grep: only whole, printable utf-8
		 * passes */
		if (c >= 0x80 && (n = log_utf8_len(src + i,
		    srclen - i)) > 0) {
			if (o + n >= dstsz)
				break;
			memcpy(dst + o, src + i, n);
			o += n;
			continue;
		}
		n = 1;
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			if (o + 4 >= dstsz)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		} else {
			if (o + 1 >= dstsz)
				break;
			dst[o++] = (char)c;
		}
	}
	if (i < srclen && o >= 3 && dstsz > 4) {
		/* mark what was cut instead of clipping silently */
		if (o > dstsz - 4) {
			o = dstsz - 4;
			/* never inside a utf-8 sequence */
			while (o > 0 && ((unsigned char)dst[o] & 0xc0) == 0x80)
				o--;
		}
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

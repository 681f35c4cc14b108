/* one logging api for both daemons: stderr in the foreground, syslog otherwise */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void	log_init(const char *ident, int foreground);
/* send log lines to a file (appended, one write a line) instead of syslog
 * or stderr; called again it reopens, for logrotate, swapping the
 * descriptor in place so other threads never see it closed. NULL goes
 * back to syslog or stderr. -1 with errno when the file cannot open */
int	log_file_open(const char *path);
void	log_setlevel(int level);
int	log_level_parse(const char *name);	/* -1 when unknown */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* copy src into dst escaping control bytes, quotes and backslashes, so a
 * client cannot forge log lines; always terminates, marks truncation */
void	log_escape(char *dst, size_t dstsz, const char *src, size_t srclen);

#endif

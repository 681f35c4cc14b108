/* the values of enquiry-milter's options (see conf_value.h) */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf_value.h"
#include "mailhdr.h"

long long
conf_value_duration(const char *s)
{
	char *end;
	long long v, mul = 1;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v < 0 || v > 100LL * 365 * 86400)
		return -1;
	if (*end == 's')
		mul = 1, end++;
	else if (*end == 'm')
		mul = 60, end++;
	else if (*end == 'h')
		mul = 3600, end++;
	else if (*end == 'd')
		mul = 86400, end++;
	else if (*end == 'w')
		mul = 7 * 86400, end++;
	if (*end != '\0')
		return -1;
	return v * mul;
}

int
conf_value_period(const char *s, int *count, char *unit)
{
	char *end;
	long v;

	*count = 0;
	*unit = 0;
	if (s != NULL && (strcmp(s, "never") == 0 || strcmp(s, "0") == 0))
		return 0;
	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	/* at most a hundred years of any unit */
	if (errno || v < 1 || end[0] == '\0' || end[1] != '\0' ||
	    strchr("dwmy", end[0]) == NULL)
		return -1;
	if (v > (end[0] == 'd' ? 36500 : end[0] == 'w' ? 5200 :
	    end[0] == 'm' ? 1200 : 100))
		return -1;
	*count = (int)v;
	*unit = end[0];
	return 0;
}

long long
conf_value_period_before(long long now, int count, char unit)
{
	struct tm tm;
	time_t t = (time_t)now;
	int mday;

	if (unit == 'd')
		return now - (long long)count * 86400;
	if (unit == 'w')
		return now - (long long)count * 7 * 86400;
	if (localtime_r(&t, &tm) == NULL)
		return now - (long long)count * (unit == 'y' ? 365 : 30) * 86400;
	if (unit == 'y')
		tm.tm_year -= count;
	else {
		tm.tm_year -= count / 12;
		tm.tm_mon -= count % 12;
		if (tm.tm_mon < 0) {
			tm.tm_mon += 12;
			tm.tm_year--;
		}
	}
	/* 31 march less a month is the last of february, not 3 march */
	mday = tm.tm_mday;
	tm.tm_mday = 1;
	tm.tm_isdst = -1;
	if (mktime(&tm) == (time_t)-1)
		return now - (long long)count * 30 * 86400;
	{
		static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31,
		    30, 31, 30, 31 };
		int y = tm.tm_year + 1900, last = days[tm.tm_mon];

		if (tm.tm_mon == 1 && ((y % 4 == 0 && y % 100 != 0) ||
		    y % 400 == 0))
			last = 29;
		tm.tm_mday = mday > last ? last : mday;
	}
	tm.tm_isdst = -1;
	return (long long)mktime(&tm);
}

int
conf_value_clock(const char *s)
{
	if (s == NULL || strlen(s) != 5 || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[1]) || s[2] != ':' ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	if ((s[0] - '0') * 10 + (s[1] - '0') > 23 ||
	    (s[3] - '0') * 10 + (s[4] - '0') > 59)
		return -1;
	return ((s[0] - '0') * 10 + (s[1] - '0')) * 60 +
	    (s[3] - '0') * 10 + (s[4] - '0');
}

const char *
conf_value_last(cfg_opt_t *opt)
{
	if (opt->nvalues == 0)
		return NULL;
	return cfg_opt_getnstr(opt, opt->nvalues - 1);
}

int
conf_value_v_duration(cfg_t *cfg, cfg_opt_t *opt)
{
	if (conf_value_duration(conf_value_last(opt)) < 0) {
		cfg_error(cfg, "%s: \"%s\" is not a duration (like 30s, 10m, "
		    "7d)", opt->name, conf_value_last(opt));
		return -1;
	}
	return 0;
}

int
conf_value_mode(const char *v, mode_t *mode)
{
	char *end;
	long m;

	if (v == NULL || *v == '\0')
		return -1;
	errno = 0;
	m = strtol(v, &end, 8);
	if (errno || *end != '\0' || m < 0 || m > 0777)
		return -1;
	*mode = (mode_t)m;
	return 0;
}

int
conf_value_hostport(const char *v, char *host, size_t hostsz,
    int *port)
{
	const char *colon = strrchr(v, ':');
	const char *hs = v, *he;
	char *end;
	long p;

	if (colon == NULL)
		return -1;
	he = colon;
	if (*hs == '[') {
		hs++;
		if (he[-1] != ']')
			return -1;
		he--;
	}
	if (he <= hs || (size_t)(he - hs) >= hostsz)
		return -1;
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = '\0';
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p < 1 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

int
conf_value_v_envaddr(cfg_t *cfg, cfg_opt_t *opt)
{
	unsigned int i;
	char addr[MAILHDR_ADDR_MAX];

	for (i = 0; i < opt->nvalues; i++) {
		const char *v = cfg_opt_getnstr(opt, i);

		if (v[0] == '\0' && !(opt->flags & CFGF_LIST))
			continue;	/* an optional single value */
		if (mailhdr_envaddr(v, addr, sizeof(addr)) == -1 ||
		    addr[0] == '\0') {
			cfg_error(cfg, "%s: \"%s\" is not a mail address",
			    opt->name, v);
			return -1;
		}
	}
	return 0;
}

char *
conf_value_strdup(const char *s, int lower)
{
	char *d = strdup(s ? s : ""), *p;

	if (d != NULL && lower)
		for (p = d; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return d;
}

int
conf_value_v_readable(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = conf_value_last(opt);
	int fd;

	if (v == NULL || v[0] == '\0')
		return 0;
	/* nonblocking: a fifo named here must not hang the load */
	if ((fd = open(v, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		cfg_error(cfg, "%s \"%s\": %s", opt->name, v, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

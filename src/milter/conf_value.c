/* the values of enquiry-milter's options (see conf_value.h) */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
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

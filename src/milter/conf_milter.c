/* enquiry-milter configuration: every libconfuse call lives here */
#include <sys/stat.h>

#include <confuse.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "confline.h"
#include "conf_milter.h"
#include "conf_mlist.h"
#include "conf_value.h"
#include "db.h"
#include "log.h"
#include "mailbody.h"
#include "mailhdr.h"
#include "readfile.h"
#include "template.h"

const char *const conf_milter_tmpl_names[] = {
	"reference", "name", "address", "subject", "date", "category",
	"enquiry_address", "capsule", "team", "ack_interval"
};
const size_t conf_milter_ntmpl_names =
    sizeof(conf_milter_tmpl_names) / sizeof(conf_milter_tmpl_names[0]);

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

const char *
conf_milter_default_path(void)
{
	/* in the source tree the bundled config, once installed /etc */
	if (access("etc/enquiry-milter.conf", R_OK) == 0)
		return "etc/enquiry-milter.conf";
	return SYSCONFDIR "/enquiry-milter.conf";
}

static pthread_mutex_t conf_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct milter_conf *conf_current;

static int
v_address(cfg_t *cfg, cfg_opt_t *opt)
{
	char addr[MAILHDR_ADDR_MAX], name[MAILHDR_NAME_MAX];
	const char *v = conf_value_last(opt);

	if (v == NULL || v[0] == '\0')
		return 0;	/* optional ones may be empty */
	if (mailhdr_addr_parse(v, addr, sizeof(addr), name,
	    sizeof(name)) == -1) {
		cfg_error(cfg, "%s: \"%s\" is not a mail address", opt->name,
		    v);
		return -1;
	}
	return 0;
}

static int
v_mode(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = conf_value_last(opt);
	mode_t m;

	if (conf_value_mode(v, &m) == -1) {
		cfg_error(cfg, "%s: \"%s\" is not an octal mode like 0660",
		    opt->name, v ? v : "");
		return -1;
	}
	return 0;
}

static int
v_loglevel(cfg_t *cfg, cfg_opt_t *opt)
{
	if (log_level_parse(conf_value_last(opt)) == -1) {
		cfg_error(cfg, "log-level: \"%s\" is not one of error, "
		    "warning, info, debug", conf_value_last(opt));
		return -1;
	}
	return 0;
}

static int
v_submit(cfg_t *cfg, cfg_opt_t *opt)
{
	char host[256];
	int port;

	if (conf_value_hostport(conf_value_last(opt), host, sizeof(host),
	    &port) == -1) {
		cfg_error(cfg, "submit: \"%s\" is not host:port",
		    conf_value_last(opt));
		return -1;
	}
	return 0;
}

static int
v_connections(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, cfg_opt_size(opt) - 1);

	if (v < 1 || v > SUBMIT_CONNECTIONS_MAX) {
		cfg_error(cfg, "submit-connections: %ld is not 1 to %d", v,
		    SUBMIT_CONNECTIONS_MAX);
		return -1;
	}
	return 0;
}

/* database: empty (sqlite in state-dir) or a postgresql:// URL. the
 * value is never repeated in a message: it may hold a password */
static int
v_database(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = conf_value_last(opt);

	if (v[0] != '\0' && !db_is_url(v)) {
		cfg_error(cfg, "database: not a postgresql:// URL");
		return -1;
	}
	return 0;
}

static int
v_db_connections(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, cfg_opt_size(opt) - 1);

	if (v < 1 || v > DB_CONNECTIONS_MAX) {
		cfg_error(cfg, "database-connections: %ld is not 1 to %d", v,
		    DB_CONNECTIONS_MAX);
		return -1;
	}
	return 0;
}

static int
v_db_timeout(cfg_t *cfg, cfg_opt_t *opt)
{
	if (conf_value_v_duration(cfg, opt) == -1)
		return -1;
	if (conf_value_duration(conf_value_last(opt)) < 1) {
		cfg_error(cfg, "database-timeout: \"%s\" is less than a "
		    "second", conf_value_last(opt));
		return -1;
	}
	return 0;
}

/* capsule-url: scheme://host..., printable ascii, no spaces */
static int
v_url(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = conf_value_last(opt), *p;

	if (v == NULL || !isalpha((unsigned char)*v))
		goto bad;
	for (p = v; isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
	    *p == '.'; p++)
		;
	if (strncmp(p, "://", 3) != 0 || p[3] == '\0' || p[3] == '/')
		goto bad;
	for (p = v; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			goto bad;
	return 0;
bad:
	cfg_error(cfg, "%s: \"%s\" is not a URL (scheme://host/path)",
	    opt->name, v ? v : "");
	return -1;
}

/* auto-reply-limit: automatic replies per address per hour */
static int
v_autoreply_limit(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, cfg_opt_size(opt) - 1);

	if (v < 1 || v > AUTO_REPLY_LIMIT_MAX) {
		cfg_error(cfg, "auto-reply-limit: %ld is not 1 to %d", v,
		    AUTO_REPLY_LIMIT_MAX);
		return -1;
	}
	return 0;
}

/* authserv-id: a host name as the MTA writes it into
 * Authentication-Results (rfc 8601), or "" for none */
static int
v_authserv_id(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = conf_value_last(opt), *p;

	for (p = v ? v : ""; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' &&
		    *p != '_') {
			cfg_error(cfg, "authserv-id: \"%s\" is not a host "
			    "name", v);
			return -1;
		}
	return 0;
}

/* reply-within: a duration, more than nothing */
static int
v_reply_within(cfg_t *cfg, cfg_opt_t *opt)
{
	if (conf_value_duration(conf_value_last(opt)) <= 0) {
		cfg_error(cfg, "reply-within: \"%s\" is not a duration of "
		    "at least a second (like 36h, 5d, 1w)",
		    conf_value_last(opt));
		return -1;
	}
	return 0;
}

static int
v_retention(cfg_t *cfg, cfg_opt_t *opt)
{
	int n;
	char unit;

	if (conf_value_period(conf_value_last(opt), &n, &unit) == -1) {
		cfg_error(cfg, "retention: \"%s\" is not a period (like "
		    "90d, 6m, 2y, or \"never\")", conf_value_last(opt));
		return -1;
	}
	return 0;
}

static int
v_clock(cfg_t *cfg, cfg_opt_t *opt)
{
	if (conf_value_clock(conf_value_last(opt)) == -1) {
		cfg_error(cfg, "%s: \"%s\" is not a time of day (HH:MM, "
		    "like 07:30)", opt->name, conf_value_last(opt));
		return -1;
	}
	return 0;
}

static int
v_reference(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = conf_value_last(opt), *p;

	if (v == NULL || *v == '\0' || strlen(v) > 16)
		goto bad;
	for (p = v; *p; p++)
		if (!isalnum((unsigned char)*p))
			goto bad;
	return 0;
bad:
	cfg_error(cfg, "reference: \"%s\" must be 1 to 16 letters or digits",
	    v ? v : "");
	return -1;
}

static int
v_enquiry(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = cfg_opt_getnsec(opt, opt->nvalues - 1);
	char addr[MAILHDR_ADDR_MAX];

	if (mailhdr_envaddr(cfg_title(sec), addr, sizeof(addr)) == -1 ||
	    addr[0] == '\0') {
		cfg->line = sec->line;
		cfg_error(cfg, "enquiry \"%s\": not a mail address",
		    cfg_title(sec));
		return -1;
	}
	if (cfg_size(sec, "route-to") == 0) {
		cfg->line = sec->line;
		cfg_error(cfg, "enquiry \"%s\": route-to is empty",
		    cfg_title(sec));
		return -1;
	}
	return 0;
}

static int
v_category(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = cfg_opt_getnsec(opt, opt->nvalues - 1);

	const char *kw;
	unsigned int i;

	if (cfg_size(sec, "keywords") == 0 || cfg_size(sec, "route-to") == 0) {
		cfg->line = sec->line;
		cfg_error(cfg, "category \"%s\": needs keywords and route-to",
		    cfg_title(sec));
		return -1;
	}
	/* keywords match whole words: one without a word never would */
	for (i = 0; i < cfg_size(sec, "keywords"); i++) {
		kw = cfg_getnstr(sec, "keywords", i);
		if (!mailbody_has_phrase(kw, strlen(kw), kw)) {
			cfg->line = sec->line;
			cfg_error(cfg, "category \"%s\": keyword \"%s\" has "
			    "no letter or digit", cfg_title(sec), kw);
			return -1;
		}
	}
	return 0;
}

static int
copy_list(cfg_t *sec, const char *name, char ***out, size_t *n, int addr)
{
	unsigned int i, cnt = cfg_size(sec, name);
	char buf[MAILHDR_ADDR_MAX];

	*n = 0;
	if ((*out = calloc(cnt + 1, sizeof(char *))) == NULL)
		return -1;
	for (i = 0; i < cnt; i++) {
		const char *v = cfg_getnstr(sec, name, i);

		if (addr) {
			if (mailhdr_envaddr(v, buf, sizeof(buf)) == -1)
				return -1;
			v = buf;
		}
		if (((*out)[i] = conf_value_strdup(v, 1)) == NULL)
			return -1;
		(*n)++;
	}
	return 0;
}

static void
free_list(char **l, size_t n)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

/* read and check a template (an enquiry's or a category's): it exists,
 * is utf-8 and names only known placeholders. "file:line: problem" on
 * error, the config file's line when the template cannot be read */
static int
load_template(const char *tpath, char **text, size_t *len, const char *path,
    int line, char *err, size_t errsz)
{
	char msg[256];
	int fd;

	if ((fd = open(tpath, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errsz, "%s:%d: ack-template \"%s\": %s", path,
		    line, tpath, strerror(errno));
		return -1;
	}
	if ((*text = readfile_fd(fd, TMPL_MAX, len)) == NULL) {
		if (errno == ENOMEM)
			snprintf(err, errsz, "out of memory");
		else if (errno == EFBIG)
			snprintf(err, errsz, "%s:%d: ack-template \"%s\": not a "
			    "regular file of at most %d bytes", path, line,
			    tpath, TMPL_MAX);
		else
			snprintf(err, errsz, "%s:%d: ack-template \"%s\": %s",
			    path, line, tpath, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (tmpl_check(*text, *len, conf_milter_tmpl_names,
	    conf_milter_ntmpl_names, msg, sizeof(msg)) == -1) {
		/* msg is "line N: problem" */
		snprintf(err, errsz, "%s:%s", tpath,
		    msg + (strncmp(msg, "line ", 5) == 0 ? 5 : 0));
		return -1;
	}
	return 0;
}

/* our own addresses: never acknowledged */
static int
add_own(struct milter_conf *c, const char *addr)
{
	size_t i;
	char **n;

	if (addr == NULL || addr[0] == '\0')
		return 0;
	for (i = 0; i < c->nown; i++)
		if (strcmp(c->own[i], addr) == 0)
			return 0;
	if ((n = realloc(c->own, (c->nown + 1) * sizeof(char *))) == NULL)
		return -1;
	c->own = n;
	if ((c->own[c->nown] = strdup(addr)) == NULL)
		return -1;
	c->nown++;
	return 0;
}

static int
convert(cfg_t *cfg, struct milter_conf *c, char *err, size_t errsz)
{
	char host[256], addr[MAILHDR_ADDR_MAX], name[MAILHDR_NAME_MAX];
	unsigned int i, j, n;
	struct conf_enquiry *e;
	struct conf_category *k;
	cfg_t *sec, *cs;

	c->socket = conf_value_strdup(cfg_getstr(cfg, "socket"), 0);
	conf_value_mode(cfg_getstr(cfg, "socket-mode"), &c->socket_mode);
	c->socket_group = conf_value_strdup(cfg_getstr(cfg, "socket-group"), 0);
	c->state_dir = conf_value_strdup(cfg_getstr(cfg, "state-dir"), 0);
	c->database = conf_value_strdup(cfg_getstr(cfg, "database"), 0);
	c->db_connections = (int)cfg_getint(cfg, "database-connections");
	c->db_timeout = (int)conf_value_duration(cfg_getstr(cfg,
	    "database-timeout"));
	c->log_file = cfg_getstr(cfg, "log-file") ?
	    conf_value_strdup(cfg_getstr(cfg, "log-file"), 0) : NULL;
	c->user = conf_value_strdup(cfg_getstr(cfg, "user"), 0);
	conf_value_hostport(cfg_getstr(cfg, "submit"), host, sizeof(host),
	    &c->submit_port);
	c->submit_host = conf_value_strdup(host, 0);
	c->submit_timeout = conf_value_duration(cfg_getstr(cfg,
	    "submit-timeout"));
	c->submit_retry_max = conf_value_duration(cfg_getstr(cfg,
	    "submit-retry-max"));
	c->submit_connections = (int)cfg_getint(cfg, "submit-connections");
	c->log_level = log_level_parse(cfg_getstr(cfg, "log-level"));
	c->capsule_url = conf_value_strdup(cfg_getstr(cfg, "capsule-url"), 0);
	c->hostname = conf_value_strdup(cfg_getstr(cfg, "hostname"), 1);
	c->authserv_id = conf_value_strdup(cfg_getstr(cfg, "authserv-id"), 1);
	c->auto_reply_limit = (int)cfg_getint(cfg, "auto-reply-limit");
	c->reply_within = conf_value_duration(cfg_getstr(cfg, "reply-within"));
	conf_value_period(cfg_getstr(cfg, "retention"), &c->retention_count,
	    &c->retention_unit);
	c->digest_time = conf_value_clock(cfg_getstr(cfg, "digest-time"));
	if (cfg_getstr(cfg, "digest-to")[0] == '\0')
		c->digest_to = conf_value_strdup("", 0);
	else {
		mailhdr_addr_parse(cfg_getstr(cfg, "digest-to"), addr,
		    sizeof(addr), name, sizeof(name));
		c->digest_to = conf_value_strdup(addr, 1);
	}
	if (c->digest_to == NULL || copy_list(cfg, "staff", &c->staff,
	    &c->nstaff, 1) == -1)
		goto nomem;
	if (!c->socket || !c->socket_group || !c->state_dir || !c->user ||
	    !c->database ||
	    !c->submit_host || !c->capsule_url || !c->hostname ||
	    !c->authserv_id)
		goto nomem;
	if (c->hostname[0] == '\0') {
		c->hostname_guessed = 1;
		free(c->hostname);
		if ((c->hostname = malloc(256)) == NULL)
			goto nomem;
		if (gethostname(c->hostname, 256) == -1)
			strcpy(c->hostname, "localhost");
		c->hostname[255] = '\0';
	}

	n = cfg_size(cfg, "enquiry");
	if (n == 0 && cfg_size(cfg, "list") == 0) {
		snprintf(err, errsz, "%s:%d: no enquiry or list block: "
		    "nothing to do",
		    c->path, cfg->line);
		return -1;
	}
	if ((c->enquiries = calloc(n + 1, sizeof(*c->enquiries))) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		sec = cfg_getnsec(cfg, "enquiry", i);
		e = &c->enquiries[c->nenquiries++];
		mailhdr_envaddr(cfg_title(sec), addr, sizeof(addr));
		for (j = 0; j < i; j++)
			if (strcmp(c->enquiries[j].address, addr) == 0) {
				snprintf(err, errsz, "%s:%d: enquiry \"%s\" "
				    "given twice", c->path, sec->line, addr);
				return -1;
			}
		e->address = conf_value_strdup(addr, 1);
		e->keep_original = cfg_getbool(sec, "keep-original");
		e->reference = conf_value_strdup(cfg_getstr(sec, "reference"), 0);
		e->ack_template_path = conf_value_strdup(cfg_getstr(sec,
		    "ack-template"), 0);
		e->ack_interval = conf_value_duration(cfg_getstr(sec,
		    "ack-interval"));
		e->bounce_address = conf_value_strdup(cfg_getstr(sec,
		    "bounce-address"), 1);
		e->team = conf_value_strdup(cfg_getstr(sec, "team"), 0);
		if (cfg_getstr(sec, "ack-from")[0] == '\0') {
			e->ack_from = conf_value_strdup(addr, 1);
			e->ack_from_name = conf_value_strdup("", 0);
		} else {
			mailhdr_addr_parse(cfg_getstr(sec, "ack-from"), addr,
			    sizeof(addr), name, sizeof(name));
			e->ack_from = conf_value_strdup(addr, 1);
			e->ack_from_name = conf_value_strdup(name, 0);
		}
		if (!e->address || !e->reference || !e->ack_template_path ||
		    !e->bounce_address || !e->ack_from || !e->ack_from_name ||
		    !e->team)
			goto nomem;
		if (e->bounce_address[0]) {
			if (mailhdr_envaddr(e->bounce_address, addr,
			    sizeof(addr)) == -1)
				goto nomem;
			strcpy(e->bounce_address, addr);
		}
		if (copy_list(sec, "route-to", &e->route_to, &e->nroute,
		    1) == -1)
			goto nomem;
		if (load_template(e->ack_template_path, &e->ack_template,
		    &e->ack_template_len, c->path, sec->line, err,
		    errsz) == -1)
			return -1;
		k = NULL;
		e->ncategories = 0;
		if ((e->categories = calloc(cfg_size(sec, "category") + 1,
		    sizeof(*e->categories))) == NULL)
			goto nomem;
		for (j = 0; j < cfg_size(sec, "category"); j++) {
			cs = cfg_getnsec(sec, "category", j);
			k = &e->categories[e->ncategories++];
			if ((k->name = conf_value_strdup(cfg_title(cs), 0)) ==
			    NULL)
				goto nomem;
			if (copy_list(cs, "keywords", &k->keywords,
			    &k->nkeywords, 0) == -1 ||
			    copy_list(cs, "route-to", &k->route_to, &k->nroute,
			    1) == -1)
				goto nomem;
			/* what its acknowledgement says: its own template
			 * and team, or the enquiry's */
			if ((k->team = conf_value_strdup(cfg_getstr(cs, "team"),
			    0)) == NULL || (k->ack_template_path =
			    conf_value_strdup(cfg_getstr(cs, "ack-template"),
			    0)) == NULL)
				goto nomem;
			if (k->ack_template_path[0] && load_template(
			    k->ack_template_path, &k->ack_template,
			    &k->ack_template_len, c->path, cs->line, err,
			    errsz) == -1)
				return -1;
		}
		/* our own addresses: never acknowledged */
		if (add_own(c, e->address) == -1 ||
		    add_own(c, e->ack_from) == -1 ||
		    add_own(c, e->bounce_address) == -1)
			goto nomem;
		for (j = 0; j < e->nroute; j++)
			if (add_own(c, e->route_to[j]) == -1)
				goto nomem;
		for (j = 0; j < e->ncategories; j++)
			for (size_t r = 0; r < e->categories[j].nroute; r++)
				if (add_own(c,
				    e->categories[j].route_to[r]) == -1)
					goto nomem;
	}
	return 0;
nomem:
	snprintf(err, errsz, "%s: out of memory", c->path);
	return -1;
}

/* what the list blocks mean to the rest: no list is an enquiry address,
 * and every list address is ours, never acknowledged */
static int
convert_lists(struct milter_conf *c, char *err, size_t errsz)
{
	struct conf_list *l;
	size_t i;

	for (i = 0; i < c->nlists; i++) {
		l = &c->lists[i];
		if (conf_milter_enquiry(c, l->address) != NULL) {
			snprintf(err, errsz, "%s:%d: list \"%s\" is also an "
			    "enquiry address", c->path, l->line, l->address);
			return -1;
		}
		if (add_own(c, l->address) == -1 ||
		    add_own(c, l->request) == -1 ||
		    add_own(c, l->bounce_address) == -1) {
			snprintf(err, errsz, "%s: out of memory", c->path);
			return -1;
		}
	}
	return 0;
}

/* the options: libconfuse copies a table at cfg_init, so a load or a
 * reload in another thread never shares one */
static cfg_opt_t conf_milter_category_opts[] = {
	CFG_STR_LIST("keywords", NULL, CFGF_NONE),
	CFG_STR_LIST("route-to", NULL, CFGF_NONE),
	CFG_STR("team", "", CFGF_NONE),
	CFG_STR("ack-template", "", CFGF_NONE),
	CFG_END()
};

static cfg_opt_t conf_milter_enquiry_opts[] = {
	CFG_STR_LIST("route-to", NULL, CFGF_NONE),
	CFG_BOOL("keep-original", cfg_false, CFGF_NONE),
	CFG_STR("reference", "ENQ", CFGF_NONE),
	CFG_STR("ack-from", "", CFGF_NONE),
	CFG_STR("ack-template", "etc/templates/enquiry-ack.txt",
	    CFGF_NONE),
	CFG_STR("ack-interval", "7d", CFGF_NONE),
	CFG_STR("bounce-address", "", CFGF_NONE),
	CFG_STR("team", "our team", CFGF_NONE),
	CFG_SEC("category", conf_milter_category_opts,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_END()
};

static cfg_opt_t conf_milter_opts[] = {
	CFG_STR("socket", "unix:var/enquiry-milter.sock", CFGF_NONE),
	CFG_STR("socket-mode", "0660", CFGF_NONE),
	CFG_STR("socket-group", "", CFGF_NONE),
	CFG_STR("state-dir", "var/milter", CFGF_NONE),
	CFG_STR("database", "", CFGF_NONE),
	CFG_INT("database-connections", DB_CONNECTIONS_DEFAULT, CFGF_NONE),
	CFG_STR("database-timeout", "10s", CFGF_NONE),
	CFG_STR("user", "enquiry-milter", CFGF_NONE),
	CFG_STR("submit", "127.0.0.1:25", CFGF_NONE),
	CFG_STR("submit-timeout", "30s", CFGF_NONE),
	CFG_STR("submit-retry-max", "10m", CFGF_NONE),
	CFG_INT("submit-connections", 4, CFGF_NONE),
	CFG_STR("log-level", "info", CFGF_NONE),
	CFG_STR("log-file", NULL, CFGF_NODEFAULT),
	CFG_STR("capsule-url", "gemini://localhost/", CFGF_NONE),
	CFG_STR("hostname", "", CFGF_NONE),
	CFG_INT("auto-reply-limit", AUTO_REPLY_LIMIT_DEFAULT,
	    CFGF_NONE),
	CFG_STR("authserv-id", "", CFGF_NONE),
	CFG_STR_LIST("staff", NULL, CFGF_NONE),
	CFG_STR("reply-within", REPLY_WITHIN_DEFAULT, CFGF_NONE),
	CFG_STR("retention", RETENTION_DEFAULT, CFGF_NONE),
	CFG_STR("digest-to", "", CFGF_NONE),
	CFG_STR("digest-time", DIGEST_TIME_DEFAULT, CFGF_NONE),
	CFG_SEC("enquiry", conf_milter_enquiry_opts,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_SEC("list", conf_mlist_opts,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_END()
};

struct milter_conf *
conf_milter_load(const char *path, char *err, size_t errsz)
{
	struct milter_conf *c;
	cfg_t *cfg;
	int rc;

	if (errsz)
		err[0] = '\0';
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(path)) == NULL) {
		free(c);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	c->refs = 1;
	if ((cfg = cfg_init(conf_milter_opts, CFGF_NONE)) == NULL) {
		snprintf(err, errsz, "%s: cannot set up the parser", path);
		conf_milter_free(c);
		return NULL;
	}
	cfg_set_validate_func(cfg, "socket-mode", v_mode);
	cfg_set_validate_func(cfg, "log-level", v_loglevel);
	cfg_set_validate_func(cfg, "submit", v_submit);
	cfg_set_validate_func(cfg, "submit-timeout", conf_value_v_duration);
	cfg_set_validate_func(cfg, "submit-retry-max", conf_value_v_duration);
	cfg_set_validate_func(cfg, "submit-connections", v_connections);
	cfg_set_validate_func(cfg, "database", v_database);
	cfg_set_validate_func(cfg, "database-connections", v_db_connections);
	cfg_set_validate_func(cfg, "database-timeout", v_db_timeout);
	cfg_set_validate_func(cfg, "capsule-url", v_url);
	cfg_set_validate_func(cfg, "auto-reply-limit", v_autoreply_limit);
	cfg_set_validate_func(cfg, "authserv-id", v_authserv_id);
	cfg_set_validate_func(cfg, "staff", conf_value_v_envaddr);
	cfg_set_validate_func(cfg, "reply-within", v_reply_within);
	cfg_set_validate_func(cfg, "retention", v_retention);
	cfg_set_validate_func(cfg, "digest-to", v_address);
	cfg_set_validate_func(cfg, "digest-time", v_clock);
	cfg_set_validate_func(cfg, "enquiry", v_enquiry);
	cfg_set_validate_func(cfg, "enquiry|route-to",
	    conf_value_v_envaddr);
	cfg_set_validate_func(cfg, "enquiry|reference", v_reference);
	cfg_set_validate_func(cfg, "enquiry|ack-from", v_address);
	cfg_set_validate_func(cfg, "enquiry|bounce-address", v_address);
	cfg_set_validate_func(cfg, "enquiry|ack-interval", conf_value_v_duration);
	cfg_set_validate_func(cfg, "enquiry|category", v_category);
	cfg_set_validate_func(cfg, "enquiry|category|route-to",
	    conf_value_v_envaddr);
	cfg_set_validate_func(cfg, "enquiry|ack-template",
	    conf_value_v_readable);
	cfg_set_validate_func(cfg, "enquiry|category|ack-template",
	    conf_value_v_readable);
	conf_mlist_validators(cfg);

	rc = confline_parse(cfg, path, err, errsz);
	if (rc == CFG_FILE_ERROR) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (rc != CFG_SUCCESS) {
		if (err[0] == '\0')
			snprintf(err, errsz, "%s: parse error", path);
		goto fail;
	}
	if (convert(cfg, c, err, errsz) == -1 ||
	    conf_mlist_convert(cfg, path, &c->lists, &c->nlists, err,
	    errsz) == -1 || convert_lists(c, err, errsz) == -1)
		goto fail;
	cfg_free(cfg);
	return c;
fail:
	cfg_free(cfg);
	conf_milter_free(c);
	return NULL;
}

void
conf_milter_free(struct milter_conf *c)
{
	size_t i, j;

	if (c == NULL)
		return;
	for (i = 0; i < c->nenquiries; i++) {
		struct conf_enquiry *e = &c->enquiries[i];

		free(e->address);
		free_list(e->route_to, e->nroute);
		free(e->reference);
		free(e->ack_from);
		free(e->ack_from_name);
		free(e->ack_template_path);
		free(e->ack_template);
		free(e->bounce_address);
		free(e->team);
		for (j = 0; j < e->ncategories; j++) {
			free(e->categories[j].name);
			free(e->categories[j].team);
			free(e->categories[j].ack_template_path);
			free(e->categories[j].ack_template);
			free_list(e->categories[j].keywords,
			    e->categories[j].nkeywords);
			free_list(e->categories[j].route_to,
			    e->categories[j].nroute);
		}
		free(e->categories);
	}
	free(c->enquiries);
	conf_mlist_free(c->lists, c->nlists);
	free_list(c->own, c->nown);
	free(c->path);
	free(c->socket);
	free(c->socket_group);
	free(c->state_dir);
	free(c->database);
	free(c->log_file);
	free(c->user);
	free(c->submit_host);
	free(c->capsule_url);
	free(c->hostname);
	free(c->authserv_id);
	free_list(c->staff, c->nstaff);
	free(c->digest_to);
	free(c);
}

struct milter_conf *
conf_milter_get(void)
{
	struct milter_conf *c;

	pthread_mutex_lock(&conf_mtx);
	if ((c = conf_current) != NULL)
		c->refs++;
	pthread_mutex_unlock(&conf_mtx);
	return c;
}

void
conf_milter_put(struct milter_conf *c)
{
	int last;

	if (c == NULL)
		return;
	pthread_mutex_lock(&conf_mtx);
	last = --c->refs == 0;
	pthread_mutex_unlock(&conf_mtx);
	if (last)
		conf_milter_free(c);
}

void
conf_milter_set(struct milter_conf *c)
{
	struct milter_conf *old;

	pthread_mutex_lock(&conf_mtx);
	old = conf_current;
	conf_current = c;
	pthread_mutex_unlock(&conf_mtx);
	conf_milter_put(old);
}

/* the keys start-up acts on once (the socket, where the state is, whom
 * to run as): a reload keeps cur's values in c, with a line for each
 * that the file changed. -1 when out of memory */
static int
conf_milter_keep(struct milter_conf *c, const struct milter_conf *cur)
{
	struct {
		const char	 *key;
		char		**val;
		const char	 *old;
	} keep[] = {
		{ "socket", &c->socket, cur->socket },
		{ "socket-group", &c->socket_group, cur->socket_group },
		{ "state-dir", &c->state_dir, cur->state_dir },
		{ "user", &c->user, cur->user },
	};
	size_t i;
	char *v;

	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		if (strcmp(*keep[i].val, keep[i].old) == 0)
			continue;
		if ((v = strdup(keep[i].old)) == NULL)
			return -1;
		log_warnx("reload: %s stays \"%s\" until a restart (the file "
		    "says \"%s\")", keep[i].key, keep[i].old, *keep[i].val);
		free(*keep[i].val);
		*keep[i].val = v;
	}
	/* named without its value, which may hold a password */
	if (strcmp(c->database, cur->database) != 0) {
		if ((v = strdup(cur->database)) == NULL)
			return -1;
		log_warnx("reload: database stays as it was until a restart");
		free(c->database);
		c->database = v;
	}
	if (c->db_connections != cur->db_connections ||
	    c->db_timeout != cur->db_timeout) {
		log_warnx("reload: database-connections and database-timeout "
		    "stay %d and %ds until a restart", cur->db_connections,
		    cur->db_timeout);
		c->db_connections = cur->db_connections;
		c->db_timeout = cur->db_timeout;
	}
	if (c->socket_mode != cur->socket_mode) {
		log_warnx("reload: socket-mode stays %04o until a restart",
		    (unsigned)cur->socket_mode);
		c->socket_mode = cur->socket_mode;
	}
	return 0;
}

int
conf_milter_reload(void)
{
	struct milter_conf *cur, *c;
	char err[1024];

	if ((cur = conf_milter_get()) == NULL)
		return -1;
	c = conf_milter_load(cur->path, err, sizeof(err));
	if (c == NULL) {
		log_warnx("reload failed, the old configuration stays: %s",
		    err);
		conf_milter_put(cur);
		return -1;
	}
	/* what needs a restart keeps its old value, and says so */
	if (conf_milter_keep(c, cur) == -1) {
		log_warnx("reload failed, the old configuration stays: out "
		    "of memory");
		conf_milter_free(c);
		conf_milter_put(cur);
		return -1;
	}
	conf_milter_put(cur);
	log_setlevel(c->log_level);
	conf_milter_set(c);
	log_info("configuration reloaded from %s", c->path);
	return 0;
}

int
conf_milter_is_staff(const struct milter_conf *c, const char *addr)
{
	const struct conf_enquiry *e;
	size_t i, j, k;

	if (addr == NULL || addr[0] == '\0')
		return 0;
	for (i = 0; i < c->nstaff; i++)
		if (strcmp(c->staff[i], addr) == 0)
			return 1;
	for (i = 0; i < c->nenquiries; i++) {
		e = &c->enquiries[i];
		for (j = 0; j < e->nroute; j++)
			if (strcmp(e->route_to[j], addr) == 0)
				return 1;
		for (j = 0; j < e->ncategories; j++)
			for (k = 0; k < e->categories[j].nroute; k++)
				if (strcmp(e->categories[j].route_to[k],
				    addr) == 0)
					return 1;
	}
	return 0;
}

long long
conf_milter_retention_before(const struct milter_conf *c, long long now)
{
	if (c->retention_count == 0)
		return -1;
	return conf_value_period_before(now, c->retention_count,
	    c->retention_unit);
}

struct conf_enquiry *
conf_milter_enquiry(struct milter_conf *c, const char *addr)
{
	size_t i;

	for (i = 0; i < c->nenquiries; i++)
		if (strcasecmp(c->enquiries[i].address, addr) == 0)
			return &c->enquiries[i];
	return NULL;
}

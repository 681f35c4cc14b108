/* capsuled configuration: every libconfuse call for capsuled lives here */
#include <confuse.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "confline.h"
#include "loc.h"
#include "log.h"
#include "status.h"
#include "utf8.h"

/* split "host:port", "[v6]:port" or "*:port"; 0 or -1 */
static int
conf_split_addr(const char *addr, char **host, char **port)
{
	const char *colon, *p;
	char *h;

	*host = *port = NULL;
	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');

		if (end == NULL || end[1] != ':' || end == addr + 1)
			return -1;
		h = strndup(addr + 1, (size_t)(end - addr - 1));
		colon = end + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL || colon == addr)
			return -1;
		if (memchr(addr, ':', (size_t)(colon - addr)) != NULL)
			return -1;	/* bare v6 needs brackets */
		h = strndup(addr, (size_t)(colon - addr));
	}
	if (h == NULL)
		return -1;
	for (p = colon + 1; *p; p++)
		if (*p < '0' || *p > '9')
			break;
	if (*p != '\0' || p == colon + 1 || p - colon > 6 ||
	    atoi(colon + 1) < 1 || atoi(colon + 1) > 65535) {
		free(h);
		return -1;
	}
	if (strcmp(h, "*") == 0) {
		free(h);
		h = NULL;
	}
	*host = h;
	if ((*port = strdup(colon + 1)) == NULL) {
		free(h);
		*host = NULL;
		return -1;
	}
	return 0;
}

static int
conf_validate_listen(cfg_t *cfg, cfg_opt_t *opt)
{
	unsigned int i;
	char *h, *p;

	for (i = 0; i < cfg_opt_size(opt); i++) {
		const char *a = cfg_opt_getnstr(opt, i);

		if (conf_split_addr(a, &h, &p) == -1) {
			cfg_error(cfg, "%s: \"%s\" is not host:port, "
			    "[v6addr]:port or *:port", opt->name, a);
			return -1;
		}
		free(h);
		free(p);
	}
	return 0;
}

static int
conf_validate_level(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (log_level_parse(v) == -1) {
		cfg_error(cfg, "log-level: \"%s\" is not one of error, "
		    "warning, info, debug", v);
		return -1;
	}
	return 0;
}

static int
conf_validate_positive(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, 0);

	if (v < 1 || v > 1000000) {
		cfg_error(cfg, "%s: %ld is out of range (1 to 1000000)",
		    opt->name, v);
		return -1;
	}
	return 0;
}

static int
conf_validate_cap(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, 0);

	if (v < 0 || v > 1000000) {
		cfg_error(cfg, "%s: %ld is out of range (0, no cap, to "
		    "1000000)", opt->name, v);
		return -1;
	}
	return 0;
}

static int
conf_validate_server(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1);
	const char *cert = cfg_getstr(sec, "cert");
	const char *key = cfg_getstr(sec, "key");
	const char *idx = cfg_getstr(sec, "index");

	if ((cert == NULL) != (key == NULL)) {
		cfg_error(cfg, "server \"%s\": cert and key go together "
		    "(give both, or neither to have them generated)",
		    cfg_title(sec));
		return -1;
	}
	if (cfg_title(sec)[0] == '\0' || strchr(cfg_title(sec), '/')) {
		cfg_error(cfg, "server \"%s\": not a host name",
		    cfg_title(sec));
		return -1;
	}
	if (idx[0] == '\0' || strchr(idx, '/') != NULL) {
		cfg_error(cfg, "server \"%s\": index \"%s\" must be a file "
		    "name", cfg_title(sec), idx);
		return -1;
	}
	return 0;
}

static int
conf_validate_mime(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1);
	const char *type = cfg_title(sec);

	if (strchr(type, '/') == NULL || strpbrk(type, "\r\n") != NULL) {
		cfg_error(cfg, "mime \"%s\": not a type/subtype", type);
		return -1;
	}
	if (cfg_size(sec, "extensions") == 0) {
		cfg_error(cfg, "mime \"%s\": no extensions", type);
		return -1;
	}
	return 0;
}

/*
 * the converted config's strings and arrays. running out of memory while
 * converting is remembered and conf_load then fails with "out of memory":
 * a reload runs in the master, which must not die of it (the milter's
 * conf_value_strdup fails the same way). an unset option stays NULL
 */
static __thread int conf_nomem;

/* libconfuse keeps no line for an option, and gives a block the line it
 * ends on: the lines a server's files were set on are noted while this
 * thread parses */
struct conf_fileline {
	const cfg_t	*sec;
	int		 root, cert, key;
	int		 start;		/* a location: the line it opens on */
};
static __thread struct conf_fileline *conf_lines;
static __thread size_t conf_nlines;

/* the note for section cfg, made on first use; NULL without memory */
static struct conf_fileline *
conf_fileline_of(const cfg_t *cfg)
{
	struct conf_fileline *nl;
	size_t i;

	for (i = 0; i < conf_nlines; i++)
		if (conf_lines[i].sec == cfg)
			return &conf_lines[i];
	nl = realloc(conf_lines, (conf_nlines + 1) * sizeof(*nl));
	if (nl == NULL) {
		conf_nomem = 1;
		return NULL;
	}
	conf_lines = nl;
	memset(&conf_lines[conf_nlines], 0, sizeof(*nl));
	conf_lines[conf_nlines].sec = cfg;
	return &conf_lines[conf_nlines++];
}

static int
conf_note_line(cfg_t *cfg, cfg_opt_t *opt)
{
	struct conf_fileline *fl;

	if ((fl = conf_fileline_of(cfg)) == NULL)
		return 0;
	if (strcmp(opt->name, "root") == 0)
		fl->root = cfg->line;
	else if (strcmp(opt->name, "cert") == 0)
		fl->cert = cfg->line;
	else
		fl->key = cfg->line;
	return 0;
}

/* the line s's option was noted on, else s's own */
static int
conf_line_of(const cfg_t *s, const char *name)
{
	size_t i;
	int line = 0;

	for (i = 0; i < conf_nlines; i++)
		if (conf_lines[i].sec == s)
			line = strcmp(name, "root") == 0 ? conf_lines[i].root :
			    strcmp(name, "cert") == 0 ? conf_lines[i].cert :
			    conf_lines[i].key;
	return line > 0 ? line : s->line;
}

/*
 * the line a location opens on. libconfuse gives a section the line it
 * ends on, but while a location's options are read the server around it
 * stays on the line its '{' was on (the lexer counts lines in the section
 * it reads): the last server of the file's root is that server
 */
static __thread cfg_t *conf_root;

static void
conf_note_start(cfg_t *loc)
{
	struct conf_fileline *fl;
	cfg_t *srv;
	unsigned int n;

	if (conf_root == NULL || (n = cfg_size(conf_root, "server")) == 0 ||
	    (fl = conf_fileline_of(loc)) == NULL || fl->start != 0)
		return;
	srv = cfg_getnsec(conf_root, "server", n - 1);
	fl->start = srv->line;
}

/* the line a location opened on, else (one without options) its end */
static int
conf_start_of(const cfg_t *loc)
{
	size_t i;

	for (i = 0; i < conf_nlines; i++)
		if (conf_lines[i].sec == loc && conf_lines[i].start > 0)
			return conf_lines[i].start;
	return loc->line;
}

static void
conf_lines_free(void)
{
	free(conf_lines);
	conf_lines = NULL;
	conf_nlines = 0;
}

/* the failure statuses a location may answer with */
static int
conf_failure_status(long st)
{
	switch (st) {
	case GEMINI_TEMP_FAILURE:
	case GEMINI_SERVER_UNAVAILABLE:
	case GEMINI_CGI_ERROR:
	case GEMINI_PROXY_ERROR:
	case GEMINI_SLOW_DOWN:
	case GEMINI_PERM_FAILURE:
	case GEMINI_NOT_FOUND:
	case GEMINI_GONE:
	case GEMINI_PROXY_REFUSED:
	case GEMINI_BAD_REQUEST:
		return 1;
	default:
		return 0;
	}
}

static int
conf_has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* why the string value v of a location's option name cannot be, or NULL */
static const char *
conf_loc_value_error(const char *pattern, const char *name, const char *v)
{
	const char *p;

	if (strcmp(name, "client-cert") == 0)
		return strcmp(v, "required") == 0 ? NULL :
		    "client-cert: the one value is \"required\"";
	if (strcmp(name, "index") == 0)
		return v[0] == '\0' || strchr(v, '/') != NULL ?
		    "index: must be a file name" : NULL;
	if (strcmp(name, "lang") == 0) {
		for (p = v; *p != '\0'; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
			    *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    *p == '-' || *p == ','))
				break;
		return v[0] == '\0' || *p != '\0' ? "lang: language tags "
		    "(letters, digits, '-', ',')" : NULL;
	}
	if (strcmp(name, "default-type") == 0)
		return strchr(v, '/') == NULL || conf_has_control(v) ?
		    "default-type: not a type/subtype" : NULL;
	if (strcmp(name, "meta") == 0)
		return strlen(v) > 1024 || conf_has_control(v) ||
		    !utf8_valid(v, strlen(v)) ? "meta: at most 1024 bytes "
		    "of utf-8 without control characters" : NULL;
	if (strcmp(name, "redirect") == 0)
		return loc_redirect_error(pattern, v);
	return NULL;
}

/* every option of a location: notes where the location opens, and
 * checks the value on its own line */
static int
conf_validate_loc_opt(cfg_t *cfg, cfg_opt_t *opt)
{
	unsigned char fp[LOC_FP_LEN];
	const char *why, *v;
	unsigned int i;
	long st;

	conf_note_start(cfg);
	if (strcmp(opt->name, "status") == 0) {
		st = cfg_opt_getnint(opt, 0);
		if (!conf_failure_status(st)) {
			cfg_error(cfg, "status: %ld is not a failure status "
			    "(40 to 44, 50 to 53, 59)", st);
			return -1;
		}
	} else if (strcmp(opt->name, "allow") == 0) {
		for (i = 0; i < cfg_opt_size(opt); i++) {
			v = cfg_opt_getnstr(opt, i);
			if (loc_fingerprint(v, fp) == -1) {
				cfg_error(cfg, "allow: \"%s\" is not "
				    "sha256: and 64 hex digits", v);
				return -1;
			}
		}
	} else if (opt->type == CFGT_STR) {
		v = cfg_opt_getnstr(opt, 0);
		if ((why = conf_loc_value_error(cfg_title(cfg), opt->name,
		    v)) != NULL) {
			cfg_error(cfg, "%s", why);
			return -1;
		}
	}
	return 0;
}

/* a location's own error, on the line it opens on */
static int
conf_loc_error(cfg_t *cfg, cfg_t *loc, const char *what)
{
	int end = cfg->line;

	cfg->line = conf_start_of(loc);
	cfg_error(cfg, "location \"%s\": %s", cfg_title(loc), what);
	cfg->line = end;
	return -1;
}

/* what a location's options say together */
static int
conf_validate_location(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *loc = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1);
	const char *why, *meta = cfg_getstr(loc, "meta");
	int redirect = cfg_size(loc, "redirect") > 0;
	int status = cfg_size(loc, "status") > 0;

	if ((why = loc_pattern_error(cfg_title(loc))) != NULL)
		return conf_loc_error(cfg, loc, why);
	if (redirect && status)
		return conf_loc_error(cfg, loc, "status and redirect "
		    "exclude each other");
	if (cfg_size(loc, "permanent") > 0 && !redirect)
		return conf_loc_error(cfg, loc, "permanent goes with "
		    "redirect");
	if (meta != NULL && !status)
		return conf_loc_error(cfg, loc, "meta goes with status");
	if (cfg_size(loc, "allow") > 0 && cfg_size(loc, "client-cert") == 0)
		return conf_loc_error(cfg, loc, "allow needs client-cert = "
		    "\"required\"");
	if (status && cfg_getint(loc, "status") == GEMINI_SLOW_DOWN &&
	    meta != NULL && (meta[0] == '\0' || strspn(meta, "0123456789") !=
	    strlen(meta)))
		return conf_loc_error(cfg, loc, "meta: status 44 takes the "
		    "seconds to wait");
	return 0;
}

static char *
conf_strdup(const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		conf_nomem = 1;
	return d;
}

static void *
conf_calloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (p == NULL)
		conf_nomem = 1;
	return p;
}

static void
conf_add_listens(struct config *c, cfg_t *cfg, const char *key,
    enum listen_kind kind)
{
	struct listen_conf *nl;
	unsigned int i, n = cfg_size(cfg, key);

	if (n == 0 || conf_nomem)
		return;
	if ((nl = reallocarray(c->listens, c->nlistens + n,
	    sizeof(*nl))) == NULL) {
		conf_nomem = 1;
		return;
	}
	c->listens = nl;
	for (i = 0; i < n; i++) {
		struct listen_conf *l = &c->listens[c->nlistens++];

		memset(l, 0, sizeof(*l));
		l->kind = kind;
		/* the validator took the address: only memory can fail */
		if ((l->addr = conf_strdup(cfg_getnstr(cfg, key, i))) == NULL ||
		    conf_split_addr(l->addr, &l->host, &l->port) == -1) {
			conf_nomem = 1;
			return;
		}
	}
}

/*
 * the configuration file's options. not const: libconfuse takes them as
 * cfg_opt_t * (and a section points at its own table), but cfg_init
 * copies them, so a load never writes here
 */
static cfg_opt_t conf_mime_opts[] = {
	CFG_STR_LIST("extensions", NULL, CFGF_NONE),
	CFG_END()
};
static cfg_opt_t conf_location_opts[] = {
	CFG_BOOL("auto-index", cfg_false, CFGF_NODEFAULT),
	CFG_STR("index", NULL, CFGF_NODEFAULT),
	CFG_STR("lang", NULL, CFGF_NODEFAULT),
	CFG_STR("default-type", NULL, CFGF_NODEFAULT),
	CFG_STR("redirect", NULL, CFGF_NODEFAULT),
	CFG_BOOL("permanent", cfg_false, CFGF_NODEFAULT),
	CFG_INT("status", 0, CFGF_NODEFAULT),
	CFG_STR("meta", NULL, CFGF_NODEFAULT),
	CFG_STR("client-cert", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("allow", NULL, CFGF_NODEFAULT),
	CFG_END()
};
/* a location's options, each checked (and its line noted) as it is read */
static const char *const conf_location_names[] = {
	"auto-index", "index", "lang", "default-type", "redirect",
	"permanent", "status", "meta", "client-cert", "allow"
};
static cfg_opt_t conf_server_opts[] = {
	CFG_STR_LIST("aliases", NULL, CFGF_NONE),
	CFG_STR("root", "capsule", CFGF_NONE),
	CFG_STR("lang", NULL, CFGF_NODEFAULT),
	CFG_STR("cert", NULL, CFGF_NODEFAULT),
	CFG_STR("key", NULL, CFGF_NODEFAULT),
	CFG_STR("index", "index.gmi", CFGF_NONE),
	CFG_BOOL("auto-index", cfg_false, CFGF_NONE),
	CFG_SEC("location", conf_location_opts,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_BOOL("tls13-tickets", cfg_false, CFGF_NONE),
	CFG_END()
};
static cfg_opt_t conf_opts[] = {
	CFG_STR_LIST("listen", "{\"127.0.0.1:1965\"}", CFGF_NONE),
	CFG_STR_LIST("proxy-listen", NULL, CFGF_NONE),
	CFG_STR_LIST("gopher-listen", NULL, CFGF_NONE),
	CFG_STR("gopher-host", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("finger-listen", NULL, CFGF_NONE),
	CFG_STR("state-dir", "var", CFGF_NONE),
	CFG_STR("user", NULL, CFGF_NODEFAULT),
	CFG_STR("log-level", "info", CFGF_NONE),
	CFG_STR("access-log", NULL, CFGF_NODEFAULT),
	CFG_INT("workers", 0, CFGF_NONE),
	CFG_INT("max-connections", 1024, CFGF_NONE),
	CFG_INT("max-connections-per-address", 32, CFGF_NONE),
	CFG_INT("request-timeout", 10, CFGF_NONE),
	CFG_INT("connection-timeout", 60, CFGF_NONE),
	CFG_SEC("mime", conf_mime_opts, CFGF_MULTI | CFGF_TITLE),
	CFG_SEC("server", conf_server_opts,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_END()
};

static void
conf_add_locations(struct server_conf *sc, cfg_t *s)
{
	unsigned int j, k, n = cfg_size(s, "location");

	if (n == 0 || (sc->locs = conf_calloc(n, sizeof(*sc->locs))) == NULL)
		return;
	sc->nlocs = n;
	for (j = 0; j < n; j++) {
		cfg_t *l = cfg_getnsec(s, "location", j);
		struct location *lc = &sc->locs[j];

		lc->pattern = conf_strdup(cfg_title(l));
		lc->line = conf_start_of(l);
		lc->auto_index = cfg_size(l, "auto-index") == 0 ? -1 :
		    cfg_getbool(l, "auto-index") == cfg_true;
		lc->index = conf_strdup(cfg_getstr(l, "index"));
		lc->lang = conf_strdup(cfg_getstr(l, "lang"));
		lc->default_type = conf_strdup(cfg_getstr(l, "default-type"));
		lc->redirect = conf_strdup(cfg_getstr(l, "redirect"));
		lc->permanent = cfg_size(l, "permanent") > 0 &&
		    cfg_getbool(l, "permanent");
		lc->status = cfg_size(l, "status") > 0 ?
		    (int)cfg_getint(l, "status") : 0;
		lc->meta = conf_strdup(cfg_getstr(l, "meta"));
		if ((lc->client_cert = cfg_size(l, "client-cert") > 0))
			sc->client_cert = 1;
		if (lc->client_cert || lc->status != 0)
			sc->guarded = 1;
		if (cfg_size(l, "allow") > 0 && (lc->allow = conf_calloc(
		    cfg_size(l, "allow"), sizeof(*lc->allow))) != NULL) {
			lc->nallow = cfg_size(l, "allow");
			/* the validator took each one */
			for (k = 0; k < lc->nallow; k++)
				loc_fingerprint(cfg_getnstr(l, "allow", k),
				    lc->allow[k]);
		}
	}
}

static int
conf_ours(const char *host, void *arg)
{
	return conf_server_names(arg, host);
}

/* a redirect loop a server's locations show is refused on the line of
 * the location it starts from */
static int
conf_check_loops(const struct config *c, char *err, size_t errsz)
{
	char chain[512];
	size_t i;
	int k;

	for (i = 0; i < c->nservers; i++) {
		struct server_conf *sc = &c->servers[i];

		if ((k = loc_loop(sc->locs, sc->nlocs, conf_ours, sc, chain,
		    sizeof(chain))) == -1)
			continue;
		snprintf(err, errsz, "%s:%d: server \"%s\": location \"%s\": "
		    "redirect loop: %s", c->path, sc->locs[k].line, sc->name,
		    sc->locs[k].pattern, chain);
		return -1;
	}
	return 0;
}

int
conf_load(const char *path, struct config **out, char *err, size_t errsz)
{
	struct config *c;
	cfg_t *cfg;
	unsigned int i, j;
	int rc;
	long nworkers;

	if (errsz > 0)
		err[0] = '\0';
	if (access(path, R_OK) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((cfg = cfg_init(conf_opts, CFGF_NONE)) == NULL) {
		snprintf(err, errsz, "%s: cannot initialise parser", path);
		return -1;
	}
	cfg_set_validate_func(cfg, "listen", conf_validate_listen);
	cfg_set_validate_func(cfg, "proxy-listen", conf_validate_listen);
	cfg_set_validate_func(cfg, "gopher-listen", conf_validate_listen);
	cfg_set_validate_func(cfg, "finger-listen", conf_validate_listen);
	cfg_set_validate_func(cfg, "log-level", conf_validate_level);
	cfg_set_validate_func(cfg, "max-connections", conf_validate_positive);
	cfg_set_validate_func(cfg, "max-connections-per-address",
	    conf_validate_cap);
	cfg_set_validate_func(cfg, "request-timeout", conf_validate_positive);
	cfg_set_validate_func(cfg, "connection-timeout",
	    conf_validate_positive);
	cfg_set_validate_func(cfg, "server", conf_validate_server);
	cfg_set_validate_func(cfg, "mime", conf_validate_mime);
	cfg_set_validate_func(cfg, "server|root", conf_note_line);
	cfg_set_validate_func(cfg, "server|cert", conf_note_line);
	cfg_set_validate_func(cfg, "server|key", conf_note_line);
	cfg_set_validate_func(cfg, "server|location", conf_validate_location);
	for (i = 0; i < sizeof(conf_location_names) /
	    sizeof(conf_location_names[0]); i++) {
		char name[64];

		snprintf(name, sizeof(name), "server|location|%s",
		    conf_location_names[i]);
		cfg_set_validate_func(cfg, name, conf_validate_loc_opt);
	}

	conf_lines_free();
	conf_root = cfg;
	rc = confline_parse(cfg, path, err, errsz);
	conf_root = NULL;
	if (rc != CFG_SUCCESS) {
		if (err[0] == '\0')
			snprintf(err, errsz, "%s: cannot parse", path);
		conf_lines_free();
		cfg_free(cfg);
		return -1;
	}
	if (cfg_size(cfg, "server") == 0) {
		snprintf(err, errsz, "%s: no server block: at least one "
		    "server \"name\" { ... } is needed", path);
		cfg_free(cfg);
		return -1;
	}
	if (cfg_size(cfg, "listen") + cfg_size(cfg, "proxy-listen") == 0) {
		snprintf(err, errsz, "%s: nothing to listen on (listen or "
		    "proxy-listen)", path);
		cfg_free(cfg);
		return -1;
	}

	conf_nomem = 0;
	if ((c = conf_calloc(1, sizeof(*c))) == NULL) {
		cfg_free(cfg);
		snprintf(err, errsz, "%s: out of memory", path);
		return -1;
	}
	c->path = conf_strdup(path);
	conf_add_listens(c, cfg, "listen", LISTEN_GEMINI);
	conf_add_listens(c, cfg, "proxy-listen", LISTEN_PROXY);
	conf_add_listens(c, cfg, "gopher-listen", LISTEN_GOPHER);
	conf_add_listens(c, cfg, "finger-listen", LISTEN_FINGER);
	c->state_dir = conf_strdup(cfg_getstr(cfg, "state-dir"));
	c->user = conf_strdup(cfg_getstr(cfg, "user"));
	c->log_level = log_level_parse(cfg_getstr(cfg, "log-level"));
	c->access_log = conf_strdup(cfg_getstr(cfg, "access-log"));
	c->gopher_host = conf_strdup(cfg_getstr(cfg, "gopher-host"));
	nworkers = cfg_getint(cfg, "workers");
	if (nworkers <= 0)
		nworkers = sysconf(_SC_NPROCESSORS_ONLN);
	if (nworkers < 1)
		nworkers = 1;
	if (nworkers > 64)
		nworkers = 64;
	c->workers = (int)nworkers;
	c->max_connections = (int)cfg_getint(cfg, "max-connections");
	c->max_conns_per_address = (int)cfg_getint(cfg,
	    "max-connections-per-address");
	c->request_timeout = (int)cfg_getint(cfg, "request-timeout");
	c->connection_timeout = (int)cfg_getint(cfg, "connection-timeout");

	for (i = 0; i < cfg_size(cfg, "mime") && !conf_nomem; i++) {
		cfg_t *m = cfg_getnsec(cfg, "mime", i);

		for (j = 0; j < cfg_size(m, "extensions"); j++) {
			struct mime_conf *mc, *nm;
			char *e;

			if ((nm = reallocarray(c->mimes, c->nmimes + 1,
			    sizeof(*nm))) == NULL) {
				conf_nomem = 1;
				break;
			}
			c->mimes = nm;
			mc = &c->mimes[c->nmimes++];
			mc->type = conf_strdup(cfg_title(m));
			e = cfg_getnstr(m, "extensions", j);
			if (e[0] == '.')
				e++;
			if ((mc->ext = conf_strdup(e)) == NULL)
				break;
			for (e = mc->ext; *e; e++)
				if (*e >= 'A' && *e <= 'Z')
					*e = (char)(*e - 'A' + 'a');
		}
	}

	if ((c->servers = conf_calloc(cfg_size(cfg, "server"),
	    sizeof(*c->servers))) != NULL)
		c->nservers = cfg_size(cfg, "server");
	for (i = 0; i < c->nservers; i++) {
		cfg_t *s = cfg_getnsec(cfg, "server", i);
		struct server_conf *sc = &c->servers[i];

		sc->name = conf_strdup(cfg_title(s));
		if ((sc->aliases = conf_calloc(cfg_size(s, "aliases"),
		    sizeof(char *))) != NULL)
			sc->naliases = cfg_size(s, "aliases");
		for (j = 0; j < sc->naliases; j++)
			sc->aliases[j] = conf_strdup(cfg_getnstr(s,
			    "aliases", j));
		sc->root = conf_strdup(cfg_getstr(s, "root"));
		sc->lang = conf_strdup(cfg_getstr(s, "lang"));
		sc->cert = conf_strdup(cfg_getstr(s, "cert"));
		sc->key = conf_strdup(cfg_getstr(s, "key"));
		sc->index = conf_strdup(cfg_getstr(s, "index"));
		sc->auto_index = cfg_getbool(s, "auto-index");
		sc->tls13_tickets = cfg_getbool(s, "tls13-tickets");
		sc->root_line = conf_line_of(s, "root");
		sc->cert_line = conf_line_of(s, "cert");
		sc->key_line = conf_line_of(s, "key");
		conf_add_locations(sc, s);
	}
	if (!conf_nomem && conf_check_loops(c, err, errsz) == -1) {
		conf_lines_free();
		cfg_free(cfg);
		conf_free(c);
		return -1;
	}
	conf_lines_free();
	cfg_free(cfg);
	if (conf_nomem) {
		conf_free(c);
		snprintf(err, errsz, "%s: out of memory", path);
		return -1;
	}
	*out = c;
	return 0;
}

int
conf_server_names(const struct server_conf *sc, const char *host)
{
	size_t i;

	if (strcasecmp(sc->name, host) == 0)
		return 1;
	for (i = 0; i < sc->naliases; i++)
		if (strcasecmp(sc->aliases[i], host) == 0)
			return 1;
	return 0;
}

void
conf_free(struct config *c)
{
	size_t i, j;

	if (c == NULL)
		return;
	for (i = 0; i < c->nlistens; i++) {
		free(c->listens[i].addr);
		free(c->listens[i].host);
		free(c->listens[i].port);
	}
	free(c->listens);
	for (i = 0; i < c->nmimes; i++) {
		free(c->mimes[i].type);
		free(c->mimes[i].ext);
	}
	free(c->mimes);
	for (i = 0; i < c->nservers; i++) {
		struct server_conf *sc = &c->servers[i];

		for (j = 0; j < sc->naliases; j++)
			free(sc->aliases[j]);
		free(sc->aliases);
		free(sc->name);
		free(sc->root);
		free(sc->lang);
		free(sc->cert);
		free(sc->key);
		free(sc->index);
		loc_free(sc->locs, sc->nlocs);
	}
	free(c->servers);
	free(c->path);
	free(c->state_dir);
	free(c->user);
	free(c->access_log);
	free(c->gopher_host);
	free(c);
}

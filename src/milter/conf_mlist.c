/* the `list` blocks of the enquiry-milter configuration */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_mlist.h"
#include "conf_value.h"
#include "db.h"
#include "listcmd.h"
#include "log.h"
#include "mailhdr.h"
#include "mlist.h"

cfg_opt_t conf_mlist_opts[] = {
	CFG_STR("name", "", CFGF_NONE),
	CFG_STR("members", "", CFGF_NONE),
	CFG_STR("posting", "members", CFGF_NONE),
	CFG_STR_LIST("owners", NULL, CFGF_NONE),
	CFG_STR("subject-tag", "", CFGF_NONE),
	CFG_STR("reply-to", "sender", CFGF_NONE),
	CFG_STR("subscribe", "confirm", CFGF_NONE),
	CFG_BOOL("archive", cfg_false, CFGF_NONE),
	CFG_BOOL("exclude-sender", cfg_false, CFGF_NONE),
	CFG_STR("bounce-address", "", CFGF_NONE),
	CFG_STR("list-id", "", CFGF_NONE),
	CFG_STR("help-text", "", CFGF_NONE),
	CFG_STR("token-lifetime", "2d", CFGF_NONE),
	CFG_STR("reply-interval", "10m", CFGF_NONE),
	CFG_STR("unsubscribe-url", "", CFGF_NONE),
	CFG_END()
};

/* v is one of the words in set (NULL-terminated): its index, or -1 */
static int
one_of(const char *v, const char *const *set)
{
	int i;

	for (i = 0; v && set[i]; i++)
		if (strcmp(v, set[i]) == 0)
			return i;
	return -1;
}

static const char *const posting_words[] = { "members", "open", "moderated",
    "owners", NULL };
static const char *const replyto_words[] = { "list", "sender", NULL };
static const char *const subscribe_words[] = { "confirm", "closed", NULL };

static int
v_word(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *const *set = strcmp(opt->name, "posting") == 0 ?
	    posting_words : strcmp(opt->name, "reply-to") == 0 ?
	    replyto_words : subscribe_words;
	char words[128] = "";
	int i;

	if (one_of(conf_value_last(opt), set) >= 0)
		return 0;
	for (i = 0; set[i]; i++) {
		strncat(words, i ? " | " : "", sizeof(words) - strlen(words) -
		    1);
		strncat(words, set[i], sizeof(words) - strlen(words) - 1);
	}
	cfg_error(cfg, "%s: \"%s\" is not one of %s", opt->name,
	    conf_value_last(opt) ? conf_value_last(opt) : "", words);
	return -1;
}

static int
v_url(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = conf_value_last(opt), *p;

	if (v == NULL || v[0] == '\0')
		return 0;
	if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0)
		goto bad;
	for (p = v; *p; p++)
		if (*p <= ' ' || *p >= 127 || *p == '<' || *p == '>' ||
		    *p == ',')
			goto bad;
	return 0;
bad:
	cfg_error(cfg, "%s: \"%s\" is not an http(s) URL", opt->name, v);
	return -1;
}

static int
v_listid(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = conf_value_last(opt), *p;

	if (v == NULL || v[0] == '\0')
		return 0;
	/* rfc 2919: a dot-atom of letters, digits and hyphens */
	for (p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			goto bad;
	if (strchr(v, '.') == NULL || v[0] == '.' || p[-1] == '.' ||
	    strstr(v, ".."))
		goto bad;
	return 0;
bad:
	cfg_error(cfg, "list-id: \"%s\" is not like partners.rmet.org", v);
	return -1;
}

static int
v_text(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = conf_value_last(opt);

	if (v && (strlen(v) > 200 || strpbrk(v, "\r\n"))) {
		cfg_error(cfg, "%s: at most 200 characters on one line",
		    opt->name);
		return -1;
	}
	return 0;
}

static int
v_list(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = cfg_opt_getnsec(opt, opt->nvalues - 1);
	char addr[MAILHDR_ADDR_MAX];
	const char *at;

	cfg->line = sec->line;
	if (mailhdr_envaddr(cfg_title(sec), addr, sizeof(addr)) == -1 ||
	    addr[0] == '\0' || (at = strrchr(addr, '@')) == NULL) {
		cfg_error(cfg, "list \"%s\": not a mail address",
		    cfg_title(sec));
		return -1;
	}
	/* the address names the archive's directory */
	if (addr[0] == '.' || strchr(addr, '/')) {
		cfg_error(cfg, "list \"%s\": a list address may not start "
		    "with '.' or hold a '/'", cfg_title(sec));
		return -1;
	}
	/* LOCAL-request, LOCAL-confirm+TOKEN and LOCAL-bounces must fit */
	if ((size_t)(at - addr) > 64 - 8 - 1 - DB_TOKEN_LEN) {
		cfg_error(cfg, "list \"%s\": local part too long for "
		    "LIST-confirm+TOKEN addresses", cfg_title(sec));
		return -1;
	}
	if (cfg_getstr(sec, "members")[0] == '\0') {
		cfg_error(cfg, "list \"%s\": members (a file) is missing",
		    cfg_title(sec));
		return -1;
	}
	if ((strcmp(cfg_getstr(sec, "posting"), "moderated") == 0 ||
	    strcmp(cfg_getstr(sec, "posting"), "owners") == 0) &&
	    cfg_size(sec, "owners") == 0) {
		cfg_error(cfg, "list \"%s\": posting = \"%s\" needs owners",
		    cfg_title(sec), cfg_getstr(sec, "posting"));
		return -1;
	}
	return 0;
}

void
conf_mlist_validators(cfg_t *cfg)
{
	cfg_set_validate_func(cfg, "list", v_list);
	cfg_set_validate_func(cfg, "list|posting", v_word);
	cfg_set_validate_func(cfg, "list|reply-to", v_word);
	cfg_set_validate_func(cfg, "list|subscribe", v_word);
	cfg_set_validate_func(cfg, "list|owners",
	    conf_value_v_envaddr);
	cfg_set_validate_func(cfg, "list|bounce-address",
	    conf_value_v_envaddr);
	cfg_set_validate_func(cfg, "list|token-lifetime", conf_value_v_duration);
	cfg_set_validate_func(cfg, "list|reply-interval", conf_value_v_duration);
	cfg_set_validate_func(cfg, "list|unsubscribe-url", v_url);
	cfg_set_validate_func(cfg, "list|list-id", v_listid);
	cfg_set_validate_func(cfg, "list|name", v_text);
	cfg_set_validate_func(cfg, "list|subject-tag", v_text);
	cfg_set_validate_func(cfg, "list|members", conf_value_v_readable);
}

static char *
xprintf(const char *fmt, const char *a, const char *b)
{
	char *s;

	if (asprintf(&s, fmt, a, b) == -1)
		return NULL;
	return s;
}

int
conf_mlist_convert(cfg_t *cfg, const char *path, struct conf_list **lists,
    size_t *nlists, char *err, size_t errsz)
{
	char addr[MAILHDR_ADDR_MAX], merr[512];
	unsigned int i, j, n = cfg_size(cfg, "list");
	struct mlist_members *mm;
	struct conf_list *l;
	cfg_t *sec;
	char *at;

	if (n == 0)
		return 0;
	if ((*lists = calloc(n, sizeof(**lists))) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		sec = cfg_getnsec(cfg, "list", i);
		l = &(*lists)[(*nlists)++];
		l->line = sec->line;
		mailhdr_envaddr(cfg_title(sec), addr, sizeof(addr));
		if ((l->address = conf_value_strdup(addr, 0)) == NULL)
			goto nomem;
		at = strrchr(addr, '@');
		*at = '\0';
		l->local = conf_value_strdup(addr, 0);
		l->domain = conf_value_strdup(at + 1, 0);
		if (!l->local || !l->domain)
			goto nomem;
		l->request = xprintf("%s-request@%s", l->local, l->domain);
		l->confirm_prefix = xprintf("%s-confirm+%s", l->local, "");
		l->name = conf_value_strdup(cfg_getstr(sec, "name")[0] ?
		    cfg_getstr(sec, "name") : l->local, 0);
		l->list_id = cfg_getstr(sec, "list-id")[0] ?
		    conf_value_strdup(cfg_getstr(sec, "list-id"), 0) :
		    xprintf("%s.%s", l->local, l->domain);
		l->members = conf_value_strdup(cfg_getstr(sec, "members"),
		    0);
		l->posting = one_of(cfg_getstr(sec, "posting"),
		    posting_words);
		l->subject_tag = conf_value_strdup(cfg_getstr(sec,
		    "subject-tag"), 0);
		l->reply_to_list = strcmp(cfg_getstr(sec, "reply-to"),
		    "list") == 0;
		l->subscribe_closed = strcmp(cfg_getstr(sec, "subscribe"),
		    "closed") == 0;
		l->archive = cfg_getbool(sec, "archive");
		l->exclude_sender = cfg_getbool(sec, "exclude-sender");
		if (cfg_getstr(sec, "bounce-address")[0]) {
			mailhdr_envaddr(cfg_getstr(sec, "bounce-address"),
			    addr, sizeof(addr));
			l->bounce_address = conf_value_strdup(addr, 0);
		} else
			l->bounce_address = xprintf("%s-bounces@%s",
			    l->local, l->domain);
		l->help_text = conf_value_strdup(cfg_getstr(sec,
		    "help-text"), 0);
		l->token_lifetime = conf_value_duration(cfg_getstr(sec,
		    "token-lifetime"));
		l->reply_interval = conf_value_duration(cfg_getstr(sec,
		    "reply-interval"));
		l->unsubscribe_url = conf_value_strdup(cfg_getstr(sec,
		    "unsubscribe-url"), 0);
		if (!l->request || !l->confirm_prefix || !l->name ||
		    !l->list_id || !l->members || !l->subject_tag ||
		    !l->bounce_address || !l->help_text ||
		    !l->unsubscribe_url)
			goto nomem;
		if ((l->owners = calloc(cfg_size(sec, "owners") + 1,
		    sizeof(char *))) == NULL)
			goto nomem;
		for (j = 0; j < cfg_size(sec, "owners"); j++) {
			mailhdr_envaddr(cfg_getnstr(sec, "owners", j), addr,
			    sizeof(addr));
			if ((l->owners[l->nowners++] = conf_value_strdup(addr,
			    0)) == NULL)
				goto nomem;
		}
		/* 1. the members file must be there and clean now; later
		 * edits with a bad line only skip that line */
		if ((mm = mlist_load(l->members, 1, merr, sizeof(merr))) ==
		    NULL) {
			if (strncmp(merr, l->members, strlen(l->members)) ==
			    0 && merr[strlen(l->members)] == ':' &&
			    isdigit((unsigned char)merr[strlen(l->members) +
			    1]))
				snprintf(err, errsz, "%s", merr);
			else
				snprintf(err, errsz, "%s:%d: list \"%s\": "
				    "members: %s", path, sec->line,
				    l->address, merr);
			return -1;
		}
		mlist_put(mm);
	}
	return 0;
nomem:
	snprintf(err, errsz, "%s: out of memory", path);
	return -1;
}

void
conf_mlist_free(struct conf_list *lists, size_t nlists)
{
	size_t i, j;

	for (i = 0; i < nlists; i++) {
		struct conf_list *l = &lists[i];

		free(l->address);
		free(l->local);
		free(l->domain);
		free(l->request);
		free(l->confirm_prefix);
		free(l->name);
		free(l->list_id);
		free(l->members);
		for (j = 0; j < l->nowners; j++)
			free(l->owners[j]);
		free(l->owners);
		free(l->subject_tag);
		free(l->bounce_address);
		free(l->help_text);
		free(l->unsubscribe_url);
	}
	free(lists);
}

struct conf_list *
conf_mlist_find(struct conf_list *lists, size_t nlists, const char *addr,
    int *kind, char *token, size_t tokensz)
{
	const char *at = strrchr(addr, '@');
	size_t i, n;

	*kind = CONF_LIST_NONE;
	if (at == NULL)
		return NULL;
	for (i = 0; i < nlists; i++) {
		struct conf_list *l = &lists[i];

		if (strcasecmp(at + 1, l->domain) != 0)
			continue;
		if (strcasecmp(addr, l->address) == 0)
			*kind = CONF_LIST_POST;
		else if (strcasecmp(addr, l->request) == 0)
			*kind = CONF_LIST_REQUEST;
		else if (strcasecmp(addr, l->bounce_address) == 0)
			*kind = CONF_LIST_BOUNCE;
		else if (strncasecmp(addr, l->confirm_prefix,
		    (n = strlen(l->confirm_prefix))) == 0 &&
		    listcmd_token_valid(addr + n, (size_t)(at - addr) - n) &&
		    (size_t)(at - addr) - n < tokensz) {
			*kind = CONF_LIST_CONFIRM;
			memcpy(token, addr + n, (size_t)(at - addr) - n);
			token[at - addr - n] = '\0';
			for (char *p = token; *p; p++)
				*p = (char)tolower((unsigned char)*p);
		} else
			continue;
		return l;
	}
	return NULL;
}

int
conf_mlist_is_owner(const struct conf_list *l, const char *addr)
{
	size_t i;

	for (i = 0; i < l->nowners; i++)
		if (strcasecmp(l->owners[i], addr) == 0)
			return 1;
	return 0;
}

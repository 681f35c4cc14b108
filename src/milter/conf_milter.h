/* enquiry-milter configuration: every libconfuse call lives in conf_milter.c;
 * the rest of the milter reads these plain structs. a loaded config is
 * reference counted: a reload swaps in a new one, and work under way keeps
 * the one it started with */
#ifndef CONF_MILTER_H
#define CONF_MILTER_H

#include <sys/types.h>
#include <time.h>

struct conf_list;

struct conf_category {
	char	 *name;
	char	**keywords;		/* lower case */
	size_t	  nkeywords;
	char	**route_to;
	size_t	  nroute;
	char	 *team;			/* "" = the enquiry's */
	char	 *ack_template_path;	/* "" = the enquiry's template */
	char	 *ack_template;		/* its text, checked, or NULL */
	size_t	  ack_template_len;
};

struct conf_enquiry {
	char			 *address;	/* lower case */
	char			**route_to;
	size_t			  nroute;
	int			  keep_original;
	char			 *reference;	/* prefix: ENQ */
	char			 *ack_from;	/* bare address */
	char			 *ack_from_name;
	char			 *ack_template_path;
	char			 *ack_template;	/* its text, checked */
	size_t			  ack_template_len;
	time_t			  ack_interval;	/* seconds */
	char			 *team;		/* whom enquiries reach */
	char			 *bounce_address; /* "" = leave the sender */
	struct conf_category	 *categories;
	size_t			  ncategories;
};

/* auto-reply-limit: automatic replies (acknowledgements, list answers,
 * owner notices) to one address in one hour */
#define AUTO_REPLY_LIMIT_DEFAULT	5
#define AUTO_REPLY_LIMIT_MAX		10000

/* submit-connections: acknowledgements submitted at once, 1 to this */
#define SUBMIT_CONNECTIONS_MAX	32

/* the case register: reply-within, retention, digest-time defaults */
#define REPLY_WITHIN_DEFAULT	"5d"
#define RETENTION_DEFAULT	"2y"
#define DIGEST_TIME_DEFAULT	"07:30"

struct milter_conf {
	int			 refs;		/* under the conf mutex */
	char			*path;
	char			*socket;
	mode_t			 socket_mode;
	char			*socket_group;	/* "" = leave it */
	char			*state_dir;
	char			*database;	/* "" = sqlite in state_dir */
	int			 db_connections; /* postgresql's pool */
	int			 db_timeout;	/* seconds, any wait */
	char			*user;
	char			*submit_host;
	int			 submit_port;
	time_t			 submit_timeout;
	time_t			 submit_retry_max;
	int			 submit_connections; /* at once */
	int			 log_level;
	char			*log_file;	/* NULL: syslog (stderr with -f) */
	char			*capsule_url;	/* gemini://localhost/ */
	char			*hostname;	/* for message-ids */
	int			 hostname_guessed; /* "" in the file */
	int			 auto_reply_limit; /* per address, hour */
	char			*authserv_id;	/* the mta's, "" = none */
	struct conf_enquiry	*enquiries;
	size_t			 nenquiries;
	char		       **own;		/* every address that is ours */
	size_t			 nown;
	struct conf_list	*lists;		/* conf_mlist.h */
	size_t			 nlists;
	/* the case register */
	char		       **staff;		/* lower case; route-to
						 * addresses are staff too */
	size_t			 nstaff;
	time_t			 reply_within;	/* seconds; later is overdue */
	int			 retention_count; /* 0: personal data kept */
	char			 retention_unit; /* d w m y */
	char			*digest_to;	/* bare address, "" = none */
	int			 digest_time;	/* minutes after midnight,
						 * local time */
};

/* placeholders an ack template may use */
extern const char *const conf_milter_tmpl_names[];
extern const size_t conf_milter_ntmpl_names;

/* the configuration file both programs read without -c: the bundled one
 * in a source tree (etc/enquiry-milter.conf), else SYSCONFDIR's */
const char *conf_milter_default_path(void);

/* parse and check a file; NULL with "file:line: problem" in err */
struct milter_conf *conf_milter_load(const char *path, char *err,
	    size_t errsz);
void	conf_milter_free(struct milter_conf *);

/* the config in force, with a reference the caller must drop */
struct milter_conf *conf_milter_get(void);
void	conf_milter_put(struct milter_conf *);
/* make c the config in force (takes over the caller's reference) */
void	conf_milter_set(struct milter_conf *);
/* re-read the file of the config in force; -1 keeps the old one */
int	conf_milter_reload(void);

/* 1 when addr (lower case) is staff: in the staff list or a route-to
 * address of any enquiry or category; 0 when not */
int	conf_milter_is_staff(const struct milter_conf *, const char *addr);
/* the time before which closed cases lose their personal data
 * (retention), or -1 when retention is off */
long long conf_milter_retention_before(const struct milter_conf *,
	    long long now);

/* the enquiry block of addr, or NULL */
struct conf_enquiry *conf_milter_enquiry(struct milter_conf *,
	    const char *addr);

#endif

/*
 * enquiries: the case register of enquiry-milter, for people. it reads
 * the milter's configuration (where the register is, reply-within,
 * retention) and its database, safely while the milter runs: the database
 * is in WAL mode, so reading never blocks the milter, and a change waits
 * for the milter's lock (-w) before it says the database is locked.
 *
 *   enquiries [-c file] [-w seconds] COMMAND ...
 *
 * exit status: 0 done, 1 it could not be done (unknown reference, a
 * locked database, ...), 2 the command line is wrong. what fails changes
 * nothing.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "casefmt.h"
#include "casestats.h"
#include "conf_milter.h"
#include "db.h"
#include "log.h"
#include "priv.h"
#include "spool.h"

#define PROG		"enquiries"
#define ACTOR		"enquiries"	/* who did it, in a case's history */
#define NOTE_MAX	4000		/* bytes of a note */
#define WAIT_DEFAULT	10		/* seconds a change waits for a lock */

enum { EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* what every command has */
struct ctx {
	struct milter_conf	*conf;
	struct db		*db;
	long long		 now;
	int			 wait;		/* seconds */
	char			 path[4096];	/* the database */
};

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: " PROG " [-c file] [-w seconds] command ...\n"
	    "  list [--open | --closed] [--overdue] [--since DATE] "
	    "[--category NAME]\n"
	    "       [--search TEXT] [--limit N] [--csv | --json]\n"
	    "  show REF [--json]\n"
	    "  close REF [--note TEXT]\n"
	    "  reopen REF\n"
	    "  note REF TEXT\n"
	    "  stats [--since DATE] [--csv | --json]\n"
	    "  export --address ADDR\n"
	    "  purge --address ADDR | --expired\n"
	    "  migrate [--to postgresql://...]\n"
	    "DATE is YYYY-MM-DD (local time); see enquiries(8)\n");
	exit(status);
}

/* a wrong command line: what is wrong, and where the usage is */
static void
fail_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (" PROG " -h shows the usage)\n");
	exit(EXIT_USAGE);
}

/* DATE: YYYY-MM-DD, a real day, as its local midnight; -1 if not */
static long long
parse_date(const char *s)
{
	struct tm tm;
	time_t t;
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (y = 0; y < 10; y++)
		if (y != 4 && y != 7 && !isdigit((unsigned char)s[y]))
			return -1;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1)
		return -1;
	/* 2026-02-30 would come back as 2 march */
	if (tm.tm_year != y - 1900 || tm.tm_mon != m - 1 || tm.tm_mday != d)
		return -1;
	return (long long)t;
}

static long long
date_arg(const char *opt, const char *s)
{
	long long t = parse_date(s);

	if (t == -1) {
		fprintf(stderr, PROG ": %s: \"%s\" is not a date "
		    "(YYYY-MM-DD)\n", opt, s);
		exit(EXIT_USAGE);
	}
	return t;
}

/* a case reference as people type it: ENQ-2026-000042, any case. the
 * canonical form in out; -1 when it is not one */
static int
parse_ref(const char *s, char *out, size_t outsz)
{
	size_t i, n = strlen(s), p = 0;

	if (n >= outsz || n < 13)
		return -1;
	while (p < n && isalnum((unsigned char)s[p]))
		p++;
	/* PREFIX (1 to 16 letters or digits) -YYYY- NNNNNN */
	if (p < 1 || p > 16 || n != p + 12 || s[p] != '-' || s[p + 5] != '-')
		return -1;
	for (i = p + 1; i < n; i++)
		if (i != p + 5 && !isdigit((unsigned char)s[i]))
			return -1;
	for (i = 0; i <= n; i++)
		out[i] = (char)toupper((unsigned char)s[i]);
	return 0;
}

static void
ref_arg(const char *s, char *out, size_t outsz)
{
	if (parse_ref(s, out, outsz) == -1) {
		fprintf(stderr, PROG ": \"%s\" is not a case reference (like "
		    "ENQ-2026-000042)\n", s);
		exit(EXIT_USAGE);
	}
}

/* a database error: why, and whether it was another program's lock */
static int
db_fail(struct ctx *x, const char *what)
{
	if (db_locked(x->db))
		fprintf(stderr, PROG ": %s: the database is locked by another "
		    "program (waited %d s); nothing was changed, try again\n",
		    what, x->wait);
	else
		fprintf(stderr, PROG ": %s: %s\n", what, db_errmsg(x->db));
	return EXIT_FAIL;
}

/* the width of the terminal on stdout, 0 when it is none */
static int
term_columns(void)
{
	struct winsize ws;
	const char *c;

	if (!isatty(STDOUT_FILENO))
		return 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if ((c = getenv("COLUMNS")) != NULL && atoi(c) > 0)
		return atoi(c);
	return 80;
}

/* the common options of the listing commands */
enum { OPT_OPEN = 256, OPT_CLOSED, OPT_OVERDUE, OPT_SINCE, OPT_CATEGORY,
    OPT_SEARCH, OPT_LIMIT, OPT_CSV, OPT_JSON, OPT_NOTE, OPT_ADDRESS,
    OPT_EXPIRED };

/* parse a command's options (argv[0] is the command) with fn; the index
 * of the first operand is returned */
static int
cmd_opts(int argc, char **argv, const struct option *opts,
    int (*fn)(int opt, const char *arg, void *), void *arg)
{
	char msg[256];
	int ch;

	/* 0: glibc starts afresh; operands may come before options
	 * (show REF --json), so they are permuted to the end */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		/* an unknown short option ("-ENQ-..."): getopt is still
		 * inside its word, so argv[optind - 1] is the word before */
		if (ch == '?' && optopt != 0) {
			snprintf(msg, sizeof(msg), "%s: -%c is not one of its "
			    "options", argv[0], optopt);
			fail_usage("%s", msg);
		}
		if (ch == '?' || ch == ':') {
			snprintf(msg, sizeof(msg), "%s: %s %s", argv[0],
			    argv[optind - 1], ch == ':' ? "needs a value" :
			    "is not one of its options");
			fail_usage("%s", msg);
		}
		if (fn(ch, optarg, arg) == -1)
			usage(EXIT_USAGE);
	}
	return optind;
}

static enum casefmt_style
style_of(int csv, int json)
{
	if (csv && json)
		fail_usage("%s", "--csv and --json exclude each other");
	return csv ? CASEFMT_CSV : json ? CASEFMT_JSON : CASEFMT_TABLE;
}

/*
 * list
 */

struct list_args {
	struct db_case_filter	f;
	int			csv, json;
};

static int
list_opt(int opt, const char *arg, void *p)
{
	struct list_args *a = p;
	char *end;

	switch (opt) {
	case OPT_OPEN:
		a->f.open = 1;
		break;
	case OPT_CLOSED:
		a->f.closed = 1;
		break;
	case OPT_OVERDUE:
		a->f.overdue = 1;
		break;
	case OPT_SINCE:
		a->f.since = date_arg("--since", arg);
		break;
	case OPT_CATEGORY:
		a->f.category = arg;
		break;
	case OPT_SEARCH:
		if (arg[0] == '\0' || strlen(arg) > 200)
			fail_usage("--search: \"%s\": give 1 to 200 "
			    "characters", arg);
		a->f.search = arg;
		break;
	case OPT_LIMIT:
		errno = 0;
		a->f.limit = strtoll(arg, &end, 10);
		if (!isdigit((unsigned char)arg[0]) || *end || errno ||
		    a->f.limit < 1)
			fail_usage("--limit: \"%s\" is not a number of cases",
			    arg);
		break;
	case OPT_CSV:
		a->csv = 1;
		break;
	case OPT_JSON:
		a->json = 1;
		break;
	default:
		return -1;
	}
	return 0;
}

static void
list_one(const struct db_case *c, void *arg)
{
	struct casefmt *f = arg;

	/* a row that cannot be written is seen at the end (ferror) */
	if (casefmt_list_case(f, c) == -1 && !ferror(f->out))
		f->n = -1;
}

static int
cmd_list(struct ctx *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "open", no_argument, NULL, OPT_OPEN },
		{ "closed", no_argument, NULL, OPT_CLOSED },
		{ "overdue", no_argument, NULL, OPT_OVERDUE },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "category", required_argument, NULL, OPT_CATEGORY },
		{ "search", required_argument, NULL, OPT_SEARCH },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 }
	};
	struct list_args a;
	struct casefmt f;
	int i;

	memset(&a, 0, sizeof(a));
	i = cmd_opts(argc, argv, opts, list_opt, &a);
	if (i != argc)
		fail_usage("list: unexpected \"%s\"", argv[i]);
	if (a.f.open && a.f.closed)
		fail_usage("%s", "list: --open and --closed exclude each other");
	if (a.f.overdue && a.f.closed)
		fail_usage("%s", "list: --overdue and --closed exclude each "
		    "other");
	a.f.overdue_before = x->now - x->conf->reply_within;
	casefmt_init(&f, stdout, style_of(a.csv, a.json), term_columns(),
	    a.f.overdue_before);
	if (casefmt_list_begin(&f) == -1)
		return EXIT_FAIL;
	if (db_cases(x->db, &a.f, list_one, &f) == -1) {
		casefmt_list_end(&f);
		return db_fail(x, "list");
	}
	if (f.n < 0 || casefmt_list_end(&f) == -1 || fflush(stdout) == EOF) {
		fprintf(stderr, PROG ": list: cannot write: %s\n",
		    strerror(errno));
		return EXIT_FAIL;
	}
	return 0;
}

/*
 * show
 */

static int
show_opt(int opt, const char *arg, void *p)
{
	(void)arg;
	if (opt != OPT_JSON)
		return -1;
	*(int *)p = 1;
	return 0;
}

static void
show_case(const struct db_case *c, void *arg)
{
	casefmt_show_case(arg, c);
}

static void
show_message(const struct db_enquiry *e, void *arg)
{
	casefmt_show_message(arg, e);
}

static void
show_event(const struct db_event *ev, void *arg)
{
	casefmt_show_event(arg, ev);
}

static int
cmd_show(struct ctx *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 }
	};
	struct casefmt f;
	char ref[64];
	int i, json = 0, rc;

	i = cmd_opts(argc, argv, opts, show_opt, &json);
	if (argc - i != 1)
		fail_usage("%s", "show: give one case reference");
	ref_arg(argv[i], ref, sizeof(ref));
	casefmt_init(&f, stdout, json ? CASEFMT_JSON : CASEFMT_TABLE, 0,
	    x->now - x->conf->reply_within);
	if ((rc = db_case_get(x->db, ref, show_case, &f)) == -1)
		return db_fail(x, "show");
	if (rc == 0) {
		fprintf(stderr, PROG ": show: no case %s\n", ref);
		return EXIT_FAIL;
	}
	if (db_case_messages(x->db, ref, show_message, &f) == -1 ||
	    db_case_history(x->db, ref, show_event, &f) == -1)
		return db_fail(x, "show");
	if (casefmt_show_end(&f) == -1 || fflush(stdout) == EOF) {
		fprintf(stderr, PROG ": show: cannot write: %s\n",
		    strerror(errno));
		return EXIT_FAIL;
	}
	return 0;
}

/*
 * close, reopen, note
 */

/* a note: text on one line or several, no other control characters */
static void
note_check(const char *s)
{
	const unsigned char *p;

	if (s[0] == '\0' || strlen(s) > NOTE_MAX)
		fail_usage("note: give 1 to %s bytes of text", "4000");
	for (p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			fail_usage("%s", "note: control characters are not "
			    "taken");
}

static int
case_answer(struct ctx *x, const char *cmd, const char *ref, int rc)
{
	switch (rc) {
	case DB_CASE_DONE:
		return 0;
	case DB_CASE_UNKNOWN:
		fprintf(stderr, PROG ": %s: no case %s\n", cmd, ref);
		return EXIT_FAIL;
	case DB_CASE_UNCHANGED:
		fprintf(stderr, PROG ": %s: case %s already is %s; nothing "
		    "changed\n", cmd, ref, strcmp(cmd, "close") == 0 ?
		    "closed" : "open");
		return EXIT_FAIL;
	case DB_CASE_PURGED:
		fprintf(stderr, PROG ": %s: case %s was purged (its personal "
		    "data is gone); nothing changed\n", cmd, ref);
		return EXIT_FAIL;
	default:
		return db_fail(x, cmd);
	}
}

static int
close_opt(int opt, const char *arg, void *p)
{
	if (opt != OPT_NOTE)
		return -1;
	note_check(arg);
	*(const char **)p = arg;
	return 0;
}

static int
cmd_close(struct ctx *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "note", required_argument, NULL, OPT_NOTE },
		{ NULL, 0, NULL, 0 }
	};
	const char *note = NULL;
	char ref[64];
	int i, rc;

	i = cmd_opts(argc, argv, opts, close_opt, &note);
	if (argc - i != 1)
		fail_usage("%s", "close: give one case reference");
	ref_arg(argv[i], ref, sizeof(ref));
	rc = case_answer(x, "close", ref, db_case_close(x->db, ref, ACTOR,
	    note, x->now));
	if (rc == 0)
		printf("%s closed\n", ref);
	return rc;
}

static int
no_opt(int opt, const char *arg, void *p)
{
	(void)opt;
	(void)arg;
	(void)p;
	return -1;
}

static int
cmd_reopen(struct ctx *x, int argc, char **argv)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	char ref[64];
	int i, rc;

	i = cmd_opts(argc, argv, opts, no_opt, NULL);
	if (argc - i != 1)
		fail_usage("%s", "reopen: give one case reference");
	ref_arg(argv[i], ref, sizeof(ref));
	rc = case_answer(x, "reopen", ref, db_case_reopen(x->db, ref, ACTOR,
	    x->now));
	if (rc == 0)
		printf("%s reopened\n", ref);
	return rc;
}

static int
cmd_note(struct ctx *x, int argc, char **argv)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	char ref[64];
	int i, rc;

	i = cmd_opts(argc, argv, opts, no_opt, NULL);
	if (argc - i != 2)
		fail_usage("%s", "note: give a case reference and the text");
	ref_arg(argv[i], ref, sizeof(ref));
	note_check(argv[i + 1]);
	rc = case_answer(x, "note", ref, db_case_note(x->db, ref, ACTOR,
	    argv[i + 1], x->now));
	if (rc == 0)
		printf("%s: note added\n", ref);
	return rc;
}

/*
 * stats
 */

struct stats_args {
	long long	since;
	int		csv, json;
	int		failed;
};

static int
stats_opt(int opt, const char *arg, void *p)
{
	struct stats_args *a = p;

	switch (opt) {
	case OPT_SINCE:
		a->since = date_arg("--since", arg);
		break;
	case OPT_CSV:
		a->csv = 1;
		break;
	case OPT_JSON:
		a->json = 1;
		break;
	default:
		return -1;
	}
	return 0;
}

struct stats_acc {
	struct casestats	s;
	int			failed;
};

static void
stats_one(const struct db_stat_row *r, void *arg)
{
	struct stats_acc *a = arg;

	if (casestats_add(&a->s, r) == -1)
		a->failed = 1;
}

static int
cmd_stats(struct ctx *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 }
	};
	struct stats_args a;
	struct stats_acc acc;
	struct casefmt f;
	int i, rc = 0;

	memset(&a, 0, sizeof(a));
	i = cmd_opts(argc, argv, opts, stats_opt, &a);
	if (i != argc)
		fail_usage("stats: unexpected \"%s\"", argv[i]);
	casestats_init(&acc.s, x->now - x->conf->reply_within);
	acc.failed = 0;
	if (db_stats(x->db, a.since, stats_one, &acc) == -1) {
		casestats_free(&acc.s);
		return db_fail(x, "stats");
	}
	if (acc.failed || casestats_finish(&acc.s) == -1) {
		fprintf(stderr, PROG ": stats: out of memory\n");
		casestats_free(&acc.s);
		return EXIT_FAIL;
	}
	casefmt_init(&f, stdout, style_of(a.csv, a.json), 0, 0);
	if (casefmt_stats(&f, &acc.s, a.since) == -1 ||
	    fflush(stdout) == EOF) {
		fprintf(stderr, PROG ": stats: cannot write: %s\n",
		    strerror(errno));
		rc = EXIT_FAIL;
	}
	casestats_free(&acc.s);
	return rc;
}

/*
 * export, purge
 */

struct addr_args {
	const char	*address;
	int		 expired;
};

static int
addr_opt(int opt, const char *arg, void *p)
{
	struct addr_args *a = p;

	switch (opt) {
	case OPT_ADDRESS:
		/* an address as the milter keeps it: local@domain, printable */
		if (arg[0] == '\0' || strlen(arg) > 254 || arg[0] == '@' ||
		    strchr(arg, '@') == NULL || strpbrk(arg, " <>\t\r\n,;"))
			fail_usage("--address: \"%s\" is not a mail address "
			    "(local@domain)", arg);
		a->address = arg;
		break;
	case OPT_EXPIRED:
		a->expired = 1;
		break;
	default:
		return -1;
	}
	return 0;
}

static void
export_one(const struct db_export_row *r, void *arg)
{
	casefmt_export_row(arg, r);
}

static int
cmd_export(struct ctx *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "address", required_argument, NULL, OPT_ADDRESS },
		{ NULL, 0, NULL, 0 }
	};
	struct addr_args a = { NULL, 0 };
	struct casefmt f;
	int i;

	i = cmd_opts(argc, argv, opts, addr_opt, &a);
	if (i != argc || a.address == NULL)
		fail_usage("%s", "export: give --address ADDR");
	casefmt_init(&f, stdout, CASEFMT_JSON, 0, x->now -
	    x->conf->reply_within);
	casefmt_export_begin(&f, a.address, x->now);
	if (db_export_address(x->db, a.address, export_one, &f) == -1) {
		casefmt_export_end(&f);
		return db_fail(x, "export");
	}
	if (casefmt_export_end(&f) == -1 || fflush(stdout) == EOF) {
		fprintf(stderr, PROG ": export: cannot write: %s\n",
		    strerror(errno));
		return EXIT_FAIL;
	}
	fprintf(stderr, PROG ": export: %lld rows about %s\n", f.n,
	    a.address);
	return 0;
}

/* a purge is done, but the wal may still hold what went: say so */
static int
wal_kept(const struct db_purge_count *pc)
{
	if (!pc->wal_kept)
		return 0;
	fprintf(stderr, PROG ": purge: done, but the database's write-ahead "
	    "log could not be emptied (another program was reading): it may "
	    "hold the purged data until it is; run the purge again\n");
	return EXIT_FAIL;
}

static int
cmd_purge(struct ctx *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "address", required_argument, NULL, OPT_ADDRESS },
		{ "expired", no_argument, NULL, OPT_EXPIRED },
		{ NULL, 0, NULL, 0 }
	};
	struct addr_args a = { NULL, 0 };
	struct db_purge_count pc;
	char before[40];
	size_t nspool = 0;
	long long cut;
	int i;

	i = cmd_opts(argc, argv, opts, addr_opt, &a);
	if (i != argc || (a.address == NULL) == (a.expired == 0))
		fail_usage("%s", "purge: give --address ADDR or --expired");
	if (a.expired) {
		if ((cut = conf_milter_retention_before(x->conf,
		    x->now)) == -1) {
			printf("retention is off (retention = \"never\" in "
			    "%s): nothing purged\n", x->conf->path);
			return 0;
		}
		if (db_purge_expired(x->db, cut, x->now, &pc) == -1)
			return db_fail(x, "purge");
		casefmt_time(before, sizeof(before), cut, 0);
		printf("purged the personal data of %lld cases closed before "
		    "%s (%lld messages)\n", pc.cases, before, pc.messages);
		return wal_kept(&pc);
	}
	if (db_purge_address(x->db, a.address, x->now, &pc) == -1)
		return db_fail(x, "purge");
	if (spool_purge_addr(x->conf->state_dir, a.address, &nspool) == -1 &&
	    errno != ENOENT) {
		fprintf(stderr, PROG ": purge: %s/spool: %s (the database is "
		    "purged; run it again)\n", x->conf->state_dir,
		    strerror(errno));
		return EXIT_FAIL;
	}
	printf("purged %s: %lld cases, %lld messages, %lld other rows, %zu "
	    "spooled mails\n", a.address, pc.cases, pc.messages, pc.other,
	    nspool);
	return wal_kept(&pc);
}

/* the sqlite register (x->db, in state-dir) moved into postgresql: the
 * database --to names, else the one the configuration does. once: a
 * second run finds the first's mark and does nothing */
static int
migrate_opt(int opt, const char *arg, void *p)
{
	if (opt != 't')
		return -1;
	*(const char **)p = arg;
	return 0;
}

static int
cmd_migrate(struct ctx *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	const char *to = x->conf->database[0] ? x->conf->database : NULL;
	char err[1024];
	struct db *dst;
	long long rows;
	int rc;

	if (cmd_opts(argc, argv, opts, migrate_opt, &to) != argc || to == NULL)
		fail_usage("%s", "migrate: give --to postgresql://... (or set "
		    "database in the configuration)");
	if (!db_is_url(to))
		fail_usage("%s", "migrate: --to is not a postgresql:// URL");
	if ((dst = db_open_pool(to, 1, x->conf->db_timeout, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, PROG ": migrate: %s\n", err);
		return EXIT_FAIL;
	}
	rc = db_migrate(x->db, dst, x->now, &rows, err, sizeof(err));
	db_close(dst);
	if (rc == -1) {
		fprintf(stderr, PROG ": migrate: %s\n", err);
		return EXIT_FAIL;
	}
	if (rc == 0)
		printf("nothing to do: the register was %s\n", err);
	else
		printf("moved %s into postgresql: %lld rows; set database in "
		    "%s and restart the milters\n", x->path, rows,
		    x->conf->path);
	return 0;
}

static const struct {
	const char	*name;
	int		(*fn)(struct ctx *, int, char **);
} commands[] = {
	{ "migrate", cmd_migrate },
	{ "list", cmd_list },
	{ "show", cmd_show },
	{ "close", cmd_close },
	{ "reopen", cmd_reopen },
	{ "note", cmd_note },
	{ "stats", cmd_stats },
	{ "export", cmd_export },
	{ "purge", cmd_purge },
};

/* as root, work as the milter's user: no file of the register (the
 * database, its wal, the spool) may end up root's */
static int
become_milter_user(const struct milter_conf *c)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(c->user)) == NULL) {
		fprintf(stderr, PROG ": user \"%s\" (%s) does not exist: not "
		    "using the register as root\n", c->user, c->path);
		return -1;
	}
	if (priv_drop(pw->pw_name, pw->pw_uid, pw->pw_gid,
	    PRIV_GROUPS_USER) == -1) {
		fprintf(stderr, PROG ": cannot become %s: %s\n", c->user,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *conffile = NULL;
	struct ctx x;
	char err[1024], opt[3] = "-", *end;
	size_t i;
	long v;
	int ch, rc;

	memset(&x, 0, sizeof(x));
	x.wait = WAIT_DEFAULT;
	opterr = 0;
	while ((ch = getopt(argc, argv, "+:c:hVw:")) != -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'h':
			usage(0);
			break;
		case 'V':
			printf(PROG " %s\n", VERSION);
			return 0;
		case 'w':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (!isdigit((unsigned char)optarg[0]) || *end ||
			    errno || v > 3600)
				fail_usage("-w: \"%s\" is not 0 to 3600 seconds",
				    optarg);
			x.wait = (int)v;
			break;
		case ':':
			/* optopt, not argv[optind - 1]: "--help" and "-xV"
			 * leave optind on the word being read */
			opt[1] = (char)optopt;
			fail_usage("%s needs a value", opt);
			break;
		default:
			/* a "--word": getopt is still on it, at optind */
			if (optopt == '-')
				fail_usage("unknown option \"%s\"",
				    argv[optind]);
			opt[1] = (char)optopt;
			fail_usage("unknown option \"%s\"", opt);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		fail_usage("%s", "no command");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0]))
		fail_usage("unknown command \"%s\"", argv[0]);

	log_init(PROG, 1);
	log_setlevel(LOG_LVL_ERR);
	if (conffile == NULL)
		conffile = conf_milter_default_path();
	if ((x.conf = conf_milter_load(conffile, err, sizeof(err))) == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		return EXIT_FAIL;
	}
	/* the register: database, or the sqlite file in state-dir (which
	 * migrate moves, whatever database says) */
	if (x.conf->database[0] && commands[i].fn != cmd_migrate)
		rc = snprintf(x.path, sizeof(x.path), "%s", x.conf->database);
	else
		rc = snprintf(x.path, sizeof(x.path), "%s/enquiries.db",
		    x.conf->state_dir);
	if (rc < 0 || (size_t)rc >= sizeof(x.path)) {
		fprintf(stderr, PROG ": state-dir is too long\n");
		conf_milter_free(x.conf);
		return EXIT_FAIL;
	}
	if (become_milter_user(x.conf) == -1) {
		conf_milter_free(x.conf);
		return EXIT_FAIL;
	}
	/* opening would make an empty register: say there is none */
	if (!db_is_url(x.path) && access(x.path, F_OK) == -1) {
		fprintf(stderr, PROG ": %s: %s (has enquiry-milter run with "
		    "state-dir \"%s\"?)\n", x.path, strerror(errno),
		    x.conf->state_dir);
		conf_milter_free(x.conf);
		return EXIT_FAIL;
	}
	if ((x.db = db_open_pool(x.path, 1, x.conf->db_timeout, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		conf_milter_free(x.conf);
		return EXIT_FAIL;
	}
	db_set_wait(x.db, x.wait * 1000);
	x.now = (long long)time(NULL);
	/* a listing of thousands of cases into a file or pipe: fewer,
	 * larger writes */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	rc = commands[i].fn(&x, argc, argv);
	db_close(x.db);
	conf_milter_free(x.conf);
	return rc;
}

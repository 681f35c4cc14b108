/* enquiry-milter's configuration conversion: durations, octal modes and
 * host:port as conf_value.c converts them, and a whole file as
 * conf_milter_load turns it into struct milter_conf (addresses lower
 * case, display names split off, defaults, the list blocks and the own
 * addresses); a bad value is refused with "file:line: what" */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf_milter.h"
#include "db.h"
#include "conf_mlist.h"
#include "conf_value.h"
#include "log.h"
#include "unit.h"

static char dir[] = "/tmp/test_conf_milter.XXXXXX";
static char path[256], tmpl[256], members[256];

static void
test_duration(void)
{
	static const struct {
		const char	*in;
		long long	 want;
	} t[] = {
		{ "7d", 7 * 86400 }, { "12h", 12 * 3600 }, { "30m", 1800 },
		{ "45s", 45 }, { "2w", 14 * 86400 }, { "90", 90 }, { "0", 0 },
		{ "0d", 0 },
		/* malformed */
		{ "", -1 }, { "d", -1 }, { "7x", -1 }, { "7dd", -1 },
		{ " 7d", -1 }, { "7 d", -1 }, { "-1", -1 }, { "+5", -1 },
		{ "1.5h", -1 }, { "7D", -1 }, { "3153600001", -1 },
		{ "99999999999999999999", -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(conf_value_duration(t[i].in) == t[i].want,
		    "duration \"%s\" is %lld (got %lld)", t[i].in, t[i].want,
		    conf_value_duration(t[i].in));
	CHECK(conf_value_duration(NULL) == -1, "no duration is malformed");
}

/* retention periods, clock times, and the calendar behind them */
static void
test_register_values(void)
{
	static const struct {
		const char	*in;
		int		 count;
		char		 unit;
		int		 rc;
	} t[] = {
		{ "2y", 2, 'y', 0 }, { "18m", 18, 'm', 0 }, { "90d", 90, 'd', 0 },
		{ "3w", 3, 'w', 0 }, { "never", 0, 0, 0 }, { "0", 0, 0, 0 },
		{ "0y", 0, 0, -1 }, { "2", 0, 0, -1 }, { "2h", 0, 0, -1 },
		{ "2yy", 0, 0, -1 }, { "-2y", 0, 0, -1 }, { "", 0, 0, -1 },
		{ "101y", 0, 0, -1 }, { "Never", 0, 0, -1 },
	};
	struct tm tm;
	time_t now, before;
	size_t i;
	int n, rc;
	char u;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		rc = conf_value_period(t[i].in, &n, &u);
		CHECK(rc == t[i].rc && (rc == -1 || (n == t[i].count &&
		    u == t[i].unit)), "period \"%s\": %d %c (rc %d)", t[i].in,
		    n, u ? u : '-', rc);
	}
	CHECK(conf_value_clock("07:30") == 450 && conf_value_clock("00:00") ==
	    0 && conf_value_clock("23:59") == 1439, "clock times");
	CHECK(conf_value_clock("7:30") == -1 && conf_value_clock("24:00") ==
	    -1 && conf_value_clock("12:60") == -1 && conf_value_clock(
	    "12:3a") == -1 && conf_value_clock(NULL) == -1, "bad clock times");
	/* 31 march 2026 noon, less a month: 28 february; less two years:
	 * 31 march 2024 */
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 126;
	tm.tm_mon = 2;
	tm.tm_mday = 31;
	tm.tm_hour = 12;
	tm.tm_isdst = -1;
	now = mktime(&tm);
	before = (time_t)conf_value_period_before(now, 1, 'm');
	localtime_r(&before, &tm);
	CHECK(tm.tm_year == 126 && tm.tm_mon == 1 && tm.tm_mday == 28 &&
	    tm.tm_hour == 12, "31 march less a month: 28 february (got "
	    "%d-%02d-%02d)", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	before = (time_t)conf_value_period_before(now, 2, 'y');
	localtime_r(&before, &tm);
	CHECK(tm.tm_year == 124 && tm.tm_mon == 2 && tm.tm_mday == 31,
	    "less two years: 31 march 2024");
	before = (time_t)conf_value_period_before(now, 14, 'm');
	localtime_r(&before, &tm);
	CHECK(tm.tm_year == 125 && tm.tm_mon == 0 && tm.tm_mday == 31,
	    "less fourteen months: 31 january 2025");
	CHECK(conf_value_period_before(now, 3, 'w') == (long long)now -
	    21 * 86400 && conf_value_period_before(now, 90, 'd') ==
	    (long long)now - 90 * 86400, "weeks and days are exact");
}

static void
test_strdup(void)
{
	char *a = conf_value_strdup(NULL, 0), *b = conf_value_strdup(
	    "Enquiries@RMET.org", 1), *c = conf_value_strdup("Our Team", 0);

	CHECK(a != NULL && a[0] == '\0', "an unset option copies as \"\"");
	CHECK(b != NULL && strcmp(b, "enquiries@rmet.org") == 0,
	    "lower folds an address: %s", b ? b : "(null)");
	CHECK(c != NULL && strcmp(c, "Our Team") == 0,
	    "text is copied as written: %s", c ? c : "(null)");
	free(a);
	free(b);
	free(c);
}

static void
test_mode(void)
{
	static const struct {
		const char	*in;
		int		 ok;
		mode_t		 want;
	} t[] = {
		{ "0660", 1, 0660 }, { "0777", 1, 0777 }, { "660", 1, 0660 },
		{ "0", 1, 0 }, { "0600", 1, 0600 },
		{ "", 0, 0 }, { "0800", 0, 0 }, { "01000", 0, 0 },
		{ "rw", 0, 0 }, { "-1", 0, 0 }, { "0660 ", 0, 0 },
		{ "0x1ff", 0, 0 },
	};
	size_t i;
	mode_t m;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		m = 01234;
		if (t[i].ok)
			CHECK(conf_value_mode(t[i].in, &m) == 0 &&
			    m == t[i].want, "mode \"%s\" is %04o (got %04o)",
			    t[i].in, (unsigned)t[i].want, (unsigned)m);
		else
			CHECK(conf_value_mode(t[i].in, &m) == -1 &&
			    m == 01234, "mode \"%s\" refused, nothing "
			    "written", t[i].in);
	}
	CHECK(conf_value_mode(NULL, &m) == -1, "no mode is malformed");
}

static void
test_hostport(void)
{
	static const struct {
		const char	*in;
		const char	*host;	/* NULL: refused */
		int		 port;
	} t[] = {
		{ "127.0.0.1:25", "127.0.0.1", 25 },
		{ "[::1]:2525", "::1", 2525 },
		{ "mail.example.org:587", "mail.example.org", 587 },
		{ "localhost:65535", "localhost", 65535 },
		{ "127.0.0.1", NULL, 0 }, { ":25", NULL, 0 },
		{ "host:", NULL, 0 }, { "host:0", NULL, 0 },
		{ "host:65536", NULL, 0 }, { "host:25x", NULL, 0 },
		{ "[::1:25", NULL, 0 }, { "[]:25", NULL, 0 },
		{ "host:-25", NULL, 0 },
	};
	char host[64];
	size_t i;
	int port;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		port = -1;
		if (t[i].host) {
			CHECK(conf_value_hostport(t[i].in, host, sizeof(host),
			    &port) == 0 && strcmp(host, t[i].host) == 0 &&
			    port == t[i].port, "\"%s\" is host %s port %d",
			    t[i].in, t[i].host, t[i].port);
		} else
			CHECK(conf_value_hostport(t[i].in, host, sizeof(host),
			    &port) == -1 && port == -1, "\"%s\" is no "
			    "host:port", t[i].in);
	}
	CHECK(conf_value_hostport("a-rather-long-host-name.example.org:25",
	    host, 16, &port) == -1, "a host longer than its buffer is "
	    "refused, not cut");
}

static void
put(const char *file, const char *text)
{
	FILE *fp = fopen(file, "w");

	if (fp == NULL) {
		CHECK(0, "cannot write %s", file);
		return;
	}
	fputs(text, fp);
	fclose(fp);
}

/* a config of body with the enquiry and template every file needs */
static struct milter_conf *
load(const char *body, char *err, size_t errsz)
{
	char text[4096];

	snprintf(text, sizeof(text), "%s"
	    "enquiry \"Enquiries@RMET.org\" {\n"
	    "  route-to = {\"Rachelle.Stevens@RMET.org\"}\n"
	    "  ack-template = \"%s\"\n"
	    "}\n", body, tmpl);
	put(path, text);
	return conf_milter_load(path, err, errsz);
}

/* refused, naming the file, the line and the problem */
static void
bad(const char *body, int line, const char *word)
{
	struct milter_conf *c;
	char err[1024], want[300];

	c = load(body, err, sizeof(err));
	snprintf(want, sizeof(want), "%s:%d: ", path, line);
	CHECK(c == NULL, "refused: %s", word);
	CHECK(strncmp(err, want, strlen(want)) == 0 && strstr(err, word),
	    "error names %s and \"%s\": %s", want, word, err);
	conf_milter_free(c);
}

static int
is_own(const struct milter_conf *c, const char *addr)
{
	size_t i;

	for (i = 0; i < c->nown; i++)
		if (strcmp(c->own[i], addr) == 0)
			return 1;
	return 0;
}

static void
test_load(void)
{
	struct milter_conf *c;
	struct conf_enquiry *e;
	struct conf_list *l;
	char err[1024], text[2048];
	int kind;

	/* 1. the defaults */
	c = load("", err, sizeof(err));
	CHECK(c != NULL, "a minimal file loads: %s", c ? "" : err);
	if (c != NULL) {
		CHECK(c->socket_mode == 0660, "socket-mode 0660 by default");
		CHECK_STR(c->submit_host, "127.0.0.1", "submit host default");
		CHECK(c->submit_port == 25, "submit port default");
		CHECK(c->submit_timeout == 30, "submit-timeout 30s = 30");
		CHECK(c->submit_retry_max == 600, "submit-retry-max 10m = 600");
		CHECK(c->submit_connections == 4, "submit-connections 4");
		CHECK_STR(c->database, "", "no database: sqlite in state-dir");
		CHECK(c->db_connections == DB_CONNECTIONS_DEFAULT &&
		    c->db_timeout == 10, "database pool and timeout defaults");
		CHECK(c->auto_reply_limit == AUTO_REPLY_LIMIT_DEFAULT,
		    "auto-reply-limit default");
		CHECK(c->log_file == NULL, "no log-file: syslog");
		CHECK(c->hostname_guessed && c->hostname[0],
		    "an empty hostname is this host's");
		CHECK(c->nenquiries == 1 && c->nlists == 0, "one enquiry");
		e = c->enquiries;
		CHECK_STR(e->address, "enquiries@rmet.org",
		    "the enquiry address in lower case");
		CHECK(e->nroute == 1 && strcmp(e->route_to[0],
		    "rachelle.stevens@rmet.org") == 0, "route-to in lower "
		    "case");
		CHECK(e->ack_interval == 7 * 86400, "ack-interval 7d by "
		    "default = %lld", (long long)e->ack_interval);
		CHECK_STR(e->reference, "ENQ", "reference ENQ by default");
		CHECK_STR(e->ack_from, "enquiries@rmet.org",
		    "ack-from is the enquiry address by default");
		CHECK(conf_milter_enquiry(c, "enquiries@rmet.org") == e,
		    "the enquiry found by its address");
		CHECK(is_own(c, "enquiries@rmet.org") &&
		    is_own(c, "rachelle.stevens@rmet.org"),
		    "the enquiry and its route are own addresses");
		CHECK(c->nstaff == 0 && c->reply_within == 5 * 86400 &&
		    c->retention_count == 2 && c->retention_unit == 'y' &&
		    c->digest_to[0] == '\0' && c->digest_time == 7 * 60 + 30,
		    "register defaults: no staff list, reply-within 5d, "
		    "retention 2y, no digest, digest-time 07:30");
		CHECK(conf_milter_is_staff(c, "rachelle.stevens@rmet.org") &&
		    !conf_milter_is_staff(c, "jane@example.org") &&
		    !conf_milter_is_staff(c, ""), "a route-to address is "
		    "staff, an enquirer is not");
	}
	conf_milter_free(c);

	/* 2. every value converted */
	snprintf(text, sizeof(text),
	    "socket-mode = \"0640\"\n"
	    "submit = \"[::1]:2525\"\n"
	    "submit-timeout = \"2m\"\n"
	    "submit-retry-max = \"1h\"\n"
	    "submit-connections = 8\n"
	    "database = \"postgresql://Milter@db.example.org/Enquiries\"\n"
	    "database-connections = 12\n"
	    "database-timeout = \"3s\"\n"
	    "log-level = \"debug\"\n"
	    "hostname = \"MX.Example.ORG\"\n"
	    "authserv-id = \"MX.Example.ORG\"\n"
	    "auto-reply-limit = 3\n"
	    "staff = {\"Head@Trust.example\", \"clerk@trust.example\"}\n"
	    "reply-within = \"36h\"\n"
	    "retention = \"18m\"\n"
	    "digest-to = \"Governance <Governance@Trust.example>\"\n"
	    "digest-time = \"23:05\"\n"
	    "list \"Partners@RMET.org\" {\n"
	    "  members = \"%s\"\n"
	    "  owners = {\"Owner@RMET.org\"}\n"
	    "  token-lifetime = \"3h\"\n"
	    "}\n"
	    "enquiry \"admissions@rmet.org\" {\n"
	    "  route-to = {\"a@rmet.org\"}\n"
	    "  ack-from = \"Admissions Office <Admissions@RMET.org>\"\n"
	    "  ack-interval = \"1w\"\n"
	    "  ack-template = \"%s\"\n"
	    "  reference = \"ADM\"\n"
	    "  category \"visit\" {\n"
	    "    keywords = {\"open day\"}\n"
	    "    route-to = {\"Visits@RMET.org\"}\n"
	    "  }\n"
	    "}\n", members, tmpl);
	c = load(text, err, sizeof(err));
	CHECK(c != NULL, "a full file loads: %s", c ? "" : err);
	if (c == NULL)
		return;
	CHECK(c->socket_mode == 0640, "socket-mode \"0640\" = 0640");
	CHECK_STR(c->submit_host, "::1", "submit v6 host without brackets");
	CHECK(c->submit_port == 2525, "submit port");
	CHECK(c->submit_timeout == 120 && c->submit_retry_max == 3600,
	    "submit durations in seconds");
	CHECK(c->submit_connections == 8, "submit-connections");
	CHECK_STR(c->database, "postgresql://Milter@db.example.org/Enquiries",
	    "database kept as written");
	CHECK(c->db_connections == 12 && c->db_timeout == 3,
	    "database-connections and database-timeout");
	CHECK(c->log_level == log_level_parse("debug"), "log-level");
	CHECK_STR(c->hostname, "mx.example.org", "hostname in lower case");
	CHECK(!c->hostname_guessed, "a given hostname is not guessed");
	CHECK_STR(c->authserv_id, "mx.example.org", "authserv-id in lower "
	    "case");
	CHECK(c->auto_reply_limit == 3, "auto-reply-limit");
	CHECK(c->nstaff == 2 && strcmp(c->staff[0], "head@trust.example") ==
	    0, "staff in lower case");
	CHECK(conf_milter_is_staff(c, "clerk@trust.example") &&
	    conf_milter_is_staff(c, "visits@rmet.org") &&
	    !conf_milter_is_staff(c, "admissions@rmet.org"), "staff: the "
	    "list and every route-to (a category's too), not the enquiry "
	    "address");
	CHECK(c->reply_within == 36 * 3600, "reply-within 36h");
	CHECK(c->retention_count == 18 && c->retention_unit == 'm',
	    "retention 18m: eighteen months");
	CHECK_STR(c->digest_to, "governance@trust.example", "digest-to: the "
	    "bare address in lower case");
	CHECK(c->digest_time == 23 * 60 + 5, "digest-time 23:05");
	CHECK(c->nenquiries == 2, "two enquiries");
	e = conf_milter_enquiry(c, "admissions@rmet.org");
	CHECK(e != NULL, "the second enquiry found");
	if (e != NULL) {
		CHECK_STR(e->ack_from, "admissions@rmet.org",
		    "ack-from: the address, lower case");
		CHECK_STR(e->ack_from_name, "Admissions Office",
		    "ack-from: the display name apart");
		CHECK(e->ack_interval == 7 * 86400, "ack-interval 1w");
		CHECK_STR(e->reference, "ADM", "reference");
		CHECK(e->ncategories == 1 && e->categories[0].nkeywords == 1 &&
		    strcmp(e->categories[0].keywords[0], "open day") == 0 &&
		    strcmp(e->categories[0].route_to[0], "visits@rmet.org") ==
		    0, "a category, its keywords and route");
	}
	CHECK(c->nlists == 1, "one list");
	if (c->nlists == 1) {
		l = c->lists;
		CHECK_STR(l->address, "partners@rmet.org", "list address");
		CHECK_STR(l->request, "partners-request@rmet.org",
		    "its request address");
		CHECK_STR(l->bounce_address, "partners-bounces@rmet.org",
		    "its bounce address by default");
		CHECK(l->token_lifetime == 3 * 3600, "token-lifetime 3h");
		CHECK(l->reply_interval == 600, "reply-interval 10m default");
		CHECK(l->nowners == 1 && strcmp(l->owners[0],
		    "owner@rmet.org") == 0, "owners in lower case");
		CHECK(conf_mlist_find(c->lists, c->nlists,
		    "partners-request@rmet.org", &kind, text,
		    sizeof(text)) == l && kind == CONF_LIST_REQUEST,
		    "the request address found as the list's");
		CHECK(is_own(c, "partners@rmet.org") &&
		    is_own(c, "partners-request@rmet.org") &&
		    is_own(c, "partners-bounces@rmet.org"),
		    "the list's addresses are own addresses");
	}
	CHECK(is_own(c, "visits@rmet.org") && is_own(c, "admissions@rmet.org"),
	    "a category's route and ack-from are own addresses");
	conf_milter_free(c);

	/* 3. bad values: refused with file:line: what */
	bad("socket-mode = \"0800\"\n", 1, "socket-mode");
	bad("\nsocket-mode = \"rw\"\n", 2, "not an octal mode");
	bad("submit = \"127.0.0.1\"\n", 1, "not host:port");
	bad("submit = \"127.0.0.1:70000\"\n", 1, "submit");
	bad("submit-timeout = \"7x\"\n", 1, "not a duration");
	bad("log-level = \"loud\"\n", 1, "log-level");
	bad("submit-connections = 0\n", 1, "submit-connections");
	bad("database = \"/var/lib/x.db\"\n", 1, "not a postgresql:// URL");
	bad("database-connections = 0\n", 1, "database-connections");
	bad("database-connections = 65\n", 1, "database-connections");
	bad("database-timeout = \"0s\"\n", 1, "less than a second");
	bad("auto-reply-limit = 0\n", 1, "auto-reply-limit");
	bad("capsule-url = \"localhost\"\n", 1, "not a URL");
	bad("authserv-id = \"mx example\"\n", 1, "authserv-id");
	bad("\nstaff = {\"head@trust.example\", \"not an address\"}\n", 2,
	    "staff: \"not an address\" is not a mail address");
	bad("reply-within = \"5x\"\n", 1, "reply-within: \"5x\" is not a "
	    "duration");
	bad("reply-within = \"0d\"\n", 1, "reply-within");
	bad("\n\nretention = \"2 years\"\n", 3, "retention: \"2 years\" is "
	    "not a period");
	bad("retention = \"5h\"\n", 1, "retention");
	bad("digest-to = \"governance\"\n", 1, "digest-to");
	bad("digest-time = \"7:30\"\n", 1, "digest-time: \"7:30\" is not a "
	    "time of day");
	bad("digest-time = \"24:00\"\n", 1, "digest-time");
	bad("enquiry \"x@rmet.org\" {\n route-to = {\"a@rmet.org\"}\n"
	    " ack-interval = \"soon\"\n}\n", 3, "not a duration");
	bad("enquiry \"x@rmet.org\" {\n route-to = {\"not an address\"}\n}\n",
	    2, "not a mail address");
	/* (one line: libconfuse gives a block the line it ends on) */
	snprintf(text, sizeof(text), "\n\nlist \"enquiries@rmet.org\" { "
	    "members = \"%s\" }\n", members);
	bad(text, 3, "is also an enquiry address");
	snprintf(text, sizeof(text), "list \"p@rmet.org\" {\n"
	    "  members = \"%s\"\n  reply-interval = \"often\"\n}\n",
	    members);
	bad(text, 3, "not a duration");
	/* a file that cannot be opened is named on its option's line, not
	 * on the line its block ends on */
	bad("enquiry \"x@rmet.org\" {\n route-to = {\"a@rmet.org\"}\n"
	    " ack-template = \"/nonexistent/ack.txt\"\n team = \"us\"\n}\n",
	    3, "/nonexistent/ack.txt");
	bad("enquiry \"x@rmet.org\" {\n route-to = {\"a@rmet.org\"}\n"
	    " category \"visit\" {\n  keywords = {\"visit\"}\n"
	    "  route-to = {\"v@rmet.org\"}\n"
	    "  ack-template = \"/nonexistent/visit.txt\"\n }\n}\n",
	    6, "/nonexistent/visit.txt");
	bad("list \"p@rmet.org\" {\n  members = \"/nonexistent/members\"\n"
	    "  posting = \"open\"\n}\n", 2, "/nonexistent/members");
}

int
main(void)
{
	log_init("test_conf_milter", 1);
	log_setlevel(LOG_LVL_ERR);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/enquiry-milter.conf", dir);
	snprintf(tmpl, sizeof(tmpl), "%s/ack.txt", dir);
	snprintf(members, sizeof(members), "%s/members", dir);
	put(tmpl, "Your reference is {{reference}}.\n");
	put(members, "jane@example.org\n");

	test_duration();
	test_strdup();
	test_register_values();
	test_mode();
	test_hostport();
	test_load();

	unlink(path);
	unlink(tmpl);
	unlink(members);
	rmdir(dir);
	return UNIT_DONE();
}

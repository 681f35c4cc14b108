/* what the enquiries command writes: CSV and JSON escaping, text made safe
 * for a terminal, durations and times, a listing in each style, and the
 * figures (cases per month and category, median and 90th percentile) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "casefmt.h"
#include "casestats.h"
#include "unit.h"

static char *buf;
static size_t buflen;

/* a stream into buf; done() closes it */
static FILE *
mem(void)
{
	free(buf);
	buf = NULL;
	return open_memstream(&buf, &buflen);
}

static const char *
done(FILE *fp)
{
	fclose(fp);
	return buf;
}

static const char *
csv(const char *s)
{
	FILE *fp = mem();

	casefmt_csv_field(fp, s);
	return done(fp);
}

static const char *
json(const char *s)
{
	FILE *fp = mem();

	casefmt_json_string(fp, s);
	return done(fp);
}

static void
test_escaping(void)
{
	char out[64];

	CHECK_STR(csv("plain"), "plain", "csv: plain text as it is");
	CHECK_STR(csv("a, b"), "\"a, b\"", "csv: a comma quotes");
	CHECK_STR(csv("say \"hi\""), "\"say \"\"hi\"\"\"", "csv: quotes doubled");
	CHECK_STR(csv("two\nlines"), "\"two\nlines\"", "csv: a newline quotes");
	CHECK_STR(csv(" pad"), "\" pad\"", "csv: a leading space quotes");
	CHECK_STR(csv("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"",
	    "csv: a formula is defused with '");
	CHECK_STR(csv("@SUM(A1)"), "'@SUM(A1)", "csv: @ too");
	CHECK_STR(csv("Zo\xc3\xab"), "Zo\xc3\xab", "csv: utf-8 kept");
	CHECK_STR(csv("bad\xff"), "bad\xef\xbf\xbd", "csv: invalid utf-8 is "
	    "U+FFFD");
	CHECK_STR(csv(NULL), "", "csv: NULL is empty");
	CHECK_STR(json("plain"), "\"plain\"", "json: a string");
	CHECK_STR(json(NULL), "null", "json: NULL is null");
	CHECK_STR(json("a\"b\\c"), "\"a\\\"b\\\\c\"", "json: quote and "
	    "backslash");
	CHECK_STR(json("\x01\n\t\x7f"), "\"\\u0001\\n\\t\\u007f\"",
	    "json: controls escaped");
	CHECK_STR(json("\xc3\x28"), "\"\xef\xbf\xbd(\"", "json: invalid "
	    "utf-8 is U+FFFD");
	casefmt_clean(out, sizeof(out), "a\x1b[31mred\x07\xc2\x9b", 0);
	CHECK_STR(out, "a?[31mred??", "terminal: ESC, BEL and C1 CSI made "
	    "harmless");
	casefmt_clean(out, sizeof(out), "Zo\xc3\xab Brown", 4);
	CHECK_STR(out, "Zo\xc3\xab\xe2\x80\xa6", "terminal: cut to 4 columns, "
	    "counting code points, with an ellipsis");
	casefmt_clean(out, sizeof(out), "abcd", 4);
	CHECK_STR(out, "abcd", "terminal: what fits is not cut");
	casefmt_clean(out, 8, "abcdefghijkl", 0);
	CHECK(strlen(out) < 8, "terminal: never past the buffer (%s)", out);
	casefmt_duration(out, sizeof(out), 2 * 86400 + 5 * 3600 + 59);
	CHECK_STR(out, "2d 5h", "duration in days and hours");
	casefmt_duration(out, sizeof(out), 3 * 3600 + 20 * 60);
	CHECK_STR(out, "3h 20m", "in hours and minutes");
	casefmt_duration(out, sizeof(out), 45);
	CHECK_STR(out, "45s", "in seconds");
	casefmt_time(out, sizeof(out), 1796214380, 1);
	CHECK_STR(out, "2026-12-02T12:26:20+0000", "ISO time (TZ=UTC)");
	casefmt_time(out, sizeof(out), 1796214380, 0);
	CHECK_STR(out, "2026-12-02 12:26", "a table's time");
	casefmt_time(out, sizeof(out), 0, 0);
	CHECK_STR(out, "", "no time is empty");
}

static void
test_list(void)
{
	struct db_case c[2];
	struct casefmt f;
	FILE *fp;
	const char *s;

	memset(c, 0, sizeof(c));
	c[0].reference = "ENQ-2026-000001";
	c[0].enquiry = "enquiries@rmet.org";
	c[0].category = "visit";
	c[0].opened = 1796214380;
	c[0].waiting_since = 1796214380;
	c[0].sender = "jane@example.org";
	c[0].sender_name = "Jane, \"JT\"";
	c[0].subject = "a \x1b]0;title\x07 visit";
	c[0].status = "new";
	c[1] = c[0];
	c[1].reference = "ENQ-2026-000002";
	c[1].waiting_since = 1796300000;
	c[1].sender = c[1].sender_name = c[1].subject = NULL;
	c[1].purged = 1796300000;
	c[1].status = "closed";

	fp = mem();
	casefmt_init(&f, fp, CASEFMT_TABLE, 0, 1796214381);
	casefmt_list_begin(&f);
	casefmt_list_case(&f, &c[0]);
	casefmt_list_case(&f, &c[1]);
	casefmt_list_end(&f);
	s = done(fp);
	CHECK(strncmp(s, "REFERENCE        STATUS   OPENED", 32) == 0,
	    "table: the header, columns as wide as their values:\n%s", s);
	CHECK(strstr(s, "ENQ-2026-000001  overdue  2026-12-02 12:26  visit "
	    "    Jane, \"JT\" <jane@example.org>  a ?]0;title? visit\n") !=
	    NULL, "table: overdue, the sender with its name, the escape "
	    "sequence disarmed");
	CHECK(strstr(s, "ENQ-2026-000002  closed   2026-12-02 12:26  visit "
	    "    (purged)                       (purged)\n") != NULL,
	    "table: a purged case says so");

	fp = mem();
	casefmt_init(&f, fp, CASEFMT_TABLE, 70, 0);
	casefmt_list_begin(&f);
	casefmt_list_case(&f, &c[0]);
	casefmt_list_end(&f);
	s = done(fp);
	CHECK(strstr(s, "<jane@example.org>  a ?]0;tit\xe2\x80\xa6\n") !=
	    NULL, "table on a narrow terminal: the subject cut to what is "
	    "left, at least 10 columns:\n%s", s);

	fp = mem();
	casefmt_init(&f, fp, CASEFMT_CSV, 0, 1796214381);
	casefmt_list_begin(&f);
	casefmt_list_case(&f, &c[0]);
	casefmt_list_end(&f);
	s = done(fp);
	CHECK_STR(s, "reference,status,overdue,opened,waiting_since,"
	    "first_answer,answered,closed,purged,enquiry,category,sender,"
	    "sender_name,subject\r\n"
	    "ENQ-2026-000001,new,yes,2026-12-02T12:26:20+0000,"
	    "2026-12-02T12:26:20+0000,,,,,enquiries@rmet.org,visit,"
	    "jane@example.org,\"Jane, \"\"JT\"\"\",a \x1b]0;title\x07 visit\r\n",
	    "csv: a header and a row, CRLF, quoted where needed");

	fp = mem();
	casefmt_init(&f, fp, CASEFMT_JSON, 0, 0);
	casefmt_list_begin(&f);
	casefmt_list_end(&f);
	CHECK_STR(done(fp), "[]\n", "json: no cases, an empty array");
	fp = mem();
	casefmt_init(&f, fp, CASEFMT_JSON, 0, 0);
	casefmt_list_begin(&f);
	casefmt_list_case(&f, &c[1]);
	casefmt_list_end(&f);
	s = done(fp);
	CHECK(strstr(s, "\"sender\": null") && strstr(s, "\"purged\": "
	    "\"2026-12-03T12:13:20+0000\"") && strstr(s, "\"overdue\": "
	    "false"), "json: nulls, times, booleans: %s", s);
}

static void
add(struct casestats *s, long long opened, const char *cat,
    const char *status, long long waiting, long long answered)
{
	struct db_stat_row r = { opened, cat, status, waiting, answered };

	CHECK(casestats_add(s, &r) == 0, "a row added");
}

static void
test_stats(void)
{
	struct casestats s;
	struct casefmt f;
	FILE *fp;
	const char *out;
	long long nov = 1793620800;	/* 2026-11-02 12:00 UTC */
	long long dec = 1796214380;	/* 2026-12-02 12:26 UTC */

	casestats_init(&s, dec);
	CHECK(casestats_percentile(&s, 50) == -1, "nothing answered: no "
	    "median");
	add(&s, nov, "visit", "closed", nov, nov + 100);
	add(&s, nov + 10, "general", "answered", nov, nov + 10 + 200);
	add(&s, nov + 20, "visit", "new", nov + 20, 0);
	add(&s, dec, "general", "new", dec, 0);
	add(&s, dec, NULL, "answered", dec, dec + 400);
	add(&s, dec, "general", "closed", dec, dec + 1000);
	CHECK(casestats_finish(&s) == 0, "finished");
	CHECK(s.cases == 6 && s.open == 4 && s.closed == 2 && s.overdue == 1,
	    "6 cases, 4 open, 2 closed, 1 overdue (%lld %lld %lld %lld)",
	    s.cases, s.open, s.closed, s.overdue);
	CHECK(s.ncells == 4, "four month-and-category cells (%zu)", s.ncells);
	CHECK(s.ncells == 4 && strcmp(s.cells[0].month, "2026-11") == 0 &&
	    strcmp(s.cells[0].category, "general") == 0 &&
	    strcmp(s.cells[1].category, "visit") == 0 &&
	    s.cells[1].cases == 2 && strcmp(s.cells[2].month, "2026-12") ==
	    0 && strcmp(s.cells[2].category, "") == 0 &&
	    strcmp(s.cells[3].category, "general") == 0 &&
	    s.cells[3].cases == 2, "by month, then category");
	/* answers after 100 200 400 1000 s */
	CHECK(casestats_percentile(&s, 50) == 300, "median of four: between "
	    "the middle two (%lld)", casestats_percentile(&s, 50));
	CHECK(casestats_percentile(&s, 90) == 820, "90th: interpolated "
	    "(%lld)", casestats_percentile(&s, 90));
	CHECK(casestats_percentile(&s, 100) == 1000 &&
	    casestats_percentile(&s, 0) == 100, "the ends are the extremes");

	fp = mem();
	casefmt_init(&f, fp, CASEFMT_TABLE, 0, 0);
	casefmt_stats(&f, &s, 0);
	out = done(fp);
	CHECK(strstr(out, "cases opened: 6 (open 4, overdue 1, closed 2)\n") &&
	    strstr(out, "median 5m, 90th percentile 13m (4 answered)") &&
	    strstr(out, "2026-11   visit                      2\n"),
	    "the table:\n%s", out);
	fp = mem();
	casefmt_init(&f, fp, CASEFMT_JSON, 0, 0);
	casefmt_stats(&f, &s, nov);
	out = done(fp);
	CHECK(strstr(out, "\"since\": \"2026-11-02T12:00:00+0000\"") &&
	    strstr(out, "\"first_answer_median_seconds\": 300") &&
	    strstr(out, "{\"month\": \"2026-12\", \"category\": \"\", "
	    "\"cases\": 1}"), "json figures: %s", out);
	casestats_free(&s);
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	test_escaping();
	test_list();
	test_stats();
	free(buf);
	return UNIT_DONE();
}

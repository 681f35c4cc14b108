/* how the enquiries command shows the case register: a table for people
 * (columns as wide as their values, text made safe for a terminal, cut to
 * its width), CSV (RFC 4180) or JSON for programs, the whole of one case,
 * the figures, and a subject access export. no database and no option
 * parsing here: it is given rows and writes them to a stream.
 *
 * times are local, "YYYY-MM-DD HH:MM" in tables and ISO 8601 with the
 * offset ("2026-12-02T07:30:00+0000") in CSV and JSON.
 *
 * return contract: what writes returns 0, or -1 when out of memory or
 * the stream failed */
#ifndef CASEFMT_H
#define CASEFMT_H

#include <stdio.h>

#include "casestats.h"
#include "db.h"

enum casefmt_style {
	CASEFMT_TABLE,
	CASEFMT_CSV,
	CASEFMT_JSON
};

struct casefmt_row;

struct casefmt {
	FILE			*out;
	enum casefmt_style	 style;
	int			 columns;	/* a terminal's width; 0 none */
	long long		 overdue_before;	/* new and waiting
							 * since before: overdue */
	/* a listing under way */
	struct casefmt_row	*rows;		/* a table waits for widths */
	size_t			 nrows, rowcap;
	long long		 n;
	const char		*part;		/* an export's current part */
};

void	casefmt_init(struct casefmt *, FILE *, enum casefmt_style,
	    int columns, long long overdue_before);

/* a listing: begin, a case at a time, end (a table is written at end) */
int	casefmt_list_begin(struct casefmt *);
int	casefmt_list_case(struct casefmt *, const struct db_case *);
int	casefmt_list_end(struct casefmt *);

/* one case (table or JSON): the case, then its messages, then its
 * history, then end */
int	casefmt_show_case(struct casefmt *, const struct db_case *);
int	casefmt_show_message(struct casefmt *, const struct db_enquiry *);
int	casefmt_show_event(struct casefmt *, const struct db_event *);
int	casefmt_show_end(struct casefmt *);

/* the figures; since 0 is "all" */
int	casefmt_stats(struct casefmt *, const struct casestats *,
	    long long since);

/* a subject access export, always JSON: one object, a part per table */
int	casefmt_export_begin(struct casefmt *, const char *addr,
	    long long now);
int	casefmt_export_row(struct casefmt *, const struct db_export_row *);
int	casefmt_export_end(struct casefmt *);

/* the pieces, for the tests */
/* a CSV field: quoted when it holds , " CR or LF or starts or ends with a
 * space; one that a spreadsheet would take for a formula (= + - @, tab,
 * CR) gets a leading ' ; invalid utf-8 becomes U+FFFD */
int	casefmt_csv_field(FILE *, const char *);
/* a JSON string with its quotes, or null for NULL; controls escaped,
 * invalid utf-8 becomes U+FFFD */
int	casefmt_json_string(FILE *, const char *);
/* text safe for a terminal: control characters (C0, DEL, C1) become ?
 * and invalid utf-8 U+FFFD; at most maxcols code points (0: any), the
 * last one … when cut. "" for NULL */
void	casefmt_clean(char *dst, size_t dstsz, const char *src, int maxcols);
/* "1d 4h", "3h 20m", "12m", "40s" */
void	casefmt_duration(char *dst, size_t dstsz, long long secs);
/* a time as the style writes it; "" for 0 */
void	casefmt_time(char *dst, size_t dstsz, long long t, int iso);

#endif

/* the figures of the case register for `enquiries stats`: cases per month
 * and category, time to the first answer (median, 90th percentile), and
 * how many are open, overdue, closed and purged. pure: it is given the
 * rows (db_stats) and computes; months are local time.
 *
 * return contract: casestats_add and casestats_finish return 0, or -1
 * when out of memory */
#ifndef CASESTATS_H
#define CASESTATS_H

#include <stddef.h>

#include "db.h"

struct casestats_cell {
	char		 month[8];	/* YYYY-MM */
	char		*category;	/* "" for none */
	long long	 cases;
};

struct casestats {
	struct casestats_cell	*cells;		/* by month, then category */
	size_t			 ncells, cellcap;
	long long		*answer;	/* seconds to a first answer */
	size_t			 nanswer, answercap;
	long long		 cases, open, overdue, closed;
	long long		 overdue_before;	/* what counts as overdue */
	/* the month of the last row, and the times it spans: rows come
	 * oldest first, so the calendar is asked once a month */
	char			 month[8];
	long long		 month_start, month_end;
};

/* overdue: new, waiting since before overdue_before */
void	casestats_init(struct casestats *, long long overdue_before);
int	casestats_add(struct casestats *, const struct db_stat_row *);
/* sort what was added; before the questions below */
int	casestats_finish(struct casestats *);
/* the p-th percentile (0 to 100) of the times to a first answer,
 * interpolated between the nearest ranks (as a spreadsheet's PERCENTILE);
 * -1 when nothing was answered */
long long casestats_percentile(const struct casestats *, int p);
void	casestats_free(struct casestats *);

#endif

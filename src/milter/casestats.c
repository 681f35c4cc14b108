/* the figures of the case register (see casestats.h) */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "casestats.h"

void
casestats_init(struct casestats *s, long long overdue_before)
{
	memset(s, 0, sizeof(*s));
	s->overdue_before = overdue_before;
}

/* the cell of month and category, added when new; NULL out of memory */
static struct casestats_cell *
casestats_cell(struct casestats *s, const char *month, const char *cat)
{
	struct casestats_cell *c;
	size_t i;

	/* rows come oldest first: the month's cells are the last ones */
	for (i = s->ncells; i > 0; i--) {
		c = &s->cells[i - 1];
		if (strcmp(c->month, month) != 0)
			break;
		if (strcmp(c->category, cat) == 0)
			return c;
	}
	for (i = 0; i < s->ncells; i++)
		if (strcmp(s->cells[i].month, month) == 0 &&
		    strcmp(s->cells[i].category, cat) == 0)
			return &s->cells[i];
	if (s->ncells == s->cellcap) {
		size_t cap = s->cellcap ? s->cellcap * 2 : 32;

		if ((c = reallocarray(s->cells, cap, sizeof(*c))) == NULL)
			return NULL;
		s->cells = c;
		s->cellcap = cap;
	}
	c = &s->cells[s->ncells];
	memset(c, 0, sizeof(*c));
	memcpy(c->month, month, sizeof(c->month));
	if ((c->category = strdup(cat)) == NULL)
		return NULL;
	s->ncells++;
	return c;
}

int
casestats_add(struct casestats *s, const struct db_stat_row *r)
{
	struct casestats_cell *c;
	time_t t = (time_t)r->opened;
	struct tm tm;
	char month[8];
	long long *a;

	if (r->opened >= s->month_start && r->opened < s->month_end)
		memcpy(month, s->month, sizeof(month));
	else if (localtime_r(&t, &tm) == NULL ||
	    strftime(month, sizeof(month), "%Y-%m", &tm) != 7)
		memcpy(month, "?", 2);
	else {
		/* the month's first and the next month's first second */
		memcpy(s->month, month, sizeof(month));
		tm.tm_mday = 1;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		tm.tm_isdst = -1;
		s->month_start = (long long)mktime(&tm);
		tm.tm_mon++;
		tm.tm_mday = 1;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		tm.tm_isdst = -1;
		s->month_end = (long long)mktime(&tm);
		if (s->month_start == -1 || s->month_end == -1)
			s->month_start = s->month_end = 0;
	}
	if ((c = casestats_cell(s, month, r->category ? r->category :
	    "")) == NULL)
		return -1;
	c->cases++;
	s->cases++;
	if (r->status != NULL && strcmp(r->status, DB_STATUS_CLOSED) == 0)
		s->closed++;
	else {
		s->open++;
		if (r->status != NULL && strcmp(r->status,
		    DB_STATUS_NEW) == 0 && r->waiting_since < s->overdue_before)
			s->overdue++;
	}
	if (r->first_answer > 0) {
		if (s->nanswer == s->answercap) {
			size_t cap = s->answercap ? s->answercap * 2 : 256;

			if ((a = reallocarray(s->answer, cap,
			    sizeof(*a))) == NULL)
				return -1;
			s->answer = a;
			s->answercap = cap;
		}
		/* a clock set back is no negative wait */
		s->answer[s->nanswer++] = r->first_answer > r->opened ?
		    r->first_answer - r->opened : 0;
	}
	return 0;
}

static int
cell_cmp(const void *a, const void *b)
{
	const struct casestats_cell *x = a, *y = b;
	int d = strcmp(x->month, y->month);

	return d ? d : strcmp(x->category, y->category);
}

static int
ll_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

int
casestats_finish(struct casestats *s)
{
	if (s->ncells > 1)
		qsort(s->cells, s->ncells, sizeof(*s->cells), cell_cmp);
	if (s->nanswer > 1)
		qsort(s->answer, s->nanswer, sizeof(*s->answer), ll_cmp);
	return 0;
}

long long
casestats_percentile(const struct casestats *s, int p)
{
	double rank, frac;
	size_t lo;

	if (s->nanswer == 0 || p < 0 || p > 100)
		return -1;
	/* rank (n - 1) * p / 100, between the two values around it */
	rank = (double)(s->nanswer - 1) * p / 100.0;
	lo = (size_t)rank;
	frac = rank - (double)lo;
	if (lo + 1 >= s->nanswer)
		return s->answer[s->nanswer - 1];
	return (long long)((double)s->answer[lo] +
	    frac * (double)(s->answer[lo + 1] - s->answer[lo]) + 0.5);
}

void
casestats_free(struct casestats *s)
{
	size_t i;

	for (i = 0; i < s->ncells; i++)
		free(s->cells[i].category);
	free(s->cells);
	free(s->answer);
	memset(s, 0, sizeof(*s));
}

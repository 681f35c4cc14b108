/* how the enquiries command shows the case register (see casefmt.h) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "casefmt.h"
#include "utf8.h"

/* a table's columns */
enum { COL_REF, COL_STATUS, COL_OPENED, COL_CATEGORY, COL_SENDER,
    COL_SUBJECT, NCOLS };

struct casefmt_row {
	char	*cell[NCOLS];
};

/* the widest a column but the last gets in a table */
#define COL_MAX		40
/* how much of a text a table cell keeps (bytes; a cell is cut to
 * COL_MAX or the terminal anyway) */
#define CELL_MAX	1024

void
casefmt_init(struct casefmt *f, FILE *out, enum casefmt_style style,
    int columns, long long overdue_before)
{
	memset(f, 0, sizeof(*f));
	f->out = out;
	f->style = style;
	f->columns = columns;
	f->overdue_before = overdue_before;
}

static int
casefmt_done(struct casefmt *f)
{
	return ferror(f->out) ? -1 : 0;
}

/*
 * the pieces
 */

/* the next code point of s (at most len bytes): its length, at least 1
 * (an invalid byte is one U+FFFD) */
static size_t
next_cp(const char *s, size_t len, uint32_t *cp)
{
	size_t n = utf8_decode(s, len, cp);

	return n ? n : 1;
}

/* the bytes of code point cp, valid utf-8 */
static size_t
put_cp(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

void
casefmt_clean(char *dst, size_t dstsz, const char *src, int maxcols)
{
	size_t len, i, o = 0, n;
	uint32_t cp;
	char b[4];
	int cols = 0;

	if (dstsz == 0)
		return;
	dst[0] = '\0';
	if (src == NULL)
		return;
	len = strlen(src);
	/* plain printable ascii that fits: as it is */
	for (i = 0; i < len && (unsigned char)src[i] >= 0x20 &&
	    (unsigned char)src[i] < 0x7f; i++)
		;
	if (i == len && len < dstsz && (maxcols <= 0 || len <= (size_t)maxcols)) {
		memcpy(dst, src, len + 1);
		return;
	}
	for (i = 0; i < len; i += n) {
		n = next_cp(src + i, len - i, &cp);
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			cp = '?';
		/* room for this and an ellipsis (3 bytes) and the NUL */
		if ((maxcols > 0 && cols + 1 >= maxcols && i + n < len) ||
		    o + 4 + 3 + 1 > dstsz) {
			if (i < len && o + 3 + 1 <= dstsz) {
				memcpy(dst + o, "\xe2\x80\xa6", 3);
				o += 3;
			}
			break;
		}
		memcpy(dst + o, b, put_cp(b, cp));
		o += put_cp(b, cp);
		cols++;
	}
	dst[o] = '\0';
}

int
casefmt_csv_field(FILE *out, const char *s)
{
	size_t len, i, n;
	uint32_t cp;
	char b[4];
	int quote = 0;

	if (s == NULL)
		return 0;
	len = strlen(s);
	if (len > 0 && (s[0] == ' ' || s[len - 1] == ' '))
		quote = 1;
	for (i = 0; i < len && !quote; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			quote = 1;
	if (quote)
		fputc('"', out);
	/* a spreadsheet runs a cell starting so as a formula */
	if (len > 0 && strchr("=+-@\t\r", s[0]) != NULL)
		fputc('\'', out);
	/* valid text goes out in runs between its quotes */
	if (utf8_valid(s, len)) {
		const char *p = s, *q;

		while ((q = strchr(p, '"')) != NULL) {
			fwrite(p, 1, (size_t)(q - p) + 1, out);
			fputc('"', out);
			p = q + 1;
		}
		fputs(p, out);
		len = 0;
	}
	for (i = 0; i < len; i += n) {
		n = next_cp(s + i, len - i, &cp);
		if (cp == '"')
			fputc('"', out);
		fwrite(b, 1, put_cp(b, cp), out);
	}
	if (quote)
		fputc('"', out);
	return ferror(out) ? -1 : 0;
}

int
casefmt_json_string(FILE *out, const char *s)
{
	size_t len, i, n;
	uint32_t cp;
	char b[4];

	if (s == NULL) {
		fputs("null", out);
		return ferror(out) ? -1 : 0;
	}
	len = strlen(s);
	fputc('"', out);
	for (i = 0; i < len; i += n) {
		/* a run of what needs no escape goes out at once */
		for (n = 0; i + n < len && (unsigned char)s[i + n] >= 0x20 &&
		    (unsigned char)s[i + n] < 0x7f && s[i + n] != '"' &&
		    s[i + n] != '\\'; n++)
			;
		if (n > 0) {
			fwrite(s + i, 1, n, out);
			continue;
		}
		n = next_cp(s + i, len - i, &cp);
		if (cp == '"' || cp == '\\')
			fprintf(out, "\\%c", (char)cp);
		else if (cp == '\n')
			fputs("\\n", out);
		else if (cp == '\r')
			fputs("\\r", out);
		else if (cp == '\t')
			fputs("\\t", out);
		else if (cp < 0x20 || cp == 0x7f)
			fprintf(out, "\\u%04x", (unsigned)cp);
		else
			fwrite(b, 1, put_cp(b, cp), out);
	}
	fputc('"', out);
	return ferror(out) ? -1 : 0;
}

void
casefmt_duration(char *dst, size_t dstsz, long long secs)
{
	long long d = secs / 86400, h = secs % 86400 / 3600,
	    m = secs % 3600 / 60;

	if (secs < 0)
		snprintf(dst, dstsz, "-");
	else if (d > 0)
		snprintf(dst, dstsz, "%lldd %lldh", d, h);
	else if (h > 0)
		snprintf(dst, dstsz, "%lldh %lldm", h, m);
	else if (m > 0)
		snprintf(dst, dstsz, "%lldm", m);
	else
		snprintf(dst, dstsz, "%llds", secs);
}

/* n as digits digits, zero padded, at p */
static char *
put_num(char *p, long v, int digits)
{
	int i;

	for (i = digits - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + digits;
}

void
casefmt_time(char *dst, size_t dstsz, long long t, int iso)
{
	/* a listing formats thousands of times: the calendar is asked once
	 * a minute (zones change offset on whole minutes) */
	static long long minute = -1;
	static struct tm tm_minute;
	time_t tt;
	struct tm tm;
	long off;
	char buf[32], *p = buf;

	if (dstsz == 0)
		return;
	dst[0] = '\0';
	if (t <= 0)
		return;
	if (t - t % 60 != minute) {
		tt = (time_t)(t - t % 60);
		if (localtime_r(&tt, &tm_minute) == NULL) {
			minute = -1;
			return;
		}
		minute = t - t % 60;
	}
	tm = tm_minute;
	if (tm.tm_year + 1900 > 9999)
		return;
	p = put_num(p, tm.tm_year + 1900, 4);
	*p++ = '-';
	p = put_num(p, tm.tm_mon + 1, 2);
	*p++ = '-';
	p = put_num(p, tm.tm_mday, 2);
	*p++ = iso ? 'T' : ' ';
	p = put_num(p, tm.tm_hour, 2);
	*p++ = ':';
	p = put_num(p, tm.tm_min, 2);
	if (iso) {
		*p++ = ':';
		p = put_num(p, (long)(t % 60), 2);
		off = tm.tm_gmtoff;
		*p++ = off < 0 ? '-' : '+';
		off = off < 0 ? -off : off;
		p = put_num(p, off / 3600, 2);
		p = put_num(p, off % 3600 / 60, 2);
	}
	*p = '\0';
	if ((size_t)(p - buf) < dstsz)
		memcpy(dst, buf, (size_t)(p - buf) + 1);
}

/* the status a person reads: overdue is new for too long */
static const char *
case_status(const struct casefmt *f, const struct db_case *c)
{
	if (c->status != NULL && strcmp(c->status, DB_STATUS_NEW) == 0 &&
	    c->waiting_since < f->overdue_before)
		return "overdue";
	return c->status ? c->status : "?";
}

static int
is_overdue(const struct casefmt *f, const struct db_case *c)
{
	return strcmp(case_status(f, c), "overdue") == 0;
}

/* "Name <addr>", "addr", or "(purged)" */
static void
case_sender(char *dst, size_t dstsz, const char *name, const char *addr,
    int purged)
{
	if (addr == NULL || addr[0] == '\0')
		snprintf(dst, dstsz, "%s", purged ? "(purged)" : "<>");
	else if (name != NULL && name[0] != '\0')
		snprintf(dst, dstsz, "%s <%s>", name, addr);
	else
		snprintf(dst, dstsz, "%s", addr);
}

/* a JSON member: "key": value, a comma before all but the first */
static void
json_key(FILE *out, const char *key, int *first)
{
	fprintf(out, "%s\"%s\": ", *first ? "" : ", ", key);
	*first = 0;
}

static void
json_text(FILE *out, const char *key, const char *v, int *first)
{
	json_key(out, key, first);
	casefmt_json_string(out, v);
}

static void
json_time(FILE *out, const char *key, long long t, int *first)
{
	char buf[40];

	json_key(out, key, first);
	if (t == 0) {
		fputs("null", out);
		return;
	}
	casefmt_time(buf, sizeof(buf), t, 1);
	casefmt_json_string(out, buf);
}

/*
 * listing
 */

static const char *const csv_header = "reference,status,overdue,opened,"
    "waiting_since,first_answer,answered,closed,purged,enquiry,category,"
    "sender,sender_name,subject\r\n";

int
casefmt_list_begin(struct casefmt *f)
{
	f->n = 0;
	if (f->style == CASEFMT_CSV)
		fputs(csv_header, f->out);
	else if (f->style == CASEFMT_JSON)
		fputs("[", f->out);
	return casefmt_done(f);
}

static void
case_json(struct casefmt *f, const struct db_case *c)
{
	int first = 1;

	fputs("{", f->out);
	json_text(f->out, "reference", c->reference, &first);
	json_text(f->out, "status", c->status, &first);
	json_key(f->out, "overdue", &first);
	fputs(is_overdue(f, c) ? "true" : "false", f->out);
	json_time(f->out, "opened", c->opened, &first);
	json_time(f->out, "waiting_since", c->waiting_since, &first);
	json_time(f->out, "first_answer", c->first_answer, &first);
	json_time(f->out, "answered", c->answered, &first);
	json_time(f->out, "closed", c->closed, &first);
	json_time(f->out, "purged", c->purged, &first);
	json_text(f->out, "enquiry", c->enquiry, &first);
	json_text(f->out, "category", c->category, &first);
	json_text(f->out, "sender", c->sender, &first);
	json_text(f->out, "sender_name", c->sender_name, &first);
	json_text(f->out, "subject", c->subject, &first);
	fputs("}", f->out);
}

static void
case_csv(struct casefmt *f, const struct db_case *c)
{
	const long long t[] = { c->opened, c->waiting_since, c->first_answer,
	    c->answered, c->closed, c->purged };
	char buf[40];
	size_t i;

	casefmt_csv_field(f->out, c->reference);
	fputc(',', f->out);
	casefmt_csv_field(f->out, c->status);
	fputs(is_overdue(f, c) ? ",yes" : ",no", f->out);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		casefmt_time(buf, sizeof(buf), t[i], 1);
		fputc(',', f->out);
		casefmt_csv_field(f->out, buf);
	}
	fputc(',', f->out);
	casefmt_csv_field(f->out, c->enquiry);
	fputc(',', f->out);
	casefmt_csv_field(f->out, c->category);
	fputc(',', f->out);
	casefmt_csv_field(f->out, c->sender);
	fputc(',', f->out);
	casefmt_csv_field(f->out, c->sender_name);
	fputc(',', f->out);
	casefmt_csv_field(f->out, c->subject);
	fputs("\r\n", f->out);
}

int
casefmt_list_case(struct casefmt *f, const struct db_case *c)
{
	char sender[CELL_MAX], cell[CELL_MAX];
	const char *v[NCOLS];
	struct casefmt_row *r;
	size_t i;

	if (f->style == CASEFMT_JSON) {
		fputs(f->n++ ? ",\n " : "\n ", f->out);
		case_json(f, c);
		return casefmt_done(f);
	}
	if (f->style == CASEFMT_CSV) {
		f->n++;
		case_csv(f, c);
		return casefmt_done(f);
	}
	/* a table: kept until every width is known */
	if (f->nrows == f->rowcap) {
		size_t cap = f->rowcap ? f->rowcap * 2 : 64;

		if ((r = reallocarray(f->rows, cap, sizeof(*r))) == NULL)
			return -1;
		f->rows = r;
		f->rowcap = cap;
	}
	case_sender(sender, sizeof(sender), c->sender_name, c->sender,
	    c->purged != 0);
	casefmt_time(cell, sizeof(cell), c->opened, 0);
	v[COL_REF] = c->reference;
	v[COL_STATUS] = case_status(f, c);
	v[COL_OPENED] = cell;
	v[COL_CATEGORY] = c->category ? c->category : "";
	v[COL_SENDER] = sender;
	v[COL_SUBJECT] = c->subject ? c->subject : c->purged ? "(purged)" : "";
	r = &f->rows[f->nrows];
	for (i = 0; i < NCOLS; i++) {
		char clean[CELL_MAX];

		casefmt_clean(clean, sizeof(clean), v[i], 0);
		if ((r->cell[i] = strdup(clean)) == NULL) {
			while (i-- > 0)
				free(r->cell[i]);
			return -1;
		}
	}
	f->nrows++;
	f->n++;
	return 0;
}

static void
table_free(struct casefmt *f)
{
	size_t i, j;

	for (i = 0; i < f->nrows; i++)
		for (j = 0; j < NCOLS; j++)
			free(f->rows[i].cell[j]);
	free(f->rows);
	f->rows = NULL;
	f->nrows = f->rowcap = 0;
}

/* a cell (clean already) padded to width code points, cut to it first
 * when wider; width 0: as it is */
static void
table_cell(FILE *out, const char *s, int width, int last)
{
	static const char spaces[] = "                                        "
	    "  ";
	char cut[CELL_MAX];
	size_t len = strlen(s);
	int n = (int)utf8_width(s, len);

	if (width > 0 && n > width) {
		casefmt_clean(cut, sizeof(cut), s, width);
		s = cut;
		len = strlen(s);
		n = (int)utf8_width(s, len);
	}
	fwrite(s, 1, len, out);
	if (last)
		return;
	/* at most COL_MAX + 2 of padding */
	if (width + 2 > n)
		fwrite(spaces, 1, (size_t)(width + 2 - n) < sizeof(spaces) - 1 ?
		    (size_t)(width + 2 - n) : sizeof(spaces) - 1, out);
}

static void
table_line(struct casefmt *f, char *const *cell, const int *width)
{
	int i;

	for (i = 0; i < NCOLS; i++)
		table_cell(f->out, cell[i], width[i], i == NCOLS - 1);
	fputc('\n', f->out);
}

int
casefmt_list_end(struct casefmt *f)
{
	static char *const header[NCOLS] = { "REFERENCE", "STATUS", "OPENED",
	    "CATEGORY", "SENDER", "SUBJECT" };
	int width[NCOLS], used = 0, w, i;
	size_t r;

	if (f->style == CASEFMT_JSON) {
		fputs(f->n ? "\n]\n" : "]\n", f->out);
		return casefmt_done(f);
	}
	if (f->style == CASEFMT_CSV)
		return casefmt_done(f);
	for (i = 0; i < NCOLS; i++) {
		width[i] = (int)strlen(header[i]);
		for (r = 0; r < f->nrows; r++) {
			w = (int)utf8_width(f->rows[r].cell[i],
			    strlen(f->rows[r].cell[i]));
			if (w > width[i])
				width[i] = w;
		}
		if (i < NCOLS - 1 && width[i] > COL_MAX)
			width[i] = COL_MAX;
		if (i < NCOLS - 1)
			used += width[i] + 2;
	}
	/* on a terminal the subject gets what is left of the line */
	width[COL_SUBJECT] = f->columns > 0 ? (f->columns - used > 10 ?
	    f->columns - used : 10) : 0;
	table_line(f, header, width);
	for (r = 0; r < f->nrows; r++)
		table_line(f, f->rows[r].cell, width);
	if (f->nrows == 0)
		fputs("(no cases)\n", f->out);
	table_free(f);
	return casefmt_done(f);
}

/*
 * one case
 */

static void
show_line(FILE *out, const char *label, const char *value)
{
	char clean[4096];

	if (value == NULL || value[0] == '\0')
		return;
	casefmt_clean(clean, sizeof(clean), value, 0);
	fprintf(out, "  %-14s%s\n", label, clean);
}

int
casefmt_show_case(struct casefmt *f, const struct db_case *c)
{
	char buf[1024], t1[40], dur[40];

	f->n = 0;
	f->part = NULL;
	if (f->style != CASEFMT_TABLE) {
		fputs("{\"case\": ", f->out);
		case_json(f, c);
		return casefmt_done(f);
	}
	casefmt_time(t1, sizeof(t1), c->waiting_since, 0);
	if (strcmp(case_status(f, c), DB_STATUS_CLOSED) == 0 ||
	    strcmp(case_status(f, c), DB_STATUS_ANSWERED) == 0)
		snprintf(buf, sizeof(buf), "%s", case_status(f, c));
	else
		snprintf(buf, sizeof(buf), "%s, waiting since %s",
		    case_status(f, c), t1);
	casefmt_clean(t1, sizeof(t1), c->reference, 0);
	fprintf(f->out, "%s  %s\n", t1, buf);
	show_line(f->out, "enquiry", c->enquiry);
	show_line(f->out, "category", c->category);
	case_sender(buf, sizeof(buf), c->sender_name, c->sender,
	    c->purged != 0);
	show_line(f->out, "from", buf);
	show_line(f->out, "subject", c->subject ? c->subject : c->purged ?
	    "(purged)" : "");
	casefmt_time(buf, sizeof(buf), c->opened, 0);
	show_line(f->out, "opened", buf);
	if (c->first_answer) {
		casefmt_time(t1, sizeof(t1), c->first_answer, 0);
		casefmt_duration(dur, sizeof(dur), c->first_answer - c->opened);
		snprintf(buf, sizeof(buf), "%s (%s after it opened)", t1, dur);
		show_line(f->out, "first answer", buf);
	} else
		show_line(f->out, "first answer", "none yet");
	if (c->answered && c->answered != c->first_answer) {
		casefmt_time(buf, sizeof(buf), c->answered, 0);
		show_line(f->out, "last answer", buf);
	}
	casefmt_time(buf, sizeof(buf), c->closed, 0);
	show_line(f->out, "closed", buf);
	casefmt_time(buf, sizeof(buf), c->purged, 0);
	if (c->purged)
		strncat(buf, " (personal data removed)", sizeof(buf) -
		    strlen(buf) - 1);
	show_line(f->out, "purged", buf);
	return casefmt_done(f);
}

/* the part of a shown case (or an export) that rows now go to */
static void
json_part(struct casefmt *f, const char *part)
{
	if (f->part != NULL && strcmp(f->part, part) == 0) {
		fputs(",\n  ", f->out);
		return;
	}
	if (f->part != NULL)
		fputs("\n ]", f->out);
	fprintf(f->out, ",\n \"%s\": [\n  ", part);
	f->part = part;
}

int
casefmt_show_message(struct casefmt *f, const struct db_enquiry *e)
{
	char t[40], who[1024], buf[1024];
	const char *addr = e->from_addr ? e->from_addr : e->sender;
	int first = 1;

	casefmt_time(t, sizeof(t), e->time, f->style != CASEFMT_TABLE);
	if (f->style != CASEFMT_TABLE) {
		json_part(f, "messages");
		fputs("{", f->out);
		json_text(f->out, "time", t, &first);
		json_text(f->out, "kind", e->kind, &first);
		json_text(f->out, "from", e->from_addr, &first);
		json_text(f->out, "from_name", e->sender_name, &first);
		json_text(f->out, "envelope_sender", e->sender, &first);
		json_text(f->out, "subject", e->subject, &first);
		json_key(f->out, "size", &first);
		if (e->size > 0)
			fprintf(f->out, "%lld", e->size);
		else
			fputs("null", f->out);
		json_text(f->out, "queue_id", e->queue_id, &first);
		json_text(f->out, "category", e->category, &first);
		json_text(f->out, "routed_to", e->recipients, &first);
		json_text(f->out, "acknowledgement", e->ack, &first);
		json_text(f->out, "message_id", e->orig_msgid ? e->orig_msgid :
		    e->message_id, &first);
		fputs("}", f->out);
		return casefmt_done(f);
	}
	if (f->n++ == 0)
		fputs("\nmessages\n", f->out);
	case_sender(who, sizeof(who), e->sender_name, addr, 0);
	casefmt_clean(buf, sizeof(buf), who, 0);
	fprintf(f->out, "  %s  %-10s %s\n", t, e->kind ? e->kind : "-", buf);
	show_line(f->out, "  subject", e->subject);
	if (e->from_addr != NULL && e->sender != NULL &&
	    strcmp(e->from_addr, e->sender) != 0)
		show_line(f->out, "  envelope", e->sender[0] ? e->sender :
		    "<>");
	if (e->size > 0) {
		snprintf(buf, sizeof(buf), "%lld bytes", e->size);
		show_line(f->out, "  size", buf);
	}
	show_line(f->out, "  queue id", e->queue_id);
	show_line(f->out, "  category", e->category);
	show_line(f->out, "  routed to", e->recipients);
	show_line(f->out, "  ack", e->ack);
	return casefmt_done(f);
}

int
casefmt_show_event(struct casefmt *f, const struct db_event *ev)
{
	char t[40], actor[512], text[1024];
	int first = 1;

	casefmt_time(t, sizeof(t), ev->time, f->style != CASEFMT_TABLE);
	if (f->style != CASEFMT_TABLE) {
		json_part(f, "history");
		fputs("{", f->out);
		json_text(f->out, "time", t, &first);
		json_text(f->out, "what", ev->what, &first);
		json_text(f->out, "by", ev->actor, &first);
		json_text(f->out, "text", ev->text, &first);
		fputs("}", f->out);
		return casefmt_done(f);
	}
	if (f->part == NULL) {
		fputs("\nhistory\n", f->out);
		f->part = "history";
	}
	casefmt_clean(actor, sizeof(actor), ev->actor ? ev->actor : "-", 0);
	casefmt_clean(text, sizeof(text), ev->text, 0);
	fprintf(f->out, "  %s  %-9s %s%s%s\n", t, ev->what, actor,
	    text[0] ? "  " : "", text);
	return casefmt_done(f);
}

int
casefmt_show_end(struct casefmt *f)
{
	if (f->style != CASEFMT_TABLE)
		fputs(f->part ? "\n ]\n}\n" : "\n}\n", f->out);
	f->part = NULL;
	return casefmt_done(f);
}

/*
 * the figures
 */

int
casefmt_stats(struct casefmt *f, const struct casestats *s, long long since)
{
	char from[40], med[40], p90[40];
	long long m = casestats_percentile(s, 50), n = casestats_percentile(s,
	    90);
	size_t i;
	int first = 1;

	if (f->style == CASEFMT_CSV) {
		fputs("month,category,cases\r\n", f->out);
		for (i = 0; i < s->ncells; i++) {
			casefmt_csv_field(f->out, s->cells[i].month);
			fputc(',', f->out);
			casefmt_csv_field(f->out, s->cells[i].category);
			fprintf(f->out, ",%lld\r\n", s->cells[i].cases);
		}
		return casefmt_done(f);
	}
	if (f->style == CASEFMT_JSON) {
		fputs("{", f->out);
		json_time(f->out, "since", since, &first);
		fprintf(f->out, ", \"cases\": %lld, \"open\": %lld, "
		    "\"overdue\": %lld, \"closed\": %lld, \"answered\": %zu",
		    s->cases, s->open, s->overdue, s->closed, s->nanswer);
		if (m >= 0)
			fprintf(f->out, ", \"first_answer_median_seconds\": %lld"
			    ", \"first_answer_p90_seconds\": %lld", m, n);
		else
			fputs(", \"first_answer_median_seconds\": null, "
			    "\"first_answer_p90_seconds\": null", f->out);
		fputs(", \"months\": [", f->out);
		for (i = 0; i < s->ncells; i++) {
			fprintf(f->out, "%s\n  {\"month\": \"%s\", "
			    "\"category\": ", i ? "," : "", s->cells[i].month);
			casefmt_json_string(f->out, s->cells[i].category);
			fprintf(f->out, ", \"cases\": %lld}",
			    s->cells[i].cases);
		}
		fputs(s->ncells ? "\n]}\n" : "]}\n", f->out);
		return casefmt_done(f);
	}
	casefmt_time(from, sizeof(from), since, 0);
	fprintf(f->out, "cases opened%s%s: %lld (open %lld, overdue %lld, "
	    "closed %lld)\n", since ? " since " : "", since ? from : "",
	    s->cases, s->open, s->overdue, s->closed);
	if (m >= 0) {
		casefmt_duration(med, sizeof(med), m);
		casefmt_duration(p90, sizeof(p90), n);
		fprintf(f->out, "time to the first answer: median %s, 90th "
		    "percentile %s (%zu answered)\n", med, p90, s->nanswer);
	} else
		fputs("time to the first answer: none answered yet\n",
		    f->out);
	if (s->ncells > 0)
		fprintf(f->out, "\n%-8s  %-20s  %6s\n", "MONTH", "CATEGORY",
		    "CASES");
	for (i = 0; i < s->ncells; i++) {
		casefmt_clean(from, sizeof(from), s->cells[i].category[0] ?
		    s->cells[i].category : "-", 20);
		fprintf(f->out, "%-8s  %-*s  %6lld\n", s->cells[i].month,
		    20 + (int)(strlen(from) - utf8_width(from, strlen(from))),
		    from, s->cells[i].cases);
	}
	return casefmt_done(f);
}

/*
 * a subject access export
 */

int
casefmt_export_begin(struct casefmt *f, const char *addr, long long now)
{
	int first = 1;

	f->part = NULL;
	f->n = 0;
	fputs("{", f->out);
	json_text(f->out, "address", addr, &first);
	json_time(f->out, "exported", now, &first);
	return casefmt_done(f);
}

int
casefmt_export_row(struct casefmt *f, const struct db_export_row *r)
{
	int i, first = 1;

	static const char *const times[] = { "time", "opened",
	    "waiting_since", "first_answer", "answered", "closed", "purged",
	    "last", "created", "expires" };
	char t[40];
	size_t k;

	json_part(f, r->table);
	fputs("{", f->out);
	for (i = 0; i < r->n; i++) {
		json_key(f->out, r->names[i], &first);
		/* times as people read them, in the person's own export */
		for (k = 0; r->values[i] != NULL && r->isint[i] &&
		    k < sizeof(times) / sizeof(times[0]); k++)
			if (strcmp(r->names[i], times[k]) == 0)
				break;
		if (r->values[i] != NULL && r->isint[i] &&
		    k < sizeof(times) / sizeof(times[0])) {
			casefmt_time(t, sizeof(t), strtoll(r->values[i], NULL,
			    10), 1);
			casefmt_json_string(f->out, t);
		} else if (r->values[i] != NULL && r->isint[i])
			fputs(r->values[i], f->out);
		else
			casefmt_json_string(f->out, r->values[i]);
	}
	fputs("}", f->out);
	f->n++;
	return casefmt_done(f);
}

int
casefmt_export_end(struct casefmt *f)
{
	fputs(f->part ? "\n ]\n}\n" : "\n}\n", f->out);
	f->part = NULL;
	return casefmt_done(f);
}

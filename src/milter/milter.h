/* libmilter callbacks and per-message state */
#ifndef MILTER_H
#define MILTER_H

struct db;

/* register the filter with libmilter */
int	milter_register(void);
/* where enquiries are kept; set before smfi_main */
void	milter_set_db(struct db *);

#endif

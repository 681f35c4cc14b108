/* the values of enquiry-milter's options, shared by the option tables of
 * conf_milter.c and conf_mlist.c: pure conversions (durations, octal
 * modes, host:port) that the unit tests drive directly, and the libconfuse
 * validators built on them.
 *
 * return contract: conf_value_duration returns the seconds, the other
 * conversions 0 with the value; all -1 when the text is malformed. a
 * validator returns 0, or -1 after cfg_error has said "option: problem" */
#ifndef CONF_VALUE_H
#define CONF_VALUE_H

#include <sys/types.h>

#include <confuse.h>
#include <stddef.h>

/* "7d", "12h", "30m", "45s", "2w", "90": seconds, -1 if malformed */
long long conf_value_duration(const char *);
/* a retention period: "90d", "3w", "6m" (months), "2y"; "0" or "never"
 * is none (count 0, unit 0). 0, or -1 if malformed */
int	conf_value_period(const char *, int *count, char *unit);
/* the time count units (of conf_value_period) before now, months and
 * years by the local calendar (a day that month lacks is its last) */
long long conf_value_period_before(long long now, int count, char unit);
/* "07:30": minutes after midnight, -1 if malformed */
int	conf_value_clock(const char *);
/* "0660": an octal mode of at most 0777 */
int	conf_value_mode(const char *, mode_t *);
/* "host:port" or "[v6]:port", port 1 to 65535 */
int	conf_value_hostport(const char *, char *host, size_t hostsz,
	    int *port);

/* a copy of an option's string for the converted config: NULL (unset)
 * becomes "", lower folds ascii letters to lower case (addresses, host
 * names); NULL only when out of memory, which the caller reports */
char	*conf_value_strdup(const char *, int lower);
/* the most recent value of a string option, or NULL */
const char *conf_value_last(cfg_opt_t *);
int	conf_value_v_duration(cfg_t *, cfg_opt_t *);
/* every value an envelope address (an empty single value is unset) */
int	conf_value_v_envaddr(cfg_t *, cfg_opt_t *);
/* a file that can be opened for reading (an empty value is unset): checked
 * while the option's line is known, since libconfuse keeps no line for an
 * option and a block's line is the one it ends on. what the file holds is
 * checked later, when it is loaded */
int	conf_value_v_readable(cfg_t *, cfg_opt_t *);

#endif

/* dropping root for good, the same way in every program: the groups, then
 * the group id, then the user id, then a check that root cannot come back.
 *
 * priv_drop returns 0, or -1 with errno: that of initgroups, setgroups,
 * setresgid or setresuid, or EPERM when root could still be regained
 * afterwards (setuid(0) succeeds, or an effective id is still 0) */
#ifndef PRIV_H
#define PRIV_H

#include <sys/types.h>

/* which supplementary groups the process keeps */
enum priv_groups {
	PRIV_GROUP_PRIMARY,	/* gid alone (setgroups) */
	PRIV_GROUPS_USER	/* the user's own, from the group file
				 * (initgroups) */
};

int	priv_drop(const char *user, uid_t uid, gid_t gid, enum priv_groups);

#endif

/* dropping root for good: see priv.h */
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <unistd.h>

#include "priv.h"

int
priv_drop(const char *user, uid_t uid, gid_t gid, enum priv_groups groups)
{
	/* 1. the groups first, while setgroups is still allowed: never
	 * root's */
	if (groups == PRIV_GROUPS_USER) {
		if (initgroups(user, gid) == -1)
			return -1;
	} else if (setgroups(1, &gid) == -1)
		return -1;
	/* 2. the group, then the user, real, effective and saved alike */
	if (setresgid(gid, gid, gid) == -1 || setresuid(uid, uid, uid) == -1)
		return -1;
	/* 3. the way back must be closed */
	if (setuid(0) != -1 || geteuid() == 0 || getegid() == 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* priv_drop, run as root in child processes: the ids it leaves, the
 * groups it keeps, and that root does not come back */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "priv.h"

/* in a child: drop, then report what is left as an exit status bit set */
#define LEFT_UID	1	/* real, effective or saved uid not the user's */
#define LEFT_GID	2
#define LEFT_ROOT	4	/* setuid(0) worked */
#define LEFT_GROUPS	8	/* supplementary groups not as asked */
#define LEFT_FAILED	16	/* priv_drop returned -1 */

static int
drop_in_child(const struct passwd *pw, enum priv_groups groups)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, list[64];
	int n, left = 0, status;
	pid_t pid;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (priv_drop(pw->pw_name, pw->pw_uid, pw->pw_gid, groups)
		    == -1)
			_exit(LEFT_FAILED);
		getresuid(&ru, &eu, &su);
		getresgid(&rg, &eg, &sg);
		if (ru != pw->pw_uid || eu != pw->pw_uid || su != pw->pw_uid)
			left |= LEFT_UID;
		if (rg != pw->pw_gid || eg != pw->pw_gid || sg != pw->pw_gid)
			left |= LEFT_GID;
		if (setuid(0) == 0)
			left |= LEFT_ROOT;
		n = getgroups(64, list);
		/* nobody belongs to nogroup alone, so both ways give one
		 * group, and never root's 0 */
		if (n != 1 || list[0] != pw->pw_gid)
			left |= LEFT_GROUPS;
		_exit(left);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int
main(void)
{
	struct passwd *pw, copy;
	int left;

	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL) {
		printf("skip - priv_drop needs root and the user nobody\n");
		return 0;
	}
	copy = *pw;
	left = drop_in_child(&copy, PRIV_GROUP_PRIMARY);
	CHECK(left == 0, "primary group only: uid, gid and groups are "
	    "nobody's, root cannot return (left %d)", left);
	left = drop_in_child(&copy, PRIV_GROUPS_USER);
	CHECK(left == 0, "the user's groups: the same, root's group 0 gone "
	    "(left %d)", left);

	/* dropping "to" root is refused: the way back stays open */
	if (fork() == 0)
		_exit(priv_drop("root", 0, 0, PRIV_GROUP_PRIMARY) == -1 &&
		    errno == EPERM ? 0 : 1);
	{
		int status;

		CHECK(wait(&status) != -1 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0, "to uid 0: -1 with EPERM");
	}
	return UNIT_DONE();
}

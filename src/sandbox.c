/* privilege drop and landlock, one function per role */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <linux/landlock.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

/* debian 12's headers predate landlock abi 3 */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)
#endif

int
sandbox_user(const char *user, uid_t *uid, gid_t *gid, char *err,
    size_t errsz)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errsz, "user \"%s\" does not exist: create it "
		    "(useradd --system --no-create-home %s) or set another "
		    "user", user, user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errsz, "user \"%s\" is root: refusing to serve "
		    "as root", user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int
sandbox_drop(const char *user, uid_t uid, gid_t gid)
{
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		log_warn("cannot drop privileges to %s", user);
		return -1;
	}
	/* the way back must be closed */
	if (setuid(0) != -1 || geteuid() == 0 || getegid() == 0) {
		log_warnx("privileges were not dropped");
		return -1;
	}
	return 0;
}

static int
sandbox_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	return v < 0 ? 0 : (int)v;
}

static int
sandbox_rule(int ruleset, int fd, __u64 rights)
{
	struct landlock_path_beneath_attr pb;

	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = rights;
	pb.parent_fd = fd;
	return (int)syscall(SYS_landlock_add_rule, ruleset,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
}

int
sandbox_restrict(const int *readfds, size_t nread, const int *writefds,
    size_t nwrite)
{
	struct landlock_ruleset_attr attr;
	__u64 all, rd, wr;
	int abi, ruleset;
	size_t i;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_warn("no_new_privs");
		return -1;
	}
	if ((abi = sandbox_landlock_abi()) < 1) {
		log_info("landlock is not available on this kernel: running "
		    "with privilege drop and no_new_privs only");
		return 0;
	}
	all = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	rd = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	wr = rd | LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    (abi >= 2 ? LANDLOCK_ACCESS_FS_REFER : 0) |
	    (abi >= 3 ? LANDLOCK_ACCESS_FS_TRUNCATE : 0);

	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = all;
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof(attr), 0);
	if (ruleset == -1) {
		log_warn("landlock_create_ruleset");
		return -1;
	}
	for (i = 0; i < nread; i++)
		if (sandbox_rule(ruleset, readfds[i], rd) == -1)
			goto fail;
	for (i = 0; i < nwrite; i++)
		if (sandbox_rule(ruleset, writefds[i], wr) == -1)
			goto fail;
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) == -1)
		goto fail;
	close(ruleset);
	return 1;
fail:
	log_warn("landlock");
	close(ruleset);
	return -1;
}

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

/* a sanitized build (make SANITIZE=1) writes its reports to the file
 * log_path names; landlock would forbid opening it later */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZED 1
#endif
#endif
#ifdef SANDBOX_SANITIZED
#include <fcntl.h>
#include <sanitizer/common_interface_defs.h>
#endif

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

/* sanitized builds only: let the sanitizer open its report file and
 * read what it needs while it still can, and return a descriptor of
 * /proc/self to allow reading, which the leak checker needs at exit (it
 * lists the threads); -1 otherwise */
static int
sandbox_sanitizer(void)
{
#ifdef SANDBOX_SANITIZED
	__sanitizer_sandbox_arguments args;
	const char *path;
	int fd;

	memset(&args, 0, sizeof(args));
	__sanitizer_sandbox_on_notify(&args);
	/* log_path + "." + pid, or null for stderr */
	path = __sanitizer_get_report_path();
	if (path != NULL && strcmp(path, "stderr") != 0 &&
	    strcmp(path, "stdout") != 0 && (fd = open(path,
	    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) != -1)
		__sanitizer_set_report_fd((void *)(long)fd);
	return open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
#else
	return -1;
#endif
}

int
sandbox_restrict(const int *readfds, size_t nread, const int *writefds,
    size_t nwrite)
{
	struct landlock_ruleset_attr attr;
	__u64 all, rd, wr;
	int abi, ruleset, procfd;
	size_t i;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_warn("no_new_privs");
		return -1;
	}
	procfd = sandbox_sanitizer();
	if ((abi = sandbox_landlock_abi()) < 1) {
		log_info("landlock is not available on this kernel: running "
		    "with privilege drop and no_new_privs only");
		if (procfd != -1)
			close(procfd);
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
		if (procfd != -1)
			close(procfd);
		return -1;
	}
	for (i = 0; i < nread; i++)
		if (sandbox_rule(ruleset, readfds[i], rd) == -1)
			goto fail;
	for (i = 0; i < nwrite; i++)
		if (sandbox_rule(ruleset, writefds[i], wr) == -1)
			goto fail;
	if (procfd != -1 && sandbox_rule(ruleset, procfd, rd) == -1)
		goto fail;
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) == -1)
		goto fail;
	close(ruleset);
	if (procfd != -1)
		close(procfd);
	log_info("landlock abi %d in force: reading beneath %zu "
	    "director%s, writing beneath %zu", abi, nread,
	    nread == 1 ? "y" : "ies", nwrite);
	return 1;
fail:
	log_warn("landlock");
	close(ruleset);
	if (procfd != -1)
		close(procfd);
	return -1;
}

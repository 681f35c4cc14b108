/* privilege drop, landlock and seccomp, one function per role */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <sched.h>
#include <stddef.h>
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

#if defined(__x86_64__)
#define SANDBOX_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_ARCH	AUDIT_ARCH_AARCH64
#endif

#ifdef SANDBOX_ARCH
/*
 * system calls a worker never makes: each fails with EPERM. a deny list,
 * not an allow list, so that a new libc, TLS library or sanitizer runtime that
 * calls something new still works; what is here no gemini worker needs,
 * and much of it is kernel attack surface open to unprivileged processes.
 */
static const int sandbox_denied[] = {
	SYS_execve, SYS_execveat,		/* no programs */
	SYS_unshare, SYS_setns,			/* no namespaces */
	SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot,
	SYS_bind, SYS_listen,			/* listeners are inherited */
#ifndef SANDBOX_SANITIZED
	/* the leak checker attaches to the worker's own threads at exit */
	SYS_ptrace,
#endif
	SYS_process_vm_readv, SYS_process_vm_writev,
	SYS_bpf, SYS_perf_event_open, SYS_userfaultfd,
	SYS_keyctl, SYS_add_key, SYS_request_key,
	SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register,
	SYS_open_by_handle_at, SYS_name_to_handle_at, SYS_fanotify_init,
	SYS_init_module, SYS_finit_module, SYS_delete_module,
	SYS_kexec_load, SYS_kexec_file_load, SYS_reboot,
	SYS_swapon, SYS_swapoff, SYS_acct, SYS_quotactl, SYS_syslog,
	SYS_personality, SYS_settimeofday, SYS_clock_settime,
	SYS_clock_adjtime, SYS_adjtimex,
};

#define SANDBOX_CLONE_NS	(CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID | \
	CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP)
#define SANDBOX_NR	offsetof(struct seccomp_data, nr)
#define SANDBOX_ARG0	offsetof(struct seccomp_data, args[0])	/* low half */
#define SANDBOX_EPERM	(SECCOMP_RET_ERRNO | EPERM)
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

/*
 * the seccomp filter: foreign system call conventions kill the worker; the
 * denied calls, sockets other than AF_UNIX (syslog reconnects) and clone
 * into new namespaces fail with EPERM; clone3, whose flags a filter cannot
 * read, says ENOSYS so libc falls back to clone. 1 when in force, 0 when
 * the kernel has no seccomp (logged), -1 on error
 */
static int
sandbox_seccomp(void)
{
#ifdef SANDBOX_ARCH
	struct sock_filter prog[2 * sizeof(sandbox_denied) /
	    sizeof(sandbox_denied[0]) + 24];
	struct sock_fprog fprog;
	size_t i, n = 0;

#define EMIT(ins)	prog[n++] = (struct sock_filter)ins
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch)));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1, 0));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SANDBOX_NR));
#ifdef __x86_64__
	/* x32 numbers share the x86_64 arch value */
	EMIT(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
#endif
	for (i = 0; i < sizeof(sandbox_denied) / sizeof(sandbox_denied[0]);
	    i++) {
		EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    (unsigned)sandbox_denied[i], 0, 1));
		EMIT(BPF_STMT(BPF_RET | BPF_K, SANDBOX_EPERM));
	}
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 4));
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SANDBOX_ARG0));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 0, 1));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SANDBOX_EPERM));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 4));
	EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SANDBOX_ARG0));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, SANDBOX_CLONE_NS, 0, 1));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SANDBOX_EPERM));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
#undef EMIT

	fprog.len = (unsigned short)n;
	fprog.filter = prog;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) == -1) {
		if (errno == EINVAL) {
			log_info("seccomp is not available on this kernel: "
			    "running without a system call filter");
			return 0;
		}
		log_warn("seccomp");
		return -1;
	}
	log_info("seccomp filter in force: %zu system calls refused",
	    sizeof(sandbox_denied) / sizeof(sandbox_denied[0]) + 3);
	return 1;
#else
	log_info("no seccomp filter for this architecture");
	return 0;
#endif
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
		return sandbox_seccomp() == -1 ? -1 : 0;
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
	return sandbox_seccomp() == -1 ? -1 : 1;
fail:
	log_warn("landlock");
	close(ruleset);
	if (procfd != -1)
		close(procfd);
	return -1;
}

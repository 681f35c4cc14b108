/* enquiry-milter: acknowledge every enquiry once, route it, lose nothing.
 * usage: enquiry-milter [-fhnV] [-c file] [-p socket] [-l [N]] */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ack.h"
#include "ackmac.h"
#include "conf_milter.h"
#include "daily.h"
#include "db.h"
#include "log.h"
#include "milter.h"
#include "list_mail.h"
#include "milter_list.h"
#include "milter_proto.h"
#include "priv.h"
#include "spool.h"
#include "submit.h"

static void
usage(int status)
{
	fprintf(status ? stderr : stdout, "usage: enquiry-milter [-fhnV] "
	    "[-c file] [-p socket] [-l [N]]\n");
	exit(status);
}


/* SIGUSR1 reloads: libmilter owns HUP, TERM and INT */
static void *
reload_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			struct milter_conf *c;
			int i;

			/* the log file first, for logrotate, then the
			 * configuration, which may name another one */
			for (i = 0; i < 2; i++) {
				c = conf_milter_get();
				if (log_file_open(c->log_file) == -1)
					log_warn("log-file %s", c->log_file);
				else if (i == 0 && c->log_file != NULL)
					log_info("log file %s reopened",
					    c->log_file);
				conf_milter_put(c);
				if (i == 0)
					conf_milter_reload();
			}
			/* digest-time may have moved */
			daily_wake();
		}
	}
	return NULL;
}

/* the store: database, or the sqlite file in state-dir */
static int
db_path(const struct milter_conf *c, char *buf, size_t bufsz)
{
	int n;

	if (c->database[0])
		n = snprintf(buf, bufsz, "%s", c->database);
	else
		n = snprintf(buf, bufsz, "%s/enquiries.db", c->state_dir);
	return n < 0 || (size_t)n >= bufsz ? -1 : 0;
}

/* the listing's rows, kept until every width is known: a column is as
 * wide as its widest value (an AUTO-REF-2026-000001 marker is longer than
 * a case reference) */
enum { LIST_REF, LIST_KIND, LIST_TIME, LIST_SENDER, LIST_CATEGORY,
    LIST_SUBJECT, LIST_NCOLS };

struct list_rows {
	char	**cell;		/* nrows * LIST_NCOLS */
	size_t	  nrows, cap;
	int	  width[LIST_NCOLS];
	int	  failed;
};

static void
list_one(const struct db_enquiry *e, void *arg)
{
	struct list_rows *lr = arg;
	char when[32], subj[160];
	const char *v[LIST_NCOLS];
	time_t t = (time_t)e->time;
	struct tm tm;
	char **n;
	size_t i, len;

	if (lr->failed)
		return;
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	log_escape(subj, sizeof(subj), e->subject ? e->subject : "",
	    e->subject ? strlen(e->subject) : 0);
	/* automatic mail opens no case: marked so, beside follow-ups */
	v[LIST_REF] = e->reference;
	v[LIST_KIND] = e->kind ? e->kind : "-";
	v[LIST_TIME] = when;
	v[LIST_SENDER] = e->sender && e->sender[0] ? e->sender : "<>";
	v[LIST_CATEGORY] = e->category ? e->category : "";
	v[LIST_SUBJECT] = subj;
	if (lr->nrows == lr->cap) {
		lr->cap = lr->cap ? lr->cap * 2 : 64;
		if ((n = reallocarray(lr->cell, lr->cap, LIST_NCOLS *
		    sizeof(char *))) == NULL) {
			lr->failed = 1;
			return;
		}
		lr->cell = n;
	}
	n = lr->cell + lr->nrows * LIST_NCOLS;
	for (i = 0; i < LIST_NCOLS; i++) {
		if ((n[i] = strdup(v[i])) == NULL) {
			while (i-- > 0)
				free(n[i]);
			lr->failed = 1;
			return;
		}
		len = strlen(n[i]);
		if (len > (size_t)lr->width[i])
			lr->width[i] = len > 1024 ? 1024 : (int)len;
	}
	lr->nrows++;
}

static void
list_print(const struct list_rows *lr, char *const *row)
{
	printf("%-*s  %-*s  %-*s  %-*s  %-*s  %s\n",
	    lr->width[LIST_REF], row[LIST_REF],
	    lr->width[LIST_KIND], row[LIST_KIND],
	    lr->width[LIST_TIME], row[LIST_TIME],
	    lr->width[LIST_SENDER], row[LIST_SENDER],
	    lr->width[LIST_CATEGORY], row[LIST_CATEGORY], row[LIST_SUBJECT]);
}

static void
list_rows_free(struct list_rows *lr)
{
	size_t i;

	for (i = 0; i < lr->nrows * LIST_NCOLS; i++)
		free(lr->cell[i]);
	free(lr->cell);
}

static int
list_enquiries(struct milter_conf *c, int n)
{
	static char *const header[LIST_NCOLS] = { "REFERENCE", "KIND",
	    "TIME", "SENDER", "CATEGORY", "SUBJECT" };
	/* at least the widths a case reference, a kind and a date take */
	struct list_rows lr = { .width = { 16, 9, 16, 32, 10, 0 } };
	char path[4096], err[512];
	struct passwd *pw;
	struct db *db;
	size_t i;

	if (db_path(c, path, sizeof(path)) == -1 || (!db_is_url(path) &&
	    access(path, F_OK) == -1)) {
		fprintf(stderr, "enquiry-milter: %s: no enquiries yet\n",
		    c->state_dir);
		return 1;
	}
	/* as root, read as the milter's user, so no file the daemon needs
	 * ends up owned by root */
	if (geteuid() == 0) {
		if ((pw = getpwnam(c->user)) == NULL) {
			fprintf(stderr, "enquiry-milter: user \"%s\" does not "
			    "exist: not reading the database as root\n",
			    c->user);
			return 1;
		}
		/* its groups only: not root's */
		if (priv_drop(pw->pw_name, pw->pw_uid, pw->pw_gid,
		    PRIV_GROUPS_USER) == -1) {
			fprintf(stderr, "enquiry-milter: cannot become %s: "
			    "%s\n", c->user, strerror(errno));
			return 1;
		}
	}
	if ((db = db_open(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "enquiry-milter: %s\n", err);
		return 1;
	}
	if (db_list(db, n, list_one, &lr) == -1) {
		fprintf(stderr, "enquiry-milter: %s\n", db_errmsg(db));
		list_rows_free(&lr);
		db_close(db);
		return 1;
	}
	db_close(db);
	if (lr.failed) {
		fprintf(stderr, "enquiry-milter: out of memory\n");
		list_rows_free(&lr);
		return 1;
	}
	list_print(&lr, header);
	for (i = 0; i < lr.nrows; i++)
		list_print(&lr, lr.cell + i * LIST_NCOLS);
	list_rows_free(&lr);
	return 0;
}

/* the unix socket path of a libmilter address, or NULL */
static const char *
socket_path(const char *conn)
{
	if (strncmp(conn, "unix:", 5) == 0)
		return conn + 5;
	if (strncmp(conn, "local:", 6) == 0)
		return conn + 6;
	if (conn[0] == '/')
		return conn;
	return NULL;
}

/*
 * one thing under state-dir (dfd), as start-up finds it: never a link,
 * writable by nobody but its owner, owned by root or the milter's user
 * (uid), and then handed to that user (when pw is set: started as root).
 * opened without following links and changed through the descriptor, so
 * whoever could replace it with a link to something of root's gains
 * nothing. an entry that does not exist yet is fine: the milter creates
 * it as its user. dir: it must be a directory, else a regular file with
 * one link
 */
static void
prepare_one(int dfd, const char *show, const char *name, int dir,
    uid_t uid, const struct passwd *pw)
{
	struct stat st;
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC | (dir ? O_DIRECTORY : 0))) == -1) {
		if (errno == ENOENT)
			return;
		/* O_DIRECTORY on a link says ENOTDIR: ask what it is */
		if (errno == ELOOP || (fstatat(dfd, name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)))
			fatalx("%s is a symbolic link: refusing to start",
			    show);
		if (errno == ENOTDIR)
			fatalx("%s is not a directory: refusing to start",
			    show);
		fatal("%s", show);
	}
	if (fstat(fd, &st) == -1)
		fatal("%s", show);
	if (!dir && !S_ISREG(st.st_mode))
		fatalx("%s is not a regular file: refusing to start", show);
	if (!dir && st.st_nlink != 1)
		fatalx("%s has %lu hard links: refusing to start", show,
		    (unsigned long)st.st_nlink);
	if (st.st_uid != 0 && st.st_uid != uid)
		fatalx("%s belongs to uid %lu, not to %s or root: refusing "
		    "to start", show, (unsigned long)st.st_uid,
		    pw ? pw->pw_name : "the milter's user");
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		fatalx("%s is writable by %s (mode %04o): refusing to start",
		    show, st.st_mode & S_IWOTH ? "everyone" : "its group",
		    (unsigned)(st.st_mode & 07777));
	if (pw && fchown(fd, pw->pw_uid, pw->pw_gid) == -1)
		fatal("chown %s", show);
	close(fd);
}

/* state-dir exists, and it, the spool directories and the database
 * belong to the user we will run as and to nobody else */
static void
prepare_state(struct milter_conf *c, const struct passwd *pw)
{
	static const struct {
		const char	*name;
		int		 dir;
	} sub[] = { { "spool", 1 }, { "spool/tmp", 1 }, { "spool/new", 1 },
	    { "spool/failed", 1 }, { "spool/free", 1 },
	    { "enquiries.db", 0 }, { "enquiries.db-wal", 0 },
	    { "enquiries.db-shm", 0 } };
	char show[4096], *slash;
	uid_t uid = pw ? pw->pw_uid : geteuid();
	size_t i;
	int dfd, pfd;

	if (mkdir(c->state_dir, 0750) == -1 && errno != EEXIST)
		fatal("mkdir %s", c->state_dir);
	prepare_one(AT_FDCWD, c->state_dir, c->state_dir, 1, uid, pw);
	if ((dfd = open(c->state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		fatal("%s", c->state_dir);
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		if (snprintf(show, sizeof(show), "%s/%s", c->state_dir,
		    sub[i].name) >= (int)sizeof(show))
			fatalx("state-dir path too long");
		/* spool/x relative to spool, itself opened without links */
		pfd = dfd;
		if ((slash = strchr(sub[i].name, '/')) != NULL &&
		    (pfd = openat(dfd, "spool", O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1)
			continue;	/* no spool yet */
		prepare_one(pfd, show, slash ? slash + 1 : sub[i].name,
		    sub[i].dir, uid, pw);
		if (pfd != dfd)
			close(pfd);
	}
	close(dfd);
}

/* the socket libmilter made, handed to the user and group, with its
 * mode: reached without following a link (the socket's directory may be
 * writable by the milter's user, who could put one there) */
static void
prepare_socket(const char *spath, uid_t uid, gid_t gid, mode_t mode)
{
	char proc[64];
	struct stat st;
	int fd;

	if ((fd = open(spath, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1)
		fatal("%s", spath);
	if (fstat(fd, &st) == -1)
		fatal("%s", spath);
	if (!S_ISSOCK(st.st_mode))
		fatalx("%s is not a socket (a link?): refusing to start",
		    spath);
	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) == -1)
		fatal("chown %s", spath);
	/* an O_PATH descriptor takes no fchmod; its /proc name leads to
	 * the socket itself */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (chmod(proc, mode) == -1)
		fatal("chmod %s", spath);
	close(fd);
}

/* -n: what start-up would refuse, found before it (1), and what would
 * start but surprise (a warning) */
static int
check_start(const struct milter_conf *c)
{
	int rc = 0;

	if (getpwnam(c->user) == NULL) {
		fprintf(stderr, "%s: user \"%s\" does not exist (create it, "
		    "or set user)\n", c->path, c->user);
		rc = 1;
	}
	if (c->socket_group[0] && getgrnam(c->socket_group) == NULL) {
		fprintf(stderr, "%s: socket-group \"%s\" does not exist\n",
		    c->path, c->socket_group);
		rc = 1;
	}
	if (c->hostname_guessed)
		fprintf(stderr, "%s: warning: hostname is empty: Message-IDs "
		    "will end in \"@%s\", this machine's name%s\n", c->path,
		    c->hostname, strchr(c->hostname, '.') ? "" : ", which is "
		    "not a domain name: set hostname");
	return rc;
}

int
main(int argc, char *argv[])
{
	const char *conffile = NULL, *sock = NULL, *spath;
	int ch, foreground = 0, check = 0, list = 0, nlist = 20;
	struct milter_conf *c;
	struct passwd *pw = NULL;
	struct group *gr;
	pthread_t tid;
	sigset_t set;
	char err[1024], path[4096];
	struct db *db;
	int rc;

	while ((ch = getopt(argc, argv, "c:fhnlp:V")) != -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'h':
			usage(0);
			break;
		case 'n':
			check = 1;
			break;
		case 'l':
			list = 1;
			/* an optional count follows: -l 5 */
			if (optind < argc && argv[optind][0] != '-') {
				char *end;
				long v;

				errno = 0;
				v = strtol(argv[optind], &end, 10);
				if (!isdigit((unsigned char)argv[optind][0]) ||
				    *end != '\0' || errno || v < 1 ||
				    v > 1000000) {
					fprintf(stderr, "enquiry-milter: -l "
					    "%s: the count must be a number "
					    "from 1 to 1000000\n",
					    argv[optind]);
					usage(2);
				}
				nlist = (int)v;
				optind++;
			}
			break;
		case 'p':
			sock = optarg;
			break;
		case 'V':
			printf("enquiry-milter %s\n", VERSION);
			return 0;
		default:
			usage(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "enquiry-milter: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(2);
	}
	if (conffile == NULL)
		conffile = conf_milter_default_path();

	log_init("enquiry-milter", foreground || check || list);
	if ((c = conf_milter_load(conffile, err, sizeof(err))) == NULL) {
		if (check || list || foreground)
			fprintf(stderr, "%s\n", err);
		else
			log_warnx("%s", err);
		return 1;
	}
	if (check) {
		rc = check_start(c);
		if (rc == 0)
			printf("%s: configuration ok\n", conffile);
		conf_milter_free(c);
		return rc;
	}
	if (list) {
		rc = list_enquiries(c, nlist);
		conf_milter_free(c);
		return rc;
	}
	log_setlevel(c->log_level);
	if (sock == NULL)
		sock = c->socket;

	/* 1. every thread inherits these blocked: libmilter's own thread
	 * sigwaits for HUP, TERM and INT (they stop the filter), ours for
	 * USR1 (reload) */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);

	/* 2. the socket, while still root; a stale one is removed */
	if (smfi_setconn((char *)sock) != MI_SUCCESS)
		fatalx("bad socket \"%s\"", sock);
	if (milter_register() == -1)
		fatalx("smfi_register failed");
	if (geteuid() == 0) {
		if ((pw = getpwnam(c->user)) == NULL)
			fatalx("user \"%s\" does not exist", c->user);
		if ((pw = malloc(sizeof(*pw))) == NULL)
			fatal("malloc");
		*pw = *getpwnam(c->user);
	}
	/* 3. the state, checked before anything listens */
	prepare_state(c, pw);
	if (smfi_opensocket(true) != MI_SUCCESS)
		fatalx("cannot open socket %s", sock);
	if ((spath = socket_path(sock)) != NULL) {
		gid_t gid = pw ? pw->pw_gid : (gid_t)-1;

		if (c->socket_group[0]) {
			if ((gr = getgrnam(c->socket_group)) == NULL)
				fatalx("socket-group \"%s\" does not exist",
				    c->socket_group);
			gid = gr->gr_gid;
		}
		prepare_socket(spath, pw ? pw->pw_uid : (uid_t)-1, gid,
		    c->socket_mode);
	}

	/* 4. no more root */
	if (pw) {
		if (priv_drop(pw->pw_name, pw->pw_uid, pw->pw_gid,
		    PRIV_GROUPS_USER) == -1)
			fatal("cannot drop privileges to %s", pw->pw_name);
		log_info("running as %s", c->user);
		free(pw);
	}
	if (!foreground && daemon(1, 0) == -1)
		fatal("daemon");
	/* opened as the user it runs as, who must be able to reopen it */
	if (c->log_file != NULL && log_file_open(c->log_file) == -1)
		fatal("log-file %s", c->log_file);

	if (db_path(c, path, sizeof(path)) == -1)
		fatalx("state-dir path too long");
	if ((db = db_open_pool(path, c->db_connections, c->db_timeout, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	if (submit_init(err, sizeof(err)) == -1 ||
	    spool_open(c->state_dir, ack_committed, db, err, sizeof(err)) ==
	    -1)
		fatalx("%s", err);
	/* made once as the user it runs as: what marks our own acks */
	if (ackmac_init(c->state_dir, err, sizeof(err)) == -1)
		fatalx("%s", err);
	milter_set_db(db);
	list_mail_set_db(db);
	conf_milter_set(c);
	if (milter_proto_thread_stacks() == -1)
		log_debug("default thread stack size unchanged");
	if (submit_start() == -1)
		fatal("submit worker");
	if (daily_start(db) == -1)
		fatal("daily thread");
	if ((rc = pthread_create(&tid, NULL, reload_thread, &set)) != 0) {
		errno = rc;
		fatal("reload thread");
	}
	pthread_detach(tid);
	log_info("enquiry-milter %s listening on %s", VERSION, sock);

	rc = smfi_main();

	log_info("stopping");
	daily_stop();
	submit_stop();
	spool_close();
	submit_cleanup();
	db_close(db);
	conf_milter_set(NULL);
	return rc == MI_SUCCESS ? 0 : 1;
}

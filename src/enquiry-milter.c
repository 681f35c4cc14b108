/* enquiry-milter: acknowledge every enquiry once, route it, lose nothing.
 * usage: enquiry-milter [-fnV] [-c file] [-p socket] [-l [N]] */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
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
#include "db.h"
#include "log.h"
#include "milter.h"
#include "milter_proto.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

static void
usage(void)
{
	fprintf(stderr, "usage: enquiry-milter [-fnV] [-c file] [-p socket] "
	    "[-l [N]]\n");
	exit(2);
}

static const char *
default_config(void)
{
	/* in the source tree the bundled config, once installed /etc */
	if (access("etc/enquiry-milter.conf", R_OK) == 0)
		return "etc/enquiry-milter.conf";
	return SYSCONFDIR "/enquiry-milter.conf";
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
		}
	}
	return NULL;
}

static int
db_path(const struct milter_conf *c, char *buf, size_t bufsz)
{
	int n = snprintf(buf, bufsz, "%s/enquiries.db", c->state_dir);

	return n < 0 || (size_t)n >= bufsz ? -1 : 0;
}

static void
list_one(const struct db_enquiry *e, void *arg)
{
	char when[32], subj[160];
	time_t t = (time_t)e->time;
	struct tm tm;

	(void)arg;
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	log_escape(subj, sizeof(subj), e->subject ? e->subject : "",
	    e->subject ? strlen(e->subject) : 0);
	/* automatic mail opens no case: marked so, beside follow-ups */
	printf("%-16s  %-9s  %s  %-32s  %-10s  %s\n", e->reference,
	    e->kind ? e->kind : "-", when,
	    e->sender && e->sender[0] ? e->sender : "<>",
	    e->category ? e->category : "", subj);
}

static int
list_enquiries(struct milter_conf *c, int n)
{
	char path[4096], err[512];
	struct passwd *pw;
	struct db *db;

	if (db_path(c, path, sizeof(path)) == -1 || access(path, F_OK) == -1) {
		fprintf(stderr, "enquiry-milter: %s: no enquiries yet\n",
		    c->state_dir);
		return 1;
	}
	/* as root, read as the milter's user, so no file the daemon needs
	 * ends up owned by root */
	if (geteuid() == 0 && (pw = getpwnam(c->user)) != NULL &&
	    (setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1)) {
		fprintf(stderr, "enquiry-milter: cannot become %s\n", c->user);
		return 1;
	}
	if ((db = db_open(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "enquiry-milter: %s\n", err);
		return 1;
	}
	printf("%-16s  %-9s  %-16s  %-32s  %-10s  %s\n", "REFERENCE", "KIND",
	    "TIME", "SENDER", "CATEGORY", "SUBJECT");
	if (db_list(db, n, list_one, NULL) == -1) {
		fprintf(stderr, "enquiry-milter: %s\n", db_errmsg(db));
		db_close(db);
		return 1;
	}
	db_close(db);
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

static void
own_path(const char *path, uid_t uid, gid_t gid)
{
	if (chown(path, uid, gid) == -1 && errno != ENOENT)
		fatal("chown %s", path);
}

/* state-dir exists and belongs to the user we will run as */
static void
prepare_state(struct milter_conf *c, struct passwd *pw)
{
	static const char *sub[] = { "", "/spool", "/spool/tmp", "/spool/new",
	    "/spool/failed", "/enquiries.db", "/enquiries.db-wal",
	    "/enquiries.db-shm" };
	char path[4096];
	size_t i;

	if (mkdir(c->state_dir, 0750) == -1 && errno != EEXIST)
		fatal("mkdir %s", c->state_dir);
	if (pw == NULL)
		return;
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		if (snprintf(path, sizeof(path), "%s%s", c->state_dir,
		    sub[i]) >= (int)sizeof(path))
			fatalx("state-dir path too long");
		own_path(path, pw->pw_uid, pw->pw_gid);
	}
}

static void
drop_privileges(struct passwd *pw)
{
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("cannot drop privileges to %s", pw->pw_name);
	if (setuid(0) == 0)
		fatalx("still root after dropping privileges");
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

	while ((ch = getopt(argc, argv, "c:fnlp:V")) != -1) {
		switch (ch) {
		case 'c':
			conffile = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'l':
			list = 1;
			/* an optional count follows: -l 5 */
			if (optind < argc && isdigit((unsigned char)
			    argv[optind][0])) {
				char *end;
				long v = strtol(argv[optind], &end, 10);

				if (*end != '\0' || v < 1 || v > 1000000)
					usage();
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
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (conffile == NULL)
		conffile = default_config();

	log_init("enquiry-milter", foreground || check || list);
	if ((c = conf_milter_load(conffile, err, sizeof(err))) == NULL) {
		if (check || list || foreground)
			fprintf(stderr, "%s\n", err);
		else
			log_warnx("%s", err);
		return 1;
	}
	if (check) {
		printf("%s: configuration ok\n", conffile);
		conf_milter_free(c);
		return 0;
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
		if (chown(spath, pw ? pw->pw_uid : (uid_t)-1, gid) == -1)
			fatal("chown %s", spath);
		if (chmod(spath, c->socket_mode) == -1)
			fatal("chmod %s", spath);
	}

	/* 3. state, then no more root */
	prepare_state(c, pw);
	if (pw) {
		drop_privileges(pw);
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
	if ((db = db_open(path, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (ack_init(c->state_dir, db, err, sizeof(err)) == -1)
		fatalx("%s", err);
	/* made once as the user it runs as: what marks our own acks */
	if (ackmac_init(c->state_dir, err, sizeof(err)) == -1)
		fatalx("%s", err);
	milter_set_db(db);
	conf_milter_set(c);
	if (milter_proto_thread_stacks() == -1)
		log_debug("default thread stack size unchanged");
	if (ack_start() == -1)
		fatal("ack worker");
	if ((rc = pthread_create(&tid, NULL, reload_thread, &set)) != 0) {
		errno = rc;
		fatal("reload thread");
	}
	pthread_detach(tid);
	log_info("enquiry-milter %s listening on %s", VERSION, sock);

	rc = smfi_main();

	log_info("stopping");
	ack_stop();
	ack_shutdown();
	db_close(db);
	conf_milter_set(NULL);
	return rc == MI_SUCCESS ? 0 : 1;
}

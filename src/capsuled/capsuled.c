/* capsuled: a gemini server, with the same pages over gopher and finger */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "master.h"
#include "sandbox.h"
#include "server.h"
#include "tls.h"
#include "trust.h"

static void
usage(void)
{
	fprintf(stderr, "usage: capsuled [-fnV] [-c file]\n");
	exit(1);
}

/* in the source tree (build/capsuled) the tree's config; installed, the
 * system one */
static const char *
default_config(void)
{
	static char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			slash = strrchr(exe, '/');
			if (slash != NULL && strcmp(slash, "/build") == 0)
				return "etc/capsuled.conf";
		}
	}
	return SYSCONFDIR "/capsuled.conf";
}

/* the state-dir, what capsuled would read from it, and the access log,
 * trusted as a start would require (trust.h); what is missing is fine */
static int
check_trust(const struct config *conf)
{
	struct trust_owner o = { geteuid(), getegid() };
	char err[1024], path[4096], name[512];
	const char *ext[] = { ".crt", ".key" };
	size_t i, j;
	int dirfd, bad = 0;

	/* a user not made yet (install makes it) is for the start to
	 * report; until then nothing can be its own, and root's is checked */
	if (geteuid() == 0 && conf->user != NULL &&
	    sandbox_user(conf->user, &o.uid, &o.gid, err, sizeof(err)) == -1) {
		o.uid = 0;
		o.gid = 0;
	}
	if (master_log_check(conf->access_log, &o, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: access-log: %s\n", conf->path, err);
		bad = 1;
	}
	if ((dirfd = trust_opendir(conf->state_dir, &o, err, sizeof(err)))
	    == -1) {
		if (errno == ENOENT)
			return bad ? -1 : 0;
		fprintf(stderr, "%s: state-dir: %s\n", conf->path, err);
		return -1;
	}
	for (i = 0; i <= conf->nservers; i++) {
		for (j = 0; j < 2; j++) {
			/* the servers' generated pairs, then ticket.key */
			if (i < conf->nservers && conf->servers[i].cert != NULL)
				break;
			if (snprintf(name, sizeof(name), "%s%s", i <
			    conf->nservers ? conf->servers[i].name : "ticket",
			    i < conf->nservers ? ext[j] : ".key") >=
			    (int)sizeof(name) || snprintf(path, sizeof(path),
			    "%s/%s", conf->state_dir, name) >= (int)sizeof(path))
				continue;
			if (trust_checkat(dirfd, name, path, &o, err,
			    sizeof(err)) == -1 && errno != ENOENT) {
				fprintf(stderr, "%s: state-dir: %s\n",
				    conf->path, err);
				bad = 1;
			}
			if (i == conf->nservers)
				break;
		}
	}
	close(dirfd);
	return bad ? -1 : 0;
}

/* what -n checks beyond the syntax: roots and given certificates exist,
 * and the state and log files may be trusted */
static int
check_files(const struct config *conf)
{
	struct stat st;
	char note[256];
	size_t i;
	int bad = 0;

	for (i = 0; i < conf->nservers; i++) {
		const struct server_conf *sc = &conf->servers[i];

		if (stat(sc->root, &st) == -1 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "%s:%d: server \"%s\": root %s: %s\n",
			    conf->path, sc->root_line, sc->name, sc->root, errno ?
			    strerror(errno) : "not a directory");
			bad = 1;
		}
		if (sc->cert != NULL && access(sc->cert, R_OK) == -1) {
			fprintf(stderr, "%s:%d: server \"%s\": cert %s: %s\n",
			    conf->path, sc->cert_line, sc->name, sc->cert, strerror(errno));
			bad = 1;
		}
		if (sc->key != NULL && access(sc->key, R_OK) == -1) {
			fprintf(stderr, "%s:%d: server \"%s\": key %s: %s\n",
			    conf->path, sc->key_line, sc->name, sc->key, strerror(errno));
			bad = 1;
		} else if (sc->key != NULL && tls_key_note(sc->key, note,
		    sizeof(note)) == 1)
			/* a warning: the configuration still holds */
			fprintf(stderr, "%s:%d: server \"%s\": warning: key %s "
			    "is %s (see capsuled.conf(5))\n", conf->path,
			    sc->key_line, sc->name, sc->key, note);
		errno = 0;
	}
	if (check_trust(conf) == -1)
		bad = 1;
	return bad ? -1 : 0;
}

int
main(int argc, char *argv[])
{
	struct config *conf;
	struct srv *s;
	const char *confpath = NULL;
	char err[1024];
	int ch, foreground = 0, check = 0;

	while ((ch = getopt(argc, argv, "c:fnV")) != -1) {
		switch (ch) {
		case 'c':
			confpath = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("capsuled %s\n", VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (confpath == NULL)
		confpath = default_config();

	log_init("capsuled", 1);
	if (conf_load(confpath, &conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check) {
		if (check_files(conf) == -1) {
			conf_free(conf);
			return 1;
		}
		printf("%s: configuration OK\n", confpath);
		conf_free(conf);
		return 0;
	}
	log_setlevel(conf->log_level);

	if (server_prepare(conf, NULL, &s, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (master_log_check(conf->access_log, &s->owner, err, sizeof(err))
	    == -1 || server_commit(s, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (!s->drop_privs && conf->user != NULL)
		log_debug("not started as root: user \"%s\" is not needed",
		    conf->user);

	if (!foreground) {
		if (daemon(1, 0) == -1)
			fatal("daemon");
		log_init("capsuled", 0);
	}
	return master_run(confpath, s);
}

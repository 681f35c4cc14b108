/* the master process: workers, signals, reloads, the access log */
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addrcap.h"
#include "conf.h"
#include "log.h"
#include "master.h"
#include "priv.h"
#include "sandbox.h"
#include "server.h"
#include "trust.h"

#define MASTER_MAX_WORKERS	ADDRCAP_SLOTS	/* 256 */

struct master {
	struct srv	*srv;		/* the generation in force */
	int		 generation;
	pid_t		 pids[MASTER_MAX_WORKERS];
	int		 gens[MASTER_MAX_WORKERS];
	time_t		 started[MASTER_MAX_WORKERS];
	int		 logpipe[2];	/* workers -> master access log */
	int		 logfd;		/* the access log file */
	char		*logpath;
	int		 stopping;
};

/* the log's directory, opened and checked, and its name in it */
static int
master_log_dir(const char *path, const struct trust_owner *o,
    const char **base, char *err, size_t errsz)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int n;

	if (slash == NULL) {
		n = snprintf(dir, sizeof(dir), ".");
		*base = path;
	} else {
		n = snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
		*base = slash + 1;
	}
	if (n < 0 || (size_t)n >= sizeof(dir) || **base == '\0') {
		snprintf(err, errsz, "access log %s: not a file name", path);
		return -1;
	}
	/* nobody else may swap the file for a link to another one */
	return trust_opendir(dir, o, err, errsz);
}

int
master_log_check(const char *path, const struct trust_owner *o, char *err,
    size_t errsz)
{
	const char *base;
	int dirfd, rc;

	if (path == NULL)
		return 0;
	if ((dirfd = master_log_dir(path, o, &base, err, errsz)) == -1)
		return -1;
	rc = trust_checkat(dirfd, base, path, o, err, errsz);
	close(dirfd);
	return rc == -1 && errno != ENOENT ? -1 : 0;
}

static int
master_open_log(struct master *m, const char *path)
{
	const char *base;
	char err[1024];
	int fd, dirfd;

	if (path == NULL) {
		if (m->logfd != -1)
			close(m->logfd);
		m->logfd = -1;
		free(m->logpath);
		m->logpath = NULL;
		return 0;
	}
	if ((dirfd = master_log_dir(path, &m->srv->owner, &base, err,
	    sizeof(err))) == -1) {
		log_warnx("access log: %s", err);
		return -1;
	}
	fd = trust_openat(dirfd, base, path, O_WRONLY | O_APPEND | O_CREAT,
	    0640, &m->srv->owner, err, sizeof(err));
	close(dirfd);
	if (fd == -1) {
		log_warnx("access log: %s", err);
		return -1;
	}
	if (m->logfd != -1)
		close(m->logfd);
	m->logfd = fd;
	if (m->logpath == NULL || strcmp(m->logpath, path) != 0) {
		free(m->logpath);
		m->logpath = strdup(path);
	}
	return 0;
}

static void
master_worker_main(struct master *m, struct srv *s)
{
	int *roots = s->rootfds;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(0);	/* the master is already gone */
	close(m->logpipe[0]);
	if (m->logfd != -1)
		close(m->logfd);
	if (s->drop_privs && priv_drop(s->conf->user, s->uid, s->gid,
	    PRIV_GROUP_PRIMARY) == -1) {
		log_warn("cannot drop privileges to %s", s->conf->user);
		_exit(1);
	}
	if (sandbox_restrict(roots, s->nservers, NULL, 0) == -1)
		_exit(1);
	server_worker(s);
}

static int
master_spawn(struct master *m, int slot)
{
	pid_t pid;

	switch ((pid = fork())) {
	case -1:
		log_warn("fork");
		return -1;
	case 0:
		addrcap_slot(slot);
		master_worker_main(m, m->srv);
		_exit(1);
	default:
		m->pids[slot] = pid;
		m->gens[slot] = m->generation;
		m->started[slot] = time(NULL);
		return 0;
	}
}

static int
master_free_slot(struct master *m)
{
	int i;

	for (i = 0; i < MASTER_MAX_WORKERS; i++)
		if (m->pids[i] == 0)
			return i;
	return -1;
}

static void
master_start_workers(struct master *m)
{
	int i, slot;

	for (i = 0; i < m->srv->conf->workers; i++) {
		if ((slot = master_free_slot(m)) == -1) {
			log_warnx("too many worker processes");
			return;
		}
		master_spawn(m, slot);
	}
}

static void
master_signal_gen(struct master *m, int gen, int sig)
{
	int i;

	for (i = 0; i < MASTER_MAX_WORKERS; i++)
		if (m->pids[i] != 0 && (gen == -1 || m->gens[i] == gen))
			kill(m->pids[i], sig);
}

static void
master_reload(struct master *m, const char *confpath)
{
	struct config *conf;
	struct srv *ns, *os;
	char err[1024];

	/* everything is read and checked before anything is written or
	 * put in force: a rejected reload changes nothing */
	if (conf_load(confpath, &conf, err, sizeof(err)) == -1) {
		log_warnx("reload failed, keeping the running configuration: "
		    "%s", err);
		return;
	}
	if (server_prepare(conf, m->srv, &ns, err, sizeof(err)) == -1) {
		log_warnx("reload failed, keeping the running configuration: "
		    "%s", err);
		conf_free(conf);
		return;
	}
	if (master_log_check(conf->access_log, &ns->owner, err,
	    sizeof(err)) == -1 || server_commit(ns, err, sizeof(err)) == -1) {
		log_warnx("reload failed, keeping the running configuration: "
		    "%s", err);
		server_free(ns);
		return;
	}

	/* new workers first, then the old ones drain and leave */
	os = m->srv;
	m->srv = ns;
	if (master_open_log(m, conf->access_log) == -1)
		log_warnx("keeping the access log %s", m->logpath ?
		    m->logpath : "in the daemon log");
	ns->accesslog_fd = m->logfd != -1 ? m->logpipe[1] : -1;
	log_setlevel(conf->log_level);
	m->generation++;
	server_free(os);
	master_start_workers(m);
	master_signal_gen(m, m->generation - 1, SIGTERM);
	for (int g = m->generation - 2; g >= 0 && g >= m->generation - 8; g--)
		master_signal_gen(m, g, SIGTERM);
	log_info("configuration reloaded from %s", confpath);
}

static void
master_reap(struct master *m)
{
	pid_t pid;
	int status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < MASTER_MAX_WORKERS; i++)
			if (m->pids[i] == pid)
				break;
		if (i == MASTER_MAX_WORKERS)
			continue;
		m->pids[i] = 0;
		addrcap_clear(i);	/* what it held went with it */
		if (m->stopping || m->gens[i] != m->generation)
			continue;
		/* a worker of the running generation died: replace it,
		 * slowly when it dies at once */
		if (WIFSIGNALED(status))
			log_warnx("worker %d killed by signal %d", (int)pid,
			    WTERMSIG(status));
		else
			log_warnx("worker %d exited with status %d", (int)pid,
			    WEXITSTATUS(status));
		if (time(NULL) - m->started[i] < 1)
			sleep(1);
		master_spawn(m, i);
	}
}

static void
master_drain_log(struct master *m)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(m->logpipe[0], buf, sizeof(buf))) > 0)
		if (m->logfd != -1 && write(m->logfd, buf, (size_t)n) == -1)
			log_warn("access log %s", m->logpath);
}

static int
master_alive(struct master *m)
{
	int i;

	for (i = 0; i < MASTER_MAX_WORKERS; i++)
		if (m->pids[i] != 0)
			return 1;
	return 0;
}

int
master_run(const char *confpath, struct srv *s)
{
	struct master m;
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	sigset_t set;
	time_t stop_deadline = 0;
	int sigfd;

	memset(&m, 0, sizeof(m));
	m.srv = s;
	m.logfd = -1;
	if (pipe2(m.logpipe, O_CLOEXEC | O_NONBLOCK) == -1)
		fatal("pipe2");
	if (addrcap_init() == -1)
		fatal("per-address connection table");
	if (master_open_log(&m, s->conf->access_log) == -1)
		fatalx("cannot open the access log %s", s->conf->access_log);
	s->accesslog_fd = m.logfd != -1 ? m.logpipe[1] : -1;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		fatal("signalfd");

	master_start_workers(&m);
	log_info("serving with %d workers", s->conf->workers);

	for (;;) {
		pfd[0].fd = sigfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = m.logpipe[0];
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, m.stopping ? 200 : -1) == -1 &&
		    errno != EINTR)
			fatal("poll");
		if (pfd[1].revents & POLLIN)
			master_drain_log(&m);
		while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			switch (si.ssi_signo) {
			case SIGHUP:
				if (!m.stopping)
					master_reload(&m, confpath);
				break;
			case SIGUSR1:
				if (m.logpath != NULL) {
					char *p = strdup(m.logpath);

					if (p != NULL)
						master_open_log(&m, p);
					free(p);
					log_info("access log reopened");
				}
				break;
			case SIGTERM:
			case SIGINT:
				if (!m.stopping)
					log_info("stopping");
				m.stopping = 1;
				stop_deadline = time(NULL) + 5;
				master_signal_gen(&m, -1, SIGTERM);
				break;
			case SIGCHLD:
				master_reap(&m);
				break;
			}
		}
		if (m.stopping) {
			master_reap(&m);
			if (!master_alive(&m))
				break;
			if (time(NULL) >= stop_deadline)
				master_signal_gen(&m, -1, SIGKILL);
		}
	}
	master_drain_log(&m);
	server_free(m.srv);
	if (m.logfd != -1)
		close(m.logfd);
	free(m.logpath);
	return 0;
}

/* gitserv.c: local Git servers (git daemon, https, sshd) for the tests. */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "roomops/clock.h"
#include "gitserv.h"
#include "testutil.h"

#define SH_TIMEOUT_MS	120000	/* one shell command */
#define OUT_MAX		65536	/* bytes captured by gs_sh_out */
#define START_TRIES	3	/* ports tried per server */

#define LIVE_MAX	32	/* servers and repos alive at once */

static char	*log_path;	/* root/gs.log of the last gs_repo_init */
static char	*home_dir;	/* HOME for git commands: the repo root */

/*
 * What a failed test (cmocka jumps out of it) leaves behind: servers
 * still running and repo roots not removed. gs_teardown() and an atexit
 * handler clean them up; servers also get SIGTERM when the test process
 * dies (PR_SET_PDEATHSIG).
 */
static pid_t	 live_pids[LIVE_MAX];
static char	*live_roots[LIVE_MAX];
static int	 live_registered;

static void
live_add_pid(pid_t pid)
{
	size_t	i;

	for (i = 0; i < LIVE_MAX; i++)
		if (live_pids[i] == 0) {
			live_pids[i] = pid;
			return;
		}
}

static void
live_del_pid(pid_t pid)
{
	size_t	i;

	for (i = 0; i < LIVE_MAX; i++)
		if (live_pids[i] == pid)
			live_pids[i] = 0;
}

static void
live_add_root(const char *root)
{
	size_t	i;

	for (i = 0; i < LIVE_MAX; i++)
		if (live_roots[i] == NULL) {
			live_roots[i] = strdup(root);
			return;
		}
}

static void
live_del_root(const char *root)
{
	size_t	i;

	for (i = 0; i < LIVE_MAX; i++)
		if (live_roots[i] != NULL && strcmp(live_roots[i], root) == 0) {
			free(live_roots[i]);
			live_roots[i] = NULL;
		}
}

static void
nap_ms(unsigned ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait for pid at most ms; kill it when it overstays. Exit status. */
static int
wait_bounded(pid_t pid, int ms)
{
	uint64_t	end = (uint64_t)ro_now_ms() + (uint64_t)ms;
	int		st = 0;
	pid_t		w;

	for (;;) {
		w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 +
			    (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
		if (w == -1 && errno != EINTR)
			return -1;
		if ((uint64_t)ro_now_ms() > end) {
			fprintf(stderr, "gitserv: pid %ld overstayed %d ms, "
			    "killed\n", (long)pid, ms);
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		nap_ms(10);
	}
}

static void
child_env(void)
{
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_TERMINAL_PROMPT", "0", 1);
	if (home_dir != NULL)
		setenv("HOME", home_dir, 1);
}

/* Run cmd with /bin/sh; stdout to outfd (or the log), stderr to log. */
static int
run_sh(const char *cmd, int outfd)
{
	pid_t	pid;
	int	logfd = -1;

	if (log_path != NULL)
		logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		    0600);
	if (logfd != -1) {
		dprintf(logfd, "$ %s\n", cmd);
	}
	if ((pid = fork()) == -1) {
		if (logfd != -1)
			close(logfd);
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		child_env();
		if (outfd != -1)
			dup2(outfd, 1);
		else if (logfd != -1)
			dup2(logfd, 1);
		if (logfd != -1)
			dup2(logfd, 2);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (logfd != -1)
		close(logfd);
	return wait_bounded(pid, SH_TIMEOUT_MS);
}

int
gs_sh(const char *fmt, ...)
{
	va_list	 ap;
	char	*cmd;
	int	 rc;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	rc = run_sh(cmd, -1);
	free(cmd);
	return rc;
}

char *
gs_sh_out(const char *fmt, ...)
{
	va_list	 ap;
	char	*cmd, *out;
	char	 tmpl[] = "/tmp/gs-out.XXXXXX";
	int	 fd, rc;
	ssize_t	 n;
	size_t	 len = 0;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	if ((fd = mkstemp(tmpl)) == -1)
		abort();
	unlink(tmpl);
	rc = run_sh(cmd, fd);
	if ((out = calloc(1, OUT_MAX + 1)) == NULL)
		abort();
	lseek(fd, 0, SEEK_SET);
	while (len < OUT_MAX && (n = read(fd, out + len, OUT_MAX - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (rc != 0)
		fprintf(stderr, "gitserv: '%s' exited %d\n", cmd, rc);
	free(cmd);
	return out;
}

static void
must(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "gitserv: %s failed (%d); log: %s\n", what, rc,
		    log_path != NULL ? log_path : "(none)");
		if (log_path != NULL)
			gs_sh("tail -n 30 '%s' >&2", log_path);
	}
	assert_int_equal(rc, 0);
}

/* ---- repositories ------------------------------------------------------ */

void
gs_repo_init(struct gs_repo *r, const char *branch)
{
	memset(r, 0, sizeof(*r));
	if (!live_registered) {
		atexit(gs_stop_all);
		live_registered = 1;
	}
	r->root = tu_tmpdir();
	live_add_root(r->root);
	r->branch = strdup(branch);
	r->origin = tu_path(r->root, "srv/origin.git");
	r->work = tu_path(r->root, "work");
	free(log_path);
	log_path = tu_path(r->root, "gs.log");
	free(home_dir);
	home_dir = strdup(r->root);
	must(gs_sh("mkdir -p '%s/srv' && git init -q --bare -b '%s' '%s' && "
	    "git -C '%s' config http.receivepack true && "
	    "git clone -q '%s' '%s' && cd '%s' && "
	    "git symbolic-ref HEAD 'refs/heads/%s' && "
	    "git config user.name 'Test Author' && "
	    "git config user.email test@example.invalid",
	    r->root, branch, r->origin, r->origin, r->origin, r->work, r->work,
	    branch), "create origin");
}

void
gs_repo_free(struct gs_repo *r)
{
	if (r->root != NULL) {
		tu_rmrf(r->root);
		live_del_root(r->root);
	}
	free(r->root);
	free(r->origin);
	free(r->work);
	free(r->branch);
	memset(r, 0, sizeof(*r));
}

static void
write_msg(struct gs_repo *r, const char *msg)
{
	tu_write(r->root, "msg.txt", msg);
}

void
gs_commit_file(struct gs_repo *r, const char *path, const char *content,
    const char *msg)
{
	tu_write(r->work, path, content);
	write_msg(r, msg);
	must(gs_sh("cd '%s' && git add -- '%s' && git commit -q -F '%s/msg.txt'",
	    r->work, path, r->root), "commit");
}

void
gs_commit_rm(struct gs_repo *r, const char *path, const char *msg)
{
	write_msg(r, msg);
	must(gs_sh("cd '%s' && git rm -q -- '%s' && git commit -q -F "
	    "'%s/msg.txt'", r->work, path, r->root), "commit rm");
}

void
gs_commit_empty(struct gs_repo *r, const char *msg)
{
	write_msg(r, msg);
	must(gs_sh("cd '%s' && git commit -q --allow-empty -F '%s/msg.txt'",
	    r->work, r->root), "commit empty");
}

void
gs_push(struct gs_repo *r, bool force)
{
	must(gs_sh("cd '%s' && git push -q %s origin 'HEAD:refs/heads/%s'",
	    r->work, force ? "-f" : "", r->branch), "push");
}

void
gs_reset(struct gs_repo *r, const char *rev)
{
	must(gs_sh("cd '%s' && git reset -q --hard '%s'", r->work, rev),
	    "reset");
}

static const char *
rev_in(const char *dir, const char *rev)
{
	static char	 hex[64];
	char		*out;

	out = gs_sh_out("git -C '%s' rev-parse --verify -q '%s^{commit}'", dir,
	    rev);
	snprintf(hex, sizeof(hex), "%.40s", out);
	free(out);
	assert_int_equal(strlen(hex), 40);
	return hex;
}

const char *
gs_rev(struct gs_repo *r, const char *rev)
{
	return rev_in(r->work, rev);
}

const char *
gs_origin_rev(struct gs_repo *r, const char *rev)
{
	return rev_in(r->origin, rev);
}

/* ---- ports and processes ------------------------------------------------ */

int
gs_free_port(void)
{
	struct sockaddr_in	sa;
	socklen_t		len = sizeof(sa);
	int			s, port;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(s, (struct sockaddr *)&sa, &len) == -1) {
		close(s);
		return -1;
	}
	port = ntohs(sa.sin_port);
	close(s);
	return port;
}

int
gs_wait_port(int port, int ms)
{
	struct sockaddr_in	sa;
	uint64_t		end = (uint64_t)ro_now_ms() + (uint64_t)ms;
	int			s, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	do {
		if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			return -1;
		rc = connect(s, (struct sockaddr *)&sa, sizeof(sa));
		close(s);
		if (rc == 0)
			return 0;
		nap_ms(20);
	} while ((uint64_t)ro_now_ms() < end);
	return -1;
}

/* Find an executable in PATH, /usr/sbin or /sbin; malloc'd or NULL. */
static char *
which(const char *name)
{
	const char	*path = getenv("PATH");
	char		*dirs, *d, *save = NULL, *p = NULL;

	if (name[0] == '/')
		return access(name, X_OK) == 0 ? strdup(name) : NULL;
	if (asprintf(&dirs, "%s:/usr/sbin:/sbin:/usr/local/sbin",
	    path != NULL ? path : "/usr/bin:/bin") < 0)
		abort();
	for (d = strtok_r(dirs, ":", &save); d != NULL;
	    d = strtok_r(NULL, ":", &save)) {
		if (asprintf(&p, "%s/%s", d, name) < 0)
			abort();
		if (access(p, X_OK) == 0)
			break;
		free(p);
		p = NULL;
	}
	free(dirs);
	return p;
}

static int
missing(struct gs_server *s, const char *what)
{
	free(s->missing);
	s->missing = strdup(what);
	fprintf(stderr, "gitserv: %s not found: skipping\n", what);
	return GS_MISSING;
}

const char *
gs_missing(const struct gs_server *s)
{
	return s->missing != NULL ? s->missing : "a server binary";
}

/* Start argv as a process group with output to dir/server.log. */
static pid_t
spawn(char *const argv[], const char *dir)
{
	char	*logp = tu_path(dir, "server.log");
	pid_t	 pid;
	int	 fd;

	fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	free(logp);
	if ((pid = fork()) == -1) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		child_env();
		if (fd != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);
	live_add_pid(pid);
	if (fd != -1)
		close(fd);
	return pid;
}

/* Did the server come up on its port (and stay up)? */
static int
started(struct gs_server *s)
{
	int	st;

	if (gs_wait_port(s->port, GS_START_MS) == 0 &&
	    waitpid(s->pid, &st, WNOHANG) == 0)
		return 0;
	fprintf(stderr, "gitserv: server on port %d did not start; log:\n",
	    s->port);
	gs_sh("tail -n 20 '%s/server.log' >&2", s->dir);
	kill(-s->pid, SIGKILL);
	wait_bounded(s->pid, 3000);
	live_del_pid(s->pid);
	s->pid = 0;
	return -1;
}

static void
stop_pid(pid_t pid)
{
	kill(-pid, SIGTERM);
	(void)wait_bounded(pid, 3000);	/* kills the group when it overstays */
	kill(-pid, SIGKILL);		/* stray children */
	live_del_pid(pid);
}

void
gs_stop_all(void)
{
	size_t	i;

	for (i = 0; i < LIVE_MAX; i++)
		if (live_pids[i] > 0)
			stop_pid(live_pids[i]);
	for (i = 0; i < LIVE_MAX; i++) {
		if (live_roots[i] != NULL) {
			tu_rmrf(live_roots[i]);
			free(live_roots[i]);
			live_roots[i] = NULL;
		}
	}
}

int
gs_teardown(void **state)
{
	(void)state;
	gs_stop_all();
	return 0;
}

void
gs_server_stop(struct gs_server *s)
{
	if (s->pid > 0)
		stop_pid(s->pid);
	free(s->dir);
	free(s->url);
	free(s->ca_file);
	free(s->wrong_ca_file);
	free(s->password_file);
	free(s->user);
	free(s->key_file);
	free(s->known_hosts);
	free(s->known_hosts_hashed);
	free(s->known_hosts_other);
	free(s->missing);
	memset(s, 0, sizeof(*s));
}

static char *
server_dir(struct gs_repo *r, const char *kind)
{
	char	*d;

	if (asprintf(&d, "%s/%s-%d", r->root, kind, gs_free_port()) < 0)
		abort();
	must(gs_sh("mkdir -p '%s'", d), "mkdir");
	return d;
}

/* ---- git daemon ------------------------------------------------------------ */

int
gs_daemon_start(struct gs_server *s, struct gs_repo *r)
{
	return gs_daemon_start_port(s, r, 0);
}

int
gs_daemon_start_port(struct gs_server *s, struct gs_repo *r, int port)
{
	char	*git, *base, *portarg, *argv[16];
	int	 try;

	memset(s, 0, sizeof(*s));
	if ((git = which("git")) == NULL)
		return missing(s, "git");
	s->dir = server_dir(r, "daemon");
	if (asprintf(&base, "--base-path=%s/srv", r->root) < 0)
		abort();
	for (try = 0; try < START_TRIES; try++) {
		s->port = port != 0 ? port : gs_free_port();
		if (asprintf(&portarg, "--port=%d", s->port) < 0)
			abort();
		argv[0] = git;
		argv[1] = "daemon";
		argv[2] = "--reuseaddr";
		argv[3] = "--export-all";
		argv[4] = "--enable=receive-pack";
		argv[5] = "--informative-errors";
		argv[6] = "--listen=127.0.0.1";
		argv[7] = portarg;
		argv[8] = base;
		argv[9] = NULL;
		s->pid = spawn(argv, s->dir);
		free(portarg);
		if (s->pid > 0 && started(s) == 0)
			break;
	}
	free(base);
	free(git);
	assert_true(s->pid > 0);
	if (asprintf(&s->url, "git://127.0.0.1:%d/origin.git", s->port) < 0)
		abort();
	return 0;
}

/* ---- https: lighttpd + git http-backend ---------------------------------- */

static void
make_certs(struct gs_server *s)
{
	must(gs_sh("cd '%s' && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
	    " -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=gs-test-ca"
	    " && openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:prime256v1 -nodes -keyout wrong-ca.key "
	    "-out wrong-ca.pem -days 2 -subj /CN=gs-wrong-ca && "
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
	    "-nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 && "
	    "printf 'subjectAltName=DNS:127.0.0.1,IP:127.0.0.1\\n"
	    "basicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' "
	    "> ext.cnf && "
	    "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
	    "-CAcreateserial -out server.pem -days 2 -extfile ext.cnf",
	    s->dir), "make certificates");
	s->ca_file = tu_path(s->dir, "ca.pem");
	s->wrong_ca_file = tu_path(s->dir, "wrong-ca.pem");
}

int
gs_http_start(struct gs_server *s, struct gs_repo *r, const char *user,
    const char *password)
{
	char	*lighttpd, *backend = NULL, *execpath, *conf, *text, *argv[6];
	char	 modpath[PATH_MAX];
	int	 try;

	memset(s, 0, sizeof(*s));
	if ((lighttpd = which("lighttpd")) == NULL)
		return missing(s, "lighttpd");
	if ((execpath = which("openssl")) == NULL) {
		free(lighttpd);
		return missing(s, "openssl");
	}
	free(execpath);
	execpath = gs_sh_out("git --exec-path");
	execpath[strcspn(execpath, "\n")] = '\0';
	if (asprintf(&backend, "%s/git-http-backend", execpath) < 0)
		abort();
	free(execpath);
	snprintf(modpath, sizeof(modpath), "/usr/lib/lighttpd/mod_openssl.so");
	if (access(backend, X_OK) != 0 || access(modpath, R_OK) != 0) {
		free(lighttpd);
		return missing(s, access(backend, X_OK) != 0 ?
		    "git-http-backend" : "lighttpd mod_openssl "
		    "(package lighttpd-mod-openssl)");
	}
	s->dir = server_dir(r, "http");
	make_certs(s);
	must(gs_sh("mkdir -p '%s/www'", s->dir), "mkdir www");
	if (user != NULL) {
		s->user = strdup(user);
		s->password_file = tu_path(s->dir, "password");
		tu_write(s->dir, "password", password);
		if (asprintf(&text, "%s:%s\n", user, password) < 0)
			abort();
		tu_write(s->dir, "users", text);
		free(text);
	}
	for (try = 0; try < START_TRIES; try++) {
		s->port = gs_free_port();
		if (asprintf(&text,
		    "server.document-root = \"%s/www\"\n"
		    "server.bind = \"127.0.0.1\"\n"
		    "server.port = %d\n"
		    "server.errorlog = \"%s/error.log\"\n"
		    "server.modules = ( \"mod_alias\", \"mod_setenv\", "
		    "\"mod_cgi\", \"mod_auth\", \"mod_authn_file\", "
		    "\"mod_openssl\" )\n"
		    "ssl.engine = \"enable\"\n"
		    "ssl.pemfile = \"%s/server.pem\"\n"
		    "ssl.privkey = \"%s/server.key\"\n"
		    "alias.url = ( \"/git\" => \"%s\" )\n"
		    "$HTTP[\"url\"] =~ \"^/git\" {\n"
		    "  cgi.assign = ( \"\" => \"\" )\n"
		    "  setenv.add-environment = ( \"GIT_PROJECT_ROOT\" => "
		    "\"%s/srv\", \"GIT_HTTP_EXPORT_ALL\" => \"1\" )\n"
		    "}\n"
		    "%s%s%s",
		    s->dir, s->port, s->dir, s->dir, s->dir, backend, r->root,
		    user != NULL ? "auth.backend = \"plain\"\n"
		    "auth.backend.plain.userfile = \"" : "",
		    user != NULL ? s->dir : "",
		    user != NULL ? "/users\"\n"
		    "auth.require = ( \"/git\" => ( \"method\" => \"basic\", "
		    "\"realm\" => \"git\", \"require\" => \"valid-user\" ) )\n" :
		    "") < 0)
			abort();
		tu_write(s->dir, "lighttpd.conf", text);
		free(text);
		conf = tu_path(s->dir, "lighttpd.conf");
		argv[0] = lighttpd;
		argv[1] = "-D";
		argv[2] = "-f";
		argv[3] = conf;
		argv[4] = NULL;
		s->pid = spawn(argv, s->dir);
		free(conf);
		if (s->pid > 0 && started(s) == 0)
			break;
	}
	free(backend);
	free(lighttpd);
	assert_true(s->pid > 0);
	if (asprintf(&s->url, "https://127.0.0.1:%d/git/origin.git",
	    s->port) < 0)
		abort();
	return 0;
}

/* ---- sshd --------------------------------------------------------------------- */

int
gs_sshd_start(struct gs_server *s, struct gs_repo *r)
{
	char		*sshd, *keygen, *conf, *text, *argv[8];
	struct passwd	*pw;
	int		 try;

	memset(s, 0, sizeof(*s));
	if ((sshd = which("sshd")) == NULL)
		return missing(s, "sshd");
	if ((keygen = which("ssh-keygen")) == NULL) {
		free(sshd);
		return missing(s, "ssh-keygen");
	}
	free(keygen);
	if ((pw = getpwuid(getuid())) == NULL)
		fail_msg("no passwd entry for uid %ld", (long)getuid());
	s->dir = server_dir(r, "ssh");
	if (getuid() == 0)
		(void)mkdir("/run/sshd", 0755);	/* privilege separation */
	must(gs_sh("cd '%s' && ssh-keygen -q -t ed25519 -N '' -f host_key && "
	    "ssh-keygen -q -t ed25519 -N '' -C gs-client -f client_key && "
	    "ssh-keygen -q -t ed25519 -N '' -f other_key && "
	    "cp client_key.pub authorized_keys && chmod 600 authorized_keys",
	    s->dir), "ssh keys");
	s->key_file = tu_path(s->dir, "client_key");
	for (try = 0; try < START_TRIES; try++) {
		s->port = gs_free_port();
		if (asprintf(&text,
		    "Port %d\n"
		    "ListenAddress 127.0.0.1\n"
		    "HostKey %s/host_key\n"
		    "PidFile %s/sshd.pid\n"
		    "AuthorizedKeysFile %s/authorized_keys\n"
		    "PubkeyAuthentication yes\n"
		    "PasswordAuthentication no\n"
		    "KbdInteractiveAuthentication no\n"
		    "PermitRootLogin prohibit-password\n"
		    "StrictModes no\n"
		    "UsePAM no\n"
		    "PrintMotd no\n"
		    "AllowUsers %s\n"
		    "LogLevel ERROR\n",
		    s->port, s->dir, s->dir, s->dir, pw->pw_name) < 0)
			abort();
		tu_write(s->dir, "sshd_config", text);
		free(text);
		conf = tu_path(s->dir, "sshd_config");
		argv[0] = sshd;
		argv[1] = "-D";
		argv[2] = "-e";
		argv[3] = "-f";
		argv[4] = conf;
		argv[5] = NULL;
		s->pid = spawn(argv, s->dir);
		free(conf);
		if (s->pid > 0 && started(s) == 0)
			break;
	}
	free(sshd);
	assert_true(s->pid > 0);
	must(gs_sh("cd '%s' && "
	    "printf '[127.0.0.1]:%d %%s\\n' \"$(cut -d' ' -f1,2 host_key.pub)\""
	    " > known_hosts && "
	    "printf '[127.0.0.1]:%d %%s\\n' \"$(cut -d' ' -f1,2 other_key.pub)\""
	    " > known_hosts_other && "
	    "cp known_hosts known_hosts_hashed && "
	    "ssh-keygen -q -H -f known_hosts_hashed && rm -f "
	    "known_hosts_hashed.old", s->dir, s->port, s->port),
	    "known_hosts");
	s->known_hosts = tu_path(s->dir, "known_hosts");
	s->known_hosts_hashed = tu_path(s->dir, "known_hosts_hashed");
	s->known_hosts_other = tu_path(s->dir, "known_hosts_other");
	s->user = strdup(pw->pw_name);
	if (asprintf(&s->url, "ssh://%s@127.0.0.1:%d%s", pw->pw_name, s->port,
	    r->origin) < 0)
		abort();
	return 0;
}

/*
 * LeakSanitizer: leaks inside libgit2 1.5 that the tests cannot avoid.
 * Its regex search leaks pcre2 match data for every config entry that
 * does not match (libgit2 PR 6382, fixed in 1.6): git_remote_lookup and
 * git_remote_create scan every entry for insteadOf, so the agent looks
 * the remote up once per open, never per poll. The 1.5.1 SSH transport
 * reads ~/.ssh/known_hosts at each connect and frees neither the libssh2
 * list nor the two path strings (56 bytes per SSH connection; the frames
 * are static functions of libgit2, so the nearest named one is
 * git_remote_connect_ext). The agent never calls pcre2 itself.
 */
const char	*__lsan_default_suppressions(void);
const char	*__asan_default_options(void);

/*
 * libgit2 is built without frame pointers: unwind malloc stacks the slow
 * way so that the suppressions above see the libgit2 function names
 * (ASAN_OPTIONS from the environment still wins, key by key).
 */
const char *
__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

const char *
__lsan_default_suppressions(void)
{
	return "leak:libpcre2-8.so\n"
	    "leak:libssh2_knownhost_init\n"
	    "leak:git_remote_connect_ext\n";
}

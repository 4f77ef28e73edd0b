/*
 * sigssh.c: SSH commit signatures against an allowed-signers file, with
 * git's rules (sigverify.h, docs/security.md).
 *
 * Git runs `ssh-keygen -Y find-principals` and then `-Y verify`. Here the
 * principal comes from the allowed-signers file read once per (re)load:
 * the public key inside the SSHSIG block is matched against its lines.
 * An Ed25519 key on a line with no options but namespaces, valid-after
 * and valid-before is then checked natively (sshsig.c); anything else by
 * one `ssh-keygen -Y verify`; lines the matching does not handle
 * (cert-authority, wildcard principals) go through find-principals
 * first. ssh-keygen runs with a deadline, never via a shell.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "roomops/buf.h"
#include "roomops/file.h"
#include "roomops/log.h"
#include "roomops/strv.h"
#include "sigverify.h"

#include "../common/banned.h"

#define SSH_KEYGEN	"ssh-keygen"
#define SSH_OUT_MAX	(16u << 10)	/* bytes of ssh-keygen output */
#define SSH_KEYS_MAX	10000		/* allowed-signers lines */
#define SSH_LINE_MAX	(16u << 10)	/* bytes of one line */
#define SSH_BLOB_MAX	(16u << 10)	/* bytes of a decoded key */

static char *child_env[] = { (char *)"LC_ALL=C", NULL };

/* One usable line of the allowed-signers file. */
struct signer {
	char		*principal;	/* first of the list, no wildcard */
	unsigned char	*key;		/* decoded key blob */
	size_t		 keylen;
	bool		 native;	/* no options that only ssh-keygen
					   knows (checked here natively) */
	time_t		 valid_after;	/* 0: none */
	time_t		 valid_before;	/* 0: none */
};

struct ro_sigssh {
	char		*allowed;	/* STATE_DIR/allowed_signers (copy) */
	char		*sigfile;	/* STATE_DIR/ssh-signature */
	unsigned	 timeout_ms;
	struct signer	*signers;
	size_t		 nsigners;
	bool		 fallback;	/* lines only find-principals knows */
};

/* --- the allowed-signers file (pure, fuzzed) ----------------------- */

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Next field of a line: quoted strings may hold spaces. */
static const char *
field(const char *p, const char *end, size_t *len)
{
	const char	*s;
	bool		 q = false;

	while (p < end && is_space(*p))
		p++;
	s = p;
	while (p < end && (q || !is_space(*p))) {
		if (*p == '"')
			q = !q;
		p++;
	}
	*len = (size_t)(p - s);
	return s;
}

static bool
key_type(const char *s, size_t n)
{
	static const char *const prefix[] = { "ssh-", "ecdsa-sha2-",
	    "sk-ssh-", "sk-ecdsa-sha2-", "rsa-sha2-" };
	size_t	i, l;

	for (i = 0; i < RO_NELEM(prefix); i++) {
		l = strlen(prefix[i]);
		if (n > l && memcmp(s, prefix[i], l) == 0)
			return true;
	}
	return false;
}

static int
b64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen)
{
	unsigned char	*b;
	int		 len;
	size_t		 pad = 0;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > SSH_BLOB_MAX)
		return RO_EINVALID;
	if ((b = malloc(n / 4 * 3 + 1)) == NULL)
		return RO_ENOMEM;
	if ((len = EVP_DecodeBlock(b, (const unsigned char *)s, (int)n)) < 0) {
		free(b);
		return RO_EINVALID;
	}
	while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
		pad++;
	*out = b;
	*outlen = (size_t)len - pad;
	return RO_OK;
}

/*
 * An ssh-keygen time (misc.c parse_absolute_time): YYYYMMDD[HHMM[SS]],
 * UTC with a trailing Z, else local time. false when malformed.
 */
static bool
parse_time(const char *s, size_t n, time_t *out)
{
	struct tm	tm;
	int		v[6] = { 0, 0, 0, 0, 0, 0 };
	size_t		i, digits;
	bool		utc = n > 0 && s[n - 1] == 'Z';

	digits = utc ? n - 1 : n;
	if (digits != 8 && digits != 12 && digits != 14)
		return false;
	for (i = 0; i < digits; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	v[0] = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	for (i = 4; i < digits; i += 2)
		v[(i - 2) / 2] = (s[i] - '0') * 10 + (s[i + 1] - '0');
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	tm.tm_isdst = -1;
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return false;
	*out = utc ? timegm(&tm) : mktime(&tm);
	return *out != (time_t)-1;
}

/*
 * The options field: namespaces="..." must list git; valid-after and
 * valid-before are kept. Anything else (cert-authority, unknown
 * options, unparsable times): *native false, ssh-keygen judges.
 */
static void
parse_options(const char *p, size_t n, struct signer *sg)
{
	const char	*end = p + n, *t, *v, *ns;
	size_t		 tn, kn, vn, nsn;
	bool		 q, git;

	while (p < end) {
		for (t = p, q = false; p < end && (q || *p != ','); p++)
			if (*p == '"')
				q = !q;
		tn = (size_t)(p - t);
		if (p < end)
			p++;		/* the comma */
		if ((v = memchr(t, '=', tn)) == NULL) {
			sg->native = false;	/* cert-authority, ... */
			continue;
		}
		v++;
		kn = (size_t)(v - t);	/* the name and '=' */
		vn = tn - kn;
		if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
			v++;
			vn -= 2;
		}
		if (kn == 11 && memcmp(t, "namespaces=", 11) == 0) {
			for (git = false, ns = v; ns < v + vn; ns += nsn + 1) {
				for (nsn = 0; ns + nsn < v + vn &&
				    ns[nsn] != ','; nsn++)
					;
				git |= nsn == 3 && memcmp(ns, "git", 3) == 0;
			}
			sg->native &= git;
		} else if (kn == 12 && memcmp(t, "valid-after=", 12) == 0)
			sg->native &= parse_time(v, vn, &sg->valid_after);
		else if (kn == 13 && memcmp(t, "valid-before=", 13) == 0)
			sg->native &= parse_time(v, vn, &sg->valid_before);
		else
			sg->native = false;
	}
}

/*
 * Parse one line: principals [options] keytype base64 [comment]. Fill sg
 * (when not NULL) for a line the fast path can use; *plain false when
 * only find-principals knows what to do with it.
 */
static int
parse_line(const char *p, const char *end, struct signer *sg, bool *plain)
{
	const char	*f[4];
	size_t		 n[4], i, nf = 0, kt;
	const char	*q = p;
	struct signer	 o;

	*plain = true;
	while (nf < 4) {
		f[nf] = field(q, end, &n[nf]);
		if (n[nf] == 0)
			break;
		q = f[nf] + n[nf];
		nf++;
	}
	if (nf < 3)
		return RO_EINVALID;
	kt = key_type(f[1], n[1]) ? 1 : 2;	/* options are optional */
	if (kt + 1 >= nf || !key_type(f[kt], n[kt]))
		return RO_EINVALID;
	for (i = 0; i < n[0]; i++)
		if (f[0][i] == '*' || f[0][i] == '?' || f[0][i] == '"')
			*plain = false;
	if (kt == 2) {
		/* namespaces="..." without git: the line does not sign
		 * commits; cert-authority needs find-principals */
		if (memmem(f[1], n[1], "cert-authority", 14) != NULL)
			*plain = false;
		if (memmem(f[1], n[1], "namespaces=", 11) != NULL &&
		    memmem(f[1], n[1], "git", 3) == NULL)
			*plain = false;
	}
	/* natively: no options, or only namespaces (with git),
	 * valid-after and valid-before */
	memset(&o, 0, sizeof(o));
	o.native = true;
	if (kt == 2)
		parse_options(f[1], n[1], &o);
	if (sg == NULL || !*plain)
		return RO_OK;
	sg->native = o.native;
	sg->valid_after = o.valid_after;
	sg->valid_before = o.valid_before;
	for (i = 0; i < n[0] && f[0][i] != ','; i++)
		;
	if ((sg->principal = strndup(f[0], i)) == NULL)
		return RO_ENOMEM;
	if (b64_decode(f[kt + 1], n[kt + 1], &sg->key, &sg->keylen) < 0) {
		free(sg->principal);
		sg->principal = NULL;
		return RO_EINVALID;
	}
	return RO_OK;
}

int
ro_sigssh_check_allowed(const char *text, size_t len, size_t *keys,
    struct ro_err *err)
{
	const char	*p = text, *end = text + len, *nl, *s;
	size_t		 line = 0;
	bool		 plain;

	*keys = 0;
	while (p < end) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((size_t)(nl - p) > SSH_LINE_MAX)
			return ro_err_set(err, RO_ETOOBIG, "line %zu: longer "
			    "than %u bytes", line, SSH_LINE_MAX);
		for (s = p; s < nl && (is_space(*s) || *s == '\r'); s++)
			;
		if (s < nl && *s != '#') {
			if (memchr(s, '\0', (size_t)(nl - s)) != NULL ||
			    parse_line(s, nl, NULL, &plain) < 0)
				return ro_err_set(err, RO_EINVALID, "line %zu: "
				    "not \"principals [options] keytype key\"",
				    line);
			if (++*keys > SSH_KEYS_MAX)
				return ro_err_set(err, RO_ETOOBIG, "more than "
				    "%d keys", SSH_KEYS_MAX);
		}
		p = nl + 1;
	}
	return RO_OK;
}

static void
signers_free(struct ro_sigssh *s)
{
	size_t	i;

	for (i = 0; i < s->nsigners; i++) {
		free(s->signers[i].principal);
		free(s->signers[i].key);
	}
	free(s->signers);
	s->signers = NULL;
	s->nsigners = 0;
}

/* --- ssh-keygen with a deadline ------------------------------------ */

/*
 * Run argv with in on its standard input, standard output and error into
 * out; *status is the exit code (-1: killed). RO_ETIMEOUT, RO_ERROR.
 */
static int
run(const struct ro_sigssh *s, char *const argv[], const char *in,
    size_t inlen, struct ro_buf *out, int *status, struct ro_err *err)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 sa;
	sigset_t			 none;
	struct pollfd			 pfd[2];
	struct timespec			 now;
	long long			 deadline, left;
	int				 sin[2] = { -1, -1 }, sout[2] = { -1, -1 };
	pid_t				 pid = -1;
	size_t				 off = 0;
	ssize_t				 r;
	char				 chunk[4096];
	int				 rc, ws, error = RO_OK;

	*status = -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	deadline = now.tv_sec * 1000LL + now.tv_nsec / 1000000 + s->timeout_ms;
	/* sockets: a child that exits early is EPIPE here, not SIGPIPE */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sin) == -1 ||
	    pipe2(sout, O_CLOEXEC) == -1)
		return ro_err_errno(err, RO_ERROR, "ssh-keygen: pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sin[1], 0);
	posix_spawn_file_actions_adddup2(&fa, sout[1], 1);
	posix_spawn_file_actions_adddup2(&fa, sout[1], 2);
	/* the daemon blocks its signals in every thread: not the child's */
	sigemptyset(&none);
	posix_spawnattr_init(&sa);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK);
	/* the agent's environment holds tokens: ssh-keygen gets none of
	 * it, and the C locale for the messages parsed here */
	rc = posix_spawnp(&pid, argv[0], &fa, &sa, argv, child_env);
	posix_spawnattr_destroy(&sa);
	posix_spawn_file_actions_destroy(&fa);
	close(sin[1]);
	close(sout[1]);
	sin[1] = sout[1] = -1;
	if (rc != 0) {
		errno = rc;
		error = ro_err_errno(err, RO_ERROR, "cannot run %s (install "
		    "openssh-client)", argv[0]);
		pid = -1;
		goto done;
	}
	if (inlen == 0) {
		close(sin[0]);
		sin[0] = -1;
	}
	while (sout[0] != -1) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = deadline - (now.tv_sec * 1000LL + now.tv_nsec / 1000000);
		if (left <= 0) {
			error = ro_err_set(err, RO_ETIMEOUT, "%s timed out after "
			    "%u ms", argv[0], s->timeout_ms);
			goto done;
		}
		pfd[0].fd = sout[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = sin[0];
		pfd[1].events = POLLOUT;
		if (poll(pfd, sin[0] != -1 ? 2 : 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			error = ro_err_errno(err, RO_ERROR, "poll");
			goto done;
		}
		if (sin[0] != -1 && pfd[1].revents != 0) {
			r = send(sin[0], in + off, inlen - off,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (r > 0)
				off += (size_t)r;
			if ((r < 0 && errno != EAGAIN && errno != EINTR) ||
			    off == inlen) {
				close(sin[0]);
				sin[0] = -1;
			}
		}
		if (pfd[0].revents != 0) {
			r = read(sout[0], chunk, sizeof(chunk));
			if (r > 0 && out->len + (size_t)r <= SSH_OUT_MAX)
				(void)ro_buf_add(out, chunk, (size_t)r);
			if (r == 0 || (r < 0 && errno != EINTR &&
			    errno != EAGAIN)) {
				close(sout[0]);
				sout[0] = -1;
			}
		}
	}
	/* the output is closed: the child is exiting; bounded wait */
	for (;;) {
		if ((rc = waitpid(pid, &ws, WNOHANG)) == pid) {
			pid = -1;
			*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (rc == -1 || now.tv_sec * 1000LL + now.tv_nsec / 1000000 >=
		    deadline) {
			error = ro_err_set(err, RO_ETIMEOUT, "%s did not exit",
			    argv[0]);
			goto done;
		}
		usleep(1000);
	}
done:
	if (pid > 0) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, &ws, 0);
	}
	if (sin[0] != -1)
		close(sin[0]);
	if (sout[0] != -1)
		close(sout[0]);
	(void)ro_buf_cstr(out);
	return error;
}

/* --- the backend --------------------------------------------------- */

int
ro_sigssh_new(struct ro_sigssh **out, const char *state_dir,
    unsigned timeout_ms, struct ro_err *err)
{
	struct ro_sigssh	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	if (asprintf(&s->allowed, "%s/allowed_signers", state_dir) < 0)
		s->allowed = NULL;
	if (asprintf(&s->sigfile, "%s/ssh-signature", state_dir) < 0)
		s->sigfile = NULL;
	if (s->allowed == NULL || s->sigfile == NULL) {
		ro_sigssh_free(s);
		return ro_err_set(err, RO_ENOMEM, "out of memory");
	}
	s->timeout_ms = timeout_ms;
	*out = s;
	return RO_OK;
}

int
ro_sigssh_load(struct ro_sigssh *s, const char *allowed, struct ro_err *err)
{
	struct ro_buf	 b = RO_BUF_INIT;
	struct ro_err	 pe = RO_ERR_INIT;
	struct signer	*v = NULL;
	const char	*p, *end, *nl, *t;
	size_t		 keys, n = 0, i;
	bool		 plain, fallback = false;
	int		 error;

	if ((error = ro_file_read(allowed, RO_SIGVERIFY_KEYS_MAX, &b,
	    err)) < 0)
		goto done;
	if ((error = ro_sigssh_check_allowed(b.ptr != NULL ? b.ptr : "", b.len,
	    &keys, &pe)) < 0) {
		error = ro_err_set(err, error, "%s: %s", allowed, pe.msg);
		goto done;
	}
	if (keys == 0) {
		error = ro_err_set(err, RO_EINVALID, "%s: no key in it",
		    allowed);
		goto done;
	}
	if ((v = calloc(keys, sizeof(*v))) == NULL)
		goto nomem;
	for (p = b.ptr, end = b.ptr + b.len; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		for (t = p; t < nl && (is_space(*t) || *t == '\r'); t++)
			;
		if (t == nl || *t == '#')
			continue;
		if (nl > t && nl[-1] == '\r')
			error = parse_line(t, nl - 1, &v[n], &plain);
		else
			error = parse_line(t, nl, &v[n], &plain);
		if (error == RO_ENOMEM)
			goto nomem;
		if (error < 0 || !plain)
			fallback = true;
		else
			n++;
		error = RO_OK;
	}
	/* the snapshot ssh-keygen reads: a reload swaps it atomically */
	if ((error = ro_file_replace(s->allowed, b.ptr, b.len, err)) < 0)
		goto done;
	signers_free(s);
	s->signers = v;
	s->nsigners = n;
	s->fallback = fallback;
	v = NULL;
	n = 0;
	log_info("%zu SSH key%s trusted (%s)", keys, keys == 1 ? "" : "s",
	    allowed);
	goto done;
nomem:
	error = ro_err_set(err, RO_ENOMEM, "out of memory");
done:
	for (i = 0; v != NULL && i < n; i++) {
		free(v[i].principal);
		free(v[i].key);
	}
	free(v);
	ro_buf_release(&b);
	return error;
}

static uint32_t
get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

int
ro_sigssh_sig_key(const char *sig, size_t siglen, unsigned char **blob,
    size_t *bloblen, const unsigned char **key, size_t *keylen)
{
	struct ro_buf	 b = RO_BUF_INIT;
	const char	*p = sig, *end = sig + siglen, *nl;
	unsigned char	*d = NULL;
	size_t		 dl, kl;
	int		 error = RO_EINVALID;

	ro_buf_init(&b, RO_SIGVERIFY_SIG_MAX);
	if ((p = memchr(p, '\n', siglen)) == NULL)
		goto done;
	for (p++; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (*p == '-')
			break;		/* END line */
		if (ro_buf_add(&b, p, (size_t)(nl - p - (nl > p &&
		    nl[-1] == '\r'))) < 0)
			goto done;
	}
	if (b.len == 0 || b64_decode(b.ptr, b.len, &d, &dl) < 0)
		goto done;
	if (dl < 6 + 4 + 4 || memcmp(d, "SSHSIG", 6) != 0 ||
	    get_u32(d + 6) != 1 || (kl = get_u32(d + 10)) > dl - 14)
		goto done;
	*blob = d;
	*bloblen = dl;
	*key = d + 14;
	*keylen = kl;
	d = NULL;
	error = RO_OK;
done:
	free(d);
	ro_buf_release(&b);
	return error;
}

/* "... with ED25519 key SHA256:abc" -> "SHA256:abc" */
static void
key_from_output(const char *out, char *keyid, size_t sz)
{
	const char	*k;
	size_t		 n;

	if ((k = strstr(out, " key SHA256:")) == NULL)
		return;
	k += 5;
	n = strcspn(k, " \r\n");
	snprintf(keyid, sz, "%.*s", (int)n, k);
}

static void
first_line(const char *out, char *dst, size_t sz)
{
	size_t	n = strcspn(out, "\r\n");

	snprintf(dst, sz, "%.*s", (int)n, out);
}

int
ro_sigssh_verify(struct ro_sigssh *s, const char *sig, size_t siglen,
    const char *data, size_t datalen, long long when,
    struct ro_sigverify_result *res, struct ro_err *err)
{
	struct ro_buf		 out = RO_BUF_INIT;
	unsigned char		*blob = NULL;
	const unsigned char	*key;
	size_t			 bloblen, keylen, i;
	const char		*principal = NULL;
	const struct signer	*sg = NULL;
	bool			 native = false, handled, good;
	time_t			 now = time(NULL);
	char			 pbuf[RO_SIGVERIFY_SIGNER_MAX];
	char			*argv[16];
	int			 fd, status, error;

	(void)when;	/* the time of the check counts, not the commit's */
	ro_buf_init(&out, SSH_OUT_MAX + 1);
	if (ro_sigssh_sig_key(sig, siglen, &blob, &bloblen, &key,
	    &keylen) < 0) {
		snprintf(res->reason, sizeof(res->reason), "corrupted SSH "
		    "signature block");
		error = RO_OK;
		goto done;
	}
	ro_sshsig_fingerprint(key, keylen, res->keyid, sizeof(res->keyid));
	for (i = 0; i < s->nsigners && principal == NULL; i++)
		if (s->signers[i].keylen == keylen &&
		    memcmp(s->signers[i].key, key, keylen) == 0) {
			sg = &s->signers[i];
			principal = sg->principal;
			native = sg->native;
		}
	/* the validity window of the line, at the time of the check (as
	 * ssh-keygen -Y verify without -Overify-time) */
	if (native && ((sg->valid_after != 0 && now < sg->valid_after) ||
	    (sg->valid_before != 0 && now > sg->valid_before))) {
		snprintf(res->reason, sizeof(res->reason), "SSH key %.64s of "
		    "%.64s not valid now: %s", res->keyid, principal,
		    now < sg->valid_after ? "before its valid-after" :
		    "expired (valid-before)");
		error = RO_OK;
		goto done;
	}
	/* Ed25519 without options: OpenSSL, no process (sshsig.c) */
	if (principal != NULL && native && (error = ro_sshsig_verify(blob,
	    bloblen, "git", data, datalen, &handled, &good)) != RO_ENOMEM &&
	    (handled || error < 0)) {
		if (error == RO_OK && good) {
			snprintf(res->signer, sizeof(res->signer), "%s",
			    principal);
			res->verified = true;
		} else
			snprintf(res->reason, sizeof(res->reason), "signature "
			    "does not match the commit (SSH key %.64s)",
			    res->keyid);
		error = RO_OK;
		goto done;
	}
	if ((fd = open(s->sigfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		error = ro_err_errno(err, RO_EIO, "%s", s->sigfile);
		goto done;
	}
	if (write(fd, sig, siglen) != (ssize_t)siglen) {
		error = ro_err_errno(err, RO_EIO, "%s", s->sigfile);
		close(fd);
		goto done;
	}
	close(fd);
	if (principal == NULL && s->fallback) {
		argv[0] = (char *)SSH_KEYGEN;
		argv[1] = (char *)"-Y";
		argv[2] = (char *)"find-principals";
		argv[3] = (char *)"-f";
		argv[4] = s->allowed;
		argv[5] = (char *)"-s";
		argv[6] = s->sigfile;
		argv[7] = NULL;
		if ((error = run(s, argv, NULL, 0, &out, &status, err)) < 0)
			goto done;
		if (status == 0) {
			first_line(ro_buf_cstr(&out), pbuf, sizeof(pbuf));
			if (pbuf[0] != '\0')
				principal = pbuf;
		}
		ro_buf_reset(&out);
	}
	if (principal == NULL) {
		snprintf(res->reason, sizeof(res->reason), "signed by an "
		    "unknown SSH key %.64s (not in the allowed signers)",
		    res->keyid);
		error = RO_OK;
		goto done;
	}
	argv[0] = (char *)SSH_KEYGEN;
	argv[1] = (char *)"-Y";
	argv[2] = (char *)"verify";
	argv[3] = (char *)"-f";
	argv[4] = s->allowed;
	argv[5] = (char *)"-I";
	if (principal != pbuf)
		snprintf(pbuf, sizeof(pbuf), "%s", principal);
	argv[6] = pbuf;
	argv[7] = (char *)"-n";
	argv[8] = (char *)"git";
	argv[9] = (char *)"-s";
	argv[10] = s->sigfile;
	argv[11] = NULL;
	if ((error = run(s, argv, data, datalen, &out, &status, err)) < 0)
		goto done;
	key_from_output(ro_buf_cstr(&out), res->keyid, sizeof(res->keyid));
	if (status != 0) {
		char	line[120];

		first_line(ro_buf_cstr(&out), line, sizeof(line));
		snprintf(res->reason, sizeof(res->reason), "SSH signature of "
		    "%.64s not valid: %.100s", principal, line);
		goto done;
	}
	snprintf(res->signer, sizeof(res->signer), "%s", principal);
	res->verified = true;
done:
	free(blob);
	ro_buf_release(&out);
	return error;
}

void
ro_sigssh_free(struct ro_sigssh *s)
{
	if (s == NULL)
		return;
	signers_free(s);
	free(s->allowed);
	free(s->sigfile);
	free(s);
}

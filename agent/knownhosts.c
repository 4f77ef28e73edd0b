/* knownhosts.c: OpenSSH known_hosts parsing and host key checks. */
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "roomops/buf.h"
#include "roomops/file.h"

#include "knownhosts.h"

#include "../common/banned.h"

#define KH_HOST_MAX	1024	/* bytes of "[host]:port" */
#define KH_SHA1_LEN	20

enum kh_marker { KH_NONE, KH_REVOKED };

struct kh_entry {
	enum kh_marker	 marker;
	char		*patterns;	/* plain: comma-separated patterns */
	bool		 hashed;
	unsigned char	 salt[64];
	size_t		 saltlen;
	unsigned char	 hash[KH_SHA1_LEN];
	char		*type;
	unsigned char	*key;
	size_t		 keylen;
};

struct ro_knownhosts {
	struct kh_entry	*v;
	size_t		 n;
	size_t		 cap;
	size_t		 skipped;
};

/*
 * Decode base64 s[0..n) into out (at most cap bytes). Padding is optional.
 * Returns the decoded length or -1 when malformed or too long. OpenSSL's
 * EVP_DecodeBlock decodes the padded text; encoding the result again
 * must give that text back, so stray bits and stray characters are
 * refused as before.
 */
static long
b64_decode(unsigned char *out, size_t cap, const char *s, size_t n)
{
	unsigned char	*in = NULL, *bin = NULL, *again = NULL;
	size_t		 m, pad;
	long		 len = -1;
	int		 k;

	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1 || n > (size_t)INT_MAX / 2)
		return -1;
	m = (n + 3) / 4 * 4;
	pad = m - n;
	if ((in = malloc(m + 1)) == NULL || (bin = malloc(m / 4 * 3 + 1)) ==
	    NULL || (again = malloc(m + 1)) == NULL)
		goto done;
	memcpy(in, s, n);
	memset(in + n, '=', pad);
	in[m] = '\0';
	if ((k = EVP_DecodeBlock(bin, in, (int)m)) < 0 || (size_t)k < pad ||
	    (size_t)k - pad > cap)
		goto done;
	k -= (int)pad;
	if (EVP_EncodeBlock(again, bin, k) != (int)m ||
	    memcmp(again, in, m) != 0)
		goto done;
	memcpy(out, bin, (size_t)k);
	len = k;
done:
	free(in);
	free(bin);
	free(again);
	return len;
}

/* The key type name at the start of an SSH key blob, into out. */
static int
blob_type(char *out, size_t outsz, const unsigned char *key, size_t keylen)
{
	uint32_t	n;

	if (keylen < 4)
		return -1;
	n = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 |
	    (uint32_t)key[2] << 8 | key[3];
	if (n == 0 || n >= outsz || n > keylen - 4)
		return -1;
	memcpy(out, key + 4, n);
	out[n] = '\0';
	return memchr(out, '\0', n) == NULL ? 0 : -1;
}

static void
entry_release(struct kh_entry *e)
{
	free(e->patterns);
	free(e->type);
	free(e->key);
}

/* Next blank-separated token of [*p, end); NULL at the end. */
static const char *
next_token(const char **p, const char *end, size_t *len)
{
	const char	*s = *p, *t;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end)
		return NULL;
	t = s;
	while (t < end && *t != ' ' && *t != '\t')
		t++;
	*len = (size_t)(t - s);
	*p = t;
	return s;
}

static char *
xstrndup_(const char *s, size_t n)
{
	char	*p;

	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/*
 * Parse one line into e. Returns 1 when e holds an entry, 0 when the line
 * is blank, a comment or skipped (*skipped set), RO_ENOMEM.
 */
static int
parse_line(struct kh_entry *e, const char *line, size_t len, bool *skipped)
{
	const char	*p = line, *end = line + len, *tok, *bar;
	size_t		 n;
	long		 k;
	char		 btype[128];
	unsigned char	*key = NULL;

	memset(e, 0, sizeof(*e));
	*skipped = false;
	if ((tok = next_token(&p, end, &n)) == NULL || tok[0] == '#')
		return 0;
	*skipped = true;
	if (tok[0] == '@') {
		if (n != 8 || memcmp(tok, "@revoked", 8) != 0)
			return 0;	/* @cert-authority or unknown marker */
		e->marker = KH_REVOKED;
		if ((tok = next_token(&p, end, &n)) == NULL)
			return 0;
	}
	if (n > 3 && memcmp(tok, "|1|", 3) == 0) {
		bar = memchr(tok + 3, '|', n - 3);
		if (bar == NULL)
			return 0;
		k = b64_decode(e->salt, sizeof(e->salt), tok + 3,
		    (size_t)(bar - tok - 3));
		if (k <= 0)
			return 0;
		e->saltlen = (size_t)k;
		if (b64_decode(e->hash, sizeof(e->hash), bar + 1,
		    (size_t)(tok + n - bar - 1)) != KH_SHA1_LEN)
			return 0;
		e->hashed = true;
	} else if ((e->patterns = xstrndup_(tok, n)) == NULL)
		return RO_ENOMEM;
	if ((tok = next_token(&p, end, &n)) == NULL || n >= sizeof(btype))
		goto skip;
	if ((e->type = xstrndup_(tok, n)) == NULL)
		goto nomem;
	if ((tok = next_token(&p, end, &n)) == NULL ||
	    n / 4 * 3 > RO_KNOWNHOSTS_KEY_MAX + 3)
		goto skip;
	if ((key = malloc(n / 4 * 3 + 3)) == NULL)
		goto nomem;
	if ((k = b64_decode(key, n / 4 * 3 + 3, tok, n)) <= 0)
		goto skip;
	e->key = key;
	e->keylen = (size_t)k;
	key = NULL;
	/* The blob names its own type; it must be the one on the line. */
	if (blob_type(btype, sizeof(btype), e->key, e->keylen) < 0 ||
	    strcmp(btype, e->type) != 0)
		goto skip;
	*skipped = false;
	return 1;
skip:
	free(key);
	entry_release(e);
	memset(e, 0, sizeof(*e));
	return 0;
nomem:
	free(key);
	entry_release(e);
	memset(e, 0, sizeof(*e));
	return RO_ENOMEM;
}

int
ro_knownhosts_parse(struct ro_knownhosts **out, const char *text, size_t len,
    const char *name, struct ro_err *err)
{
	struct ro_knownhosts	*kh = NULL;
	struct kh_entry		 e, *v;
	const char		*p = text, *end = text + len, *nl;
	size_t			 n, cap;
	bool			 skipped;
	int			 error, r;

	if (len > RO_KNOWNHOSTS_FILE_MAX)
		return ro_err_set(err, RO_ETOOBIG, "%s: over %u bytes", name,
		    RO_KNOWNHOSTS_FILE_MAX);
	if ((kh = calloc(1, sizeof(*kh))) == NULL) {
		error = ro_err_set(err, RO_ENOMEM, "out of memory");
		goto done;
	}
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > RO_KNOWNHOSTS_LINE_MAX) {
			kh->skipped++;
			r = 0;
		} else if ((r = parse_line(&e, p, n, &skipped)) < 0) {
			error = ro_err_set(err, r, "out of memory");
			goto done;
		} else if (r == 0 && skipped)
			kh->skipped++;
		if (r == 1) {
			if (kh->n == kh->cap) {
				cap = kh->cap != 0 ? kh->cap * 2 : 16;
				if ((v = realloc(kh->v, cap * sizeof(*v))) ==
				    NULL) {
					entry_release(&e);
					error = ro_err_set(err, RO_ENOMEM,
					    "out of memory");
					goto done;
				}
				kh->v = v;
				kh->cap = cap;
			}
			kh->v[kh->n++] = e;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	*out = kh;
	kh = NULL;
	error = RO_OK;
done:
	ro_knownhosts_free(kh);
	return error;
}

int
ro_knownhosts_load(struct ro_knownhosts **out, const char *path,
    struct ro_err *err)
{
	struct ro_buf	b = RO_BUF_INIT;
	int		error;

	if ((error = ro_file_read(path, RO_KNOWNHOSTS_FILE_MAX, &b, err)) < 0)
		goto done;
	error = ro_knownhosts_parse(out, ro_buf_cstr(&b), b.len, path, err);
done:
	ro_buf_release(&b);
	return error;
}

void
ro_knownhosts_free(struct ro_knownhosts *kh)
{
	size_t	i;

	if (kh == NULL)
		return;
	for (i = 0; i < kh->n; i++)
		entry_release(&kh->v[i]);
	free(kh->v);
	free(kh);
}

size_t
ro_knownhosts_count(const struct ro_knownhosts *kh)
{
	return kh != NULL ? kh->n : 0;
}

size_t
ro_knownhosts_skipped(const struct ro_knownhosts *kh)
{
	return kh != NULL ? kh->skipped : 0;
}

/* ssh's match_pattern: '*' and '?' wildcards, case-insensitive. */
static bool
glob_match(const char *s, const char *pat, size_t patlen)
{
	const char	*pe = pat + patlen;
	const char	*star = NULL, *sback = NULL;

	while (*s != '\0') {
		if (pat < pe && (*pat == '?' ||
		    tolower((unsigned char)*pat) == tolower((unsigned char)*s))) {
			pat++;
			s++;
		} else if (pat < pe && *pat == '*') {
			star = ++pat;
			sback = s;
		} else if (star != NULL) {
			pat = star;
			s = ++sback;
		} else
			return false;
	}
	while (pat < pe && *pat == '*')
		pat++;
	return pat == pe;
}

/* 1 match, 0 no match, -1 a negated pattern matched (the line is out). */
static int
patterns_match(const char *host, const char *patterns)
{
	const char	*p = patterns, *comma;
	size_t		 n;
	int		 found = 0;
	bool		 neg;

	for (;;) {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		neg = n > 0 && p[0] == '!';
		if (neg ? glob_match(host, p + 1, n - 1) :
		    (n > 0 && glob_match(host, p, n))) {
			if (neg)
				return -1;
			found = 1;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return found;
}

static bool
hashed_match(const struct kh_entry *e, const char *host)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;

	if (HMAC(EVP_sha1(), e->salt, (int)e->saltlen,
	    (const unsigned char *)host, strlen(host), md, &mdlen) == NULL ||
	    mdlen != KH_SHA1_LEN)
		return false;
	return CRYPTO_memcmp(md, e->hash, KH_SHA1_LEN) == 0;
}

void
ro_knownhosts_fingerprint(char *out, size_t outsz, const unsigned char *key,
    size_t keylen)
{
	unsigned char	md[SHA256_DIGEST_LENGTH];
	unsigned char	b64[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
	int		n;

	SHA256(key, keylen, md);
	n = EVP_EncodeBlock(b64, md, SHA256_DIGEST_LENGTH);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	b64[n] = '\0';
	snprintf(out, outsz, "SHA256:%s", (const char *)b64);
}

int
ro_knownhosts_check(const struct ro_knownhosts *kh, const char *host,
    int port, const unsigned char *key, size_t keylen, struct ro_err *err)
{
	char		 name[KH_HOST_MAX], type[128], fp[64];
	size_t		 i, n;
	bool		 same_type = false;
	const struct kh_entry *e;
	int		 m;

	if (blob_type(type, sizeof(type), key, keylen) < 0)
		return ro_err_set(err, RO_EINVALID,
		    "%s: malformed host key", host);
	ro_knownhosts_fingerprint(fp, sizeof(fp), key, keylen);
	if (port <= 0 || port == 22)
		n = (size_t)snprintf(name, sizeof(name), "%s", host);
	else
		n = (size_t)snprintf(name, sizeof(name), "[%s]:%d", host, port);
	if (n >= sizeof(name))
		return ro_err_set(err, RO_EINVALID, "host name too long");
	for (i = 0; i < n; i++)
		name[i] = (char)tolower((unsigned char)name[i]);

	/* A revoked key is refused whatever else the file says. */
	for (i = 0; kh != NULL && i < kh->n; i++) {
		e = &kh->v[i];
		m = e->hashed ? hashed_match(e, name) :
		    patterns_match(name, e->patterns);
		if (m != 1 || e->marker != KH_REVOKED)
			continue;
		if (e->keylen == keylen && memcmp(e->key, key, keylen) == 0)
			return ro_err_set(err, RO_ECONFLICT,
			    "host key %s %s of %s is marked @revoked",
			    type, fp, name);
	}
	for (i = 0; kh != NULL && i < kh->n; i++) {
		e = &kh->v[i];
		if (e->marker == KH_REVOKED || strcmp(e->type, type) != 0)
			continue;
		m = e->hashed ? hashed_match(e, name) :
		    patterns_match(name, e->patterns);
		if (m != 1)
			continue;
		if (e->keylen == keylen && memcmp(e->key, key, keylen) == 0)
			return RO_OK;
		same_type = true;
	}
	if (same_type)
		return ro_err_set(err, RO_ECONFLICT,
		    "host key of %s does not match known_hosts "
		    "(%s %s): possible man-in-the-middle", name, type, fp);
	return ro_err_set(err, RO_ENOTFOUND,
	    "host %s is not in known_hosts (%s %s)", name, type, fp);
}
